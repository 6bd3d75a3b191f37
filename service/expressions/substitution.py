"""Exact substitution of a point into an expression, refusing numbers past the limits.

``expr.xreplace(values)`` lets SymPy evaluate as it rebuilds, and exact arithmetic has no
ceiling: ``x^y`` at x = y = 10^99 asks for a number of 10^101 digits, ``x^(y*y)`` at
(3, 10^4) for one of 4.8 million, each computed in a single C call that no signal
interrupts (only the time budget's kill stops it, after the whole budget). So the
expression is rebuilt bottom-up here and, before SymPy combines numbers at a power, a
product or a sum, their size is estimated as the parser's builder does for the text
itself: past ``max_number_digits`` (or at an inexact root of a number of more than
``max_integer_digits`` digits, which SymPy factors) it raises LimitExceeded, and the
caller gives the float64 value only.
"""

from __future__ import annotations

from typing import Mapping

import sympy

from service.config import Limits
from service.errors import LimitExceeded
from service.expressions.builder import (
    _power_digits, _product_size, _radical_digits, _radicand_digits, _sum_digits,
)
from service.expressions.functions import construct
from service.expressions.literals import digit_count


def substitute_exact(expr: sympy.Basic, values: Mapping[sympy.Symbol, sympy.Expr],
                     limits: Limits | None) -> sympy.Basic:
    """``expr.xreplace(values)``, or LimitExceeded before SymPy computes a number too large
    (no size checks where ``limits`` is None).

    A node SymPy fails to evaluate with an AttributeError, one of its own bugs, is kept as
    written: csc(4 - pi/2 + asinh(2)*cosh(3)) rewrites itself with sec(3*I), whose
    assumptions ask cosh(3) for a method it lacks.

    Examples
    --------
    >>> from service.config import Limits
    >>> x, y = sympy.symbols("x y")
    >>> substitute_exact(x**2 + y, {x: sympy.Integer(3), y: sympy.Rational(1, 2)}, Limits())
    19/2
    """
    done: dict[sympy.Basic, sympy.Basic] = {}
    pending = [(expr, False)]
    while pending:  # iterative: derivatives nest deeper than Python's recursion limit
        node, children_done = pending.pop()
        if node in done:
            continue
        if not node.args:
            done[node] = values.get(node, node)
            continue
        if not children_done:
            pending.append((node, True))
            pending.extend((arg, False) for arg in node.args if arg not in done)
            continue
        args = [done[arg] for arg in node.args]
        if all(new is old for new, old in zip(args, node.args)):
            done[node] = node  # nothing substituted below: nothing to evaluate again
            continue
        if limits is not None:
            _check_size(node, args, limits)
        try:
            done[node] = construct(node.func, args)
        except AttributeError:
            done[node] = node.func(*args, evaluate=False)
    return done[expr]


def _check_size(node: sympy.Basic, args: list[sympy.Basic], limits: Limits) -> None:
    """Refuse the numbers ``node.func(*args)`` would compute, like the parser's builder."""
    if node.is_Pow:
        base, exponent = args
        if not exponent.is_Rational:
            return
        _refuse_digits(_power_digits(base) * abs(exponent), limits)
        if not exponent.is_Integer:
            radicand = base if base.is_Rational else base.as_coeff_Mul()[0]
            if radicand.is_Rational and _root_is_costly(radicand, exponent.q, limits):
                _refuse_root(limits)
            if _radical_digits(base, exponent) > limits.max_integer_digits:
                _refuse_root(limits)
    elif node.is_Mul:
        _refuse_digits(_product_size(args), limits)
        if sum(_radicand_digits(arg) for arg in args) > limits.max_integer_digits:
            _refuse_root(limits)
    elif node.is_Add:
        _refuse_digits(_sum_digits(args), limits)


def _root_is_costly(radicand: sympy.Rational, degree: int, limits: Limits) -> bool:
    if digit_count(max(abs(radicand.p), radicand.q)) <= limits.max_integer_digits:
        return False
    return not all(sympy.integer_nthroot(part, degree)[1]
                   for part in (abs(radicand.p), radicand.q))


def _refuse_digits(digits: float, limits: Limits) -> None:
    if digits > limits.max_number_digits:
        raise LimitExceeded(
            f"the exact value needs a number of about {digits:,.0f} digits",
            limits.max_number_digits, Limits.env_var("max_number_digits"),
        )


def _refuse_root(limits: Limits) -> None:
    raise LimitExceeded(
        "the exact value needs an inexact root of a number that is too large",
        limits.max_integer_digits, Limits.env_var("max_integer_digits"),
    )
