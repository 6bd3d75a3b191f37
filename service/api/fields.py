"""marshmallow fields for the shapes JSON Schema calls oneOf: coordinates and points."""

from __future__ import annotations

from typing import Any

import numpy as np
from marshmallow import ValidationError, fields

COORDINATE_DOC = {
    "oneOf": [{"type": "number"}, {"type": "string", "example": "pi/4"}],
    "description": "A JSON number (exact when integral, else float64) or an exact "
    "string such as \"1/3\", \"pi/4\" or \"sqrt(2)\".",
}


def check_coordinate(value: Any, path: str = "") -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        where = f" at {path}" if path else ""
        raise ValidationError(
            f"not a coordinate{where}: give a number or an exact string such as \"1/3\""
        )
    return value


class Coordinate(fields.Field):
    """A number or an exact string; parsed later by the calculus core, never evaluated."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update(COORDINATE_DOC)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return check_coordinate(value)


class Point(fields.Field):
    """An object name -> coordinate, or a list of coordinates aligned with the variables."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({
            "oneOf": [
                {"type": "object", "additionalProperties": COORDINATE_DOC},
                {"type": "array", "items": COORDINATE_DOC},
            ],
        })
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dict):
            errors = {}
            for name, coordinate in value.items():
                try:
                    check_coordinate(coordinate)
                except ValidationError as error:
                    errors[name] = error.messages
            if errors:
                raise ValidationError(errors)
            return value
        if isinstance(value, list):
            errors = {}
            for i, coordinate in enumerate(value):
                try:
                    check_coordinate(coordinate)
                except ValidationError as error:
                    errors[i] = error.messages
            if errors:
                raise ValidationError(errors)
            return value
        raise ValidationError(
            "a point is an object such as {\"x\": 1, \"y\": \"1/2\"} "
            "or a list of coordinates aligned with the variables"
        )


# JSON numbers as orjson reads them (bool, a subclass of int, is not one).
_PLAIN_NUMBERS = (int, float)


class Columns(fields.Field):
    """Data columns: name -> list of JSON numbers, checked in one pass, read as float64 arrays.

    Arrays, not lists, go on to the computation process: 100,000 rows pickle in microseconds.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "number"}},
        })
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError('data is an object of columns, e.g. {"x": [1, 2], "y": [3, 5]}')
        columns = {}
        for name, column in value.items():
            if not isinstance(column, list):
                raise ValidationError({name: [f"column '{name}' must be a list of numbers"]})
            if not all(type(entry) in _PLAIN_NUMBERS for entry in column):
                i, entry = next((i, e) for i, e in enumerate(column)
                                if type(e) not in _PLAIN_NUMBERS)
                raise ValidationError({name: [
                    f"column '{name}' row {i} is {entry!r}, not a number"
                ]})
            try:
                columns[name] = np.array(column, dtype=np.float64)
            except OverflowError:
                raise ValidationError({name: [
                    f"column '{name}' holds an integer too large for a float64"
                ]}) from None
        return columns


class Flag(fields.Boolean):
    """JSON ``true`` or ``false`` only (marshmallow's Boolean also takes 1, "yes" and "on")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Number(fields.Float):
    """A JSON number only (marshmallow's Float also takes strings such as "0.1" and "1e3")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)



class Points(fields.List):
    """A list of points; plain numeric lists become one float64 array, read in one pass.

    100,000 points validated one field at a time cost more than the whole computation, so
    the common case (every point a list of JSON numbers) is checked with one comprehension
    and handed on as an array of shape (points, coordinates). Anything else (objects, exact
    strings, mistakes) goes through the ``Point`` field, for its messages.
    """

    def __init__(self, **kwargs):
        super().__init__(Point(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, np.ndarray):  # decoded as an array already (jsonio, large bodies)
            return value
        if (isinstance(value, list) and value
                and all(type(item) is list for item in value)
                and all(type(v) in _PLAIN_NUMBERS for item in value for v in item)):
            try:
                return np.array(value, dtype=np.float64)
            except (ValueError, OverflowError):  # ragged, or an int too large: the slow path
                pass
        return super()._deserialize(value, attr, data, **kwargs)
