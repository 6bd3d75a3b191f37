"""How exact values at a point are classified: finite real, complex, infinite, undefined."""

from __future__ import annotations

import pytest
import sympy

from service.calculus.evaluation import _classify_exact
from service.expressions.custom_functions import sigmoid


@pytest.mark.parametrize("value", [
    sympy.log(1 - sympy.exp(-40)),                # 1 - e^-40 is in (0, 1): log < 0, real
    sympy.log(1 - sigmoid(sympy.Integer(-40))),   # sigmoid(-40) is in (0, 1) too
    sympy.log(sympy.cos(sympy.Rational(1, 10**9))),
])
def test_a_real_value_sympy_has_called_not_real_is_real(value):
    """SymPy decides signs of numbers from 2-digit evaluations, where these arguments round
    to 1 and the logarithm to 0: asked whether it is negative, then nonnegative (as its
    assumptions may ask), it answers no twice, and caches "not real"."""
    sympy.core.cache.clear_cache()
    value = sympy.sympify(value)  # a fresh object: no cached assumptions yet
    assert value.is_extended_negative is False and value.is_extended_nonnegative is False
    assert value.is_extended_real is False  # SymPy's answer, the state the service meets
    assert _classify_exact(value) is None


@pytest.mark.parametrize("value", [
    sympy.log(1 - sympy.E),          # log of a negative number: pi*I in its imaginary part
    sympy.asin(sympy.Integer(2)),    # outside [-1, 1]
    sympy.sqrt(-2) + 1,              # I written out
])
def test_complex_values_are_complex(value):
    assert _classify_exact(value) == "is complex at this point"


def test_infinite_and_undefined_values():
    assert _classify_exact(sympy.zoo + 1) == "is infinite at this point"
    assert _classify_exact(sympy.nan) == "is undefined at this point"


def test_a_value_whose_2_digit_evaluation_divides_by_zero_is_classified():
    """log(tanh(15)) = -1.9e-13 is 0 to 2 digits, where SymPy's assumptions evaluate csc of
    it (mpmath's 1/sin(0): ZeroDivisionError); csc(-1.9e-13) = -5.3e12 is real."""
    sympy.core.cache.clear_cache()
    value = sympy.csc(sympy.log(sympy.tanh(15))) * -7
    assert _classify_exact(value) is None
