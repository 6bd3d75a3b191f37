"""GET /metrics (Prometheus) and /v1/version: what operators and monitoring read."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView

from service.api.blueprint import Blueprint
from service.api.jsonio import json_response
from service.observability.metrics import exposition
from service.observability.versions import engine_versions

blp = Blueprint("ops", __name__, description="Prometheus metrics and engine versions.")


@blp.route("/metrics")
class MetricsView(MethodView):
    @blp.response(200, content_type="text/plain")
    def get(self):
        """Prometheus metrics in text format, summed over every gunicorn worker."""
        body, content_type = exposition(request.headers.get("Accept"))
        return Response(body, content_type=content_type)


@blp.route("/v1/version")
class VersionView(MethodView):
    @blp.response(200)
    def get(self):
        """The versions of the service, Python, SymPy and NumPy that compute the answers."""
        return json_response(engine_versions())
