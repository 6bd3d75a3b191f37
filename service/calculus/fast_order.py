"""SymPy's printing order for SymEngine trees: the order of the terms of a sum and of the
factors of a product that SymPy's printers use (``as_ordered_terms``/``as_ordered_factors``
of the expression :func:`fast.to_sympy` gives), computed on the SymEngine tree itself.

SymPy sorts factors by ``Expr.sort_key`` and terms by ``Expr.as_ordered_terms``: the
monomials over the sorted generators (``as_terms``, ``decompose_power``) in lex order,
then the float value of the numeric coefficient. Both are replicated here node for node
(sympy/core/{expr,basic,numbers,symbol,mul,power,function}.py, SymPy 1.14). Where SymPy's
answer would depend on something not replicated (the internal order of its args when two
keys tie, float coefficients too close to tell apart, a node kind outside the smooth
functions) :class:`fast.Unsupported` is raised and the caller uses SymPy.

Everything is remembered per node (SymEngine objects are hashable): a gradient's partials
share most of their parts. The memos are bounded (cleared when full).
"""

from __future__ import annotations

import math
from fractions import Fraction

import symengine as se
from symengine.lib import symengine_wrapper as _w

from service.calculus import fast

__all__ = ["ordered_terms", "ordered_factors", "sort_key", "could_extract_minus_sign",
           "clear_memo"]

# -- node kinds ------------------------------------------------------------------------------

INTEGER, RATIONAL, SYMBOL, PI, E, ADD, MUL, POW, EXP, FUNCTION = range(10)
NUMBERS = (INTEGER, RATIONAL)

#: The smooth functions of :mod:`fast` (SymEngine and SymPy use the same class names).
FUNCTION_NAMES = ("sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan",
                  "sinh", "cosh", "tanh", "asinh", "atanh", "log", "erf")

_KINDS: dict[type, int] = {
    se.Integer: INTEGER, _w.Zero: INTEGER, _w.One: INTEGER, _w.NegativeOne: INTEGER,
    se.Rational: RATIONAL, _w.Half: RATIONAL, se.Symbol: SYMBOL, _w.Pi: PI, _w.Exp1: E,
    se.Add: ADD, se.Mul: MUL, se.Pow: POW,
}
_KINDS.update({getattr(se, name): FUNCTION for name in FUNCTION_NAMES})

_SE_E = se.E
_MINUS_ONE = se.Integer(-1)


# Node.hides: the node has a symbol named e (1) or pi (2), which hides the constant's name.
HIDES_E, HIDES_PI = 1, 2
_HIDING_NAMES = {"e": HIDES_E, "pi": HIDES_PI}


class Node:
    """What is needed of a SymEngine node, read once (``.args`` builds new wrappers each
    call): its kind, args, number value (int or Fraction), name, whether it has a free
    symbol (SymPy's ``is_number`` is its negation for these node kinds) and ``hides``."""

    __slots__ = ("kind", "args", "value", "name", "symbolic", "hides")

    def __init__(self, kind, args, value, name, symbolic, hides):
        self.kind = kind
        self.args = args
        self.value = value
        self.name = name
        self.symbolic = symbolic
        self.hides = hides


_MEMO_ENTRIES = 50_000
_nodes: dict[se.Basic, Node] = {}
_keys: dict = {}           # node or generator -> SymPy sort key
_terms: dict = {}          # Add -> ordered terms (tuple)
_factors: dict = {}        # Mul -> ordered factors (tuple)
_term_data: dict = {}      # term -> (coefficient, exact, {generator: exponent})
_approx: dict = {}         # constant -> float value
_extracts: dict = {}       # Add -> could_extract_minus_sign


def clear_memo() -> None:
    """Forget every remembered node (bench/printers.py measures the cold cost)."""
    for memo in (_nodes, _keys, _terms, _factors, _term_data, _approx, _extracts):
        memo.clear()


def bound_memo() -> None:
    """Called at the entry points: a full memo is cleared, never while in use."""
    if len(_nodes) > _MEMO_ENTRIES or len(_keys) > _MEMO_ENTRIES:
        clear_memo()


def node(expr: se.Basic) -> Node:
    """The remembered :class:`Node` of ``expr``; raises Unsupported for other node kinds."""
    found = _nodes.get(expr)
    if found is not None:
        return found
    kind = _KINDS.get(type(expr))
    value = name = None
    args = ()
    hides = 0
    if kind is None:
        raise fast.Unsupported(f"{type(expr).__name__} is not printed here")
    if kind is INTEGER:
        value = expr.p
        symbolic = False
    elif kind is RATIONAL:
        value = Fraction(int(expr.p), int(expr.q))
        symbolic = False
    elif kind is SYMBOL:
        name = expr.name
        symbolic = True
        hides = _HIDING_NAMES.get(name, 0)
    elif kind is PI or kind is E:
        symbolic = False
    else:
        args = expr.args
        if kind is POW and args[0] == _SE_E:
            kind, args = EXP, args[1:]
        elif kind is FUNCTION:
            name = type(expr).__name__
        symbolic = False
        for arg in args:
            info = node(arg)
            symbolic = symbolic or info.symbolic
            hides |= info.hides
    found = _nodes[expr] = Node(kind, args, value, name, symbolic, hides)
    return found


# -- sort keys (Basic/Atom/Number/Symbol/Expr.sort_key) ----------------------------------------

_NUMBER_CK = (1, 0, "Number")
_ONE_KEY = (_NUMBER_CK, (0, ()), (), 1)
_CLASS_KEYS = {SYMBOL: (2, 0, "Symbol"), PI: (2, 0, "Pi"), E: (2, 0, "Exp1"),
               MUL: (3, 0, "Mul"), ADD: (3, 1, "Add"), POW: (3, 2, "Pow"),
               EXP: (4, 10, "exp")}
# Function.class_key: (4, i, name), i from SymPy's table, else 10000 (fixed arity)
_FUNCTION_INDEX = {"exp": 10, "log": 11, "sin": 20, "cos": 21, "tan": 22, "cot": 23,
                   "sinh": 30, "cosh": 31, "tanh": 32}
_FUNCTION_CK = {name: (4, _FUNCTION_INDEX.get(name, 10000), name) for name in FUNCTION_NAMES}
_ATOM_TEXT = {PI: "pi", E: "E"}


def sort_key(expr: se.Basic) -> tuple:
    """``sort_key()`` of the SymPy form of ``expr`` (numbers as int/Fraction)."""
    key = _keys.get(expr)
    if key is None:
        key = _keys[expr] = _sort_key(expr, node(expr))
    return key


def _sort_key(expr, info: Node) -> tuple:
    kind = info.kind
    if kind is INTEGER or kind is RATIONAL:
        return (_NUMBER_CK, (0, ()), (), info.value)
    if kind is MUL:
        args = info.args
        first = node(args[0])
        if first.kind is INTEGER or first.kind is RATIONAL:  # as_coeff_Mul
            if len(args) == 2:
                return sort_key(args[1])[:3] + (first.value,)
            rest = factors_in_order(expr)[1:]
            return (_CLASS_KEYS[MUL], (len(rest), tuple([sort_key(f) for f in rest])),
                    _ONE_KEY, first.value)
    elif kind is POW:
        base, exponent = info.args
        return _pow_key(base, exponent)
    return _head(expr, info) + (_ONE_KEY, 1)


def _head(expr, info: Node) -> tuple:
    """(class_key, (len(args), args' keys)) of ``expr`` as the ``expr`` of Expr.sort_key."""
    kind = info.kind
    if kind is SYMBOL:
        return _CLASS_KEYS[SYMBOL], (1, (info.name,))
    if kind is PI or kind is E:
        return _CLASS_KEYS[kind], (1, (_ATOM_TEXT[kind],))
    if kind is INTEGER or kind is RATIONAL:  # the base of a power: an Atom, by its str
        return _NUMBER_CK, (1, (str(info.value),))
    if kind is ADD:
        args = terms_in_order(expr)
    elif kind is MUL:
        args = factors_in_order(expr)
    else:
        args = info.args
    keys = tuple([sort_key(arg) for arg in args])
    if kind is FUNCTION:
        return _FUNCTION_CK[info.name], (len(keys), keys)
    return _CLASS_KEYS[kind], (len(keys), keys)


def _pow_key(base, exponent) -> tuple:
    """Expr.sort_key of Pow(base, exponent): keyed by its base and exponent (as_base_exp)."""
    if base is _SE_E or base == _SE_E:  # Pow(E, u) is exp(u), a function
        return (_CLASS_KEYS[EXP], (1, (sort_key(exponent),)), _ONE_KEY, 1)
    info = node(base)
    if info.kind is RATIONAL and info.value.numerator == 1:  # as_base_exp: 1/q^e = q^-e
        base, exponent = se.Integer(info.value.denominator), negated(exponent)
        info = node(base)
    return _head(base, info) + (sort_key(exponent), 1)


def negated(expr) -> se.Basic:
    """SymPy's ``-expr``: distributed over a sum (SymEngine keeps ``-(x - y)`` a product)."""
    info = node(expr)
    if info.kind is ADD:
        return se.Add(*[-term for term in info.args])
    return -expr



def could_extract_minus_sign(expr) -> bool:
    """SymPy's ``could_extract_minus_sign()``: a negative number or coefficient; for a sum,
    more negative terms than positive, or as many and a smaller sort key than its negation.
    SymPy's odd and even functions take the sign out of such an argument (sin(-u) is
    -sin(u), cos(-u) is cos(u)), in the tie by a rule SymEngine does not share."""
    info = node(expr)
    kind = info.kind
    if kind is INTEGER or kind is RATIONAL:
        return info.value < 0
    if kind is MUL:
        first = node(info.args[0])
        return (first.kind is INTEGER or first.kind is RATIONAL) and first.value < 0
    if kind is not ADD:
        return False
    found = _extracts.get(expr)
    if found is None:
        negative = sum(1 for term in info.args if could_extract_minus_sign(term))
        positive = len(info.args) - negative
        if positive != negative:
            found = positive < negative
        else:
            found = sort_key(expr) < sort_key(negated(expr))
        _extracts[expr] = found
    return found


#: SymPy functions that rewrite f(u) when u.could_extract_minus_sign() (f(-x) is -f(x) or f(x))
SIGN_EXTRACTING = frozenset({"sin", "cos", "tan", "sec", "csc", "cot", "asin", "atan", "sinh",
                             "cosh", "tanh", "asinh", "atanh", "erf"})


def _generator_key(generator) -> tuple:
    """Sort key of a generator: a node, or ('pow', base, exponent) for Pow(base, exponent)."""
    if type(generator) is tuple:
        key = _keys.get(generator)
        if key is None:
            key = _keys[generator] = _pow_key(generator[1], generator[2])
        return key
    return sort_key(generator)


def _sorted_by_key(items, key) -> tuple:
    """``sorted(items, key=key)``; SymPy's order of tied items is its internal arg order,
    which is not replicated: a tie raises Unsupported."""
    keyed = sorted([(key(item), i) for i, item in enumerate(items)])
    for (a, _), (b, _) in zip(keyed, keyed[1:]):
        if a == b:
            raise fast.Unsupported("two parts with the same sort key")
    return tuple([items[i] for _, i in keyed])


# -- factors (Mul.as_ordered_factors) -----------------------------------------------------------

def ordered_factors(expr: se.Basic) -> list[se.Basic]:
    """The args of a SymEngine Mul in the order ``as_ordered_factors`` gives: the numeric
    coefficient first, then the others by sort key. (SymPy's ``args_cnc`` splits a negative
    coefficient -c into -1 and c there; printers take the sign off first anyway.)"""
    bound_memo()
    return list(_guarded(factors_in_order, expr))


def factors_in_order(expr) -> tuple:
    """ordered_factors as a remembered tuple, for printers (which guard the recursion)."""
    found = _factors.get(expr)
    if found is None:
        found = _factors[expr] = _sorted_by_key(node(expr).args, sort_key)
    return found


# -- terms (Expr.as_ordered_terms) ------------------------------------------------------------

def ordered_terms(expr: se.Basic) -> list[se.Basic]:
    """The args of a SymEngine Add in the order SymPy's printers write the terms."""
    bound_memo()
    return list(_guarded(terms_in_order, expr))


def _guarded(function, expr):
    try:
        return function(expr)
    except RecursionError:
        raise fast.Unsupported("nested too deeply") from None
    except (ValueError, OverflowError) as error:  # str of a huge int, a float overflow
        raise fast.Unsupported(str(error)) from None


def terms_in_order(expr) -> tuple:
    """ordered_terms as a remembered tuple, for printers (which guard the recursion)."""
    found = _terms.get(expr)
    if found is None:
        found = _terms[expr] = _order_terms(node(expr).args)
    return found


def _is_number_like(info: Node) -> bool:
    """isinstance(..., (Number, NumberSymbol))."""
    kind = info.kind
    return kind is INTEGER or kind is RATIONAL or kind is PI or kind is E


def _order_terms(terms: tuple) -> tuple:
    if len(terms) == 2:  # the special case Number + Mul(negative Number, expr): 1 - x
        first, second = terms
        if not _is_number_like(node(first)):
            first, second = second, first
        number, product = node(first), node(second)
        if _is_number_like(number) and product.kind is MUL and len(product.args) == 2:
            coefficient = node(product.args[0])
            if ((coefficient.kind is INTEGER or coefficient.kind is RATIONAL)
                    and coefficient.value < 0
                    and (number.value is None or number.value > 0)):  # pi, E or > 0
                return first, second
    data = [_term(term) for term in terms]
    generators = set()
    for _, _, powers in data:
        generators.update(powers)
    generators = _sorted_by_key(list(generators), _generator_key)
    keys = []
    for i, (coefficient, _, powers) in enumerate(data):
        monomial = tuple([-powers.get(g, 0) for g in generators])
        keys.append((monomial, coefficient, i))
    keys.sort()
    for (m1, c1, i1), (m2, c2, i2) in zip(keys, keys[1:]):
        if m1 == m2 and _too_close(c1, data[i1][1], c2, data[i2][1]):
            raise fast.Unsupported("terms SymPy orders by nearly equal float coefficients")
    return tuple([terms[i] for _, _, i in keys])


def _too_close(a: float, a_exact: bool, b: float, b_exact: bool) -> bool:
    """Whether the order of two coefficients may differ from SymPy's floats (or tie)."""
    if a == b:
        return True
    if a_exact and b_exact:
        return False
    return not abs(a - b) > 1e-12 * max(abs(a), abs(b))  # also for inf and nan


def _term(term) -> tuple:
    """(coefficient, exact, {generator: exponent}) of a term, as Expr.as_terms makes it:
    the numeric factors multiplied into a float coefficient (``complex(coeff)``; our
    constants are real), the others decomposed into a generator and an integer power."""
    found = _term_data.get(term)
    if found is not None:
        return found
    info = node(term)
    kind = info.kind
    if kind is INTEGER or kind is RATIONAL:
        coefficient, exact = _float(info.value)
        found = _term_data[term] = (coefficient, exact, {})
        return found
    factors = info.args if kind is MUL else (term,)
    coefficient, exact = 1.0, True
    first = node(factors[0])
    if first.kind is INTEGER or first.kind is RATIONAL:
        coefficient, exact = _float(first.value)
        factors = factors[1:]
    powers = {}
    for factor in factors:
        if not node(factor).symbolic:
            coefficient *= _constant_value(factor)
            exact = False
            continue
        generator, exponent = _decompose_power(factor)
        if generator in powers:
            raise fast.Unsupported("a product with two powers of one generator")
        powers[generator] = exponent
    found = _term_data[term] = (coefficient, exact, powers)
    return found


def _float(value) -> tuple[float, bool]:
    """complex(Rational).real as SymPy computes it (correctly rounded), and whether it is
    exactly SymPy's (not in the subnormal range, where mpmath may round twice)."""
    try:
        number = value.numerator / value.denominator
    except OverflowError:
        return (math.inf if value > 0 else -math.inf), False
    return number, number == 0 or abs(number) >= 1e-300


def _constant_value(expr) -> float:
    """The float value of a factor without symbols, as SymPy's ``complex()`` gives it to
    within a few ulps; Unsupported unless real and sure. Evaluated in real arithmetic (a
    complex intermediate, such as acos(3) or (-2)^(1/3), gives NaN) at two precisions that
    must agree: SymEngine rounds the arguments first (sin(10^60/7) needs 250 bits)."""
    found = _approx.get(expr)
    if found is None:
        try:
            low, high = float(expr.n(100, real=True)), float(expr.n(240, real=True))
        except (RuntimeError, TypeError, ValueError):
            raise fast.Unsupported("a constant SymEngine cannot evaluate") from None
        if not (abs(high - low) <= 1e-15 * abs(high) and math.isfinite(high)):
            raise fast.Unsupported("a constant that is not real, or not evaluated reliably")
        found = _approx[expr] = high
    return found


def _decompose_power(factor) -> tuple:
    """exprtools.decompose_power: (generator, integer exponent) of a factor with symbols.
    A power generator is written ('pow', base, exponent), so that x**y from x**y and from
    x**(2*y) is one generator, as the SymPy objects are equal."""
    info = node(factor)
    kind = info.kind
    if kind is POW:
        base, exponent = info.args
        base_info = node(base)
        if base_info.kind is RATIONAL and base_info.value.numerator == 1:
            base, exponent = se.Integer(base_info.value.denominator), negated(exponent)
    elif kind is EXP:
        base, exponent = _SE_E, info.args[0]
    else:
        return factor, 1
    exponent_info = node(exponent)
    if exponent_info.kind is INTEGER:
        return _generator(base), exponent_info.value
    if exponent_info.kind is RATIONAL:
        q = exponent_info.value.denominator
        return ("pow", base, se.Rational(1, q)), exponent_info.value.numerator
    coefficient, tail = _rational_coefficient(exponent, exponent_info)
    if coefficient == -1:
        return ("pow", base, tail), -1
    if coefficient != 1:
        if coefficient.denominator != 1:
            tail = se.Mul(se.Rational(1, coefficient.denominator), tail)
        return ("pow", base, tail), coefficient.numerator
    return _generator(factor), 1


def _generator(expr):
    """The generator for ``expr`` itself: powers (and exp) as ('pow', base, exponent)."""
    info = node(expr)
    if info.kind is POW:
        return ("pow", info.args[0], info.args[1])
    if info.kind is EXP:
        return ("pow", _SE_E, info.args[0])
    return expr


def _rational_coefficient(expr, info: Node) -> tuple:
    """as_coeff_Mul(rational=True): (int or Fraction, the rest)."""
    if info.kind is MUL:
        first = node(info.args[0])
        if first.kind is INTEGER or first.kind is RATIONAL:
            rest = info.args[1:]
            return first.value, rest[0] if len(rest) == 1 else se.Mul(*rest)
    return 1, expr
