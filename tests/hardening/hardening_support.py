"""What every answer of the hardening suite must be, and the requests it starts from.

An answer to any input is either a 200 with JSON or a 4xx problem+json (RFC 9457); never a
5xx, never a body with the non-JSON tokens NaN or Infinity; and the service answers
``/healthz`` right after it.
"""

from __future__ import annotations

import itertools

import orjson

PROBLEM_TYPE = "application/problem+json"
JSON_TYPE = "application/json"
CLIENT_ERRORS = {400, 404, 405, 413, 415, 422}

# The endpoints under test, each with a small valid request that the tests vary.
VALID = {
    "/v1/derivative": {"expression": "x^2*y", "variable": "x", "point": {"x": 1, "y": 2}},
    "/v1/gradient": {"expression": "x^2*y", "point": {"x": 1, "y": 2}},
    "/v1/jacobian": {"expressions": ["x*y", "x + y^2"], "point": {"x": 1, "y": 2}},
    "/v1/hessian": {"expression": "x^2*y", "point": {"x": 1, "y": 2}},
    "/v1/gradient-descent": {"expression": "(x - 1)^2 + (y + 2)^2", "start": {"x": 0, "y": 0},
                             "max_iterations": 20},
}
ENDPOINTS = list(VALID)


def post_raw(client, path: str, data: bytes | str, content_type: str | None = JSON_TYPE,
             **headers):
    """POST ``data`` exactly as given (the test client's ``json=`` would re-encode it)."""
    if isinstance(data, str):
        data = data.encode()
    kwargs = {"headers": headers}
    if content_type is not None:
        kwargs["content_type"] = content_type
    return client.post(path, data=data, **kwargs)


def post_json(client, path: str, body) -> object:
    """POST ``body`` encoded by orjson: integers past 64 bits are sent as their digits."""
    try:
        data = orjson.dumps(body)
    except TypeError:  # an int of more than 64 bits
        import json

        data = json.dumps(body).encode()
    return post_raw(client, path, data)


def check_answer(response, *, allowed=CLIENT_ERRORS | {200}) -> dict:
    """Assert the answer keeps the contract; return its parsed body."""
    status = response.status_code
    body = response.get_data()
    assert status < 500, f"{status}: {body[:500]!r}"
    assert status in allowed, f"{status}: {body[:500]!r}"
    # orjson refuses NaN, Infinity and -Infinity: a body it reads is strict JSON.
    parsed = orjson.loads(body)
    if status >= 400:
        assert response.mimetype == PROBLEM_TYPE, response.content_type
        assert {"type", "title", "status", "detail", "errors"} <= set(parsed), parsed
        assert parsed["status"] == status
        assert isinstance(parsed["detail"], str) and parsed["detail"]
        for error in parsed["errors"]:
            assert isinstance(error["field"], str) and isinstance(error["message"], str)
            assert isinstance(error.get("position", 0), int)
    else:
        assert response.mimetype == JSON_TYPE, response.content_type
    return parsed


_FRESH = itertools.count(1)


def check_healthy(client, compute: bool = True) -> None:
    """The service answers its liveness probe, and (``compute``) a new computation, right away.

    The computation differs each time, so that the web worker's answer cache cannot answer
    it: it proves the computation process is alive (or was replaced).
    """
    assert client.get("/healthz").status_code == 200
    if not compute:
        return
    k = next(_FRESH)
    response = client.post("/v1/gradient", json={"expression": f"x^3 + {k}*x", "point": [2]})
    assert response.status_code == 200, response.get_data()
    assert response.get_json()["at"]["gradient"]["exact"] == [str(12 + k)]
