"""The syntax tree the parser produces: small immutable records, each with its span in the text.

Sums and products are n-ary (a chain ``a - b + c`` is one Sum), so a long chain is a wide
node rather than a deep one, and SymPy gets all its terms in one call. ``start``/``end``
delimit the node's text (parentheses included), so errors can quote it and point at it.

The records are tuples underneath (the parser makes dozens per expression, and a tuple is
made several times faster than a frozen dataclass), but they behave like the frozen
dataclasses they replaced: fields by name, equal only to a record of the same class with
equal fields, hashed like the tuple of their fields, and not ordered.
"""

from __future__ import annotations

try:
    from _collections import _tuplegetter  # what namedtuple's fields are made of
except ImportError:  # pragma: no cover - other Pythons
    from operator import itemgetter

    def _tuplegetter(index, doc):
        return property(itemgetter(index), doc=doc)

_new = tuple.__new__


def _field(index: int) -> property:
    return _tuplegetter(index, None)


class Node(tuple):
    __slots__ = ()
    _fields: tuple[str, ...] = ("start", "end")

    start = _tuplegetter(0, "where the node's text starts")
    end = _tuplegetter(1, "where the node's text ends (exclusive)")
    children: tuple[Node, ...] = ()  # the child nodes, in order

    def __new__(cls, *args, **kwargs):
        """``Number(start, end, numerator, denominator)``, fields by position or name."""
        names = cls._fields[len(args):]
        if set(kwargs) != set(names):
            raise TypeError(f"{cls.__name__}() takes the fields {', '.join(cls._fields)}")
        return _new(cls, args + tuple(kwargs[name] for name in names))

    def __getnewargs__(self):
        return tuple(self)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other):
        if type(other) is type(self):
            return tuple.__eq__(self, other)
        return NotImplemented

    def __ne__(self, other):
        if type(other) is type(self):
            return tuple.__ne__(self, other)
        return NotImplemented

    def _unordered(self, other):
        return NotImplemented

    __lt__ = __le__ = __gt__ = __ge__ = _unordered
    __hash__ = tuple.__hash__


class Number(Node):
    """An exact decimal literal, already reduced to ``numerator/denominator``."""

    __slots__ = ()
    _fields = ("start", "end", "numerator", "denominator")
    numerator = _field(2)
    denominator = _field(3)


class Name(Node):
    """A variable or constant; which one is decided when building."""

    __slots__ = ()
    _fields = ("start", "end", "name")
    name = _field(2)


class Call(Node):
    __slots__ = ()
    _fields = ("start", "end", "name", "args")
    name = _field(2)
    args = _field(3)
    children = args


class Negate(Node):
    """``-operand``: a unary minus, or a term subtracted in a Sum (starts at the '-')."""

    __slots__ = ()
    _fields = ("start", "end", "operand")
    operand = _field(2)

    @property
    def children(self) -> tuple[Node, ...]:
        return self[2:]


class Reciprocal(Node):
    """``1/operand``: a factor divided by in a Product (starts at the '/')."""

    __slots__ = ()
    _fields = ("start", "end", "operand")
    operand = _field(2)

    @property
    def children(self) -> tuple[Node, ...]:
        return self[2:]


class Power(Node):
    __slots__ = ()
    _fields = ("start", "end", "base", "exponent")
    base = _field(2)
    exponent = _field(3)

    @property
    def children(self) -> tuple[Node, ...]:
        return self[2:]


class Sum(Node):
    __slots__ = ()
    _fields = ("start", "end", "terms")
    terms = _field(2)
    children = terms


class Product(Node):
    __slots__ = ()
    _fields = ("start", "end", "factors")
    factors = _field(2)
    children = factors
