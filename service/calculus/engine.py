"""The symbolic engine: differentiation, exact substitution and compilation to NumPy.

Every SymPy call of the calculus core that does real work goes through this module, so
that a faster exact engine takes over the heavy steps behind the same functions: SymEngine
(:mod:`service.calculus.fast`) differentiates and compiles what it supports, with results
identical to SymPy's; everything else, and everything when SymEngine is missing or
``FAST_ENGINE`` is off, is SymPy's work.

Non-smooth functions: SymPy differentiates ``abs``, ``sign``, ``heaviside``, ``relu``,
``min`` and ``max`` into ``sign``/``Heaviside`` (jumps) and ``DiracDelta`` (spikes). The
grammar has no ``DiracDelta``, so derivatives replace it by 0 (its value everywhere but at
the kink) and remember where it sat; :func:`kink_warning` then tells, at a given point,
whether the derivative really exists there.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import sympy
from sympy import DiracDelta, Heaviside, S, sign

from service.calculus.cache import freeze, memoized
from service.config import Limits
from service.errors import InvalidInput, LimitExceeded
from service.expressions import NUMERIC_FUNCTIONS, to_text
from service.expressions.custom_functions import erfc, logtanh, sigmoid, softplus
from service.expressions.substitution import substitute_exact

try:
    from service.calculus import fast, fast_exact
except ImportError:  # SymEngine not installed: SymPy does everything
    fast = fast_exact = None

_NUMERIC_MODULES = [NUMERIC_FUNCTIONS, "numpy"]

#: Whether SymEngine may take over differentiation and compilation (benchmarks turn it off).
FAST_ENGINE = fast is not None


@dataclass(frozen=True)
class Derivative:
    """A derivative with the arguments of the spikes that differentiation removed."""

    expr: sympy.Expr
    spikes: frozenset  # arguments u of the DiracDelta(u) terms replaced by 0
    variable: sympy.Symbol | None = None  # the last variable differentiated by
    # True when ``expr`` is known to hold no jump (sign, Heaviside): SymEngine's results
    smooth: bool = field(default=False, compare=False)


def _without_spikes(expr: sympy.Expr, spikes: frozenset, variable) -> Derivative:
    found = set(spikes)
    if expr.has(DiracDelta):
        for node in expr.atoms(DiracDelta):
            found.add(node.args[0])
        expr = expr.replace(lambda e: isinstance(e, DiracDelta), lambda e: sympy.S.Zero)
    return Derivative(expr, frozenset(found), variable)


class _RealAbs(sympy.Function):
    """``abs(u)`` differentiated as on the reals: sign(u)*u'."""

    def fdiff(self, argindex=1):
        return sign(self.args[0])


class _RealSign(sympy.Function):
    """``sign(u)`` differentiated as on the reals: 2*DiracDelta(u)*u' (0 but at u = 0)."""

    def fdiff(self, argindex=1):
        return 2 * DiracDelta(self.args[0])


_ON_THE_REALS = {sympy.Abs: _RealAbs, sign: _RealSign}
_BACK = {_RealAbs: sympy.Abs, _RealSign: sign}


def _diff(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """``sympy.diff``, with abs and sign of an argument SymPy cannot tell real (log(x), x may
    be negative) differentiated as on the reals, where every value the service gives is.
    SymPy leaves ``Derivative(sign(log(x)), x)`` unevaluated, and writes the derivative of
    ``abs(asin(x))`` with ``re`` and ``im``: neither can be printed or compiled."""
    if not expr.has(sympy.Abs, sign):
        return sympy.diff(expr, symbol)
    swapped = expr.replace(
        lambda e: type(e) in _ON_THE_REALS and e.args[0].is_extended_real is not True,
        lambda e: _ON_THE_REALS[type(e)](e.args[0]))
    derived = sympy.diff(swapped, symbol)
    return derived.replace(lambda e: type(e) in _BACK, lambda e: _BACK[type(e)](e.args[0]))


def differentiate(expr: sympy.Expr | Derivative, *wrt: sympy.Symbol) -> Derivative:
    """Differentiate once by each symbol of ``wrt`` in turn (``x, x`` is the second derivative)."""
    return memoized("differentiate", (expr, wrt), lambda: _differentiate(expr, wrt))


def _differentiate(expr: sympy.Expr | Derivative, wrt) -> Derivative:
    current = expr if isinstance(expr, Derivative) else Derivative(expr, frozenset())
    for symbol in wrt:
        if FAST_ENGINE:
            try:
                derived = fast.differentiate(current.expr, symbol)
            except fast.Unsupported:
                pass
            else:  # SymEngine's parts have no DiracDelta to remove, and no jumps
                current = Derivative(derived, current.spikes, symbol, smooth=True)
                continue
        current = _without_spikes(_diff(current.expr, symbol), current.spikes, symbol)
    return current


def gradient(expr: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> list[Derivative]:
    return [differentiate(expr, s) for s in symbols]


def hessian(expr: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> list[list[Derivative]]:
    """The matrix of second partials; each is computed once and mirrored (Schwarz)."""
    first = gradient(expr, symbols)
    n = len(symbols)
    rows: list[list[Derivative | None]] = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            rows[i][j] = rows[j][i] = differentiate(first[i], symbols[j])
    return rows  # type: ignore[return-value]


def substitute(expr: sympy.Expr, values: dict[sympy.Symbol, sympy.Expr],
               limits: Limits | None = None) -> sympy.Expr:
    """Exact value of ``expr`` with symbols replaced (no floats, no evalf).

    ``nan`` where ``min``/``max`` get an argument that is not a real number at the point
    (``min(log(x), 4)`` at x = 0 or -1): SymPy's Min/Max refuse to compare it, and the value
    is undefined there; arguments that are real numbers SymPy cannot compare are compared
    at 30 digits (``_decide``). With ``limits``, a number past them is refused (LimitExceeded)
    before SymPy computes it (``x^y`` at x = y = 10^99; see
    ``service.expressions.substitution``).
    """
    try:
        return substitute_exact(expr, values, limits)
    except (TypeError, ValueError):
        pass
    if not expr.has(sympy.Min, sympy.Max):
        return sympy.nan
    try:  # SymPy could not compare the arguments of a min or max: decide them at 30 digits
        swapped = expr.replace(lambda e: type(e) in _UNDECIDED,
                               lambda e: _UNDECIDED[type(e)](*e.args))
        value = substitute_exact(swapped, values, limits)
        return value.replace(lambda e: type(e) in _DECIDING, _decide)
    except (TypeError, ValueError, ArithmeticError):
        return sympy.nan


class _UndecidedMin(sympy.Function):
    """min(...) whose arguments are compared only once they are numbers (``_decide``)."""


class _UndecidedMax(sympy.Function):
    """max(...) whose arguments are compared only once they are numbers (``_decide``)."""


_UNDECIDED = {sympy.Min: _UndecidedMin, sympy.Max: _UndecidedMax}
_DECIDING = {_UndecidedMin: min, _UndecidedMax: max}


def _decide(node: sympy.Function) -> sympy.Expr:
    """The smallest or largest of the number arguments of ``node``, compared at 30 digits
    with the precision SymPy's comparisons lack: 1 - sigmoid(300) (5.1e-131) against 0
    raised "not comparable", and max(1 - sigmoid(x), 0) at 300 was called undefined. A
    tie to that precision, or an argument that is not real, is undefined (nan)."""
    keyed = []
    for arg in node.args:
        if not arg.is_number:
            raise ValueError("an argument with a symbol")
        value = complex(arg.evalf(30, maxn=3000, strict=True))
        if value.imag != 0:
            raise ValueError("an argument that is not real")
        keyed.append((value.real, arg))
    best, chosen = _DECIDING[type(node)](keyed, key=lambda pair: pair[0])
    if len({arg for value, arg in keyed if value == best}) > 1:
        raise ValueError("a tie at 30 digits")
    return chosen


def compile_numeric(exprs, symbols: Sequence[sympy.Symbol]) -> Callable:
    """Compile ``exprs`` into one NumPy function of ``symbols``.

    ``exprs`` is an expression or a (nested) list of them; the function returns the same
    shape (a float, a list, a list of lists).

    Arguments are dummified so that variable names which are Python keywords (``lambda``)
    or builtins compile safely; common subexpressions are computed once.
    """
    return memoized("compile", (freeze(exprs), tuple(symbols)),
                    lambda: _compile_numeric(exprs, symbols))


def _compile_numeric(exprs, symbols: Sequence[sympy.Symbol]) -> Callable:
    exprs = _within_float64(exprs)
    if FAST_ENGINE:
        try:
            return fast.compile_numeric(exprs, symbols)
        except fast.Unsupported:
            pass
    try:
        # docstring_limit=0: no str() of the whole expression for the docstring (time, and
        # SymPy's printing order can fail on constants: builder._check_float_divisors)
        return sympy.lambdify(list(symbols), exprs, modules=_NUMERIC_MODULES, cse=True,
                              dummify=True, docstring_limit=0)
    except (SyntaxError, RecursionError):  # the generated source nests past Python's limits
        raise InvalidInput(
            None, "the expression is nested too deeply to be evaluated numerically; "
                  "simplify it (fewer nested powers or calls)"
        ) from None
    except (ValueError, TypeError, NotImplementedError) as error:  # a part NumPy has no code for
        raise InvalidInput(
            None, f"the result cannot be evaluated numerically ({error}); please report "
                  "the expression"
        ) from None


# From 2^1024 on, a Python int has no float64 (OverflowError, where NumPy would say inf).
_NO_FLOAT64 = 2**1024


def _within_float64(exprs):
    """``exprs`` as float64 code should compute them: the exact numbers a float64 cannot
    hold written as floats (inf, 0.0), and logistic and tanh parts in their stable forms
    (:func:`_stable_forms`).

    lambdify writes an exact number as Python integers (3^2000 as its 955 digits), and a
    float times such an integer raises OverflowError, at every call: the value at any point
    of x*3^2000 would be a crash instead of an infinity with a warning.
    """
    if isinstance(exprs, (list, tuple)):
        return [_within_float64(e) for e in exprs]
    if not isinstance(exprs, sympy.Basic):  # a plain number
        return exprs
    atoms = exprs.atoms(sympy.Rational, sympy.Pow, sympy.exp, sigmoid, sympy.tanh,
                        sympy.erf)  # one walk for all
    huge = {number for number in atoms if number.is_Rational
            and (abs(number.p) >= _NO_FLOAT64 or number.q >= _NO_FLOAT64)}
    # Powers of numbers SymPy keeps as they are (2^(1000*e)): the compiled code would raise
    # an OverflowError computing them in Python floats.
    huge |= {power for power in atoms
             if power.is_Pow and power.is_number and not _fits_float64(power)}
    if huge:
        exprs = exprs.xreplace({number: _float64(number) for number in huge})
    exprs = _fold_constants(exprs)
    if any(isinstance(atom, (sympy.exp, sigmoid, sympy.tanh, sympy.erf)) for atom in atoms):
        exprs = _stable_forms(exprs)
    return exprs


def _fold_constants(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with each largest constant part that is not a plain number (tan(cosh(cosh(5))),
    sin(10^15 + 1/3)) replaced by its correctly rounded float (:func:`float_of_exact`):
    float64 code would compute it from rounded parts, and cosh(cosh(5)) is 8.5e31, whose
    tangent in float64 is noise (0.24 where it is -1.69). A part with no float64 (past its
    range) is left to the compiled code."""
    symbolic: dict[sympy.Basic, bool] = {}
    for node in sympy.postorder_traversal(expr):
        if node not in symbolic:
            symbolic[node] = node.is_Symbol or any(symbolic[a] for a in node.args)

    def fold(e):
        if not symbolic[e]:
            if e.is_Number or not e.args:
                return e
            number = float_of_exact(e)
            # not a float below the normal range: exp(-exp(8)) is 0.0 in float64, and
            # exp(x + exp(8))*0.0 would be 0, where the compiled code's inf*0 is a null
            # that the batch's exact look (evaluation._rescue) answers: exp(x)
            if number is None or abs(number) < sys.float_info.min:
                return e
            return sympy.Float(number)
        if not e.args:
            return e
        args = [fold(a) for a in e.args]
        return e if all(a is b for a, b in zip(args, e.args)) else e.func(*args)

    if not any(not symbolic[n] and n.args for n in symbolic):
        return expr
    folded = fold(expr)
    # SymPy takes a float out of an exponential's sum (exp(x + exp(8)) becomes
    # 1.0e1294*exp(x)): a float past float64 is left unfolded
    if any(not math.isfinite(float(f)) for f in folded.atoms(sympy.Float)):
        return expr
    return folded


def _stable_forms(expr: sympy.Expr) -> sympy.Expr:
    """The float64 form of machine learning's logistic, tanh and erf expressions, equal to
    them but free of cancellation and overflow: 1 - tanh(u)^2 (tanh's derivative) is
    4*sigmoid(2*u)*sigmoid(-2*u), 1 + erf(u) (in GELU) is erfc(-u) (``one_minus`` for all
    of these), 1 - sigmoid(u) is sigmoid(-u), log(sigmoid(u)) is
    -softplus(-u), log(1 + exp(u)) is softplus(u), log(tanh(u)) is logtanh(u) (and
    log(-tanh(u)), SymPy's log(tanh(-u)), logtanh(-u)), 1/(1 + exp(u))^k is sigmoid(-u)^k
    and exp(m*u)/(1 + exp(u))^k is sigmoid(u)^m*sigmoid(-u)^(k-m). Without them a
    cross-entropy loss at a logit of 40 is log(1 - 1.0) = -inf, a null where the value is
    -40 (at 20 it loses 9 digits to cancellation), and the derivative of log(1 + exp(x))
    at 1000 is inf/inf; 1 - tanh(14)^2 keeps 4 of its 16 digits, log(tanh(20)) is 0 for
    -8.5e-18. Only the compiled code sees these forms."""
    def one_minus(e):
        """c - c*g(u) and c + c*g(u) for a number c, in forms that neither cancel nor
        overflow: 1 - sigmoid(u) is sigmoid(-u); 1 -/+ tanh(u) is 2*sigmoid(-/+2*u) and
        1 - tanh(u)^2 is 4*sigmoid(2*u)*sigmoid(-2*u); 1 -/+ erf(u) is erfc(+/-u) and
        1 - erf(u)^2 is erfc(u)*erfc(-u). SymPy distributes a number over a sum, so the
        derivative of 3*tanh(x) is 3 - 3*tanh(x)^2: c is any number of the sum."""
        if not e.is_Add:
            return None
        c = next((a for a in e.args if a.is_Number), None)  # SymPy adds numbers up: one
        if c is None or c.is_zero:
            return None
        for term in e.args:
            ratio, part = term.as_coeff_Mul()
            ratio = ratio / c
            if term is c or ratio not in (1, -1):
                continue
            minus = ratio == -1
            squared = part.is_Pow and part.exp == 2
            g = part.base if squared else part
            if not isinstance(g, (sigmoid, sympy.tanh, sympy.erf)) or squared and not minus:
                continue
            u = g.args[0]
            if isinstance(g, sigmoid):
                if squared or not minus:  # 1 + sigmoid(u) neither cancels nor overflows
                    continue
                replacement = sigmoid(-u)
            elif isinstance(g, sympy.tanh):
                replacement = (4 * sigmoid(2 * u) * sigmoid(-2 * u) if squared
                               else 2 * sigmoid(-2 * u if minus else 2 * u))
            else:  # our erfc: SymPy's would write erfc(-u) as 2 - erfc(u), which cancels
                replacement = erfc(u) * erfc(-u) if squared else erfc(u if minus else -u)
            rest = [a for a in e.args if a is not term and a is not c]
            return sympy.Add(c * replacement, *rest)
        return None

    def exponent_of_one_plus_exp(e):
        """u where e is 1 + exp(u), else None."""
        if not (e.is_Add and len(e.args) == 2 and S.One in e.args):
            return None
        exponential = next((a for a in e.args if isinstance(a, sympy.exp)), None)
        return None if exponential is None else exponential.args[0]

    def reciprocal(e):
        """1/(1 + exp(u))^k, an integer k >= 1, is sigmoid(-u)^k."""
        u = exponent_of_one_plus_exp(e.base) if e.exp.is_Integer and e.exp < 0 else None
        return None if u is None else sigmoid(-u) ** -e.exp

    def exp_times_sigmoid(e):
        """exp(-m*v)*sigmoid(v)^k, for integers 1 <= m <= k, is sigmoid(-v)^m*sigmoid(v)^(k-m)
        (the reciprocal above, made first, times the exp(u)^m of exp(u)^m/(1 + exp(u))^k)."""
        factors = list(e.args)
        for factor in factors:
            base, k = (factor.base, factor.exp) if factor.is_Pow else (factor, S.One)
            if not (isinstance(base, sigmoid) and k.is_Integer and k > 0):
                continue
            unit, part = sympy.factor_terms(-base.args[0]).as_coeff_Mul()
            for exponential in factors:
                if not isinstance(exponential, sympy.exp):
                    continue
                times, other = sympy.factor_terms(exponential.args[0]).as_coeff_Mul()
                m = times / unit
                if other == part and m.is_Integer and 1 <= m <= k:
                    factors.remove(exponential)
                    factors.remove(factor)
                    return sympy.Mul(*factors, sigmoid(-base.args[0]) ** m, base ** (k - m))
        return None

    def stable(e):
        if e.is_Add:
            return one_minus(e) or e
        if e.is_Pow:
            return reciprocal(e) or e
        if e.is_Mul:
            return exp_times_sigmoid(e) or e
        if isinstance(e, sympy.log):
            u = e.args[0]
            if isinstance(u, sigmoid):
                return -softplus(-u.args[0])
            exponent = exponent_of_one_plus_exp(u)
            if exponent is not None:
                return softplus(exponent)
            sign, g = u.as_coeff_Mul()  # -1 for tanh(-v), which SymPy writes -tanh(v)
            if isinstance(g, sympy.tanh) and sign in (1, -1) and not u.is_number:
                return logtanh(sign * g.args[0])  # constants: folded, or left as written
        return e

    return expr.replace(lambda e: e.is_Add or e.is_Mul or e.is_Pow or isinstance(e, sympy.log),
                        stable)


def _fits_float64(number: sympy.Expr) -> bool:
    try:
        value = complex(number.evalf(17))
    except (ArithmeticError, TypeError, ValueError):
        return False
    return all(abs(part) < 1e308 for part in (value.real, value.imag))


def _float64(number: sympy.Expr) -> sympy.Expr:
    """The float64 of a number: inf, -inf, a float or 0.0 (no OverflowError)."""
    try:
        value = float(sympy.re(number).evalf(17))  # mpmath: inf or 0.0, not OverflowError
    except (ArithmeticError, TypeError, ValueError):
        return sympy.nan
    if value == float("inf"):
        return sympy.oo
    if value == float("-inf"):
        return -sympy.oo
    return sympy.Float(value)


def float_of_exact(value: sympy.Expr) -> float | None:
    """The float64 of the exact finite real ``value`` as the express lane computes it: a
    rational rounded correctly, small numbers in double precision, others with MPFR in
    enough bits that two evaluations agree (``fast_exact.float_value``). None where SymEngine
    cannot tell (then the compiled function's float stands), or past the float64 range.

    Float arithmetic on rounded parts can lose every digit: at x = 64, ``x*cos(cosh(x))``
    compiled gives 46.02 (cosh(64) is 3.1e27, off by 1e11 in float64), its exact value
    ``64*cos(cosh(64))`` is -34.7355...
    """
    if value.is_Rational:
        try:
            return int(value.p) / int(value.q)
        except OverflowError:
            return None
    if fast_exact is None or not FAST_ENGINE:
        return None
    try:
        return fast_exact.float_value(fast.to_symengine(value, numeric=True))
    except (fast.Unsupported, RuntimeError, TypeError, ValueError, ArithmeticError):
        return None


def is_zero_at(expr: sympy.Expr, values: dict, numeric: bool,
               limits: Limits | None = None) -> bool:
    """Whether ``expr`` vanishes at the point (exactly, or to float64 precision)."""
    value = substitute(expr, values, limits)
    if not numeric:
        return bool(value.is_zero)
    try:
        return abs(complex(value.evalf(30))) < 1e-12
    except (TypeError, ValueError):
        return False


def jump_arguments(expr: sympy.Expr) -> set:
    return {node.args[0] for node in expr.atoms(sign, Heaviside)}


def kink_warning(derivative: Derivative, values: dict, numeric: bool = False,
                 limits: Limits | None = None) -> str | None:
    """Why ``derivative`` does not exist at the point, or None when it does.

    It does not exist where a removed spike sits (``DiracDelta(u)`` with u = 0), or where a
    jump (``sign(u)``, ``heaviside(u)``) sits at u = 0 and the two one-sided limits of the
    derivative differ. ``x*abs(x)`` at 0 thus has a derivative (both sides give 0) while
    ``abs(x)`` at 0 does not. With ``limits``, exact values whose numbers would be too
    large to compute are decided to 30 digits instead.
    """
    if numeric or limits is None:
        return _kink_warning(derivative, values, numeric, None)
    try:
        return _kink_warning(derivative, values, False, limits)
    except LimitExceeded:
        return _kink_warning(derivative, {s: v.evalf(30) for s, v in values.items()}, True,
                             None)


def _kink_warning(derivative: Derivative, values: dict, numeric: bool,
                  limits: Limits | None) -> str | None:
    for u in derivative.spikes:
        if is_zero_at(u, values, numeric, limits):
            return f"does not exist where {to_text(u)} = 0 (the function has a jump there)"
    if derivative.smooth:
        return None
    at_kink = [u for u in jump_arguments(derivative.expr)
               if is_zero_at(u, values, numeric, limits)]
    if not at_kink:
        return None
    where = ", ".join(f"{to_text(u)} = 0" for u in at_kink)
    # Which side of each jump lies in the + direction of the variable: sign of du/dv.
    directions = {}
    for u in at_kink:
        slope = (substitute(sympy.diff(u, derivative.variable), values, limits)
                 if derivative.variable is not None else sympy.S.Zero)
        direction = _sign_of(slope, numeric)
        if direction is None:
            return f"may not exist where {where} (a kink of the function)"
        directions[u] = direction
    sides = []
    for side in (-1, 1):
        mapping = {}
        for u, direction in directions.items():
            positive = side * direction > 0
            mapping[sign(u)] = sympy.Integer(1 if positive else -1)
            mapping[Heaviside(u)] = sympy.Integer(1 if positive else 0)
        sides.append(substitute(derivative.expr.xreplace(mapping), values, limits))
    left, right = sides
    same = (left - right).is_zero if not numeric else _numerically_equal(left, right)
    if same:
        return None
    return f"does not exist where {where} (the one-sided derivatives differ)"


def _sign_of(value: sympy.Expr, numeric: bool) -> int | None:
    """+1 or -1, or None when zero or unknown."""
    try:
        number = float(value.evalf(30)) if numeric else None
    except (TypeError, ValueError):
        return None
    if numeric:
        return None if abs(number) < 1e-12 else (1 if number > 0 else -1)
    if value.is_positive:
        return 1
    if value.is_negative:
        return -1
    return None


def _numerically_equal(a: sympy.Expr, b: sympy.Expr) -> bool:
    try:
        return abs(complex((a - b).evalf(30))) < 1e-9
    except (TypeError, ValueError):
        return False


def call_numeric(function: Callable, args: Sequence) -> list:
    """Call a compiled function with floating-point errors silenced (callers check finiteness)."""
    with np.errstate(all="ignore"):
        return function(*args)
