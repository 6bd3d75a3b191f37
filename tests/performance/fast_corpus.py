"""The corpus the SymEngine printers are checked on (loaded by path by the test modules).

Expressions of the textbook table and random smooth expressions in x, y, z (the grammar
of tests/performance/test_fast_engine.py, with more kinds of numbers), their derivatives
(``fast.differentiate``) and their exact values at small rational points, as SymEngine
trees (``fast.to_symengine``). Also the slow reference of ``fast_order``: ask SymPy.
"""

from __future__ import annotations

import faulthandler
import importlib.util
import os
import random
import signal
from contextlib import contextmanager
from pathlib import Path

import symengine as se
import sympy
from hypothesis import strategies as st

from service.calculus import fast
from service.calculus.spec import build_spec
from service.config import Limits
from service.expressions import symbol

LIMITS = Limits()
VARIABLES = ("x", "y", "z")


def _textbook_table() -> list[str]:
    path = Path(__file__).resolve().parents[1] / "api" / "test_textbook_derivatives.py"
    spec = importlib.util.spec_from_file_location("textbook_derivatives", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [row[0] for row in module.TABLE]


TEXTBOOK = _textbook_table()

SMOOTH_UNARY = ["sin", "cos", "tan", "sec", "csc", "cot", "exp", "log", "sqrt", "atan", "asin",
                "acos", "sinh", "cosh", "tanh", "asinh", "atanh", "erf", "sigmoid",
                "softplus"]
NUMBERS = ["1/2", "3/7", "0.25", "-3", "-2/5"]
LEAF_TEXTS = ["x", "y", "z", "pi", "e"] + [str(i) for i in range(1, 10)] + NUMBERS
# Long integers only as a factor of the whole expression (Horner form in the text): inside
# a function, SymPy's evaluation of sin(10^60) needs pi to 10^60 digits...
BIG_FACTORS = ["", "", "10^60*", "-(7^70)*", "11/123456789^7*"]


def _extend(children):
    return st.one_of(
        st.tuples(st.sampled_from(SMOOTH_UNARY), children).map(lambda p: f"{p[0]}({p[1]})"),
        st.tuples(st.sampled_from(["+", "-", "*", "/"]), children, children).map(
            lambda t: f"({t[1]}) {t[0]} ({t[2]})"),
        st.tuples(children, st.integers(-3, 4)).map(lambda p: f"({p[0]})^({p[1]})"),
        st.tuples(children, st.sampled_from(["1/2", "1/3", "-3/2", "-1/2"])).map(
            lambda p: f"({p[0]})^({p[1]})"),
    )


LEAVES = st.one_of(st.sampled_from(["x", "y", "z", "pi", "e"]),
                   st.integers(1, 9).map(str), st.sampled_from(NUMBERS))
SMOOTH_EXPRESSIONS = st.tuples(st.sampled_from(BIG_FACTORS),
                               st.recursive(LEAVES, _extend, max_leaves=8)).map(
    lambda p: f"{p[0]}({p[1]})")


def random_text(rng: random.Random, depth: int = 4) -> str:
    """A random expression of the same grammar (deterministic corpora for counting)."""
    return f"{rng.choice(BIG_FACTORS)}({_random_text(rng, depth)})"


def _random_text(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.25:
        return rng.choice(LEAF_TEXTS)
    choice = rng.random()
    if choice < 0.35:
        return f"{rng.choice(SMOOTH_UNARY)}({_random_text(rng, depth - 1)})"
    if choice < 0.8:
        op = rng.choice(["+", "-", "*", "/"])
        return f"({_random_text(rng, depth - 1)}) {op} ({_random_text(rng, depth - 1)})"
    exponent = rng.choice(["-3", "-2", "-1", "2", "3", "1/2", "1/3", "-3/2", "-1/2"])
    return f"({_random_text(rng, depth - 1)})^({exponent})"


def parse(text: str, variables=VARIABLES) -> sympy.Expr:
    return build_spec([text], LIMITS, variables=list(variables)).expressions[0]


def derived(f: sympy.Expr) -> list[sympy.Expr]:
    """f, its first derivatives by x and y, and d2f/dxdy, where the fast layer takes them."""
    out = [f]
    for variable in (symbol("x"), symbol("y")):
        try:
            first = fast.differentiate(f, variable)
        except fast.Unsupported:
            continue
        out.append(first)
        if variable.name == "x":
            try:
                out.append(fast.differentiate(first, symbol("y")))
            except fast.Unsupported:
                pass
    return out


POINT_VALUES = [sympy.Integer(0), sympy.Integer(1), sympy.Integer(-2), sympy.Integer(3),
                sympy.Rational(1, 2), sympy.Rational(-3, 7), sympy.Rational(5, 3),
                sympy.Rational(1, 4), sympy.Rational(-2, 9)]


class _TooSlow(Exception):
    pass


@contextmanager
def _time_limit(seconds: float):
    """SymPy's evaluation of some constants takes minutes (the derivative of
    asin(y)^(-2/3) at y = -2): such values are skipped."""
    def _alarm(signum, frame):
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def values_at_points(exprs, rng: random.Random, count: int = 2) -> list[sympy.Expr]:
    """Exact values at random small rational points (SymPy evaluates on substitution)."""
    values = []
    for expr in exprs:
        for _ in range(count):
            point = {symbol(n): rng.choice(POINT_VALUES) for n in VARIABLES}
            try:
                with _time_limit(0.5):
                    value = expr.xreplace(point)
            except _TooSlow:
                continue
            # (no is_finite: SymPy's assumptions take minutes on some constants)
            if not value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
                values.append(value)
    return values


def symengine_forms(exprs) -> list[se.Basic]:
    """The SymEngine trees of those the fast layer converts."""
    forms = []
    for expr in exprs:
        try:
            forms.append(fast.to_symengine(expr))
        except fast.Unsupported:
            pass
    return forms


def canonical(tree: se.Basic) -> bool:
    """The printers' precondition: the tree is SymPy's canonical form. (Converted afresh:
    ``fast.differentiate`` leaves SymPy's form -> its SymEngine result in the cache.)"""
    try:
        return fast._convert(fast.to_sympy(tree), False) == tree
    except fast.Unsupported:
        return False


def same_structure(tree: se.Basic) -> bool:
    """Stricter than :func:`canonical`: every node's SymPy form has the SymPy forms of the
    node's args as its args (``-sin(x - y)`` passes :func:`canonical`, yet SymPy writes it
    ``sin(-x + y)`` when its sort keys say so)."""
    for node in nodes(tree):
        args = node.args
        if isinstance(node, se.Pow) and args[0] == se.E:  # SymPy's exp(u) has one arg
            args = args[1:]
        try:
            converted = fast.to_sympy(node)
            args = sorted(map(fast.to_sympy, args), key=sympy.default_sort_key)
        except fast.Unsupported:
            return False
        if sorted(converted.args, key=sympy.default_sort_key) != args:
            return False
    return True


def nodes(tree: se.Basic) -> list[se.Basic]:
    """Every distinct node of the tree."""
    seen, stack = {}, [tree]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen[node] = None
            stack.extend(node.args)
    return list(seen)


# -- the reference order: ask SymPy --------------------------------------------------------------

def _in_sympy_order(expr: se.Basic, sympy_order) -> list[se.Basic]:
    by_sympy = {fast.to_sympy(arg): arg for arg in expr.args}
    order = list(sympy_order(fast.to_sympy(expr)))
    if len(order) > 1 and order[0] == -1 and order[1].is_Number:
        order[:2] = [-order[1]]  # args_cnc splits a negative coefficient -c into -1, c
    ordered = [by_sympy.get(term) for term in order]
    if len(ordered) != len(expr.args) or None in ordered:
        raise fast.Unsupported("SymPy regroups this node")
    return ordered


def reference_terms(expr: se.Basic) -> list[se.Basic]:
    return _in_sympy_order(expr, lambda e: e.as_ordered_terms())


def reference_factors(expr: se.Basic) -> list[se.Basic]:
    return _in_sympy_order(expr, lambda e: e.as_ordered_factors())


def survives(call) -> bool:
    """Whether ``call()`` returns in a forked process (MPFR aborts the process on a failed
    assertion: so a regression fails the test that asks, not the whole run)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        faulthandler.disable()  # pytest's: it would print the abort's traceback
        os.close(2)  # MPFR's message
        try:
            call()
        finally:
            os._exit(0)
    return os.waitpid(pid, 0)[1] == 0
