"""A WSGI app for the graceful-shutdown test: ``/drain`` is in flight until SIGTERM arrives.

gunicorn installs its worker's signal handlers after the app is loaded (in the master:
gunicorn.conf.py preloads it), so the app wraps the worker's SIGTERM handler when it
answers its first request: gunicorn's still runs (it tells the worker to stop after the
current request), and the pending ``/drain`` request is released only then. Its answer
therefore proves a request that was in flight at SIGTERM was completed, with no timing.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

_terminated = threading.Event()
_wrapped_in_pid: int | None = None


def _wrap_sigterm() -> None:
    """In this worker, once: SIGTERM sets ``_terminated``, then runs gunicorn's handler."""
    global _wrapped_in_pid
    if _wrapped_in_pid == os.getpid():
        return
    gunicorn_handler = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        _terminated.set()
        if callable(gunicorn_handler):
            gunicorn_handler(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)
    _wrapped_in_pid = os.getpid()


def app(environ, start_response):
    _wrap_sigterm()
    if environ["PATH_INFO"] == "/drain":
        Path(os.environ["DRAIN_MARKER"]).touch()  # tells the test the request is in flight
        body = b"finished after SIGTERM" if _terminated.wait(timeout=60) else b"no SIGTERM"
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
