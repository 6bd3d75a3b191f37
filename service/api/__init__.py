"""The HTTP layer: blueprints, schemas, JSON and problem+json. Views stay a few lines long."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from service import __version__
from service.api import calculus, meta, ops


def register_api(app: Flask) -> Api:
    app.config.update(
        API_TITLE="gradient-service",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.1.0",
    )
    api = Api(app)
    api.register_blueprint(calculus.blp)
    api.register_blueprint(meta.blp)
    api.register_blueprint(ops.blp)
    return api
