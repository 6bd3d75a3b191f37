"""Property tests: random smooth expressions, checked against independent arithmetic.

Hypothesis builds an expression tree and renders it twice: as text for the service and as
a plain-Python function (math module) for the truth. The gradient the service returns must
match a central finite difference of the Python function, and each returned partial
derivative, posted back as input, must evaluate to the same number.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

VARIABLES = ["x", "y", "z"]

UNARY = {
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "atan": math.atan,
    "sigmoid": lambda t: 1 / (1 + math.exp(-t)),
    "softplus": lambda t: math.log1p(math.exp(t)),
    "exp": math.exp,
}


def _leaf():
    return st.one_of(
        st.sampled_from(VARIABLES).map(lambda v: (v, lambda p, v=v: p[v])),
        st.integers(1, 5).map(lambda n: (str(n), lambda p, n=n: float(n))),
    )


def _extend(children):
    def unary(pair):
        name, (text, fn) = pair
        if name == "exp":  # keep exp bounded: exp(sin(u))
            return (f"exp(sin({text}))", lambda p: math.exp(math.sin(fn(p))))
        return (f"{name}({text})", lambda p: UNARY[name](fn(p)))

    def binary(triple):
        op, (ta, fa), (tb, fb) = triple
        if op == "+":
            return (f"({ta}) + ({tb})", lambda p: fa(p) + fb(p))
        if op == "-":
            return (f"({ta}) - ({tb})", lambda p: fa(p) - fb(p))
        if op == "*":
            return (f"({ta})*({tb})", lambda p: fa(p) * fb(p))
        if op == "/":  # a denominator that never vanishes
            return (f"({ta})/(1 + ({tb})^2)", lambda p: fa(p) / (1 + fb(p) ** 2))
        return (f"({ta})^2", lambda p: fa(p) ** 2)

    return st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY)), children).map(unary),
        st.tuples(st.sampled_from(["+", "-", "*", "/", "^"]), children, children).map(binary),
    )


expressions = st.recursive(_leaf(), _extend, max_leaves=8)
coordinates = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3))
points = st.fixed_dictionaries({v: coordinates for v in VARIABLES})


def central_difference(fn, point, variable, h=1e-6):
    up, down = dict(point), dict(point)
    up[variable] += h
    down[variable] -= h
    return (fn(up) - fn(down)) / (2 * h)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(expressions, points)
def test_gradient_matches_finite_differences_and_round_trips(post, expression, point):
    text, fn = expression
    response = post("/v1/gradient", {"expression": text, "variables": VARIABLES,
                                     "point": point})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["at"]["value"]["numeric"] == pytest.approx(fn(point), rel=1e-9, abs=1e-9)
    for i, variable in enumerate(VARIABLES):
        got = body["at"]["gradient"]["numeric"][i]
        want = central_difference(fn, point, variable)
        assert got == pytest.approx(want, rel=1e-4, abs=1e-5), (variable, text)
        partial = body["gradient"][i]["expression"]
        again = post("/v1/gradient", {"expression": partial, "variables": VARIABLES,
                                      "point": point})
        assert again.status_code == 200, (partial, again.get_data(as_text=True))
        value = again.get_json()["at"]["value"]["numeric"]
        assert value == pytest.approx(got, rel=1e-9, abs=1e-9), (partial, text)
