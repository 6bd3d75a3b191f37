"""Every limit of API.md: refused past it with a 422 (413 for the body) that names the limit,
its value and its environment variable, accepted at it, and checked before the work it
guards (the body before JSON parsing, the expression while parsing, counts and sizes
before any SymPy or NumPy work).

Limits are set small here (as an operator would with the environment variables) so that
each request is tiny; the defaults are API.md's (tests/test_config.py).
"""

from __future__ import annotations

from dataclasses import fields

import pytest

from hardening_support import check_answer, post_json, post_raw

from service.app import create_app
from service.config import Limits, Settings

# limit -> (value set, request path, body past the limit, body at the limit, field)
# A body of None at the limit: the request just past it is the only interesting one.
CASES = {
    "max_expression_length": (
        20, "/v1/gradient", {"expression": "x + 12345678901 + y^2"},  # 21 characters
        {"expression": "x + 1234567890 + y^2"}, "expression"),
    "max_nesting_depth": (
        5, "/v1/gradient", {"expression": "((((((x))))))"}, {"expression": "(((((x)))))"},
        "expression"),
    "max_expression_nodes": (
        9, "/v1/gradient", {"expression": "x+y+z+w+v+u"}, {"expression": "x+y+z+w+v"},
        "expression"),
    "max_variables": (
        3, "/v1/gradient", {"expression": "a+b+c+d"}, {"expression": "a+b+c"}, "variables"),
    "max_expressions": (
        3, "/v1/jacobian", {"expressions": ["x", "y", "x*y", "x+y"]},
        {"expressions": ["x", "y", "x*y"]}, "expressions"),
    "max_derivative_order": (
        5, "/v1/derivative", {"expression": "x^9", "variable": "x", "order": 6},
        {"expression": "x^9", "variable": "x", "order": 5}, "order"),
    "max_integer_digits": (
        5, "/v1/gradient", {"expression": "123456*x"}, {"expression": "12345*x"}, "expression"),
    "max_exponent": (
        100, "/v1/gradient", {"expression": "x^101"}, {"expression": "x^100"}, "expression"),
    "max_number_digits": (
        20, "/v1/gradient", {"expression": "2^70*x"}, {"expression": "2^60*x"}, "expression"),
    "max_points": (
        5, "/v1/gradient", {"expression": "x^2", "points": [[1]] * 6},
        {"expression": "x^2", "points": [[1]] * 5}, "points"),
    "max_batch_values": (
        100, "/v1/gradient", {"expression": "x*y*z", "points": [[1, 2, 3]] * 26},  # 4 values each
        {"expression": "x*y*z", "points": [[1, 2, 3]] * 25}, "points"),
    "max_iterations": (
        50, "/v1/gradient-descent",
        {"expression": "x^2", "start": [1], "max_iterations": 51, "record_every": 10},
        {"expression": "x^2", "start": [1], "max_iterations": 50, "record_every": 10},
        "max_iterations"),
    "max_trace_entries": (
        10, "/v1/gradient-descent",
        {"expression": "x^2", "start": [1], "max_iterations": 10, "tolerance": 0},  # 11 entries
        {"expression": "x^2", "start": [1], "max_iterations": 9, "tolerance": 0},
        "record_every"),
    "max_data_rows": (
        5, "/v1/gradient-descent",
        {"expression": "(w*x - y)^2", "variables": ["w"], "start": [0],
         "data": {"x": [1] * 6, "y": [2] * 6}, "max_iterations": 5},
        {"expression": "(w*x - y)^2", "variables": ["w"], "start": [0],
         "data": {"x": [1] * 5, "y": [2] * 5}, "max_iterations": 5},
        "data/x"),
}
# Limits tested elsewhere, or not limits of a request.
ELSEWHERE = {
    "max_body_bytes": "test_body_size_is_checked_before_json_parsing (413); chunked bodies in "
                      "test_live_gunicorn.py",
    "time_budget_seconds": "test_time_budget.py",
    "max_memory_mb": "test_memory.py",
    "cache_entries": "a cache size, not a limit on requests (tests/calculus/test_cache.py)",
    "cache_megabytes": "a cache size, not a limit on requests (tests/calculus/test_cache.py)",
}
PLOT_LIMITS = "max_plot_"  # POST /v1/plot's own limits, tested with the plots


def _client(**limits):
    return create_app(Settings(limits=Limits(time_budget_seconds=5, **limits))).test_client()


def test_every_limit_is_covered():
    names = {f.name for f in fields(Limits) if not f.name.startswith(PLOT_LIMITS)}
    assert names == set(CASES) | set(ELSEWHERE)


@pytest.mark.parametrize("name", sorted(CASES))
def test_past_a_limit_is_a_422_that_names_it(name):
    value, path, past, at, field = CASES[name]
    client = _client(**{name: value})
    response = post_json(client, path, past)
    problem = check_answer(response, allowed={422})
    assert problem["type"].endswith(":limit-exceeded")
    assert f"the limit is {value:,}" in problem["detail"]
    assert Limits.env_var(name) in problem["detail"]
    assert problem["errors"][0]["field"] == field
    assert check_answer(post_json(client, path, at), allowed={200})


@pytest.mark.parametrize("name, count, body", [
    ("constants", 4, {"expression": "x", "constants": {"a": 1, "b": 2, "c": 3, "d": 4}}),
    ("data", 4, {"expression": "(w*a - b)^2", "variables": ["w"], "start": [0],
                 "data": {"a": [1], "b": [1], "c": [1], "d": [1]}}),
])
def test_constants_and_data_columns_count_like_variables(name, count, body):
    client = _client(max_variables=3)
    path = "/v1/gradient-descent" if "start" in body else "/v1/gradient"
    problem = check_answer(post_json(client, path, body), allowed={422})
    assert problem["errors"][0]["field"] == name
    assert "GRADIENT_MAX_VARIABLES" in problem["detail"]


def test_body_size_is_checked_before_json_parsing():
    client = _client(max_body_bytes=1024)
    for body in [b"{" + b" " * 2000, b'{"expression": "' + b"x+" * 1000 + b'x"}']:
        problem = check_answer(post_raw(client, "/v1/gradient", body), allowed={413})
        assert "1,024" in problem["detail"] and "GRADIENT_MAX_BODY_BYTES" in problem["detail"]
    at_limit = b'{"expression": "x"}'.ljust(1024, b" ")
    assert check_answer(post_raw(client, "/v1/gradient", at_limit), allowed={200})


def test_exact_values_past_the_digit_limit_are_not_computed():
    """x^y at x = y = 10^99 would compute a number of 10^101 digits in one C call: the exact
    value is refused before it is computed; the float (here infinite: null) is given."""
    client = _client()
    response = post_json(client, "/v1/derivative", {
        "expression": "x^y", "variable": "x", "point": {"x": "10^99", "y": "10^99"}})
    answer = check_answer(response, allowed={200})
    assert answer["at"]["value"] == {"exact": None, "numeric": None}
    assert any("more than 1,000 digits" in w for w in answer["warnings"])


# -- checked before the work they guard ---------------------------------------------------
#
# Inline apps (no computation process), with the step each limit must come before replaced
# by one that fails the test: the answer must be the limit's 422 all the same.

def _inline_client(**limits):
    return create_app(Settings(limits=Limits(**limits), isolated=False)).test_client()


def _forbid(monkeypatch, target: str):
    def forbidden(*args, **kwargs):
        raise AssertionError(f"{target} ran before the limit was checked")

    monkeypatch.setattr(target, forbidden)


@pytest.mark.parametrize("limits, forbidden, path, body", [
    ({"max_expression_length": 10}, "service.expressions.parser.tokenize",
     "/v1/gradient", {"expression": "x" * 11}),
    ({"max_expressions": 2}, "service.calculus.spec.parse",
     "/v1/jacobian", {"expressions": ["x", "y", "z"]}),
    ({"max_variables": 2}, "service.calculus.spec.parse",
     "/v1/gradient", {"expression": "x", "variables": ["x", "y", "z"]}),
    ({"max_variables": 2}, "service.calculus.spec.parse",
     "/v1/gradient", {"expression": "x", "constants": {"a": 1, "b": 2, "c": 3}}),
    ({"max_derivative_order": 5}, "service.calculus.spec.parse",
     "/v1/derivative", {"expression": "x", "variable": "x", "order": 6}),
    ({"max_points": 2}, "service.calculus.engine.differentiate",
     "/v1/gradient", {"expression": "x", "points": [[1], [2], [3]]}),
    ({"max_batch_values": 10}, "service.calculus.engine.differentiate",
     "/v1/hessian", {"expression": "x*y", "points": [[1, 2]] * 2}),  # 1 + 2 + 4 values each
    ({"max_iterations": 10}, "service.calculus.spec.parse",
     "/v1/gradient-descent", {"expression": "x^2", "start": [1], "max_iterations": 11}),
    ({"max_trace_entries": 10}, "service.calculus.spec.parse",
     "/v1/gradient-descent", {"expression": "x^2", "start": [1], "max_iterations": 10}),
    ({"max_data_rows": 2}, "service.calculus.spec.parse",
     "/v1/gradient-descent", {"expression": "(w*x)^2", "variables": ["w"], "start": [1],
                              "data": {"x": [1, 2, 3]}}),
])
def test_limits_are_checked_before_the_work(monkeypatch, limits, forbidden, path, body):
    client = _inline_client(**limits)
    _forbid(monkeypatch, forbidden)
    problem = check_answer(post_json(client, path, body), allowed={422})
    assert problem["type"].endswith(":limit-exceeded"), problem


def test_expression_size_is_checked_while_parsing_before_sympy(monkeypatch):
    """Nesting, node count, literal and exponent sizes stop the parser before the builder
    hands anything to SymPy."""
    client = _inline_client(max_nesting_depth=5, max_expression_nodes=9)
    _forbid(monkeypatch, "service.expressions.parsing.build")
    for expression in ["((((((x))))))", "x+y+z+w+v+u", "-(-(-(-(-(-x)))))", "1+2+3+4+5+6"]:
        problem = check_answer(post_json(client, "/v1/gradient", {"expression": expression}),
                               allowed={422})
        assert problem["type"].endswith(":limit-exceeded")
        assert isinstance(problem["errors"][0]["position"], int)
