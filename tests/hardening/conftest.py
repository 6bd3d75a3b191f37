"""Fixtures of the hardening suite: an app with a short time budget, and a survival check.

With ``--import-mode=importlib`` pytest puts no test directory on ``sys.path``; the tests
here import ``hardening_support`` from this directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from hardening_support import check_answer, check_healthy, post_json, post_raw  # noqa: E402

from service.app import create_app  # noqa: E402
from service.config import Limits, Settings  # noqa: E402

TIME_BUDGET = 2


@pytest.fixture(scope="session")
def hard_client():
    """One app for the whole suite, computing in its supervised process with a 2 s budget."""
    app = create_app(Settings(limits=Limits(time_budget_seconds=TIME_BUDGET)))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture
def survive(hard_client):
    """POST a body (JSON data, or raw bytes/str), check the answer and the service's
    health right after it (``compute=False``: /healthz only); return (status, parsed body)."""

    def _survive(path: str, body, *, content_type: str | None = "application/json",
                 allowed=None, client=None, compute: bool = True):
        client = client or hard_client
        if isinstance(body, (bytes, str)):
            response = post_raw(client, path, body, content_type)
        else:
            response = post_json(client, path, body)
        kwargs = {} if allowed is None else {"allowed": allowed}
        parsed = check_answer(response, **kwargs)
        check_healthy(client, compute)
        return response.status_code, parsed

    return _survive
