"""GET /v1/functions, /healthz and /readyz."""

from __future__ import annotations

from flask.views import MethodView

from service.api.blueprint import Blueprint
from service.api.jsonio import json_response
from service.api.responses import FunctionsResponse, HealthResponse, ReadinessResponse
from service.calculus.readiness import engine_ready
from service.expressions import CONSTANTS, FUNCTIONS

blp = Blueprint("meta", __name__, description="The grammar's functions, and health probes.")


@blp.route("/v1/functions")
class FunctionsView(MethodView):
    @blp.response(200, FunctionsResponse)
    def get(self):
        """The functions and constants the expression syntax accepts."""
        return json_response({
            "functions": [
                {
                    "name": info.name,
                    "signature": info.signature,
                    "min_arguments": info.min_args,
                    "max_arguments": info.max_args,
                    "description": info.description,
                }
                for info in FUNCTIONS.values()
            ],
            "constants": [
                {"name": info.name, "description": info.description}
                for info in CONSTANTS.values()
            ],
        })


@blp.route("/healthz")
class HealthView(MethodView):
    @blp.response(200, HealthResponse)
    def get(self):
        """Liveness: the process answers HTTP."""
        return json_response({"status": "ok"})


@blp.route("/readyz")
class ReadyView(MethodView):
    @blp.response(200, ReadinessResponse)
    @blp.alt_response(503, schema=ReadinessResponse, description="Not ready yet")
    def get(self):
        """Readiness: SymPy and NumPy are loaded and a small derivative compiles and runs."""
        ready, detail = engine_ready()
        return json_response({"status": "ready" if ready else "not ready", "detail": detail},
                             status=200 if ready else 503)
