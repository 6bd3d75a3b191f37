"""A standard table of derivatives, the expected results written out by hand.

Each row: expression, and its derivative by x as a plain-Python function (math module).
The service's derivative is checked at several points, both its float values over a batch
and its exact text (re-posted as input and evaluated), so a wrong symbolic result fails.
"""

from __future__ import annotations

import math

import pytest
from numpy.testing import assert_allclose

sec = lambda t: 1 / math.cos(t)  # noqa: E731
sigmoid = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731

TABLE = [
    # power rule
    ("x^7", lambda x: 7 * x**6),
    ("x^(-3)", lambda x: -3 * x**-4),
    ("x^(1/2)", lambda x: 0.5 * x**-0.5),
    ("1/x", lambda x: -1 / x**2),
    ("5", lambda x: 0.0),
    ("3x^2 - 4x + 7", lambda x: 6 * x - 4),
    # product and quotient rules
    ("x^2*sin(x)", lambda x: 2 * x * math.sin(x) + x**2 * math.cos(x)),
    ("x*exp(x)", lambda x: (1 + x) * math.exp(x)),
    ("sin(x)/x", lambda x: (x * math.cos(x) - math.sin(x)) / x**2),
    ("(x+1)/(x-1)", lambda x: -2 / (x - 1) ** 2),
    ("x*log(x)", lambda x: math.log(x) + 1),
    # chain rule
    ("(3x^2+2)^5", lambda x: 5 * (3 * x**2 + 2) ** 4 * 6 * x),
    ("sin(x^2)", lambda x: 2 * x * math.cos(x**2)),
    ("exp(-x^2/2)", lambda x: -x * math.exp(-x**2 / 2)),
    ("sqrt(1 + x^2)", lambda x: x / math.sqrt(1 + x**2)),
    ("log(cos(x))", lambda x: -math.tan(x)),
    ("cos(3x)^2", lambda x: -6 * math.cos(3 * x) * math.sin(3 * x)),
    # exponentials and logarithms
    ("exp(x)", math.exp),
    ("e^(2x)", lambda x: 2 * math.exp(2 * x)),
    ("2^x", lambda x: math.log(2) * 2**x),
    ("log(x)", lambda x: 1 / x),
    ("ln(x)", lambda x: 1 / x),
    ("log2(x)", lambda x: 1 / (x * math.log(2))),
    ("log10(x)", lambda x: 1 / (x * math.log(10))),
    ("log(x, 3)", lambda x: 1 / (x * math.log(3))),
    ("x^x", lambda x: x**x * (math.log(x) + 1)),
    # trigonometric
    ("sin(x)", math.cos),
    ("cos(x)", lambda x: -math.sin(x)),
    ("tan(x)", lambda x: sec(x) ** 2),
    ("sec(x)", lambda x: sec(x) * math.tan(x)),
    ("csc(x)", lambda x: -1 / (math.sin(x) * math.tan(x))),
    ("cot(x)", lambda x: -1 / math.sin(x) ** 2),
    # inverse trigonometric
    ("asin(x)", lambda x: 1 / math.sqrt(1 - x**2)),
    ("acos(x)", lambda x: -1 / math.sqrt(1 - x**2)),
    ("atan(x)", lambda x: 1 / (1 + x**2)),
    ("atan2(1, x)", lambda x: -1 / (1 + x**2)),
    # hyperbolic
    ("sinh(x)", math.cosh),
    ("cosh(x)", math.sinh),
    ("tanh(x)", lambda x: 1 - math.tanh(x) ** 2),
    ("asinh(x)", lambda x: 1 / math.sqrt(x**2 + 1)),
    ("atanh(x)", lambda x: 1 / (1 - x**2)),
    # others of the grammar and of machine learning
    ("cbrt(x)", lambda x: 1 / (3 * abs(x) ** (2 / 3))),
    ("erf(x)", lambda x: 2 / math.sqrt(math.pi) * math.exp(-x**2)),
    ("sigmoid(x)", lambda x: sigmoid(x) * (1 - sigmoid(x))),
    ("softplus(x)", sigmoid),
    ("log(1 + exp(x))", sigmoid),
    ("relu(x)", lambda x: 1.0 if x > 0 else 0.0),
    ("abs(x)", lambda x: math.copysign(1.0, x)),
    ("abs(x)^3", lambda x: 3 * x * abs(x)),
]

POINTS = [0.3, 0.45, 0.7]  # inside every domain above (asin, atanh, log, ...)


@pytest.mark.parametrize("expression, expected", TABLE, ids=[row[0] for row in TABLE])
def test_textbook_derivative(post, expression, expected):
    response = post("/v1/derivative", {"expression": expression, "variable": "x",
                                       "points": [[p] for p in POINTS]})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    want = [expected(p) for p in POINTS]
    assert_allclose(body["batch"]["values"], want, rtol=1e-12, atol=1e-12)
    # The exact text of the derivative, re-posted, has the same values.
    again = post("/v1/gradient", {"expression": body["derivative"]["expression"],
                                  "variables": ["x"], "points": [[p] for p in POINTS]})
    assert again.status_code == 200, again.get_data(as_text=True)
    assert_allclose(again.get_json()["batch"]["values"], want, rtol=1e-12, atol=1e-12)


def test_table_is_large_enough():
    assert len(TABLE) >= 40


@pytest.mark.parametrize("variable, expected", [
    # MSE of one sample, L = (w x + b - y)^2: dL/dw = 2 x (w x + b - y), dL/db = 2 (w x + b - y)
    ("w", lambda w, b, x, y: 2 * x * (w * x + b - y)),
    ("b", lambda w, b, x, y: 2 * (w * x + b - y)),
])
def test_mse_loss_partials(post, variable, expected):
    points = [{"w": 0.5, "b": -1.0, "x": 2.0, "y": 3.0}, {"w": 2, "b": 1, "x": -1, "y": 0.25}]
    body = post("/v1/derivative", {"expression": "(w*x + b - y)^2", "variable": variable,
                                   "points": points}).get_json()
    assert_allclose(body["batch"]["values"], [expected(**p) for p in points])
