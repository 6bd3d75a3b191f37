"""The grammar's text of a SymEngine expression, written straight from the SymEngine tree.

``to_text(expr, names)`` is ``service.expressions.to_text(fast.to_sympy(expr), names)``,
byte for byte, without building SymPy objects or running SymPy's printers (about 1 ms per
partial derivative): StrPrinter's ``_print_Add``/``_print_Mul``/``parenthesize``/
``precedence`` and our printer's ``_print_Pow``, numbers and names, replicated on the node
kinds of :mod:`fast` (numbers, symbols, pi, e, sums, products, powers, the smooth
functions), with SymPy's order of terms and factors from :mod:`fast_order`.

Precondition: ``expr`` is in SymPy's canonical form, i.e. each node is what SymPy's
constructor makes of its args (``fast.to_symengine(fast.to_sympy(expr)) == expr`` holds).
That round trip does not see every difference: SymEngine and SymPy rewrite each other's
-sin(u) and sin(-u) when the sum u has as many negative terms as positive, by different
rules. Such forms that SymPy would rewrite (that sign, ``2*(x + y)``, which it
distributes) raise :class:`fast.Unsupported`, as does any other node kind, and so do
terms SymPy orders by its internal arg order or by constants too close to tell apart
(see :mod:`fast_order`): the caller uses SymPy.

Printed nodes are remembered (bounded), per way of writing e, pi and long integers: the
partials of a gradient share most of their parts.
"""

from __future__ import annotations

from collections.abc import Collection

import symengine as se

from service.calculus import fast, fast_order
from service.calculus.fast_order import (ADD, EXP, FUNCTION, HIDES_E, HIDES_PI, INTEGER, MUL,
                                         PI, POW, RATIONAL, SIGN_EXTRACTING, SYMBOL, Node,
                                         extracts_minus_sign, factors_of, negated_node, node,
                                         terms_of)
from service.expressions.functions import FUNCTIONS
from service.expressions.printer import _LONGEST_LITERAL, _integer_text
from service.expressions.symbols import NAME_PATTERN

__all__ = ["to_text", "clear_memo"]

# sympy.printing.precedence.PRECEDENCE
_ADD, _MUL, _POW, _FUNC, _ATOM = 40, 50, 60, 70, 1000
_PLAIN = 4  # style bit: every digit of long integers
_SHORT = 10**_LONGEST_LITERAL  # integers below print as plain digits in every style

_MEMO_ENTRIES = 50_000
# style -> {Node or ('pow', base, exponent): text}; Nodes hash by identity (fast)
_texts: dict[int, dict] = {}
fast_order.register_memo(_texts)


def clear_memo() -> None:
    """Forget every printed node and every remembered order (for cold measurements)."""
    fast_order.clear_memo()


def to_text(expr: se.Basic, names: Collection[str] = (), *,
            plain_numbers: bool = False) -> str:
    """``service.expressions.to_text(fast.to_sympy(expr), names, plain_numbers=...)``.

    Raises :class:`fast.Unsupported` for a node kind or form not handled here.
    """
    fast_order.bound_memo()
    if sum(map(len, _texts.values())) > _MEMO_ENTRIES:
        fast_order.clear_memo()
    try:
        root = node(expr)
        style = root.hides
        if "e" in names:
            style |= HIDES_E
        if "pi" in names:
            style |= HIDES_PI
        if plain_numbers:
            style |= _PLAIN
        memo = _texts.get(style)
        if memo is None:
            memo = _texts[style] = {}
        return _Writer(memo, style).text(root)
    except RecursionError:
        raise fast.Unsupported("nested too deeply to print here") from None
    except (ValueError, OverflowError) as error:  # an integer too long for str()
        raise fast.Unsupported(str(error)) from None


def _precedence(n: Node) -> int:
    """sympy.printing.precedence.precedence of the SymPy form."""
    kind = n.kind
    if kind is ADD:
        return _ADD
    if kind is MUL:  # precedence_Mul: could_extract_minus_sign
        first = n.nodes[0]
        return _ADD if first.is_number and first.value < 0 else _MUL
    if kind is POW:
        return _POW
    if kind is INTEGER:
        return _ADD if n.value < 0 else _ATOM
    if kind is RATIONAL:
        return _ADD if n.value < 0 else _MUL
    if kind is EXP or kind is FUNCTION:
        return _FUNC
    return _ATOM  # symbols, pi, E


def _exponent_coefficient(n: Node):
    """exp.as_coeff_Mul()[0] for an exponent: its number, or its product's number."""
    if n.is_number:
        return n.value
    if n.kind is MUL and n.nodes[0].is_number:
        return n.nodes[0].value
    return 1


class _Writer:
    """StrPrinter with our _TextPrinter's overrides, on fast_order Nodes."""

    __slots__ = ("memo", "e", "pi", "plain")

    def __init__(self, memo: dict, style: int):
        self.memo = memo
        self.e = "exp(1)" if style & HIDES_E else "e"
        self.pi = "acos(-1)" if style & HIDES_PI else "pi"
        self.plain = bool(style & _PLAIN)

    def text(self, n: Node) -> str:
        found = self.memo.get(n)
        if found is not None:
            return found
        kind = n.kind
        if kind is MUL:
            found = self._mul(n)
        elif kind is ADD:
            found = self._add(n)
        elif kind is POW:
            found = self._pow(n.nodes[0], n.nodes[1])
        elif kind is SYMBOL:
            name = n.name
            if not NAME_PATTERN.fullmatch(name) or name in FUNCTIONS:
                raise fast.Unsupported(f"the name {name!r} is outside the grammar")
            found = name
        elif kind is INTEGER:
            found = self._integer(n.value)
        elif kind is RATIONAL:
            found = self._integer(n.value.numerator) + "/" + self._integer(n.value.denominator)
        elif kind is EXP:
            found = "exp(" + self.text(n.nodes[0]) + ")"
        elif kind is FUNCTION:
            name, arg = n.name, n.nodes[0]
            if name in SIGN_EXTRACTING and extracts_minus_sign(arg):
                raise fast.Unsupported(f"SymPy takes the sign out of {name}'s argument")
            found = name + "(" + self.text(arg) + ")"
        elif kind is PI:
            found = self.pi
        else:
            found = self.e
        self.memo[n] = found
        return found

    def _integer(self, value: int) -> str:
        if -_SHORT < value < _SHORT:
            return str(value)
        return _integer_text(value, self.plain)

    def _parenthesize(self, n: Node, level: int) -> str:
        """StrPrinter.parenthesize(item, level, strict=False)."""
        if _precedence(n) <= level:
            return "(" + self.text(n) + ")"
        return self.text(n)

    def _add(self, n: Node) -> str:
        """StrPrinter._print_Add: a term printed with a leading '-' is subtracted."""
        parts = []
        for term in terms_of(n):
            text = self.text(term)
            if text[0] == "-":
                parts.append(" - ")
                parts.append(text[1:])
            else:
                parts.append(" + ")
                parts.append(text)
        parts[0] = "-" if parts[0] == " - " else ""
        return "".join(parts)

    def _pow(self, base: Node, exponent: Node) -> str:
        """_TextPrinter._print_Pow: sqrt(b), 1/sqrt(b), 1/b, b^e."""
        if exponent.kind is RATIONAL:
            value = exponent.value
            if value.denominator == 2 and value.numerator in (1, -1):
                root = "sqrt(" + self.text(base) + ")"
                return root if value.numerator == 1 else "1/" + root
        elif exponent.kind is INTEGER and exponent.value == -1:
            return "1/" + self._parenthesize(base, _POW)
        return self._parenthesize(base, _POW) + "^" + self._parenthesize(exponent, _POW)

    def _virtual_pow(self, base: Node, exponent: Node) -> str:
        """The text of Pow(base, exponent, evaluate=False), remembered by its parts."""
        key = ("pow", base, exponent)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self._pow(base, exponent)
        return found

    def _mul(self, n: Node) -> str:
        """StrPrinter._print_Mul for a canonical product: the sign, then the ordered factors
        split into numerator and denominator (negative powers, the coefficient's q)."""
        args = n.nodes
        first = args[0]
        level = _MUL
        sign = ""
        numerator, denominator = [], []
        pow_paren = []
        factors = factors_of(n)
        if first.is_number:
            if len(args) == 2 and args[1].kind is ADD:
                raise fast.Unsupported("SymPy distributes a number over a sum")
            coefficient = first.value
            if coefficient < 0:
                sign, level, coefficient = "-", _ADD, -coefficient
            if coefficient.numerator != 1:
                numerator.append(self._integer(coefficient.numerator))
            if coefficient.denominator != 1:
                denominator.append(self._integer(coefficient.denominator))
            factors = factors[1:]
        for factor in factors:
            if factor.kind is POW:
                base, exponent = factor.nodes
                if _exponent_coefficient(exponent) < 0:
                    if exponent.kind is INTEGER and exponent.value == -1:
                        if base.kind is MUL or base.kind is POW:  # sympy issue 14160
                            pow_paren.append(len(denominator))
                        denominator.append(self._parenthesize(base, level))
                        continue
                    if base.kind is RATIONAL and base.value.numerator == 1:
                        # apow() negates the exponent of as_base_exp(): (1/q)^-u is q^-u
                        base = node(se.Integer(base.value.denominator))
                    else:
                        exponent = negated_node(exponent)
                    # a Pow (precedence 60) is never parenthesized in a product
                    denominator.append(self._virtual_pow(base, exponent))
                    continue
            numerator.append(self._parenthesize(factor, level))
        for i in pow_paren:
            denominator[i] = "(" + denominator[i] + ")"
        text = sign + ("*".join(numerator) if numerator else "1")
        if not denominator:
            return text
        if len(denominator) == 1:
            return text + "/" + denominator[0]
        return text + "/(" + "*".join(denominator) + ")"
