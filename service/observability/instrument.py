"""Wire logs, request ids and metrics into the Flask app: ``register_observability(app)``.

Each request gets an id (the client's ``X-Request-ID`` when it is valid, else a new one),
echoed in the response's ``X-Request-ID``; every log record written while it is handled
carries that id, the method and the path. Each answered request is counted and timed in
the Prometheus metrics by its URL rule and status, and each computation it hands to the
app's ``Computer`` is timed. ``X-Served-By`` names the replica
(``GRADIENT_INSTANCE``, default the host name: a container's id) and worker process that
answered, which is how a load balancer's spread can be seen from outside.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Mapping

from flask import Flask, Response, g, has_request_context, request

from service.observability import logs, metrics
from service.observability.versions import engine_versions

SERVED_BY_HEADER = "X-Served-By"
INSTANCE_ENV = "GRADIENT_INSTANCE"
# Metrics label other methods "other": a client must not be able to mint new series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _endpoint() -> str:
    """The current request's URL rule (``/v1/gradient``), the metrics' endpoint label."""
    rule = request.url_rule if has_request_context() else None
    return rule.rule if rule is not None else metrics.UNMATCHED_ENDPOINT


class TimedComputer:
    """The app's ``Computer`` (service.compute), with each computation timed.

    A wrapper, so that timing stays out of the computation code: every call to ``run`` and
    ``run_small`` is observed in ``gradient_computation_seconds`` under the request's
    endpoint; everything else is the wrapped computer's.
    """

    def __init__(self, computer) -> None:
        self.computer = computer

    def run(self, function, *args, **kwargs):
        with metrics.time_computation(_endpoint()):
            return self.computer.run(function, *args, **kwargs)

    def run_small(self, small, function, *args, **kwargs):
        with metrics.time_computation(_endpoint()):
            return self.computer.run_small(small, function, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.computer, name)


def register_observability(app: Flask, environ: Mapping[str, str] | None = None) -> None:
    """Install JSON logging, request ids, ``X-Served-By`` and request metrics on ``app``."""
    environ = os.environ if environ is None else environ
    instance = environ.get(INSTANCE_ENV) or socket.gethostname()
    logs.configure_logging(app.config["SETTINGS"].log_level)
    metrics.record_build_info(engine_versions())
    if "computer" in app.extensions:
        app.extensions["computer"] = TimedComputer(app.extensions["computer"])

    @app.before_request
    def start_request() -> None:
        g.request_id = (logs.valid_request_id(request.headers.get(logs.REQUEST_ID_HEADER))
                        or logs.new_request_id())
        g.request_started = time.perf_counter()
        g.log_context = logs.bind_request(
            request_id=g.request_id, method=request.method, path=request.path
        )
        metrics.HTTP_REQUESTS_IN_PROGRESS.inc()

    @app.after_request
    def finish_request(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:  # start_request did not run: nothing to measure
            return response
        metrics.record_request(
            method=request.method if request.method in _METHODS else "other",
            endpoint=_endpoint(),
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        response.headers[logs.REQUEST_ID_HEADER] = g.request_id
        response.headers[SERVED_BY_HEADER] = f"{instance}/{os.getpid()}"
        return response

    @app.teardown_request
    def end_request(error: BaseException | None) -> None:
        token = g.pop("log_context", None)
        if token is not None:
            logs.unbind_request(token)
            metrics.HTTP_REQUESTS_IN_PROGRESS.dec()
