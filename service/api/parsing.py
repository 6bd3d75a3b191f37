"""webargs glue: request bodies through our strict JSON reader, errors as problem+json."""

from __future__ import annotations

import difflib
from typing import Any, Iterator

from flask import current_app
from marshmallow import Schema
from webargs.flaskparser import FlaskParser

from service.api.jsonio import read_json_object
from service.errors import FieldError, ServiceError

_SCHEMA_INSTANCES: dict[type, Schema] = {}


class RequestInvalid(ServiceError):
    slug = "invalid-request"
    title = "Invalid request"


def _flatten(messages: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            key = "" if key == "_schema" else str(key)
            yield from _flatten(value, f"{path}/{key}" if path and key else path or key)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        for message in messages:
            yield path, message
    elif isinstance(messages, list):
        for value in messages:
            yield from _flatten(value, path)
    else:
        yield path, str(messages)


def _unknown_field_message(field: str, schema) -> str:
    name = field.rsplit("/", 1)[-1]
    accepted = sorted(schema.fields)
    close = difflib.get_close_matches(name, accepted, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown field '{name}'{hint} (accepted fields: {', '.join(accepted)})"


class JSONBodyParser(FlaskParser):
    """Reads JSON bodies strictly (see ``jsonio``) and reports schema errors as problems."""

    def _get_schema(self, argmap, req):
        """One instance per schema class, made on first use: webargs would make one per
        request, and marshmallow deep-copies every field when it does (~0.1 ms, a third of
        a cached request's cost; README "Performance"). Loading does not change a schema."""
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = _SCHEMA_INSTANCES.get(argmap)
            if schema is None:
                schema = _SCHEMA_INSTANCES[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)

    def load_json(self, req, schema):
        return read_json_object(req, current_app.config["SETTINGS"].limits.max_body_bytes)

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        if isinstance(messages, dict) and set(messages) == {"json"}:
            messages = messages["json"]  # webargs files errors under the location
        errors = []
        for field, message in _flatten(messages):
            if message == "Unknown field.":
                message = _unknown_field_message(field, schema)
            errors.append(FieldError(field, message[0].lower() + message[1:] if message else message))
        detail = "; ".join(f"{e.field or 'body'}: {e.message}" for e in errors)
        raise RequestInvalid(detail, errors)
