"""Regressions found by the contract tests (tests/contract): each was a 500."""

from __future__ import annotations

import pytest
import sympy

from service.calculus import engine

x = sympy.Symbol("x")


@pytest.mark.parametrize("expression, point, why", [
    ("min(log(x), 4)", {"x": 0}, "undefined"),       # log(0) = zoo: Min cannot compare it
    ("max(1/x, 4)", {"x": 0}, "undefined"),
    ("min(log(x), 4)", {"x": -1}, "undefined"),      # log(-1) = i*pi
    ("min(log(x), 4)", {"x": -1.5}, "complex"),      # a float point: the numeric path
    ("max(sqrt(x), 0)", {"x": "-1/4"}, "undefined"),
])
def test_min_max_of_a_non_real_argument_is_null_with_a_warning(post, expression, point, why):
    response = post("/v1/gradient", {"expression": expression, "point": point})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["at"]["value"] == {"exact": None, "numeric": None}
    assert body["at"]["gradient"]["numeric"] == [None]
    assert body["warnings"][0] == f"value is {why} at this point"


def test_min_max_of_a_non_real_argument_in_a_batch(post):
    response = post("/v1/gradient", {"expression": "min(log(x), 4)",
                                     "points": [[-1.5], [0], [2]]})
    assert response.status_code == 200
    batch = response.get_json()["batch"]
    assert batch["values"][:2] == [None, None]
    assert batch["values"][2] == pytest.approx(0.6931471805599453)
    assert batch["gradient"] == [[None], [None], [0.5]]


@pytest.mark.parametrize("path, body", [
    ("/v1/hessian", {"expression": "max(sqrt(x), y)", "point": {"x": -1, "y": 0}}),
    ("/v1/jacobian", {"expressions": ["min(log(x), 4)", "x"], "point": [0]}),
    ("/v1/derivative", {"expression": "relu(min(log(x), 4))", "variable": "x",
                        "point": {"x": 0}}),
])
def test_other_endpoints_answer_too(post, path, body):
    assert post(path, body).status_code == 200


def test_substitute_gives_nan_where_min_max_cannot_compare():
    assert engine.substitute(sympy.Min(sympy.log(x), 4), {x: sympy.Integer(0)}) is sympy.nan
    assert engine.substitute(sympy.Min(sympy.log(x), 4), {x: sympy.Integer(1)}) == 0


def test_non_finite_value_of_a_function_without_complex_form_is_classified(post):
    """cbrt has no complex NumPy form: an infinite or NaN value is classified from floats."""
    response = post("/v1/hessian", {"expression": "cbrt(x)", "point": {"x": 1e-300}})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["at"]["hessian"]["numeric"] == [[None]]
    assert body["warnings"] == ["hessian[0][0] is infinite at this point"]
    response = post("/v1/gradient", {"expression": "cbrt(x) + log(x)", "point": {"x": -1.5}})
    assert response.status_code == 200
    assert response.get_json()["warnings"][0] == "value is undefined at this point"


def test_non_finite_value_under_a_real_only_numeric_function(post):
    """erf's NumPy form is real-only: classifying its NaN must not cast complex to real
    (a ComplexWarning, an error where warnings are errors)."""
    response = post("/v1/gradient", {"expression": "erf(log(x))", "point": {"x": -2.5}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["warnings"][0] == "value is undefined at this point"


def test_gradient_norm_does_not_overflow_for_large_finite_entries(post):
    # sqrt(x) at 5e-324: the partial is 2.2e161, whose square overflows; the norm does not.
    response = post("/v1/gradient", {"expression": "sqrt(x)", "point": {"x": 5e-324}})
    assert response.status_code == 200
    at = response.get_json()["at"]
    assert at["norm"] == pytest.approx(at["gradient"]["numeric"][0])
    assert at["norm"] == pytest.approx(2.2494568972715982e161)


def test_gradient_norm_past_float64_is_null_with_a_warning(post):
    response = post("/v1/gradient", {"expression": "z*(x + y)", "variables": ["x", "y"],
                                     "point": {"x": 0, "y": 0, "z": 1.5e308}})
    body = response.get_json()
    assert body["at"]["norm"] is None
    assert body["warnings"] == ["norm is too large for a float64 at this point"]


def test_hessian_eigenvalues_past_float64_are_null_with_a_warning(post):
    # Entries 1.5e308 are finite; the eigenvalue 3e308 is not.
    response = post("/v1/hessian", {"expression": "z*(x + y)^2", "variables": ["x", "y"],
                                    "point": {"x": 0, "y": 0, "z": 7.5e307}})
    body = response.get_json()
    assert body["at"]["eigenvalues"] is None and body["at"]["definiteness"] is None
    assert body["at"]["critical_point"] is True
    assert body["warnings"] == ["eigenvalues are too large for a float64 at this point"]


def test_hessian_eigenvalues_near_the_float64_maximum_are_exact(post):
    response = post("/v1/hessian", {"expression": "z*(x^2 + y^2)", "variables": ["x", "y"],
                                    "point": {"x": 0, "y": 0, "z": 7.5e307}})
    at = response.get_json()["at"]
    assert at["eigenvalues"] == [1.5e308, 1.5e308]
    assert at["classification"] == "local minimum"


@pytest.mark.parametrize("path, body, batch", [
    ("/v1/hessian", {"expression": "a", "variables": [], "points": []}, {"hessian": []}),
    ("/v1/hessian", {"expression": "2", "points": [[], []]}, {"hessian": [[], []]}),
    ("/v1/jacobian", {"expressions": ["a"], "variables": [], "points": []},
     {"values": [], "jacobian": []}),
    ("/v1/jacobian", {"expressions": ["a"], "variables": [], "points": [{"a": 1}]},
     {"values": [[1.0]], "jacobian": [[[]]]}),
])
def test_batch_of_matrices_with_no_variables(post, path, body, batch):
    """reshape(-1, m, 0) of an empty table is ambiguous: the batch has one matrix per point."""
    response = post(path, body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["batch"] == batch


@pytest.mark.parametrize("kind", [{}, [], 3])
def test_plot_kind_that_is_not_a_string_is_a_422(post, kind):
    """``kind not in KIND_SCHEMAS`` raised TypeError for an unhashable kind such as {}."""
    response = post("/v1/plot", {"kind": kind, "expression": "x^2"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "kind"
