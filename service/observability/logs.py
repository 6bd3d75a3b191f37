"""JSON logs: one object per line, with the request's id, method and path when there is one.

The same formatter serves the app's own loggers and gunicorn's error and access logs
(``service.observability.gunicorn_logging``), so every line a replica writes parses the
same way. The request fields come from a context variable that the Flask hooks set for
the duration of a request; this module knows nothing of Flask.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

import orjson

REQUEST_ID_HEADER = "X-Request-ID"
MAX_REQUEST_ID_LENGTH = 128

# The fields of every line, in this order; request fields are null outside a request.
CORE_FIELDS = ("time", "level", "logger", "message")
REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms")
# Fields a record may carry as ``extra`` beyond those (the access log's).
EXTRA_FIELDS = ("remote_addr", "forwarded_for", "user_agent", "bytes")

_request_fields: ContextVar[dict[str, Any] | None] = ContextVar("request_fields", default=None)


def valid_request_id(value: str | None) -> str | None:
    """``value`` if it is a usable request id (1-128 printable ASCII characters), else None.

    A client's id is echoed into response headers and log lines, so anything that could
    forge a header or a log line (control characters, newlines, very long values) is
    refused and replaced by a generated id.
    """
    if not value or len(value) > MAX_REQUEST_ID_LENGTH:
        return None
    if not (value.isascii() and value.isprintable()) or value.strip() != value:
        return None
    return value


def new_request_id() -> str:
    return uuid.uuid4().hex


def bind_request(**fields: Any):
    """Attach request fields to every record logged in this context; returns a reset token."""
    return _request_fields.set(fields)


def unbind_request(token) -> None:
    _request_fields.reset(token)


# The last whole second formatted, and its text: one tuple, read and replaced whole, so
# that threads (the gthread worker class) never pair one second with another's text.
_last_second: tuple[int | None, str] = (None, "")


def _timestamp(created: float) -> str:
    """ISO 8601 in UTC, to the millisecond: ``2026-12-07T13:06:40.421Z``."""
    global _last_second
    fraction, whole = math.modf(created)
    microseconds = round(fraction * 1e6)  # as datetime.fromtimestamp rounds
    second = int(whole) + microseconds // 1_000_000
    cached = _last_second
    if cached[0] != second:  # an access line per request: most share their second
        cached = _last_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S.",
                                                       time.gmtime(second)))
    return f"{cached[1]}{microseconds % 1_000_000 // 1000:03d}Z"


def _json_line(entry: dict[str, Any]) -> str:
    try:  # orjson: faster than json (the access log writes a line per request)
        return orjson.dumps(entry, default=str).decode()
    except TypeError:  # an integer beyond 64 bits, say
        return json.dumps(entry, default=str, ensure_ascii=False, separators=(",", ":"))


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON (newlines in messages and tracebacks escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = _request_fields.get() or {}
        for name in REQUEST_FIELDS:
            entry[name] = getattr(record, name, context.get(name))
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        entry["pid"] = record.process
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return _json_line(entry)


def configure_logging(level: str) -> None:
    """Send the app's logs to stderr as JSON, unless the root logger is already set up.

    Under gunicorn and in a plain ``python`` process the root logger has no handler, and
    this gives it one. Where something else owns logging (pytest's capture, a
    ``logconfig_dict``), its handlers stay in charge.
    """
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        logging.captureWarnings(True)  # Python's warnings as JSON lines too, not raw text
    logging.getLogger("service").setLevel(level)
