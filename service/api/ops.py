"""GET /metrics (Prometheus) and /v1/version: what operators and monitoring read."""

from __future__ import annotations

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from service.api.blueprint import Blueprint
from service.api.jsonio import json_response
from service.observability.metrics import exposition
from service.observability.versions import engine_versions

blp = Blueprint("ops", __name__, description="Prometheus metrics and engine versions.")


class VersionSchema(ma.Schema):
    service = ma.fields.String(required=True, metadata={"example": "0.1.0"})
    python = ma.fields.String(required=True, metadata={"example": "3.11.7"})
    sympy = ma.fields.String(required=True, metadata={"example": "1.14.0"})
    numpy = ma.fields.String(required=True, metadata={"example": "2.4.6"})
    symengine = ma.fields.String(metadata={"description": "only when SymEngine is installed"})


@blp.route("/metrics")
class MetricsView(MethodView):
    @blp.doc(responses={"200": {
        "description": "Prometheus text format (OpenMetrics when the Accept header asks)",
        "content": {"text/plain": {"schema": {"type": "string"}},
                    "application/openmetrics-text": {"schema": {"type": "string"}}},
    }})
    def get(self):
        """Prometheus metrics of this replica, summed over all of its gunicorn workers."""
        body, content_type = exposition(request.headers.get("Accept"))
        return Response(body, content_type=content_type)


@blp.route("/v1/version")
class VersionView(MethodView):
    @blp.response(200, VersionSchema)
    def get(self):
        """The versions of the service, Python, SymPy and NumPy that compute the answers."""
        return json_response(engine_versions())
