"""The descent loop: convergence, divergence, trace decimation, minibatches, limits."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from service.errors import InvalidInput, LimitExceeded, TimeBudgetExceeded
from service.optimize import DataObjective, ScalarObjective, descend
from service.optimize import descent as descent_module
from service.optimize import optimizers as optimizers_module
from .functions import compile_scalar, least_squares, x, y

pytestmark = pytest.mark.filterwarnings("error")


def all_numbers(result):
    """Every number of the result, as it would go to JSON."""
    data = result.as_dict()
    numbers = [data["result"]["value"], data["result"]["gradient_norm"],
               *data["result"]["point"], data["optimizer"]["learning_rate"]]
    for entry in data["trace"]:
        numbers += [entry["value"], entry["gradient_norm"], *entry["point"],
                    *entry["gradient"]]
    return numbers


def assert_json_safe(result):
    numbers = all_numbers(result)
    assert all(type(n) in (float, int) and math.isfinite(n) for n in numbers)
    json.dumps(result.as_dict(), allow_nan=False)  # raises on nan or inf


# -- convergence -------------------------------------------------------------------------------

CONVERGENCE = [
    # function, optimizer, learning_rate, hyperparameters, max_iterations, atol on the point
    ("quadratic", "gd", 0.1, {}, 2_000, 1e-6),
    ("quadratic", "momentum", 0.05, {}, 2_000, 1e-6),
    ("quadratic", "nesterov", 0.05, {}, 2_000, 1e-6),
    ("quadratic", "adagrad", 0.5, {}, 5_000, 1e-6),
    ("quadratic", "rmsprop", 0.01, {}, 5_000, 1e-6),
    ("quadratic", "adam", 0.05, {}, 5_000, 1e-6),
    ("quadratic", "newton", None, {}, 10, 1e-12),
    ("booth", "gd", 0.05, {}, 2_000, 1e-6),
    ("booth", "momentum", 0.01, {}, 2_000, 1e-6),
    ("booth", "nesterov", 0.01, {}, 2_000, 1e-6),
    ("booth", "adagrad", 1.0, {}, 5_000, 1e-6),
    ("booth", "rmsprop", 0.01, {}, 5_000, 1e-6),
    ("booth", "adam", 0.1, {}, 5_000, 1e-6),
    ("booth", "newton", None, {}, 10, 1e-12),
    ("rosenbrock", "gd", 0.001, {}, 60_000, 1e-5),
    ("rosenbrock", "momentum", 0.0002, {}, 30_000, 1e-5),
    ("rosenbrock", "nesterov", 0.0002, {}, 30_000, 1e-5),
    ("rosenbrock", "adagrad", 0.5, {}, 30_000, 1e-5),
    ("rosenbrock", "rmsprop", 0.0001, {}, 60_000, 1e-3),  # constant steps: it hovers
    ("rosenbrock", "adam", 0.02, {}, 30_000, 1e-5),
    ("rosenbrock", "newton", None, {}, 50, 1e-9),
    ("beale", "gd", 0.01, {}, 30_000, 1e-5),
    ("beale", "momentum", 0.001, {}, 30_000, 1e-5),
    ("beale", "nesterov", 0.001, {}, 30_000, 1e-5),
    ("beale", "adagrad", 0.5, {}, 30_000, 1e-5),
    ("beale", "rmsprop", 0.0001, {}, 60_000, 1e-3),
    ("beale", "adam", 0.01, {}, 30_000, 1e-5),
    ("beale", "newton", None, {}, 100, 1e-9),
]


@pytest.mark.parametrize("function, optimizer, learning_rate, hyperparameters, "
                         "max_iterations, atol", CONVERGENCE)
def test_reaches_the_known_minimum(textbook, function, optimizer, learning_rate,
                                   hyperparameters, max_iterations, atol):
    objective, minimum, start = textbook[function]
    result = descend(objective, start, optimizer=optimizer, learning_rate=learning_rate,
                     hyperparameters=hyperparameters, max_iterations=max_iterations,
                     tolerance=1e-6, record_every=max_iterations // 10)
    assert_allclose(result.point, minimum, atol=atol)
    assert result.stop_reason in ("tolerance", "max_iterations")
    assert result.iterations == result.trace[-1].iteration
    assert result.point == result.trace[-1].point
    if result.converged:
        assert result.stop_reason == "tolerance" and result.gradient_norm < 1e-6
    assert_json_safe(result)


def test_newton_solves_a_convex_quadratic_in_one_step():
    objective = compile_scalar(2 * x**2 + 3 * y**2 + x * y - 4 * x + 7 * y)
    expected = np.linalg.solve([[4.0, 1.0], [1.0, 6.0]], [4.0, -7.0])
    result = descend(objective, [10.0, -20.0], optimizer="newton")
    assert result.iterations == 1 and result.converged
    assert_allclose(result.point, expected, atol=1e-12)
    assert result.warnings == []


def test_newton_at_a_saddle_warns_and_moves_away_without_raising():
    objective = compile_scalar(x**2 - y**2)
    result = descend(objective, [1.0, 1.0], optimizer="newton", max_iterations=20)
    assert len(result.warnings) == 1
    assert "not positive definite at iteration 0" in result.warnings[0]
    # |H| = 2I: x goes to the minimum along x, y doubles away from the saddle (downhill).
    assert_allclose(result.trace[1].point, [0.0, 2.0], atol=1e-12)
    assert result.stop_reason == "max_iterations"
    assert_json_safe(result)


def test_newton_with_a_singular_hessian_takes_a_gradient_step_along_the_flat_direction():
    objective = compile_scalar((x + y) ** 2)  # H = [[2, 2], [2, 2]], singular
    result = descend(objective, [1.0, 2.0], optimizer="newton", max_iterations=5)
    assert len(result.warnings) == 1 and "iteration 0" in result.warnings[0]
    assert result.converged
    assert_allclose(result.point[0] + result.point[1], 0.0, atol=1e-12)
    assert_json_safe(result)


def test_newton_names_the_first_iteration_that_needed_the_fallback():
    # A Hessian that turns indefinite once x < 0.3; with lr 0.5, x halves: 1, 0.5, 0.25.
    objective = ScalarObjective(
        lambda x, y: x * x + y * y, lambda x, y: [2 * x, 2 * y],
        lambda x, y: [[2.0, 0.0], [0.0, 2.0 if x > 0.3 else -2.0]])
    result = descend(objective, [1.0, 1.0], optimizer="newton", learning_rate=0.5,
                     max_iterations=6, tolerance=0.0)
    assert len(result.warnings) == 1
    assert "not positive definite at iteration 2 " in result.warnings[0]
    assert_allclose(result.point, [0.5**6, 0.5**6])  # |eigenvalues|: the same steps


# -- divergence ------------------------------------------------------------------------------

def test_gd_with_too_large_a_step_diverges_to_a_finite_answer():
    objective = compile_scalar(x**2, [x])
    result = descend(objective, [1.0], optimizer="gd", learning_rate=1.5)
    assert result.stop_reason == "diverged" and not result.converged
    # x_k = (-2)^k; x^2 overflows at k = 512, so iteration 511 is the last finite one.
    assert result.iterations == 511 == result.trace[-1].iteration
    assert result.point == [(-2.0) ** 511]
    assert [e.iteration for e in result.trace] == list(range(512))
    assert "iteration 512" in result.warnings[0]
    assert_json_safe(result)


@pytest.mark.parametrize("record_every", [7, 100, 1000])
def test_divergence_ends_at_a_finite_iterate_whatever_the_decimation(record_every):
    objective = compile_scalar(x**2, [x])
    result = descend(objective, [1.0], learning_rate=1.5, max_iterations=2000,
                     record_every=record_every)
    assert result.stop_reason == "diverged"
    assert 511 - descent_module.VALUE_CHECK_EVERY <= result.iterations <= 511
    assert_json_safe(result)


def test_a_gradient_that_turns_complex_is_divergence():
    objective = ScalarObjective(lambda x: x**0.5, lambda x: [0.5 * x**-0.5])
    result = descend(objective, [1.0], learning_rate=10.0)
    assert result.stop_reason == "diverged" and result.iterations == 0
    assert "gradient is not finite at iteration 1" in result.warnings[0]
    assert_json_safe(result)


def _cbrt_cos(x):
    """cos of the principal cube root: (-1.0)**(1/3) is a Python complex, and NumPy's cos of
    it a complex128, whose float() would keep the real part (with only a warning)."""
    return np.cos(x ** (1 / 3))


def _cbrt_cos_gradient(x):
    return [-np.sin(x ** (1 / 3)) / (3 * x ** (2 / 3))]


def test_a_numpy_complex_value_at_the_start_is_not_finite():
    objective = ScalarObjective(_cbrt_cos, _cbrt_cos_gradient)
    assert isinstance(_cbrt_cos(-1.0), np.complex128) and _cbrt_cos(-1.0).imag != 0
    with pytest.raises(InvalidInput) as caught:  # not cos(0.5)*cosh(0.866) = 1.2278
        descend(objective, [-1.0], max_iterations=3)
    assert caught.value.errors[0].field == "start"


def test_a_numpy_complex_gradient_is_divergence():
    """From x = 0.5 (gradient 0.62) a step at rate 1 lands at x = -0.12, where the function is
    complex: divergence, not its real part."""
    objective = ScalarObjective(lambda x: _cbrt_cos(x) + x * x,
                                lambda x: [_cbrt_cos_gradient(x)[0] + 2 * x])
    result = descend(objective, [0.5], learning_rate=1.0, max_iterations=5)
    assert result.stop_reason == "diverged" and result.iterations == 0
    assert "gradient is not finite at iteration 1" in result.warnings[0]
    assert_json_safe(result)


def test_a_numpy_complex_loss_over_data_is_divergence():
    data = {"x": [1.0, 2.0]}
    # complex where w < 0 (a Python complex from w ** (1/3), times the column: a complex array)
    objective = DataObjective(lambda w, x: _cbrt_cos(w) * x + w * w,
                              lambda w, x: [_cbrt_cos_gradient(w)[0] * x + 2 * w],
                              None, data, n_params=1)
    result = descend(objective, [0.5], learning_rate=2.0, max_iterations=5)  # to w = -0.37
    assert result.stop_reason == "diverged" and result.iterations == 0
    assert_json_safe(result)


def test_a_start_where_the_objective_is_not_finite_is_invalid():
    objective = ScalarObjective(lambda x: 1 / x, lambda x: [-1 / x**2])
    with pytest.raises(InvalidInput) as caught:
        descend(objective, [0.0])
    assert caught.value.errors[0].field == "start"


# -- the trace -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bowl():
    return compile_scalar(x**2 + 3 * y**2 + x * y)


@pytest.mark.parametrize("max_iterations, record_every, expected", [
    (23, 5, [0, 5, 10, 15, 20, 23]),
    (20, 5, [0, 5, 10, 15, 20]),
    (3, 1, [0, 1, 2, 3]),
    (3, 10, [0, 3]),
    (0, 1, [0]),
])
def test_trace_holds_iteration_zero_the_multiples_and_the_last(
        bowl, max_iterations, record_every, expected):
    result = descend(bowl, [1.0, 1.0], learning_rate=0.01, max_iterations=max_iterations,
                     tolerance=0.0, record_every=record_every)
    assert [e.iteration for e in result.trace] == expected
    assert result.iterations == max_iterations
    assert result.stop_reason == "max_iterations"


@given(max_iterations=st.integers(0, 300), record_every=st.integers(1, 40),
       tolerance=st.sampled_from([0.0, 1e-3, 1e-6, 0.5]), far_deadline=st.booleans())
@settings(max_examples=80, deadline=None)
def test_trace_iterations_for_any_decimation(max_iterations, record_every, tolerance,
                                             far_deadline):
    objective = ScalarObjective(lambda x: x * x, lambda x: [2 * x])
    result = descend(objective, [1.0], learning_rate=0.05, max_iterations=max_iterations,
                     tolerance=tolerance, record_every=record_every,
                     deadline=time.monotonic() + 60 if far_deadline else None)
    last = result.iterations
    assert [e.iteration for e in result.trace] == sorted({*range(0, last + 1, record_every),
                                                          last})
    assert last == max_iterations or result.converged
    # x_k = 0.9^k exactly as the rule says, wherever the trace looks.
    for entry in result.trace:
        assert_allclose(entry.point, [0.9**entry.iteration], rtol=1e-12)


def test_trace_ends_at_convergence(bowl):
    full = descend(bowl, [1.0, 1.0], learning_rate=0.1, tolerance=1e-3)
    decimated = descend(bowl, [1.0, 1.0], learning_rate=0.1, tolerance=1e-3, record_every=5)
    last = full.iterations
    assert full.converged and last % 5 != 0
    assert [e.iteration for e in decimated.trace] == [*range(0, last, 5), last]
    for entry in decimated.trace:  # decimation only drops entries
        assert entry == full.trace[entry.iteration]


def test_trace_entries_are_consistent(bowl):
    result = descend(bowl, [1.0, -2.0], optimizer="adam", learning_rate=0.1,
                     max_iterations=50, record_every=7)
    for entry in result.trace:
        px, py = entry.point
        assert_allclose(entry.value, px**2 + 3 * py**2 + px * py)
        assert_allclose(entry.gradient, [2 * px + py, 6 * py + px])
        assert_allclose(entry.gradient_norm, math.hypot(*entry.gradient))
    assert result.value == result.trace[-1].value
    assert result.gradient_norm == result.trace[-1].gradient_norm
    assert result.hyperparameters == {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    assert result.as_dict(["x", "y"])["result"]["point"] == dict(zip("xy", result.point))


def test_converged_at_the_start(bowl):
    result = descend(bowl, [0.0, 0.0])
    assert result.converged and result.iterations == 0 and len(result.trace) == 1


@pytest.mark.parametrize("max_iterations", range(0, 60, 7))
@pytest.mark.parametrize("limit", [2, 3, 10])
def test_smallest_record_every_is_the_smallest_that_fits(max_iterations, limit):
    fits = [r for r in range(1, 100)
            if len({0, *range(0, max_iterations + 1, r), max_iterations}) <= limit]
    assert descent_module.smallest_record_every(max_iterations, limit) == fits[0]
    assert descent_module.trace_size(max_iterations, fits[0]) <= limit


def test_a_trace_over_the_limit_is_refused_with_the_record_every_that_fits(bowl):
    with pytest.raises(LimitExceeded) as caught:
        descend(bowl, [1.0, 1.0], max_iterations=100_000, record_every=1)
    error = caught.value
    assert "the trace would hold 100,001 entries" in error.detail
    assert "use record_every >= 11" in error.detail
    assert error.limit == 10_000 and error.env_var == "GRADIENT_MAX_TRACE_ENTRIES"
    assert error.errors[0].field == "record_every"
    with pytest.raises(LimitExceeded):
        descend(bowl, [1.0, 1.0], max_iterations=100_000, record_every=10)
    # 11 fits: 1 + ceil(100000 / 11) = 9092 entries.
    result = descend(bowl, [1.0, 1.0], max_iterations=100_000, record_every=11,
                     tolerance=1.0)
    assert result.converged


def test_the_trace_limit_is_configurable(bowl):
    with pytest.raises(LimitExceeded, match="use record_every >= 50"):
        descend(bowl, [1.0, 1.0], max_iterations=1000, max_trace_entries=21)


# -- data and minibatches ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def lstsq_solution(regression_data):
    design = np.column_stack([regression_data["x"], np.ones(200)])
    return np.linalg.lstsq(design, regression_data["y"], rcond=None)[0]


def test_gd_fits_linear_regression(regression_data, lstsq_solution):
    objective = least_squares(regression_data)
    result = descend(objective, [0.0, 0.0], learning_rate=0.3, tolerance=1e-10,
                     max_iterations=5_000, record_every=10)
    assert result.converged
    assert_allclose(result.point, lstsq_solution, rtol=1e-8)


def test_newton_fits_linear_regression_in_one_step(regression_data, lstsq_solution):
    result = descend(least_squares(regression_data), [5.0, 5.0], optimizer="newton")
    assert result.iterations == 1
    assert_allclose(result.point, lstsq_solution, rtol=1e-10)


def test_minibatch_sgd_fits_linear_regression(regression_data, lstsq_solution):
    result = descend(least_squares(regression_data), [0.0, 0.0], learning_rate=0.02,
                     batch_size=20, seed=7, max_iterations=4_000, record_every=100)
    assert_allclose(result.point, lstsq_solution, atol=0.05)
    assert result.stop_reason == "max_iterations"


def test_same_seed_same_trace_other_seed_other_trace(regression_data):
    objective = least_squares(regression_data)

    def run(seed):
        return descend(objective, [0.0, 0.0], optimizer="adam", learning_rate=0.05,
                       batch_size=16, seed=seed, max_iterations=300, record_every=10)

    first, again, other = run(3), run(3), run(4)
    assert first.as_dict() == again.as_dict()
    assert first.trace[1].point != other.trace[1].point
    assert first.trace[0] == other.trace[0]


def test_no_seed_is_seed_zero(regression_data):
    objective = least_squares(regression_data)
    kwargs = {"learning_rate": 0.05, "batch_size": 16, "max_iterations": 50}
    assert (descend(objective, [0.0, 0.0], **kwargs).as_dict()
            == descend(objective, [0.0, 0.0], seed=0, **kwargs).as_dict())


def test_stochastic_trace_records_the_full_data_objective(regression_data):
    objective = least_squares(regression_data)
    result = descend(objective, [0.0, 0.0], learning_rate=0.05, batch_size=10, seed=1,
                     max_iterations=40, record_every=10, tolerance=0.0)
    assert [e.iteration for e in result.trace] == [0, 10, 20, 30, 40]
    for entry in result.trace:
        assert_allclose(entry.value, objective.value(entry.point))
        assert_allclose(entry.gradient, objective.gradient(entry.point))


def test_minibatches_visit_every_row_once_per_epoch():
    counts = np.zeros(10)

    def gradient(p, i):
        counts[i.astype(int)] += 1
        return [p * 0 + i * 0]

    objective = DataObjective(lambda p, i: p * 0 + i * 0, gradient, None,
                              {"i": np.arange(10.0)})
    descend(objective, [1.0], batch_size=4, max_iterations=6, record_every=1000,
            tolerance=0.0)
    # 6 steps of 4, 4, 2 rows = two epochs; plus the full-data gradients at 0 and 6.
    assert_allclose(counts, 2 + 2)


@pytest.mark.parametrize("reduction, l2, learning_rate", [("mean", 0.5, 0.2),
                                                          ("sum", 20.0, 0.002)])
def test_l2_regularization_matches_closed_form_ridge(regression_data, reduction, l2,
                                                     learning_rate):
    design = np.column_stack([regression_data["x"], np.ones(200)])
    scale = 1 / 200 if reduction == "mean" else 1.0
    # minimise scale * |A v - y|^2 + l2 |v|^2  =>  (scale A^T A + l2 I) v = scale A^T y
    ridge = np.linalg.solve(scale * design.T @ design + l2 * np.eye(2),
                            scale * design.T @ regression_data["y"])
    objective = least_squares(regression_data, reduction=reduction, l2=l2)
    result = descend(objective, [0.0, 0.0], learning_rate=learning_rate, tolerance=1e-9,
                     max_iterations=20_000, record_every=100)
    assert result.converged
    assert_allclose(result.point, ridge, rtol=1e-8)
    # Minibatches of a sum are scaled to estimate the full sum, so SGD aims at the same
    # ridge solution (an unscaled batch sum would regularise 200/25 = 8 times harder).
    stochastic = descend(objective, [0.0, 0.0], optimizer="adam", learning_rate=0.01,
                         batch_size=25, seed=2, max_iterations=3_000, record_every=100)
    assert_allclose(stochastic.point, ridge, atol=0.05)


@pytest.mark.parametrize("batch_size", [0, 201, -1, 2.5, True, "10"])
def test_bad_batch_size_is_invalid(regression_data, batch_size):
    with pytest.raises(InvalidInput) as caught:
        descend(least_squares(regression_data), [0.0, 0.0], batch_size=batch_size)
    assert caught.value.errors[0].field == "batch_size"


def test_batch_size_needs_data(bowl):
    with pytest.raises(InvalidInput, match="batch_size needs data") as caught:
        descend(bowl, [0.0, 0.0], batch_size=4)
    assert caught.value.errors[0].field == "batch_size"


@pytest.mark.parametrize("seed", [-1, 1.5, "7"])
def test_bad_seed_is_invalid(regression_data, seed):
    with pytest.raises(InvalidInput) as caught:
        descend(least_squares(regression_data), [0.0, 0.0], batch_size=10, seed=seed)
    assert caught.value.errors[0].field == "seed"


# -- arguments, paths, budget -------------------------------------------------------------------

@pytest.mark.parametrize("arguments, field", [
    ({"start": [1.0]}, "start"),
    ({"start": [1.0, "a"]}, "start"),
    ({"start": [1.0, float("inf")]}, "start/1"),
    ({"max_iterations": -1}, "max_iterations"),
    ({"max_iterations": 10.0}, "max_iterations"),
    ({"record_every": 0}, "record_every"),
    ({"tolerance": -1e-8}, "tolerance"),
    ({"tolerance": float("nan")}, "tolerance"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"hyperparameters": {"beta3": 0.5}, "optimizer": "adam"}, "hyperparameters/beta3"),
])
def test_invalid_arguments_name_the_field(bowl, arguments, field):
    arguments = {"start": [1.0, 1.0], **arguments}
    with pytest.raises(InvalidInput) as caught:
        descend(bowl, arguments.pop("start"), **arguments)
    assert caught.value.errors[0].field == field


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov", "adagrad", "rmsprop",
                                       "adam"])
def test_many_parameters_run_on_arrays_like_few_run_on_floats(monkeypatch, optimizer):
    n = 20  # above SCALAR_LOOP_MAX_PARAMS: arrays
    weights = np.arange(1.0, n + 1)
    objective = ScalarObjective(lambda *v: float(weights @ np.square(v)),
                                lambda *v: (2 * weights * v).tolist(), n_params=n)
    start = np.linspace(-1, 1, n)
    kwargs = {"optimizer": optimizer, "learning_rate": 0.01, "max_iterations": 200,
              "record_every": 20}
    on_arrays = descend(objective, start, **kwargs)
    monkeypatch.setattr(optimizers_module, "SCALAR_LOOP_MAX_PARAMS", n)
    on_floats = descend(objective, start, **kwargs)
    for a, f in zip(on_arrays.trace, on_floats.trace):
        assert a.iteration == f.iteration
        assert_allclose(a.point, f.point, rtol=1e-12, atol=1e-15)
    assert on_arrays.stop_reason == on_floats.stop_reason


def test_regularized_objective_descends_through_gradient_at(bowl):
    objective = compile_scalar(x**2 + 3 * y**2 + x * y, l1=0.1)
    result = descend(objective, [1.0, 1.0], learning_rate=0.05, max_iterations=3,
                     tolerance=0.0)
    px, py = 1.0, 1.0
    for _ in range(3):
        px, py = (px - 0.05 * (2 * px + py + 0.1 * np.sign(px)),
                  py - 0.05 * (6 * py + px + 0.1 * np.sign(py)))
    assert_allclose(result.point, [px, py], rtol=1e-14)


def test_past_the_deadline_the_run_stops(bowl):
    with pytest.raises(TimeBudgetExceeded, match="time budget"):
        descend(bowl, [1.0, 1.0], learning_rate=1e-6, tolerance=0.0, max_iterations=9_000,
                deadline=time.monotonic() - 1)


def test_sympy_functions_that_return_numpy_scalars_give_python_floats():
    objective = compile_scalar(sp.exp(x) - 2 * x + y**2)  # numpy.exp returns np.float64
    result = descend(objective, [0.0, 1.0], learning_rate=0.1, max_iterations=30,
                     record_every=10)
    assert_json_safe(result)
