"""Small requests are answered in the web worker, with the bytes the computation process sends.

Under ``GRADIENT_ISOLATION=process`` (the default) a request within the small caps
(operations.SMALL_REQUEST) that the express lane answers is answered by the web worker
itself (service.compute.Computer.run_small); everything else goes to the computation
process. ``strict`` sends everything there: it is the reference here, byte for byte.
"""

from __future__ import annotations

import os

import pytest

from service import compute
from service.app import create_app
from service.config import Limits, Settings

# Memory caps of their own give these apps their own computation processes, so that
# whether one was started tells whether the worker answered.
MEMORY = 3000 + os.getpid() % 89

REQUESTS = [
    ("/v1/gradient", {"expression": "(w*x + b - y)^2", "variables": ["w", "b"],
                      "point": {"w": 1, "b": 0, "x": 2, "y": 3}}),
    ("/v1/gradient", {"expression": "sin(x)*exp(y) + x^2*y", "point": [0.5, -1.25]}),
    ("/v1/gradient", {"expression": "log(1 + x^2 + y^2)"}),
    ("/v1/hessian", {"expression": "x^3 - 3*x*y^2", "point": {"x": 1, "y": 2}}),
    ("/v1/derivative", {"expression": "x^2*atan(x)", "variable": "x", "order": 2,
                        "point": {"x": 1}}),
    ("/v1/jacobian", {"expressions": ["x*y", "sigmoid(x - y)"], "point": {"x": 2, "y": 3}}),
]
# Answered by the computation process: an error to word, a warning, past the caps.
HANDED_OVER = [
    ("/v1/gradient", {"expression": "x^2 +", "point": [1]}),
    ("/v1/gradient", {"expression": "log(x)", "point": [-1]}),
    ("/v1/derivative", {"expression": "x^5*sin(x)", "variable": "x", "order": 3}),
    ("/v1/gradient", {"expression": " + ".join(f"{i}*x^{i}" for i in range(1, 40))}),
    ("/v1/jacobian", {"expressions": ["x", "y", "z", "w", "x*y"]}),  # 5 expressions
]


def _client(isolation: str):
    settings = Settings.from_env({"GRADIENT_ISOLATION": isolation,
                                  "GRADIENT_MAX_MEMORY_MB": str(MEMORY)})
    return create_app(settings).test_client()


def _has_child() -> bool:
    child = compute._CHILDREN.get((os.getpid(), MEMORY))
    return child is not None and child.process.is_alive()


@pytest.fixture(autouse=True)
def no_child_yet():
    child = compute._CHILDREN.pop((os.getpid(), MEMORY), None)
    if child is not None:
        child.stop()
    yield
    child = compute._CHILDREN.pop((os.getpid(), MEMORY), None)
    if child is not None:
        child.stop()


def _answers(client, requests):
    out = []
    for path, body in requests:
        response = client.post(path, json=body)
        out.append((response.status_code, response.content_type, response.get_data()))
    return out


def test_small_requests_are_answered_by_the_worker_as_the_computation_process_would():
    assert Limits().max_memory_mb != MEMORY
    small = _answers(_client("process"), REQUESTS)
    assert not _has_child()  # no computation process was needed
    strict = _answers(_client("strict"), REQUESTS)
    assert _has_child()
    assert small == strict
    assert all(status == 200 for status, _, _ in small)


def test_other_requests_go_to_the_computation_process_with_the_same_answers():
    handed_over = _answers(_client("process"), HANDED_OVER)
    assert _has_child()
    assert handed_over == _answers(_client("strict"), HANDED_OVER)
    assert [status for status, _, _ in handed_over] == [422, 200, 200, 200, 200]
    assert b"warnings" in handed_over[1][2]
