"""Property-based fuzzing (hypothesis) of the parser and of every endpoint's JSON.

- The parser, on text from the grammar's alphabet mixed with junk: it returns an expression
  or raises one of the service's own errors (with a position when it is a syntax error);
  and an expression it returns prints as text that parses back to the same expression.
- Every endpoint, on bodies whose fields take plausible values or arbitrary JSON: never a
  500, never NaN or Infinity in a body, always problem+json for a 4xx, and /healthz right
  after.

Bounded (and derandomized, so CI sees the same examples each run) to keep the suite
short; ``fuzz/parser_fuzz.py`` runs a long campaign on the parser with atheris.
"""

from __future__ import annotations

import cmath
import json

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from hardening_support import ENDPOINTS, check_answer, check_healthy, post_raw

from service.compute import Computer
from service.config import Limits
from service.errors import ExpressionError, LimitExceeded, ServiceError, TimeBudgetExceeded
from service.expressions import UnprintableExpression, parse, to_text

FUZZ = settings(max_examples=150, derandomize=True, database=None, deadline=None,
                suppress_health_check=list(HealthCheck))
ENDPOINT_FUZZ = settings(FUZZ, max_examples=60)

# -- text --------------------------------------------------------------------------------

NUMBERS = ["0", "1", "2", "10", "2.5", ".5", "1.", "1e3", "1e-3", "1E+2", "007",
           "123456789012345678901234567890", "0.000000001", "9" * 99]
NAMES = ["x", "y", "z", "e", "pi", "w1", "_", "lambda", "I", "oo", "xy", "sin_"]
FUNCTIONS = ["sin(", "cos(", "tan(", "exp(", "log(", "ln(", "sqrt(", "cbrt(", "abs(",
             "atan2(", "max(", "min(", "sign(", "heaviside(", "sigmoid(", "relu(",
             "softplus(", "erf(", "acosh(", "log10(", "sinn(", "f("]
OPERATORS = ["+", "-", "*", "/", "^", "**", "(", ")", ",", " ", "\t"]
JUNK = ["[", "]", "!", "=", "|", "'", "\"", ".", "×", "²", "−", "\x00", "\u200f", "ä", "𝐱",
        "__import__", "#", ";", "{", "@", "\\", "1e999999999", "e", "E"]
TOKENS = NUMBERS + NAMES + FUNCTIONS + OPERATORS + JUNK

token_text = st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)
any_text = st.text(max_size=40)
expression_text = st.one_of(token_text, token_text, any_text)


def _leaf():
    return st.one_of(st.sampled_from(NUMBERS[:8]), st.sampled_from(NAMES))


def _combine(parts):
    unary = st.builds(lambda f, a: f"{f}{a})", st.sampled_from(FUNCTIONS[:19]), parts)
    binary = st.builds(lambda a, op, b: f"({a}){op}({b})", parts,
                       st.sampled_from(["+", "-", "*", "/", "^"]), parts)
    return st.one_of(unary, binary, st.builds(lambda a: f"-{a}", parts))


grammar_text = st.recursive(_leaf(), _combine, max_leaves=8)


SIZE_LIMITS = {Limits.env_var(name) for name in
               ("max_expression_length", "max_expression_nodes", "max_nesting_depth")}
# Answers are read back with twice the number limits: the parser's size estimates depend on
# how an expression is written (a product of radicals counts the sum of their radicands).
REREAD_LIMITS = Limits(max_integer_digits=200, max_number_digits=2_000, max_exponent=20_000)


def round_trip(text: str) -> str:
    """In the computation process: parse, print, parse again; the outcome's name."""
    limits = Limits()
    try:
        parsed = parse(text, limits)
    except ExpressionError as error:
        assert isinstance(error.position, int) and 0 <= error.position <= len(text), error
        return "syntax error"
    except ServiceError as error:
        return type(error).__name__
    names = sorted(parsed.names)
    try:
        printed = to_text(parsed.expr, names)
    except UnprintableExpression:
        return "unprintable"
    try:
        again = parse(printed, REREAD_LIMITS, variables=names).expr
    except LimitExceeded as error:  # an answer may be longer than a request may be
        assert error.env_var in SIZE_LIMITS, (text, printed, error)
        return "longer than a request"
    assert _same_function(again, parsed.expr), (text, printed, again, parsed.expr)
    return "round trip"


def _same_function(a, b) -> bool:
    """Equal as trees, or as functions: SymPy may regroup what it reads back (``-(x+1)/x``
    is built as ``(-x - 1)/x``)."""
    if a == b or sympy.expand(a - b) == 0:
        return True
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    for point in ([0.3] * len(symbols), [1.7] * len(symbols),
                  [0.5 + i / 7 for i in range(len(symbols))]):
        values = dict(zip(symbols, point))
        x, y = complex(a.evalf(30, subs=values)), complex(b.evalf(30, subs=values))
        if cmath.isnan(x) and cmath.isnan(y):
            continue
        if not cmath.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
            return False
    return True


COMPUTER = Computer(Limits(time_budget_seconds=5))


def _check_text(text: str) -> None:
    try:
        COMPUTER.run(round_trip, text)
    except TimeBudgetExceeded:
        pass  # a clean 422 for the service; the atheris campaign reports slow inputs


@FUZZ
@given(expression_text)
def test_the_parser_takes_any_text(text):
    _check_text(text)


@FUZZ
@given(grammar_text)
def test_parsed_expressions_print_as_text_that_parses_back(text):
    _check_text(text)


# -- JSON bodies ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
small_expression = st.one_of(grammar_text, token_text)
names = st.lists(st.sampled_from(NAMES + ["sin", "", "1x", "a b"]), max_size=4)
coordinate = st.one_of(st.integers(-10, 10), st.floats(-1e3, 1e3),
                       st.sampled_from(["1/3", "pi/4", "sqrt(2)", "-1", "e", "x", "1/0", "I"]))
point = st.one_of(st.lists(coordinate, max_size=4),
                  st.dictionaries(st.sampled_from(NAMES[:4]), coordinate, max_size=4))

PLAUSIBLE = {
    "expression": small_expression,
    "expressions": st.lists(small_expression, max_size=4),
    "variable": st.sampled_from(NAMES + ["sin", ""]),
    "variables": names,
    "constants": st.dictionaries(st.sampled_from(["c", "k", "e", "pi", "x", "log"]),
                                 coordinate, max_size=3),
    "point": point,
    "points": st.lists(point, max_size=5),
    "order": st.integers(-1, 60),
    "steps": st.booleans(),
    "check": st.booleans(),
    "start": point,
    "optimizer": st.sampled_from(["gd", "momentum", "nesterov", "adagrad", "rmsprop",
                                  "adam", "newton", "sgd"]),
    "learning_rate": st.floats(-1, 100, allow_nan=False),
    "hyperparameters": st.dictionaries(st.sampled_from(["momentum", "beta1", "beta2",
                                                        "epsilon", "decay", "rho"]),
                                       st.floats(-1, 2), max_size=3),
    "max_iterations": st.integers(-1, 2_000),
    "tolerance": st.floats(-1, 1),
    "record_every": st.integers(0, 50),
    "data": st.dictionaries(st.sampled_from(["x", "y", "t", "w"]),
                            st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6),
                            max_size=3),
    "reduction": st.sampled_from(["mean", "sum", "max"]),
    "batch_size": st.integers(0, 8),
    "seed": st.integers(-1, 2**64),
    "regularization": st.dictionaries(st.sampled_from(["l1", "l2", "l3"]),
                                      st.floats(-1, 10), max_size=2),
    "direction": point,
    "normalize": st.booleans(),
    # POST /v1/plot (a small grid and dpi keep a picture cheap; past the limits, a 422)
    "format": st.sampled_from(["svg", "png", "jpeg"]),
    "size": st.lists(st.floats(0, 30), min_size=1, max_size=3),
    "dpi": st.integers(0, 400),
    "grid": st.integers(0, 40),
    "range": st.one_of(st.lists(st.floats(-1e3, 1e3), max_size=3),
                       st.dictionaries(st.sampled_from(NAMES[:4]),
                                       st.lists(st.floats(-1e3, 1e3), max_size=3), max_size=3)),
    "tangent": st.booleans(),
    "derivatives": st.lists(st.integers(0, 3), max_size=3),
    "gradient_field": st.booleans(),
    "critical_points": st.booleans(),
    "optimizers": st.lists(st.one_of(
        st.sampled_from(["gd", "adam", "newton", "sgd"]),
        st.fixed_dictionaries({"optimizer": st.sampled_from(["momentum", "rmsprop", "x"])},
                              optional={"learning_rate": st.floats(-1, 10)})), max_size=3),
    "loss_panel": st.booleans(),
}
FIELDS = {
    "/v1/derivative": ["expression", "variable", "order", "point", "points", "constants",
                       "steps"],
    "/v1/gradient": ["expression", "variables", "point", "points", "constants", "steps",
                     "check"],
    "/v1/jacobian": ["expressions", "variables", "point", "points", "constants", "check"],
    "/v1/hessian": ["expression", "variables", "point", "points", "constants", "check"],
    "/v1/gradient-descent": ["expression", "variables", "start", "optimizer", "learning_rate",
                             "hyperparameters", "max_iterations", "tolerance", "record_every",
                             "constants", "data", "reduction", "batch_size", "seed",
                             "regularization"],
    "/v1/directional-derivative": ["expression", "variables", "constants", "point",
                                   "direction", "normalize"],
    "/v1/taylor": ["expression", "variables", "constants", "point", "order"],
}
PICTURE = ["format", "size", "dpi", "grid"]
PLOT_KINDS = {
    "function": ["expression", "variable", "constants", "range", "point", "tangent",
                 "derivatives", *PICTURE],
    "contour": ["expression", "variables", "constants", "range", "gradient_field",
                "critical_points", *PICTURE],
    "descent": [*FIELDS["/v1/gradient-descent"], "optimizers", "loss_panel", "range",
                *PICTURE],
}


REQUIRED = {"expression", "expressions", "variable", "start"}
LEARNING_REQUIRED = {"/v1/directional-derivative": {"point", "direction"},
                     "/v1/taylor": {"point", "order"}}


def _mostly(plausible):
    return st.integers(0, 5).flatmap(lambda i: json_values if i == 0 else plausible)


def bodies(path: str):
    """Required fields always (so that most bodies get past validation), others at times;
    each plausible five times in six, arbitrary JSON otherwise."""
    return _bodies(FIELDS[path], REQUIRED | LEARNING_REQUIRED.get(path, set()))


def _bodies(names, required_names=REQUIRED, **fixed):
    fields = {name: _mostly(PLAUSIBLE[name]) for name in names}
    required = {name: fields.pop(name) for name in list(fields) if name in required_names}
    return st.fixed_dictionaries({**fixed, **required}, optional=fields)


def plot_bodies():
    """A body of each kind of picture, its kind mostly right (else another's, or junk)."""
    return st.one_of(*(_bodies(names, kind=_mostly(st.just(kind)))
                       for kind, names in PLOT_KINDS.items()))


#: Each endpoint's bodies (fuzz/endpoints_fuzz.py runs long campaigns of them).
BODIES = {**{path: bodies(path) for path in FIELDS}, "/v1/plot": plot_bodies()}
IMAGE_TYPES = {"image/svg+xml", "image/png"}


def _encode(body) -> bytes:
    return json.dumps(body).encode()  # json: integers of any size


def fuzz_endpoint(client, path: str, body) -> int:
    """POST ``body``: the answer keeps the contract (a picture for a 200 from /v1/plot),
    and /healthz answers right after. Returns the status."""
    response = post_raw(client, path, _encode(body))
    if path == "/v1/plot" and response.status_code == 200:
        assert response.mimetype in IMAGE_TYPES, response.content_type
        assert response.get_data(), "an empty picture"
    else:
        check_answer(response)
    check_healthy(client, compute=False)
    return response.status_code


@pytest.mark.parametrize("path", list(BODIES))
@ENDPOINT_FUZZ
@given(data=st.data())
def test_every_endpoint_takes_any_json(hard_client, path, data):
    fuzz_endpoint(hard_client, path, data.draw(BODIES[path], label="body"))


@ENDPOINT_FUZZ
@given(st.sampled_from(ENDPOINTS), st.binary(max_size=200),
       st.sampled_from(["application/json", "text/plain", None, "application/xml"]))
def test_every_endpoint_takes_any_bytes(hard_client, path, data, content_type):
    check_answer(post_raw(hard_client, path, data, content_type))
    check_healthy(hard_client, compute=False)


def test_the_fields_fuzzed_are_the_schemas_fields():
    from test_malformed import SCHEMAS

    from service.api.learning_schemas import DirectionalDerivativeRequest, TaylorRequest
    from service.api.plot_schemas import KIND_SCHEMAS

    schemas = {**SCHEMAS, "/v1/directional-derivative": DirectionalDerivativeRequest,
               "/v1/taylor": TaylorRequest}
    assert set(schemas) <= set(FIELDS)
    for path, schema in schemas.items():
        assert set(FIELDS[path]) == set(schema().fields), path
    for kind, schema in KIND_SCHEMAS.items():
        assert {"kind", *PLOT_KINDS[kind]} == set(schema().fields), kind
