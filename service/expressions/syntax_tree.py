"""The syntax tree the parser produces: small frozen records, each with its span in the text.

Sums and products are n-ary (a chain ``a - b + c`` is one Sum), so a long chain is a wide
node rather than a deep one, and SymPy gets all its terms in one call. ``start``/``end``
delimit the node's text (parentheses included), so errors can quote it and point at it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    start: int
    end: int

    @property
    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Number(Node):
    """An exact decimal literal, already reduced to ``numerator/denominator``."""

    numerator: int
    denominator: int


@dataclass(frozen=True)
class Name(Node):
    """A variable or constant; which one is decided when building."""

    name: str


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]

    @property
    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True)
class Negate(Node):
    """``-operand``: a unary minus, or a term subtracted in a Sum (starts at the '-')."""

    operand: Node

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Reciprocal(Node):
    """``1/operand``: a factor divided by in a Product (starts at the '/')."""

    operand: Node

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Power(Node):
    base: Node
    exponent: Node

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.base, self.exponent)


@dataclass(frozen=True)
class Sum(Node):
    terms: tuple[Node, ...]

    @property
    def children(self) -> tuple[Node, ...]:
        return self.terms


@dataclass(frozen=True)
class Product(Node):
    factors: tuple[Node, ...]

    @property
    def children(self) -> tuple[Node, ...]:
        return self.factors
