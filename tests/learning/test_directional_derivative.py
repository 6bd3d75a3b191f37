"""POST /v1/directional-derivative: u . grad f, with u computed independently here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from service.api.learning_schemas import DIRECTIONAL_DERIVATIVE_EXAMPLES

PATH = "/v1/directional-derivative"


def ok(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert b"NaN" not in response.data and b"Infinity" not in response.data
    return response.get_json()


def problem(response, field: str) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["errors"][0]["field"] == field, body
    return body


# expression, its gradient by hand (variables sorted), point, direction
CASES = [
    ("x^2 + 3*x*y", lambda x, y: [2 * x + 3 * y, 3 * x], [1, 2], [3, 4]),
    ("sin(x)*exp(y)", lambda x, y: [math.cos(x) * math.exp(y), math.sin(x) * math.exp(y)],
     [0.3, -0.7], [1, -2]),
    ("(1 - x)^2 + 100(y - x^2)^2",
     lambda x, y: [-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)], [-1.5, 2], [1, 1]),
    ("log(x) + x*y*z", lambda x, y, z: [1 / x + y * z, x * z, x * y], [2, 0.5, -1], [0, 0, 5]),
]


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("expression, grad, point, direction", CASES,
                         ids=[c[0] for c in CASES])
def test_equals_the_gradient_dotted_with_the_direction(post, expression, grad, point,
                                                       direction, normalize):
    body = ok(post(PATH, {"expression": expression, "point": point, "direction": direction,
                          "normalize": normalize}))
    d = np.array(direction, dtype=float)
    u = d / np.linalg.norm(d) if normalize else d
    expected = float(np.dot(grad(*point), u))
    assert_allclose(body["at"]["value"]["numeric"], expected, rtol=1e-12, atol=1e-12)
    assert_allclose(body["direction"]["numeric"], u, rtol=1e-15)
    assert body["normalized"] is normalize
    assert body["variables"] == sorted(body["variables"])
    # the symbolic result is valid input and evaluates to the same number
    again = ok(post("/v1/gradient", {"expression": body["directional_derivative"]["expression"],
                                     "variables": body["variables"],
                                     "point": dict(zip(body["variables"], point))}))
    assert_allclose(again["at"]["value"]["numeric"], expected, rtol=1e-12, atol=1e-12)


def test_exact_direction_and_value(post):
    # grad (x^2 + 3xy) at (1, 2) = (8, 3); u = (3/5, 4/5); 24/5 + 12/5 = 36/5
    body = ok(post(PATH, {"expression": "x^2 + 3*x*y", "point": {"x": 1, "y": 2},
                          "direction": [3, 4]}))
    assert body["direction"] == {"exact": ["3/5", "4/5"], "numeric": [0.6, 0.8]}
    assert body["at"]["value"] == {"exact": "36/5", "numeric": 7.2}
    assert body["at"]["point"] == {"x": 1, "y": 2}
    body = ok(post(PATH, {"expression": "x*y", "point": [1, 1], "direction": [1, 1]}))
    assert body["direction"]["exact"] == ["sqrt(2)/2", "sqrt(2)/2"]
    assert body["at"]["value"]["exact"] == "sqrt(2)"


def test_float_components_are_read_as_decimals(post):
    body = ok(post(PATH, {"expression": "x + y", "point": [0, 0], "direction": [0.3, 0.4]}))
    assert body["direction"]["exact"] == ["3/5", "4/5"]
    body = ok(post(PATH, {"expression": "x + y", "point": [0, 0], "direction": [0.1, "1/3"],
                          "normalize": False}))
    assert body["direction"]["exact"] == ["1/10", "1/3"]
    assert body["at"]["value"]["exact"] == "13/30"


def test_direction_as_an_object_equals_the_list(post):
    as_list = ok(post(PATH, {"expression": "x^2*y", "point": [1, 2], "direction": [1, -1]}))
    as_object = ok(post(PATH, {"expression": "x^2*y", "point": [1, 2],
                               "direction": {"y": -1, "x": 1}}))
    assert as_list == as_object


def test_variables_and_constants(post):
    # loss along a parameter step: grad_(w,b) (w x + b - y)^2 at w=1/2, b=0, x=3, y=4:
    # r = 3/2 - 4 = -5/2; grad = (2 r x, 2 r) = (-15, -5); along (1, -1): -15 + 5 = -10
    body = ok(post(PATH, {"expression": "(w*x + b - y)^2", "variables": ["w", "b"],
                          "constants": {"x": 3, "y": 4}, "point": {"w": "1/2", "b": 0},
                          "direction": {"w": 1, "b": -1}, "normalize": False}))
    assert body["variables"] == ["w", "b"]
    assert body["at"]["value"]["exact"] == "-10"


def test_zero_direction(post):
    body = problem(post(PATH, {"expression": "x*y", "point": [1, 2], "direction": [0, 0]}),
                   "direction")
    assert "zero vector" in body["detail"] and "normalize" in body["detail"]
    body = ok(post(PATH, {"expression": "x*y", "point": [1, 2], "direction": [0, 0],
                          "normalize": False}))
    assert body["at"]["value"] == {"exact": "0", "numeric": 0.0}


@pytest.mark.parametrize("direction, field", [
    ([1], "direction"),
    ({"x": 1}, "direction/y"),
    ({"x": 1, "y": 0, "z": 2}, "direction/z"),
    (["pi", "sqrt(-1)"], "direction/1"),
    (["2 +", 1], "direction/0"),
])
def test_bad_directions_are_422s_that_name_the_component(post, direction, field):
    problem(post(PATH, {"expression": "x*y", "point": [1, 2], "direction": direction}), field)


@pytest.mark.parametrize("body, field", [
    ({"expression": "x*y", "direction": [1, 1]}, "point"),
    ({"expression": "x*y", "point": [1, 2]}, "direction"),
    ({"expression": "x*y", "point": [1, 2], "direction": [1, 1], "normalize": 1}, "normalize"),
    ({"expression": "x*y", "point": [1], "direction": [1, 1]}, "point"),
    ({"expression": "x*y", "point": [1, 2], "direction": [1, 1], "points": [[1, 2]]},
     "points"),
])
def test_request_errors(post, body, field):
    problem(post(PATH, body), field)


def test_kinks_and_undefined_values_are_nulls_with_warnings(post):
    # abs(x) has no gradient at 0: along x the value is null, along y it is 1
    body = ok(post(PATH, {"expression": "abs(x) + y", "point": [0, 0], "direction": [1, 0]}))
    assert body["at"]["value"] == {"exact": None, "numeric": None}
    assert body["warnings"]
    body = ok(post(PATH, {"expression": "abs(x) + y", "point": [0, 0], "direction": [0, 1]}))
    assert body["at"]["value"] == {"exact": "1", "numeric": 1.0}
    body = ok(post(PATH, {"expression": "log(x) + y", "point": [-1, 0], "direction": [1, 1]}))
    assert body["at"]["value"]["numeric"] is None and body["warnings"]


@pytest.mark.parametrize("name", sorted(DIRECTIONAL_DERIVATIVE_EXAMPLES))
def test_request_examples_answer_200(post, name):
    ok(post(PATH, DIRECTIONAL_DERIVATIVE_EXAMPLES[name]["value"]))
