"""Shared fixtures: an app built from explicit settings, and its test client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from service.app import create_app
from service.config import Limits, Settings

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.fixture(scope="session")
def start_gunicorn(tmp_path_factory):
    """Start ``gunicorn service.wsgi:app`` as README does, on a free port; returns its URL.

    ``start_gunicorn(GRADIENT_WORKERS="2", ...)`` takes extra environment variables. Every
    server started is stopped at the end of the session; a server that does not become
    ready fails the test with its log.
    """
    processes: list[subprocess.Popen] = []

    def start(**environment: str) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = dict(os.environ, GRADIENT_BIND=f"127.0.0.1:{port}", **environment)
        log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "service.wsgi:app"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
            )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return url
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(log.read_text()) from None
                time.sleep(0.2)

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)
