"""The gradient check (`check: true` on /v1/gradient, /v1/jacobian, /v1/hessian).

The helper is tested directly, with right and deliberately wrong "exact" derivatives, so
that the check is seen to fail; the endpoints are tested against finite differences
computed independently here with plain NumPy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from service.calculus.finite_differences import (
    EPSILON, central_differences, gradient_check, step_sizes,
)


def ok(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert b"NaN" not in response.data and b"Infinity" not in response.data
    return response.get_json()


def rosenbrock(v):
    x, y = v
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_gradient(v):
    x, y = v
    return [-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)]


def rosenbrock_hessian(v):
    x, y = v
    return [[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200]]


# -- the helper ------------------------------------------------------------------------

def test_steps_follow_the_scale_of_the_point():
    h = step_sizes([0.0, 1e-3, 5.0, -1e4])
    expected = np.cbrt(EPSILON) * np.array([1.0, 1.0, 5.0, 1e4])
    assert_allclose(h, expected, rtol=1e-9)  # rounded to a float64 distance from x
    x = np.array([0.0, 1e-3, 5.0, -1e4])
    assert np.array_equal((x + h) - x, h)  # exactly representable steps


def test_a_right_gradient_passes():
    point = [-1.5, 2.0]
    check = gradient_check(rosenbrock, point, 2, rosenbrock_gradient(point))
    assert check.relative_error < 1e-8
    assert check.absolute_error < 1e-5
    assert_allclose(check.finite_difference, rosenbrock_gradient(point), rtol=1e-8)
    assert check.warnings == []


@pytest.mark.parametrize("wrong", [
    # a sign error in one term
    lambda v: [2 * (1 - v[0]) - 400 * v[0] * (v[1] - v[0] ** 2), 200 * (v[1] - v[0] ** 2)],
    lambda v: [g / 2 for g in rosenbrock_gradient(v)],  # a factor missing
    lambda v: rosenbrock_gradient(v)[::-1],  # entries swapped
])
def test_a_wrong_gradient_fails(wrong):
    point = [-1.5, 2.0]
    check = gradient_check(rosenbrock, point, 2, wrong(point))
    assert check.relative_error > 1e-2  # a right gradient gives < 1e-8
    assert check.absolute_error > 1.0


def test_a_wrong_hessian_fails_and_a_right_one_passes():
    point = [0.5, -0.25]
    right = gradient_check(rosenbrock_gradient, point, 2, rosenbrock_hessian(point))
    assert right.relative_error < 1e-7
    wrong = np.array(rosenbrock_hessian(point))
    wrong[0, 1] = wrong[1, 0] = 0.0  # the mixed partial forgotten
    assert gradient_check(rosenbrock_gradient, point, 2, wrong).relative_error > 0.1


def test_central_differences_of_a_vector_function_have_jacobian_shape():
    estimate, h = central_differences(lambda v: [v[0] * v[1], math.sin(v[0]), 1.0],
                                      [1.0, 2.0, 7.0], n_variables=2)
    assert estimate.shape == (3, 2) and h.shape == (2,)
    assert_allclose(estimate, [[2.0, 1.0], [math.cos(1.0), 0.0], [0.0, 0.0]], atol=1e-9)


def test_nulls_make_the_errors_null():
    check = gradient_check(lambda v: math.sqrt(v[0]) if v[0] >= 0 else float("nan"),
                           [0.0], 1, [None])
    assert check.absolute_error is None and check.relative_error is None
    assert check.as_json()["finite_difference"] == [None]
    assert check.warnings


def test_a_vanishing_gradient_has_zero_relative_error():
    check = gradient_check(lambda v: 5.0, [1.0, 2.0], 2, [0.0, 0.0])
    assert (check.absolute_error, check.relative_error) == (0.0, 0.0)


# -- the endpoints ---------------------------------------------------------------------

SMOOTH = [
    ("(1 - x)^2 + 100(y - x^2)^2", {"x": -1.5, "y": 2}),
    ("sin(x)*exp(y) + log(1 + x^2)", {"x": 0.3, "y": -0.7}),
    ("sigmoid(w*x + b)", {"w": "1/2", "x": 3, "b": -1}),
    ("x^3*y - y^4/1000", {"x": 120.0, "y": -35.5}),
]


def numpy_gradient(post, expression: str, point: dict) -> np.ndarray:
    """Central differences of the function's values, taken through the service's batch
    evaluation (independent of the check's own code path)."""
    names = sorted(point)
    x = np.array([float(eval_coordinate(point[n])) for n in names])
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    rows = []
    for j in range(len(names)):
        for sign in (1, -1):
            shifted = x.copy()
            shifted[j] += sign * h[j]
            rows.append(list(shifted))
    values = ok(post("/v1/gradient", {"expression": expression, "points": rows}))["batch"][
        "values"]
    return np.array([(values[2 * j] - values[2 * j + 1]) / (2 * h[j]) for j in range(len(names))])


def eval_coordinate(value) -> float:
    if isinstance(value, str):
        numerator, _, denominator = value.partition("/")
        return float(numerator) / float(denominator or 1)
    return float(value)


@pytest.mark.parametrize("expression, point", SMOOTH)
def test_gradient_check_is_tiny_on_smooth_functions(post, expression, point):
    body = ok(post("/v1/gradient", {"expression": expression, "point": point, "check": True}))
    check = body["check"]
    exact = body["at"]["gradient"]["numeric"]
    assert set(check) == {"finite_difference", "step", "absolute_error", "relative_error"}
    assert len(check["finite_difference"]) == len(exact) == len(check["step"])
    assert check["relative_error"] < 1e-7
    assert check["absolute_error"] == pytest.approx(
        max(abs(a - b) for a, b in zip(check["finite_difference"], exact)), rel=1e-9, abs=1e-300)
    assert_allclose(check["finite_difference"], numpy_gradient(post, expression, point),
                    rtol=1e-4, atol=1e-6)
    names = body["variables"]
    x = [eval_coordinate(point[n]) for n in names]
    assert_allclose(check["step"], [np.cbrt(EPSILON) * max(1, abs(v)) for v in x], rtol=1e-9)


def test_jacobian_check_has_the_jacobians_shape(post):
    body = ok(post("/v1/jacobian", {"expressions": ["x*y", "sin(x) + y^2", "exp(x - y)"],
                                    "point": {"x": "pi/3", "y": 2}, "check": True}))
    check = body["check"]
    assert np.array(check["finite_difference"]).shape == (3, 2)
    assert check["relative_error"] < 1e-8
    assert_allclose(check["finite_difference"], body["at"]["jacobian"]["numeric"], rtol=1e-7)


def test_hessian_check_differences_the_gradient(post):
    point = {"x": 0.5, "y": -0.25}
    body = ok(post("/v1/hessian", {"expression": "(1 - x)^2 + 100(y - x^2)^2",
                                   "point": point, "check": True}))
    check = body["check"]
    assert np.array(check["finite_difference"]).shape == (2, 2)
    assert check["relative_error"] < 1e-8
    assert_allclose(check["finite_difference"], rosenbrock_hessian([0.5, -0.25]), rtol=1e-7)


@pytest.mark.parametrize("path, body", [
    ("/v1/gradient", {"expression": "x^2"}),
    ("/v1/jacobian", {"expressions": ["x^2"]}),
    ("/v1/hessian", {"expression": "x^2"}),
    ("/v1/gradient", {"expression": "x^2", "points": [[1]]}),
])
def test_check_without_a_point_is_a_422_that_asks_for_one(post, path, body):
    response = post(path, {**body, "check": True})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["errors"][0]["field"] == "check"
    assert "point" in problem["detail"]


def test_check_is_off_by_default_and_strictly_boolean(post):
    assert "check" not in ok(post("/v1/gradient", {"expression": "x^2", "point": [1]}))
    response = post("/v1/hessian", {"expression": "x^2", "point": [1], "check": "yes"})
    assert response.status_code == 422


def test_check_where_the_function_is_not_real_gives_nulls_and_warnings(post):
    body = ok(post("/v1/gradient", {"expression": "log(x) + y", "point": {"x": -1, "y": 0},
                                    "check": True}))
    check = body["check"]
    assert check["finite_difference"][0] is None
    assert check["absolute_error"] is None and check["relative_error"] is None
    assert any(w.startswith("check:") for w in body["warnings"])


def test_check_at_a_kink_reports_null_errors(post):
    body = ok(post("/v1/gradient", {"expression": "abs(x)", "point": [0], "check": True}))
    assert body["at"]["gradient"]["numeric"] == [None]
    assert body["check"]["finite_difference"] == [0.0]  # the symmetric difference
    assert body["check"]["relative_error"] is None


def test_points_near_the_largest_float_give_nulls_not_errors(post):
    # x + h overflows: no estimate along x (null with a warning), and no RuntimeWarning
    check = gradient_check(lambda v: v[0] + v[1], [1.7976931348623157e308, 1.0], 2, [1.0, 1.0])
    assert check.as_json()["finite_difference"][0] is None
    assert all(math.isfinite(h) for h in check.step)
    body = ok(post("/v1/gradient", {"expression": "x + y", "point": [-1.7e308, 1e300],
                                    "check": True}))
    assert all(isinstance(h, float) for h in body["check"]["step"])
