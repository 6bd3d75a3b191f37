"""POST /v1/taylor: Taylor models that match f, its gradient and its Hessian at the point,
and one-variable series that match the known series written out by hand."""

from __future__ import annotations

import pytest
import sympy
from numpy.testing import assert_allclose

from service.api.learning_schemas import TAYLOR_EXAMPLES
from service.config import Limits
from service.expressions import parse

PATH = "/v1/taylor"


def ok(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert b"NaN" not in response.data and b"Infinity" not in response.data
    return response.get_json()


def problem(response, field: str) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["errors"][0]["field"] == field, body
    return body


def read(text: str) -> sympy.Expr:
    return parse(text, Limits()).expr


def same(a: str, b: str) -> bool:
    difference = read(a) - read(b)
    return difference == 0 or sympy.simplify(sympy.expand(difference)) == 0


# -- one variable: the known series ----------------------------------------------------

SERIES = [
    ("exp(x)", 0, 6, "1 + x + x^2/2 + x^3/6 + x^4/24 + x^5/120 + x^6/720"),
    ("sin(x)", 0, 7, "x - x^3/6 + x^5/120 - x^7/5040"),
    ("cos(x)", 0, 6, "1 - x^2/2 + x^4/24 - x^6/720"),
    ("log(1 + x)", 0, 5, "x - x^2/2 + x^3/3 - x^4/4 + x^5/5"),
    ("1/(1 - x)", 0, 4, "1 + x + x^2 + x^3 + x^4"),
    ("sqrt(1 + x)", 0, 3, "1 + x/2 - x^2/8 + x^3/16"),
    ("atan(x)", 0, 5, "x - x^3/3 + x^5/5"),
    ("sin(x)", "pi", 3, "-(x - pi) + (x - pi)^3/6"),
    ("exp(x)", 1, 2, "e + e*(x - 1) + e*(x - 1)^2/2"),
    ("log(x)", 1, 3, "(x - 1) - (x - 1)^2/2 + (x - 1)^3/3"),
]


@pytest.mark.parametrize("expression, center, order, series", SERIES,
                         ids=[f"{s[0]} at {s[1]}" for s in SERIES])
def test_one_variable_series(post, expression, center, order, series):
    body = ok(post(PATH, {"expression": expression, "point": [center], "order": order}))
    assert body["variables"] == ["x"] and body["order"] == order
    assert same(body["taylor"]["expression"], series), body["taylor"]
    assert body["taylor"]["latex"]


def test_series_is_written_lowest_degree_first(post):
    body = ok(post(PATH, {"expression": "exp(x)", "point": [0], "order": 3}))
    assert body["taylor"]["expression"] == "1 + x + x^2/2 + x^3/6"
    body = ok(post(PATH, {"expression": "x^3", "point": [1], "order": 3}))
    assert body["taylor"]["expression"] == "1 + 3*(x - 1) + 3*(x - 1)^2 + (x - 1)^3"


@pytest.mark.parametrize("expression, center, order", [
    ("x^3*exp(x)", 1, 4), ("sigmoid(x)", "1/2", 3), ("tanh(2x) + x^5", -1, 5),
])
def test_one_variable_model_matches_the_derivatives(post, expression, center, order):
    model = ok(post(PATH, {"expression": expression, "point": [center], "order": order}))
    text = model["taylor"]["expression"]
    for k in range(order + 1):
        if k == 0:
            mine = ok(post("/v1/gradient", {"expression": text, "variables": ["x"],
                                            "point": [center]}))["at"]["value"]
            theirs = ok(post("/v1/gradient", {"expression": expression, "variables": ["x"],
                                              "point": [center]}))["at"]["value"]
        else:
            request = {"variable": "x", "order": k, "point": {"x": center}}
            mine = ok(post("/v1/derivative", {"expression": text, **request}))["at"]["value"]
            theirs = ok(post("/v1/derivative", {"expression": expression,
                                                **request}))["at"]["value"]
        assert same(mine["exact"], theirs["exact"]), (k, mine, theirs)


# -- several variables: f, gradient and Hessian at the point ---------------------------

MODELS = [
    ("(1 - x)^2 + 100(y - x^2)^2", {"x": -1, "y": 1}),
    ("x^2*y + sin(x)", {"x": 1, "y": 2}),
    ("exp(x)*cos(y)", {"x": 0, "y": "pi/4"}),
    ("sigmoid(w*x + b)", {"b": "-1/2", "w": 2, "x": "1/3"}),
    ("log(1 + x^2 + y^2) + x*y^3", {"x": 0.5, "y": -0.25}),
]


@pytest.mark.parametrize("expression, point", MODELS, ids=[m[0] for m in MODELS])
def test_quadratic_model_matches_value_gradient_and_hessian(post, expression, point):
    body = ok(post(PATH, {"expression": expression, "point": point, "order": 2}))
    variables, model = body["variables"], body["taylor"]["expression"]
    request = {"variables": variables, "point": point}
    mine = ok(post("/v1/gradient", {"expression": model, **request}))["at"]
    theirs = ok(post("/v1/gradient", {"expression": expression, **request}))["at"]
    mine_h = ok(post("/v1/hessian", {"expression": model, **request}))["at"]["hessian"]
    theirs_h = ok(post("/v1/hessian", {"expression": expression, **request}))["at"]["hessian"]
    assert_allclose(mine["value"]["numeric"], theirs["value"]["numeric"], rtol=1e-12)
    assert_allclose(mine["gradient"]["numeric"], theirs["gradient"]["numeric"], rtol=1e-12,
                    atol=1e-12)
    assert_allclose(mine_h["numeric"], theirs_h["numeric"], rtol=1e-12, atol=1e-12)
    if theirs["value"]["exact"] is not None:  # an exact point: exactly the same values
        assert same(mine["value"]["exact"], theirs["value"]["exact"])
        for a, b in zip(mine["gradient"]["exact"], theirs["gradient"]["exact"]):
            assert same(a, b)
        for row_a, row_b in zip(mine_h["exact"], theirs_h["exact"]):
            for a, b in zip(row_a, row_b):
                assert same(a, b)


def test_linear_model_matches_value_and_gradient_and_is_flat(post):
    point = {"x": 1, "y": 2}
    body = ok(post(PATH, {"expression": "x^2*y + sin(x)", "point": point, "order": 1}))
    model = body["taylor"]["expression"]
    mine = ok(post("/v1/hessian", {"expression": model, "variables": ["x", "y"],
                                   "point": point}))
    assert mine["at"]["hessian"]["exact"] == [["0", "0"], ["0", "0"]]
    grad = ok(post("/v1/gradient", {"expression": model, "variables": ["x", "y"],
                                    "point": point}))["at"]["gradient"]["exact"]
    assert same(grad[0], "4 + cos(1)") and same(grad[1], "1")


def test_the_model_keeps_x_minus_a(post):
    body = ok(post(PATH, {"expression": "x*y", "point": {"x": 1, "y": 2}, "order": 2}))
    assert body["taylor"]["expression"] == "2 + 2*(x - 1) + (y - 2) + (x - 1)*(y - 2)"
    assert body["point"] == {"x": 1, "y": 2}


def test_parameters_take_their_values_from_the_point(post):
    body = ok(post(PATH, {"expression": "a*x^2", "variables": ["x"], "point": {"x": 1, "a": 3},
                          "order": 2}))
    assert same(body["taylor"]["expression"], "3*x^2")
    assert "a" not in {s.name for s in read(body["taylor"]["expression"]).free_symbols}


def test_float_center_is_read_as_its_decimal(post):
    body = ok(post(PATH, {"expression": "x^2", "point": [0.5], "order": 2}))
    assert body["point"] == {"x": "1/2"}
    assert same(body["taylor"]["expression"], "x^2")
    body = ok(post(PATH, {"expression": "exp(x)", "point": [0.1], "order": 1}))
    assert body["point"] == {"x": "1/10"}
    assert same(body["taylor"]["expression"], "exp(1/10) + exp(1/10)*(x - 1/10)")


# -- where no model exists, and bad requests -------------------------------------------

@pytest.mark.parametrize("expression, point, words", [
    ("abs(x)", [0], "does not exist"),
    ("relu(x) + y", [0, 1], "does not exist"),
    ("log(x)", [0], "infinite"),
    ("sqrt(x)", [-1], "complex"),
    ("1/x", [0], "infinite"),
])
def test_no_model_at_kinks_and_outside_the_domain(post, expression, point, words):
    body = problem(post(PATH, {"expression": expression, "point": point, "order": 2}),
                   "point")
    assert words in body["detail"] and "Taylor model" in body["detail"]


@pytest.mark.parametrize("body, field", [
    ({"expression": "x*y", "point": [1, 2], "order": 3}, "order"),
    ({"expression": "x", "point": [1], "order": 51}, "order"),
    ({"expression": "x", "point": [1], "order": 0}, "order"),
    ({"expression": "x", "point": [1]}, "order"),
    ({"expression": "x", "order": 1}, "point"),
    ({"expression": "x*y", "point": {"x": 1}, "order": 1}, "point/y"),
    ({"expression": "x", "point": [1], "order": 1.5}, "order"),
])
def test_request_errors(post, body, field):
    problem(post(PATH, body), field)


def test_order_limit_names_its_variable(post):
    body = problem(post(PATH, {"expression": "x", "point": [1], "order": 51}), "order")
    assert "GRADIENT_MAX_DERIVATIVE_ORDER" in body["detail"]


@pytest.mark.parametrize("name", sorted(TAYLOR_EXAMPLES))
def test_request_examples_answer_200(post, name):
    ok(post(PATH, TAYLOR_EXAMPLES[name]["value"]))
