"""Request schemas of POST /v1/plot: one per kind of picture, chosen by ``kind``.

``PlotRequest`` is what the contract shows (every field, each saying which kinds take it)
and what flask-smorest validates with: its ``load`` reads ``kind`` and hands the body to
that kind's strict schema, so a field that belongs to another kind is refused by name.
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping

from marshmallow import Schema, ValidationError, fields, validate

from service.api.fields import COORDINATE_DOC, Point, check_coordinate
from service.api.schemas import (
    OPTIMIZER_NAMES, GradientDescentRequest, SpecFields, StrictSchema, VariablesField,
)

KINDS = ["function", "contour", "descent"]
FORMATS = ["svg", "png"]

_INTERVAL_DOC = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
_RANGES_DOC = {"type": "object", "additionalProperties": _INTERVAL_DOC}


class StrictBoolean(fields.Boolean):
    """``true`` or ``false`` only (marshmallow would also take 1, "yes", "on"...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("not a boolean: give true or false")
        return value


class Interval(fields.Field):
    """``[low, high]``: two JSON numbers."""

    def _deserialize(self, value, attr, data, **kwargs):
        if (not isinstance(value, list) or len(value) != 2 or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)):
            raise ValidationError("a range is a list of two numbers [low, high]")
        return [float(v) for v in value]


class Ranges(fields.Field):
    """An object name -> ``[low, high]``; for one variable also ``[low, high]`` itself."""

    def __init__(self, allow_interval: bool, **kwargs):
        self.allow_interval = allow_interval
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if self.allow_interval and isinstance(value, list):
            return Interval()._deserialize(value, attr, data)
        if not isinstance(value, dict):
            raise ValidationError('a range is an object such as {"x": [-2, 2], "y": [-1, 3]}')
        errors = {}
        for name, interval in value.items():
            try:
                Interval()._deserialize(interval, name, value)
            except ValidationError as error:
                errors[name] = error.messages
        if errors:
            raise ValidationError(errors)
        return {name: [float(v) for v in interval] for name, interval in value.items()}


class FunctionPoint(fields.Field):
    """A coordinate (the picture has one variable), or a point as every endpoint takes it."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (dict, list)):
            return Point()._deserialize(value, attr, data)
        return check_coordinate(value)


class OptimizerEntry(StrictSchema):
    optimizer = fields.String(required=True, validate=validate.OneOf(OPTIMIZER_NAMES))
    learning_rate = fields.Float(allow_nan=False,
                                 validate=validate.Range(min=0, min_inclusive=False))
    hyperparameters = fields.Dict(keys=fields.String(), values=fields.Float(allow_nan=False))


class Optimizer(fields.Field):
    """An optimizer's name, or ``{optimizer, learning_rate?, hyperparameters?}``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({"oneOf": [
            {"type": "string", "enum": OPTIMIZER_NAMES},
            {"type": "object", "required": ["optimizer"], "additionalProperties": False,
             "properties": {
                 "optimizer": {"type": "string", "enum": OPTIMIZER_NAMES},
                 "learning_rate": {"type": "number", "exclusiveMinimum": 0},
                 "hyperparameters": {"type": "object",
                                     "additionalProperties": {"type": "number"}}}},
        ]})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            if value not in OPTIMIZER_NAMES:
                raise ValidationError(f"unknown optimizer {value!r}; choose one of "
                                      f"{', '.join(OPTIMIZER_NAMES)}")
            return {"optimizer": value}
        if isinstance(value, dict):
            return OptimizerEntry().load(value)
        raise ValidationError('an optimizer is a name such as "adam" or an object '
                              '{"optimizer", "learning_rate", "hyperparameters"}')


# --- the fields of every kind ---------------------------------------------------------------

def _kind(**kwargs):
    return fields.String(required=True, validate=validate.OneOf(KINDS), metadata={
        "description": "function: f(x) with its derivatives and a tangent; contour: f(x, y) "
                       "with its gradient field; descent: gradient-descent paths over f"},
        **kwargs)


class PictureFields(StrictSchema):
    kind = _kind()
    format = fields.String(validate=validate.OneOf(FORMATS), metadata={
        "description": "svg (default) or png; without it, an Accept header of image/png "
                       "asks for PNG"})
    size = fields.List(fields.Float(allow_nan=False, validate=validate.Range(min=2)),
                       validate=validate.Length(equal=2), metadata={
        "description": "[width, height] in inches, each at least 2 and at most "
                       "GRADIENT_MAX_PLOT_INCHES; default [6.4, 4.8] (function), "
                       "[6.4, 5.6] (contour), [6.4, 5.8] (descent), [11.5, 5.4] (with "
                       "loss_panel)", "example": [6.4, 4.8]})
    dpi = fields.Integer(strict=True, validate=validate.Range(min=20), metadata={
        "description": "dots per inch: a PNG is size x dpi pixels; default 100, at most "
                       "GRADIENT_MAX_PLOT_DPI"})
    grid = fields.Integer(strict=True, validate=validate.Range(min=8), metadata={
        "description": "samples per axis: default 1000 along a curve, 200 per side of a "
                       "surface; at most GRADIENT_MAX_PLOT_GRID"})


def _expression():
    return fields.String(required=True, metadata={
        "description": "the function to draw, in the expression syntax",
        "example": "x^3 - 3x"})


_CONSTANTS = SpecFields._declared_fields["constants"]


class FunctionPlotRequest(PictureFields):
    expression = _expression()
    variable = fields.String(metadata={"description": "default: the expression's only name"})
    constants = _CONSTANTS
    range = Interval(metadata={**_INTERVAL_DOC, "description": "[low, high] of the variable; "
                     "default [-5, 5], or [p - 5, p + 5] around the point p"})
    point = FunctionPoint(metadata={
        "oneOf": [*COORDINATE_DOC["oneOf"], {"type": "object"}, {"type": "array"}],
        "description": "where to mark f and draw the tangent: a coordinate (\"pi/4\", 1.5), "
                       "or a point as every endpoint takes it", "example": 1.5})
    tangent = StrictBoolean(metadata={"description": "draw the tangent line at the point "
                                                     "(default: true when a point is given)"})
    derivatives = fields.List(
        fields.Integer(strict=True, validate=validate.OneOf([1, 2])),
        validate=validate.Length(max=2),
        metadata={"description": "derivative curves to draw beside f: 1, 2 or both",
                  "example": [1]})


class ContourPlotRequest(PictureFields, VariablesField):
    expression = _expression()
    constants = _CONSTANTS
    range = Ranges(False, metadata={**_RANGES_DOC, "description": "variable -> [low, high]; "
                   "default [-5, 5] each"})
    gradient_field = StrictBoolean(load_default=True, metadata={
        "description": "arrows along -grad f, the direction of steepest descent (default true)"})
    critical_points = StrictBoolean(load_default=False, metadata={
        "description": "mark the critical points in the window, found numerically: Newton's "
                       "method on grad f = 0 from the grid points where |grad f| is smallest "
                       "(default false)"})


class DescentPlotRequest(GradientDescentRequest, PictureFields):
    optimizer = fields.String(validate=validate.OneOf(OPTIMIZER_NAMES), metadata={
        "description": "the optimizer of a single path (default gd)"})
    optimizers = fields.List(Optimizer(), validate=validate.Length(min=1), metadata={
        "description": "several paths compared in one picture: names or objects "
                       "{optimizer, learning_rate?, hyperparameters?}; an entry without a "
                       "learning_rate takes the top-level one, else its optimizer's default",
        "example": ["gd", {"optimizer": "momentum", "learning_rate": 0.005}]})
    loss_panel = StrictBoolean(load_default=False, metadata={
        "description": "a second panel with the value per iteration (log scale)"})
    range = Ranges(True, metadata={"oneOf": [_RANGES_DOC, _INTERVAL_DOC], "description":
                   "parameter -> [low, high] (or [low, high] for one parameter); default: "
                   "the box around every path, widened by a tenth"})


KIND_SCHEMAS: dict[str, type[Schema]] = {
    "function": FunctionPlotRequest,
    "contour": ContourPlotRequest,
    "descent": DescentPlotRequest,
}


def _explain_unknown(messages: Any, schema: Schema, kind: str) -> Any:
    """Say which fields a kind takes when a body has one it does not."""
    if not isinstance(messages, Mapping):
        return messages
    explained = dict(messages)
    accepted = sorted(schema.fields)
    for name, value in messages.items():
        if value == ["Unknown field."]:
            close = difflib.get_close_matches(name, accepted, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            others = [k for k, s in KIND_SCHEMAS.items() if k != kind and name in s._declared_fields]
            elsewhere = f" (it belongs to kind {' and '.join(others)})" if others else ""
            explained[name] = [f"unknown field '{name}' for kind '{kind}'{elsewhere}{hint} "
                               f"(accepted fields: {', '.join(accepted)})"]
    return explained


class _ByKind(Schema):
    """Loads a body with the schema of its ``kind``; the fields declared here document."""

    def load(self, data, *, many=None, partial=None, unknown=None):
        """Validate ``data`` with the schema of its ``kind`` (always strict on unknown fields)."""
        if not isinstance(data, Mapping):
            raise ValidationError({"_schema": ["the body must be a JSON object"]})
        kind = data.get("kind")
        if not isinstance(kind, str) or kind not in KIND_SCHEMAS:  # {} is unhashable
            message = ("missing data for required field: choose a kind"
                       if kind is None else f"unknown kind {kind!r}")
            raise ValidationError({"kind": [f"{message} ({', '.join(KINDS)})"]})
        schema = KIND_SCHEMAS[kind]()
        try:
            return schema.load(data, partial=partial)
        except ValidationError as error:
            raise ValidationError(_explain_unknown(error.messages, schema, kind)) from None


_DESCENT_ONLY = [name for name in GradientDescentRequest._declared_fields
                 if name not in ("expression", "variables", "constants")]

#: The request of POST /v1/plot as the contract shows it: every field of every kind.
PlotRequest = type("PlotRequest", (_ByKind,), {
    "__doc__": "A picture request: `kind` chooses which of the other fields apply; the "
               "fields of /v1/gradient-descent (start, optimizer, learning_rate...) are "
               "those of kind descent.",
    **{name: field for name, field in PictureFields._declared_fields.items()},
    "expression": _expression(),
    "variable": fields.String(metadata={"description": "function: the variable (default: "
                                                       "the expression's only name)"}),
    "variables": fields.List(fields.String(), metadata={
        "description": "contour: the two variables, in axis order; descent: the parameters, "
                       "as in /v1/gradient-descent"}),
    "constants": _CONSTANTS,
    "range": fields.Raw(metadata={"oneOf": [_INTERVAL_DOC, _RANGES_DOC], "description":
                        "function: [low, high]; contour and descent: variable -> [low, high]"}),
    **{name: FunctionPlotRequest._declared_fields[name]
       for name in ("point", "tangent", "derivatives")},
    **{name: ContourPlotRequest._declared_fields[name]
       for name in ("gradient_field", "critical_points")},
    **{name: DescentPlotRequest._declared_fields[name] for name in _DESCENT_ONLY},
    "start": Point(metadata={"description": "descent (required): iteration 0, an object "
                             "name -> coordinate or a list aligned with the variables",
                             "example": {"x": -1.5, "y": 2}}),
    **{name: DescentPlotRequest._declared_fields[name] for name in ("optimizers", "loss_panel")},
})
