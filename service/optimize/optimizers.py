"""The optimizers: one registry, ``OPTIMIZERS[name]``, of small update rules.

A first-order optimizer is a *rule*: a plain Python function of one coordinate,

    rule(x, g, *slots, lr, t, **hyperparameters) -> (x_new, *slots_new)

with ``x`` the parameter, ``g`` its gradient, ``slots`` its state (momentum buffer, running
averages; all start at 0) and ``t`` the 1-based update number. It uses ``+ - * / **`` only
(and ``sqrt`` on scalars that do not depend on the coordinate), so the same function runs
on Python floats and on NumPy arrays, and each rule is written once, as the math in its
docstring. The rules and defaults are PyTorch's (``torch.optim.SGD``, ``Adagrad``,
``RMSprop``, ``Adam`` with weight decay 0, dampening 0, ``centered=False``,
``amsgrad=False``), so a trace here matches a PyTorch run step by step. Hyperparameter
names follow the HTTP contract: ``momentum``, ``beta1``, ``beta2``, ``epsilon``, ``decay``.

How a rule runs depends on the number of parameters ``n``:

* ``n <= SCALAR_LOOP_MAX_PARAMS``: the rule's own source is specialised (with ``ast``) into
  one step function unrolled over the ``n`` coordinates, on Python floats, with the
  coordinate-free statements (bias corrections, decayed learning rate) done once per step.
  At two parameters this is ~5x faster than NumPy arrays and than calling the rule per
  coordinate; the descent loop's cost then stays within 2x a hand-written loop. Only the
  rule functions of this module are compiled, never user text.
* more parameters: the rule is called once per step on arrays.

Newton's method needs the whole Hessian and has its own step, :class:`_Newton`.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import math
import textwrap
from dataclasses import dataclass, field
from math import sqrt
from typing import Callable, Mapping, Protocol, Sequence

import numpy as np

from service.errors import InvalidInput

__all__ = ["OPTIMIZERS", "OptimizerSpec", "Knob", "Stepper", "get_optimizer",
           "SCALAR_LOOP_MAX_PARAMS"]

#: Up to this many parameters a rule runs unrolled on Python floats; above, on arrays.
SCALAR_LOOP_MAX_PARAMS = 16


# -- the rules ----------------------------------------------------------------------------------

def gd(x, g, *, lr, t):
    """Plain gradient descent (``torch.optim.SGD``, momentum 0).

    .. math:: x_t = x_{t-1} - \\eta g_t
    """
    x = x - lr * g
    return (x,)


def momentum(x, g, b, *, lr, t, momentum):
    """Heavy-ball momentum (``torch.optim.SGD(momentum=mu)``, dampening 0).

    .. math:: b_t = \\mu b_{t-1} + g_t \\quad (b_1 = g_1), \\qquad x_t = x_{t-1} - \\eta b_t

    ``momentum`` (mu) defaults to 0.9 here: PyTorch's SGD defaults to 0, which is plain
    ``gd``. Starting from ``b_0 = 0`` gives ``b_1 = g_1`` exactly, as PyTorch does.
    """
    b = momentum * b + g
    x = x - lr * b
    return x, b


def nesterov(x, g, b, *, lr, t, momentum):
    """Nesterov momentum (``torch.optim.SGD(momentum=mu, nesterov=True)``, dampening 0).

    .. math:: b_t = \\mu b_{t-1} + g_t, \\qquad x_t = x_{t-1} - \\eta (g_t + \\mu b_t)

    ``momentum`` (mu) defaults to 0.9 here: PyTorch's SGD defaults to 0, which would be
    plain ``gd`` (and PyTorch refuses Nesterov without momentum, so mu must be > 0).
    """
    b = momentum * b + g
    x = x - lr * (g + momentum * b)
    return x, b


def adagrad(x, g, s, *, lr, t, decay, epsilon):
    """Adagrad (``torch.optim.Adagrad``, initial accumulator 0).

    .. math::
        \\eta_t = \\frac{\\eta}{1 + (t-1)\\,\\mathrm{decay}}, \\qquad
        s_t = s_{t-1} + g_t^2, \\qquad
        x_t = x_{t-1} - \\eta_t \\frac{g_t}{\\sqrt{s_t} + \\epsilon}

    ``decay`` is PyTorch's ``lr_decay`` (default 0); ``epsilon`` defaults to 1e-10.
    """
    decayed_lr = lr / (1 + (t - 1) * decay)
    s = s + g * g
    x = x - decayed_lr * (g / (s ** 0.5 + epsilon))
    return x, s


def rmsprop(x, g, v, b, *, lr, t, decay, epsilon, momentum):
    """RMSprop (``torch.optim.RMSprop``, ``centered=False``).

    .. math::
        v_t = \\alpha v_{t-1} + (1-\\alpha) g_t^2, \\qquad
        b_t = \\mu b_{t-1} + \\frac{g_t}{\\sqrt{v_t} + \\epsilon}, \\qquad
        x_t = x_{t-1} - \\eta b_t

    ``decay`` is PyTorch's ``alpha`` (default 0.99), ``epsilon`` defaults to 1e-8 and
    ``momentum`` (mu) to 0, where ``b_t`` is exactly ``g_t / (sqrt(v_t) + eps)``: PyTorch's
    step without momentum.
    """
    v = decay * v + (1 - decay) * g * g
    b = momentum * b + g / (v ** 0.5 + epsilon)
    x = x - lr * b
    return x, v, b


def adam(x, g, m, v, *, lr, t, beta1, beta2, epsilon):
    """Adam (``torch.optim.Adam``, ``amsgrad=False``), with bias correction.

    .. math::
        m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t, \\qquad
        v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2, \\\\
        x_t = x_{t-1} - \\frac{\\eta}{1-\\beta_1^t}\\,
              \\frac{m_t}{\\sqrt{v_t}/\\sqrt{1-\\beta_2^t} + \\epsilon}

    Defaults ``beta1`` 0.9, ``beta2`` 0.999, ``epsilon`` 1e-8 (PyTorch's). ``epsilon`` is
    added to the bias-corrected ``sqrt(v)``, as in PyTorch and the Adam paper.
    """
    step_size = lr / (1 - beta1 ** t)
    correction = sqrt(1 - beta2 ** t)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    x = x - step_size * (m / (v ** 0.5 / correction + epsilon))
    return x, m, v


# -- running a rule -------------------------------------------------------------------------

class Stepper(Protocol):
    """One run's update with its state.

    ``stepper.step(params, gradient, t, batch=None)`` returns the parameters after update
    ``t`` (1-based) from ``params`` and ``gradient`` (sequences of ``n`` numbers) as a new
    sequence (a tuple from the unrolled rules: ``f(*tuple)`` is the fastest call), leaving
    its arguments alone. ``batch`` is the minibatch the gradient came from
    (Newton's method takes the Hessian there). ``warnings`` is what to tell the user.
    """

    warnings: list[str]

    def step(self, params, gradient, t: int, batch=None) -> Sequence[float]: ...


@dataclass
class _RuleStepper:
    step: Callable
    warnings: list[str] = field(default_factory=list)


def _slots(rule) -> tuple[str, ...]:
    """The state slots of a rule: its positional parameters after ``x`` and ``g``."""
    names = [p.name for p in inspect.signature(rule).parameters.values()
             if p.kind is p.POSITIONAL_OR_KEYWORD]
    return tuple(names[2:])


def _array_stepper(rule, n, settings):
    """Call the rule once per step on arrays (for many parameters)."""
    state = [np.zeros(n) for _ in _slots(rule)]

    def step(params, gradient, t, batch=None):
        x, *state[:] = rule(np.array(params, float), np.array(gradient, float), *state,
                            t=t, **settings)
        return x.tolist()

    return step


def _coordinate_stepper(rule, n, settings):
    """Call the rule once per coordinate on floats (when its source is not available)."""
    state = [[0.0] * len(_slots(rule)) for _ in range(n)]

    def step(params, gradient, t, batch=None):
        new = []
        for x, g, slots in zip(params, gradient, state):
            x, *slots[:] = rule(x, g, *slots, t=t, **settings)
            new.append(x)
        return new

    return step


class _Rename(ast.NodeTransformer):
    def __init__(self, names, suffix):
        self.names, self.suffix = names, suffix

    def visit_Name(self, node):
        if node.id in self.names:
            return ast.copy_location(ast.Name(node.id + self.suffix, node.ctx), node)
        return node


@functools.lru_cache(maxsize=None)
def _unrolled_factory(rule, n):
    """Specialise ``rule`` into ``factory(**settings) -> step``, unrolled over n floats.

    The rule's statements that use neither the coordinate, its gradient, its slots nor
    anything computed from them run once per step; the others are repeated per coordinate
    with each name suffixed by its index (``m`` -> ``m_0, m_1``). Slots live in closure
    cells. Returns None when the rule's source cannot be read or is not of the plain
    ``name = expression`` form.
    """
    try:
        source = textwrap.dedent(inspect.getsource(rule))
    except (OSError, TypeError):
        return None
    definition = ast.parse(source).body[0]
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    *assignments, returned = body
    slots = _slots(rule)
    outputs = ("x",) + slots
    if not (isinstance(returned, ast.Return) and isinstance(returned.value, ast.Tuple)
            and [getattr(e, "id", None) for e in returned.value.elts] == list(outputs)
            and all(isinstance(s, ast.Assign) and len(s.targets) == 1
                    and isinstance(s.targets[0], ast.Name) for s in assignments)):
        return None
    per_coordinate = {"x", "g", *slots}
    once, repeated = [], []
    for statement in assignments:
        used = {node.id for node in ast.walk(statement.value) if isinstance(node, ast.Name)}
        if used & per_coordinate:
            per_coordinate.add(statement.targets[0].id)
            repeated.append(statement)
        else:
            once.append(statement)

    def names(stem):
        return [f"{stem}_{i}" for i in range(n)]

    settings = [p.name for p in inspect.signature(rule).parameters.values()
                if p.kind is p.KEYWORD_ONLY and p.name != "t"]
    cells = [name for slot in slots for name in names(slot)]
    lines = [f"def factory({', '.join(settings)}):"]
    if cells:
        lines.append(f"    {' = '.join(cells)} = 0.0")
    lines.append("    def step(_params, _gradient, t, batch=None):")
    if cells:
        lines.append(f"        nonlocal {', '.join(cells)}")
    lines += ["        " + ast.unparse(s) for s in once]
    lines.append(f"        {', '.join(names('x'))}, = _params")
    lines.append(f"        {', '.join(names('g'))}, = _gradient")
    for i in range(n):
        rename = _Rename(per_coordinate, f"_{i}")
        lines += ["        " + ast.unparse(rename.visit(copy.deepcopy(s))) for s in repeated]
    lines.append(f"        return ({', '.join(names('x'))},)")
    lines.append("    return step")
    source = "\n".join(lines)
    namespace = {}
    # Only this module's own rule functions are compiled here, never request text: the
    # source is built from their AST with variables renamed per coordinate.
    exec(compile(source, f"<{rule.__name__} unrolled x{n}>", "exec"), rule.__globals__,
         namespace)
    factory = namespace["factory"]
    factory.source = source  # for reading what runs
    return factory


def _rule_stepper(rule, n, learning_rate, hyperparameters, vectorized):
    settings = {"lr": learning_rate, **hyperparameters}
    if vectorized:
        return _RuleStepper(_array_stepper(rule, n, settings))
    factory = _unrolled_factory(rule, n)
    if factory is None:
        return _RuleStepper(_coordinate_stepper(rule, n, settings))
    return _RuleStepper(factory(**settings))


# -- Newton's method ---------------------------------------------------------------------------

class _Newton:
    """Newton's method with the exact Hessian, modified where it is not positive definite.

    .. math:: x_t = x_{t-1} - \\eta H^{-1} g_t

    With ``H = Q diag(lambda) Q^T`` the step is ``Q diag(1/lambda~) Q^T g``, where
    ``lambda~ = lambda`` when every eigenvalue is clearly positive (plain Newton).
    Otherwise (a saddle, a maximum, a singular Hessian) each eigenvalue is replaced by its
    absolute value (the "saddle-free Newton" step of Dauphin et al., 2014, which keeps
    Newton's scaling but moves downhill along negative curvature instead of towards the
    saddle) and each numerically zero one (``|lambda| <= n * eps * max|lambda|``) by 1: a
    plain gradient step of size ``lr`` along the flat directions, where Newton's method
    has no step length. The first time this happens a warning names the iteration; nothing
    is raised. A Hessian that is not finite ends the run as diverged.
    """

    def __init__(self, n_params, learning_rate, objective):
        if objective is None or not objective.has_hessian:
            raise InvalidInput("optimizer", "newton needs the Hessian of the objective")
        self.warnings: list[str] = []
        self._lr = learning_rate
        self._objective = objective
        self._n = n_params
        self._warned: set[str] = set()

    def _warn_once(self, kind: str, message: str) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            self.warnings.append(message)

    def step(self, params, gradient, t, batch=None):
        hessian = self._objective.hessian_at(list(params), batch)
        iteration = t - 1  # the Hessian is taken at the point of iteration t - 1
        if not np.isfinite(hessian).all():
            self._warn_once("finite", f"newton: the Hessian is not finite at iteration "
                                      f"{iteration}")
            return [math.nan] * self._n
        g = np.array(gradient, float)
        try:
            eigenvalues, vectors = np.linalg.eigh(0.5 * (hessian + hessian.T))
        except np.linalg.LinAlgError:
            self._warn_once("eigh", f"newton: the Hessian's eigenvalues did not converge at "
                                    f"iteration {iteration}; took a gradient step there")
            return (np.array(params, float) - self._lr * g).tolist()
        magnitude = np.abs(eigenvalues)
        flat = magnitude.max() * self._n * np.finfo(float).eps
        if eigenvalues[0] > flat:
            curvature = eigenvalues
        else:
            curvature = np.where(magnitude > flat, magnitude, 1.0)
            self._warn_once(
                "definite",
                f"newton: the Hessian is not positive definite at iteration {iteration} "
                f"(smallest eigenvalue {eigenvalues[0]:.6g}); there and wherever else this "
                f"happens the step uses |eigenvalues| in its place (saddle-free Newton) and "
                f"a gradient step along directions of zero curvature",
            )
        direction = vectors @ ((vectors.T @ g) / curvature)
        return (np.array(params, float) - self._lr * direction).tolist()


# -- the registry ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Knob:
    """One hyperparameter: its default and the values it accepts."""

    default: float
    accepts: Callable[[float], bool]
    accepted: str  # the accepted range, for the error message: "in [0, 1)"


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer: its name, defaults, hyperparameters and update.

    ``rule`` is the elementwise update (see the module docstring); Newton's method has
    none and uses the Hessian (``needs_hessian``).
    """

    name: str
    default_learning_rate: float
    knobs: Mapping[str, Knob]
    rule: Callable | None = field(default=None, repr=False)

    @property
    def needs_hessian(self) -> bool:
        return self.rule is None

    @property
    def defaults(self) -> dict[str, float]:
        """The hyperparameters with their defaults."""
        return {name: knob.default for name, knob in self.knobs.items()}

    def resolve(self, learning_rate=None, hyperparameters=None) -> tuple[float, dict]:
        """Check ``learning_rate`` and ``hyperparameters`` and fill in the defaults.

        Raises
        ------
        InvalidInput
            On an unknown hyperparameter (naming the accepted ones) or a value out of range.
        """
        if learning_rate is None:
            learning_rate = self.default_learning_rate
        learning_rate = _number("learning_rate", learning_rate)
        if not learning_rate > 0:
            raise InvalidInput(
                "learning_rate", f"learning_rate must be > 0, got {learning_rate!r}")
        if hyperparameters is None:
            hyperparameters = {}
        if not isinstance(hyperparameters, Mapping):
            raise InvalidInput("hyperparameters", "hyperparameters must be an object of "
                                                  "name -> number")
        for name in hyperparameters:
            if name not in self.knobs:
                accepted = ", ".join(self.knobs) if self.knobs else "none"
                raise InvalidInput(
                    f"hyperparameters/{name}",
                    f"unknown hyperparameter {name!r} for {self.name}; it accepts {accepted}")
        resolved = self.defaults
        for name, raw in hyperparameters.items():
            knob = self.knobs[name]
            value = _number(f"hyperparameters/{name}", raw)
            if not knob.accepts(value):
                raise InvalidInput(
                    f"hyperparameters/{name}",
                    f"{name} for {self.name} must be {knob.accepted}, got {raw!r}")
            resolved[name] = value
        return learning_rate, resolved

    def start(self, n_params: int, learning_rate: float, hyperparameters: Mapping,
              objective=None, *, vectorized: bool | None = None) -> Stepper:
        """A fresh stepper for one run (``learning_rate``, ``hyperparameters`` resolved).

        ``vectorized`` forces arrays (True) or floats (False); by default arrays are used
        above ``SCALAR_LOOP_MAX_PARAMS`` parameters.
        """
        if self.rule is None:
            return _Newton(n_params, learning_rate, objective)
        if vectorized is None:
            vectorized = n_params > SCALAR_LOOP_MAX_PARAMS
        return _rule_stepper(self.rule, n_params, learning_rate, dict(hyperparameters),
                             vectorized)


def _number(field_name: str, raw) -> float:
    name = field_name.rsplit("/", 1)[-1]
    if isinstance(raw, bool) or not isinstance(raw, (int, float, np.integer, np.floating)):
        raise InvalidInput(field_name, f"{name} must be a number, got {raw!r}")
    value = float(raw)
    if not math.isfinite(value):
        raise InvalidInput(field_name, f"{name} must be finite, got {raw!r}")
    return value


def _in_unit_interval(v):
    return 0 <= v < 1


def _positive(v):
    return v > 0


_UNIT, _POSITIVE = "in [0, 1)", "> 0"

OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in [
    OptimizerSpec("gd", 0.01, {}, gd),
    OptimizerSpec("momentum", 0.01, {
        "momentum": Knob(0.9, _in_unit_interval, _UNIT),
    }, momentum),
    OptimizerSpec("nesterov", 0.01, {
        "momentum": Knob(0.9, lambda v: 0 < v < 1, "in (0, 1)"),
    }, nesterov),
    OptimizerSpec("adagrad", 0.01, {
        "decay": Knob(0.0, lambda v: v >= 0, ">= 0"),
        "epsilon": Knob(1e-10, _positive, _POSITIVE),
    }, adagrad),
    OptimizerSpec("rmsprop", 0.01, {
        "decay": Knob(0.99, _in_unit_interval, _UNIT),
        "epsilon": Knob(1e-8, _positive, _POSITIVE),
        "momentum": Knob(0.0, _in_unit_interval, _UNIT),
    }, rmsprop),
    OptimizerSpec("adam", 0.001, {
        "beta1": Knob(0.9, _in_unit_interval, _UNIT),
        "beta2": Knob(0.999, _in_unit_interval, _UNIT),
        "epsilon": Knob(1e-8, _positive, _POSITIVE),
    }, adam),
    OptimizerSpec("newton", 1.0, {}),
]}


def get_optimizer(name) -> OptimizerSpec:
    """The registry entry for ``name``, or InvalidInput listing the known names."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise InvalidInput(
            "optimizer", f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}"
        ) from None
