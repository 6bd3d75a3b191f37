"""The function registry, the custom SymPy functions, their NumPy versions, and symbols."""

import math

import mpmath
import numpy as np
import pytest
import sympy
from numpy.testing import assert_allclose
from sympy import Rational

from service.config import Limits
from service.errors import InvalidInput
from service.expressions import (
    CONSTANTS, FUNCTIONS, NUMERIC_FUNCTIONS, check_variable_name, parse, symbol,
)
from service.expressions.custom_functions import cbrt, relu, sigmoid, softplus
from service.expressions.functions import reciprocal_trig

x, y = sympy.symbols("x y", real=True)
LIMITS = Limits()

# The contract's list (API.md, "Expression syntax"), with arities.
CONTRACT = {
    "sin": (1, 1), "cos": (1, 1), "tan": (1, 1), "sec": (1, 1), "csc": (1, 1), "cot": (1, 1),
    "asin": (1, 1), "acos": (1, 1), "atan": (1, 1), "atan2": (2, 2),
    "sinh": (1, 1), "cosh": (1, 1), "tanh": (1, 1),
    "asinh": (1, 1), "acosh": (1, 1), "atanh": (1, 1),
    "exp": (1, 1), "log": (1, 2), "ln": (1, 1), "log2": (1, 1), "log10": (1, 1),
    "sqrt": (1, 1), "cbrt": (1, 1), "abs": (1, 1), "sign": (1, 1), "heaviside": (1, 1),
    "min": (2, None), "max": (2, None), "erf": (1, 1),
    "sigmoid": (1, 1), "softplus": (1, 1), "relu": (1, 1),
}


# -- the registry ---------------------------------------------------------------------------

def test_registry_holds_exactly_the_contract_functions():
    assert {name: (f.min_args, f.max_args) for name, f in FUNCTIONS.items()} == CONTRACT


def test_registry_entries_are_documented():
    for name, info in FUNCTIONS.items():
        assert info.name == name
        assert info.signature.startswith(name + "(")
        assert info.description


def test_constants():
    assert {name: c.value for name, c in CONSTANTS.items()} == {"pi": sympy.pi, "e": sympy.E}
    assert all(c.description for c in CONSTANTS.values())


def test_registry_is_read_only():
    with pytest.raises(TypeError):
        FUNCTIONS["eval"] = FUNCTIONS["sin"]


@pytest.mark.parametrize("name, text", [
    ("log", "1 or 2 arguments"), ("sin", "1 argument"), ("atan2", "2 arguments"),
    ("min", "2 or more arguments"),
])
def test_arity_text(name, text):
    assert FUNCTIONS[name].arity_text() == text


# -- custom functions ---------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (sigmoid(0), Rational(1, 2)),
    (sigmoid(sympy.oo), 1),
    (sigmoid(-sympy.oo), 0),
    (softplus(0), sympy.log(2)),
    (relu(-2), 0),
    (relu(3), 3),
    (relu(Rational(-1, 2)), 0),
    (relu(sympy.pi - 4), 0),
    (relu(sympy.pi), sympy.pi),
    (cbrt(-8), -2),
    (cbrt(27), 3),
    (cbrt(Rational(-27, 8)), Rational(-3, 2)),
    (cbrt(0), 0),
    (cbrt(-2), -cbrt(2)),
    (cbrt(-x), -cbrt(x)),
    (cbrt(x**3), x),
    (cbrt(x) ** 3, x),
    (cbrt(x) ** 6, x**2),
])
def test_exact_values(value, expected):
    assert value == expected


@pytest.mark.parametrize("value, derivative", [
    (sigmoid(x), sigmoid(x) * (1 - sigmoid(x))),
    (softplus(x), sigmoid(x)),
    (relu(x), sympy.Heaviside(x)),
    (cbrt(x), 1 / (3 * cbrt(x) ** 2)),
    (sigmoid(x**2), 2 * x * sigmoid(x**2) * (1 - sigmoid(x**2))),
])
def test_derivatives(value, derivative):
    assert sympy.simplify(value.diff(x) - derivative) == 0


@pytest.mark.parametrize("value, expected", [
    (sigmoid(1), 1 / (1 + math.exp(-1))),
    (sigmoid(-3), 1 / (1 + math.exp(3))),
    (softplus(2), math.log1p(math.exp(2))),
    (relu(Rational(5, 2)), 2.5),
    (cbrt(-2), -(2 ** (1 / 3))),
    (cbrt(Rational(1, 3)), (1 / 3) ** (1 / 3)),
])
def test_numeric_values_by_evalf(value, expected):
    assert float(value.evalf(30)) == pytest.approx(expected, rel=1e-14)


def test_evalf_leaves_symbolic_arguments_alone():
    assert sigmoid(x).evalf() == sigmoid(x)


@pytest.mark.parametrize("value, is_real, is_positive", [
    (sigmoid(x), True, True),
    (softplus(x), True, True),
    (relu(x), True, None),
    (cbrt(x), True, None),
    (cbrt(2), True, True),
    (cbrt(-2), True, False),
])
def test_assumptions_for_real_arguments(value, is_real, is_positive):
    assert value.is_real is is_real
    assert value.is_positive is is_positive


def test_relu_is_nonnegative():
    assert relu(x).is_nonnegative is True


@pytest.mark.parametrize("value, rewritten", [
    (sigmoid(x).rewrite(sympy.exp), 1 / (1 + sympy.exp(-x))),
    (softplus(x).rewrite(sympy.log), sympy.log(1 + sympy.exp(x))),
    (relu(x).rewrite(sympy.Max), sympy.Max(0, x)),
    (relu(x).rewrite(sympy.Heaviside), x * sympy.Heaviside(x)),
    (cbrt(x).rewrite(sympy.Pow), sympy.sign(x) * sympy.Abs(x) ** Rational(1, 3)),
])
def test_rewrites_into_sympy_builtins(value, rewritten):
    assert value == rewritten


# -- numeric versions -----------------------------------------------------------------------

# A point inside each function's domain, and a reference value computed with math.
REFERENCE = {
    "sin": (0.7, math.sin(0.7)), "cos": (0.7, math.cos(0.7)), "tan": (0.7, math.tan(0.7)),
    "sec": (0.7, 1 / math.cos(0.7)), "csc": (0.7, 1 / math.sin(0.7)),
    "cot": (0.7, 1 / math.tan(0.7)), "asin": (0.7, math.asin(0.7)),
    "acos": (0.7, math.acos(0.7)), "atan": (0.7, math.atan(0.7)),
    "sinh": (0.7, math.sinh(0.7)), "cosh": (0.7, math.cosh(0.7)),
    "tanh": (0.7, math.tanh(0.7)), "asinh": (0.7, math.asinh(0.7)),
    "acosh": (1.7, math.acosh(1.7)), "atanh": (0.7, math.atanh(0.7)),
    "exp": (0.7, math.exp(0.7)), "log": (0.7, math.log(0.7)), "ln": (0.7, math.log(0.7)),
    "log2": (0.7, math.log2(0.7)), "log10": (0.7, math.log10(0.7)),
    "sqrt": (0.7, math.sqrt(0.7)), "cbrt": (-0.7, -(0.7 ** (1 / 3))),
    "abs": (-0.7, 0.7), "sign": (-0.7, -1.0), "heaviside": (-0.7, 0.0),
    "erf": (0.7, math.erf(0.7)), "sigmoid": (0.7, 1 / (1 + math.exp(-0.7))),
    "softplus": (0.7, math.log1p(math.exp(0.7))), "relu": (-0.7, 0.0),
}
REFERENCE_2 = {
    "atan2": ((0.7, -0.3), math.atan2(0.7, -0.3)),
    "log": ((0.7, 3.0), math.log(0.7, 3.0)),
    "min": ((0.7, -0.3), -0.3),
    "max": ((0.7, -0.3), 0.7),
}


def test_every_function_has_a_numeric_reference():
    assert set(REFERENCE) | set(REFERENCE_2) == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_every_function_lambdifies_with_numpy(name):
    point, expected = REFERENCE[name]
    value = parse(f"{name}(x)", LIMITS).expr
    compiled = sympy.lambdify([x], value, modules=[NUMERIC_FUNCTIONS, "numpy"])
    assert_allclose(compiled(point), expected, rtol=1e-13)
    assert_allclose(compiled(np.array([point, point])), [expected, expected], rtol=1e-13)


@pytest.mark.parametrize("name", sorted(REFERENCE_2))
def test_every_two_argument_function_lambdifies_with_numpy(name):
    (a, b), expected = REFERENCE_2[name]
    value = parse(f"{name}(x, y)", LIMITS).expr
    compiled = sympy.lambdify([x, y], value, modules=[NUMERIC_FUNCTIONS, "numpy"])
    assert_allclose(compiled(a, b), expected, rtol=1e-13)


def test_derivatives_of_custom_functions_lambdify():
    value = parse("sigmoid(x) + softplus(x) + relu(x) + cbrt(x) + erf(x)", LIMITS).expr
    gradient = sympy.lambdify([x], value.diff(x), modules=[NUMERIC_FUNCTIONS, "numpy"])
    s = 1 / (1 + math.exp(-2.0))
    expected = s * (1 - s) + s + 1 + 1 / (3 * 2 ** (2 / 3)) + 2 / math.sqrt(math.pi) * math.exp(-4)
    assert_allclose(gradient(2.0), expected, rtol=1e-13)


def test_numeric_functions_are_stable_for_large_arguments():
    far = np.array([-1e308, -800.0, -40.0, 0.0, 40.0, 800.0, 1e308])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sig = NUMERIC_FUNCTIONS["sigmoid"](far)
        soft = NUMERIC_FUNCTIONS["softplus"](far)
    assert_allclose(sig, [0, 0, 1 / (1 + math.exp(40)), 0.5, 1 / (1 + math.exp(-40)), 1, 1])
    assert_allclose(soft, [0, 0, math.log1p(math.exp(-40)), math.log(2), 40, 800, 1e308])


def test_numeric_functions_propagate_nan_and_keep_scalars_scalar():
    for name in ("sigmoid", "softplus", "relu", "erf", "cbrt", "logtanh"):
        assert np.isnan(NUMERIC_FUNCTIONS[name](np.nan))
        assert np.ndim(NUMERIC_FUNCTIONS[name](0.5)) == 0


def test_numeric_erf_matches_math():
    points = np.linspace(-6, 6, 101)
    assert_allclose(NUMERIC_FUNCTIONS["erf"](points), [math.erf(p) for p in points], rtol=1e-15)


# -- symbols and names ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["x", "lambda", "I", "E", "S", "N", "beta", "__import__", "Q"])
def test_symbol_is_real_named_exactly_and_cached(name):
    made = symbol(name)
    assert made == sympy.Symbol(name, real=True)
    assert made.name == name and made.is_real
    assert symbol(name) is made


@pytest.mark.parametrize("name", ["x", "x1", "_x", "lambda", "pi", "e", "Sin", "x_y_2"])
def test_valid_variable_names(name):
    check_variable_name(name, "variables/0")


@pytest.mark.parametrize("name, message", [
    ("", "is not a valid name"),
    ("2x", "is not a valid name"),
    ("x y", "is not a valid name"),
    ("x-y", "is not a valid name"),
    ("α", "is not a valid name"),
    (3, "is not a valid name"),
    ("x" * 100 + "!", "is not a valid name"),
    ("sin", "'sin' is the name of a function"),
    ("log10", "'log10' is the name of a function"),
])
def test_invalid_variable_names(name, message):
    with pytest.raises(InvalidInput) as caught:
        check_variable_name(name, "variables/1")
    assert caught.value.errors[0].field == "variables/1"
    assert message in caught.value.errors[0].message


@pytest.mark.parametrize("function", [sigmoid, softplus])
def test_sigmoid_and_softplus_of_an_undefined_number_are_undefined(function):
    """As exp(zoo) is nan: SymPy's evaluation of 1/0 inside never reaches their evalf."""
    assert function(sympy.zoo) is sympy.nan
    assert function(sympy.nan) is sympy.nan


@pytest.mark.parametrize("function", [sigmoid, softplus])
@pytest.mark.parametrize("first, second", [
    ("is_extended_negative", "is_extended_positive"), ("is_extended_nonnegative", "is_zero"),
    ("is_extended_nonnegative", "is_extended_real"),
])
def test_their_signs_at_tiny_values_never_come_from_a_2_digit_evaluation(function, first, second):
    """softplus(-16 - 4*pi) = log(1 + e^-28.6) = 3.9e-13 > 0 and sigmoid of it is in (0, 1);
    SymPy's 2-digit evaluation makes the first 0, and, asked in these orders, took it to
    be zero: cosh of it was then 1."""
    sympy.core.cache.clear_cache()
    value = function(-16 - 4 * sympy.pi)
    getattr(value, first), getattr(value, second)
    assert value.is_zero is False and value.is_positive and value.is_extended_real
    assert sympy.cosh(value) != 1


def test_numeric_functions_take_complex_intermediates():
    """sigmoid and softplus of 1j*pi/2 by their formulas; erf has no complex form: NaN."""
    z = np.complex128(1j * math.pi / 2)
    assert NUMERIC_FUNCTIONS["sigmoid"](z) == pytest.approx(1 / (1 + np.exp(-z)))
    assert NUMERIC_FUNCTIONS["softplus"](z) == pytest.approx(np.log(1 + 1j))
    assert np.isnan(NUMERIC_FUNCTIONS["erf"](np.array([z, z]))).all()


_z = sympy.Symbol("z", real=True)
_SHIFTS = [0, sympy.pi / 2, -sympy.pi / 2, sympy.pi, 3 * sympy.pi / 2, sympy.pi / 3,
           2 * sympy.pi / 3, 5 * sympy.pi / 7, -sympy.pi / 4, 7 * sympy.pi / 6, 2 * sympy.pi]
_PARTS = [_z, -_z, 2 * _z, _z / 3, sympy.pi * _z, -sympy.pi * _z / 2, _z + sympy.exp(2),
          sympy.log(3) - _z, sympy.Integer(0), sympy.Integer(-2), sympy.Rational(1, 3),
          sympy.Float(2.5), sympy.asin(_z), sympy.acsc(_z), sympy.asec(_z)]


@pytest.mark.parametrize("cls", [sympy.csc, sympy.sec], ids=str)
def test_reciprocal_trig_builds_what_sympy_builds_where_sympy_is_right(cls):
    """Wherever SymPy's own csc/sec is right (nothing inside that rewrites to sec or csc),
    reciprocal_trig makes the same object: shifts by multiples of pi/2 and pi, signs,
    inverse functions, numbers and floats."""
    for part in _PARTS:
        for shift in _SHIFTS:
            arg = part + shift
            assert reciprocal_trig(cls, arg) == cls(arg), arg


@pytest.mark.parametrize("cls, reciprocal_of", [(sympy.csc, mpmath.sin),
                                                 (sympy.sec, mpmath.cos)], ids=str)
def test_reciprocal_trig_rewrites_the_top_only(cls, reciprocal_of):
    """SymPy's csc(w - pi/2) rewrites the -cos(w) it finds with rewrite(sec), inside w too:
    cosh(3) became 1/sec(3*I), and the builder called csc(z - pi/2 + asinh(2)*cosh(3)) not
    real. The value, against mpmath: 1/sin(w - pi/2) (1/cos for sec)."""
    inner = sympy.asinh(2) * sympy.cosh(3)
    built = reciprocal_trig(cls, _z - sympy.pi / 2 + inner)
    assert not built.has(sympy.I)
    assert built.free_symbols == {_z}
    with mpmath.workdps(40):
        want = 1 / reciprocal_of(2 - mpmath.pi / 2 + mpmath.asinh(2) * mpmath.cosh(3))
    assert float(built.subs(_z, 2).evalf(30)) == pytest.approx(float(want), rel=1e-15, abs=0)
