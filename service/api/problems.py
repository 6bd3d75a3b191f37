"""One place where every error becomes an RFC 9457 problem+json response."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, has_request_context, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from service.api.jsonio import PROBLEM_CONTENT_TYPE, discard_unread_body, json_response
from service.errors import BodyTooLarge, ServiceError

log = logging.getLogger(__name__)

PROBLEM_TYPE_PREFIX = "urn:gradient-service:problem:"


def problem(status: int, slug: str, title: str, detail: str, errors=None) -> Response:
    body = {
        "type": PROBLEM_TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [e.as_dict() for e in errors or []],
    }
    return json_response(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def service_problem(error: ServiceError) -> Response:
    return problem(error.status, error.slug, error.title, error.detail, error.errors)


# Refused before the body is read: routing (404, 405) and Werkzeug's size check (413).
_REFUSED_UNREAD = (404, 405, 413)


def _http_problem(error: HTTPException) -> Response:
    if error.code in _REFUSED_UNREAD and has_request_context():
        discard_unread_body(request, current_app.config["SETTINGS"].limits.max_body_bytes)
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config["SETTINGS"].limits.max_body_bytes
        return service_problem(BodyTooLarge(
            f"the body is more than {limit:,} bytes; the limit is {limit:,} (set the "
            "environment variable GRADIENT_MAX_BODY_BYTES to change it)"
        ))
    slug = (error.name or "error").lower().replace(" ", "-")
    response = problem(error.code or 500, slug, error.name, error.description or error.name)
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _recursion_problem(error: RecursionError) -> Response:
    return problem(422, "too-complex", "Expression too complex",
                   "the expression is nested too deeply to be processed; simplify it")


def _unexpected_problem(error: Exception) -> Response:
    log.exception("unhandled error")
    return problem(500, "internal-error", "Internal server error",
                   "the service failed unexpectedly; this is a bug, please report it")


def register_error_handlers(app: Flask) -> None:
    """Route every error, ours and Werkzeug's, to problem+json."""
    app.register_error_handler(ServiceError, service_problem)
    app.register_error_handler(HTTPException, _http_problem)
    app.register_error_handler(RecursionError, _recursion_problem)
    app.register_error_handler(Exception, _unexpected_problem)
