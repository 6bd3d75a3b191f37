"""SymPy's printing order for SymEngine trees: the order of the terms of a sum and of the
factors of a product that SymPy's printers use (``as_ordered_terms``/``as_ordered_factors``
of the expression :func:`fast.to_sympy` gives), computed on the SymEngine tree itself.

SymPy sorts factors by ``Expr.sort_key`` and terms by ``Expr.as_ordered_terms``: the
monomials over the sorted generators (``as_terms``, ``decompose_power``) in lex order,
then the float value of the numeric coefficient. Both are replicated here node for node
(sympy/core/{expr,basic,numbers,symbol,mul,power,function,exprtools}.py, SymPy 1.14).
Where SymPy's answer would depend on something not replicated (its internal order of args
when two keys tie, float coefficients too close to tell apart, a constant that is not
real, a node kind other than those of :mod:`fast`) :class:`fast.Unsupported` is raised and
the caller uses SymPy.

Each SymEngine node is read once into a :class:`Node` (``.args`` builds new wrappers at
every call), which also keeps what was computed for it: sort key, order, term data. A
gradient's partials share most of their parts. The memo is bounded (cleared when full,
only between calls).
"""

from __future__ import annotations

import math
from fractions import Fraction

import symengine as se
from symengine.lib import symengine_wrapper as _w

from service.calculus import fast

__all__ = ["Node", "clear_memo", "could_extract_minus_sign", "factors_in_order", "negated",
           "node", "ordered_factors", "ordered_terms", "sort_key", "terms_in_order"]

# -- nodes ---------------------------------------------------------------------------------

INTEGER, RATIONAL, SYMBOL, PI, E, ADD, MUL, POW, EXP, FUNCTION = range(10)

#: The smooth functions of :mod:`fast` (SymEngine and SymPy use the same class names).
FUNCTION_NAMES = ("sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan",
                  "sinh", "cosh", "tanh", "asinh", "atanh", "log", "erf")
#: The grammar's own smooth functions: SymEngine FunctionSymbols named as SymPy's classes.
CUSTOM_NAMES = tuple(fast.SMOOTH_CUSTOM)
#: SymPy functions that rewrite f(u) when u.could_extract_minus_sign(): sin(-u) = -sin(u)
SIGN_EXTRACTING = frozenset({"sin", "cos", "tan", "sec", "csc", "cot", "asin", "atan", "sinh",
                             "cosh", "tanh", "asinh", "atanh", "erf"})

_KINDS: dict[type, int] = {
    se.Integer: INTEGER, _w.Zero: INTEGER, _w.One: INTEGER, _w.NegativeOne: INTEGER,
    se.Rational: RATIONAL, _w.Half: RATIONAL, se.Symbol: SYMBOL, _w.Pi: PI, _w.Exp1: E,
    se.Add: ADD, se.Mul: MUL, se.Pow: POW,
}
_KINDS.update({getattr(se, name): FUNCTION for name in FUNCTION_NAMES})
_KINDS[fast.FUNCTION_SYMBOL] = FUNCTION

# Node.hides: the node has a symbol named e (1) or pi (2), which hides the constant's name.
HIDES_E, HIDES_PI = 1, 2
_HIDING_NAMES = {"e": HIDES_E, "pi": HIDES_PI}


class Node:
    """A SymEngine node read once: its kind (INTEGER ... FUNCTION; EXP is Pow(E, u), whose
    args are just (u,)), args (SymEngine objects, built once: memos keyed by them are hit by
    identity) and their Nodes, number value (int or Fraction), symbol or function name,
    whether it has a free symbol (SymPy's ``is_number`` is the negation for these kinds),
    ``hides``; and the results computed for it, filled in when first asked."""

    __slots__ = ("expr", "kind", "args", "nodes", "value", "name", "symbolic", "hides",
                 "is_number", "key", "order", "order_exprs", "term", "extracts", "approx")

    def __init__(self, expr, kind, args, nodes, value, name, symbolic, hides):
        self.expr = expr
        self.kind = kind
        self.args = args
        self.nodes = nodes
        self.value = value
        self.name = name
        self.symbolic = symbolic
        self.hides = hides
        self.is_number = kind is INTEGER or kind is RATIONAL  # a SymPy Number
        self.key = self.order = self.order_exprs = self.term = None
        self.extracts = self.approx = None

    def __repr__(self) -> str:
        return f"Node({self.expr})"


_MEMO_ENTRIES = 50_000
_nodes: dict[se.Basic, Node] = {}
_dependent_memos: list[dict] = []  # memos keyed by Nodes (the printers'): cleared with _nodes


def register_memo(memo: dict) -> None:
    """A memo keyed by Nodes, to be cleared whenever the Nodes are."""
    _dependent_memos.append(memo)


def clear_memo() -> None:
    """Forget every node (bench/printers.py measures the cold cost)."""
    _nodes.clear()
    for memo in _dependent_memos:
        memo.clear()


def bound_memo() -> None:
    """Called at the entry points: a full memo is cleared, never while in use."""
    if len(_nodes) > _MEMO_ENTRIES:
        clear_memo()


def node(expr: se.Basic) -> Node:
    """The :class:`Node` of ``expr``; raises Unsupported for other node kinds."""
    found = _nodes.get(expr)
    if found is not None:
        return found
    return _new_node(expr)


def _new_node(expr: se.Basic) -> Node:
    """node() of an expression not yet read (args already read are looked up here, not
    through node(): a function call per arg is a good part of reading a tree)."""
    kind = _KINDS.get(type(expr))
    value = name = None
    args = nodes = ()
    symbolic = False
    hides = 0
    if kind is None:
        raise fast.Unsupported(f"{type(expr).__name__} is not handled here")
    if kind is INTEGER:
        value = expr.p
    elif kind is RATIONAL:
        value = _rational_value(expr)
    elif kind is SYMBOL:
        name = expr.name
        symbolic = True
        hides = _HIDING_NAMES.get(name, 0)
    elif kind is not PI and kind is not E:
        args = expr.args
        get = _nodes.get
        nodes = tuple([get(a) or _new_node(a) for a in args])
        if kind is POW and nodes[0].kind is E:
            kind, args, nodes = EXP, args[1:], nodes[1:]
        elif kind is FUNCTION:
            name = type(expr).__name__
            if name == "FunctionSymbol":
                name = expr.get_name()
                if name not in fast.SMOOTH_CUSTOM:
                    raise fast.Unsupported(f"{name} is not handled here")
        for arg in nodes:
            symbolic = symbolic or arg.symbolic
            hides |= arg.hides
    found = _nodes[expr] = Node(expr, kind, args, nodes, value, name, symbolic, hides)
    return found


def _coprime_fraction(p: int, q: int) -> Fraction:
    """Fraction(p, q) for p, q already in lowest terms, q > 1, without Fraction's gcd and
    type checks (a good part of reading a value's numbers). Checked at import below;
    Fraction(p, q) where this Python's Fraction is laid out otherwise."""
    made = _new_object(Fraction)
    made._numerator = p
    made._denominator = q
    return made


_new_object = object.__new__
try:
    _probe = _coprime_fraction(-8, 9)
    if not (_probe == Fraction(-8, 9) and hash(_probe) == hash(Fraction(-8, 9))
            and str(_probe) == "-8/9" and _probe.denominator == 9 and _probe + 1 == Fraction(1, 9)):
        raise TypeError
except (AttributeError, TypeError):
    _coprime_fraction = Fraction  # noqa: F811 - another layout: the ordinary constructor


def _rational_value(expr) -> Fraction:
    """The Fraction of a SymEngine Rational (in lowest terms, positive denominator): read
    from its text, cheaper than ``.p``/``.q`` (each a SymEngine Integer to convert)."""
    text = str(expr)
    if len(text) < 40:
        p, _, q = text.partition("/")
        return _coprime_fraction(int(p), int(q))
    return Fraction(int(expr.p), int(expr.q))


def _guarded(function, expr):
    bound_memo()
    try:
        return function(node(expr))
    except RecursionError:
        raise fast.Unsupported("nested too deeply") from None
    except (ValueError, OverflowError) as error:  # str of a huge int, a float overflow
        raise fast.Unsupported(str(error)) from None


def negated(expr: se.Basic) -> se.Basic:
    """SymPy's ``-expr``: distributed over a sum (SymEngine keeps ``-(x - y)`` a product)."""
    return negated_node(node(expr)).expr


def negated_node(n: Node) -> Node:
    """:func:`negated` of a Node."""
    if n.kind is ADD:
        return node(se.Add(*[-term for term in n.args]))
    return node(-n.expr)


# -- sort keys (Basic/Atom/Number/Symbol/Expr.sort_key) ----------------------------------------

_NUMBER_CK = (1, 0, "Number")
_ONE_KEY = (_NUMBER_CK, (0, ()), (), 1)
_CLASS_KEYS = {SYMBOL: (2, 0, "Symbol"), PI: (2, 0, "Pi"), E: (2, 0, "Exp1"),
               MUL: (3, 0, "Mul"), ADD: (3, 1, "Add"), POW: (3, 2, "Pow"),
               EXP: (4, 10, "exp")}
# Function.class_key: (4, i, name), i from SymPy's table, else 10000 (fixed arity)
_FUNCTION_INDEX = {"exp": 10, "log": 11, "sin": 20, "cos": 21, "tan": 22, "cot": 23,
                   "sinh": 30, "cosh": 31, "tanh": 32}
_FUNCTION_CK = {name: (4, _FUNCTION_INDEX.get(name, 10000), name)
                for name in FUNCTION_NAMES + CUSTOM_NAMES}
_ATOM_TEXT = {PI: "pi", E: "E"}


def sort_key(expr: se.Basic) -> tuple:
    """``sort_key()`` of the SymPy form of ``expr`` (numbers as int/Fraction)."""
    return _guarded(key_of, expr)


def key_of(n: Node) -> tuple:
    """:func:`sort_key` of a Node, remembered."""
    key = n.key
    if key is None:
        key = n.key = _sort_key(n)
    return key


def _sort_key(n: Node) -> tuple:
    kind = n.kind
    if n.is_number:
        return (_NUMBER_CK, (0, ()), (), n.value)
    if kind is MUL:
        args = n.nodes
        first = args[0]
        if first.is_number:  # as_coeff_Mul: keyed as the rest, with the coefficient
            if len(args) == 2:
                return key_of(args[1])[:3] + (first.value,)
            rest = factors_of(n)[1:]
            return (_CLASS_KEYS[MUL], (len(rest), tuple([key_of(f) for f in rest])),
                    _ONE_KEY, first.value)
    elif kind is POW:
        return _pow_key(n.nodes[0], n.nodes[1])
    return _head(n) + (_ONE_KEY, 1)


def _head(n: Node) -> tuple:
    """(class_key, (len(args), args' keys)) of ``n`` as the ``expr`` of Expr.sort_key."""
    kind = n.kind
    if kind is SYMBOL:
        return _CLASS_KEYS[SYMBOL], (1, (n.name,))
    if kind is PI or kind is E:
        return _CLASS_KEYS[kind], (1, (_ATOM_TEXT[kind],))
    if n.is_number:  # the base of a power: an Atom, keyed by its str
        return _NUMBER_CK, (1, (str(n.value),))
    if kind is ADD:
        args = terms_of(n)
    elif kind is MUL:
        args = factors_of(n)
    else:
        args = n.nodes
    keys = tuple([key_of(arg) for arg in args])
    if kind is FUNCTION:
        return _FUNCTION_CK[n.name], (len(keys), keys)
    return _CLASS_KEYS[kind], (len(keys), keys)


def _pow_key(base: Node, exponent: Node) -> tuple:
    """Expr.sort_key of Pow(base, exponent): keyed by its base and exponent (as_base_exp)."""
    if base.kind is E:  # Pow(E, u) is exp(u), a function
        return (_CLASS_KEYS[EXP], (1, (key_of(exponent),)), _ONE_KEY, 1)
    if base.kind is RATIONAL and base.value.numerator == 1:  # as_base_exp: (1/q)^u = q^-u
        base, exponent = node(se.Integer(base.value.denominator)), negated_node(exponent)
    return _head(base) + (key_of(exponent), 1)


def _generator_key(generator) -> tuple:
    """Sort key of a generator: a Node, or ('pow', base, exponent) for Pow(base, exponent)."""
    if type(generator) is tuple:
        return _pow_key(generator[1], generator[2])
    return key_of(generator)


def _class_key(n: Node) -> tuple:
    """``sort_key()[0]``, without the rest of the key (which may mean ordering subtrees)."""
    kind = n.kind
    if n.is_number:
        return _NUMBER_CK
    if kind is MUL:
        args = n.nodes
        return _class_key(args[1]) if len(args) == 2 and args[0].is_number else _CLASS_KEYS[MUL]
    if kind is POW:
        base = n.nodes[0]
        if base.kind is POW or base.kind is MUL or base.kind is ADD:
            return _CLASS_KEYS[base.kind]  # Expr.sort_key keys a power by its base
        return _class_key(base)
    if kind is FUNCTION:
        return _FUNCTION_CK[n.name]
    return _CLASS_KEYS[kind]


def _generator_class_key(generator) -> tuple:
    if type(generator) is tuple:
        base = generator[1]
        if base.kind is E:
            return _CLASS_KEYS[EXP]
        if base.kind is POW or base.kind is MUL or base.kind is ADD:
            return _CLASS_KEYS[base.kind]
        return _class_key(base)
    return _class_key(generator)


def _sorted_by_key(items, key, class_key) -> tuple:
    """``sorted(items, key=key)``, where ``class_key(item) == key(item)[0]``: by class key
    first, so that full keys (which can mean ordering a whole subtree) are computed only
    for items of the same class. SymPy's order of tied items is its internal arg order,
    which is not replicated: a tie raises Unsupported."""
    if len(items) < 2:
        return tuple(items)
    if len(items) == 2:  # the most common case
        a, b = items
        first, second = class_key(a), class_key(b)
        if first != second:
            return (a, b) if first < second else (b, a)
    keyed = sorted([(class_key(item), i) for i, item in enumerate(items)])
    classes = {k for k, _ in keyed}
    if len(classes) == len(keyed):  # the usual case: no full key needed
        return tuple([items[i] for _, i in keyed])
    ordered = []
    start = 0
    while start < len(keyed):
        end = start + 1
        while end < len(keyed) and keyed[end][0] == keyed[start][0]:
            end += 1
        if end - start == 1:
            ordered.append(items[keyed[start][1]])
        else:
            group = sorted([(key(items[i]), i) for _, i in keyed[start:end]])
            for (a, _), (b, _) in zip(group, group[1:]):
                if a == b:
                    raise fast.Unsupported("two parts with the same sort key")
            ordered.extend([items[i] for _, i in group])
        start = end
    return tuple(ordered)


# -- signs (could_extract_minus_sign) ---------------------------------------------------------

def could_extract_minus_sign(expr: se.Basic) -> bool:
    """SymPy's ``could_extract_minus_sign()`` of the SymPy form of ``expr`` (for printers:
    they guard the recursion)."""
    return extracts_minus_sign(node(expr))


def extracts_minus_sign(n: Node) -> bool:
    """A negative number or coefficient; for a sum, more negative terms than positive, or as
    many and a smaller sort key than its negation. SymPy's odd and even functions take the
    sign out of such an argument (sin(-u) is -sin(u), cos(-u) is cos(u)), in the tie by a
    rule SymEngine does not share: printers check their arguments with this."""
    if n.is_number:
        return n.value < 0
    kind = n.kind
    if kind is MUL:
        first = n.nodes[0]
        return first.is_number and first.value < 0
    if kind is not ADD:
        return False
    found = n.extracts
    if found is None:
        negative = sum(1 for term in n.nodes if extracts_minus_sign(term))
        positive = len(n.nodes) - negative
        if positive != negative:
            found = positive < negative
        else:
            found = key_of(n) < _negated_key(n)
        n.extracts = found
    return found


def _negated_key(n: Node) -> tuple:
    """key_of(negated_node(n)) for a sum, without building it: the same monomials, each term's
    coefficient negated (key_of(t)[:3] holds all but the coefficient). Where the negated
    sum may be SymPy's special case (2 terms, one a number or -pi, -E), it is built."""
    if len(n.nodes) == 2 and any(_number_like(t) or _minus_constant(t) for t in n.nodes):
        return key_of(negated_node(n))
    keys = []
    for term in _order_terms(n.nodes, negate=True):
        if term.is_number:
            keys.append((_NUMBER_CK, (0, ()), (), -term.value))
        else:
            first = term.nodes[0] if term.kind is MUL else None
            coefficient = first.value if first is not None and first.is_number else 1
            keys.append(key_of(term)[:3] + (-coefficient,))
    return (_CLASS_KEYS[ADD], (len(keys), tuple(keys)), _ONE_KEY, 1)


# -- factors (Mul.as_ordered_factors) -----------------------------------------------------------

def ordered_factors(expr: se.Basic) -> list[se.Basic]:
    """The args of a SymEngine Mul in the order ``as_ordered_factors`` gives: the numeric
    coefficient first, then the others by sort key. (SymPy's ``args_cnc`` splits a negative
    coefficient -c into -1 and c there; printers take the sign off first anyway.)"""
    return [factor.expr for factor in _guarded(factors_of, expr)]


def factors_in_order(expr: se.Basic) -> tuple[se.Basic, ...]:
    """ordered_factors as a remembered tuple of the node's args, for printers (which guard
    the recursion and bound the memo)."""
    n = node(expr)
    found = n.order_exprs
    if found is None:
        found = n.order_exprs = tuple([factor.expr for factor in factors_of(n)])
    return found


def factors_of(n: Node) -> tuple[Node, ...]:
    """ordered_factors of a Mul Node, remembered."""
    found = n.order
    if found is None:
        args = n.nodes
        if args[0].is_number:  # a Number's class key sorts it first
            found = args[:1] + _sorted_by_key(args[1:], key_of, _class_key)
        else:
            found = _sorted_by_key(args, key_of, _class_key)
        n.order = found
    return found


# -- terms (Expr.as_ordered_terms) ------------------------------------------------------------

def ordered_terms(expr: se.Basic) -> list[se.Basic]:
    """The args of a SymEngine Add in the order SymPy's printers write the terms."""
    return [term.expr for term in _guarded(terms_of, expr)]


def terms_in_order(expr: se.Basic) -> tuple[se.Basic, ...]:
    """ordered_terms as a remembered tuple of the node's args, for printers (which guard
    the recursion and bound the memo)."""
    n = node(expr)
    found = n.order_exprs
    if found is None:
        found = n.order_exprs = tuple([term.expr for term in terms_of(n)])
    return found


def terms_of(n: Node) -> tuple[Node, ...]:
    """ordered_terms of an Add Node, remembered."""
    found = n.order
    if found is None:
        found = n.order = _order_terms(n.nodes)
    return found


def _minus_constant(n: Node) -> bool:
    """-pi or -E, whose negation is number-like."""
    return (n.kind is MUL and len(n.nodes) == 2 and n.nodes[0].value == -1
            and (n.nodes[1].kind is PI or n.nodes[1].kind is E))


def _number_like(n: Node) -> bool:
    """isinstance(..., (Number, NumberSymbol))."""
    return n.is_number or n.kind is PI or n.kind is E


def _order_terms(terms: tuple, negate: bool = False) -> tuple:
    """The order of ``terms`` (Nodes) in their sum, or with ``negate`` the order of their
    negations in the negated sum (for could_extract_minus_sign; not for a sum that may be
    the special case, see _negated_key)."""
    if len(terms) == 2 and not negate:  # the special case Number + Mul(negative Number, x)
        number, product = terms
        if not _number_like(number):
            number, product = product, number
        if _number_like(number) and product.kind is MUL and len(product.nodes) == 2:
            coefficient = product.nodes[0]
            if (coefficient.is_number and coefficient.value < 0
                    and (number.value is None or number.value > 0)):  # pi, E or > 0
                return number, product  # 1 - x, not -x + 1
    data = [_term(term) for term in terms]
    if len(data) == 1:
        return terms
    generators = {}
    for _, _, powers in data:
        generators.update(powers)
    generators = _sorted_by_key(list(generators), _generator_key, _generator_class_key)
    sign = -1.0 if negate else 1.0
    keys = []
    for i, (coefficient, _, powers) in enumerate(data):
        monomial = tuple([-powers.get(g, 0) for g in generators])
        keys.append((monomial, sign * coefficient, i))
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


def _term(n: Node) -> tuple:
    """(coefficient, exact, {generator: exponent}) of a term, as Expr.as_terms makes it:
    the numeric factors multiplied into a float coefficient (``complex(coeff)``; our
    constants are real), the others decomposed into a generator and an integer power."""
    found = n.term
    if found is not None:
        return found
    if n.is_number:
        coefficient, exact = _float(n.value)
        found = n.term = (coefficient, exact, {})
        return found
    factors = n.nodes if n.kind is MUL else (n,)
    coefficient, exact = 1.0, True
    if factors[0].is_number:
        coefficient, exact = _float(factors[0].value)
        factors = factors[1:]
    powers = {}
    for factor in factors:
        if not factor.symbolic:
            coefficient *= _constant_value(factor)
            exact = False
            continue
        generator, exponent = _decompose_power(factor)
        if generator in powers:
            raise fast.Unsupported("a product with two powers of one generator")
        powers[generator] = exponent
    found = n.term = (coefficient, exact, powers)
    return found


def _float(value) -> tuple[float, bool]:
    """complex(Rational).real as SymPy computes it (correctly rounded), and whether it is
    exactly SymPy's (not in the subnormal range, where mpmath may round twice)."""
    try:
        number = value.numerator / value.denominator
    except OverflowError:  # SymPy: inf
        return (math.inf if value > 0 else -math.inf), False
    return number, number == 0 or abs(number) >= 1e-300


def _constant_value(n: Node) -> float:
    """The float value of a factor without symbols, as SymPy's ``complex()`` gives it to
    within a few ulps; Unsupported unless real and sure. Evaluated in real arithmetic (a
    complex intermediate, such as acos(3) or (-2)^(1/3), gives NaN) at two precisions that
    must agree: SymEngine rounds the arguments first (sin(10^60/7) needs 250 bits), and
    does not raise the precision where terms cancel (1 - tanh(24) is 2.5e-21)."""
    found = n.approx
    if found is None:
        try:
            low, high = fast.evaluated(
                lambda e: (float(e.n(160, real=True)), float(e.n(320, real=True))), n.expr)
        except (RuntimeError, TypeError, ValueError):
            raise fast.Unsupported("a constant SymEngine cannot evaluate") from None
        if not (abs(high - low) <= 1e-15 * abs(high) and math.isfinite(high)):
            raise fast.Unsupported("a constant that is not real, or not evaluated reliably")
        found = n.approx = high
    return found


def _decompose_power(factor: Node) -> tuple:
    """exprtools.decompose_power: (generator, integer exponent) of a factor with symbols.
    A power generator is written ('pow', base, exponent), so that x**y from x**y and from
    x**(2*y) is one generator, as the SymPy objects are equal."""
    kind = factor.kind
    if kind is POW:
        base, exponent = factor.nodes
        if base.kind is RATIONAL and base.value.numerator == 1:  # as_base_exp
            base, exponent = node(se.Integer(base.value.denominator)), negated_node(exponent)
    elif kind is EXP:
        base, exponent = node(se.E), factor.nodes[0]
    else:
        return factor, 1
    if exponent.kind is INTEGER:
        return _generator(base), exponent.value
    if exponent.kind is RATIONAL:
        root = node(se.Rational(1, exponent.value.denominator))
        return ("pow", base, root), exponent.value.numerator
    coefficient, tail = _rational_coefficient(exponent)
    if coefficient == -1:
        return ("pow", base, tail), -1
    if coefficient != 1:
        if coefficient.denominator != 1:
            tail = node(se.Mul(se.Rational(1, coefficient.denominator), tail.expr))
        return ("pow", base, tail), coefficient.numerator
    return _generator(factor), 1


def _generator(n: Node):
    """The generator for ``n`` itself: powers (and exp) as ('pow', base, exponent)."""
    if n.kind is POW:
        return ("pow", n.nodes[0], n.nodes[1])
    if n.kind is EXP:
        return ("pow", node(se.E), n.nodes[0])
    return n


def _rational_coefficient(n: Node) -> tuple:
    """as_coeff_Mul(rational=True): (int or Fraction, the rest as a Node)."""
    if n.kind is MUL and n.nodes[0].is_number:
        rest = n.nodes[1:]
        return n.nodes[0].value, rest[0] if len(rest) == 1 else node(se.Mul(*[r.expr
                                                                               for r in rest]))
    return 1, n
