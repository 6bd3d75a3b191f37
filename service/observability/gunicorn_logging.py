"""gunicorn's logs in the app's JSON format: ``logger_class`` in gunicorn.conf.py.

The error log (start-up, worker boots and deaths, signals) and the access log both go
through :class:`~service.observability.logs.JsonFormatter`. An access line carries the
request id the app answered with (its ``X-Request-ID`` response header), so one id
joins the app's lines, gunicorn's access line and nginx's access line for a request.
"""

from __future__ import annotations

import logging
import traceback

from gunicorn.glogging import Logger

from service.observability.logs import REQUEST_ID_HEADER, JsonFormatter, valid_request_id

_REQUEST_ID_HEADER = REQUEST_ID_HEADER.lower()


def _status_code(status) -> int | None:
    if isinstance(status, int):
        return status
    try:
        return int(str(status).split(None, 1)[0])
    except (ValueError, IndexError):
        return None


def _response_header(headers, name: str) -> str | None:
    items = headers.items() if hasattr(headers, "items") else headers
    for key, value in items:
        if key.lower() == name:
            return value
    return None


class JsonLogger(Logger):
    """gunicorn's Logger with JSON formatting and a structured access line."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log.handlers:  # no access log configured
            return
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO")
        status = _status_code(resp.status)
        request_id = (_response_header(resp.headers, _REQUEST_ID_HEADER)
                      or valid_request_id(environ.get("HTTP_X_REQUEST_ID")))
        fields = {
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            "bytes": getattr(resp, "sent", None),
        }
        try:
            self.access_log.log(logging.INFO, "%s %s %s", method, path, status, extra=fields)
        except Exception:  # gunicorn's own policy: a broken access line must not fail a request
            self.error(traceback.format_exc())
