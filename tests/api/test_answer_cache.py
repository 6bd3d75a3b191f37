"""Exact repeats of a request are answered from memory, and only what may be."""

from __future__ import annotations

import pytest

from service.app import create_app
from service.config import Settings


@pytest.fixture
def counting_client(monkeypatch):
    app = create_app(Settings(isolated=False))
    calls = []
    computer = app.extensions["computer"]
    run, run_small = computer.run, computer.run_small

    def counted(function, *args, **kwargs):
        calls.append(function.__name__)
        return run(function, *args, **kwargs)

    def counted_small(small, function, *args, **kwargs):
        calls.append(function.__name__)
        return run_small(small, function, *args, **kwargs)

    monkeypatch.setattr(computer, "run", counted)
    monkeypatch.setattr(computer, "run_small", counted_small)
    return app.test_client(), calls


def test_an_exact_repeat_is_not_computed_again(counting_client):
    client, calls = counting_client
    body = {"expression": "x^2*y", "point": [1, 2]}
    first = client.post("/v1/gradient", json=body)
    second = client.post("/v1/gradient", json=body)
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    assert calls == ["gradient"]
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    client.post("/v1/gradient", json={"expression": "x^2*y", "point": [1, 3]})
    assert calls == ["gradient", "gradient"]


def test_errors_and_pictures_are_computed_each_time(counting_client):
    client, calls = counting_client
    for _ in range(2):
        assert client.post("/v1/gradient", json={"expression": "x", "point": [1, 2]}).status_code == 422
    assert calls == ["gradient", "gradient"]
    picture = {"kind": "function", "expression": "x^2"}
    for _ in range(2):
        assert client.post("/v1/plot", json=picture).status_code == 200
    assert len(calls) == 4
