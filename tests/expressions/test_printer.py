"""to_text and to_latex: the grammar's spelling, exactness, refusals, and the round trip."""

import math

import numpy as np
import pytest
import sympy
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from sympy import E, Float, Rational, pi, sqrt

from service.config import Limits
from service.errors import ExpressionError, LimitExceeded
from service.expressions import (
    NUMERIC_FUNCTIONS, UnprintableExpression, parse, symbol, to_latex, to_text,
)
from service.expressions.custom_functions import cbrt, relu, sigmoid, softplus

x, y, z = sympy.symbols("x y z", real=True)
LIMITS = Limits()


@pytest.mark.parametrize("value, text", [
    (x**2, "x^2"),
    (x**-2, "x^(-2)"),
    (1 / x, "1/x"),
    (1 / (x + 1), "1/(x + 1)"),
    (sqrt(x), "sqrt(x)"),
    (1 / sqrt(x), "1/sqrt(x)"),
    (x ** Rational(1, 3), "x^(1/3)"),
    (x ** Rational(-2, 3), "x^(-2/3)"),
    ((x + 1) ** 2, "(x + 1)^2"),
    (-(x**2), "-x^2"),
    (sympy.Pow(-x, 3, evaluate=False), "(-x)^3"),
    (2 ** (x**2), "2^(x^2)"),
    (x ** (y**z), "x^(y^z)"),
    (sympy.Pow(x**y, z, evaluate=False), "(x^y)^z"),
    ((-2) ** x, "(-2)^x"),
    (Rational(1, 2) ** x, "(1/2)^x"),
    (x ** sympy.sin(x), "x^sin(x)"),
    (x / 2, "x/2"),
    (Rational(1, 2), "1/2"),
    (Rational(-3, 4), "-3/4"),
    (x * y / (2 * z), "x*y/(2*z)"),
    (x - y, "x - y"),
    (-x + 1, "1 - x"),
    (2 * pi * x, "2*pi*x"),
    (E, "e"),
    (E * x, "e*x"),
    (sympy.exp(x), "exp(x)"),
    (sympy.exp(-x), "exp(-x)"),
    (sympy.log(x), "log(x)"),
    (sympy.log(x) / sympy.log(2), "log(x)/log(2)"),
    (sympy.Abs(x), "abs(x)"),
    (sympy.sign(x), "sign(x)"),
    (sympy.Heaviside(x), "heaviside(x)"),
    (sympy.Min(x, y), "min(x, y)"),
    (sympy.Max(x, y, 1), "max(1, x, y)"),
    (sympy.atan2(y, x), "atan2(y, x)"),
    (sympy.erf(x), "erf(x)"),
    (sympy.asinh(x) + sympy.acosh(x) + sympy.atanh(x), "acosh(x) + asinh(x) + atanh(x)"),
    (sympy.sec(x) * sympy.csc(x) * sympy.cot(x), "cot(x)*csc(x)*sec(x)"),
    (cbrt(x), "cbrt(x)"),
    (sigmoid(x) * (1 - sigmoid(x)), "(1 - sigmoid(x))*sigmoid(x)"),
    (softplus(x) + relu(x), "relu(x) + softplus(x)"),
    (sympy.Integer(2) ** 100, "1267650600228229401496703205376"),
    (Float(0.5) * x, "0.5*x"),
    (Float(0.1), "0.1000000000000000055511151231257827021181583404541015625"),
    (Float(-2.5), "-2.5"),
    (Float(1e20), "100000000000000000000"),
    (x ** Float(-0.5), "x^(-0.5)"),
    (sympy.Symbol("lambda", real=True) ** 2, "lambda^2"),
])
def test_text_is_in_the_grammar(value, text):
    assert to_text(value) == text


@pytest.mark.parametrize("value", [
    x**2, x**-2, (-x) ** 3 + 1, 2 ** (x**2), x ** (y**z), (x**y) ** z, (-x) ** y,
    Rational(1, 2) ** x, x * y / (2 * z), -(x**2) / 3, sqrt(x) / (x + 1) ** Rational(3, 2),
    sympy.exp(-(x**2) / 2) / sqrt(2 * pi), sympy.Heaviside(x - y) * sympy.Min(x, 2),
    sigmoid(x) * (1 - sigmoid(x)), 1 / (3 * cbrt(x) ** 2), E**2 * pi,
    sympy.log(x) / sympy.log(10), sympy.Abs(x) ** Rational(5, 2),
])
def test_text_parses_back_to_the_same_expression(value):
    assert parse(to_text(value), LIMITS).expr == value


@pytest.mark.parametrize("number, text", [
    (0.1, "0.1000000000000000055511151231257827021181583404541015625"),
    (-2.5e-5, "-0.00002500000000000000119804340059648239957823534496128559112548828125"),
    (0.75, "0.75"),
    (1e20, "100000000000000000000"),
    (5e-324, "(1/2^1074)"),
    (2.0**-400, "(1/2^400)"),
    (-3 * 2.0**900, "-(3*2^900)"),
])
def test_floats_print_as_their_exact_value(number, text):
    assert to_text(Float(number)) == text
    assert parse(to_text(Float(number) * x), LIMITS).expr == Rational(number) * x


@pytest.mark.parametrize("number", [0.1, -2.5e-5, 2.0**-400, -0.75])
def test_float_exponents_parse_back_exactly(number):
    assert parse(to_text(x ** Float(number)), LIMITS).expr == x ** Rational(number)


@pytest.mark.parametrize("value, described", [
    (sympy.Piecewise((x, x > 0), (0, True)), "Piecewise"),
    (sympy.DiracDelta(x), "DiracDelta"),
    (sympy.Derivative(sympy.Function("f")(x), x), "Derivative"),
    (sympy.Integral(x, x), "Integral"),
    (sympy.I * x, "the imaginary unit I"),
    (sympy.zoo, "complex infinity"),
    (sympy.oo + x, "infinity"),
    (sympy.nan, "undefined value"),
    (sympy.EulerGamma, "EulerGamma"),
    (sympy.Heaviside(x, 0), "Heaviside"),
    (sympy.Function("f")(x), "f"),
    (sympy.gamma(x), "gamma"),
    (sympy.Symbol("x y"), "the name 'x y'"),
    (sympy.Symbol("sin"), "the name 'sin'"),
])
def test_parts_outside_the_grammar_are_unprintable(value, described):
    with pytest.raises(UnprintableExpression) as caught:
        to_text(value)
    assert described in str(caught.value)
    assert "cannot be written in the expression syntax" in str(caught.value)


@pytest.mark.parametrize("printer", [to_text, to_latex])
def test_too_deep_to_print_is_unprintable_not_a_crash(printer):
    value = x
    for _ in range(5000):
        value = sympy.sin(value, evaluate=False)
    with pytest.raises(UnprintableExpression, match="nested too deeply"):
        printer(value)


@pytest.mark.parametrize("value, text", [
    (E * symbol("e"), "exp(1)*e"),
    (pi * symbol("pi"), "acos(-1)*pi"),
])
def test_a_variable_named_e_or_pi_does_not_capture_the_constant(value, text):
    assert to_text(value) == text
    names = [s.name for s in value.free_symbols]
    assert parse(text, LIMITS, variables=names).expr == value


@pytest.mark.parametrize("name", ["lambda", "gamma", "I", "E", "S", "N", "beta", "__import__"])
def test_odd_variable_names_print_and_parse_back(name):
    value = 2 * symbol(name) + 1
    assert to_text(value) == f"2*{name} + 1"
    assert parse(to_text(value), LIMITS, variables=[name]).expr == value


@pytest.mark.parametrize("value, latex", [
    (sigmoid(x), r"\sigma\left(x\right)"),
    (sigmoid(x) ** 2, r"\sigma^{2}\left(x\right)"),
    (softplus(x), r"\operatorname{softplus}\left(x\right)"),
    (relu(x), r"\operatorname{ReLU}\left(x\right)"),
    (cbrt(x), r"\sqrt[3]{x}"),
    (cbrt(x) ** 2, r"\left(\sqrt[3]{x}\right)^{2}"),
    (E**x, "e^{x}"),
    (x**2 / 2, r"\frac{x^{2}}{2}"),
    (sympy.Abs(x), r"\left|{x}\right|"),
    (symbol("lambda") ** 2, r"\lambda^{2}"),
    (symbol("x_1"), "x_{1}"),
    (symbol("__import__"), r"\mathit{\_\_import\_\_}"),
    (symbol("a__b"), r"\mathit{a\_\_b}"),
    (sympy.Piecewise((x, x > 0), (0, True)), r"\begin{cases}"),
])
def test_latex(value, latex):
    assert latex in to_latex(value)


# -- round trip of random expressions -------------------------------------------------------

LEAVES = st.one_of(
    st.sampled_from(["x", "y", "z", "pi", "e"]),
    st.integers(0, 30).map(str),
    st.sampled_from(["0.5", "2.25", ".125", "1e-2", "3E1", "10"]),
)
UNARY = ["sin", "cos", "tan", "exp", "log", "sqrt", "cbrt", "abs", "sign", "heaviside",
         "erf", "sigmoid", "softplus", "relu", "atan", "sinh", "tanh", "asinh", "ln", "log2"]
BINARY = ["min", "max", "atan2", "log"]


def _extend(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", " + ", " - "]), children)
        .map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^"]), children).map("".join),
        st.tuples(children, st.sampled_from(["2", "-1", "3", "(1/2)", "(-2/3)", "-2"]))
        .map(lambda t: f"({t[0]})^{t[1]}"),
        children.map(lambda c: f"-({c})"),
        st.tuples(st.sampled_from(UNARY), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(BINARY), children, children)
        .map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(st.integers(1, 9), children).map(lambda t: f"{t[0]}({t[1]})"),
    )


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=10)


def _numerically_equal(first, second, names):
    """Compare at a few random points, for sums SymPy may order or group differently."""
    symbols = [symbol(name) for name in sorted(names)]
    rng = np.random.default_rng(0)
    evaluate = [sympy.lambdify(symbols, value, modules=[NUMERIC_FUNCTIONS, "numpy"])
                for value in (first, second)]
    with np.errstate(all="ignore"):
        for _ in range(5):
            point = rng.uniform(-2, 2, len(symbols))
            a, b = (complex(f(*point)) for f in evaluate)
            if not (math.isfinite(abs(a)) and math.isfinite(abs(b))):
                continue
            assert abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return True


@settings(max_examples=300, deadline=None)
@given(EXPRESSIONS)
@example("-(-(atan2(-(0.5), log2(1e-2))))")  # SymPy regroups these on the second parse
@example("-((-(2(1))) - (-(-(x))))/-(log2(e))")
@example("-(-((0.5/18)/(.125+y)))")
@example("-((y-10)/(asinh(10)))")
def test_round_trip_of_random_expressions(text):
    try:
        first = parse(text, LIMITS)
    except (ExpressionError, LimitExceeded):
        assume(False)
    printed = to_text(first.expr)  # whatever parse accepts is printable
    second = parse(printed, LIMITS, variables=first.names)
    assert second.names <= first.names
    if second.expr != first.expr:
        assert _numerically_equal(first.expr, second.expr, first.names)
    assert parse(to_text(second.expr), LIMITS, variables=first.names).expr == second.expr
