"""Response schemas: the shapes of every answer, for the OpenAPI contract only.

The views return ready ``flask.Response`` objects (``jsonio.json_response``: orjson, NaN
written as null), which flask-smorest passes through without dumping, so these schemas
never touch a response at run time. They document what ``service.calculus.operations``
and ``service.calculus.descent`` build, and the contract tests (schemathesis) check every
live answer against them.

A number that is not a finite real is ``null`` (``type: [number, "null"]``) and a
``warnings`` entry says which one and why.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.api.schemas import OPTIMIZER_NAMES
from service.optimize.descent import STOP_MESSAGES

DEFINITENESS = ["positive definite", "negative definite", "positive semidefinite",
                "negative semidefinite", "indefinite"]
CLASSIFICATIONS = ["local minimum", "local maximum", "saddle point", "inconclusive"]

# Enumerations with a name of their own in components.schemas, so that generated clients get
# one enum type each; a field that may also be null refers to them with anyOf.
NAMED_ENUMS = {
    "Definiteness": {"type": "string", "enum": DEFINITENESS,
                     "description": "the signs of the Hessian's eigenvalues"},
    "Classification": {"type": "string", "enum": CLASSIFICATIONS,
                       "description": "the second-derivative test at a critical point"},
}


def _nullable_enum(name: str, description: str) -> fields.Raw:
    """One of ``NAMED_ENUMS[name]``, or null."""
    return fields.Raw(required=True, allow_none=True, metadata={
        "anyOf": [{"$ref": f"#/components/schemas/{name}"}, {"type": "null"}],
        "description": description,
    })


_NUMBER_OR_NULL = "float64, or null where the value is not a finite real (see warnings)"


def _number(description: str = _NUMBER_OR_NULL, **kwargs) -> fields.Float:
    """A float64 that may be null."""
    return fields.Float(allow_none=True, metadata={"description": description}, **kwargs)


def _numbers(depth: int = 1, description: str = _NUMBER_OR_NULL, **kwargs) -> fields.List:
    """Nested lists of nullable float64s, ``depth`` levels deep."""
    inner: fields.Field = fields.Float(allow_none=True)
    for _ in range(depth - 1):
        inner = fields.List(inner)
    return fields.List(inner, metadata={"description": description}, **kwargs)


def _exact_texts(depth: int = 1, **kwargs) -> fields.List:
    """Nested lists of exact values as text (null where not a finite real); the whole list
    is null when the point is not exact."""
    inner: fields.Field = fields.String(allow_none=True)
    for _ in range(depth - 1):
        inner = fields.List(inner)
    return fields.List(
        inner, allow_none=True,
        metadata={"description": "exact values in the expression syntax; null when a "
                                 "coordinate of the point is a float"},
        **kwargs,
    )


def _warnings() -> fields.List:
    return fields.List(fields.String(), metadata={
        "description": "present when a value is null or only approximate: which entry and "
                       "why (e.g. \"gradient[1] is complex at this point\")",
        "example": ["value is infinite at this point"],
    })


_POINT = {
    "description": "the point used, name -> coordinate: an integer or exact text (\"1/3\") "
                   "when the point is exact, float64 otherwise",
    "example": {"x": 1, "y": "1/2"},
}


def _point() -> fields.Dict:
    coordinate = fields.Raw(metadata={"oneOf": [{"type": "number"}, {"type": "string"}]})
    return fields.Dict(keys=fields.String(), values=coordinate, required=True,
                       metadata=dict(_POINT))


class Symbolic(Schema):
    """A symbolic result: text that can be sent back as input, and LaTeX."""

    expression = fields.String(required=True, metadata={"example": "2*x*(b + w*x - y)"})
    latex = fields.String(required=True, metadata={"example": "2 x \\left(b + w x - y\\right)"})


class Value(Schema):
    """One value at a point: exact text (null unless the point is exact) and float64."""

    exact = fields.String(required=True, allow_none=True, metadata={
        "description": "exact value in the expression syntax; null when a coordinate of "
                       "the point is a float or the value is not a finite real",
        "example": "18"})
    numeric = _number(required=True)


class Values(Schema):
    """Several values at a point, exact and float64."""

    exact = _exact_texts(required=True)
    numeric = _numbers(required=True)


class Matrix(Schema):
    """A matrix at a point, exact and float64, as a list of rows."""

    exact = _exact_texts(depth=2, required=True)
    numeric = _numbers(depth=2, required=True)


# --- learners: steps and check -----------------------------------------------------------

class StepLatex(Schema):
    expression = fields.String(required=True)
    result = fields.String(required=True)


class Step(Schema):
    """One rule applied: the sub-expression, the rule, its result, and the steps inside."""

    rule = fields.String(required=True, metadata={
        "description": "sum, constant multiple, power, product, quotient, chain, or the name "
                       "of an elementary function (exp, sin...)", "example": "chain"})
    variable = fields.String(metadata={"description": "top step only: the variable"})
    order = fields.Integer(metadata={"description": "top step only: which derivative (1, 2...)"})
    held_constant = fields.List(fields.String(), metadata={
        "description": "top step only: the other names, held constant"})
    expression = fields.String(required=True, metadata={"example": "sin(x^2)"})
    result = fields.String(required=True, metadata={"example": "2*x*cos(x^2)"})
    latex = fields.Nested(StepLatex, required=True)
    note = fields.String()
    substeps = fields.List(fields.Nested(lambda: Step()), required=True)


def _check(depth: int, shape: str) -> dict:
    return {
        "finite_difference": _numbers(depth=depth, required=True, description=(
            f"central finite-difference estimate, the shape of {shape}; " + _NUMBER_OR_NULL)),
        "step": fields.List(fields.Float(), required=True,
                            metadata={"description": "difference step per variable"}),
        "absolute_error": _number("largest |estimate - exact|; null when an entry is null",
                                  required=True),
        "relative_error": _number("absolute_error over the largest |entry|; null when an "
                                  "entry is null", required=True),
    }


VectorCheck = Schema.from_dict(_check(1, "the numeric gradient"), name="VectorCheck")
MatrixCheck = Schema.from_dict(_check(2, "the numeric Jacobian or Hessian"),
                               name="MatrixCheck")


# --- /v1/derivative ---------------------------------------------------------------------

class DerivativeAt(Schema):
    point = _point()
    value = fields.Nested(Value, required=True)


class DerivativeBatch(Schema):
    values = _numbers(required=True, description="the derivative at each of `points`, in "
                      "order; " + _NUMBER_OR_NULL)


class DerivativeResponse(Schema):
    derivative = fields.Nested(Symbolic, required=True)
    at = fields.Nested(DerivativeAt, metadata={"description": "with `point`"})
    batch = fields.Nested(DerivativeBatch, metadata={"description": "with `points`"})
    steps = fields.List(fields.Nested(Step), metadata={
        "description": "with `steps: true`: one top step per order"})
    warnings = _warnings()


# --- /v1/gradient -----------------------------------------------------------------------

class GradientAt(Schema):
    point = _point()
    value = fields.Nested(Value, required=True,
                          metadata={"description": "the function's value"})
    gradient = fields.Nested(Values, required=True)
    norm = _number(required=True, description="Euclidean norm of the numeric gradient; "
                   "null when an entry is null")


class GradientBatch(Schema):
    values = _numbers(required=True, description="the function's value at each point")
    gradient = _numbers(depth=2, required=True,
                        description="one row per point, one column per variable")


class GradientResponse(Schema):
    variables = fields.List(fields.String(), required=True,
                            metadata={"description": "the order of the gradient's entries"})
    gradient = fields.List(fields.Nested(Symbolic), required=True)
    at = fields.Nested(GradientAt, metadata={"description": "with `point`"})
    batch = fields.Nested(GradientBatch, metadata={"description": "with `points`"})
    steps = fields.List(fields.List(fields.Nested(Step)), metadata={
        "description": "with `steps: true`: the steps of each partial, aligned with "
                       "`variables`"})
    check = fields.Nested(VectorCheck, metadata={"description": "with `check: true`"})
    warnings = _warnings()


# --- /v1/jacobian -----------------------------------------------------------------------

class JacobianAt(Schema):
    point = _point()
    value = fields.Nested(Values, required=True,
                          metadata={"description": "each expression's value"})
    jacobian = fields.Nested(Matrix, required=True)


class JacobianBatch(Schema):
    values = _numbers(depth=2, required=True,
                      description="one row per point, one column per expression")
    jacobian = _numbers(depth=3, required=True, description="one matrix per point")


class JacobianResponse(Schema):
    variables = fields.List(fields.String(), required=True,
                            metadata={"description": "the order of the columns"})
    jacobian = fields.List(fields.List(fields.Nested(Symbolic)), required=True,
                           metadata={"description": "rows follow `expressions`, "
                                                    "columns `variables`"})
    at = fields.Nested(JacobianAt, metadata={"description": "with `point`"})
    batch = fields.Nested(JacobianBatch, metadata={"description": "with `points`"})
    check = fields.Nested(MatrixCheck, metadata={"description": "with `check: true`"})
    warnings = _warnings()


# --- /v1/hessian ------------------------------------------------------------------------

class HessianAt(Schema):
    point = _point()
    hessian = fields.Nested(Matrix, required=True)
    eigenvalues = fields.List(fields.Float(), required=True, allow_none=True, metadata={
        "description": "ascending; null when an entry of the Hessian is null or an "
                       "eigenvalue is too large for a float64 (see warnings)"})
    definiteness = _nullable_enum("Definiteness", "null when `eigenvalues` is null")
    critical_point = fields.Boolean(required=True, allow_none=True, metadata={
        "description": "whether the gradient vanishes (exactly at an exact point)"})
    classification = _nullable_enum("Classification", "null unless at a critical point")


class HessianBatch(Schema):
    hessian = _numbers(depth=3, required=True, description="one matrix per point")


class HessianResponse(Schema):
    variables = fields.List(fields.String(), required=True)
    hessian = fields.List(fields.List(fields.Nested(Symbolic)), required=True)
    at = fields.Nested(HessianAt, metadata={"description": "with `point`"})
    batch = fields.Nested(HessianBatch, metadata={"description": "with `points`"})
    check = fields.Nested(MatrixCheck, metadata={"description": "with `check: true` "
                                                 "(differences of the gradient)"})
    warnings = _warnings()


# --- /v1/gradient-descent ---------------------------------------------------------------

class OptimizerUsed(Schema):
    name = fields.String(required=True, validate=validate.OneOf(OPTIMIZER_NAMES))
    learning_rate = fields.Float(required=True)
    hyperparameters = fields.Dict(keys=fields.String(), values=fields.Float(), required=True,
                                  metadata={"description": "every knob, defaults filled in",
                                            "example": {"beta1": 0.9, "beta2": 0.999,
                                                        "epsilon": 1e-8}})


class TraceEntry(Schema):
    iteration = fields.Integer(required=True, metadata={
        "description": "number of updates made (0 is `start`)"})
    point = fields.List(fields.Float(), required=True,
                        metadata={"description": "aligned with `variables`"})
    value = fields.Float(required=True)
    gradient = fields.List(fields.Float(), required=True)
    gradient_norm = fields.Float(required=True)


class DescentOutcome(Schema):
    point = fields.Dict(keys=fields.String(), values=fields.Float(), required=True,
                        metadata={"description": "the last iterate, name -> float64",
                                  "example": {"x": 1.0, "y": 1.0}})
    value = fields.Float(required=True)
    gradient_norm = fields.Float(required=True)
    iterations = fields.Integer(required=True, metadata={"description": "updates made"})
    converged = fields.Boolean(required=True)
    stop_reason = fields.String(
        required=True, validate=validate.OneOf(list(STOP_MESSAGES)),
        metadata={"description": "; ".join(f"{k}: {v}" for k, v in STOP_MESSAGES.items())},
    )


class GradientDescentResponse(Schema):
    variables = fields.List(fields.String(), required=True,
                            metadata={"description": "the parameters, in order"})
    gradient = fields.List(fields.Nested(Symbolic), required=True,
                           metadata={"description": "the gradient of `expression` (one "
                                                    "sample's loss with `data`)"})
    optimizer = fields.Nested(OptimizerUsed, required=True)
    trace = fields.List(fields.Nested(TraceEntry), required=True, metadata={
        "description": "iteration 0, every `record_every`-th iteration and the last one"})
    result = fields.Nested(DescentOutcome, required=True)
    warnings = _warnings()


# --- GET endpoints ----------------------------------------------------------------------

class FunctionInfo(Schema):
    name = fields.String(required=True, metadata={"example": "atan2"})
    signature = fields.String(required=True, metadata={"example": "atan2(y, x)"})
    min_arguments = fields.Integer(required=True)
    max_arguments = fields.Integer(required=True, allow_none=True,
                                   metadata={"description": "null: any number"})
    description = fields.String(required=True)


class ConstantInfo(Schema):
    name = fields.String(required=True, metadata={"example": "pi"})
    description = fields.String(required=True)


class FunctionsResponse(Schema):
    functions = fields.List(fields.Nested(FunctionInfo), required=True)
    constants = fields.List(fields.Nested(ConstantInfo), required=True)


class HealthResponse(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


class ReadinessResponse(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ready", "not ready"]))
    detail = fields.String(required=True)


# --- errors -----------------------------------------------------------------------------

class ProblemFieldError(Schema):
    field = fields.String(required=True, metadata={
        "description": "JSON-pointer-like path of the field (`expression`, `point/y`, "
                       "`expressions/2`); empty for the body as a whole",
        "example": "expression"})
    message = fields.String(required=True)
    position = fields.Integer(metadata={
        "description": "0-based character offset in the expression where parsing failed",
        "example": 0})


class Problem(Schema):
    """An RFC 9457 problem detail: every error, with the fields at fault."""

    type = fields.String(required=True, metadata={
        "description": "urn:gradient-service:problem:<slug>",
        "example": "urn:gradient-service:problem:invalid-expression"})
    title = fields.String(required=True, metadata={"example": "Invalid expression"})
    status = fields.Integer(required=True, metadata={"example": 422})
    detail = fields.String(required=True, metadata={
        "example": "unknown function 'sinn' at position 0; did you mean 'sin'?"})
    errors = fields.List(fields.Nested(ProblemFieldError), required=True)
