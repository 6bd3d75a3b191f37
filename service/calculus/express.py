"""The express lane: smooth expressions answered by SymEngine, with SymPy's exact output.

A first-seen expression costs ~15 ms on the SymPy path: building SymPy objects while
parsing, SymPy's printers, and exact evaluation at the point (see README "Performance").
This lane does the same work on SymEngine objects: our parser's tree built straight into
SymEngine (:mod:`fast_exact`), differentiation, exact values at the point, and printers
that write what SymPy's printers write (:mod:`fast_text`, :mod:`fast_latex`). Its results
are proven identical to the SymPy path's by tests/performance and tests/api.

The lane takes only what it is sure of: smooth functions, plain numeric points, values
that are finite real numbers. Anything else (another function, a constant, an exact
string coordinate, a value that is complex or infinite, a limit near, any error to
explain) raises :class:`Unsupported` and the SymPy path answers, with its warnings and
its messages. Nothing here knows about HTTP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import symengine as se

from service.calculus.cache import STAGES, memoized
from service.calculus.evaluation import Entries
from service.calculus.spec import is_exact_number
from service.config import Limits
from service.errors import ServiceError
from service.expressions.functions import FUNCTIONS
from service.expressions.parser import parse_tree
from service.expressions.symbols import NAME_PATTERN
from service.expressions.syntax_tree import Name

__all__ = ["ExpressSpec", "Unsupported", "build_spec", "differentiate", "symbolic",
           "evaluate_at"]

try:
    from service.calculus import fast, fast_exact, fast_latex, fast_text
    from service.calculus.fast import Unsupported
except ImportError:  # SymEngine is not installed: the SymPy path answers everything
    fast = fast_exact = fast_latex = fast_text = None

    class Unsupported(Exception):  # type: ignore[no-redef]
        """The request is not for the express lane."""

#: Whether the lane is tried at all (bench/express.py switches it off to compare).
ENABLED = fast_exact is not None

# Integers written as JSON integers in a point's echo (Point.as_json): beyond, as text.
_JSON_INT = 2**63
# Largest integral coordinate the lane takes: the SymPy path guards larger numbers.
_LARGEST_COORDINATE = 10**15


@dataclass(frozen=True)
class ExpressSpec:
    """Like :class:`service.calculus.spec.FunctionSpec`, with SymEngine expressions."""

    expressions: tuple[se.Basic, ...]
    variables: tuple[str, ...]
    names: tuple[str, ...]


def build_spec(expressions: Sequence[str], limits: Limits,
               variables: Sequence[str] | None = None,
               also_symbols: Sequence[str] = ()) -> ExpressSpec:
    """Parse ``expressions`` (no constants) as :func:`spec.build_spec` would, or Unsupported."""
    if not all(isinstance(text, str) for text in expressions):
        raise Unsupported("not a string")
    STAGES.configure(limits.cache_entries, limits.cache_megabytes)
    key = (tuple(expressions), None if variables is None else tuple(variables),
           tuple(also_symbols), limits)
    spec = memoized("express-parse", key,
                    lambda: _build_spec(expressions, limits, variables, also_symbols))
    if spec is None:  # remembered as unsupported: the SymPy path answers at once
        raise Unsupported("not in the express lane")
    return spec


def _build_spec(expressions, limits, variables, also_symbols) -> ExpressSpec | None:
    try:
        return _parse(expressions, limits, variables, also_symbols)
    except Unsupported:
        return None


def _parse(expressions, limits: Limits, variables, also_symbols) -> ExpressSpec:
    if len(expressions) > limits.max_expressions:
        raise Unsupported("too many expressions")
    if variables is not None:
        if (len(variables) > limits.max_variables or len(set(variables)) != len(variables)
                or not all(_plain_name(v) for v in variables)):
            raise Unsupported("variables the SymPy path must explain")
    if not all(_plain_name(v) for v in also_symbols):
        raise Unsupported("a name the SymPy path must explain")
    known = frozenset(variables or ()).union(also_symbols)
    built, free = [], set()
    for text in expressions:
        try:
            tree = parse_tree(text, limits, non_functions=known)
        except ServiceError:
            raise Unsupported("an expression the SymPy path must explain") from None
        expr = fast_exact.build(tree, known, limits)
        if _divides_by_a_constant(expr):
            raise Unsupported("the SymPy builder checks such divisors")
        built.append(expr)
        free |= _free_names(tree, known)
    if variables is None:
        variables = sorted(free)
        if len(variables) > limits.max_variables:
            raise Unsupported("too many names")
    extra = sorted(free - set(variables))
    return ExpressSpec(tuple(built), tuple(variables), tuple(variables) + tuple(extra))


def _divides_by_a_constant(expr: se.Basic) -> bool:
    """Whether ``expr`` divides by a constant whose float value is 0 or unknown here
    (1/log(erf(7))): the SymPy builder refuses the first kind
    (builder._check_float_divisors), and SymEngine cannot evaluate erf to tell."""
    for power in expr.atoms(se.Pow):
        base = power.base
        if (power.exp.is_positive or base.free_symbols or base in (se.pi, se.E)
                or isinstance(base, (se.Integer, se.Rational))):
            continue
        try:
            if fast.evaluated(complex, base) != 0:
                continue
        except (RuntimeError, TypeError, ValueError, ArithmeticError):
            pass
        return True
    return False


def _plain_name(name: Any) -> bool:
    return isinstance(name, str) and bool(NAME_PATTERN.fullmatch(name)) and name not in FUNCTIONS


def _free_names(tree, variables: frozenset[str]) -> set[str]:
    """The names that become symbols, as the SymPy builder counts them (``x - x`` has x):
    every name but the constants pi and e, unless they are variables."""
    names, pending = set(), [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, Name):
            if node.name in variables or node.name not in ("pi", "e"):
                names.add(node.name)
        else:
            pending.extend(node.children)
    return names


def differentiate(expr: se.Basic, *wrt: str) -> se.Basic:
    """d expr / d wrt[0] / d wrt[1] ..., in SymPy's canonical form."""
    return memoized("express-differentiate", (expr, wrt), lambda: _differentiate(expr, wrt))


def _differentiate(expr: se.Basic, wrt) -> se.Basic:
    for name in wrt:
        expr = fast_exact.canonical(expr.diff(se.Symbol(name)))
    return expr


def symbolic(expr: se.Basic, names: Sequence[str] = ()) -> dict[str, str]:
    """``{expression, latex}`` exactly as ``operations.symbolic`` writes the SymPy form."""
    hidden = tuple(sorted({"e", "pi"}.intersection(names)))
    return memoized("express-render", (expr, hidden), lambda: {
        "expression": fast_text.to_text(expr, hidden),
        "latex": fast_latex.to_latex(expr),
    })


def evaluate_at(exprs: Sequence[se.Basic], names: Sequence[str], raw_point: Any
                ) -> tuple[dict, Entries]:
    """The point's echo and the entries' exact and float64 values, as ``evaluate_at`` gives
    them when every value is a finite real number (else Unsupported)."""
    coordinates = _coordinates(raw_point, names)
    symbols = [se.Symbol(n) for n in names]
    if all(is_exact_number(v) for v in coordinates):
        integers = [int(v) for v in coordinates]
        if any(abs(v) > _LARGEST_COORDINATE for v in integers):
            raise Unsupported("a large coordinate")
        values = dict(zip(symbols, (se.Integer(v) for v in integers)))
        exact, numeric = [], []
        for expr in exprs:
            value = fast_exact.value_at(expr, values)
            exact.append(fast_text.to_text(value, plain_numbers=True))
            numeric.append(_finite(fast_exact.float_value(value)))
        echo = dict(zip(names, integers))
        return echo, Entries(exact, numeric)
    floats = [float(v) for v in coordinates]
    values = dict(zip(symbols, (se.RealDouble(v) for v in floats)))
    numeric = [_finite(_float_at(expr, values)) for expr in exprs]
    return dict(zip(names, floats)), Entries(None, numeric)


def _coordinates(raw_point: Any, names: Sequence[str]) -> list:
    """The coordinates in the order of ``names``: plain JSON numbers only."""
    if isinstance(raw_point, dict):
        if set(raw_point) != set(names):
            raise Unsupported("a point the SymPy path must explain")
        coordinates = [raw_point[n] for n in names]
    elif isinstance(raw_point, (list, tuple)) and len(raw_point) == len(names):
        coordinates = list(raw_point)
    else:
        raise Unsupported("a point the SymPy path must explain")
    for value in coordinates:
        if type(value) not in (int, float) or not math.isfinite(value):
            raise Unsupported("an exact string or an unusual coordinate")
        if type(value) is int and abs(value) >= _JSON_INT:
            raise Unsupported("a coordinate echoed as text")
    return coordinates


def _float_at(expr: se.Basic, values: dict) -> float:
    try:
        value = fast.evaluated(complex, expr.xreplace(values) if hasattr(expr, "xreplace")
                               else expr.subs(values))
    except (TypeError, ValueError, RuntimeError, OverflowError):
        raise Unsupported("no float value") from None
    if value.imag != 0:
        raise Unsupported("a complex value")
    return value.real


def _finite(number: float) -> float:
    if not math.isfinite(number):
        raise Unsupported("not a finite float64")
    return float(number)
