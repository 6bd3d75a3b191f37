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


_NUMBER, _NAME, _PLUS, _MINUS, _DIVIDE, _TIMES, _POWER = (
    Kind.NUMBER, Kind.NAME, Kind.PLUS, Kind.MINUS, Kind.DIVIDE, Kind.TIMES, Kind.POWER)
_LPAREN, _RPAREN, _COMMA, _END = Kind.LPAREN, Kind.RPAREN, Kind.COMMA, Kind.END
_new = tuple.__new__  # makes a token or node from the tuple of its fields, quickly


class _Group:
    """One open level: the whole text, a parenthesis, or a call's argument list."""

    __slots__ = ("opener", "function", "name", "args", "terms", "term_operator", "factors",
                 "factor_operator", "chain", "signs", "levels")

    def __init__(self, opener: Token | None = None, function: FunctionInfo | None = None,
                 name: Token | None = None):
        self.opener = opener  # the '(' (None for the whole text)
        self.function = function
        self.name = name  # the called name, for calls
        self.args: list[Node] = []  # finished arguments
        self.terms: list[Node] = []  # finished terms of the current sum
        self.term_operator: Token | None = None  # '+' or '-' before the current term
        self.factors: list[Node] = []  # finished factors of the current term
        self.factor_operator: Token | None = None  # '*' or '/' before the current factor
        # the power chain being read: one (signs written before it, operand) per operand
        self.chain: list[tuple[tuple[Token, ...], Node]] = []
        self.signs: list[Token] = []  # signs read before the next operand
        self.levels = 0  # nesting levels added by the pending signs and '^'

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

    def run(self) -> Node:
        """Read the tokens in two alternating states: an operand (with the signs and '('
        before it), then what follows one. One loop with the hot steps written out, for
        speed; the folding into nodes is in _end_factor, _end_term and _end_sum."""
        tokens, limits, stack = self.tokens, self.limits, self.stack
        max_nodes, max_depth = limits.max_expression_nodes, limits.max_nesting_depth
        group = stack[0]
        index = nodes = depth = 0  # nodes and depth so far, checked as they grow
        while True:
            # -- reading an operand ------------------------------------------------------
            token = tokens[index]
            kind = token[0]
            if kind is _NUMBER:
                nodes += 1
                if nodes > max_nodes:
                    raise self._too_many(token)
                _, text, position = token
                numerator, denominator = exact_decimal(text, position, limits)
                node = _new(Number, (position, position + len(text), numerator, denominator))
                last_kind = "number"
                index += 1
            elif kind is _NAME:
                if tokens[index + 1][0] is _LPAREN:
                    function = self._function(token, index)
                    nodes += 1
                    if nodes > max_nodes:
                        raise self._too_many(token)
                    depth += 1
                    if depth > max_depth:
                        raise self._too_deep(token)
                    group = _Group(tokens[index + 1], function, token)
                    stack.append(group)
                    index += 2
                    continue
                _, text, position = token
                if text in FUNCTIONS:
                    raise ExpressionError(
                        f"'{text}' at position {position} is a function; call it like {text}(x)",
                        position,
                    )
                nodes += 1
                if nodes > max_nodes:
                    raise self._too_many(token)
                node = _new(Name, (position, position + len(text), text))
                last_kind = "name"
                index += 1
            elif kind is _PLUS or kind is _MINUS:
                nodes += 1
                if nodes > max_nodes:
                    raise self._too_many(token)
                depth += 1
                group.levels += 1
                if depth > max_depth:
                    raise self._too_deep(token)
                group.signs.append(token)
                index += 1
                continue
            elif kind is _LPAREN:
                depth += 1
                if depth > max_depth:
                    raise self._too_deep(token)
                group = _Group(token)
                stack.append(group)
                index += 1
                continue
            elif kind is _RPAREN and group.function and group.is_empty():
                node = self._close(token)  # a call without arguments: _close checks the arity
                depth -= 1
                group = stack[-1]
                last_kind = "group"
                index += 1
            else:
                raise self._unexpected(token, index)

            while True:
                # -- the operand read is the next link of the power chain ---------------
                signs = group.signs
                if signs:
                    group.chain.append((tuple(signs), node))
                    signs.clear()
                else:
                    group.chain.append(((), node))
                # -- reading what follows it --------------------------------------------
                token = tokens[index]
                kind = token[0]
                if kind is _RPAREN:
                    if group.opener is None:
                        raise ExpressionError(
                            f"unexpected ')' at position {token[2]}; it has no matching '('",
                            token[2],
                        )
                    depth -= 1 + group.levels
                    node = self._close(token)
                    group = stack[-1]
                    last_kind = "group"
                    index += 1
                    continue  # the group is an operand: read what follows it
                if kind is _TIMES or kind is _DIVIDE:
                    nodes += 1
                    if nodes > max_nodes:
                        raise self._too_many(token)
                    _end_factor(group)
                    group.factor_operator = token
                    index += 1
                elif kind is _PLUS or kind is _MINUS:
                    nodes += 1
                    if nodes > max_nodes:
                        raise self._too_many(token)
                    _end_term(group)
                    group.term_operator = token
                    index += 1
                elif kind is _POWER:
                    nodes += 1
                    if nodes > max_nodes:
                        raise self._too_many(token)
                    depth += 1
                    group.levels += 1  # released when the chain ends
                    if depth > max_depth:
                        raise self._too_deep(token)
                    index += 1
                    break
                elif kind is _END:
                    return self._finish()
                elif kind is _COMMA:
                    if group.function is None:
                        raise ExpressionError(
                            f"unexpected ',' at position {token[2]}; commas only separate "
                            "the arguments of a function",
                            token[2],
                        )
                    group.args.append(_end_sum(group))
                    index += 1
                elif (kind is _LPAREN and (last_kind == "number" or last_kind == "group")
                      or kind is _NAME and last_kind == "number"):
                    # implicit multiplication: read the same token again, as the next factor
                    nodes += 1
                    if nodes > max_nodes:
                        raise self._too_many(token)
                    _end_factor(group)
                else:
                    raise self._missing_operator(token, index)
                depth -= group.levels  # the chain has ended, and the levels it added
                group.levels = 0
                break

    def _close(self, paren: Token) -> Node:
        """Close the innermost group (the caller releases its levels): its node."""
        group = self.stack.pop()
        if not group.is_empty():
            group.args.append(_end_sum(group))
        end = paren[2] + 1
        if group.function is None:
            inner = group.args[0]  # the group's span includes its parentheses
            return _new(type(inner), (group.opener[2], end, *inner[2:]))
        _check_arity(group.function, len(group.args), group.name)
        return _new(Call, (group.name[2], end, group.function.name, tuple(group.args)))

    def _finish(self) -> Node:
        if len(self.stack) > 1:
            opener = self.stack[-1].opener
            raise ExpressionError(
                f"unclosed '(' opened at position {opener.position}", opener.position)
        return _end_sum(self.stack[0])

    # -- limits -------------------------------------------------------------------------

    def _too_many(self, token: Token) -> LimitExceeded:
        return LimitExceeded(
            "the expression has too many operators, numbers and names "
            f"(counting stopped at position {token.position})",
            self.limits.max_expression_nodes,
            Limits.env_var("max_expression_nodes"),
            position=token.position,
        )

    def _too_deep(self, token: Token) -> LimitExceeded:
        return LimitExceeded(
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
        last = self.stack[-1].chain[-1][1]  # the operand just read
        left = self.text[last.start:last.end]
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


def _end_factor(group: _Group) -> None:
    """Fold the power chain (right to left) into one factor of the current term."""
    chain = group.chain
    signs, node = chain.pop()
    if signs:
        node = _signed(signs, node)
    while chain:
        signs, base = chain.pop()
        node = _new(Power, (base[0], node[1], base, node))
        if signs:
            node = _signed(signs, node)
    operator = group.factor_operator
    if operator is not None:
        if operator[0] is _DIVIDE:
            node = _new(Reciprocal, (operator[2], node[1], node))
        group.factor_operator = None
    group.factors.append(node)


def _end_term(group: _Group) -> None:
    _end_factor(group)
    factors = group.factors
    if len(factors) == 1:
        node = factors.pop()
    else:
        node = _new(Product, (factors[0][0], factors[-1][1], tuple(factors)))
        factors.clear()
    operator = group.term_operator
    if operator is not None:
        if operator[0] is _MINUS:
            node = _new(Negate, (operator[2], node[1], node))
        group.term_operator = None
    group.terms.append(node)


def _end_sum(group: _Group) -> Node:
    _end_term(group)
    terms = group.terms
    if len(terms) == 1:
        return terms.pop()
    node = _new(Sum, (terms[0][0], terms[-1][1], tuple(terms)))
    terms.clear()
    return node


def _signed(signs: tuple[Token, ...], node: Node) -> Node:
    for sign in reversed(signs):
        if sign[0] is _MINUS:
            node = _new(Negate, (sign[2], node[1], node))
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
