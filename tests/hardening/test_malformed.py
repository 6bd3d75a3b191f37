"""Malformed bodies and wrong types in every field of every endpoint: a clear 4xx each.

A body that is not JSON, not an object, or holds the non-JSON tokens NaN/Infinity is a 400;
an unsupported Content-Type a 415; a value of the wrong type or out of range a 422 naming
its field. The table of wrong values covers every field of every request schema (a test
fails when a field is added without its row).
"""

from __future__ import annotations

import pytest

from hardening_support import ENDPOINTS, VALID

from service.api import schemas

SCHEMAS = {
    "/v1/derivative": schemas.DerivativeRequest,
    "/v1/gradient": schemas.GradientRequest,
    "/v1/jacobian": schemas.JacobianRequest,
    "/v1/hessian": schemas.HessianRequest,
    "/v1/gradient-descent": schemas.GradientDescentRequest,
}
HUGE_INT = 10**30  # past 64 bits: sent as its digits, read as a float by the JSON decoder

_NOT_STRING = [None, True, 1, 1.5, [], {}, ["x"], {"x": 1}]
_NOT_COUNT = [None, True, 1.5, "2", [], {}, -1, HUGE_INT]
_NOT_POINT = [None, True, 1, "x", {"x": None}, {"x": True}, {"x": [1]}, {"x": {}}, [None],
              [[1]], [{}], [True]]
_NOT_FLAG = [None, 1, 0, "true", "yes", [], {}]

# field -> values that must be refused (each with a 4xx naming the field)
WRONG = {
    "expression": _NOT_STRING,
    "variable": _NOT_STRING,
    "expressions": [None, "x", 1, {}, [], [1], [None], [["x"]], [{"x": 1}]],
    "variables": [None, "x", 1, {}, [1], [None], [["x"]], [{}], [True]],
    "constants": [None, "c", 1, [], [["c", 1]], {"c": None}, {"c": True}, {"c": []},
                  {"c": {}}],
    "point": _NOT_POINT,
    "points": [None, "x", 1, {"x": 1}, [None], [1], ["x"], [[None]], [[True]], [[[1]]],
               [{"x": None}]],
    "order": _NOT_COUNT + [0],
    "steps": _NOT_FLAG,
    "check": _NOT_FLAG,
    "start": _NOT_POINT,
    "optimizer": [None, 1, [], {}, "sgd", "GD", ""],
    "learning_rate": [None, True, "0.1", [], {}, 0, -1],
    "hyperparameters": [None, [], "x", 1, {"momentum": "0.9"}, {"momentum": None},
                        {"momentum": []}],
    "max_iterations": [None, True, 1.5, "10", [], {}, -1, HUGE_INT],
    "tolerance": [None, True, "x", [], {}, -1],
    "record_every": [None, True, 1.5, "2", 0, -1, HUGE_INT],
    "data": [None, [], "x", 1, {"x": 1}, {"x": None}, {"x": [None]}, {"x": ["1"]},
             {"x": [True]}, {"x": [[1]]}, {"x": {}}],
    "reduction": [None, 1, [], "avg", ""],
    "batch_size": [None, True, 1.5, "2", 0, -1, HUGE_INT],
    "seed": [None, True, 1.5, "2", -1, HUGE_INT],
    "regularization": [None, [], "x", 1, {"l3": 1}, {"l1": -1}, {"l1": "x"}, {"l2": None}],
}


def _field_cases():
    for path in ENDPOINTS:
        for name in sorted(SCHEMAS[path]().fields):
            for i, value in enumerate(WRONG.get(name, [])):
                yield pytest.param(path, name, value, id=f"{path}:{name}:{i}")


def test_every_field_of_every_endpoint_has_wrong_values():
    missing = {f"{path}:{name}" for path in ENDPOINTS for name in SCHEMAS[path]().fields
               if name not in WRONG}
    assert not missing, f"add rows to WRONG for {missing}"


@pytest.mark.parametrize("path, name, value", list(_field_cases()))
def test_a_wrong_value_in_any_field_is_a_4xx_that_names_it(survive, path, name, value):
    body = {**VALID[path], name: value}
    if name == "points":
        body.pop("point", None)
    status, problem = survive(path, body, compute=False)
    assert status in (400, 422), problem
    fields = [e["field"] for e in problem["errors"]]
    assert any(f == name or f.startswith(name + "/") for f in fields), (fields, problem)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_unknown_field_is_named_with_a_suggestion(survive, path):
    status, problem = survive(path, {**VALID[path], "expresion": "x"}, compute=False)
    assert status == 422 and problem["errors"][0]["field"] == "expresion"


BAD_BODIES = {
    "empty": b"",
    "blank": b"  \n ",
    "truncated": b'{"expression": "x',
    "unclosed": b"{",
    "trailing garbage": b'{"expression": "x"} x',
    "two objects": b'{"expression": "x"}{"expression": "y"}',
    "single quotes": b"{'expression': 'x'}",
    "comment": b'{"expression": "x" /* hi */}',
    "trailing comma": b'{"expression": "x",}',
    "unquoted key": b'{expression: "x"}',
    "array": b'["x"]',
    "string": b'"x"',
    "number": b"1",
    "null": b"null",
    "true": b"true",
    "NaN": b'{"expression": "x", "point": [NaN]}',
    "Infinity": b'{"expression": "x", "point": [Infinity]}',
    "-Infinity": b'{"expression": "x", "point": [-Infinity]}',
    "NaN key position": b'{"expression": "x", "constants": {"c": NaN}}',
    "1e400": b'{"expression": "x", "point": [1e400]}',
    "-1e400": b'{"expression": "x", "point": [-1e400]}',
    "invalid UTF-8": b'{"expression": "x\xff"}',
    "UTF-16": '{"expression": "x"}'.encode("utf-16"),
    "byte order mark": b'\xef\xbb\xbf{"expression": "x"}',
    "control character": b'{"expression": "x\x01"}',
    "lone surrogate": b'{"expression": "\\ud800"}',
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep objects": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
}


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_a_malformed_body_is_a_400(survive, path, name):
    status, problem = survive(path, BAD_BODIES[name], compute=False)
    assert status == 400, problem
    if "NaN" in name or "Infinity" in name:
        assert "NaN and Infinity are not JSON numbers" in problem["detail"]


@pytest.mark.parametrize("content_type", [
    "application/xml", "multipart/form-data; boundary=x", "text/html", "image/png",
    "application/octet-stream",
])
def test_a_body_of_another_type_is_a_415_saying_which_header_to_add(survive, content_type):
    status, problem = survive("/v1/gradient", b'{"expression": "x"}',
                              content_type=content_type, compute=False)
    assert status == 415
    assert "Content-Type: application/json" in problem["detail"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=utf-8",
                                          "application/merge-patch+json"])
def test_a_json_body_under_a_lenient_type_works(survive, content_type):
    status, _ = survive("/v1/gradient", b'{"expression": "x"}', content_type=content_type,
                        compute=False)
    assert status == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_and_paths_are_problems_too(hard_client, method):
    from hardening_support import check_answer

    response = hard_client.open("/v1/gradient", method=method)
    assert check_answer(response, allowed={405})["status"] == 405
    assert "POST" in response.headers["Allow"]
    missing = hard_client.post("/v1/gradients", json={"expression": "x"})
    assert check_answer(missing, allowed={404})["status"] == 404
