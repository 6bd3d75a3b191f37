"""The application factory: configuration, the API, and error handlers, in that order."""

from __future__ import annotations

import logging

from flask import Flask

from service.api import register_api
from service.api.answers import register_answer_cache
from service.api.jsonio import OrjsonProvider
from service.api.problems import register_error_handlers
from service.compute import Computer
from service.config import Settings
from service.observability.instrument import register_observability


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI app; ``settings`` defaults to the environment's."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config["SETTINGS"] = settings
    # Werkzeug refuses larger bodies while reading them, chunked ones included.
    app.config["MAX_CONTENT_LENGTH"] = settings.limits.max_body_bytes
    logging.getLogger("service").setLevel(settings.log_level)
    app.extensions["computer"] = Computer(settings.limits, isolated=settings.isolated,
                                         small_here=settings.small_in_worker)
    register_api(app)
    register_error_handlers(app)
    register_observability(app)
    register_answer_cache(app)  # after the request hooks, so that repeats are logged and counted
    return app
