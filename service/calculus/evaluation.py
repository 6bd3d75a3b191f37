"""Values at a point (exact and float64) and over many points, with honest nulls.

A value that is not a finite real number is ``None`` (JSON null) and a warning says which
entry and why: complex, infinite, undefined, or a derivative that does not exist at a kink.
Exact values come from SymPy substitution. A numeric value is the float64 of the exact
value where there is one (``engine.float_of_exact``: correctly rounded, as the express lane
gives it); otherwise, and over many points, it comes from the compiled NumPy function,
never from ``subs``/``evalf`` per value.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import sympy

from service.calculus import engine
from service.calculus.engine import Derivative
from service.calculus.spec import Point
from service.config import Limits
from service.errors import LimitExceeded
from service.expressions import UnprintableExpression, to_text

# How many individual batch problems are spelled out before they are summarised.
MAX_BATCH_WARNINGS = 20
# How many null values of a batch are looked at again exactly (``_rescue``), and for how long.
MAX_RESCUED = 20
RESCUE_SECONDS = 0.25
# How many batch points lying on a kink are examined one by one (the rest are nulled).
MAX_KINK_ROWS = 1000


@dataclass
class Entries:
    """Evaluated entries in a flat list (callers reshape them)."""

    exact: list[str | None] | None
    numeric: list[float | None]
    warnings: list[str] = field(default_factory=list)


def _classify_exact(value: sympy.Expr) -> str | None:
    """Why an exact value is not a finite real, or None if it is one."""
    if value.has(sympy.nan):
        return "is undefined at this point"
    if value.has(sympy.zoo, sympy.oo, -sympy.oo):
        return "is infinite at this point"
    if value.has(sympy.I):
        return "is complex at this point"
    try:
        not_real = value.is_extended_real is False
    except (ArithmeticError, ValueError, AttributeError):  # its 2-digit evaluation
        # divided by 0, as in csc(log(tanh(15))), or had no precision, as in
        # cosh(tanh(15*atanh(-3))), or SymPy's assumptions failed (sec(3*I) asks cosh(3)
        # for a method it lacks, under some hash seeds)
        not_real = True  # decided at 30 digits
    if not_real and _surely_complex(value):
        return "is complex at this point"
    return None


def _surely_complex(value: sympy.Expr) -> bool:
    """Whether a value SymPy calls not real has an imaginary part at 30 digits. SymPy's
    signs of numbers come from 2-digit evaluations: log(1 - exp(-40)), whose argument
    rounds to 1, is then neither negative nor nonnegative, so "not real", once both
    were asked (in that order, a cached answer). Unevaluable values stay complex."""
    try:
        number = value.evalf(30)
        real, imaginary = number.as_real_imag()
    except (ArithmeticError, TypeError, ValueError):
        return True
    return not (real.is_Number and imaginary.is_zero)


def _classify_number(value: complex) -> str:
    if np.isnan(value.real) or np.isnan(value.imag):
        return "is undefined at this point"
    if np.isinf(value.real) or np.isinf(value.imag):
        return "is infinite at this point"
    return "is complex at this point"


def _exact_text(value: sympy.Expr, max_digits: int) -> str | None:
    """Render an exact value, refusing numbers too long to print in reasonable time."""
    max_bits = int(max_digits * 3.33)
    for atom in value.atoms(sympy.Rational):
        if atom.p.bit_length() > max_bits or atom.q.bit_length() > max_bits:
            return None
    try:
        return to_text(value, plain_numbers=True)
    except (UnprintableExpression, ValueError):
        return None


def _as_float(value) -> float | None:
    try:
        number = complex(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int past float64
        return None
    if number.imag != 0 or not np.isfinite(number.real):
        return None
    return float(number.real)


def _float_of_exact(value: sympy.Expr) -> float | None:
    """The float64 of an exact finite real value, evaluated with precision to spare."""
    for digits in (17, 60):
        try:
            number = _as_float(value.evalf(digits))
        except (ArithmeticError, TypeError, ValueError):
            continue
        if number is not None:
            return number
    return None


def _complex_values(compiled: Callable, numeric: Sequence[float], real_values) -> list:
    """The entries at the point in complex arithmetic, to tell complex from infinite values.

    Some functions have no complex form (NumPy's ``cbrt`` refuses complex input, ``erf``
    would drop the imaginary part): then the real values are classified as they are (NaN
    undefined, infinity infinite).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:
            return engine.call_numeric(compiled, [np.complex128(x) for x in numeric])
        except (TypeError, np.exceptions.ComplexWarning):
            return real_values


def evaluate_at(
    items: Sequence[tuple[str, sympy.Expr | Derivative]],
    compiled: Callable,
    symbols: Sequence[sympy.Symbol],
    point: Point,
    *,
    max_digits: int,
    owners: Sequence[int | None] | None = None,
    quiet: frozenset[int] = frozenset(),
    limits: Limits | None = None,
) -> Entries:
    """Evaluate labelled entries at one point.

    ``compiled`` is :func:`engine.compile_numeric` of the entries' expressions, in order.
    ``owners[i]``, for a derivative, is the index of the earlier entry holding the function
    it derives from: where that function is not a finite real (``log(x)`` at -1) the
    derivative is null too, although ``1/x`` is real there. Entries in ``quiet`` are
    evaluated for that purpose only: their own problems are not reported. With ``limits``,
    an exact value whose numbers would pass them is not computed (only the float is given).
    """
    owners = owners or [None] * len(items)
    raw = engine.call_numeric(compiled, [np.float64(x) for x in point.numeric])
    exact_values = None
    if point.exact is not None:
        exact_values = dict(zip(symbols, point.exact))
    float_values = {s: sympy.Float(x, 17) for s, x in zip(symbols, point.numeric)}
    exact_out: list[str | None] = []
    numeric_out: list[float | None] = []
    problems: list[str | None] = []
    warnings: list[str] = []
    complex_raw = None
    for index, (label, item) in enumerate(items):
        expr = item.expr if isinstance(item, Derivative) else item
        problem = None
        owner = owners[index]
        if owner is not None and problems[owner] is not None:
            problem = f"is undefined because the function {problems[owner]}"
        elif isinstance(item, Derivative):
            problem = engine.kink_warning(
                item, exact_values or float_values, numeric=exact_values is None,
                limits=limits,
            )
        say = warnings.append if index not in quiet else (lambda _: None)
        exact_text = value = None
        if problem is None and exact_values is not None:
            try:
                value = engine.substitute(expr, exact_values, limits)
            except LimitExceeded:
                value = None
                say(f"{label}: computing the exact value needs numbers of more than "
                    f"{max_digits:,} digits; only the numeric value is given")
            problem = None if value is None else _classify_exact(value)
            if problem is None and value is not None:
                exact_text = _exact_text(value, max_digits)
                if exact_text is None:
                    say(
                        f"{label}: the exact value has more than {max_digits:,} digits; "
                        "only the numeric value is given"
                    )
        number = None
        if problem is None:
            # the exact value's own float where it has one: the compiled function's float
            # arithmetic may have lost every digit (engine.float_of_exact)
            number = engine.float_of_exact(value) if value is not None else None
            if number is None:
                number = _as_float(raw[index])
            if number is None and exact_values is None:
                if complex_raw is None:
                    complex_raw = _complex_values(compiled, point.numeric, raw)
                problem = _classify_number(complex(complex_raw[index]))
            elif number is None and value is not None:
                # The float arithmetic lost what the exact value keeps (1/log(erf(7)): log
                # of 1 - 4e-23 is 0 in float64): the exact value's own float, if it has one.
                number = _float_of_exact(value)
                if number is None:
                    say(f"{label} is too large for a float64 at this point")
        if problem is not None:
            say(f"{label} {problem}")
        problems.append(problem)
        exact_out.append(exact_text)
        numeric_out.append(number)
    return Entries(exact_out if exact_values is not None else None, numeric_out, warnings)


def evaluate_batch(
    items: Sequence[tuple[str, sympy.Expr | Derivative]],
    compiled: Callable,
    symbols: Sequence[sympy.Symbol],
    columns: np.ndarray,
    owners: Sequence[int | None] | None = None,
    quiet: frozenset[int] = frozenset(),
    limits: Limits | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Evaluate entries over many points in one vectorized call.

    Returns an array of shape (points, entries) where NaN marks a null (the JSON encoder
    writes NaN and infinities as null) and warnings that summarise the nulls. The first
    few values that float64 arithmetic could not give are looked at again exactly
    (``_rescue``). Derivatives at a kink are nulled on the few rows where a jump's
    argument is zero.
    """
    n_points = columns.shape[1]
    raw = engine.call_numeric(compiled, list(columns))
    table = np.empty((n_points, len(items)), dtype=np.float64)
    for j, value in enumerate(raw):
        value = np.asarray(value)
        if np.iscomplexobj(value):
            value = np.where(value.imag == 0, value.real, np.nan)
        table[:, j] = np.broadcast_to(value.astype(np.float64, copy=False), (n_points,))
    warnings: list[str] = []
    examined = _rescue(items, symbols, columns, table, limits)
    owned = set()
    for j, owner in enumerate(owners or []):
        if owner is not None:
            rows = np.nonzero(~np.isfinite(table[:, owner]))[0]
            table[rows, j] = np.nan
            owned |= {(r, j) for r in rows.tolist()}
    kinks = _null_kinks(items, symbols, columns, table, warnings)
    bad = ~np.isfinite(table)
    if bad.any():
        table[bad] = np.nan
        bad[:, sorted(quiet)] = False
        for r, c in kinks:  # warned about already
            bad[r, c] = False
        rows, cols = np.nonzero(bad)
        shown = min(len(rows), MAX_BATCH_WARNINGS)
        for r, c in zip(rows[:shown].tolist(), cols[:shown].tolist()):
            warnings.append(f"points/{r}: {items[c][0]} " + _null_reason(
                examined.get((r, c)), (r, c) in owned))
        if len(rows) > shown:
            warnings.append(f"... and {len(rows) - shown:,} more null values")
    return table, warnings


def _null_reason(found: str | None, owned: bool) -> str:
    """Why a value over points is null: what the exact look found, or that the function
    it derives from is null there, or that float64 gave no value (not looked at)."""
    if found == "too large":
        return "is a finite real number past the float64 range"
    if found == "not real":
        return "is not a finite real number (complex, infinite or undefined)"
    if owned:
        return "is null because the function has no finite float64 value at this point"
    return ("has no finite float64 value (complex, infinite or undefined, or past the "
            "float64 range on the way: ask at this point alone for its exact value)")


def _rescue(items, symbols, columns, table, limits) -> dict[tuple[int, int], str]:
    """Give the first MAX_RESCUED values that are not finite in float64 their exact value's
    float at the point (its coordinates' exact binary values), where that is a finite real:
    float arithmetic overflows on the way to values it can hold (a softmax at logits of
    800 and 799 is inf/inf, and 0.731). Returns what was found of the cells examined and
    left null ("not real", "too large"); the time spent is bounded by RESCUE_SECONDS."""
    rows, cols = np.nonzero(~np.isfinite(table))
    examined: dict[tuple[int, int], str] = {}
    deadline = time.monotonic() + RESCUE_SECONDS
    for r, c in zip(rows[:MAX_RESCUED].tolist(), cols[:MAX_RESCUED].tolist()):
        if time.monotonic() > deadline:
            break
        item = items[c][1]
        expr = item.expr if isinstance(item, Derivative) else item
        values = {s: sympy.Rational(float(x)) for s, x in zip(symbols, columns[:, r])}
        try:
            value = engine.substitute(expr, values, limits)
        except LimitExceeded:
            continue
        if _classify_exact(value) is not None:
            examined[r, c] = "not real"
            continue
        number = engine.float_of_exact(value)
        if number is None:
            number = _float_of_exact(value)
        if number is None:
            examined[r, c] = "too large"
        else:
            table[r, c] = number
    return examined


def _null_kinks(items, symbols, columns, table, warnings) -> set[tuple[int, int]]:
    """Null the derivatives on the rows where a jump's argument is zero and the derivative
    does not exist; returns the cells examined and nulled there (their warnings are said)."""
    nulled: set[tuple[int, int]] = set()
    jumps = set()
    for _, item in items:
        if isinstance(item, Derivative):
            jumps |= set(item.spikes) | engine.jump_arguments(item.expr)
    if not jumps:
        return nulled
    jumps = sorted(jumps, key=sympy.default_sort_key)
    at_jump = np.zeros(columns.shape[1], dtype=bool)
    raw = engine.call_numeric(engine.compile_numeric(jumps, symbols), list(columns))
    for value in raw:
        at_jump |= np.broadcast_to(np.abs(np.asarray(value, dtype=np.complex128)) < 1e-12,
                                   at_jump.shape)
    rows = np.nonzero(at_jump)[0]
    derivative_columns = [c for c, (_, item) in enumerate(items) if isinstance(item, Derivative)]
    if len(rows) > MAX_KINK_ROWS:
        # Too many to look at one by one: null them all rather than report a wrong number.
        table[np.ix_(rows[MAX_KINK_ROWS:], derivative_columns)] = np.nan
        warnings.append(
            f"{len(rows) - MAX_KINK_ROWS:,} points lie on a kink and were not examined one by "
            "one: their derivatives are null"
        )
    for row in rows[:MAX_KINK_ROWS]:
        values = {s: sympy.Float(x, 17) for s, x in zip(symbols, columns[:, row])}
        for c, (label, item) in enumerate(items):
            if isinstance(item, Derivative) and engine.kink_warning(item, values, numeric=True):
                table[row, c] = np.nan
                nulled.add((int(row), c))
                if len(warnings) < MAX_BATCH_WARNINGS:
                    warnings.append(f"points/{row}: {label} does not exist at this point (kink)")
    return nulled
