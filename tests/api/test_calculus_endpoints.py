"""The four calculus endpoints through Flask's test client, field by field of API.md.

Expected values are derived by hand in the comments; floats are checked with allclose.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose

PROBLEM = "application/problem+json"


def ok(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


# -- /v1/derivative --------------------------------------------------------------------

def test_derivative_of_mse_loss_by_w(post):
    # d/dw (w x + b - y)^2 = 2 x (w x + b - y); at w=2, x=3, b=1, y=4: 2*3*(6+1-4) = 18
    body = ok(post("/v1/derivative", {
        "expression": "(w*x + b - y)^2", "variable": "w",
        "point": {"w": 2, "x": 3, "b": 1, "y": 4},
    }))
    assert body["at"]["value"] == {"exact": "18", "numeric": 18.0}
    assert body["at"]["point"] == {"b": 1, "w": 2, "x": 3, "y": 4}
    text = body["derivative"]["expression"]
    # The returned text is valid input: re-post it and evaluate at another point by hand.
    again = ok(post("/v1/derivative", {"expression": text, "variable": "w", "order": 1,
                                       "point": {"w": 1, "x": 2, "b": 0, "y": 1}}))
    # derivative of 2x(wx+b-y) by w is 2x^2 = 8
    assert again["at"]["value"]["exact"] == "8"
    assert "latex" in body["derivative"] and body["derivative"]["latex"]


def test_derivative_higher_order_and_list_point(post):
    # d^3/dx^3 x^5 = 60 x^2; the point list aligns with the sorted free names (x only)
    body = ok(post("/v1/derivative", {"expression": "x^5", "variable": "x", "order": 3,
                                      "point": [2]}))
    assert body["at"]["value"] == {"exact": "240", "numeric": 240.0}
    assert body["derivative"]["expression"].replace(" ", "") in ("60*x^2", "60x^2")


def test_derivative_exact_string_coordinates(post):
    # d/dx sin(x) = cos(x); cos(pi/4) = sqrt(2)/2
    body = ok(post("/v1/derivative", {"expression": "sin(x)", "variable": "x",
                                      "point": {"x": "pi/4"}}))
    assert_allclose(body["at"]["value"]["numeric"], math.sqrt(2) / 2)
    assert body["at"]["value"]["exact"].replace(" ", "") in ("sqrt(2)/2", "1/2*sqrt(2)")


def test_float_coordinate_makes_exact_null(post):
    body = ok(post("/v1/derivative", {"expression": "x^2", "variable": "x",
                                      "point": {"x": 0.5}}))
    assert body["at"]["value"] == {"exact": None, "numeric": 1.0}


def test_integral_float_is_exact(post):
    body = ok(post("/v1/derivative", {"expression": "x^2", "variable": "x",
                                      "point": {"x": 3.0}}))
    assert body["at"]["value"] == {"exact": "6", "numeric": 6.0}


def test_constants_are_substituted_first(post):
    # a = 3: d/dx a x^2 = 6x -> 12 at x=2; "1/2" as an exact constant: d/dx x/2 = 1/2
    body = ok(post("/v1/derivative", {"expression": "a*x^2", "variable": "x",
                                      "constants": {"a": 3}, "point": {"x": 2}}))
    assert body["at"]["value"]["exact"] == "12"
    body = ok(post("/v1/derivative", {"expression": "c*x", "variable": "x",
                                      "constants": {"c": "1/2"}, "point": [7]}))
    assert body["at"]["value"] == {"exact": "1/2", "numeric": 0.5}


def test_derivative_batch_points(post):
    # d/dx x^3 = 3x^2 at 0, 1, 2, -1
    body = ok(post("/v1/derivative", {"expression": "x^3", "variable": "x",
                                      "points": [[0], [1], {"x": 2}, [-1]]}))
    assert_allclose(body["batch"]["values"], [0, 3, 12, 3])


def test_log_derivative_is_null_where_log_is_complex(post):
    # 1/x is real at -1, but log(-1) is complex: the derivative does not exist there
    body = ok(post("/v1/derivative", {"expression": "log(x)", "variable": "x",
                                      "point": {"x": -1}}))
    assert body["at"]["value"] == {"exact": None, "numeric": None}
    assert any("complex" in w for w in body["warnings"])


@pytest.mark.parametrize("expression", ["abs(x)", "relu(x)", "max(x, 0)", "sign(x)",
                                        "heaviside(x)", "min(x, -x)"])
def test_derivative_at_a_kink_is_null_with_a_warning(post, expression):
    body = ok(post("/v1/derivative", {"expression": expression, "variable": "x",
                                      "point": {"x": 0}}))
    assert body["at"]["value"] == {"exact": None, "numeric": None}
    assert body["warnings"]


def test_derivative_of_x_abs_x_exists_at_zero(post):
    # x|x| has derivative 2|x|, which is 0 at 0: both one-sided derivatives agree
    body = ok(post("/v1/derivative", {"expression": "x*abs(x)", "variable": "x",
                                      "point": {"x": 0}}))
    assert body["at"]["value"] == {"exact": "0", "numeric": 0.0}


def test_abs_derivative_away_from_kink(post):
    body = ok(post("/v1/derivative", {"expression": "abs(x)", "variable": "x",
                                      "point": {"x": -3}}))
    assert body["at"]["value"] == {"exact": "-1", "numeric": -1.0}


def test_infinite_and_complex_values_are_null(post):
    # d/dx sqrt(x) = 1/(2 sqrt(x)): infinite at 0 (and sqrt(0) = 0 is fine)
    body = ok(post("/v1/derivative", {"expression": "sqrt(x)", "variable": "x",
                                      "point": {"x": 0}}))
    assert body["at"]["value"]["numeric"] is None
    assert any("infinite" in w for w in body["warnings"])
    # float point: sqrt(-0.5) is complex -> derivative null, warning says complex
    body = ok(post("/v1/derivative", {"expression": "sqrt(x)", "variable": "x",
                                      "point": {"x": -0.5}}))
    assert body["at"]["value"]["numeric"] is None
    assert any("complex" in w for w in body["warnings"])


def test_batch_nulls_are_json_null_never_nan(client):
    response = client.post("/v1/derivative", json={
        "expression": "log(x)", "variable": "x", "points": [[1], [-1], [0], [2]]})
    text = response.get_data(as_text=True)
    assert "NaN" not in text and "Infinity" not in text
    values = response.get_json()["batch"]["values"]
    assert values[1] is None and values[2] is None
    assert_allclose([values[0], values[3]], [1.0, 0.5])
    assert response.get_json()["warnings"]


# -- /v1/gradient ----------------------------------------------------------------------

def test_gradient_of_mse_loss(post):
    # L = (w x + b - y)^2, x=3, y=4 as constants; dL/dw = 2x r, dL/db = 2 r, r = wx+b-y
    body = ok(post("/v1/gradient", {
        "expression": "(w*x + b - y)^2", "variables": ["w", "b"],
        "constants": {"x": 3, "y": 4}, "point": {"w": 2, "b": 1},
    }))
    # r = 6 + 1 - 4 = 3 -> grad = [18, 6], value 9, norm sqrt(360)
    assert body["variables"] == ["w", "b"]
    assert body["at"]["value"] == {"exact": "9", "numeric": 9.0}
    assert body["at"]["gradient"] == {"exact": ["18", "6"], "numeric": [18.0, 6.0]}
    assert_allclose(body["at"]["norm"], math.sqrt(360))
    assert len(body["gradient"]) == 2


def test_gradient_default_variables_sorted(post):
    body = ok(post("/v1/gradient", {"expression": "y*x^2 + z"}))
    assert body["variables"] == ["x", "y", "z"]


def test_gradient_list_point_aligns_with_variables(post):
    # f = x^2 y; variables [y, x]: grad = [x^2, 2xy] at y=3, x=2 -> [4, 12]
    body = ok(post("/v1/gradient", {"expression": "x^2*y", "variables": ["y", "x"],
                                    "point": [3, 2]}))
    assert body["at"]["gradient"]["numeric"] == [4.0, 12.0]


def test_gradient_batch(post):
    # f = x*y -> grad [y, x]
    body = ok(post("/v1/gradient", {"expression": "x*y", "points": [[1, 2], [3, 4]]}))
    assert_allclose(body["batch"]["values"], [2, 12])
    assert_allclose(body["batch"]["gradient"], [[2, 1], [4, 3]])


def test_gradient_by_a_variable_absent_from_the_expression_is_zero(post):
    body = ok(post("/v1/gradient", {"expression": "x^2", "variables": ["x", "z"],
                                    "point": {"x": 1, "z": 5}}))
    assert body["at"]["gradient"]["exact"] == ["2", "0"]


def test_extra_free_names_are_held_fixed(post):
    # variables [x] only; a is a parameter that the point must give
    body = ok(post("/v1/gradient", {"expression": "a*x^2", "variables": ["x"],
                                    "point": {"x": 2, "a": 5}}))
    assert body["at"]["gradient"]["exact"] == ["20"]


def test_pi_and_e_are_constants_unless_variables(post):
    # d/dx e^x = e^x: at 0 -> 1
    body = ok(post("/v1/gradient", {"expression": "e^x", "point": [0]}))
    assert body["variables"] == ["x"]
    assert body["at"]["gradient"]["exact"] == ["1"]
    # e listed as a variable: d/de e^2 = 2e = 6 at e=3
    body = ok(post("/v1/gradient", {"expression": "e^2", "variables": ["e"], "point": [3]}))
    assert body["at"]["gradient"]["exact"] == ["6"]


# -- /v1/jacobian ----------------------------------------------------------------------

def test_jacobian_rows_follow_expressions(post):
    # F = (x y, x + y^2): J = [[y, x], [1, 2y]] at (2, 3) -> [[3, 2], [1, 6]]
    body = ok(post("/v1/jacobian", {"expressions": ["x*y", "x + y^2"], "point": [2, 3]}))
    assert body["variables"] == ["x", "y"]
    assert body["at"]["jacobian"]["exact"] == [["3", "2"], ["1", "6"]]
    assert body["at"]["jacobian"]["numeric"] == [[3.0, 2.0], [1.0, 6.0]]
    assert body["at"]["value"] == {"exact": ["6", "11"], "numeric": [6.0, 11.0]}
    assert len(body["jacobian"]) == 2 and len(body["jacobian"][0]) == 2


def test_jacobian_batch_shape(post):
    body = ok(post("/v1/jacobian", {"expressions": ["x*y", "x + y^2"],
                                    "points": [[2, 3], [1, 1], [0, 0]]}))
    jac = np.array(body["batch"]["jacobian"], dtype=float)
    assert jac.shape == (3, 2, 2)
    assert_allclose(jac[1], [[1, 1], [1, 2]])


def test_jacobian_parse_error_names_the_expression(post):
    response = post("/v1/jacobian", {"expressions": ["x", "x +* y"]})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "expressions/1"


# -- /v1/hessian -----------------------------------------------------------------------

def test_hessian_minimum(post):
    # f = x^2 + 3y^2 + xy: H = [[2, 1], [1, 6]], grad at 0 vanishes -> local minimum
    body = ok(post("/v1/hessian", {"expression": "x^2 + 3*y^2 + x*y", "point": [0, 0]}))
    assert body["at"]["hessian"]["exact"] == [["2", "1"], ["1", "6"]]
    # eigenvalues of [[2,1],[1,6]]: 4 -+ sqrt(5)
    assert_allclose(sorted(body["at"]["eigenvalues"]), [4 - math.sqrt(5), 4 + math.sqrt(5)])
    assert body["at"]["definiteness"] == "positive definite"
    assert body["at"]["critical_point"] is True
    assert body["at"]["classification"] == "local minimum"


@pytest.mark.parametrize("expression, point, definiteness, classification", [
    ("x^2 - y^2", [0, 0], "indefinite", "saddle point"),
    ("-x^2 - y^2", [0, 0], "negative definite", "local maximum"),
    ("x^4 + y^2", [0, 0], "positive semidefinite", "inconclusive"),
    ("x^2 + y^2", [1, 0], "positive definite", None),  # not a critical point
])
def test_hessian_classification(post, expression, point, definiteness, classification):
    body = ok(post("/v1/hessian", {"expression": expression, "point": point}))
    assert body["at"]["definiteness"] == definiteness
    assert body["at"]["classification"] == classification
    assert body["at"]["critical_point"] is (classification is not None)


def test_hessian_batch(post):
    # f = x^3 y: H = [[6xy, 3x^2], [3x^2, 0]]
    body = ok(post("/v1/hessian", {"expression": "x^3*y", "points": [[1, 2], [2, 1]]}))
    assert_allclose(body["batch"]["hessian"], [[[12, 3], [3, 0]], [[12, 12], [12, 0]]])


@pytest.mark.parametrize("path", ["/v1/gradient", "/v1/hessian"])
def test_a_constant_sympy_cannot_sign_at_2_digits_is_evaluated(post, path):
    """csc(log(tanh(15))): log(tanh(15)) = log(1 - 1.9e-13) is -1.9e-13, so csc of it is
    1/sin(-1.9e-13) = -5.3e12 (the SymPy path, which the constant c forces, answered 500:
    SymPy's 2-digit evaluation of it divided by zero)."""
    body = ok(post(path, {"expression": "csc(log(tanh(15)))*x^2 + c", "constants": {"c": 1},
                          "point": {"x": 1}}))
    assert "warnings" not in body
    if path == "/v1/gradient":
        assert body["at"]["gradient"]["exact"] == ["2*csc(log(tanh(15)))"]
        assert body["at"]["gradient"]["numeric"][0] == pytest.approx(
            2 / math.sin(math.log1p(-2 * math.exp(-30) / (1 + math.exp(-30)))), rel=1e-3)


@pytest.mark.parametrize("path, body", [
    # w^(1/3) at w = -3 is a complex root: compiled, it gave erf and softplus complex input.
    # (The constant (-3)^(1/3) is refused when parsed: test_errors.py.)
    ("/v1/gradient", {"expression": "erf((y - 3/7)^(-3/2) + (w^(1/3))^(-2))",
                      "point": {"y": 0, "w": -3}, "check": True}),
    ("/v1/hessian", {"expression": "softplus(w^(1/3)) - sinh(z^(-1/2))^(-2) + c",
                     "constants": {"c": 1}, "point": {"z": 0, "w": -3}}),
    ("/v1/gradient", {"expression": "sigmoid(w^(1/3)*x) + c", "constants": {"c": 1},
                      "point": {"x": 1.5, "w": -3}}),
])
def test_complex_intermediates_in_the_grammars_functions_are_nulls_not_500s(post, path, body):
    answer = ok(post(path, body))
    assert answer["warnings"]


def test_cross_entropy_over_points_stays_finite_at_large_logits(post):
    """-log(1 - sigmoid(z)) is softplus(z): 41 at z = 41, where float64's 1 - sigmoid(41)
    is 0 and the log of it -inf (the batch used to null the value and the gradient)."""
    loss = "-y*log(sigmoid(w*x + b)) - (1 - y)*log(1 - sigmoid(w*x + b))"
    body = ok(post("/v1/gradient", {"expression": loss, "variables": ["w", "b"],
                                    "constants": {"x": 2, "y": 0},
                                    "points": [[20, 1], [-400, 3], [0, 0]]}))
    assert "warnings" not in body
    for (w, b), value, gradient in zip([[20, 1], [-400, 3], [0, 0]], body["batch"]["values"],
                                       body["batch"]["gradient"]):
        z = 2 * w + b
        softplus = max(z, 0) + math.log1p(math.exp(-abs(z)))
        sigmoid = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
        assert value == pytest.approx(softplus, rel=1e-14)
        assert gradient == pytest.approx([2 * sigmoid, sigmoid], rel=1e-14, abs=1e-300)


def test_log_tanh_over_points_keeps_its_digits_where_tanh_rounds_to_one(post):
    """float64's tanh(20) is 1.0: log(tanh(x)) over points was 0.0 at 20 (-8.5e-18) and
    lost 8 of its 16 digits at 10; its derivative, (1 - tanh(x)^2)/tanh(x), was stable
    already. Where tanh(x) <= 0 the values stay null."""
    points = [[0.75], [10], [20], [300]]
    body = ok(post("/v1/gradient", {"expression": "log(tanh(x))", "points": points}))
    assert "warnings" not in body
    for [u], value, [slope] in zip(points, body["batch"]["values"], body["batch"]["gradient"]):
        with mpmath.workdps(400):  # log(tanh(300)) is -5.3e-261
            t = mpmath.mpf(u)
            want_value = float(mpmath.log(mpmath.tanh(t)))
            want_slope = float(2 / mpmath.sinh(2 * t))
        assert value == pytest.approx(want_value, rel=1e-14, abs=0)
        assert slope == pytest.approx(want_slope, rel=1e-14, abs=0)
    body = ok(post("/v1/gradient", {"expression": "log(tanh(x))", "points": [[0], [-1]]}))
    assert body["batch"] == {"values": [None, None], "gradient": [[None], [None]]}
    assert len(body["warnings"]) == 4


@pytest.mark.parametrize("text, reference", [
    ("acos(erf(7))*x", lambda: mpmath.acos(mpmath.erf(7))),        # erf(7): 1 - 4.2e-23
    ("atanh(tanh(20))*x", lambda: mpmath.mpf(20)),                  # tanh(20): 1.0 in float64
    ("asin(-erf(7))*x", lambda: mpmath.asin(-mpmath.erf(7))),
    ("acos(sin(pi/2 + 1/10^20))*x", lambda: mpmath.mpf(10) ** -20),
    ("acosh(cosh(1/10^9))*x", lambda: mpmath.mpf(10) ** -9),
])
def test_inverse_functions_of_bounded_constants_over_points_are_exact(post, text, reference):
    """A constant such as acos(erf(7)) is computed once, correctly rounded; it was left to
    float64 (acos(1.0) = 0.0, atanh(1.0) = inf) because no margin at 30 digits could tell
    that erf(7) is inside (-1, 1). Its range says so. Against mpmath at 100 digits."""
    body = ok(post("/v1/gradient", {"expression": text, "points": [[1.0], [2.0]]}))
    with mpmath.workdps(100):
        want = float(reference())
    assert body["batch"]["values"] == [pytest.approx(want, rel=1e-15, abs=0),
                                       pytest.approx(2 * want, rel=1e-15, abs=0)]
    assert body["batch"]["gradient"] == [[pytest.approx(want, rel=1e-15, abs=0)]] * 2
