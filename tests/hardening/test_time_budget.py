"""The time budget stops anything: pure-Python SymPy, one long C call, NumPy over big data.

Each runaway request gets a 422 problem (``time-budget-exceeded``) naming the variable
that sets the budget; the computation process is replaced, and the very next request (a
new computation, not a cached answer) and ``/healthz`` are served. No test measures time:
a budget of 1 s stops computations that would take minutes.
"""

from __future__ import annotations

import numpy as np
import pytest

from hardening_support import check_answer, check_healthy, post_json

from service.app import create_app
from service.compute import Computer
from service.config import Limits, Settings
from service.errors import TimeBudgetExceeded

BUDGET = 1


def _client(**limits):
    app = create_app(Settings(limits=Limits(time_budget_seconds=BUDGET, **limits)))
    return app.test_client()


RUNAWAYS = {
    # SymPy's own Python code: the 30th derivative of a non-smooth expression swells for
    # minutes (non-smooth functions are differentiated by SymPy, not SymEngine).
    "pure-python-sympy": ({}, "/v1/derivative",
                          {"expression": "abs(sin(x))*exp(cos(x))", "variable": "x",
                           "order": 30}),
    # One C call no signal interrupts: the exact value of x^(y*y) at (3, 10^4) is Python's
    # pow(3, 10^8), ~2 minutes inside CPython's long arithmetic. (With the digit limit
    # raised: at its default the value is refused before it is computed, test_limits.py.)
    "one-big-integer-c-call": ({"max_number_digits": 10**9}, "/v1/derivative",
                               {"expression": "x^(y*y)", "variable": "x",
                                "point": {"x": 3, "y": 10_000}}),
    # NumPy in the descent loop: 100,000 iterations over 100,000 rows of data (the loop
    # stops itself at the budget, before the process has to be replaced).
    "numpy-descent-over-big-data": ({}, "/v1/gradient-descent",
                                    {"expression": "(w*x + b - y)^2", "variables": ["w", "b"],
                                     "start": [0, 0], "max_iterations": 100_000,
                                     "record_every": 1_000, "tolerance": 0,
                                     "data": {"x": [0.5] * 100_000, "y": [1.0] * 100_000}}),
    # mpmath's arbitrary-precision float of a coordinate, exp(exp(exp(100))).
    "arbitrary-precision-float": ({}, "/v1/gradient",
                                  {"expression": "x^2", "point": {"x": "exp(exp(exp(100)))"}}),
}


@pytest.mark.parametrize("name", sorted(RUNAWAYS))
def test_runaway_computations_are_stopped_and_the_next_request_is_served(name):
    limits, path, body = RUNAWAYS[name]
    client = _client(**limits)
    problem = check_answer(post_json(client, path, body), allowed={422})
    assert problem["type"].endswith(":time-budget-exceeded"), problem
    assert "GRADIENT_TIME_BUDGET_SECONDS" in problem["detail"]
    check_healthy(client)
    # The same request again is answered the same way (here from the worker's memory).
    again = check_answer(post_json(client, path, body), allowed={422})
    assert again["type"] == problem["type"]
    check_healthy(client)


def _one_lapack_call(n: int) -> float:
    """Eigenvalues of a random symmetric n x n matrix: one LAPACK call (16 s for n = 3000
    on the reference machine; n = 4000 takes longer)."""
    a = np.random.default_rng(0).random((n, n))
    return float(np.linalg.eigvalsh(a + a.T)[0])


def _square(x: float) -> float:
    return x * x


def test_one_long_numpy_call_is_stopped():
    """No request within the limits spends its budget in a single NumPy call (SymPy's parse
    and differentiation cost as much per node as NumPy per operation over 100,000 points),
    so the computation process is given one directly: killed inside LAPACK, replaced."""
    computer = Computer(Limits(time_budget_seconds=BUDGET))
    with pytest.raises(TimeBudgetExceeded, match="GRADIENT_TIME_BUDGET_SECONDS"):
        computer.run(_one_lapack_call, 4000)
    assert computer.run(_square, 3.0) == 9.0
