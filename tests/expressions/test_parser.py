"""parse(): the grammar, name resolution, error messages with positions, and every limit.

Expected values are built by hand with SymPy, independently of the parser.
"""

import math
import re
from pathlib import Path

import pytest
import sympy
from sympy import E, Rational, pi, sqrt

from service.config import Limits
from service.errors import ExpressionError, LimitExceeded
from service.expressions import parse

x, y, z = sympy.symbols("x y z", real=True)
LIMITS = Limits()
PACKAGE = Path(__file__).resolve().parents[2] / "service" / "expressions"


def expr(text, **kwargs):
    return parse(text, LIMITS, **kwargs).expr


# -- the grammar --------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2", 2),
    ("2.5", Rational(5, 2)),
    (".5", Rational(1, 2)),
    ("5.", 5),
    ("1e-3", Rational(1, 1000)),
    ("2.5E+3", 2500),
    ("1.25e1", Rational(25, 2)),
    ("0.1", Rational(1, 10)),
    ("0.1 + 0.2", Rational(3, 10)),
    ("007", 7),
    ("1.500", Rational(3, 2)),
    ("0e999999999", 0),
    ("x", x),
    ("xy", sympy.Symbol("xy", real=True)),
    ("x_1 + _y", sympy.Symbol("x_1", real=True) + sympy.Symbol("_y", real=True)),
    ("x + y - z", x + y - z),
    ("x - y - z", x - y - z),
    ("x / y / z", x / (y * z)),
    ("x * y / z", x * y / z),
    ("x ^ 2", x**2),
    ("x ** 2", x**2),
    ("-x^2", -(x**2)),
    ("(-x)^2", x**2),
    ("-2^2", -4),
    ("2^3^2", 512),
    ("2**3**2", 512),
    ("x^-2", x**-2),
    ("x^-y^2", x ** (-(y**2))),
    ("x^+2", x**2),
    ("--x", x),
    ("-+-x", x),
    ("+x", x),
    ("2*-x", -2 * x),
    ("x - -y", x + y),
    ("x^2^-1", sqrt(x)),
    ("(x + 1)^2", (x + 1) ** 2),
    ("((x))", x),
    ("2 ^ (1/2)", sqrt(2)),
    ("a^b^c", sympy.Symbol("a", real=True) ** (sympy.Symbol("b", real=True) ** sympy.Symbol("c", real=True))),
])
def test_grammar(text, expected):
    assert expr(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("2x", 2 * x),
    ("2 x", 2 * x),
    ("3(x+1)", 3 * (x + 1)),
    ("2sin(x)", 2 * sympy.sin(x)),
    ("2pi", 2 * pi),
    ("2e", 2 * E),
    ("2e3x", 2000 * x),
    ("(x+1)(x-1)", (x + 1) * (x - 1)),
    ("(x+1) (x-1)", (x + 1) * (x - 1)),
    ("sin(x)(x+1)", sympy.sin(x) * (x + 1)),
    ("2^3x", 8 * x),
    ("x^2y", x**2 * y),
    ("1/2x", x / 2),
    ("2x^2", 2 * x**2),
    ("-2x", -2 * x),
    ("2(x)(y)", 2 * x * y),
    ("x/2y", x * y / 2),
])
def test_implicit_multiplication_has_the_precedence_of_times(text, expected):
    assert expr(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("sin(x)", sympy.sin(x)), ("cos(x)", sympy.cos(x)), ("tan(x)", sympy.tan(x)),
    ("sec(x)", sympy.sec(x)), ("csc(x)", sympy.csc(x)), ("cot(x)", sympy.cot(x)),
    ("asin(x)", sympy.asin(x)), ("acos(x)", sympy.acos(x)), ("atan(x)", sympy.atan(x)),
    ("atan2(y, x)", sympy.atan2(y, x)),
    ("sinh(x)", sympy.sinh(x)), ("cosh(x)", sympy.cosh(x)), ("tanh(x)", sympy.tanh(x)),
    ("asinh(x)", sympy.asinh(x)), ("acosh(x)", sympy.acosh(x)), ("atanh(x)", sympy.atanh(x)),
    ("exp(x)", sympy.exp(x)), ("e^x", sympy.exp(x)),
    ("log(x)", sympy.log(x)), ("ln(x)", sympy.log(x)),
    ("log(x, 3)", sympy.log(x) / sympy.log(3)),
    ("log2(x)", sympy.log(x) / sympy.log(2)), ("log10(x)", sympy.log(x) / sympy.log(10)),
    ("log(8, 2)", 3), ("log2(1/8)", -3), ("log10(1000)", 3),
    ("sqrt(x)", sympy.sqrt(x)), ("sqrt(8)", 2 * sqrt(2)),
    ("abs(x)", sympy.Abs(x)), ("sign(x)", sympy.sign(x)), ("heaviside(x)", sympy.Heaviside(x)),
    ("min(x, y)", sympy.Min(x, y)), ("max(x, y, 1)", sympy.Max(x, y, 1)),
    ("erf(x)", sympy.erf(x)),
    ("cbrt(-8)", -2), ("heaviside(0)", Rational(1, 2)), ("relu(-2)", 0), ("relu(3)", 3),
    ("sigmoid(0)", Rational(1, 2)), ("softplus(0)", sympy.log(2)),
    ("pi", pi), ("e", E), ("exp(1)", E), ("sin(pi/6)", Rational(1, 2)),
])
def test_functions_and_constants(text, expected):
    assert expr(text) == expected


def test_whitespace_is_ignored():
    assert expr(" \t2 *\n x\u00a0+ sin ( x ) ") == 2 * x + sympy.sin(x)


def test_long_chains_are_built_flat():
    terms = expr(" + ".join(f"x{i}" for i in range(1000)))
    assert len(terms.args) == 1000


# -- names ----------------------------------------------------------------------------------

def test_free_names_become_real_symbols_and_are_reported():
    parsed = parse("x*y + pi + e", LIMITS)
    assert parsed.expr == x * y + pi + E
    assert parsed.names == {"x", "y"}
    assert all(s.is_real for s in parsed.expr.free_symbols)


@pytest.mark.parametrize("name", ["lambda", "gamma", "I", "E", "S", "N", "beta", "__import__", "Q", "oo"])
def test_any_identifier_is_a_variable_with_that_name(name):
    parsed = parse(f"2*{name}", LIMITS)
    assert parsed.expr == 2 * sympy.Symbol(name, real=True)
    assert parsed.names == {name}


def test_constants_are_substituted():
    parsed = parse("a*x + b", LIMITS, constants={"a": Rational(1, 3), "b": sqrt(2)})
    assert parsed.expr == x / 3 + sqrt(2)
    assert parsed.names == {"x"}


@pytest.mark.parametrize("kwargs, expected", [
    ({"variables": ["e"]}, sympy.Symbol("e", real=True) * pi),
    ({"variables": ["pi"]}, E * sympy.Symbol("pi", real=True)),
    ({"constants": {"e": Rational(2)}}, 2 * pi),
    ({"constants": {"pi": Rational(3)}, "variables": ["pi"]}, 3 * E),
])
def test_variables_and_constants_override_pi_and_e(kwargs, expected):
    assert expr("e*pi", **kwargs) == expected


def test_listed_variables_are_symbols_even_without_free_names():
    parsed = parse("x + 1", LIMITS, variables=["x"], allow_names=False)
    assert parsed.expr == x + 1
    assert parsed.names == {"x"}


@pytest.mark.parametrize("text, expected", [
    ("1/3", Rational(1, 3)), ("pi/4", pi / 4), ("sqrt(2)", sqrt(2)), ("-e^2", -E**2),
    ("0.5", Rational(1, 2)), ("log(3)", sympy.log(3)),
])
def test_exact_coordinates_without_names(text, expected):
    assert parse(text, LIMITS, allow_names=False).expr == expected


def test_names_refused_in_exact_coordinates():
    with pytest.raises(ExpressionError) as caught:
        parse("pi/t", LIMITS, allow_names=False)
    assert caught.value.position == 3
    assert "'t' at position 3 is not allowed here" in str(caught.value)
    assert "only numbers, pi, e and functions of them" in str(caught.value)


# -- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message, position", [
    ("", "expression is empty", 0),
    ("   ", "expression is empty", 0),
    ("x y", "missing operator between 'x' and 'y' at position 2; write x*y", 2),
    ("(x+1)x", "missing operator between '(x+1)' and 'x' at position 5; write (x+1)*x", 5),
    ("x 2", "missing operator between 'x' and '2' at position 2; write x*2", 2),
    ("2 3", "missing operator between '2' and '3' at position 2; write 2*3", 2),
    ("sin(x)y", "missing operator between 'sin(x)' and 'y' at position 6; write sin(x)*y", 6),
    ("pi x", "missing operator between 'pi' and 'x' at position 3; write pi*x", 3),
    ("(x)2", "missing operator between '(x)' and '2' at position 3", 3),
    ("1.2.3", "missing operator between '1.2' and '.3' at position 3", 3),
    ("x(y+1)", "x(y+1): 'x' at position 0 is not a function; write x*(y+1)", 0),
    ("2 + f (x)", "f (x): 'f' at position 4 is not a function; write f*(x)", 4),
    ("pi(2)", "'pi' at position 0 is not a function; write pi*(2)", 0),
    ("sinn(x)", "unknown function 'sinn' at position 0; did you mean 'sin'?", 0),
    ("1 + Sin(x)", "unknown function 'Sin' at position 4; did you mean 'sin'?", 4),
    ("arctan(x)", "unknown function 'arctan' at position 0; did you mean 'atan'?", 0),
    ("sin + 1", "'sin' at position 0 is a function; call it like sin(x)", 0),
    ("2 exp", "'exp' at position 2 is a function; call it like exp(x)", 2),
    ("log(x, 2, 3)", "log takes 1 or 2 arguments (log(x, base)) but got 3 at position 0", 0),
    ("x + sin()", "sin takes 1 argument (sin(x)) but got 0 at position 4", 4),
    ("atan2(x)", "atan2 takes 2 arguments (atan2(y, x)) but got 1", 0),
    ("max(x)", "max takes 2 or more arguments (max(a, b, ...)) but got 1", 0),
    ("x + (y * (z", "unclosed '(' opened at position 9", 9),
    ("sin(x", "unclosed '(' opened at position 3", 3),
    ("(", "unclosed '(' opened at position 0", 0),
    ("x + 1)", "unexpected ')' at position 5; it has no matching '('", 5),
    ("(x + 1))", "unexpected ')' at position 7", 7),
    ("()", "unexpected ')' at position 1; the parentheses are empty", 1),
    ("x + * y", "unexpected '*' at position 4; expected a number, a name or '(' after '+'", 4),
    ("*x", "unexpected '*' at position 0", 0),
    ("^2", "unexpected '^' at position 0", 0),
    ("x ^ ^ 2", "unexpected '^' at position 4", 4),
    ("log(x,)", "unexpected ')' at position 6", 6),
    ("log(,x)", "unexpected ',' at position 4", 4),
    ("x, y", "unexpected ',' at position 1; commas only separate the arguments of a function", 1),
    ("x +", "unexpected end of expression at position 3; '+' must be followed by", 3),
    ("x^", "unexpected end of expression at position 2", 2),
    ("x * * y", "unexpected '*' at position 4", 4),
    ("1/0", "division by zero at position 1", 1),
    ("x / (1 - 1)", "division by zero at position 2", 2),
    ("x/(y - y)", "division by zero at position 1", 1),
    ("x / 0.0", "division by zero at position 2", 2),
    ("log(0)", "log(0) is undefined (it is -infinity) at position 0", 0),
    ("1 + ln(1 - 1)", "log(0) is undefined (it is -infinity) at position 4", 4),
    ("log(x, 1)", "a logarithm to base 1 is undefined at position 0", 0),
    ("log(x, 0)", "a logarithm to base 0 is undefined at position 0", 0),
    ("tan(pi/2)", "tan(pi/2) at position 0 is not a finite number", 0),
    ("x + 0^-1", "0^-1 at position 4 is not a finite number", 4),
    ("atan2(0, 0)", "atan2(0, 0) at position 0 is not a finite number", 0),
    ("sqrt(-1)", "sqrt(-1) at position 0 is not a real number", 0),
    ("log(-2)", "log(-2) at position 0 is not a real number", 0),
    ("(-4)^(1/2)", "(-4)^(1/2) at position 0 is not a real number", 0),
    # complex constants SymPy keeps in real-looking form, refused where they are made
    ("x*asin(2)", "asin(2) at position 2 is not a real number (asin is real for -1 <= x <= 1)",
     2),
    ("acos(e) + x", "acos(e) at position 0 is not a real number (acos is real for", 0),
    ("x + acosh(1/3)", "acosh(1/3) at position 4 is not a real number (acosh is real for x >= 1",
     4),
    ("cosh(tanh(15*atanh(-3)))", "atanh(-3) at position 13 is not a real number", 13),
    ("x*(-8)^(1/3)", "(-8)^(1/3) at position 2 is not a real number (a fractional power of a "
     "negative number is its principal root, which is complex; cbrt(x) is the real cube", 2),
    ("x*(1 - pi)^(1/3)", "(1 - pi)^(1/3) at position 2 is not a real number", 2),
    ("x + sqrt(1 - e)", "sqrt(1 - e) at position 4 is not a real number", 4),
    ("(-1)^pi*x", "(-1)^pi at position 0 is not a real number (a negative number to a "
     "non-integer power is complex)", 0),
    ("(-2)^x", "(-2)^x at position 0 raises a negative number to a variable power, which is "
     "not a real function", 0),
    ("y + (1 - pi)^(x^2)", "(1 - pi)^(x^2) at position 4 raises a negative number to a "
     "variable power", 4),
])
def test_error_messages_name_the_position(text, message, position):
    with pytest.raises(ExpressionError) as caught:
        parse(text, LIMITS)
    assert message in str(caught.value)
    assert caught.value.position == position
    assert caught.value.errors[0].position == position


@pytest.mark.parametrize("text, value", [
    # real constants next to the refused ones: inside the domains, on their closed ends,
    # and principal values SymPy reduces (acos(cos(4)) = 2*pi - 4)
    ("asin(1)", math.pi / 2), ("acos(-1)", math.pi), ("acosh(1)", 0.0),
    ("atanh(1/2)", math.atanh(0.5)), ("acos(cos(4))", 2 * math.pi - 4),
    ("(pi - 1)^(1/3)", (math.pi - 1) ** (1 / 3)), ("2^pi", 2**math.pi),
    ("cbrt(-8)", -2.0), ("(-8)^(2)", 64.0), ("(1 - pi)^2", (1 - math.pi) ** 2),
])
def test_real_constants_are_kept(text, value):
    assert float(parse(text, LIMITS).expr) == pytest.approx(value, rel=1e-14, abs=1e-15)


def test_positive_constants_to_variable_powers_are_kept():
    assert parse("(pi - 3)^x", LIMITS, variables=["x"]).expr == (pi - 3) ** x
    assert parse("(-x)^y", LIMITS, variables=["x", "y"]).expr == (-x) ** y


def test_reciprocals_of_small_roots_are_kept():
    # 1/n^(1/q) is n^((q - 1)/q)/n: the radical check, now also for integer exponents,
    # leaves small ones alone
    assert parse("1/3^(1/7)", LIMITS).expr == 3 ** Rational(6, 7) / 3
    assert parse("1/100^0.000000001", LIMITS).expr == 1 / Rational(100) ** Rational(1, 10**9)
    assert parse("(2^(1/3))^2", LIMITS).expr == 2 ** Rational(2, 3)


def test_sympy_failing_on_valid_input_is_an_expression_error():
    # SymPy cannot decide whether 2^3000 - k*pi > pi/2 and fails inside atan's evaluation
    with pytest.raises(ExpressionError) as caught:
        parse("1 + atan(tan(2^3000))", LIMITS)
    assert "atan(tan(2^3000)) at position 4 could not be evaluated exactly" in str(caught.value)
    assert caught.value.position == 4


def test_short_names_are_not_taken_for_misspelt_functions():
    with pytest.raises(ExpressionError, match=r"'ab' at position 0 is not a function"):
        parse("ab(x)", LIMITS)


def test_a_listed_variable_is_not_taken_for_a_misspelt_function():
    with pytest.raises(ExpressionError, match=r"sinn\(x\): 'sinn' at position 0 is not a function"):
        parse("sinn(x)", LIMITS, variables=["sinn", "x"])


@pytest.mark.parametrize("text, hint, position", [
    ("3 × x", "'×' (MULTIPLICATION SIGN) at position 2; type '*' instead", 2),
    ("2·x", "type '*' instead", 1),
    ("x − 1", "'−' (MINUS SIGN) at position 2; type '-' instead", 2),
    ("x – 1", "type '-' instead", 2),
    ("x²", "'²' (SUPERSCRIPT TWO) at position 1; type '^2' instead", 1),
    ("x ÷ 2", "type '/' instead", 2),
    ("2π", "names are ASCII: write 'pi'", 1),
    ("α + 1", "names are ASCII: write 'alpha'", 0),
    ("√x", "type 'sqrt(...)' instead", 0),
    ("x = 1", "unexpected character '=' at position 2; write only the expression", 2),
    ("|x|", "write abs(x) for |x|", 0),
    ("[x]", "use ( and ) for grouping", 0),
    ("3!", "factorials are not supported", 1),
    ("x ; y", "unexpected character ';' at position 2", 2),
    ("x\x00", "unexpected character '\\x00' (U+0000) at position 1", 1),
    ("x·y", "at position 1", 1),
])
def test_characters_outside_the_grammar_get_hints(text, hint, position):
    with pytest.raises(ExpressionError) as caught:
        parse(text, LIMITS)
    assert "unexpected character" in str(caught.value)
    assert hint in str(caught.value)
    assert caught.value.position == position


def test_non_string_input_is_an_expression_error():
    with pytest.raises(ExpressionError, match="must be a string"):
        parse(3, LIMITS)


# -- limits ---------------------------------------------------------------------------------

def limit_error(text, limits=LIMITS, **kwargs):
    with pytest.raises(LimitExceeded) as caught:
        parse(text, limits, **kwargs)
    return caught.value


def test_length_is_checked_before_anything_else():
    error = limit_error("×" * 11, Limits(max_expression_length=10))
    assert error.limit == 10
    assert error.env_var == "GRADIENT_MAX_EXPRESSION_LENGTH"
    assert "the expression has 11 characters; the limit is 10" in str(error)
    assert error.errors[0].position == 10


def test_length_at_the_limit_is_accepted():
    assert parse("x" * 10, Limits(max_expression_length=10)).names == {"x" * 10}


@pytest.mark.parametrize("depth", [1, 50, 200])
def test_nesting_up_to_the_limit_parses(depth):
    assert expr("(" * depth + "x" + ")" * depth) == x


@pytest.mark.parametrize("text, position", [
    ("(" * 201 + "x" + ")" * 201, 200),
    ("sin(" * 201 + "x" + ")" * 201, 800),
    ("-" * 201 + "x", 200),
    ("^".join(["x"] * 202), 401),
    ("-(" * 101 + "x" + ")" * 101, 200),
])
def test_nesting_past_the_limit_is_refused(text, position):
    error = limit_error(text)
    assert error.limit == 200
    assert error.env_var == "GRADIENT_MAX_NESTING_DEPTH"
    assert f"nests too deeply at position {position}" in str(error)
    assert error.errors[0].position == position


@pytest.mark.parametrize("text", [
    "(" * 100_000,
    "-" * 50_000 + "x",
    "^".join(["x"] * 5000),
    "sin(" * 20_000,
    "(" * 50_000 + "x" + ")" * 50_000,
])
def test_pathological_nesting_is_refused_without_recursion(text):
    error = limit_error(text, Limits(max_expression_length=1_000_000))
    assert error.env_var == "GRADIENT_MAX_NESTING_DEPTH"


def test_deep_nesting_under_a_raised_limit_does_not_recurse():
    roomy = Limits(max_expression_length=10**6, max_nesting_depth=10**6, max_expression_nodes=10**6)
    assert parse("(" * 30_000 + "x" + ")" * 30_000, roomy).expr == x
    assert parse("-(" * 3000 + "x" + ")" * 3000, roomy).expr == x


def test_node_count_is_limited():
    small = Limits(max_expression_nodes=5)
    assert parse("x + y + z", small).expr == x + y + z  # 5 nodes
    error = limit_error("x + y + z + 1", small)
    assert error.env_var == "GRADIENT_MAX_EXPRESSION_NODES"
    assert error.errors[0].position == 10


@pytest.mark.parametrize("text", [
    "9" * 100, "1e99", "1" + "0" * 99, "1e-99", "0." + "0" * 98 + "1", "1" * 50 + "." + "1" * 50,
])
def test_literals_up_to_100_digits_are_accepted(text):
    expr(text)


@pytest.mark.parametrize("text, problem", [
    ("1" + "0" * 100, "has 101 digits"),
    ("1e500", "has 501 digits"),
    ("1e100", "has 101 digits"),
    ("1e-100", "has a denominator of 101 digits"),
    ("0." + "0" * 99 + "1", "has a denominator of 101 digits"),
    ("0." + "0" * 500 + "1", "has a denominator of more than 100 digits"),
    ("1" * 60 + "." + "1" * 60, "has 120 significant digits"),
    ("1e" + "9" * 20, "has an exponent of more than 9 digits"),
    ("1" * 9000, "has 9,000 digits"),
])
def test_oversized_literals_are_refused(text, problem):
    error = limit_error(f"x + {text}")
    assert error.env_var == "GRADIENT_MAX_INTEGER_DIGITS"
    assert problem in str(error)
    assert error.errors[0].position == 4


def test_integer_digit_limit_is_configurable():
    assert expr("12345") == 12345
    assert "has 6 digits" in str(limit_error("123456", Limits(max_integer_digits=5)))


@pytest.mark.parametrize("text, position", [
    ("x^10001", 2),
    ("x^-10001", 2),
    ("x^(10^10)", 2),
    ("2^(10^10)", 2),
    ("9^9^9^9", 4),
    ("pi^(10^5)", 3),
    ("e^(10^5)", 2),
])
def test_large_exponents_are_refused(text, position):
    error = limit_error(text)
    assert error.env_var == "GRADIENT_MAX_EXPONENT"
    assert error.limit == 10_000
    assert error.errors[0].position == position


@pytest.mark.parametrize("text", [
    "(x^10000)^10000",
    "(x^100)^200",
    "x^6000 * x^6000",
    "(x^(1/2))^30000",
])
def test_exponents_combined_by_sympy_are_refused(text):
    assert limit_error(text).env_var == "GRADIENT_MAX_EXPONENT"


def test_exponents_at_the_limit_are_accepted():
    assert expr("x^10000") == x**10000
    assert expr("x^(-10000)") == x**-10000
    assert expr("(x^100)^100") == x**10000


@pytest.mark.parametrize("text", [
    "((10^99)^10000)^10000",
    "(10^99)^10000",
    "2^10000 * 2^10000",
    "(2^5000)^3",
    "(2 * sqrt(3))^10000 * 7^9000",
    "(1/3)^9000",
    "3^(-9000)",
    "(2*x)^10000 * 3^9000",
    " + ".join(f"1/{n}" for n in range(1, 1500)),
])
def test_huge_exact_numbers_are_refused_before_sympy_computes_them(text):
    error = limit_error(text, Limits(max_expression_length=100_000))
    assert error.env_var == "GRADIENT_MAX_NUMBER_DIGITS"


def test_large_numbers_within_the_limit_are_exact():
    # 2^3000 has 904 digits, under the default of 1,000
    assert expr("2^3000") == 2**3000
    assert expr("sqrt(3)^1999") == 3**999 * sqrt(3)


def test_numbers_past_the_digit_limit_are_refused():
    with pytest.raises(LimitExceeded, match="GRADIENT_MAX_NUMBER_DIGITS"):
        expr("2^10000")


@pytest.mark.parametrize("text", [
    "sqrt(10^99+1) * sqrt(10^99+3)",
    "(2^1000 + 1)^(1/2)",
    "(2^1000 + 1)^(1/3)",
    "sqrt(2^1000 + 1)",
    " * ".join(f"sqrt(10^99+{2 * k + 1})" for k in range(40)),
])
def test_inexact_roots_of_large_numbers_are_refused(text):
    # refused for the root itself, or earlier for the size of the product's numbers
    assert limit_error(text).env_var in {"GRADIENT_MAX_INTEGER_DIGITS",
                                         "GRADIENT_MAX_NUMBER_DIGITS"}


def test_exact_roots_of_large_numbers_are_computed():
    assert expr("sqrt(2^1000)") == 2**500
    assert expr("(2^999)^(1/3)") == 2**333
    assert expr("sqrt(10^99 + 1)") == sqrt(10**99 + 1)


# -- safety -----------------------------------------------------------------------------------

def test_the_package_never_calls_anything_that_evaluates_text():
    # SymPy's Function.eval classmethods are definitions ("def eval("), not calls
    evaluating_call = re.compile(
        r"(?<!def )(?<![\w.])(eval|exec|compile|__import__)\s*\("  # the builtins
        r"|\b(sympify|parse_expr)\s*\("  # SymPy's text evaluators, however imported
        r"|(?<!\w)S\s*\("  # S("...") is sympify
    )
    sources = sorted(PACKAGE.glob("*.py"))
    assert sources, "the package sources were not found"
    offending = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if evaluating_call.search(line)
    ]
    assert offending == []


@pytest.mark.parametrize("text", [
    "__import__('os')", "eval(1)", "exec(x)", "x.__class__", "lambda: 1", "x if y else z",
    "[x for x in y]", "{}", "'abc'", "x; y", "x\ny)", "S('x')", "x @ y", "x % y",
])
def test_python_syntax_is_just_an_error(text):
    with pytest.raises(ExpressionError):
        parse(text, LIMITS)
