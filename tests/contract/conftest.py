"""Fixtures of the contract tests: the committed document, and a live gunicorn serving the app."""

from __future__ import annotations

import os
import sys

import pytest
import yaml

# The test modules import the helpers in contract_support.py, beside this file.
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from contract_support import CONTRACT  # noqa: E402


@pytest.fixture(scope="session")
def contract() -> dict:
    """The committed openapi.yaml, parsed."""
    return yaml.safe_load(CONTRACT.read_text())


@pytest.fixture(scope="session")
def live_url(start_gunicorn) -> str:
    """Base URL of gunicorn serving ``service.wsgi:app`` (one worker) on a free port."""
    return start_gunicorn(GRADIENT_WORKERS="1", GRADIENT_ACCESS_LOG="off")
