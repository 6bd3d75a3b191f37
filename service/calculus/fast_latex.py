"""LaTeX of a SymEngine expression, written straight from the SymEngine tree.

``to_latex(expr)`` is ``service.expressions.to_latex(fast.to_sympy(expr))``, byte for byte,
without building SymPy objects or running SymPy's LatexPrinter (about 1 ms per partial
derivative). SymPy's rules (sympy/printing/latex.py, default settings) are replicated on the
node kinds of :mod:`fast`: numbers (``\\frac{p}{q}``), symbols (SymPy's own text per name:
Greek letters, subscripts, ``\\mathit``), pi, e, sums (``_print_Add``), products
(``_print_Mul``: ``fraction(expr, exact=True)`` into ``\\frac``, ``\\cdot`` between two
numbers, brackets around sums), powers (``_print_Pow``: roots, ``\\frac{1}{...}``, SymEngine's
``E**u`` as SymPy's ``exp(u)``, ``\\sin^{2}{\\left(x \\right)}``) and the smooth functions,
with SymPy's order of terms and factors from :mod:`fast_order`.

Precondition: ``expr`` is in SymPy's canonical form (``fast.to_symengine(fast.to_sympy(expr))
== expr``). Forms SymPy would write otherwise that can be spotted (``2*(x + y)``, which SymPy
distributes; ``sin(1 - x)``, which SymPy writes ``-sin(x - 1)``) raise
:class:`fast.Unsupported`, as does any other node kind: the caller prints with SymPy.

Printed nodes are remembered (bounded): the partials of a gradient share most of their parts.
The tree is walked through ``fast_order.node`` (whose args are built once), so the memos are
hit by identity rather than by SymEngine's slower structural comparison.
"""

from __future__ import annotations

import re

import symengine as se

from service.calculus import fast, fast_order
from service.calculus.fast_order import (ADD, EXP, FUNCTION, INTEGER, MUL, PI, POW, RATIONAL,
                                         SIGN_EXTRACTING, SYMBOL, node)
from service.calculus.fast_order import E as EXP1
from service.expressions import symbol
from service.expressions import to_latex as sympy_latex

__all__ = ["to_latex", "clear_memo"]

# SymPy's _hprint_Function: LaTeX's own operators, \operatorname for the others
_FUNCTION_NAMES = {
    "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "sec": r"\sec", "csc": r"\csc",
    "cot": r"\cot", "sinh": r"\sinh", "cosh": r"\cosh", "tanh": r"\tanh",
    "asin": r"\operatorname{asin}", "acos": r"\operatorname{acos}",
    "atan": r"\operatorname{atan}", "asinh": r"\operatorname{asinh}",
    "atanh": r"\operatorname{atanh}", "erf": r"\operatorname{erf}", "log": r"\log",
}
# The grammar's functions, as their _latex writes them (custom_functions._latex_call)
_CUSTOM_NAMES = {"sigmoid": r"\sigma", "softplus": r"\operatorname{softplus}"}
_DIGITS = frozenset("0123456789")
_FRACTION = re.compile(r"\\frac{\d+}{\d+}")

# A factor of a product as fraction() files it and convert_args writes it, a tuple:
# (goes below: the denominator, written inverted; its text alone; its text among other
# factors, a sum in brackets; whether that ends with a number; whether it starts with one)
_Factor = tuple
_BELOW, _TEX, _JOINED, _ENDS_NUMBER, _STARTS_NUMBER = range(5)
_E_BELOW = (True, "e", "e", False, False)  # exp(-1) in a denominator


def _number_factor(digits: str) -> _Factor:
    return False, digits, digits, True, True


def _ends_with_number(text: str) -> bool:
    """sympy.printing.latex._between_two_numbers_p[0]: a digit, then only "}" and " "."""
    return text.rstrip("} ")[-1:] in _DIGITS


def _starts_with_number(text: str) -> bool:
    """_between_two_numbers_p[1]: a digit, or \\frac{digits}{digits}."""
    if text[:1] in _DIGITS:
        return True
    return text.startswith(r"\frac{") and _FRACTION.match(text) is not None


_MEMO_ENTRIES = 50_000
_printed: dict[se.Basic, str] = {}
_negated: dict[se.Basic, str] = {}   # text of -term for the terms of sums ("" if positive)
_factors: dict[se.Basic, _Factor] = {}
_SYMBOL_ENTRIES = 4096
_symbols: dict[str, str] = {}        # kept by clear_memo: a request's names are seldom new


def to_latex(expr: se.Basic) -> str:
    """``service.expressions.to_latex(fast.to_sympy(expr))``; raises :class:`fast.Unsupported`
    for a node kind or form not handled here."""
    fast_order.bound_memo()
    if len(_printed) + len(_negated) + len(_factors) > _MEMO_ENTRIES:
        clear_memo(orders=False)
    try:
        return _tex(expr)
    except RecursionError:
        raise fast.Unsupported("nested too deeply to print here") from None
    except ValueError as error:  # an integer too long for str()
        raise fast.Unsupported(str(error)) from None


def clear_memo(orders: bool = True) -> None:
    """Forget every printed node and, with ``orders``, every remembered order (for cold
    measurements)."""
    for memo in (_printed, _negated, _factors):
        memo.clear()
    if orders:
        fast_order.clear_memo()


def _tex(expr: se.Basic) -> str:
    text = _printed.get(expr)
    if text is None:
        info = node(expr)
        kind = info.kind
        if kind is MUL:
            text = _mul(expr, info.args)
        elif kind is ADD:
            text = _add(expr)
        elif kind is POW:
            text = _pow(expr, info.args)
        elif kind is EXP:  # SymPy's _print_ExpBase
            text = "e^{%s}" % _tex(info.args[0])
        elif kind is FUNCTION:
            text = _function(info)
        elif kind is SYMBOL:
            text = _symbol(info.name)
        elif kind is INTEGER:
            text = str(info.value)
        elif kind is RATIONAL:
            value = info.value
            text = r"\frac{%d}{%d}" % (abs(value.numerator), value.denominator)
            text = "- " + text if value < 0 else text
        elif kind is PI:
            text = r"\pi"
        else:
            text = "e"
        _printed[expr] = text
    return text


def _symbol(name: str) -> str:
    """SymPy's own text for the name (Greek letters, subscripts, \\mathit), once per name."""
    text = _symbols.get(name)
    if text is None:
        if len(_symbols) >= _SYMBOL_ENTRIES:
            _symbols.clear()
        text = _symbols[name] = sympy_latex(symbol(name))
    return text


# -- sums --------------------------------------------------------------------------------------

def _add(expr: se.Basic) -> str:
    """SymPy's _print_Add: the terms in order, " - " and the negated term for negative ones."""
    terms = fast_order.terms_in_order(expr)
    parts = [_tex(terms[0])]
    for term in terms[1:]:
        negated = _negated_tex(term)
        if negated:
            parts.append(" - ")
            parts.append(negated)
        else:
            parts.append(" + ")
            parts.append(_tex(term))
    return "".join(parts)


def _negated_tex(term: se.Basic) -> str:
    """The text of -term where SymPy's could_extract_minus_sign holds, else ""."""
    text = _negated.get(term)
    if text is None:
        info = node(term)
        kind = info.kind
        text = ""
        if (kind is INTEGER or kind is RATIONAL) and info.value < 0:
            text = _tex(-term)
        elif kind is MUL:
            args = info.args
            first = _first_of_product(args)
            if (first.kind is INTEGER or first.kind is RATIONAL) and first.value < 0:
                if first.value == -1 and len(args) == 2:  # -term is the other factor
                    text = _tex(args[1])
                else:
                    text = _product(term, -first.value)
        _negated[term] = text
    return text


# -- products ----------------------------------------------------------------------------------

def _mul(expr: se.Basic, args: tuple) -> str:
    """SymPy's _print_Mul: "- " for a negative coefficient, then the product with its number
    made positive, numerator and denominator as fraction() splits them."""
    first = _first_of_product(args)
    if first.kind is not INTEGER and first.kind is not RATIONAL:
        return _product(expr, None)
    if first.value > 0:
        return _product(expr, first.value)
    if first.value == -1 and len(args) == 2:  # -expr is not a product
        return "- " + _alone(args[1])
    return "- " + _product(expr, -first.value)


def _first_of_product(args: tuple):
    """The node of a product's first arg (its number if any). A number times a sum is not
    SymPy's form (SymPy distributes it): Unsupported."""
    first = node(args[0])
    if (len(args) == 2 and (first.kind is INTEGER or first.kind is RATIONAL)
            and node(args[1]).kind is ADD):
        raise fast.Unsupported("not SymPy's form: SymPy distributes a number over a sum")
    return first


def _alone(expr: se.Basic) -> str:
    """_print_Mul of a single factor (a power): 1/x^2 as \\frac{1}{x^{2}}."""
    factor = _factor(expr)
    if factor[_BELOW]:
        return r"\frac{1}{%s}" % factor[_TEX]
    return _tex(expr)


def _product(expr: se.Basic, positive) -> str:
    """The product ``expr`` with its number made ``positive`` (None: it has none):
    fraction(expr, exact=True), then each part written by convert_args in SymPy's order
    (numbers first).

    The factors are taken in as_ordered_factors order. Sorting by sort_key keeps the
    relative order when fraction() inverts a factor (the key compares bases first), so the
    numerator and the denominator are in order as subsequences, but for exp(-1): it sorts as
    the function exp and inverts to the atom E, which sorts before any other non-number."""
    above: list[_Factor] = []
    below: list[_Factor] = []
    items = fast_order.factors_in_order(expr)
    for item in items[1:] if positive is not None else items:  # the number comes first
        factor = _factor(item)
        (below if factor[_BELOW] else above).append(factor)
    if len(below) > 1:
        for i, factor in enumerate(below):
            if factor is _E_BELOW:  # not a symbol named e, which has the same text
                below.insert(0, below.pop(i))
    if positive is not None:
        numerator, denominator = positive.numerator, positive.denominator
        if numerator != 1:
            above.insert(0, _number_factor(str(numerator)))
        if denominator != 1:
            below.insert(0, _number_factor(str(denominator)))
    if not below:  # convert(expr): two factors at least here
        return _join(above)
    return r"\frac{%s}{%s}" % (_part(above), _part(below))


def _part(factors: list[_Factor]) -> str:
    """convert(Mul(*factors, evaluate=False)): 1, the factor alone, or the product."""
    if not factors:
        return "1"
    if len(factors) == 1:
        return factors[0][_TEX]
    return _join(factors)


def _join(factors: list[_Factor]) -> str:
    """convert_args: factors separated by a space, or by \\cdot between two numbers."""
    previous = factors[0]
    parts = [previous[_JOINED]]
    for factor in factors[1:]:
        parts.append(r" \cdot " if previous[_ENDS_NUMBER] and factor[_STARTS_NUMBER] else " ")
        parts.append(factor[_JOINED])
        previous = factor
    return "".join(parts)


def _factor(item: se.Basic) -> _Factor:
    """How fraction(exact=True) files a factor: a power with a negative constant exponent
    goes below, inverted (x**-1 as x, x**-2 as x**2, exp(-1) as E); all else stays above."""
    factor = _factors.get(item)
    if factor is None:
        info = shown_info = node(item)
        shown, below = item, False
        if info.kind is POW or info.kind is EXP:
            base, exponent = info.args if info.kind is POW else (se.E, info.args[0])
            base_info = node(base)
            if base_info.kind is RATIONAL and base_info.value.numerator == 1:
                # Pow.as_base_exp: (1/q)**u is q**-u, so (1/2)**pi goes below as 2**pi
                base = se.Integer(base_info.value.denominator)
                exponent = fast_order.negated(exponent)
            negative = _negative_constant(exponent)
            if negative is not None:
                below = True
                shown = base if negative == -1 else _inverted(base, exponent,
                                                              info.kind is EXP)
                shown_info = node(shown)
        kind = shown_info.kind
        if kind is MUL:
            raise fast.Unsupported("a product inside a product")
        tex = joined = _tex(shown)
        if kind is ADD or ((kind is INTEGER or kind is RATIONAL) and shown_info.value < 0):
            joined = r"\left(%s\right)" % tex
        if below and kind is EXP1:
            factor = _E_BELOW
        else:
            factor = (below, tex, joined, _ends_with_number(joined),
                      _starts_with_number(joined))
        _factors[item] = factor
    return factor


def _inverted(base: se.Basic, exponent: se.Basic, exp: bool) -> se.Basic:
    """Pow(base, -exponent), which SymPy's Pow keeps unevaluated here (checked)."""
    positive = fast_order.negated(exponent)  # SymPy's -u: distributed over a sum
    power = se.Pow(base, positive)
    info = node(power)
    if info.args != ((positive,) if exp else (base, positive)) or (info.kind is EXP) != exp:
        raise fast.Unsupported("SymEngine rewrites an inverted power")
    return power


def _negative_constant(exponent: se.Basic):
    """``ex.is_negative and ex.is_constant()`` as fraction(exact=True) asks it: the value
    (or True) if so, else None."""
    info = node(exponent)
    if info.kind is INTEGER or info.kind is RATIONAL:
        return info.value if info.value < 0 else None
    if info.symbolic:
        return None  # not constant (SymPy would also see through a constant in disguise)
    if _nests_functions(info):
        # SymPy's 2-digit evaluation of -cot(sec(6)) has no significance: its sign is None
        raise fast.Unsupported(f"SymPy may not know the sign of {exponent}")
    try:  # -pi, 1 - pi, -log(2): SymPy decides the sign numerically
        value = complex(exponent.n(53))
    except (RuntimeError, TypeError, ValueError):
        raise fast.Unsupported(f"the sign of {exponent} is not known here") from None
    if value.imag or abs(value.real) < 1e-9:
        raise fast.Unsupported(f"the sign of {exponent} is not known here")
    return True if value.real < 0 else None


def _nests_functions(info) -> bool:
    """Whether a function (or exp) has another function inside its argument."""
    pending = [(info, False)]
    while pending:
        n, inside = pending.pop()
        is_function = n.kind is FUNCTION or n.kind is EXP
        if is_function and inside:
            return True
        pending.extend((arg, inside or is_function) for arg in n.nodes)
    return False


# -- powers and functions ----------------------------------------------------------------------

def _pow(expr: se.Basic, args: tuple) -> str:
    """SymPy's _print_Pow (E**u is EXP, printed as SymPy's exp(u))."""
    base, exponent = args
    base_info, exponent_info = node(base), node(exponent)
    if exponent_info.kind is INTEGER or exponent_info.kind is RATIONAL:
        value = exponent_info.value
        if abs(value.numerator) == 1 and value.denominator != 1:  # roots
            if value.denominator == 2:
                root = r"\sqrt{%s}" % _tex(base)
            else:
                root = r"\sqrt[%d]{%s}" % (value.denominator, _tex(base))
            return r"\frac{1}{%s}" % root if value < 0 else root
        if value < 0:
            if base_info.kind is INTEGER or base_info.kind is RATIONAL:
                raise fast.Unsupported("a negative power of a number (never SymPy's form)")
            return _alone(expr)
    if base_info.kind is FUNCTION:  # \sin^{2}{\left(x \right)}
        return _function(base_info, _tex(exponent))
    if base_info.kind is EXP:  # _print_ExpBase with an exponent
        return r"\left(%s\right)^{%s}" % (_tex(base), _tex(exponent))
    text = _tex(base)
    kind = base_info.kind
    if (kind is ADD or kind is MUL or kind is POW
            or ((kind is INTEGER or kind is RATIONAL)
                and (base_info.value < 0 or base_info.value.denominator != 1))):
        text = r"\left(%s\right)" % text  # precedence at most Pow's
    elif kind is SYMBOL and "^" in text:  # parenthesize_super
        text = r"\left(%s\right)" % text
    return "%s^{%s}" % (text, _tex(exponent))


def _function(info, exponent: str | None = None) -> str:
    """SymPy's _print_Function / _print_log, with the power's exponent if any."""
    argument = info.args[0]
    if info.name in SIGN_EXTRACTING and fast_order.could_extract_minus_sign(argument):
        # SymPy's sin(1 - x) is -sin(x - 1); SymEngine's sin(x - 1) is -sin(1 - x): a tree
        # that survives the conversion to SymPy and back but is not SymPy's
        raise fast.Unsupported(f"SymPy takes the sign out of the argument of {info.name}")
    name = _FUNCTION_NAMES.get(info.name)
    if name is None:
        name = _CUSTOM_NAMES.get(info.name)
        if name is None:
            raise fast.Unsupported(f"{info.name} is not printed here")
        argument = _tex(argument)
        if exponent is not None:
            name = "%s^{%s}" % (name, exponent)
        return r"%s\left(%s\right)" % (name, argument)
    argument = _tex(argument)
    if info.name == "log":
        text = r"\log{\left(%s \right)}" % argument
        return text if exponent is None else "%s^{%s}" % (text, exponent)
    if exponent is not None:
        name = "%s^{%s}" % (name, exponent)
    return r"%s{\left(%s \right)}" % (name, argument)
