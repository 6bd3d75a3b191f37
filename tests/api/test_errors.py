"""Every kind of bad request gets the right status and a problem+json that says what to fix."""

from __future__ import annotations

import pytest

from service.app import create_app
from service.config import Limits, Settings

PROBLEM = "application/problem+json"


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert set(body) >= {"type", "title", "status", "detail", "errors"}
    assert body["status"] == status
    assert body["detail"]
    return body


def test_parse_error_has_position(post):
    body = problem(post("/v1/gradient", {"expression": "(x + 1))"}), 422)
    error = body["errors"][0]
    assert error["field"] == "expression"
    assert error["position"] == 7


def test_unknown_function_suggests(post):
    body = problem(post("/v1/derivative", {"expression": "sinn(x)", "variable": "x"}), 422)
    assert "sin" in body["detail"] and body["errors"][0]["position"] == 0


def test_variable_called_like_a_function(post):
    body = problem(post("/v1/gradient", {"expression": "x(y+1)"}), 422)
    assert "x*(y+1)" in body["detail"]


# Complex constants in real-looking form (found by fuzz/sympy_path_errors.py): refused at
# once, on the SymPy path (a constant c) and in the express lane (plain requests), with or
# without a point. Nested in cosh(tanh(...)), atanh(-3) used to keep SymPy's assumptions
# busy until the time budget ran out.
@pytest.mark.parametrize("path, body, quoted, position", [
    ("/v1/hessian", {"expression": "-(7^70)*(cosh(tanh((atanh(-3)) * ((8) + (7))))) + c",
                     "variables": ["x", "y", "z"], "constants": {"c": 1},
                     "point": {"x": -1, "y": 5, "z": 0}}, "(atanh(-3))", 19),
    ("/v1/hessian", {"expression": "10^60*(csc(sinh((acos(e))^(-2)))) + c",
                     "variables": ["x", "y", "z"], "constants": {"c": 1},
                     "point": {"x": 0.5, "y": 5, "z": -2}}, "(acos(e))", 16),
    ("/v1/gradient", {"expression": "asin(2)*x + y", "variables": ["x", "y"]}, "asin(2)", 0),
    ("/v1/gradient", {"expression": "asin(2)*x + y", "variables": ["x", "y"],
                      "point": {"x": 1, "y": 2}}, "asin(2)", 0),
    ("/v1/derivative", {"expression": "x*(1 - pi)^(1/3)", "variable": "x",
                        "point": {"x": 1}}, "(1 - pi)^(1/3)", 2),
])
def test_complex_constants_are_refused_where_they_are_written(post, path, body, quoted,
                                                              position):
    answer = problem(post(path, body), 422)
    assert f"{quoted} at position {position} is not a real number" in answer["detail"]
    assert answer["errors"][0] == {**answer["errors"][0], "field": "expression",
                                   "position": position}


def test_unknown_field_is_named(post):
    body = problem(post("/v1/gradient", {"expression": "x", "variabels": ["x"]}), 422)
    assert body["errors"][0]["field"] == "variabels"
    assert "variables" in body["errors"][0]["message"]


def test_missing_required_field(post):
    body = problem(post("/v1/derivative", {"expression": "x"}), 422)
    assert body["errors"][0]["field"] == "variable"


@pytest.mark.parametrize("payload, field", [
    ({"expression": 3}, "expression"),
    ({"expression": "x", "variables": "x"}, "variables"),
    ({"expression": "x", "point": {"x": True}}, "point/x"),
    ({"expression": "x", "point": {"x": None}}, "point/x"),
    ({"expression": "x", "point": 5}, "point"),
    ({"expression": "x", "points": [[1], "a"]}, "points/1"),
])
def test_wrong_types(post, payload, field):
    body = problem(post("/v1/gradient", payload), 422)
    assert body["errors"][0]["field"].startswith(field)


def test_missing_coordinate(post):
    body = problem(post("/v1/gradient", {"expression": "x*y", "point": {"x": 1}}), 422)
    assert body["errors"][0]["field"] == "point/y"


def test_point_list_of_wrong_length(post):
    problem(post("/v1/gradient", {"expression": "x*y", "point": [1]}), 422)


def test_point_with_unknown_name(post):
    body = problem(post("/v1/gradient", {"expression": "x", "point": {"x": 1, "q": 2}}), 422)
    assert body["errors"][0]["field"] == "point/q"


@pytest.mark.parametrize("coordinate", ["sqrt(-1)", "1/0", "x", "log(0)", ""])
def test_bad_exact_coordinates(post, coordinate):
    body = problem(post("/v1/gradient", {"expression": "x", "point": {"x": coordinate}}), 422)
    assert body["errors"][0]["field"] == "point/x"


def test_duplicate_variables(post):
    body = problem(post("/v1/gradient", {"expression": "x", "variables": ["x", "x"]}), 422)
    assert body["errors"][0]["field"] == "variables/1"


@pytest.mark.parametrize("name", ["sin", "2x", "x-y", "", "é"])
def test_unusable_variable_names(post, name):
    body = problem(post("/v1/gradient", {"expression": "x", "variables": [name]}), 422)
    assert body["errors"][0]["field"] == "variables/0"


def test_variable_and_constant_clash(post):
    problem(post("/v1/gradient", {"expression": "x*a", "variables": ["x", "a"],
                                  "constants": {"a": 1}}), 422)


def test_order_must_be_positive_integer(post):
    problem(post("/v1/derivative", {"expression": "x", "variable": "x", "order": 0}), 422)
    problem(post("/v1/derivative", {"expression": "x", "variable": "x", "order": 1.5}), 422)


def test_order_limit_names_variable(post):
    body = problem(post("/v1/derivative", {"expression": "x", "variable": "x", "order": 51}), 422)
    assert "GRADIENT_MAX_DERIVATIVE_ORDER" in body["detail"] and "50" in body["detail"]


def test_expression_length_limit(post):
    body = problem(post("/v1/gradient", {"expression": "x+" * 6000 + "x"}), 422)
    assert "GRADIENT_MAX_EXPRESSION_LENGTH" in body["detail"]


@pytest.mark.parametrize("expression", ["9^9^9^9", "2^(10^10)", "((10^99)^10000)^10000"])
def test_power_towers_are_refused(post, expression):
    problem(post("/v1/gradient", {"expression": expression + "*x"}), 422)


def test_variables_limit_is_configurable():
    app = create_app(Settings(limits=Limits(max_variables=2)))
    response = app.test_client().post("/v1/gradient", json={"expression": "x+y+z"})
    body = problem(response, 422)
    assert "GRADIENT_MAX_VARIABLES" in body["detail"]


def test_points_limit():
    app = create_app(Settings(limits=Limits(max_points=3)))
    response = app.test_client().post(
        "/v1/gradient", json={"expression": "x", "points": [[1]] * 4})
    assert "GRADIENT_MAX_POINTS" in problem(response, 422)["detail"]


# -- the body itself ----------------------------------------------------------------------

def test_body_not_an_object(client):
    problem(client.post("/v1/gradient", data="[1, 2]", content_type="application/json"), 400)


def test_malformed_json(client):
    body = problem(client.post("/v1/gradient", data='{"expression": ',
                               content_type="application/json"), 400)
    assert "JSON" in body["detail"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_literals_are_rejected(client, literal):
    body = problem(client.post("/v1/gradient", data='{"expression": "x", "point": [%s]}' % literal,
                               content_type="application/json"), 400)
    assert "NaN" in body["detail"]


def test_deeply_nested_json(client):
    data = '{"expression": "x", "point": ' + "[" * 30000 + "]" * 30000 + "}"
    problem(client.post("/v1/gradient", data=data, content_type="application/json"), 400)


def test_empty_body(client):
    problem(client.post("/v1/gradient", data="", content_type="application/json"), 400)


def test_curl_default_content_type_works(client):
    # curl -d sends application/x-www-form-urlencoded: a JSON body is accepted anyway
    response = client.post("/v1/gradient", data='{"expression": "x^2", "point": [1]}',
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.get_json()["at"]["gradient"]["exact"] == ["2"]


def test_non_json_body_gets_415_naming_the_header(client):
    body = problem(client.post("/v1/gradient", data="expression=x",
                               content_type="application/x-www-form-urlencoded"), 415)
    assert "Content-Type: application/json" in body["detail"]
    problem(client.post("/v1/gradient", data=b"\x00\x01", content_type="image/png"), 415)


def test_body_too_large():
    app = create_app(Settings(limits=Limits(max_body_bytes=100)))
    response = app.test_client().post("/v1/gradient", json={"expression": "x" * 200})
    body = problem(response, 413)
    assert "GRADIENT_MAX_BODY_BYTES" in body["detail"]


def test_404_and_405_are_problems(client):
    problem(client.get("/v1/nope"), 404)
    response = client.get("/v1/gradient")
    problem(response, 405)
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("coordinate", [1e308, -1.7976931348623157e308, 2**63 - 1, -(2**63)])
def test_huge_coordinates_are_answered(post, coordinate):
    response = post("/v1/gradient", {"expression": "x^2", "point": {"x": coordinate}})
    assert response.status_code == 200
    assert "Infinity" not in response.get_data(as_text=True)
