"""The calculus endpoints' work: derivative, gradient, Jacobian and Hessian.

Each function takes validated request fields and returns the response body as plain data
(``dict``/``list``/``float``/``str``, and NumPy arrays whose NaN the JSON encoder writes as
null) in the shapes that API.md fixes. Nothing here knows about HTTP.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Sequence

import numpy as np
import sympy

from service.calculus import engine, express, steps as derivation_steps
from service.calculus.cache import memoized
from service.calculus.engine import Derivative
from service.calculus.evaluation import Entries, evaluate_at, evaluate_batch
from service.calculus.finite_differences import gradient_check
from service.calculus.spec import (
    FunctionSpec, build_point, build_points, build_spec, check_points_count,
)
from service.config import Limits
from service.errors import InvalidInput, LimitExceeded
from service.expressions import UnprintableExpression, check_variable_name, symbol, to_latex, to_text

# Relative size under which an eigenvalue or a gradient entry counts as zero (float points).
ZERO_TOLERANCE = 1e-10


def symbolic(expr: sympy.Expr, names: Sequence[str] = ()) -> dict[str, str]:
    """``{expression, latex}``: the text re-parses as input; the LaTeX is SymPy's.

    ``names`` are the request's names: where one is ``e`` or ``pi``, the text writes the
    constant another way (``exp(1)``), since sent back with that request the name means the
    variable (d/de of ``exp(1)*e`` is Euler's number, not the variable e).
    """
    hidden = tuple(sorted({"e", "pi"}.intersection(names)))
    return memoized("render", (expr, hidden), lambda: _render(expr, hidden))


def _render(expr: sympy.Expr, names: Sequence[str] = ()) -> dict[str, str]:
    try:
        text = to_text(expr, names)
    except UnprintableExpression as error:
        raise InvalidInput(
            None, f"the result cannot be written in the expression syntax ({error})"
        ) from None
    return {"expression": text, "latex": to_latex(expr)}


def _rows(flat: list | None, n_rows: int, n_cols: int) -> list[list] | None:
    if flat is None:
        return None
    return [flat[i * n_cols:(i + 1) * n_cols] for i in range(n_rows)]


class _Entries:
    """Labelled entries (function values first, then derivatives), compiled once.

    ``owners[i]`` is, for a derivative, the index of the function value it derives from.
    A ``quiet`` entry is evaluated only to decide its dependants (the function's value for
    /v1/derivative, the gradient for the Hessian's critical-point test): it is not in the
    response, so its own warnings are not either.
    """

    def __init__(self, spec: FunctionSpec, limits: Limits):
        self.spec, self.limits = spec, limits
        self.items: list[tuple[str, Any]] = []
        self.owners: list[int | None] = []
        self.quiet: set[int] = set()
        self._compiled = None

    def add(self, label: str, item, owner: int | None = None, quiet: bool = False) -> int:
        self.items.append((label, item))
        self.owners.append(owner)
        if quiet:
            self.quiet.add(len(self.items) - 1)
        return len(self.items) - 1

    @property
    def compiled(self):
        if self._compiled is None:
            exprs = [i.expr if isinstance(i, Derivative) else i for _, i in self.items]
            self._compiled = engine.compile_numeric(exprs, self.spec.symbols)
        return self._compiled

    def at(self, raw_point) -> tuple[dict, Entries]:
        point = build_point(raw_point, self.spec, self.limits)
        entries = evaluate_at(
            self.items, self.compiled, self.spec.symbols, point,
            max_digits=self.limits.max_number_digits, owners=self.owners,
            quiet=frozenset(self.quiet), limits=self.limits,
        )
        return point.as_json(self.spec.names), entries

    def batch(self, raw_points) -> tuple[np.ndarray, list[str]]:
        columns = build_points(raw_points, self.spec, self.limits)
        return evaluate_batch(self.items, self.compiled, self.spec.symbols, columns,
                              self.owners, frozenset(self.quiet), self.limits)


def _single(entries: Entries, index: int) -> dict[str, Any]:
    exact = None if entries.exact is None else entries.exact[index]
    return {"exact": exact, "numeric": entries.numeric[index]}


def _pick(entries: Entries, start: int, stop: int) -> dict[str, Any]:
    exact = None if entries.exact is None else entries.exact[start:stop]
    return {"exact": exact, "numeric": entries.numeric[start:stop]}


def _with_warnings(body: dict, warnings: list[str]) -> dict:
    if warnings:
        body["warnings"] = warnings
    return body


def _check_needs_point(check: bool, point) -> None:
    if check and point is None:
        raise InvalidInput("check", "the gradient check needs a point: add \"point\" (an "
                                    "object name -> coordinate, or a list)")


def _check(spec: FunctionSpec, limits: Limits, raw_point, function_exprs, exact) -> tuple:
    """``check``: central differences of the compiled ``function_exprs`` against ``exact``."""
    x = build_point(raw_point, spec, limits).numeric
    function = engine.compile_numeric(function_exprs, spec.symbols)
    result = gradient_check(lambda args: engine.call_numeric(function, list(args)), x,
                            len(spec.variables), exact)
    return result.as_json(), result.warnings


def _check_batch(points, per_point: int, limits: Limits) -> None:
    """Refuse, before any SymPy or NumPy work, a batch whose answer would be too large.

    The answer holds ``per_point`` values for each point (a Hessian's n^2 entries, and the
    value and gradient it is checked against): a small request could otherwise ask for
    gigabytes (a Hessian in 100 variables at 10,000 points is 10^8 values).
    """
    if points is None:
        return
    check_points_count(points, limits)
    values = len(points) * per_point
    if values > limits.max_batch_values:
        raise LimitExceeded(
            f"{len(points):,} points with {per_point:,} values each would compute "
            f"{values:,} values", limits.max_batch_values, Limits.env_var("max_batch_values"),
            field="points",
        )


def _check_order(order: int, limits: Limits) -> None:
    if order > limits.max_derivative_order:
        raise LimitExceeded(
            f"derivative order {order:,} was asked for",
            limits.max_derivative_order, Limits.env_var("max_derivative_order"), field="order",
        )


def derivative(
    limits: Limits, *, expression: str, variable: str, order: int = 1,
    point=None, points=None, constants=None, steps: bool = False,
) -> dict:
    """The ``order``-th derivative of one expression by one variable (with its steps)."""
    if _in_express_lane(constants, points, steps):
        body = _lane_answer(_express_derivative, limits, expression, variable, order, point)
        if body is not None:
            return body
    _check_order(order, limits)
    check_variable_name(variable, "variable")
    if constants and variable in constants:
        raise InvalidInput("variable", f"'{variable}' is a constant; it cannot be differentiated by")
    spec = build_spec([expression], limits, constants=constants, also_symbols=[variable])
    if variable not in spec.names:  # d/dx of an expression free of x: x still has a coordinate
        names = tuple(sorted(spec.names + (variable,)))
        spec = dataclasses.replace(spec, variables=names, names=names)
    _check_batch(points, 2, limits)
    result = engine.differentiate(spec.expressions[0], *[symbol(variable)] * order)
    body: dict[str, Any] = {"derivative": symbolic(result.expr, spec.names)}
    warnings: list[str] = []
    if steps:
        explained, step_warnings = derivation_steps.explain(
            spec.expressions[0], [symbol(variable)], order)
        body["steps"] = explained[0]
        warnings += step_warnings
    entries = _Entries(spec, limits)
    value = entries.add("the function", spec.expressions[0], quiet=True)
    entries.add("value", result, owner=value)
    if point is not None:
        at_point, evaluated = entries.at(point)
        body["at"] = {"point": at_point, "value": _single(evaluated, 1)}
        warnings += evaluated.warnings
    if points is not None:
        table, batch_warnings = entries.batch(points)
        body["batch"] = {"values": table[:, 1]}
        warnings += batch_warnings
    return _with_warnings(body, warnings)


def gradient(
    limits: Limits, *, expression: str, variables=None, point=None, points=None, constants=None,
    steps: bool = False, check: bool = False,
) -> dict:
    """The gradient of one expression; its value, norm, batch values, steps and check."""
    _check_needs_point(check, point)
    if _in_express_lane(constants, points, steps, check):
        body = _lane_answer(_express_gradient, limits, expression, variables, point)
        if body is not None:
            return body
    spec = build_spec([expression], limits, variables=variables, constants=constants)
    _check_batch(points, 1 + len(spec.variables), limits)
    partials = engine.gradient(spec.expressions[0], spec.variable_symbols)
    n = len(partials)
    body: dict[str, Any] = {
        "variables": list(spec.variables),
        "gradient": [symbolic(d.expr, spec.names) for d in partials],
    }
    entries = _Entries(spec, limits)
    value = entries.add("value", spec.expressions[0])
    for i, d in enumerate(partials):
        entries.add(f"gradient[{i}]", d, owner=value)
    warnings: list[str] = []
    if steps:
        body["steps"], step_warnings = derivation_steps.explain(
            spec.expressions[0], spec.variable_symbols)
        warnings += step_warnings
    if point is not None:
        at_point, evaluated = entries.at(point)
        body["at"] = _gradient_at(at_point, evaluated, n, warnings)
        warnings += evaluated.warnings
        if check:
            body["check"], check_warnings = _check(spec, limits, point, spec.expressions[0],
                                                   body["at"]["gradient"]["numeric"])
            warnings += check_warnings
    if points is not None:
        table, batch_warnings = entries.batch(points)
        body["batch"] = {"values": table[:, 0], "gradient": table[:, 1:]}
        warnings += batch_warnings
    return _with_warnings(body, warnings)


def _gradient_at(at_point: dict, evaluated: Entries, n: int, warnings: list[str]) -> dict:
    grad = _pick(evaluated, 1, n + 1)
    numeric = grad["numeric"]
    norm = None if None in numeric else math.hypot(*numeric)  # hypot cannot overflow
    if norm is not None and not math.isfinite(norm):
        norm = None
        warnings.append("norm is too large for a float64 at this point")
    return {"point": at_point, "value": _single(evaluated, 0), "gradient": grad, "norm": norm}


# -- the express lane (service.calculus.express): SymEngine, SymPy's exact output -----------

def _in_express_lane(constants, points, *flags: bool) -> bool:
    """Whether the express lane may try: no constants, no batch, no steps or check."""
    return express.ENABLED and not constants and points is None and not any(flags)


def _lane_answer(express_answer, *args) -> dict | None:
    """``express_answer(*args)``, or None where the express lane does not answer."""
    try:
        return express_answer(*args)
    except express.Unsupported:
        return None


def _express_gradient(limits: Limits, expression, variables, point) -> dict:
    spec = express.build_spec([expression], limits, variables)
    f = spec.expressions[0]
    partials = [express.differentiate(f, v) for v in spec.variables]
    body: dict[str, Any] = {
        "variables": list(spec.variables),
        "gradient": [express.symbolic(d, spec.names) for d in partials],
    }
    if point is not None:
        at_point, evaluated = express.evaluate_at([f, *partials], spec.names, point)
        warnings: list[str] = []
        body["at"] = _gradient_at(at_point, evaluated, len(partials), warnings)
        if warnings:
            raise express.Unsupported("warnings: the SymPy path words them")
    return body


def _express_hessian(limits: Limits, expression, variables, point) -> dict:
    spec = express.build_spec([expression], limits, variables)
    f, names = spec.expressions[0], spec.variables
    n = len(names)
    partials = [express.differentiate(f, v) for v in names]
    matrix: list[list] = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            matrix[i][j] = matrix[j][i] = express.differentiate(f, names[i], names[j])
    body: dict[str, Any] = {
        "variables": list(names),
        "hessian": [[express.symbolic(d, spec.names) for d in row] for row in matrix],
    }
    if point is not None:
        at_point, evaluated = express.evaluate_at(
            [f, *partials, *(d for row in matrix for d in row)], spec.names, point)
        warnings: list[str] = []
        body["at"] = _hessian_at(at_point, evaluated, n, warnings)
        if warnings:
            raise express.Unsupported("warnings: the SymPy path words them")
    return body


# -- small requests: the express lane within small caps, answered by the web worker ------------

#: The caps of a small request (service.compute.Computer.run_small answers it in the web
#: worker, where nothing but a short timer stops a computation). Within them the slowest of
#: ~2,400 random and constructed texts took 19 ms in the lane; without them the lane can
#: take 45 s (the third derivative of a 40-deep log(1 + log(...))). README "Performance".
SMALL_REQUEST = {"max_expression_length": 200, "max_nesting_depth": 5,
                 "max_expression_nodes": 120, "max_variables": 6, "max_derivative_order": 2,
                 "max_expressions": 4}


@functools.lru_cache(maxsize=16)
def small_limits(limits: Limits) -> Limits:
    """``limits`` lowered to the caps of a small request (a lower limit of ``limits`` stays)."""
    return dataclasses.replace(limits, **{name: min(getattr(limits, name), cap)
                                          for name, cap in SMALL_REQUEST.items()})


def small_derivative(limits: Limits, *, expression, variable, order: int = 1, point=None,
                     points=None, constants=None, steps: bool = False) -> dict | None:
    """:func:`derivative`'s answer when the express lane gives it within the small caps,
    else None."""
    if not _in_express_lane(constants, points, steps):
        return None
    return _lane_answer(_express_derivative, small_limits(limits), expression, variable, order,
                        point)


def small_gradient(limits: Limits, *, expression, variables=None, point=None, points=None,
                   constants=None, steps: bool = False, check: bool = False) -> dict | None:
    """:func:`gradient`'s answer when the express lane gives it within the small caps,
    else None."""
    if not _in_express_lane(constants, points, steps, check):
        return None
    return _lane_answer(_express_gradient, small_limits(limits), expression, variables, point)


def small_hessian(limits: Limits, *, expression, variables=None, point=None, points=None,
                  constants=None, check: bool = False) -> dict | None:
    """:func:`hessian`'s answer when the express lane gives it within the small caps, else
    None."""
    if not _in_express_lane(constants, points, check):
        return None
    return _lane_answer(_express_hessian, small_limits(limits), expression, variables, point)


def small_jacobian(limits: Limits, *, expressions, variables=None, point=None, points=None,
                   constants=None, check: bool = False) -> dict | None:
    """:func:`jacobian`'s answer when the express lane gives it within the small caps, else
    None."""
    if not _in_express_lane(constants, points, check):
        return None
    return _lane_answer(_express_jacobian, small_limits(limits), expressions, variables, point)


def _express_jacobian(limits: Limits, expressions, variables, point) -> dict:
    if not isinstance(expressions, (list, tuple)) or not expressions:
        raise express.Unsupported("expressions the SymPy path must explain")
    spec = express.build_spec(list(expressions), limits, variables)
    m, n = len(spec.expressions), len(spec.variables)
    matrix = [[express.differentiate(f, v) for v in spec.variables] for f in spec.expressions]
    body: dict[str, Any] = {
        "variables": list(spec.variables),
        "jacobian": [[express.symbolic(d, spec.names) for d in row] for row in matrix],
    }
    if point is not None:
        at_point, evaluated = express.evaluate_at(
            [*spec.expressions, *(d for row in matrix for d in row)], spec.names, point)
        jac = _pick(evaluated, m, m + m * n)
        body["at"] = {
            "point": at_point,
            "value": _pick(evaluated, 0, m),
            "jacobian": {k: _rows(v, m, n) for k, v in jac.items()},
        }
    return body


def _express_derivative(limits: Limits, expression, variable, order: int, point) -> dict:
    if not isinstance(variable, str) or order > limits.max_derivative_order:
        raise express.Unsupported("a request the SymPy path must explain")
    spec = express.build_spec([expression], limits, also_symbols=[variable])
    names = spec.names
    if variable not in names:
        names = tuple(sorted(names + (variable,)))
    f = spec.expressions[0]
    result = express.differentiate(f, *[variable] * order)
    body: dict[str, Any] = {"derivative": express.symbolic(result, names)}
    if point is not None:
        at_point, evaluated = express.evaluate_at([f, result], names, point)
        body["at"] = {"point": at_point, "value": _single(evaluated, 1)}
    return body


def jacobian(
    limits: Limits, *, expressions: Sequence[str], variables=None, point=None, points=None,
    constants=None, check: bool = False,
) -> dict:
    """The Jacobian of several expressions: rows follow expressions, columns variables."""
    _check_needs_point(check, point)
    if _in_express_lane(constants, points, check):
        body = _lane_answer(_express_jacobian, limits, expressions, variables, point)
        if body is not None:
            return body
    fields = [f"expressions/{i}" for i in range(len(expressions))]
    spec = build_spec(list(expressions), limits, variables=variables, constants=constants,
                      expression_fields=fields)
    m, n = len(spec.expressions), len(spec.variables)
    _check_batch(points, m + m * n, limits)
    matrix = [engine.gradient(f, spec.variable_symbols) for f in spec.expressions]
    body: dict[str, Any] = {
        "variables": list(spec.variables),
        "jacobian": [[symbolic(d.expr, spec.names) for d in row] for row in matrix],
    }
    entries = _Entries(spec, limits)
    owners = [entries.add(f"value[{i}]", f) for i, f in enumerate(spec.expressions)]
    for i, row in enumerate(matrix):
        for j, d in enumerate(row):
            entries.add(f"jacobian[{i}][{j}]", d, owner=owners[i])
    warnings: list[str] = []
    if point is not None:
        at_point, evaluated = entries.at(point)
        values = _pick(evaluated, 0, m)
        jac = _pick(evaluated, m, m + m * n)
        body["at"] = {
            "point": at_point,
            "value": values,
            "jacobian": {k: _rows(v, m, n) for k, v in jac.items()},
        }
        warnings += evaluated.warnings
        if check:
            body["check"], check_warnings = _check(
                spec, limits, point, list(spec.expressions), _rows(jac["numeric"], m, n))
            warnings += check_warnings
    if points is not None:
        table, batch_warnings = entries.batch(points)
        body["batch"] = {
            "values": table[:, :m],
            "jacobian": table[:, m:].reshape(len(table), m, n),  # -1 is ambiguous if n = 0
        }
        warnings += batch_warnings
    return _with_warnings(body, warnings)


def hessian(
    limits: Limits, *, expression: str, variables=None, point=None, points=None, constants=None,
    check: bool = False,
) -> dict:
    """The Hessian; at a point also its eigenvalues, definiteness and the critical-point test."""
    _check_needs_point(check, point)
    if _in_express_lane(constants, points, check):
        body = _lane_answer(_express_hessian, limits, expression, variables, point)
        if body is not None:
            return body
    spec = build_spec([expression], limits, variables=variables, constants=constants)
    symbols = spec.variable_symbols
    n = len(symbols)
    _check_batch(points, 1 + n + n * n, limits)
    partials = engine.gradient(spec.expressions[0], symbols)
    matrix = engine.hessian(spec.expressions[0], symbols)
    body: dict[str, Any] = {
        "variables": list(spec.variables),
        "hessian": [[symbolic(d.expr, spec.names) for d in row] for row in matrix],
    }
    entries = _Entries(spec, limits)
    value = entries.add("value", spec.expressions[0], quiet=True)
    for i, d in enumerate(partials):
        entries.add(f"gradient[{i}]", d, owner=value, quiet=True)
    for i, row in enumerate(matrix):
        for j, d in enumerate(row):
            entries.add(f"hessian[{i}][{j}]", d, owner=value)
    warnings: list[str] = []
    if point is not None:
        at_point, evaluated = entries.at(point)
        body["at"] = _hessian_at(at_point, evaluated, n, warnings)
        warnings += evaluated.warnings
        if check:  # central differences of the compiled gradient
            body["check"], check_warnings = _check(
                spec, limits, point, [d.expr for d in partials], body["at"]["hessian"]["numeric"])
            warnings += check_warnings
    if points is not None:
        table, batch_warnings = entries.batch(points)
        body["batch"] = {"hessian": table[:, n + 1:].reshape(len(table), n, n)}
        warnings += batch_warnings
    return _with_warnings(body, warnings)


def _hessian_at(at_point: dict, evaluated: Entries, n: int, warnings: list[str]) -> dict:
    grad = _pick(evaluated, 1, n + 1)
    hess = _pick(evaluated, n + 1, n + 1 + n * n)
    return {
        "point": at_point,
        "hessian": {k: _rows(v, n, n) for k, v in hess.items()},
        **_second_derivative_test(grad, hess, n, warnings),
    }


def _second_derivative_test(grad: dict, hess: dict, n: int, warnings: list[str]) -> dict[str, Any]:
    """Eigenvalues, definiteness and, at a critical point, its classification."""
    numeric = hess["numeric"]
    unknown = {"eigenvalues": None, "definiteness": None, "critical_point": None,
               "classification": None}
    if None in numeric:
        return unknown
    matrix = np.array(numeric, dtype=float).reshape(n, n)
    # eig(H) = s * eig(H / s): no overflow inside LAPACK for entries near the float64 maximum.
    largest = float(np.max(np.abs(matrix))) if n else 0.0
    largest = largest if largest > 0 else 1.0
    with np.errstate(over="ignore"):
        eigenvalues = np.linalg.eigvalsh(matrix / largest) * largest
    if not np.isfinite(eigenvalues).all():
        warnings.append("eigenvalues are too large for a float64 at this point")
        return unknown | {"critical_point": _is_critical(grad)}
    scale = max(1.0, float(np.max(np.abs(eigenvalues)))) if n else 1.0
    zero = np.abs(eigenvalues) <= ZERO_TOLERANCE * scale
    positive = (eigenvalues > 0) & ~zero
    negative = (eigenvalues < 0) & ~zero
    if positive.all():
        definiteness = "positive definite"
    elif negative.all():
        definiteness = "negative definite"
    elif positive.any() and negative.any():
        definiteness = "indefinite"
    elif negative.any():
        definiteness = "negative semidefinite"
    else:
        definiteness = "positive semidefinite"
    critical = _is_critical(grad)
    classification = None
    if critical:
        classification = {
            "positive definite": "local minimum",
            "negative definite": "local maximum",
            "indefinite": "saddle point",
        }.get(definiteness, "inconclusive")
    return {
        "eigenvalues": [float(v) for v in eigenvalues],
        "definiteness": definiteness,
        "critical_point": critical,
        "classification": classification,
    }


def _is_critical(grad: dict) -> bool | None:
    """Whether the gradient vanishes: exactly for exact points, to float64 precision else."""
    if grad["exact"] is not None:
        if None in grad["exact"]:
            return None
        return all(text == "0" for text in grad["exact"])
    if None in grad["numeric"]:
        return None
    return math.hypot(*grad["numeric"]) <= ZERO_TOLERANCE
