"""Function specs: from validated request fields to SymPy expressions, symbols and points.

Shared by every endpoint (API.md, "Function specs"): ``constants`` are substituted first,
``variables`` default to the sorted free names, a point is an object or a list aligned with
the variables, and a coordinate is exact (integral JSON number or a string) or float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import sympy

from service.calculus.cache import STAGES, freeze, memoized
from service.config import Limits
from service.errors import InvalidInput, LimitExceeded, ServiceError
from service.expressions import check_variable_name, parse, symbol, to_text


@dataclass(frozen=True)
class Point:
    """One point: exact coordinates when all are exact, and float64 coordinates always."""

    exact: tuple[sympy.Expr, ...] | None
    numeric: tuple[float, ...]

    def as_json(self, names: Sequence[str]) -> dict[str, float | str]:
        """The point as the client should read it back: exact text where exact."""
        if self.exact is not None:
            return {
                n: (int(v) if v.is_Integer and abs(v) < 2**63
                    else to_text(v, plain_numbers=True))
                for n, v in zip(names, self.exact)
            }
        return dict(zip(names, self.numeric))


@dataclass(frozen=True)
class FunctionSpec:
    """Parsed expressions with the names they depend on.

    ``variables`` are the names to differentiate by (request order); ``names`` are all the
    free names the point must give, variables first, then any other free names (parameters
    held fixed) sorted.
    """

    expressions: tuple[sympy.Expr, ...]
    variables: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def variable_symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(symbol(n) for n in self.variables)

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(symbol(n) for n in self.names)


# Integral floats beyond 2^53 are not the integers their text says; they stay float64.
_LARGEST_EXACT_FLOAT = 2.0**53


def is_exact_number(value: Any) -> bool:
    """Whether a JSON number is exact: an integer, or an integral float up to 2^53."""
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer() and abs(value) <= _LARGEST_EXACT_FLOAT


def exact_value(text: str, limits: Limits, field: str) -> sympy.Expr:
    """Parse an exact coordinate or constant such as ``"1/3"``, ``"pi/4"``, ``"sqrt(2)"``."""
    try:
        value = parse(text, limits, allow_names=False).expr
    except ServiceError as error:
        raise error.at_field(field) from None
    if value.is_extended_real is False or value.has(sympy.I):
        raise InvalidInput(field, f"{text!r} is not a real number; give a real coordinate")
    if not value.is_number or value.is_finite is False:
        raise InvalidInput(field, f"{text!r} is not a finite number")
    return value


def _constant_value(value: Any, limits: Limits, field: str) -> sympy.Expr:
    if isinstance(value, str):
        return exact_value(value, limits, field)
    if is_exact_number(value):
        return sympy.Integer(int(value))
    # A JSON decimal such as 0.1 is taken as the decimal it reads as, so results stay exact.
    return exact_value(repr(float(value)), limits, field)


def build_spec(
    expressions: Sequence[str],
    limits: Limits,
    *,
    variables: Sequence[str] | None = None,
    constants: Mapping[str, Any] | None = None,
    expression_fields: Sequence[str] | None = None,
    also_symbols: Sequence[str] = (),
) -> FunctionSpec:
    """Parse ``expressions`` with ``constants`` substituted and check ``variables``.

    ``also_symbols`` are names to read as symbols even when ``variables`` is not given
    (the variable of ``/v1/derivative``, which may be ``e``), without making them variables.
    The result is cached under the normalized inputs (errors are not).
    """
    STAGES.configure(limits.cache_entries, limits.cache_megabytes)
    key = (freeze(list(expressions)), limits, freeze(variables), freeze(constants or {}),
           freeze(expression_fields), freeze(also_symbols))
    return memoized("parse", key, lambda: _parse_spec(
        expressions, limits, variables=variables, constants=constants,
        expression_fields=expression_fields, also_symbols=also_symbols))


def _parse_spec(
    expressions: Sequence[str],
    limits: Limits,
    *,
    variables: Sequence[str] | None = None,
    constants: Mapping[str, Any] | None = None,
    expression_fields: Sequence[str] | None = None,
    also_symbols: Sequence[str] = (),
) -> FunctionSpec:
    """The uncached work of :func:`build_spec`."""
    constants = constants or {}
    fields = expression_fields or ["expression"] * len(expressions)
    if len(expressions) > limits.max_expressions:
        raise LimitExceeded(
            f"{len(expressions):,} expressions were given",
            limits.max_expressions, Limits.env_var("max_expressions"), field="expressions",
        )
    if len(constants) > limits.max_variables:  # each is parsed: bound them like variables
        raise LimitExceeded(
            f"{len(constants):,} constants were given",
            limits.max_variables, Limits.env_var("max_variables"), field="constants",
        )
    if variables is not None:
        _check_variables(variables, constants, limits)
    constant_values = {}
    for name, value in constants.items():
        check_variable_name(name, f"constants/{name}")
        constant_values[name] = _constant_value(value, limits, f"constants/{name}")
    parsed = []
    free: set[str] = set()
    for text, field in zip(expressions, fields):
        try:
            result = parse(
                text, limits, constants=constant_values,
                variables=list(variables or ()) + list(also_symbols),
            )
        except ServiceError as error:
            raise error.at_field(field) from None
        parsed.append(result.expr)
        free |= result.names
    if variables is None:
        variables = sorted(free)
        if len(variables) > limits.max_variables:
            raise LimitExceeded(
                f"the expression has {len(variables):,} free names",
                limits.max_variables, Limits.env_var("max_variables"), field="variables",
            )
    extra = sorted(free - set(variables))
    return FunctionSpec(tuple(parsed), tuple(variables), tuple(variables) + tuple(extra))


def _check_variables(variables: Sequence[str], constants: Mapping, limits: Limits) -> None:
    if len(variables) > limits.max_variables:
        raise LimitExceeded(
            f"{len(variables):,} variables were given",
            limits.max_variables, Limits.env_var("max_variables"), field="variables",
        )
    seen: dict[str, int] = {}
    for i, name in enumerate(variables):
        field = f"variables/{i}"
        check_variable_name(name, field)
        if name in seen:
            raise InvalidInput(field, f"'{name}' is listed twice (also at variables/{seen[name]})")
        if name in constants:
            raise InvalidInput(
                field, f"'{name}' is both a variable and a constant; remove it from one of them"
            )
        seen[name] = i


def coordinate(value: Any, limits: Limits, field: str) -> tuple[sympy.Expr | None, float]:
    """One coordinate as (exact or None, float64)."""
    if isinstance(value, str):
        exact = exact_value(value, limits, field)
        number = float(exact.evalf(20))
        if not np.isfinite(number):
            raise InvalidInput(field, f"{value!r} is too large for a float64")
        return exact, number
    if is_exact_number(value):
        return sympy.Integer(int(value)), float(value)
    return None, float(value)


def build_point(raw: Any, spec: FunctionSpec, limits: Limits, field: str = "point") -> Point:
    """Read a point given as an object or as a list aligned with ``spec.variables``."""
    names = spec.names
    if isinstance(raw, Mapping):
        unknown = [k for k in raw if k not in names]
        if unknown:
            raise InvalidInput(
                f"{field}/{unknown[0]}",
                f"'{unknown[0]}' is not a variable of the expression "
                f"(its names are: {', '.join(names) or 'none'})",
            )
        missing = [n for n in names if n not in raw]
        if missing:
            raise InvalidInput(
                f"{field}/{missing[0]}",
                f"the point gives no coordinate for '{missing[0]}'; every variable needs one",
            )
        items = [(n, raw[n], f"{field}/{n}") for n in names]
    else:
        if len(raw) != len(names):
            hint = ""
            if len(names) > len(spec.variables):
                hint = (
                    f"; the expression also uses {', '.join(names[len(spec.variables):])}: "
                    "give the point as an object"
                )
            raise InvalidInput(
                field,
                f"the point has {len(raw)} coordinates but there are {len(names)} variables "
                f"({', '.join(names)}){hint}",
            )
        items = [(n, v, f"{field}/{i}") for i, (n, v) in enumerate(zip(names, raw))]
    exact, numeric = [], []
    for _name, value, f in items:
        e, x = coordinate(value, limits, f)
        exact.append(e)
        numeric.append(x)
    all_exact = all(e is not None for e in exact)
    return Point(tuple(exact) if all_exact else None, tuple(numeric))


def check_points_count(raw: Sequence, limits: Limits) -> None:
    """Refuse more than ``max_points`` points (callers check before any SymPy work)."""
    if len(raw) > limits.max_points:
        raise LimitExceeded(
            f"{len(raw):,} points were given",
            limits.max_points, Limits.env_var("max_points"), field="points",
        )


def build_points(raw: Sequence, spec: FunctionSpec, limits: Limits) -> np.ndarray:
    """Read ``points`` into a float64 array of shape (number of names, number of points).

    ``raw`` is a list of points, or already a float array of shape (points, coordinates)
    when the HTTP layer found only plain numeric lists.
    """
    check_points_count(raw, limits)
    names = spec.names
    if isinstance(raw, np.ndarray):
        if raw.ndim != 2 or raw.shape[1] != len(names):
            build_point(list(raw[0]) if raw.ndim == 2 else [], spec, limits, field="points/0")
        return np.ascontiguousarray(raw.T)
    columns = np.empty((len(names), len(raw)), dtype=np.float64)
    for j, item in enumerate(raw):
        if isinstance(item, Mapping) or any(isinstance(v, str) for v in item):
            columns[:, j] = build_point(item, spec, limits, field=f"points/{j}").numeric
            continue
        if len(item) != len(names):
            build_point(item, spec, limits, field=f"points/{j}")  # raises the helpful error
        columns[:, j] = item
    return columns
