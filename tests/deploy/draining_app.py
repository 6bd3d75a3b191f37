"""A WSGI app for the graceful-shutdown test: ``/drain`` is in flight until SIGTERM arrives.

gunicorn installs its worker's signal handlers before it imports the app, so this module
wraps the SIGTERM handler: gunicorn's still runs (it tells the worker to stop after the
current request), and the pending ``/drain`` request is released only then. Its answer
therefore proves a request that was in flight at SIGTERM was completed, with no timing.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

_terminated = threading.Event()
_gunicorn_handler = signal.getsignal(signal.SIGTERM)


def _on_sigterm(signum, frame):
    _terminated.set()
    if callable(_gunicorn_handler):
        _gunicorn_handler(signum, frame)


signal.signal(signal.SIGTERM, _on_sigterm)


def app(environ, start_response):
    if environ["PATH_INFO"] == "/drain":
        Path(os.environ["DRAIN_MARKER"]).touch()  # tells the test the request is in flight
        body = b"finished after SIGTERM" if _terminated.wait(timeout=60) else b"no SIGTERM"
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
