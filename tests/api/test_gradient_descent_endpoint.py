"""POST /v1/gradient-descent over HTTP: the fields of API.md and the textbook fits."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from service.app import create_app
from service.config import Limits, Settings


def ok(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def unprocessable(response):
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def test_quadratic_with_defaults(post):
    # f = (x-3)^2 + (y+1)^2, gd with lr 0.1: each step x_k - 3 = 0.8^k (x_0 - 3)
    body = ok(post("/v1/gradient-descent", {
        "expression": "(x-3)^2 + (y+1)^2", "start": {"x": 0, "y": 0},
        "learning_rate": 0.1, "max_iterations": 500}))
    assert body["variables"] == ["x", "y"]
    assert body["optimizer"] == {"name": "gd", "learning_rate": 0.1, "hyperparameters": {}}
    assert body["result"]["converged"] is True
    assert body["result"]["stop_reason"] == "tolerance"
    assert_allclose([body["result"]["point"]["x"], body["result"]["point"]["y"]], [3, -1],
                    atol=1e-8)
    first, second = body["trace"][0], body["trace"][1]
    assert first["iteration"] == 0 and first["point"] == [0.0, 0.0]
    assert first["value"] == 10.0 and first["gradient"] == [-6.0, 2.0]
    assert_allclose(second["point"], [0.6, -0.2])
    assert [g["expression"] for g in body["gradient"]]


def test_default_learning_rates_and_hyperparameters(post):
    body = ok(post("/v1/gradient-descent", {"expression": "x^2", "start": [1],
                                            "optimizer": "adam", "max_iterations": 2}))
    assert body["optimizer"]["learning_rate"] == 0.001
    assert body["optimizer"]["hyperparameters"] == {"beta1": 0.9, "beta2": 0.999,
                                                    "epsilon": 1e-8}


def test_newton_converges_in_one_step_on_a_quadratic(post):
    body = ok(post("/v1/gradient-descent", {
        "expression": "x^2 + 3*y^2 + x*y - 4*x", "start": [5, -7], "optimizer": "newton"}))
    # minimum: grad = (2x + y - 4, 6y + x) = 0 -> x = 24/11, y = -4/11
    assert body["trace"][1]["iteration"] == 1
    assert_allclose(body["trace"][1]["point"], [24 / 11, -4 / 11], atol=1e-12)
    assert body["result"]["converged"] is True


def test_divergence_is_a_200(client):
    response = client.post("/v1/gradient-descent", json={
        "expression": "x^2", "start": [1], "learning_rate": 1.5, "max_iterations": 5000})
    body = ok(response)
    assert body["result"]["stop_reason"] == "diverged"
    assert body["result"]["converged"] is False
    assert "NaN" not in response.get_data(as_text=True)
    assert "Infinity" not in response.get_data(as_text=True)


def _regression_data(n=50, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n)
    y = 1.5 * x - 0.7 + rng.normal(0, 0.1, n)
    return x, y


def test_linear_regression_recovers_least_squares(post):
    x, y = _regression_data()
    (w, b), *_ = np.linalg.lstsq(np.c_[x, np.ones_like(x)], y, rcond=None)
    body = ok(post("/v1/gradient-descent", {
        "expression": "(w*x + b - y)^2", "variables": ["w", "b"], "start": [0, 0],
        "data": {"x": x.tolist(), "y": y.tolist()}, "learning_rate": 0.1,
        "max_iterations": 5000, "tolerance": 1e-10, "record_every": 100}))
    assert body["result"]["converged"] is True
    assert_allclose([body["result"]["point"]["w"], body["result"]["point"]["b"]], [w, b],
                    rtol=1e-7)


def test_minibatch_sgd_is_reproducible_and_close(post):
    x, y = _regression_data(200)
    (w, b), *_ = np.linalg.lstsq(np.c_[x, np.ones_like(x)], y, rcond=None)
    request = {"expression": "(w*x + b - y)^2", "variables": ["w", "b"], "start": [0, 0],
               "data": {"x": x.tolist(), "y": y.tolist()}, "learning_rate": 0.05,
               "batch_size": 20, "seed": 7, "max_iterations": 3000, "record_every": 100}
    first, again = ok(post("/v1/gradient-descent", request)), ok(post("/v1/gradient-descent", request))
    assert first["trace"] == again["trace"]
    other = ok(post("/v1/gradient-descent", {**request, "seed": 8}))
    assert other["trace"] != first["trace"]
    assert_allclose([first["result"]["point"]["w"], first["result"]["point"]["b"]], [w, b],
                    atol=0.05)


def test_l2_regularization_matches_ridge(post):
    # objective: sum_i (w x_i + b - y_i)^2 + l2 (w^2 + b^2): (X^T X + l2 I) theta = X^T y
    x, y = _regression_data(30)
    X = np.c_[x, np.ones_like(x)]
    l2 = 3.0
    ridge = np.linalg.solve(X.T @ X + l2 * np.eye(2), X.T @ y)
    body = ok(post("/v1/gradient-descent", {
        "expression": "(w*x + b - y)^2", "variables": ["w", "b"], "start": [0, 0],
        "data": {"x": x.tolist(), "y": y.tolist()}, "reduction": "sum",
        "regularization": {"l2": l2}, "optimizer": "newton", "max_iterations": 20}))
    assert_allclose([body["result"]["point"]["w"], body["result"]["point"]["b"]], ridge,
                    rtol=1e-9)


DATA = {"x": [1, 2, 3], "y": [2, 4, 7]}


@pytest.mark.parametrize("payload, field", [
    ({"hyperparameters": {"beta3": 0.5}, "optimizer": "adam", "data": DATA},
     "hyperparameters/beta3"),
    ({"optimizer": "sgd", "data": DATA}, "optimizer"),
    ({"data": {"x": [1, 2], "y": [1]}}, "data"),
    ({"data": {"x": [1, "a"], "y": [1, 2]}}, "data/x"),
    ({"data": {"w": [1, 2], "x": [1, 2], "y": [1, 2]}}, "data/w"),
    ({"data": {"x": [], "y": []}}, "data"),
    ({"data": {"x": [1, 2]}}, "expression"),  # y is nowhere
    ({"expression": "w^2 + b^2", "batch_size": 5}, "batch_size"),
    ({"data": DATA, "batch_size": 4}, "batch_size"),
])
def test_descent_errors_name_the_field(post, payload, field):
    request = {"expression": "(w*x + b - y)^2", "variables": ["w", "b"], "start": [0, 0],
               **payload}
    body = unprocessable(post("/v1/gradient-descent", request))
    assert body["errors"][0]["field"].startswith(field), body


def test_trace_limit_suggests_record_every():
    app = create_app(Settings(limits=Limits(max_trace_entries=11)))
    response = app.test_client().post("/v1/gradient-descent", json={
        "expression": "x^2", "start": [1], "max_iterations": 100})
    body = unprocessable(response)
    assert "record_every" in body["detail"] and "GRADIENT_MAX_TRACE_ENTRIES" in body["detail"]


def test_iteration_limit(post):
    body = unprocessable(post("/v1/gradient-descent", {
        "expression": "x^2", "start": [1], "max_iterations": 100001}))
    assert "GRADIENT_MAX_ITERATIONS" in body["detail"]


def test_record_every_decimates(post):
    body = ok(post("/v1/gradient-descent", {"expression": "x^2", "start": [1],
                                            "max_iterations": 10, "record_every": 4,
                                            "tolerance": 0}))
    assert [t["iteration"] for t in body["trace"]] == [0, 4, 8, 10]
    assert body["result"]["iterations"] == 10


def test_descent_on_abs_of_a_logarithm(post):
    """SymPy cannot tell log(x) real, and left d sign(log(x)) unevaluated (a 500 when it was
    compiled); |log(x)|^2 = log(x)^2 descends to x = 1 (gradient 2*log(x)/x, written with
    abs and sign)."""
    body = ok(post("/v1/gradient-descent", {
        "expression": "abs(log(x))^2", "start": {"x": 3}, "learning_rate": 0.2,
        "max_iterations": 500}))
    assert body["gradient"][0]["expression"] == "2*abs(log(x))*sign(log(x))/x"
    assert body["result"]["converged"] is True
    assert body["result"]["point"]["x"] == pytest.approx(1, abs=1e-6)
    flat = ok(post("/v1/gradient-descent", {"expression": "sign(log(x))", "start": {"x": 3}}))
    assert flat["gradient"][0]["expression"] == "0"
    assert flat["result"]["iterations"] == 0  # a zero gradient: converged where it starts


def test_descent_never_reports_the_real_part_of_a_complex_value(post):
    """x^(1/3) is the principal root, complex for x < 0: cos of it at -1 is complex (its real
    part, 1.2278, was the start's value), and a step below 0 is divergence."""
    problem = unprocessable(post("/v1/gradient-descent", {
        "expression": "cos(x^(1/3))", "start": {"x": -1}}))
    assert problem["errors"][0]["field"] == "start"
    body = ok(post("/v1/gradient-descent", {
        "expression": "cos(x^(1/3)) + x^2", "start": {"x": 0.5}, "learning_rate": 1}))
    assert body["result"]["stop_reason"] == "diverged" and body["result"]["iterations"] == 0
