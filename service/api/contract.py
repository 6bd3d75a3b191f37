"""The OpenAPI 3.1 contract, generated from the endpoints' marshmallow schemas.

flask-smorest builds the document from the views' schemas and docstrings; this module adds
what is said once for the whole API (conventions, the expression grammar, the limits) and
documents every error as an RFC 9457 problem. ``python -m service.api.openapi`` prints it.

The document describes the default limits (with the environment variables that change
them), not those of the running process, so every instance serves the same contract.
"""

from __future__ import annotations

import re
from dataclasses import fields

import flask_smorest
import yaml
from flask import Flask

from service import __version__
from service.api.blueprint import BODY_ERROR_RESPONSES
from service.api.responses import NAMED_ENUMS, Problem
from service.config import Limits
from service.expressions import FUNCTIONS

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Errors of a JSON body, named in components.responses; POST operations reference them.
BODY_ERROR_TEXTS = {
    400: "The body is not a JSON object (empty, invalid JSON, NaN or Infinity, an array...).",
    413: "The body is larger than GRADIENT_MAX_BODY_BYTES.",
    415: "The body is not JSON; `detail` names the header to add "
         "(Content-Type: application/json).",
    422: "Well-formed but invalid: a schema violation, a parse error (with its position), "
         "an unknown function, a missing coordinate, a limit exceeded or the time budget "
         "exceeded.",
}
# Documented once for every path: an unknown path, or a method a path does not have.
GENERIC_ERROR_RESPONSES = {
    404: ("NotFound", "No such path."),
    405: ("MethodNotAllowed", "The path exists, but not with this method; the `Allow` "
                              "header lists the methods it has."),
}

_ERROR_EXAMPLES = {
    400: {"type": "urn:gradient-service:problem:malformed-body", "title":
          "Malformed request body", "status": 400,
          "detail": "the body must be a JSON object ({...}), not an array", "errors": []},
    413: {"type": "urn:gradient-service:problem:body-too-large",
          "title": "Request body too large", "status": 413,
          "detail": "the body is 20,971,520 bytes; the limit is 10,485,760 (set the "
                    "environment variable GRADIENT_MAX_BODY_BYTES to change it)",
          "errors": []},
    415: {"type": "urn:gradient-service:problem:unsupported-media-type",
          "title": "Unsupported media type", "status": 415,
          "detail": "the body is not JSON and its Content-Type is "
                    "application/x-www-form-urlencoded: send JSON and add the header "
                    "'Content-Type: application/json' (with curl: -H 'Content-Type: "
                    "application/json')", "errors": []},
    422: {"type": "urn:gradient-service:problem:invalid-expression",
          "title": "Invalid expression", "status": 422,
          "detail": "unknown function 'sinn' at position 0; did you mean 'sin'?",
          "errors": [{"field": "expression", "message": "unknown function 'sinn' at "
                      "position 0; did you mean 'sin'?", "position": 0}]},
    404: {"type": "urn:gradient-service:problem:not-found", "title": "Not Found",
          "status": 404, "detail": "The requested URL was not found on the server. If you "
          "entered the URL manually please check your spelling and try again.", "errors": []},
    405: {"type": "urn:gradient-service:problem:method-not-allowed",
          "title": "Method Not Allowed", "status": 405,
          "detail": "The method is not allowed for the requested URL.", "errors": []},
}

GRAMMAR = """\
Exact calculus over HTTP: derivatives, gradients, Jacobians, Hessians (SymPy) and
gradient-descent traces (NumPy), with exact and float64 values at a point or over many
points.

## Conventions

JSON in, JSON out (`Content-Type: application/json`). A number that is not a finite real
is `null`, and a `warnings` list says which entry and why; the output never holds `NaN` or
`Infinity`. Every error is an RFC 9457 problem (`application/problem+json`) with `type`,
`title`, `status`, `detail` and `errors` (`field`, `message`, and the 0-based `position` in
the expression where parsing failed): 400 the body is not a JSON object, 413 the body is too
large, 415 the body is not JSON, 422 well-formed but invalid (schema, parse error, unknown
function, missing coordinate, a limit or the time budget exceeded), 404 unknown path,
405 wrong method. No input causes a 500.

A coordinate is a JSON number (exact when integral, otherwise float64) or an exact string
(`"1/3"`, `"pi/4"`, `"sqrt(2)"`). A `point` is an object name -> coordinate or a list
aligned with `variables`. Exact values (`exact`) are given when every coordinate is exact.

## Expression syntax

- Numbers `2`, `2.5`, `.5`, `1e-3`; decimals are exact (`0.1` is 1/10).
- Names `[A-Za-z_][A-Za-z0-9_]*`, never split into letters (`xy` is one name).
- Operators `+ - * /`, power `^` or `**` (right-associative, binds tighter than unary
  minus: `-x^2` is `-(x^2)`; `x^-2` is `x^(-2)`), parentheses.
- Implicit multiplication only after a number (`2x`, `3(x+1)`) and between parenthesized
  groups (`(x+1)(x-1)`), with the precedence of `*`: `2^3x` is `(2^3)*x`, `1/2x` is
  `(1/2)*x`.
- A name followed by `(` is a function call; `x(y+1)` is an error that suggests `x*(y+1)`.
- Constants `pi` and `e`; a variable or constant of the same name overrides them.
- Functions (`GET /v1/functions` lists them with arity): `{functions}`; `log(x, b)` is the
  base-b logarithm, `cbrt` the real cube root, `heaviside(0) = 1/2`.
- Every `expression` in an answer is valid input. Where a derivative does not exist (`abs`,
  `sign`, `heaviside`, `relu`, `min`, `max` at their kinks) its value is `null` with a
  warning.
"""


def limits_table(limits: Limits | None = None) -> str:
    """The limits as a Markdown table: environment variable, default and meaning."""
    limits = limits or Limits()
    rows = ["| environment variable | default | limit |", "|---|---|---|"]
    for f in fields(Limits):
        value = getattr(limits, f.name)
        shown = f"{value:,}" if isinstance(value, int) else f"{value:g}"
        meaning = f.metadata["meaning"].replace("|", "&#124;")  # a cell holds no bare pipe
        rows.append(f"| `{Limits.env_var(f.name)}` | {shown} | {meaning} |")
    return "\n".join(rows)


def description() -> str:
    """info.description: conventions, the grammar (functions from the registry) and the
    default limits."""
    return (
        GRAMMAR.format(functions=" ".join(FUNCTIONS))
        + "\n## Limits\n\nPast a limit the answer is a 422 (413 for the body) that names the "
        "limit, its value and the environment variable that raises it.\n\n"
        + limits_table() + "\n"
    )


def _problem_response(status: int, text: str) -> dict:
    return {
        "description": text,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": Problem,
                                         "example": _ERROR_EXAMPLES[status]}},
    }


class ContractApi(flask_smorest.Api):
    """flask-smorest's Api documenting our errors: RFC 9457 problems, no generic default."""

    ERROR_SCHEMA = Problem
    # Every status an operation can answer is listed, so a contract test can hold the
    # service to it; there is no catch-all "default" response.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _init_spec(self, **kwargs):
        super()._init_spec(**kwargs)
        for name, schema in NAMED_ENUMS.items():
            self.spec.components.schema(name, schema)

    def _register_responses(self):
        for status, name in BODY_ERROR_RESPONSES.items():
            self.spec.components.response(
                name, _problem_response(status, BODY_ERROR_TEXTS[status]), lazy=True)
        for status, (name, text) in GENERIC_ERROR_RESPONSES.items():
            self.spec.components.response(name, _problem_response(status, text))

    def _register_etag_headers(self):
        """No ETags here: keep their components out of the document."""

    def _register_pagination_header(self):
        """No pagination here: keep its components out of the document."""


def configure(app: Flask) -> None:
    """The flask-smorest settings that shape the document."""
    app.config.update(
        API_TITLE="gradient-service",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.1.0",
        API_SPEC_OPTIONS={
            "info": {
                "description": description(),
                "license": {"name": "MIT", "identifier": "MIT"},
            },
        },
    )


def operation_id(path: str, method: str, methods_on_path: int = 1) -> str:
    """A stable name for generated clients: ``/v1/gradient-descent`` -> ``gradient_descent``."""
    name = re.sub(r"\W+", "_", path.removeprefix("/v1/").strip("/")).strip("_")
    return name if methods_on_path == 1 else f"{method}_{name}"


def document(api: flask_smorest.Api) -> dict:
    """The OpenAPI document as plain data, in reading order: the success response first."""
    doc = api.spec.to_dict()
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            operation["responses"] = dict(sorted(operation["responses"].items()))
            operation.setdefault("operationId", operation_id(path, method, len(operations)))
    order = ["openapi", "info", "tags", "paths", "components"]
    return {key: doc[key] for key in order if key in doc} | {
        key: value for key, value in doc.items() if key not in order}


class _Dumper(yaml.SafeDumper):
    """Multi-line text (descriptions) as literal blocks, and no YAML anchors: shared
    fragments are written out in full, as readers of the contract expect."""

    def ignore_aliases(self, data):
        return True


def _represent_text(dumper: yaml.SafeDumper, text: str):
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def to_yaml(doc: dict) -> str:
    """YAML in the document's own key order (stable, readable diffs)."""
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
