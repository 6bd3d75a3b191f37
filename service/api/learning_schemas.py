"""Schemas of the learners' endpoints: ``/v1/directional-derivative`` and ``/v1/taylor``.

Requests (validation and contract), responses (contract only: the views return ready
JSON) and request examples. The learners' fields of the calculus answers (``steps``,
``check``) are documented with the other answers in ``service.api.responses``.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.api.fields import Coordinate, Flag, Point
from service.api.responses import Symbolic, Value
from service.api.schemas import VariablesField, _expression

_WARNINGS = fields.List(fields.String(), metadata={
    "description": "present when a value is null: which one and why",
    "example": [("value does not exist at this point: gradient[0] is not a finite real "
                 "number there (a kink, a pole or outside the domain)")],
})


def _constants() -> fields.Dict:
    return fields.Dict(
        keys=fields.String(), values=Coordinate(),
        metadata={"description": "name -> number or exact string, substituted first",
                  "example": {"y": 1}},
    )


def _point_used(description: str) -> fields.Dict:
    coordinate = fields.Raw(metadata={"oneOf": [{"type": "number"}, {"type": "string"}]})
    return fields.Dict(keys=fields.String(), values=coordinate, required=True,
                       metadata={"description": description, "example": {"x": 1, "y": "1/2"}})


# --- /v1/directional-derivative ---------------------------------------------------------

class DirectionalDerivativeRequest(VariablesField):
    expression = _expression()
    point = Point(required=True, metadata={
        "description": "object name -> coordinate, or a list aligned with the variables",
        "example": {"x": 1, "y": 2}})
    direction = Point(required=True, metadata={
        "description": "a list aligned with `variables` or an object variable -> component, "
                       "each a number or an exact string; a JSON decimal is the decimal it "
                       "reads as (0.1 is 1/10), so the direction is always exact",
        "example": [3, 4]})
    normalize = Flag(load_default=True, metadata={
        "description": "scale the direction to a unit vector (the zero vector is a 422); "
                       "false: use it as given"})
    constants = _constants()


class Direction(Schema):
    exact = fields.List(fields.String(), required=True, metadata={
        "description": "the components used (unit vector when normalized), exact",
        "example": ["3/5", "4/5"]})
    numeric = fields.List(fields.Float(), required=True, metadata={"example": [0.6, 0.8]})


class DirectionalDerivativeAt(Schema):
    point = _point_used("the point used: integers or exact text when the point is exact, "
                        "float64 otherwise")
    value = fields.Nested(Value, required=True,
                          metadata={"description": "the directional derivative at the point"})


class DirectionalDerivativeResponse(Schema):
    variables = fields.List(fields.String(), required=True,
                            metadata={"description": "the order of the direction's components"})
    direction = fields.Nested(Direction, required=True)
    normalized = fields.Boolean(required=True)
    directional_derivative = fields.Nested(Symbolic, required=True, metadata={
        "description": "u . grad f, with u the direction used"})
    at = fields.Nested(DirectionalDerivativeAt, required=True)
    warnings = _WARNINGS


# --- /v1/taylor -------------------------------------------------------------------------

class TaylorRequest(VariablesField):
    expression = _expression()
    point = Point(required=True, metadata={
        "description": "the center: object name -> coordinate, or a list aligned with the "
                       "variables; a float is the decimal it reads as (0.1 is 1/10)",
        "example": {"x": 0}})
    order = fields.Integer(strict=True, required=True, validate=validate.Range(min=1),
                           metadata={"description": "1 or 2 for several variables; up to "
                                                    "the derivative-order limit for one",
                                     "example": 2})
    constants = _constants()


class TaylorResponse(Schema):
    variables = fields.List(fields.String(), required=True)
    point = _point_used("the center used, exact: integers or exact text")
    order = fields.Integer(required=True)
    taylor = fields.Nested(Symbolic, required=True, metadata={
        "description": "the model in the variables themselves, lowest degree first: "
                       "f(a) + grad f(a).(x - a) + 1/2 (x - a)^T H(a) (x - a), or "
                       "the sum of f^(k)(a)/k! (x - a)^k for one variable"})


# --- request examples ---------------------------------------------------------------------

DIRECTIONAL_DERIVATIVE_EXAMPLES = {
    "unit_direction": {"summary": "Along the unit vector of (3, 4)", "value": {
        "expression": "x^2 + 3*x*y", "point": {"x": 1, "y": 2}, "direction": [3, 4]}},
    "loss_along_a_step": {"summary": "A loss along a parameter step, not normalized", "value": {
        "expression": "(w*x + b - y)^2", "variables": ["w", "b"], "constants": {"x": 3, "y": 4},
        "point": {"w": "1/2", "b": 0}, "direction": {"w": 1, "b": -1}, "normalize": False}},
}

TAYLOR_EXAMPLES = {
    "series": {"summary": "The series of exp(x) to order 5 around 0", "value": {
        "expression": "exp(x)", "point": [0], "order": 5}},
    "quadratic_model": {"summary": "Quadratic model of Rosenbrock's function", "value": {
        "expression": "(1 - x)^2 + 100(y - x^2)^2", "point": {"x": -1, "y": 1}, "order": 2}},
    "float_center": {"summary": "A float center is read as its decimal (0.5 is 1/2)", "value": {
        "expression": "sigmoid(x)", "point": [0.5], "order": 3}},
}
