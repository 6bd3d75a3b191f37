"""Shared fixtures: an app built from explicit settings, and its test client."""

from __future__ import annotations

import pytest

from service.app import create_app
from service.config import Limits, Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(limits=Limits())


@pytest.fixture
def app(settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def post(client):
    """POST a JSON body and return the response (JSON parsed in ``response.json``)."""

    def _post(path: str, body, **kwargs):
        return client.post(path, json=body, **kwargs)

    return _post
