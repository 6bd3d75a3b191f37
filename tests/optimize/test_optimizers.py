"""The optimizer registry: PyTorch's update rules exactly, defaults, validation.

The references below are written out by hand from PyTorch's documented algorithms
(torch.optim.SGD / Adagrad / RMSprop / Adam, weight decay 0, dampening 0), in plain Python
arithmetic, independently of ``service.optimize``.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from service.errors import InvalidInput
from service.optimize import OPTIMIZERS, ScalarObjective, descend, get_optimizer
from service.optimize import optimizers as optimizers_module

pytestmark = pytest.mark.filterwarnings("error")


# f(x, y) = x^2 + 3 y^2 + x y, written by hand.
def f_value(x, y):
    return x * x + 3 * y * y + x * y


def f_gradient(x, y):
    return [2 * x + y, 6 * y + x]


def f_hessian(x, y):
    return [[2.0, 1.0], [1.0, 6.0]]


START = (1.5, -0.5)
STEPS = 3


def reference_sgd(lr, momentum=0.0, nesterov=False):
    """torch.optim.SGD: buf = g (first step), then buf = mu*buf + g; nesterov: g + mu*buf."""
    (x, y), buf, points = START, None, []
    for _ in range(STEPS):
        g = f_gradient(x, y)
        if momentum:
            buf = list(g) if buf is None else [momentum * b + gi for b, gi in zip(buf, g)]
            d = [gi + momentum * b for gi, b in zip(g, buf)] if nesterov else buf
        else:
            d = g
        x, y = x - lr * d[0], y - lr * d[1]
        points.append((x, y))
    return points


def reference_adagrad(lr, lr_decay=0.0, eps=1e-10):
    """torch.optim.Adagrad: clr = lr/(1+(t-1)*lr_decay); sum += g^2; x -= clr*g/(sqrt(sum)+eps)."""
    (x, y), total, points = START, [0.0, 0.0], []
    for t in range(1, STEPS + 1):
        g = f_gradient(x, y)
        clr = lr / (1 + (t - 1) * lr_decay)
        total = [s + gi * gi for s, gi in zip(total, g)]
        x, y = (p - clr * gi / (math.sqrt(s) + eps) for p, gi, s in zip((x, y), g, total))
        points.append((x, y))
    return points


def reference_rmsprop(lr, alpha=0.99, eps=1e-8, momentum=0.0):
    """torch.optim.RMSprop: v = alpha v + (1-alpha) g^2; avg = sqrt(v)+eps; with momentum
    buf = mu buf + g/avg, x -= lr buf; without, x -= lr g/avg."""
    (x, y), v, buf, points = START, [0.0, 0.0], [0.0, 0.0], []
    for _ in range(STEPS):
        g = f_gradient(x, y)
        v = [alpha * vi + (1 - alpha) * gi * gi for vi, gi in zip(v, g)]
        avg = [math.sqrt(vi) + eps for vi in v]
        if momentum > 0:
            buf = [momentum * bi + gi / a for bi, gi, a in zip(buf, g, avg)]
            x, y = x - lr * buf[0], y - lr * buf[1]
        else:
            x, y = x - lr * g[0] / avg[0], y - lr * g[1] / avg[1]
        points.append((x, y))
    return points


def reference_adam(lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """torch.optim.Adam: m, v moving averages;
    x -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)."""
    (x, y), m, v, points = START, [0.0, 0.0], [0.0, 0.0], []
    for t in range(1, STEPS + 1):
        g = f_gradient(x, y)
        m = [beta1 * mi + (1 - beta1) * gi for mi, gi in zip(m, g)]
        v = [beta2 * vi + (1 - beta2) * gi * gi for vi, gi in zip(v, g)]
        step_size = lr / (1 - beta1**t)
        denom = [math.sqrt(vi) / math.sqrt(1 - beta2**t) + eps for vi in v]
        x, y = x - step_size * m[0] / denom[0], y - step_size * m[1] / denom[1]
        points.append((x, y))
    return points


def reference_newton(lr):
    """x -= lr * H^-1 g with the 2x2 inverse by Cramer's rule."""
    (x, y), points = START, []
    for _ in range(STEPS):
        (a, c), (_, d) = f_hessian(x, y)
        det = a * d - c * c
        gx, gy = f_gradient(x, y)
        x, y = x - lr * (d * gx - c * gy) / det, y - lr * (a * gy - c * gx) / det
        points.append((x, y))
    return points


STEP_CASES = [
    # optimizer, learning_rate, hyperparameters, reference iterates 1..3
    ("gd", None, {}, reference_sgd(0.01)),
    ("gd", 0.2, {}, reference_sgd(0.2)),
    ("momentum", None, {}, reference_sgd(0.01, momentum=0.9)),
    ("momentum", 0.1, {"momentum": 0.5}, reference_sgd(0.1, momentum=0.5)),
    ("nesterov", None, {}, reference_sgd(0.01, momentum=0.9, nesterov=True)),
    ("nesterov", 0.1, {"momentum": 0.7}, reference_sgd(0.1, momentum=0.7, nesterov=True)),
    ("adagrad", None, {}, reference_adagrad(0.01)),
    ("adagrad", 0.5, {"decay": 0.1, "epsilon": 1e-3},
     reference_adagrad(0.5, lr_decay=0.1, eps=1e-3)),
    ("rmsprop", None, {}, reference_rmsprop(0.01)),
    ("rmsprop", 0.05, {"decay": 0.9, "momentum": 0.5, "epsilon": 1e-4},
     reference_rmsprop(0.05, alpha=0.9, momentum=0.5, eps=1e-4)),
    ("adam", None, {}, reference_adam(0.001)),
    ("adam", 0.1, {"beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6},
     reference_adam(0.1, beta1=0.8, beta2=0.99, eps=1e-6)),
    ("newton", None, {}, reference_newton(1.0)),
    ("newton", 0.5, {}, reference_newton(0.5)),
]


@pytest.fixture
def bowl():
    return ScalarObjective(f_value, f_gradient, f_hessian)


def _first_points(objective, optimizer, learning_rate, hyperparameters):
    result = descend(objective, START, optimizer=optimizer, learning_rate=learning_rate,
                     hyperparameters=hyperparameters, max_iterations=STEPS, tolerance=0.0)
    assert [e.iteration for e in result.trace] == list(range(STEPS + 1))
    assert result.trace[0].point == list(START)
    return [e.point for e in result.trace[1:]]


@pytest.mark.parametrize("optimizer, learning_rate, hyperparameters, expected", STEP_CASES)
def test_first_three_iterates_follow_the_published_rule(
        bowl, optimizer, learning_rate, hyperparameters, expected):
    points = _first_points(bowl, optimizer, learning_rate, hyperparameters)
    assert_allclose(points, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("path", ["arrays", "per coordinate"])
@pytest.mark.parametrize("optimizer, learning_rate, hyperparameters, expected",
                         [case for case in STEP_CASES if case[0] != "newton"])
def test_every_execution_path_follows_the_rule(
        bowl, monkeypatch, path, optimizer, learning_rate, hyperparameters, expected):
    if path == "arrays":
        monkeypatch.setattr(optimizers_module, "SCALAR_LOOP_MAX_PARAMS", 0)
    else:  # as when the rule's source cannot be read: call it once per coordinate
        monkeypatch.setattr(optimizers_module, "_unrolled_factory", lambda rule, n: None)
    points = _first_points(bowl, optimizer, learning_rate, hyperparameters)
    assert_allclose(points, expected, rtol=1e-13, atol=1e-15)


@given(
    name=st.sampled_from([name for name in OPTIMIZERS if name != "newton"]),
    gradients=st.lists(st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3),
                       min_size=1, max_size=6),
)
@settings(max_examples=60, deadline=None)
def test_unrolled_array_and_per_coordinate_runs_agree(name, gradients):
    spec = OPTIMIZERS[name]
    lr, hp = spec.resolve()
    runs = [spec.start(3, lr, hp, vectorized=False).step,
            spec.start(3, lr, hp, vectorized=True).step,
            optimizers_module._RuleStepper(
                optimizers_module._coordinate_stepper(spec.rule, 3, {"lr": lr, **hp})).step]
    points = [[0.5, -1.0, 2.0]] * len(runs)
    for t, gradient in enumerate(gradients, start=1):
        points = [list(step(p, gradient, t)) for step, p in zip(runs, points)]
        assert_allclose(points[1], points[0], rtol=1e-12, atol=1e-12)
        assert_allclose(points[2], points[0], rtol=1e-12, atol=1e-12)


def test_unrolled_source_is_the_rule_per_coordinate():
    source = optimizers_module._unrolled_factory(optimizers_module.adam, 2).source
    assert "step_size = lr / (1 - beta1 ** t)" in source  # once per step
    assert "m_0 = beta1 * m_0 + (1 - beta1) * g_0" in source
    assert "m_1 = beta1 * m_1 + (1 - beta1) * g_1" in source


@pytest.mark.parametrize("name, learning_rate, defaults", [
    ("gd", 0.01, {}),
    ("momentum", 0.01, {"momentum": 0.9}),
    ("nesterov", 0.01, {"momentum": 0.9}),
    ("adagrad", 0.01, {"decay": 0.0, "epsilon": 1e-10}),
    ("rmsprop", 0.01, {"decay": 0.99, "epsilon": 1e-8, "momentum": 0.0}),
    ("adam", 0.001, {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}),
    ("newton", 1.0, {}),
])
def test_registry_defaults_are_pytorchs(name, learning_rate, defaults):
    spec = OPTIMIZERS[name]
    assert spec.name == name
    assert spec.default_learning_rate == learning_rate
    assert spec.defaults == defaults
    assert spec.resolve() == (learning_rate, defaults)
    assert spec.needs_hessian == (name == "newton")


def test_every_first_order_rule_documents_its_update():
    for name, spec in OPTIMIZERS.items():
        doc = (spec.rule or optimizers_module._Newton).__doc__
        assert "math::" in doc, name


def test_unknown_optimizer_lists_the_names():
    with pytest.raises(InvalidInput) as caught:
        get_optimizer("sgd")
    error = caught.value.errors[0]
    assert error.field == "optimizer"
    assert "gd, momentum, nesterov, adagrad, rmsprop, adam, newton" in error.message


def test_unknown_hyperparameter_names_the_accepted_ones():
    with pytest.raises(InvalidInput) as caught:
        OPTIMIZERS["adam"].resolve(None, {"x": 1})
    error = caught.value.errors[0]
    assert error.field == "hyperparameters/x"
    assert error.message == "unknown hyperparameter 'x' for adam; it accepts beta1, beta2, epsilon"


def test_unknown_hyperparameter_for_an_optimizer_without_any():
    with pytest.raises(InvalidInput, match="for gd; it accepts none"):
        OPTIMIZERS["gd"].resolve(None, {"momentum": 0.9})


@pytest.mark.parametrize("name, learning_rate, hyperparameters, field", [
    ("gd", -0.1, {}, "learning_rate"),
    ("gd", 0.0, {}, "learning_rate"),
    ("gd", float("nan"), {}, "learning_rate"),
    ("gd", "0.1", {}, "learning_rate"),
    ("gd", True, {}, "learning_rate"),
    ("adam", None, {"beta1": 1.0}, "hyperparameters/beta1"),
    ("adam", None, {"beta2": -0.1}, "hyperparameters/beta2"),
    ("adam", None, {"epsilon": 0.0}, "hyperparameters/epsilon"),
    ("adam", None, {"epsilon": float("inf")}, "hyperparameters/epsilon"),
    ("momentum", None, {"momentum": 1.5}, "hyperparameters/momentum"),
    ("nesterov", None, {"momentum": 0.0}, "hyperparameters/momentum"),
    ("rmsprop", None, {"decay": 1.0}, "hyperparameters/decay"),
    ("adagrad", None, {"decay": -1}, "hyperparameters/decay"),
    ("adagrad", None, {"epsilon": None}, "hyperparameters/epsilon"),
])
def test_invalid_values_name_the_field(name, learning_rate, hyperparameters, field):
    with pytest.raises(InvalidInput) as caught:
        OPTIMIZERS[name].resolve(learning_rate, hyperparameters)
    assert caught.value.errors[0].field == field


def test_hyperparameters_must_be_an_object():
    with pytest.raises(InvalidInput) as caught:
        OPTIMIZERS["adam"].resolve(None, [0.9])
    assert caught.value.errors[0].field == "hyperparameters"


def test_integer_hyperparameters_are_accepted_as_floats():
    assert OPTIMIZERS["rmsprop"].resolve(1, {"momentum": 0})[1]["momentum"] == 0.0


def test_newton_needs_a_hessian():
    objective = ScalarObjective(f_value, f_gradient)
    with pytest.raises(InvalidInput, match="Hessian"):
        descend(objective, START, optimizer="newton")
