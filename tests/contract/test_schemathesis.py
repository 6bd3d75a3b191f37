"""schemathesis holds the live app to the contract it serves at /openapi.yaml.

Two sources of requests, the same checks on every answer: no 5xx, a documented status code,
the documented content type, a body that conforms to the documented schema (and, for
requests the schema forbids, a 4xx).

- ``test_operation_conforms``: schemathesis' own generation for every operation, the
  request examples, boundary values (coverage phase) and random valid and invalid bodies.
- ``test_*_valid_requests_conform``: random *meaningful* requests (expressions of a small
  grammar with kinks and poles, exact and extreme coordinates, every optimizer), which
  reach the 200 answers with nulls, warnings and diverging runs that random strings
  rarely do.

The app under test runs computations in its supervised child process with a 2 s budget
(a request that needs more answers 422), so the suite stays within a few minutes.
"""

from __future__ import annotations

import hypothesis
import schemathesis
from hypothesis import HealthCheck, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance, content_type_conformance, negative_data_rejection,
    response_headers_conformance, response_schema_conformance, status_code_conformance,
    unsupported_method,
)

from service.app import create_app
from service.config import Limits, Settings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, negative_data_rejection,
          unsupported_method, allow_header_conformance]

APP = create_app(Settings(limits=Limits(time_budget_seconds=2)))
schema = schemathesis.openapi.from_wsgi("/openapi.yaml", APP)
FUZZ = hypothesis.settings(max_examples=50, deadline=None,
                           suppress_health_check=list(HealthCheck), derandomize=True)
MEANINGFUL = hypothesis.settings(max_examples=100, deadline=None,
                                 suppress_health_check=list(HealthCheck), derandomize=True)


@schema.parametrize()
@FUZZ
def test_operation_conforms(case):
    case.call_and_validate(checks=CHECKS)


def call(path: str, body: dict):
    """POST ``body`` through schemathesis and run every check on the answer."""
    case = schema[path]["POST"].Case(body=body, media_type="application/json")
    response = case.call_and_validate(checks=CHECKS)
    assert response.status_code in (200, 422), response.text
    return response


# --- meaningful requests ----------------------------------------------------------------

NAMES = ["x", "y"]
LEAVES = st.sampled_from(["x", "y", "2", "0.5", "pi", "e", "1/3"])
UNARY = ["sin", "exp", "log", "sqrt", "abs", "relu", "sign", "heaviside", "acosh", "atanh",
         "tan", "cbrt", "sigmoid", "erf"]


def _extend(children):
    return st.one_of(
        st.tuples(st.sampled_from(UNARY), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^"]), children)
        .map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
        st.tuples(st.sampled_from(["min", "max", "atan2", "log"]), children, children)
        .map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
    )


expressions = st.recursive(LEAVES, _extend, max_leaves=6)
coordinates = st.one_of(
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-300, 1e300, -1e308, 5e-324]),
    st.sampled_from(["1/3", "-2", "pi/4", "sqrt(2)", "0", "e", "10^20"]),
)
points = st.fixed_dictionaries({name: coordinates for name in NAMES})
float_rows = st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False),
                               min_size=2, max_size=2), max_size=4)


def spec_fields(*flags: str):
    """Optional point, points and the learners' flags (``steps``, ``check``)."""
    return st.fixed_dictionaries({}, optional={"point": points, "points": float_rows,
                                               **{flag: st.booleans() for flag in flags}})


@MEANINGFUL
@hypothesis.given(expressions, st.integers(1, 3), spec_fields("steps"))
def test_derivative_valid_requests_conform(expression, order, extra):
    call("/v1/derivative", {"expression": expression, "variable": "x", "order": order,
                            "constants": {"y": "1/2"}, **extra})


@MEANINGFUL
@hypothesis.given(expressions, spec_fields("steps", "check"))
def test_gradient_valid_requests_conform(expression, extra):
    call("/v1/gradient", {"expression": expression, "variables": NAMES, **extra})


@MEANINGFUL
@hypothesis.given(st.lists(expressions, min_size=1, max_size=3), spec_fields("check"))
def test_jacobian_valid_requests_conform(expressions_, extra):
    call("/v1/jacobian", {"expressions": expressions_, "variables": NAMES, **extra})


@MEANINGFUL
@hypothesis.given(expressions, spec_fields("check"))
def test_hessian_valid_requests_conform(expression, extra):
    call("/v1/hessian", {"expression": expression, "variables": NAMES, **extra})


descent_options = st.fixed_dictionaries(
    {
        "optimizer": st.sampled_from(["gd", "momentum", "nesterov", "adagrad", "rmsprop",
                                      "adam", "newton"]),
        "start": st.lists(st.floats(-3, 3), min_size=2, max_size=2),
        "max_iterations": st.integers(0, 60),
    },
    optional={
        "learning_rate": st.sampled_from([1e-3, 0.1, 1.0, 10.0, 1e6]),
        "record_every": st.integers(1, 7),
        "tolerance": st.sampled_from([0.0, 1e-8, 1.0]),
        "regularization": st.fixed_dictionaries({}, optional={"l1": st.floats(0, 1),
                                                              "l2": st.floats(0, 1)}),
    },
)


@MEANINGFUL
@hypothesis.given(st.sampled_from(["x^2 + y^2", "(1 - x)^2 + 100(y - x^2)^2", "exp(x) + y^4",
                                   "abs(x) + relu(y)", "log(x) + y", "-x^2 - y^2",
                                   "x^3 - 3x*y^2"]), descent_options)
def test_gradient_descent_valid_requests_conform(expression, options):
    call("/v1/gradient-descent", {"expression": expression, "variables": NAMES, **options})


@MEANINGFUL
@hypothesis.given(
    st.sampled_from(["gd", "momentum", "adam", "newton"]),
    st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=8),
    st.one_of(st.none(), st.integers(1, 4)),
    st.sampled_from(["mean", "sum"]),
)
def test_gradient_descent_over_data_conforms(optimizer, rows, batch_size, reduction):
    body = {"expression": "(w*u + b - v)^2", "variables": ["w", "b"], "start": [0, 0],
            "optimizer": optimizer, "max_iterations": 30, "reduction": reduction,
            "data": {"u": [r[0] for r in rows], "v": [r[1] for r in rows]}}
    if batch_size is not None:
        body |= {"batch_size": batch_size, "seed": 1}
    call("/v1/gradient-descent", body)
