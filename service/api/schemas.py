"""Request and response schemas: validation of every request, and the OpenAPI contract."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from service.api.fields import Columns, Coordinate, Flag, Number, Point, Points


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


_EXPRESSION_DOC = (
    "Infix text: numbers, names, + - * /, ^ or ** (right-associative), parentheses, "
    "implicit multiplication after a number (2x) and between groups ((x+1)(x-1)), "
    "functions from GET /v1/functions, constants pi and e."
)


def _expression(**kwargs):
    return fields.String(required=True, metadata={"description": _EXPRESSION_DOC,
                                                  "example": "(w*x + b - y)^2"}, **kwargs)


class SpecFields(StrictSchema):
    """Fields shared by every function spec."""

    constants = fields.Dict(
        keys=fields.String(), values=Coordinate(),
        metadata={"description": "name -> number or exact string, substituted first",
                  "example": {"y": 1}},
    )
    point = Point(metadata={"description": "object name -> coordinate, or a list aligned "
                                           "with the variables", "example": {"w": 2, "x": 3, "b": 1}})
    points = Points(metadata={"description": "points for vectorized evaluation"})


class VariablesField(StrictSchema):
    variables = fields.List(
        fields.String(),
        metadata={"description": "names to differentiate by, in order; default: the free "
                                 "names of the expression(s), sorted",
                  "example": ["w", "b"]},
    )


_STEPS_DOC = (
    "true: also `steps`, the derivation as a tree of rule applications (sum, constant "
    "multiple, product, quotient, power, chain, each function's rule...), each step "
    "{rule, expression, result, latex: {expression, result}, note?, substeps}; one top step "
    "per successive derivative up to `order`, with the `variable` and the names "
    "`held_constant`. At most 1,000 steps per answer: past that, parts are differentiated "
    "directly (rule \"not expanded\") and a warning says so."
)
_GRADIENT_STEPS_DOC = (
    " On /v1/gradient, `steps` is a list aligned with `variables`: entry i is what "
    "/v1/derivative answers as `steps` for variable i (a partial derivative; the other names "
    "are held constant)."
)
_CHECK_DOC = (
    "true (needs `point`): also `check`, next to `at`: the central finite-difference "
    "estimate of the numeric result (`finite_difference`, same shape; for the Hessian, "
    "differences of the gradient), the `step` per variable (cbrt(eps) * max(1, |x_i|)) and "
    "the largest `absolute_error` and its `relative_error` against the exact value."
)


class DerivativeRequest(SpecFields):
    expression = _expression()
    variable = fields.String(required=True, metadata={"example": "w"})
    order = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1),
                           metadata={"description": "derivative order, 1 or more"})
    steps = Flag(load_default=False, metadata={"description": _STEPS_DOC})


class GradientRequest(SpecFields, VariablesField):
    expression = _expression()
    steps = Flag(load_default=False, metadata={"description": _STEPS_DOC + _GRADIENT_STEPS_DOC})
    check = Flag(load_default=False, metadata={"description": _CHECK_DOC})


class HessianRequest(SpecFields, VariablesField):
    expression = _expression()
    check = Flag(load_default=False, metadata={"description": _CHECK_DOC})


class JacobianRequest(SpecFields, VariablesField):
    expressions = fields.List(
        fields.String(), required=True, validate=validate.Length(min=1),
        metadata={"example": ["x*y", "x + y^2"]},
    )
    check = Flag(load_default=False, metadata={"description": _CHECK_DOC})


OPTIMIZER_NAMES = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton"]


class Regularization(StrictSchema):
    l1 = Number(load_default=0.0, allow_nan=False, validate=validate.Range(min=0))
    l2 = Number(load_default=0.0, allow_nan=False, validate=validate.Range(min=0))


class GradientDescentRequest(VariablesField):
    expression = _expression()
    constants = SpecFields._declared_fields["constants"]
    start = Point(required=True, metadata={"description": "iteration 0: an object "
                  "name -> coordinate, or a list aligned with the variables",
                  "example": {"x": -1.5, "y": 2}})
    optimizer = fields.String(
        load_default="gd",
        validate=validate.OneOf(OPTIMIZER_NAMES),
    )
    learning_rate = Number(allow_nan=False, validate=validate.Range(min=0, min_inclusive=False),
                                 metadata={"description": "default: 0.01 (gd, momentum, "
                                           "nesterov, adagrad, rmsprop), 0.001 (adam), 1.0 (newton)"})
    hyperparameters = fields.Dict(keys=fields.String(), values=Number(allow_nan=False))
    max_iterations = fields.Integer(strict=True, load_default=1000, validate=validate.Range(min=0))
    tolerance = Number(load_default=1e-8, allow_nan=False, validate=validate.Range(min=0))
    record_every = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1))
    data = Columns(metadata={"description": "columns of equal length; the expression is "
                             "then the loss of one sample", "example": {"x": [1, 2, 3],
                                                                        "y": [2, 4, 6]}})
    reduction = fields.String(load_default="mean", validate=validate.OneOf(["mean", "sum"]))
    batch_size = fields.Integer(strict=True, validate=validate.Range(min=1))
    seed = fields.Integer(strict=True, validate=validate.Range(min=0))
    regularization = fields.Nested(Regularization)
