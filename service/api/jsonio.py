"""JSON in and out: strict request bodies and responses that can never carry NaN.

Requests are decoded with orjson, which rejects ``NaN``/``Infinity`` literals and bounds
nesting depth (Python's json would recurse until RecursionError on a 60 KB body of
brackets). Responses are encoded with orjson, which writes every non-finite float, and
NumPy arrays of them, as ``null``: the evaluation code adds a warning for each such value.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import orjson
import simdjson
from flask import Request, Response
from flask.json.provider import JSONProvider

from service.errors import BodyTooLarge, MalformedBody, NotJSON

JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
CONTENT_TYPE = "application/json; charset=utf-8"
PROBLEM_CONTENT_TYPE = "application/problem+json; charset=utf-8"

# Content types a curl -d call or a sloppy client sends: the body is tried as JSON anyway.
_LENIENT_TYPES = {"", "application/x-www-form-urlencoded", "text/plain"}
_HEADER_HINT = (
    "add the header 'Content-Type: application/json' "
    "(with curl: -H 'Content-Type: application/json')"
)
_CHAR_OFFSET = re.compile(r"\(char (\d+)\)")


def _default(value: Any) -> Any:
    """Encode what orjson does not take as is: array views (slices) and NumPy scalars."""
    if isinstance(value, np.ndarray):
        if value.dtype == np.float64 and not value.flags.c_contiguous:
            return np.ascontiguousarray(value)
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(body: Any) -> bytes:
    return orjson.dumps(body, default=_default, option=JSON_OPTIONS)


def json_response(body: Any, status: int = 200, content_type: str = CONTENT_TYPE) -> Response:
    return Response(dumps(body), status=status, content_type=content_type)


class OrjsonProvider(JSONProvider):
    """Flask's JSON provider on orjson, so that no path of the app can emit NaN."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


def _is_json_type(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


# A body refused unread is read and dropped, up to this many times the body limit, before
# the answer: a client that sends its whole body before it reads (most HTTP libraries, or
# a proxy forwarding a body it accepted: nginx takes 16 MiB here) would otherwise see the
# connection reset under it instead of the 413 or 415. Larger bodies are not read.
_DISCARD_FACTOR = 2
_DISCARD_CHUNK = 64 * 1024


def discard_unread_body(request: Request, max_bytes: int) -> None:
    """Read and drop the body of a request refused before its body was read."""
    limit = _DISCARD_FACTOR * max_bytes
    length = request.content_length
    if length is not None:
        if length > limit:
            return
        limit = length
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return
    try:
        while limit > 0:
            chunk = stream.read(min(_DISCARD_CHUNK, limit))
            if not chunk:
                return
            limit -= len(chunk)
    except (OSError, ValueError):  # the client went away: nothing left to protect
        return


def _more(request: Request) -> bool:
    """Whether a body without Content-Length (chunked) goes on past what was read.

    Werkzeug stops reading such a body at MAX_CONTENT_LENGTH without an error (its
    ``LimitedStream.readall`` never looks past the limit): a body cut there would be
    answered as malformed JSON instead of too large.
    """
    stream = request.environ.get("wsgi.input")
    try:
        return stream is not None and bool(stream.read(1))
    except (OSError, ValueError):
        return False


def read_json_object(request: Request, max_bytes: int) -> dict:
    """The request body as a JSON object, or a 400/413/415 problem that says what to fix."""
    length = request.content_length
    if length is not None and length > max_bytes:
        discard_unread_body(request, max_bytes)
        raise BodyTooLarge(
            f"the body is {length:,} bytes; the limit is {max_bytes:,} "
            "(set the environment variable GRADIENT_MAX_BODY_BYTES to change it)"
        )
    mimetype = request.mimetype or ""
    if not _is_json_type(mimetype) and mimetype not in _LENIENT_TYPES:
        discard_unread_body(request, max_bytes)
        raise NotJSON(f"the body must be JSON, not {mimetype}: {_HEADER_HINT}")
    body = request.get_data(cache=True)
    if len(body) > max_bytes or length is None and len(body) == max_bytes and _more(request):
        discard_unread_body(request, max_bytes)
        raise BodyTooLarge(
            f"the body is more than {max_bytes:,} bytes; the limit is {max_bytes:,} "
            "(set the environment variable GRADIENT_MAX_BODY_BYTES to change it)"
        )
    if not body.strip():
        raise MalformedBody("the request body is empty; send a JSON object such as "
                            '{"expression": "x^2", "variable": "x"}')
    value = _decode_large(body) if len(body) >= LARGE_BODY else None
    if value is not None:
        return value
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        if not _is_json_type(mimetype):
            raise NotJSON(
                f"the body is not JSON and its Content-Type is "
                f"{mimetype or 'missing'}: send JSON and {_HEADER_HINT}"
            ) from None
        raise MalformedBody(_explain(body, error)) from None
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(value), "a number"
        )
        raise MalformedBody(f"the body must be a JSON object ({{...}}), not {kind}")
    return value


# From this size on, a body is first decoded by simdjson, which hands the arrays of rows of
# ROW_ARRAYS over as one float64 array: 100,000 points decoded into Python lists and then
# copied into an array cost 55 ms (orjson and NumPy), twice the computation and the
# encoding of the answer together; simdjson reads them in 4-8 ms (see README "Performance").
LARGE_BODY = 64 * 1024
ROW_ARRAYS = frozenset({"points"})


def _decode_large(body: bytes) -> dict | None:
    """The body as a JSON object with its numeric ROW_ARRAYS as 2-D float64 arrays, or None
    when it is anything else (an error, a string among the numbers, ragged rows...): the
    general decoder then reads it and explains any error."""
    try:
        document = simdjson.Parser().parse(body)
        if not isinstance(document, simdjson.Object):
            return None
        keys = list(document.keys())
        if len(set(keys)) != len(keys):  # a repeated key: orjson keeps the last one
            return None
        decoded = {}
        for key in keys:
            value = document[key]
            if key in ROW_ARRAYS and isinstance(value, simdjson.Array):
                decoded[key] = _flat_rows(value)
            elif isinstance(value, simdjson.Array):
                decoded[key] = value.as_list()
            elif isinstance(value, simdjson.Object):
                decoded[key] = value.as_dict()
            else:
                decoded[key] = value
        uniform = _has_structure(body, decoded)
        for key, value in decoded.items():
            if isinstance(value, _FlatRows):
                decoded[key] = value.array() if uniform else document[key].as_list()
        return decoded
    except (ValueError, TypeError, RuntimeError, OverflowError, MemoryError):
        return None


class _FlatRows:
    """The numbers of an array of rows, flattened, and its shape if every row is as long as
    the first (what :func:`_has_structure` checks)."""

    def __init__(self, numbers: np.ndarray, rows: int, length: int):
        self.numbers, self.rows, self.length = numbers, rows, length

    def array(self) -> np.ndarray:
        return self.numbers.reshape(self.rows, self.length)

    def skeleton(self) -> bytes:
        """The structure of ``rows`` rows of ``length`` numbers, numbers deleted."""
        row = b"[" + b"," * (self.length - 1) + b"]"
        return b"[" + (row + b",") * (self.rows - 1) + row + b"]"


def _flat_rows(rows: simdjson.Array) -> _FlatRows | list:
    """Rows of numbers flattened (simdjson flattens nested arrays and refuses strings,
    booleans and nulls with TypeError, numbers past float64 with ValueError: the general
    decoder gives those their messages), or a list when the first row is not an array."""
    first = rows[0] if len(rows) else None
    if not isinstance(first, simdjson.Array) or len(first) == 0:
        return rows.as_list()
    numbers = np.frombuffer(rows.as_buffer(of_type="d"), dtype=np.float64)
    length = len(first)
    if numbers.size != len(rows) * length:
        raise ValueError("ragged rows")  # the general decoder explains them
    return _FlatRows(numbers, len(rows), length)


# A body's structure: what is left of it with numbers, literals and whitespace deleted.
_STRUCTURE = b'[]{},:"'
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in _STRUCTURE)


def _has_structure(body: bytes, decoded: dict) -> bool:
    """Whether every array of rows in ``decoded`` has rows as long as its first, proven on
    the raw body: its structure equals the one the decoded values would have with such rows.

    Without backslashes a string's bytes in the body are its decoded UTF-8, so the two
    structures are equal exactly when the body nests as assumed. Deleting bytes is one C
    pass (1-2 ms for 100,000 points); asking simdjson for the length of every row took 9 ms.
    """
    if not any(isinstance(v, _FlatRows) for v in decoded.values()):
        return True
    if b"\\" in body:
        return False  # escapes: a string's bytes differ from its value (the slow check)
    expected = b"{" + b",".join(
        _skeleton(key) + b":" + (value.skeleton() if isinstance(value, _FlatRows)
                                 else _skeleton(value))
        for key, value in decoded.items()) + b"}"
    return body.translate(None, _NOT_STRUCTURE) == expected


def _skeleton(value: Any) -> bytes:
    """The structure of a decoded JSON value as the body writes it, numbers deleted."""
    if isinstance(value, str):
        return b'"' + value.encode().translate(None, _NOT_STRUCTURE) + b'"'
    if isinstance(value, list):
        return b"[" + b",".join(map(_skeleton, value)) + b"]"
    if isinstance(value, dict):
        return b"{" + b",".join(_skeleton(k) + b":" + _skeleton(v)
                                for k, v in value.items()) + b"}"
    return b""  # a number, true, false or null


def _explain(body: bytes, error: orjson.JSONDecodeError) -> str:
    """A decode error in words, naming NaN/Infinity literals, which JSON does not have."""
    message = str(error)
    match = _CHAR_OFFSET.search(message)
    if match:
        at = int(match.group(1))
        rest = body[at:at + 9].lstrip(b"-")
        if rest.startswith((b"NaN", b"Infinity")):
            return (
                f"the body is not valid JSON: NaN and Infinity are not JSON numbers "
                f"(at character {at}); send a finite number, or a string such as \"1/3\""
            )
    if "infinity when parsed as double" in message:
        return f"the body holds a number too large for a float64: {message}"
    return f"the body is not valid JSON: {message}"
