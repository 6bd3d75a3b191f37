"""Fixtures of the contract tests: the committed document, and a live gunicorn serving the app."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

# The test modules import the helpers in contract_support.py, beside this file.
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from contract_support import CONTRACT, ROOT, free_port  # noqa: E402


@pytest.fixture(scope="session")
def contract() -> dict:
    """The committed openapi.yaml, parsed."""
    return yaml.safe_load(CONTRACT.read_text())


@pytest.fixture(scope="session")
def live_url(tmp_path_factory) -> str:
    """Base URL of gunicorn serving ``service.wsgi:app`` (one worker) on a free port."""
    port = free_port()
    env = dict(os.environ, GRADIENT_BIND=f"127.0.0.1:{port}", GRADIENT_WORKERS="1",
               GRADIENT_ACCESS_LOG="off")
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "service.wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=30)
