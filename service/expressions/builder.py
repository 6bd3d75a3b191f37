"""Turn a syntax tree into SymPy objects from the whitelist, guarding SymPy's own work.

SymPy evaluates while it builds: ``9^9^9`` would be computed, ``sqrt`` of a 4000-digit
number factored, ``1/n + 1/m + ...`` brought over one huge denominator. So before each
power, product and sum the builder estimates the size of the numbers SymPy is about to
make and refuses, with the position, anything past the limits; after building it refuses
infinite, undefined and complex results. The walk is iterative, like the parser.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Mapping

import sympy
from sympy import S
from sympy.ntheory.factor_ import perfect_power

from service.config import Limits
from service.errors import ExpressionError, LimitExceeded
from service.expressions.functions import CONSTANTS, FUNCTIONS, Undefined
from service.expressions.literals import digit_count
from service.expressions.symbols import symbol
from service.expressions.syntax_tree import (
    Call, Name, Negate, Node, Number, Power, Product, Reciprocal, Sum,
)

_SNIPPET_LENGTH = 30
_NOT_FINITE = (S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity)


@dataclass(frozen=True)
class Parsed:
    expr: sympy.Expr
    names: frozenset[str]  # the names that became free symbols (variables)


def build(tree: Node, text: str, limits: Limits, *, constants: Mapping[str, sympy.Expr],
          variables: frozenset[str], allow_names: bool) -> Parsed:
    """Build the SymPy expression of ``tree`` (parsed from ``text``, quoted in errors)."""
    builder = _Builder(text, limits, constants, variables, allow_names)
    expr = builder.run(tree)
    return Parsed(expr, frozenset(builder.names))


class _Builder:
    def __init__(self, text: str, limits: Limits, constants: Mapping[str, sympy.Expr],
                 variables: frozenset[str], allow_names: bool):
        self.text = text
        self.limits = limits
        self.constants = constants
        self.variables = variables
        self.allow_names = allow_names
        self.names: set[str] = set()
        self.combine = {
            Number: self._number, Name: self._name, Call: self._call, Negate: self._negate,
            Reciprocal: self._reciprocal, Power: self._power_node, Sum: self._sum,
            Product: self._product,
        }

    def run(self, root: Node) -> sympy.Expr:
        """Build bottom-up with an explicit stack: children first, then their parent."""
        values: list[sympy.Expr] = []
        pending = [(root, False)]
        while pending:
            node, children_built = pending.pop()
            children = node.children
            if children and not children_built:
                pending.append((node, True))
                pending.extend((child, False) for child in reversed(children))
                continue
            args = values[len(values) - len(children):]
            del values[len(values) - len(children):]
            values.append(self.combine[type(node)](node, args))
        return values[0]

    # -- one method per kind of node --------------------------------------------------

    def _number(self, node: Number, _) -> sympy.Expr:
        return sympy.Rational(node.numerator, node.denominator)

    def _name(self, node: Name, _) -> sympy.Expr:
        name = node.name
        if name in self.constants:
            return self.constants[name]
        if name in self.variables:
            self.names.add(name)
            return symbol(name)
        if name in CONSTANTS:
            return CONSTANTS[name].value
        if self.allow_names:
            self.names.add(name)
            return symbol(name)
        raise ExpressionError(
            f"'{name}' at position {node.start} is not allowed here: only numbers, pi, e "
            "and functions of them are allowed",
            node.start,
        )

    def _call(self, node: Call, args: list[sympy.Expr]) -> sympy.Expr:
        function = FUNCTIONS[node.name]
        if function.power is not None:
            return self._power(args[0], function.power, node, node)
        try:
            with self._evaluating(node):
                value = function.build(*args)
        except Undefined as error:
            raise ExpressionError(f"{error} at position {node.start}", node.start) from None
        self._check_defined(value, node)
        self._check_float_divisors(value, node)
        return value

    def _negate(self, node: Negate, args: list[sympy.Expr]) -> sympy.Expr:
        with self._evaluating(node):
            return -args[0]

    def _reciprocal(self, node: Reciprocal, args: list[sympy.Expr]) -> sympy.Expr:
        if args[0].is_Number and args[0].is_zero:
            raise ExpressionError(f"division by zero at position {node.start}", node.start)
        return self._power(args[0], S.NegativeOne, node, node)

    def _power_node(self, node: Power, args: list[sympy.Expr]) -> sympy.Expr:
        return self._power(args[0], args[1], node, node.exponent)

    def _sum(self, node: Sum, args: list[sympy.Expr]) -> sympy.Expr:
        self._check_number_size(_sum_digits(args), node)
        with self._evaluating(node):
            return sympy.Add(*args)

    def _product(self, node: Product, args: list[sympy.Expr]) -> sympy.Expr:
        self._check_number_size(_product_size(args), node)
        radicand = sum(_radicand_digits(arg) for arg in args)
        if radicand > self.limits.max_integer_digits:
            self._refuse_root(node, f"a number of about {radicand:,.0f} digits")
        with self._evaluating(node):
            value = sympy.Mul(*args)
        self._check_exponents(value, node)
        return value

    # -- the guards ---------------------------------------------------------------------

    def _power(self, base: sympy.Expr, exponent: sympy.Expr, node: Node,
               exponent_node: Node) -> sympy.Expr:
        if exponent.is_Rational:
            if abs(exponent) > self.limits.max_exponent:
                shown = f" ({exponent})" if digit_count(exponent.p) <= 20 else ""
                raise LimitExceeded(
                    f"the exponent at position {exponent_node.start} is too large{shown}",
                    self.limits.max_exponent,
                    Limits.env_var("max_exponent"),
                    position=exponent_node.start,
                )
            self._check_number_size(_power_digits(base) * abs(exponent), node)
            if not exponent.is_Integer:
                self._check_root(base, exponent, node)
            # also for integer exponents of roots: 1/n^(1/q) is n^((q - 1)/q)/n
            radical = _radical_digits(base, exponent)
            if radical > self.limits.max_integer_digits:  # as _check_root, for what
                self._refuse_root(node, _about(radical))  # SymPy leaves under a root
        elif base.is_number and exponent.is_number:
            self._check_number_size(_numeric_power_digits(base, exponent), node)
        elif base.is_number and base.is_extended_negative:
            raise ExpressionError(
                f"{self._quote(node)} at position {node.start} raises a negative number to "
                "a variable power, which is not a real function: its derivative has the "
                "logarithm of a negative number. For an integer n, (-a)^n is "
                "cos(pi*n)*a^n",
                node.start,
            )
        with self._evaluating(node):
            value = sympy.Pow(base, exponent)
        self._check_exponents(value, node)
        self._check_defined(value, node)
        self._check_float_divisors(value, node)
        return value

    @contextmanager
    def _evaluating(self, node: Node):
        """Report SymPy failing on valid input as an error at ``node``, not a crash: it
        cannot decide some comparisons (atan(tan(2^3000)) asks whether 2^3000 - k*pi > pi/2)."""
        try:
            yield
        except Undefined:
            raise
        except (ArithmeticError, AttributeError, TypeError, ValueError) as error:
            raise ExpressionError(
                f"{self._quote(node)} at position {node.start} could not be evaluated exactly",
                node.start,
            ) from error

    def _check_number_size(self, digits: float, node: Node) -> None:
        """Refuse before SymPy computes an exact number of about ``digits`` digits."""
        if digits > self.limits.max_number_digits:
            raise LimitExceeded(
                f"{self._quote(node)} at position {node.start} would compute a number of "
                + (f"about {digits:,.0f} digits" if math.isfinite(digits)
                   else "more digits than can be counted"),
                self.limits.max_number_digits,
                Limits.env_var("max_number_digits"),
                position=node.start,
            )

    def _check_root(self, base: sympy.Expr, exponent: sympy.Rational, node: Node) -> None:
        """Refuse inexact roots of large numbers: SymPy factors them, taking seconds."""
        radicand = base if base.is_Rational else base.as_coeff_Mul()[0]
        size = digit_count(max(abs(radicand.p), radicand.q))
        if size <= self.limits.max_integer_digits:
            return
        exact = all(sympy.integer_nthroot(part, exponent.q)[1]
                    for part in (abs(radicand.p), radicand.q))
        if not exact:
            self._refuse_root(node, f"a number of {size:,} digits")

    def _refuse_root(self, node: Node, what: str) -> None:
        raise LimitExceeded(
            f"{self._quote(node)} at position {node.start} takes a root of {what}, which is "
            "not exact and too costly to simplify",
            self.limits.max_integer_digits,
            Limits.env_var("max_integer_digits"),
            position=node.start,
        )

    def _check_exponents(self, value: sympy.Expr, node: Node) -> None:
        """Refuse exponents SymPy made by combining powers: (x^10000)^10000 is x^100000000."""
        for part in value.args if value.is_Mul else (value,):
            if part.is_Pow and part.exp.is_Rational and abs(part.exp) > self.limits.max_exponent:
                raise LimitExceeded(
                    f"{self._quote(node)} at position {node.start} makes a power with an "
                    "exponent that is too large",
                    self.limits.max_exponent,
                    Limits.env_var("max_exponent"),
                    position=node.start,
                )

    def _check_defined(self, value: sympy.Expr, node: Node) -> None:
        if value.has(*_NOT_FINITE):
            problem = "is not a finite number"
        elif value.has(S.ImaginaryUnit) or _is_complex_constant(value):
            problem = "is not a real number" + _real_hint(node, value)
        else:
            return
        raise ExpressionError(f"{self._quote(node)} at position {node.start} {problem}",
                              node.start)

    def _check_float_divisors(self, value: sympy.Expr, node: Node) -> None:
        """Refuse dividing by a constant whose float64 value is 0 (log(erf(7)) is
        log(1 - 4e-23)): SymPy orders the terms of sums, to print and to sort them, by
        53-bit float values of their factors, and raises ZeroDivisionError on its inverse."""
        for part in sympy.Mul.make_args(value):
            if not (part.is_Pow and part.base.is_number and not part.base.is_Rational
                    and part.exp.is_negative):
                continue
            try:
                complex(part)
            except ZeroDivisionError:
                raise ExpressionError(
                    f"{self._quote(node)} at position {node.start} divides by "
                    f"{part.base}, which is 0 when evaluated in float arithmetic (it "
                    "rounds to 0 at 53 bits); rewrite the expression without that division",
                    node.start,
                ) from None
            except (ArithmeticError, TypeError, ValueError):
                continue

    def _quote(self, node: Node) -> str:
        text = self.text[node.start:node.end]
        return text if len(text) <= _SNIPPET_LENGTH else text[:_SNIPPET_LENGTH - 3] + "..."


# -- constants that SymPy leaves complex without an I: asin(2), (1 - pi)^(1/3), (-1)^pi ----

# Imaginary parts below this fraction of a value's size are taken for rounding noise.
_IMAGINARY_NOISE = 1e-25
# Where the principal value is complex but a real function gives what was probably meant.
_REAL_ALTERNATIVES = {
    "asin": "asin is real for -1 <= x <= 1",
    "acos": "acos is real for -1 <= x <= 1",
    "acosh": "acosh is real for x >= 1",
    "atanh": "atanh is real for -1 < x < 1",
}


def _is_complex_constant(value: sympy.Expr) -> bool:
    """Whether a constant SymPy kept in real-looking form has an imaginary part, decided
    at 30 digits. Refusing it where it is built, with its position, keeps it out of
    everything after: nested in other functions (cosh(tanh(15*atanh(-3)))) it sends SymPy's
    assumptions into seconds of evaluation, and at a point its value would be printed
    as exact. An unevaluable constant is left to the later checks."""
    if value.is_Rational or not value.is_number:
        return False
    try:
        real, imaginary = value.evalf(30).as_real_imag()
        if not (real.is_Number and imaginary.is_Number):
            return False
        return abs(imaginary) > _IMAGINARY_NOISE * max(1, abs(real))
    except (ArithmeticError, TypeError, ValueError, RecursionError):
        return False


def _real_hint(node: Node, value: sympy.Expr) -> str:
    if isinstance(node, Call) and node.name in _REAL_ALTERNATIVES:
        return f" ({_REAL_ALTERNATIVES[node.name]})"
    powers = [part for part in sympy.Mul.make_args(value) if part.is_Pow]
    if any(power.exp.is_Rational and power.exp.q % 2 == 1 for power in powers):
        return (" (a fractional power of a negative number is its principal root, which is "
                "complex; cbrt(x) is the real cube root)")
    if powers:
        return " (a negative number to a non-integer power is complex)"
    return ""


# -- size estimates, in decimal digits (log10), of the numbers SymPy would compute ----------

def _digits(number: sympy.Rational) -> float:
    largest = max(abs(number.p), number.q)
    return math.log10(largest) if largest > 1 else 0.0


def _power_digits(base: sympy.Expr) -> float:
    """Digits of the numbers a power of ``base`` computes, per unit of exponent: the
    rational coefficient and the numeric powers (sqrt(3)^10000 is 3^5000); sums are not
    expanded, so they count nothing."""
    if base.is_Rational:
        return _digits(base)
    if base.is_Pow and base.base.is_Rational and base.exp.is_Rational:
        return _digits(base.base) * abs(base.exp)
    if base.is_Mul:
        return sum(_power_digits(factor) for factor in base.args)
    return 0.0


def _product_digits(factor: sympy.Expr) -> float:
    """Like _power_digits, but a rational coefficient also multiplies into a sum's terms."""
    if factor.is_Add:
        coefficients = (term.as_coeff_Mul()[0] for term in factor.args)
        return max((_digits(c) for c in coefficients if c.is_Rational), default=0.0)
    return _power_digits(factor)


def _product_size(factors: list[sympy.Expr]) -> float:
    """Digits of the numbers a product computes. Rational factors multiply their numerators
    together and their denominators together (then reduce), so the larger of the two sums
    counts, not their total: (P)/(Q), as the printer writes a rational of two 600-digit
    parts, is a number of 600 digits, not 1,200. Any other factor counts on both sides."""
    numerator = denominator = 0.0
    for factor in factors:
        if factor.is_Rational:
            numerator += math.log10(abs(factor.p)) if abs(factor.p) > 1 else 0.0
            denominator += math.log10(factor.q) if factor.q > 1 else 0.0
        else:
            digits = _product_digits(factor)
            numerator += digits
            denominator += digits
    return max(numerator, denominator)


# Parts of a radicand up to this many digits are factored (trial division to 2^15, as SymPy
# does) to size what stays under the radical; larger ones are counted at their full size.
_FACTORED_DIGITS = 100


def _radical_digits(base: sympy.Expr, exponent: sympy.Rational) -> float:
    """Digits of the integers SymPy multiplies out when it raises the numbers of ``base`` to
    a non-integer power: for n^(p/q), the product of prime^((multiplicity*p) mod q) that
    stays under the radical (sympy's ``Integer._eval_power``). Small for a small q, but
    0.666^(0.6016^2) has the exponent 141376/390625 and multiplies out a number of
    100,000 digits, for seconds, before a radical nobody can print."""
    total = 0.0
    for factor in base.args if base.is_Mul else (base,):
        if factor.is_Rational:
            number, power = factor, exponent
        elif factor.is_Pow and factor.base.is_Rational and factor.exp.is_Rational:
            number, power = factor.base, factor.exp * exponent
        else:
            continue
        if power.is_Integer:
            continue
        numerator, denominator = abs(number.p), number.q
        if power < 0:  # (n/d)^-e is (d/n)^e
            numerator, denominator, power = denominator, numerator, -power
        # sympy's Rational._eval_power: (n/d)^(p/q) is n^(p/q) * d^(((-p) mod q)/q) / d^k
        total += _part_digits(numerator, power.p, power.q)
        total += _part_digits(denominator, -power.p % power.q, power.q)
    return total


def _part_digits(number: int, p: int, q: int) -> float:
    if number <= 1 or p == 0:
        return 0.0
    if sympy.integer_nthroot(number, q)[1]:  # an exact root: sympy's first step, no radical
        return 0.0
    if digit_count(number) > _FACTORED_DIGITS:
        return _times(math.log10(number), q)
    perfect = perfect_power(number)  # what sympy factors, in the form it does
    factors = ({int(perfect[0]): int(perfect[1])} if perfect
               else sympy.Integer(number).factors(limit=2**15))
    return _leftover_digits(factors, p, q)


def _leftover_digits(factors: dict[int, int], p: int, q: int) -> float:
    """Digits of what sympy's Integer._eval_power multiplies out for n^(p/q), n given by its
    ``factors``: each prime's leftover exponent (multiplicity*p mod q), unless it shares a
    factor with q (then it stays a separate radical), divided by the gcd of the leftovers.
    10^(P/Q) with P = Q/2 - 1 multiplies out nothing (10^(P/Q) stays as it is)."""
    leftovers, separate = {}, 0.0
    for prime, multiplicity in factors.items():
        remainder = multiplicity * p % q
        if not remainder:
            continue
        shared = math.gcd(remainder, q)
        if shared == 1:
            leftovers[prime] = remainder
        else:  # a radical of its own, which sympy works out in turn: 250^(1989/2500), from
            # the perfect power 62500 = 250^2, multiplies out 2^1989*5^967 (q shrinks: it ends)
            separate += _part_digits(prime, remainder // shared, q // shared)
    common = math.gcd(*leftovers.values()) if leftovers else 1
    return separate + sum(_times(math.log10(prime), remainder // common)
                          for prime, remainder in leftovers.items())


def _numeric_power_digits(base: sympy.Expr, exponent: sympy.Expr) -> float:
    """Digits of |base^exponent| for numbers SymPy leaves as they are (an exponent with e, pi
    or a root in it: 2^(7^(7^e))): evaluated later, in floats or mpmath, a power past every
    range overflows them (Python's float power raises, mpmath runs out of digits)."""
    try:
        size = abs(complex(base.evalf(15)))
        power = abs(complex(exponent.evalf(15)))
    except (ArithmeticError, TypeError, ValueError):  # OverflowError: too large to say
        return math.inf
    if size in (0.0, 1.0) or not math.isfinite(size * power):
        return 0.0 if size in (0.0, 1.0) else math.inf
    return power * abs(math.log10(size))


def _about(digits: float) -> str:
    return (f"a number of about {digits:,.0f} digits" if math.isfinite(digits)
            else "a number of more digits than can be counted")


def _times(digits: float, count: int) -> float:
    """``digits * count`` for a count of any size (1/10^400 is a small exponent)."""
    return digits * count if count < 2**1000 else (math.inf if digits else 0.0)


def _radicand_digits(factor: sympy.Expr) -> float:
    """Digits of the numbers under roots: SymPy multiplies sqrt(a)*sqrt(b) into sqrt(a*b)."""
    if factor.is_Pow and factor.base.is_Rational and factor.exp.is_Rational:
        return 0.0 if factor.exp.is_Integer else _digits(factor.base)
    if factor.is_Mul:
        return sum(_radicand_digits(part) for part in factor.args)
    return 0.0


def _sum_digits(terms: list[sympy.Expr]) -> float:
    """Digits of the coefficients SymPy computes when it collects like terms: adding
    fractions multiplies their denominators."""
    groups: dict[sympy.Expr, list[float]] = {}
    for value in terms:
        for term in value.args if value.is_Add else (value,):
            coefficient, rest = term.as_coeff_Mul()
            if coefficient.is_Rational:
                group = groups.setdefault(rest, [0.0, 0.0])
                group[0] += math.log10(coefficient.q) if coefficient.q > 1 else 0.0
                group[1] = max(group[1], _digits(coefficient))
    return max((denominators + largest for denominators, largest in groups.values()),
               default=0.0)
