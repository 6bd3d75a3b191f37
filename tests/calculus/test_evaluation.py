"""How exact values at a point are classified (finite real, complex, infinite, undefined),
and the float64 given beside them."""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy

from service.calculus import evaluation
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


class _BrokenAssumptions(sympy.Function):
    """A real number whose assumptions raise AttributeError, as SymPy's own sec(3*I) does
    under some hash seeds (it asks cosh(3) for ``_eval_is_extended_real``)."""

    def _eval_is_extended_real(self):
        raise AttributeError("'cosh' object has no attribute '_eval_is_extended_real'")

    def _eval_evalf(self, prec):
        return sympy.Float(0.5, prec)


def test_a_value_whose_assumptions_fail_is_classified_at_30_digits():
    """Under PYTHONHASHSEED=11 the Hessian of csc(4 - pi/z + asinh(z)*cosh(3)) at 2 was a
    500 from here (a CI run found it)."""
    assert _classify_exact(_BrokenAssumptions(sympy.Integer(1)) + 1) is None


def test_infinite_and_undefined_values():
    assert _classify_exact(sympy.zoo + 1) == "is infinite at this point"
    assert _classify_exact(sympy.nan) == "is undefined at this point"


def test_a_value_whose_2_digit_evaluation_divides_by_zero_is_classified():
    """log(tanh(15)) = -1.9e-13 is 0 to 2 digits, where SymPy's assumptions evaluate csc of
    it (mpmath's 1/sin(0): ZeroDivisionError); csc(-1.9e-13) = -5.3e12 is real."""
    sympy.core.cache.clear_cache()
    value = sympy.csc(sympy.log(sympy.tanh(15))) * -7
    assert _classify_exact(value) is None


# -- the float of an exact value ---------------------------------------------------------------

def _mp(text: str, **values) -> float:
    """``text`` evaluated by mpmath at 80 digits (an independent reference)."""
    mpmath.mp.dps = 80
    namespace = {"cos": mpmath.cos, "sin": mpmath.sin, "cosh": mpmath.cosh,
                 "sinh": mpmath.sinh, "exp": mpmath.exp, "sech": mpmath.sech, **values}
    return float(eval(text, {"__builtins__": {}}, namespace))  # our own literal text


@pytest.mark.parametrize("coordinate", [64, "64"])
def test_the_float_at_a_point_is_the_exact_values_float(post, coordinate):
    """cosh(64) is 3.1e27, 1e11 off in float64, so the compiled function's cos of it is
    noise (46.02 where the value is -34.7355): a numeric value is the float of the exact
    value, the same whether the express lane (64) or the SymPy path ("64") answers."""
    body = post("/v1/gradient", {"expression": "x*cos(cosh(x))", "variables": ["x"],
                                 "point": {"x": coordinate}}).get_json()
    at = body["at"]
    assert at["value"]["exact"] == "64*cos(cosh(64))"
    assert at["value"]["numeric"] == pytest.approx(_mp("x*cos(cosh(x))", x=64), rel=1e-15)
    assert at["gradient"]["numeric"][0] == pytest.approx(
        _mp("cos(cosh(x)) - x*sin(cosh(x))*sinh(x)", x=64), rel=1e-15)


def test_the_float_of_a_value_that_cancels_is_exact(post):
    """d/dy of 5*y*exp(9x - y/5) is (5 - y)*exp(9x - y/5): at y = 5 the two terms of 6.4e19
    cancel, and float64 keeps an error of thousands; the exact value is an integer."""
    body = post("/v1/gradient", {"expression": "5*y*exp(9*x - y/5) + 288534638*x*y",
                                 "variables": ["x", "y"],
                                 "point": {"x": "5", "y": "5"}}).get_json()
    assert body["at"]["gradient"]["exact"][1] == str(288534638 * 5)
    assert body["at"]["gradient"]["numeric"][1] == 288534638 * 5


@pytest.mark.parametrize("coordinate", [21, "21"])
def test_the_float_of_an_exact_value_that_cancels_in_doubles(post, coordinate):
    """63*tanh(y)' at 21 is 63 - 63*tanh(21)^2, 1.5e-16: in doubles 63 - 63*1.0 is 0. On
    the lane (21) and the SymPy path ("21") it is the exact value's float."""
    at = post("/v1/gradient", {"expression": "63*tanh(y)", "variables": ["y"],
                               "point": {"y": coordinate}}).get_json()["at"]
    assert at["gradient"]["exact"] == ["63 - 63*tanh(21)^2"]
    assert at["gradient"]["numeric"][0] == pytest.approx(_mp("63*sech(21)**2"), rel=1e-15,
                                                         abs=0)


def test_a_value_zero_in_two_precisions_is_not_taken_for_zero(post):
    """1 - sigmoid(300) is 0 in MPFR at 113 and at 226 bits (the two agree) and 5.1e-131."""
    at = post("/v1/gradient", {"expression": "(1 - sigmoid(x))*y", "variables": ["x", "y"],
                               "point": {"x": 300, "y": 1}}).get_json()["at"]
    assert at["value"]["exact"] == "1 - sigmoid(300)"
    assert at["value"]["numeric"] == pytest.approx(_mp("1/(1 + exp(300))"), rel=1e-15,
                                                   abs=0)


# -- values over points that float64 arithmetic cannot give ----------------------------------

_SOFTMAX = {"expression": "exp(x)/(exp(x) + exp(y))", "variables": ["x", "y"]}
_S1 = 1 / (1 + math.exp(-1))  # softmax of logits that differ by 1 is sigmoid(1)


def test_a_value_float64_overflows_on_the_way_to_is_given_exactly(post):
    """exp(800) is past float64: the compiled softmax is inf/inf at logits 800 and 799, a
    null said to be "not a finite real"; its value is sigmoid(1), its gradient s*(1 - s)."""
    body = post("/v1/gradient", {**_SOFTMAX, "points": [[800, 799], [1, 2]]}).get_json()
    assert body["batch"]["values"][0] == pytest.approx(_S1, rel=1e-15)
    assert body["batch"]["gradient"][0] == pytest.approx([_S1 * (1 - _S1), -_S1 * (1 - _S1)],
                                                         rel=1e-14)
    assert body["batch"]["values"][1] == pytest.approx(1 - _S1, rel=1e-15)
    assert "warnings" not in body


def test_only_the_first_nulls_are_looked_at_again_and_the_others_say_so(post):
    rows = [[800, 799]] * (evaluation.MAX_RESCUED // 3 + 3)
    body = post("/v1/gradient", {**_SOFTMAX, "points": rows}).get_json()
    flat = [v for value, gradient in zip(body["batch"]["values"], body["batch"]["gradient"])
            for v in (value, *gradient)]
    given = flat[:evaluation.MAX_RESCUED]
    assert given == pytest.approx([_S1, _S1 * (1 - _S1), -_S1 * (1 - _S1)]
                                  * (len(given) // 3) + [_S1, _S1 * (1 - _S1)][:len(given) % 3])
    assert all(v is None for v in flat[evaluation.MAX_RESCUED:])
    reasons = ("past the float64 range on the way", "null because the function")
    assert body["warnings"] and all(any(r in w for r in reasons)
                                    for w in body["warnings"][:-1])
    assert any(reasons[0] in w for w in body["warnings"])


def test_a_null_that_is_not_real_says_so_and_a_kink_once(post):
    body = post("/v1/gradient", {"expression": "log(x) + y",
                                 "points": [[-1, 2], [1, 2]]}).get_json()
    assert body["batch"]["values"] == [None, 2.0]
    assert body["warnings"][0] == ("points/0: value is not a finite real number "
                                   "(complex, infinite or undefined)")
    assert all("null because the function" in w for w in body["warnings"][1:])
    kink = post("/v1/derivative", {"expression": "abs(x)", "variable": "x",
                                   "points": [[0], [1]]}).get_json()
    assert kink["batch"]["values"] == [None, 1.0]
    assert kink["warnings"] == ["points/0: value does not exist at this point (kink)"]


def test_a_value_past_float64_over_points_says_so_and_a_tiny_constant_is_not_zero(post):
    """e^2852 is a finite real past float64; exp(-exp(8)) is 0.0 in float64, and folding it
    into the compiled code made exp(x + exp(8))*exp(-exp(8)) zero, where it is exp(x)."""
    big = post("/v1/gradient", {"expression": "exp(x)*exp(exp(8))/10^60", "variables": ["x"],
                                "points": [[0]]}).get_json()
    assert big["batch"]["values"] == [None]
    assert big["warnings"][0] == "points/0: value is a finite real number past the float64 range"
    tiny = post("/v1/gradient", {"expression": "exp(x + exp(8))/exp(exp(8))",
                                 "variables": ["x"], "points": [[0.5], [-1]]}).get_json()
    assert tiny["batch"]["values"] == pytest.approx([math.exp(0.5), math.exp(-1)], rel=1e-15)
