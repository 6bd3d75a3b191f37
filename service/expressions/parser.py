"""Parse expression text into a syntax tree, checking the size limits on the way.

An operator-precedence parser that keeps its own stack of open groups instead of
recursing: no input, however deep, can raise RecursionError, and the nesting limit is
checked before a level opens. Parentheses, calls, signs and powers each add a level.

Precedence, loosest first: ``+ -``; then ``* /`` and implicit multiplication; then unary
signs; then ``^`` (right-associative). So ``-x^2`` is ``-(x^2)``, ``2^3x`` is ``(2^3)*x``
and ``x^-y^2`` is ``x^(-(y^2))``. Implicit multiplication is only allowed after a number
(``2x``, ``3(x+1)``) and between parenthesized groups (``(x+1)(x-1)``, ``sin(x)(x+1)``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from typing import Collection

from service.config import Limits
from service.errors import ExpressionError, LimitExceeded
from service.expressions.functions import CONSTANTS, FUNCTIONS, FunctionInfo
from service.expressions.literals import exact_decimal
from service.expressions.syntax_tree import (
    Call, Name, Negate, Node, Number, Power, Product, Reciprocal, Sum,
)
from service.expressions.tokens import Kind, Token, tokenize

_SNIPPET_LENGTH = 30


def parse_tree(text: str, limits: Limits, *, non_functions: Collection[str] = ()) -> Node:
    """Return the syntax tree of ``text``.

    ``non_functions`` are names known to be variables or constants, so that ``x(y+1)``
    is explained as a missing ``*`` rather than as a misspelt function.
    Raises ExpressionError (with the position) or LimitExceeded.
    """
    if len(text) > limits.max_expression_length:
        raise LimitExceeded(
            f"the expression has {len(text):,} characters",
            limits.max_expression_length,
            Limits.env_var("max_expression_length"),
            position=limits.max_expression_length,
        )
    tokens = tokenize(text)
    if tokens[0].kind is Kind.END:
        raise ExpressionError("expression is empty", 0)
    return _Parser(text, tokens, limits, frozenset(non_functions)).run()


@dataclass
class _Link:
    """One operand of a power chain ``a^b^c``, with the signs written before it."""

    signs: tuple[Token, ...]
    operand: Node


@dataclass
class _Group:
    """One open level: the whole text, a parenthesis, or a call's argument list."""

    opener: Token | None = None  # the '(' (None for the whole text)
    function: FunctionInfo | None = None
    name: Token | None = None  # the called name, for calls
    args: list[Node] = field(default_factory=list)  # finished arguments
    terms: list[Node] = field(default_factory=list)  # finished terms of the current sum
    term_operator: Token | None = None  # '+' or '-' before the current term
    factors: list[Node] = field(default_factory=list)  # finished factors of the current term
    factor_operator: Token | None = None  # '*' or '/' before the current factor
    chain: list[_Link] = field(default_factory=list)  # the power chain being read
    signs: list[Token] = field(default_factory=list)  # signs read before the next operand
    levels: int = 0  # nesting levels added by the pending signs and '^'

    def is_empty(self) -> bool:
        return not (self.args or self.terms or self.factors or self.chain or self.signs)


class _Parser:
    def __init__(self, text: str, tokens: list[Token], limits: Limits,
                 non_functions: frozenset[str]):
        self.text = text
        self.tokens = tokens
        self.limits = limits
        self.non_functions = non_functions
        self.stack = [_Group()]
        self.depth = 0
        self.nodes = 0
        self.last_kind = ""  # of the last operand read: "number", "name" or "group"
        self.last_span = (0, 0)

    def run(self) -> Node:
        index, expect_operand = 0, True
        while True:
            token = self.tokens[index]
            if expect_operand:
                index, expect_operand = self._operand(token, index)
            elif token.kind is Kind.END:
                return self._finish()
            else:
                index, expect_operand = self._operator(token, index)

    # -- the two states: reading an operand, reading what follows one --------------------

    def _operand(self, token: Token, index: int) -> tuple[int, bool]:
        group = self.stack[-1]
        if token.kind in (Kind.PLUS, Kind.MINUS):
            self._count(token)
            self._deeper(token, group)
            group.signs.append(token)
            return index + 1, True
        if token.kind is Kind.NUMBER:
            self._count(token)
            numerator, denominator = exact_decimal(token.text, token.position, self.limits)
            self._push(Number(token.position, token.end, numerator, denominator), "number")
            return index + 1, False
        if token.kind is Kind.NAME and self.tokens[index + 1].kind is Kind.LPAREN:
            function = self._function(token, index)
            self._count(token)
            self._open(self.tokens[index + 1], function, token)
            return index + 2, True
        if token.kind is Kind.NAME:
            if token.text in FUNCTIONS:
                raise ExpressionError(
                    f"'{token.text}' at position {token.position} is a function; "
                    f"call it like {token.text}(x)",
                    token.position,
                )
            self._count(token)
            self._push(Name(token.position, token.end, token.text), "name")
            return index + 1, False
        if token.kind is Kind.LPAREN:
            self._open(token)
            return index + 1, True
        if token.kind is Kind.RPAREN and group.function and group.is_empty():
            self._close(token)  # a call without arguments: _close checks the arity
            return index + 1, False
        raise self._unexpected(token, index)

    def _operator(self, token: Token, index: int) -> tuple[int, bool]:
        group = self.stack[-1]
        if token.kind in (Kind.PLUS, Kind.MINUS):
            self._count(token)
            self._end_term(group)
            group.term_operator = token
        elif token.kind in (Kind.TIMES, Kind.DIVIDE):
            self._count(token)
            self._end_factor(group)
            group.factor_operator = token
        elif token.kind is Kind.POWER:
            self._count(token)
            self._deeper(token, group)
        elif token.kind is Kind.COMMA:
            if group.function is None:
                raise ExpressionError(
                    f"unexpected ',' at position {token.position}; commas only separate "
                    "the arguments of a function",
                    token.position,
                )
            group.args.append(self._end_sum(group))
        elif token.kind is Kind.RPAREN:
            if group.opener is None:
                raise ExpressionError(
                    f"unexpected ')' at position {token.position}; it has no matching '('",
                    token.position,
                )
            self._close(token)
            return index + 1, False
        elif self._implicit_multiplication(token):
            self._count(token)
            self._end_factor(group)
            return index, True  # read the same token again, as the next factor
        else:
            raise self._missing_operator(token, index)
        return index + 1, True

    def _implicit_multiplication(self, token: Token) -> bool:
        if self.last_kind == "number":
            return token.kind in (Kind.NAME, Kind.LPAREN)
        return self.last_kind == "group" and token.kind is Kind.LPAREN

    # -- building the tree ------------------------------------------------------------

    def _push(self, node: Node, kind: str) -> None:
        group = self.stack[-1]
        group.chain.append(_Link(tuple(group.signs), node))
        group.signs.clear()
        self.last_kind, self.last_span = kind, (node.start, node.end)

    def _end_factor(self, group: _Group) -> None:
        """Fold the power chain (right to left) into one factor of the current term."""
        *bases, last = group.chain
        node = _signed(last.signs, last.operand)
        for link in reversed(bases):
            node = _signed(link.signs, Power(link.operand.start, node.end, link.operand, node))
        operator = group.factor_operator
        if operator is not None and operator.kind is Kind.DIVIDE:
            node = Reciprocal(operator.position, node.end, node)
        group.factors.append(node)
        group.chain.clear()
        group.factor_operator = None
        self.depth -= group.levels
        group.levels = 0

    def _end_term(self, group: _Group) -> None:
        self._end_factor(group)
        factors = group.factors
        node = factors[0] if len(factors) == 1 else Product(
            factors[0].start, factors[-1].end, tuple(factors))
        operator = group.term_operator
        if operator is not None and operator.kind is Kind.MINUS:
            node = Negate(operator.position, node.end, node)
        group.terms.append(node)
        group.factors = []
        group.term_operator = None

    def _end_sum(self, group: _Group) -> Node:
        self._end_term(group)
        terms = group.terms
        group.terms = []
        return terms[0] if len(terms) == 1 else Sum(terms[0].start, terms[-1].end, tuple(terms))

    def _open(self, paren: Token, function: FunctionInfo | None = None,
              name: Token | None = None) -> None:
        self._deeper(name or paren)
        self.stack.append(_Group(opener=paren, function=function, name=name))

    def _close(self, paren: Token) -> None:
        group = self.stack.pop()
        self.depth -= 1
        if not group.is_empty():
            group.args.append(self._end_sum(group))
        if group.function is None:
            node = replace(group.args[0], start=group.opener.position, end=paren.end)
        else:
            _check_arity(group.function, len(group.args), group.name)
            node = Call(group.name.position, paren.end, group.function.name, tuple(group.args))
        self._push(node, "group")

    def _finish(self) -> Node:
        if len(self.stack) > 1:
            opener = self.stack[-1].opener
            raise ExpressionError(
                f"unclosed '(' opened at position {opener.position}", opener.position)
        return self._end_sum(self.stack[0])

    # -- limits -------------------------------------------------------------------------

    def _count(self, token: Token) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_expression_nodes:
            raise LimitExceeded(
                "the expression has too many operators, numbers and names "
                f"(counting stopped at position {token.position})",
                self.limits.max_expression_nodes,
                Limits.env_var("max_expression_nodes"),
                position=token.position,
            )

    def _deeper(self, token: Token, group: _Group | None = None) -> None:
        self.depth += 1
        if group is not None:
            group.levels += 1
        if self.depth > self.limits.max_nesting_depth:
            raise LimitExceeded(
                f"the expression nests too deeply at position {token.position} "
                "(parentheses, function calls, signs and powers each add a level)",
                self.limits.max_nesting_depth,
                Limits.env_var("max_nesting_depth"),
                position=token.position,
            )

    # -- errors -------------------------------------------------------------------------

    def _function(self, name: Token, index: int) -> FunctionInfo:
        """Return the function ``name`` calls, or explain why ``name(`` is not a call."""
        if name.text in FUNCTIONS:
            return FUNCTIONS[name.text]
        position = name.position
        if name.text not in self.non_functions and name.text not in CONSTANTS:
            suggestion = _similar_function(name.text)
            if suggestion:
                raise ExpressionError(
                    f"unknown function '{name.text}' at position {position}; "
                    f"did you mean '{suggestion}'?",
                    position,
                )
        call, group = self._operand_text(index), self._operand_text(index + 1)
        message = f"'{name.text}' at position {position} is not a function"
        if len(call) <= _SNIPPET_LENGTH:
            message = f"{call}: {message}; write {name.text}*{group}"
        else:
            message += f"; write {name.text}*( ... ) to multiply"
        raise ExpressionError(message, position)

    def _unexpected(self, token: Token, index: int) -> ExpressionError:
        position = token.position
        previous = self.tokens[index - 1] if index else None
        if token.kind is Kind.END:
            if previous is not None and previous.kind is Kind.LPAREN:
                return ExpressionError(
                    f"unclosed '(' opened at position {previous.position}", previous.position)
            return ExpressionError(
                f"unexpected end of expression at position {position}; "
                f"'{previous.text}' must be followed by a number, a name or '('",
                position,
            )
        message = f"unexpected '{token.text}' at position {position}"
        if token.kind is Kind.RPAREN and previous is not None and previous.kind is Kind.LPAREN:
            return ExpressionError(f"{message}; the parentheses are empty", position)
        if previous is None:
            return ExpressionError(f"{message}; expected a number, a name or '('", position)
        return ExpressionError(
            f"{message}; expected a number, a name or '(' after '{previous.text}'", position)

    def _missing_operator(self, token: Token, index: int) -> ExpressionError:
        left = self.text[self.last_span[0]:self.last_span[1]]
        right = self._operand_text(index)
        message = f"missing operator at position {token.position}"
        if max(len(left), len(right)) <= _SNIPPET_LENGTH:
            message = (f"missing operator between '{left}' and '{right}' at position "
                       f"{token.position}; write {left}*{right}")
        return ExpressionError(message, token.position)

    def _operand_text(self, index: int) -> str:
        """The text of the operand starting at token ``index`` (a call or group whole)."""
        first = self.tokens[index]
        if first.kind is Kind.NAME and self.tokens[index + 1].kind is Kind.LPAREN:
            index += 1
        if self.tokens[index].kind is not Kind.LPAREN:
            return first.text
        depth = 0
        for token in self.tokens[index:]:
            depth += {Kind.LPAREN: 1, Kind.RPAREN: -1}.get(token.kind, 0)
            if depth == 0 or token.kind is Kind.END:
                return self.text[first.position:token.end]
        return self.text[first.position:]  # pragma: no cover - END always stops the loop


def _signed(signs: tuple[Token, ...], node: Node) -> Node:
    for sign in reversed(signs):
        if sign.kind is Kind.MINUS:
            node = Negate(sign.position, node.end, node)
    return node


def _check_arity(function: FunctionInfo, count: int, name: Token) -> None:
    too_many = function.max_args is not None and count > function.max_args
    if count < function.min_args or too_many:
        raise ExpressionError(
            f"{function.name} takes {function.arity_text()} ({function.signature}) "
            f"but got {count} at position {name.position}",
            name.position,
        )


def _similar_function(name: str) -> str | None:
    """A known function ``name`` is probably a misspelling of (never for 1-2 letter names,
    which are far more often variables)."""
    lowered = name.lower()
    if lowered in FUNCTIONS:
        return lowered
    if len(name) < 3:
        return None
    matches = difflib.get_close_matches(lowered, FUNCTIONS, n=1, cutoff=0.75)
    return matches[0] if matches else None
