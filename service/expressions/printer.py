"""Print SymPy expressions in the grammar (text that parses back) and in LaTeX.

``to_text`` is the inverse of ``parse``: ``^`` for powers, the grammar's function names
(``abs``, never ``Abs``), ``e`` for Euler's number and floats as their exact decimal. A part
the grammar cannot say (Piecewise, DiracDelta, Derivative, I, infinities) raises
UnprintableExpression instead of printing text that would not parse back.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from contextlib import contextmanager
from typing import Collection

import sympy
from sympy import Basic, S
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

from service.expressions.functions import FUNCTIONS
from service.expressions.literals import digits_of
from service.expressions.symbols import NAME_PATTERN

# SymPy class -> the grammar's name for it (aliases such as ln print as log)
_TEXT_NAMES = {info.sympy_class: info.name for info in FUNCTIONS.values() if info.sympy_class}
_DESCRIPTIONS = {
    S.ImaginaryUnit: "the imaginary unit I",
    S.ComplexInfinity: "complex infinity (zoo)",
    S.NaN: "an undefined value (nan)",
    S.Infinity: "infinity",
    S.NegativeInfinity: "-infinity",
}
# longest exact decimal printed for a float: the default limit on the digits of a literal
_FLOAT_DIGITS = 100
# names SymPy's LaTeX printer renders well (x, x_1, alpha, beta_2); others are escaped
_LATEX_FRIENDLY_NAME = re.compile(r"[A-Za-z]+[0-9]*(?:_[A-Za-z0-9]+)*")


class UnprintableExpression(Exception):
    """The expression has a part the grammar cannot write, such as Piecewise or DiracDelta."""

    def __init__(self, message: str, part: Basic | None = None):
        super().__init__(message)
        self.part = part

    @classmethod
    def outside_grammar(cls, part: Basic) -> UnprintableExpression:
        return cls(f"{_describe(part)} cannot be written in the expression syntax", part)


def to_text(expr: sympy.Expr, names: Collection[str] = (), *,
            plain_numbers: bool = False) -> str:
    """Write ``expr`` in the grammar; the text parses back (with the same variables) to it.

    ``names`` are further names the text will be read with (the request's variables): a
    variable ``e`` or ``pi`` hides the constant even where ``expr`` does not use it.
    Integers of more than 50 digits are written ``(a*10^50 + b)``, since the parser refuses
    literals of 100 digits or more; ``plain_numbers`` writes all their digits instead (exact
    values, to be read rather than sent back).
    """
    with _too_deep_is_unprintable():
        taken = _free_names(expr).union(names)
        return _TextPrinter(taken, plain_numbers).doprint(expr)


# The longest integer literal written: results can hold coefficients of hundreds of digits
# (x/9112^-91 is 9112^91*x, 361 digits) and the parser refuses literals past 99 digits
# (GRADIENT_MAX_INTEGER_DIGITS), so longer integers are written in Horner form,
# ((a*10^50 + b)*10^50 + c), which it reads back to the same number as long as the number
# has at most GRADIENT_MAX_NUMBER_DIGITS digits.
_LONGEST_LITERAL = 50


def _integer_text(number: int, plain: bool) -> str:
    digits = digits_of(abs(number))
    if plain or len(digits) <= _LONGEST_LITERAL:
        return digits_of(number)
    head = len(digits) % _LONGEST_LITERAL or _LONGEST_LITERAL
    text, shift = digits[:head], 0
    for start in range(head, len(digits), _LONGEST_LITERAL):
        chunk = digits[start:start + _LONGEST_LITERAL].lstrip("0")
        shift += _LONGEST_LITERAL
        if chunk:  # runs of zeros fold into one power of 10
            text, shift = f"({text}*10^{shift} + {chunk})", 0
    if shift:
        text = f"({text}*10^{shift})"
    return "-" + text if number < 0 else text


# Free names of printed sub-expressions: ``free_symbols`` walks the whole tree at every call,
# which costs as much as printing for the entries of a large Hessian that share one big sum.
_FREE_NAMES_ENTRIES = 50_000
_free_names_of: dict[Basic, frozenset[str]] = {}


def _free_names(expr: Basic) -> frozenset[str]:
    """The names of the symbols in ``expr`` (the grammar binds no variables)."""
    found = _free_names_of.get(expr)
    if found is None:
        if expr.is_Symbol:
            found = frozenset((expr.name,))
        elif not expr.args:
            found = frozenset()
        else:
            found = frozenset().union(*[_free_names(arg) for arg in expr.args])
        if len(_free_names_of) >= _FREE_NAMES_ENTRIES:
            _free_names_of.clear()
        _free_names_of[expr] = found
    return found


def to_latex(expr: sympy.Expr) -> str:
    """Write ``expr`` in LaTeX (SymPy's printer; the custom functions bring their own)."""
    with _too_deep_is_unprintable():
        return _LatexPrinter().doprint(expr)


@contextmanager
def _too_deep_is_unprintable():
    """SymPy's printers recurse, a few frames per level of nesting: an expression deeper
    than the interpreter's recursion limit allows is reported, not crashed on."""
    try:
        yield
    except RecursionError:
        raise UnprintableExpression("the expression is nested too deeply to print") from None
    except OverflowError:  # SymPy orders terms by their values: mpmath ran out of digits
        raise UnprintableExpression("it holds a number too large to print") from None


# Printed sub-expressions, kept for the process: a Hessian's entries or a gradient's
# partials share large parts (the same sum in every denominator), which SymPy's printers
# would otherwise order and print again for every entry (most of the cost of a large
# Hessian; see README "Performance"). A node's text depends only on the node and the
# printer's fixed settings (and, for text, on how e and pi are written), so it is reused.
_PRINTED_ENTRIES = 50_000
_printed: OrderedDict[tuple, str] = OrderedDict()


class _ReusesPrintedParts:
    """Mixin for a SymPy printer: remember the text of every compound node printed."""

    def _memo_key(self) -> tuple:
        return (type(self),)

    def _print(self, expr, **kwargs):
        if kwargs or not isinstance(expr, Basic) or not expr.args:
            return super()._print(expr, **kwargs)
        key = (self._memo_key(), expr)
        text = _printed.get(key)
        if text is None:
            text = super()._print(expr)
            _printed[key] = text
            if len(_printed) > _PRINTED_ENTRIES:
                _printed.popitem(last=False)
        return text


class _TextPrinter(_ReusesPrintedParts, StrPrinter):
    def __init__(self, taken_names: set[str], plain_numbers: bool = False):
        super().__init__()
        # A variable named e or pi hides the constant, so write the constant another way.
        self._e = "exp(1)" if "e" in taken_names else "e"
        self._pi = "acos(-1)" if "pi" in taken_names else "pi"
        self._plain = plain_numbers

    def _memo_key(self) -> tuple:
        return (type(self), self._e, self._pi, self._plain)

    def _print(self, expr, **kwargs):
        """Admit only the grammar's parts: a whitelist checked at every node."""
        if isinstance(expr, Basic):
            name = _TEXT_NAMES.get(type(expr))
            if name is not None:
                return self._print_call(name, expr)
            if not _is_printable(expr):
                raise UnprintableExpression.outside_grammar(expr)
        return super()._print(expr, **kwargs)

    def _print_call(self, name: str, expr: Basic) -> str:
        # Heaviside's pargs leave out its default value at 0 (1/2), the grammar's heaviside
        args = expr.pargs if isinstance(expr, sympy.Heaviside) else expr.args
        if isinstance(expr, sympy.Heaviside) and len(args) != 1:
            raise UnprintableExpression.outside_grammar(expr)
        printed = []
        for arg in args:  # a loop, not a comprehension: one stack frame less per level
            printed.append(self._print(arg))
        return f"{name}({', '.join(printed)})"

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.base, expr.exp
        if exponent is S.Half:
            return f"sqrt({self._print(base)})"
        if isinstance(exponent, sympy.Rational) and (exponent.p, exponent.q) == (-1, 2):
            return f"1/sqrt({self._print(base)})"
        level = precedence(expr)
        if exponent is S.NegativeOne:
            return "1/" + self.parenthesize(base, level, strict=False)
        return (self.parenthesize(base, level, strict=False) + "^"
                + self.parenthesize(exponent, level, strict=False))

    def _print_Exp1(self, expr):
        return self._e

    def _print_Pi(self, expr):
        return self._pi

    def _print_Integer(self, expr):
        return _integer_text(expr.p, self._plain)

    def _print_Rational(self, expr):
        if expr.q == 1:
            return _integer_text(expr.p, self._plain)
        return f"{_integer_text(expr.p, self._plain)}/{_integer_text(expr.q, self._plain)}"

    def _print_Float(self, expr):
        """The exact value of the binary float: its decimal (0.1 prints all 55 digits), or
        for very large or small floats, whose decimals are too long to parse back, the
        mantissa times a power of 2."""
        sign, mantissa, exponent, _ = expr._mpf_
        if mantissa == 0:
            if exponent != 0:  # mpmath's inf and nan
                raise UnprintableExpression.outside_grammar(expr)
            return "0"
        if exponent >= 0:
            digits = digits_of(mantissa << exponent)
            significant = len(digits)
        else:
            places = -exponent  # mantissa * 2^-places = mantissa * 5^places / 10^places
            scaled = digits_of(mantissa * 5**places)
            significant = len(scaled)
            scaled = scaled.rjust(places + 1, "0")
            digits = scaled[:-places] + "." + scaled[-places:]
        if significant > _FLOAT_DIGITS:
            digits = f"({mantissa}{'*' if exponent >= 0 else '/'}2^{abs(exponent)})"
        return ("-" if sign else "") + digits

    def _print_Symbol(self, expr):
        return expr.name


def _is_printable(expr: Basic) -> bool:
    if isinstance(expr, (sympy.Add, sympy.Mul, sympy.Pow, sympy.Rational, sympy.Float)):
        return True
    if isinstance(expr, sympy.Symbol):
        return bool(NAME_PATTERN.fullmatch(expr.name)) and expr.name not in FUNCTIONS
    return expr is S.Pi or expr is S.Exp1


def _describe(part: Basic) -> str:
    if part in _DESCRIPTIONS:
        return _DESCRIPTIONS[part]
    if isinstance(part, sympy.Symbol):
        return f"the name {part.name!r}"
    shown = str(part)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{type(part).__name__} ({shown})"


class _LatexPrinter(_ReusesPrintedParts, LatexPrinter):
    def _print_Symbol(self, expr, style="plain"):
        if _LATEX_FRIENDLY_NAME.fullmatch(expr.name):
            return super()._print_Symbol(expr, style)
        return r"\mathit{" + expr.name.replace("_", r"\_") + "}"
