"""Step-by-step derivations (`steps: true` on /v1/derivative and /v1/gradient).

The rules each textbook example needs are written out by hand; every step's result is
checked against SymPy's own derivative of the step's expression, and the last step's
result against the derivative the endpoint returns (random expressions too).
"""

from __future__ import annotations

import math
import random
import time

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.calculus import engine, steps
from service.calculus.cache import STAGES
from service.config import Limits
from service.expressions import parse, symbol


def ok(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def read(text: str) -> sympy.Expr:
    return parse(text, Limits()).expr


def equal(a: str | sympy.Expr, b: str | sympy.Expr, within: str | None = None) -> bool | None:
    """Mathematically equal: the difference expands to 0, or the two agree at random points.

    With ``within`` (the function differentiated), only points where every part of it is
    real count: the rules of real calculus hold there (outside, abs'(u) = sign(u) fails).
    None when too few points could be compared to tell.
    """
    a = read(a) if isinstance(a, str) else a
    b = read(b) if isinstance(b, str) else b
    difference = a - b
    if difference == 0 or sympy.expand(difference) == 0:
        return True
    parts = list(sympy.preorder_traversal(read(within))) if within else []
    rng = random.Random(7)
    symbols = sorted(difference.free_symbols | {s for p in parts for s in p.free_symbols},
                     key=lambda s: s.name)
    checked = 0
    for i in range(30):
        scale = (1.8, 12.0, 100.0)[i % 3]
        values = {s: sympy.Float(rng.uniform(0.1, scale) * rng.choice((-1, 1)), 30)
                  for s in symbols}
        if not all(_real(p, values) for p in parts):
            continue
        u, v = _value(a, values), _value(b, values)
        if u is None or v is None:
            continue
        if abs(u - v) > 1e-9 * max(1.0, abs(u), abs(v)):
            return False
        checked += 1
        if checked >= 3:
            return True
    return None


def _value(expr: sympy.Expr, values: dict) -> complex | None:
    try:
        value = complex(expr.xreplace(values).evalf(30))
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(abs(value)) else None


def _real(part: sympy.Basic, values: dict) -> bool:
    if not isinstance(part, sympy.Expr):
        return True
    value = _value(part, values)
    return value is not None and value.imag == 0


def d(expr: sympy.Expr, variable: str) -> sympy.Expr:
    """SymPy's derivative with spikes (DiracDelta) at 0, as the service defines it."""
    result = sympy.diff(expr, symbol(variable))
    return result.replace(lambda e: isinstance(e, sympy.DiracDelta), lambda e: sympy.S.Zero)


def shape(step: dict):
    """(rule, [shapes of substeps]): the rules a derivation applied, as a nested tuple."""
    return (step["rule"], [shape(s) for s in step["substeps"]])


def walk(step: dict, outer: bool = False):
    """Every step, with whether it is a chain rule's outer function (its result is the
    outer derivative at the inner function, not a derivative by the variable)."""
    yield step, outer
    for i, sub in enumerate(step["substeps"]):
        yield from walk(sub, outer=step["rule"] == "chain" and i == 0)


def assert_every_step_is_right(top: dict, variable: str) -> None:
    for step, outer in walk(top):
        assert set(step) >= {"rule", "expression", "result", "latex", "substeps"}
        assert set(step["latex"]) == {"expression", "result"}
        if not outer:
            expected = d(read(step["expression"]), variable)
            assert equal(step["result"], expected, within=step["expression"]), step


def derivative_steps(post, expression: str, variable: str, **extra) -> dict:
    return ok(post("/v1/derivative", {"expression": expression, "variable": variable,
                                      "steps": True, **extra}))


# -- textbook examples, the rules written by hand ----------------------------------------

TEXTBOOK = [
    # the chain rule: outer power rule, inner sum (3x^2 by the constant multiple rule)
    ("(3x^2+2)^5", "x", ("chain", [("power", []), ("sum", [
        ("constant multiple", [("power", [])]), ("constant", [])])])),
    ("x^2*sin(x)", "x", ("product", [("power", []), ("sin", [])])),
    ("sin(x)/x", "x", ("quotient", [("sin", []), ("variable", [])])),
    ("(x+1)/(x-1)", "x", ("quotient", [("sum", [("variable", []), ("constant", [])]),
                                        ("sum", [("variable", []), ("constant", [])])])),
    ("x*exp(x)", "x", ("product", [("variable", []), ("exp", [])])),
    ("exp(2x)", "x", ("chain", [("exp", []), ("constant multiple", [("variable", [])])])),
    ("sin(x^2)", "x", ("chain", [("sin", []), ("power", [])])),
    ("sqrt(x)", "x", ("sqrt", [])),
    ("sqrt(1 + x^2)", "x", ("chain", [("sqrt", []), ("sum", [("power", []),
                                                             ("constant", [])])])),
    ("1/x", "x", ("power", [])),
    ("3x^4", "x", ("constant multiple", [("power", [])])),
    ("5", "x", ("constant", [])),
    ("x", "x", ("variable", [])),
    ("x - 7", "x", ("sum", [("variable", []), ("constant", [])])),
    ("2^x", "x", ("exponential", [])),
    ("x^x", "x", ("general power", [("variable", []), ("variable", [])])),
    ("log(x)", "x", ("log", [])),
    ("log(x, 3)", "x", ("constant multiple", [("log", [])])),
    ("log(cos(x))", "x", ("chain", [("log", []), ("cos", [])])),
    ("tan(x)", "x", ("tan", [])),
    ("asin(x)", "x", ("asin", [])),
    ("atan(x)", "x", ("atan", [])),
    ("cosh(x)", "x", ("cosh", [])),
    ("tanh(x)", "x", ("tanh", [])),
    ("erf(x)", "x", ("erf", [])),
    ("cbrt(x)", "x", ("cbrt", [])),
    ("abs(x)", "x", ("abs", [])),
    ("sigmoid(x)", "x", ("sigmoid", [])),
    ("softplus(x)", "x", ("softplus", [])),
    ("relu(x)", "x", ("relu", [])),
    ("heaviside(x)", "x", ("heaviside", [])),
    ("sigmoid(w*x)", "w", ("chain", [("sigmoid", []), ("constant multiple",
                                                       [("variable", [])])])),
    ("max(x, 0)", "x", ("max", [("variable", [])])),
    ("atan2(y, x)", "x", ("atan2", [("variable", [])])),
]


@pytest.mark.parametrize("expression, variable, rules", TEXTBOOK,
                         ids=[row[0] for row in TEXTBOOK])
def test_textbook_rules(post, expression, variable, rules):
    body = derivative_steps(post, expression, variable)
    assert len(body["steps"]) == 1
    top = body["steps"][0]
    assert shape(top) == rules
    assert top["variable"] == variable and top["order"] == 1
    assert_every_step_is_right(top, variable)
    assert equal(top["result"], body["derivative"]["expression"])
    assert equal(top["expression"], expression)


def test_chain_rule_names_the_inner_function(post):
    top = derivative_steps(post, "(3x^2+2)^5", "x")["steps"][0]
    outer, inner = top["substeps"]
    assert inner["expression"] == "3*x^2 + 2" and inner["result"] == "6*x"
    assert outer["result"] == "5*(3*x^2 + 2)^4"
    assert "at u = 3*x^2 + 2" in outer["note"]
    assert top["result"] == "30*x*(3*x^2 + 2)^4"
    assert top["latex"]["result"] == r"30 x \left(3 x^{2} + 2\right)^{4}"


def test_quotient_rule_in_textbook_form(post):
    # SymPy stores sin(x)/x as sin(x)*x^-1: the steps show (f' g - f g') / g^2
    top = derivative_steps(post, "sin(x)/x", "x")["steps"][0]
    assert top["result"] == "(x*cos(x) - sin(x))/x^2"
    numerator, denominator = top["substeps"]
    assert (numerator["expression"], denominator["expression"]) == ("sin(x)", "x")


def test_mse_loss_by_w_holds_the_others_constant(post):
    body = derivative_steps(post, "(w*x + b - y)^2", "w")
    top = body["steps"][0]
    assert top["held_constant"] == ["b", "x", "y"]
    assert shape(top) == ("chain", [("power", []), ("sum", [
        ("constant", []), ("constant multiple", [("variable", [])]), ("constant", [])])])
    terms = {s["expression"]: s for s in top["substeps"][1]["substeps"]}
    assert terms["w*x"]["note"].endswith("x is held constant")
    assert terms["b"]["note"].endswith("b is held constant")
    assert terms["-y"]["note"].endswith("y is held constant")
    assert top["result"] == "2*x*(b + w*x - y)"
    assert equal(top["result"], body["derivative"]["expression"])


def test_mse_loss_by_b_holds_the_others_constant(post):
    body = derivative_steps(post, "(w*x + b - y)^2", "b")
    top = body["steps"][0]
    assert top["held_constant"] == ["w", "x", "y"]
    terms = {s["expression"]: s for s in top["substeps"][1]["substeps"]}
    assert terms["b"]["rule"] == "variable"
    assert terms["w*x"]["rule"] == "constant"
    assert terms["w*x"]["note"].endswith("w and x are held constant")
    assert equal(top["result"], body["derivative"]["expression"])
    assert_every_step_is_right(top, "b")


def test_gradient_steps_are_aligned_with_the_variables(post):
    body = ok(post("/v1/gradient", {"expression": "(w*x + b - y)^2", "variables": ["w", "b"],
                                    "steps": True}))
    assert len(body["steps"]) == 2
    for variable, partial, explained in zip(body["variables"], body["gradient"], body["steps"]):
        assert len(explained) == 1
        top = explained[0]
        assert top["variable"] == variable
        assert variable not in top["held_constant"]
        assert equal(top["result"], partial["expression"])
    # entry i is what /v1/derivative says for variable i
    alone = derivative_steps(post, "(w*x + b - y)^2", "b")["steps"]
    assert body["steps"][1] == alone


def test_kinks_are_noted(post):
    top = derivative_steps(post, "abs(x)", "x")["steps"][0]
    assert "does not exist at x = 0" in top["note"]
    top = derivative_steps(post, "heaviside(x - 1)", "x")["steps"][0]
    assert top["result"] == "0"
    assert "does not exist" in top["substeps"][0]["note"]


def test_higher_order_gives_steps_for_each_successive_derivative(post):
    body = derivative_steps(post, "x^3*sin(x)", "x", order=3)
    assert [s["order"] for s in body["steps"]] == [1, 2, 3]
    for before, after in zip(body["steps"], body["steps"][1:]):
        assert equal(after["expression"], before["result"])
    assert equal(body["steps"][-1]["result"], body["derivative"]["expression"])
    for top in body["steps"]:
        assert_every_step_is_right(top, "x")


def test_steps_are_off_by_default_and_strictly_boolean(post):
    body = ok(post("/v1/derivative", {"expression": "x^2", "variable": "x"}))
    assert "steps" not in body
    for value in (1, "true", "yes", None):
        response = post("/v1/derivative", {"expression": "x^2", "variable": "x",
                                           "steps": value})
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["field"] == "steps"


def test_steps_sit_next_to_values(post):
    body = derivative_steps(post, "x^2", "x", point={"x": 3}, points=[[1], [2]])
    assert body["at"]["value"]["exact"] == "6"
    assert body["batch"]["values"] == [2.0, 4.0]
    assert body["steps"][0]["result"] == "2*x"


# -- the bound on a derivation's size --------------------------------------------------

def count(step: dict) -> int:
    return 1 + sum(count(s) for s in step["substeps"])


def test_a_long_derivation_is_cut_and_stays_right():
    expr = read(" + ".join(f"sin({i}*x)^2" for i in range(1, 30)))
    explained, warnings = steps.explain(expr, [symbol("x")], max_steps=20)
    top = explained[0][0]
    rules = [s["rule"] for s, _ in walk(top)]
    assert steps.NOT_EXPANDED in rules
    assert count(top) <= 20 + 5  # a few not-expanded leaves where the walk was cut
    assert any("longer than 20 steps" in w for w in warnings)
    assert equal(top["result"], engine.differentiate(expr, symbol("x")).expr)


def test_the_cap_is_shared_by_all_partials():
    expr = read("x*y*z + sin(x*y*z)")
    explained, _ = steps.explain(expr, [symbol(n) for n in "xyz"], max_steps=12)
    assert sum(count(e[0]) for e in explained) <= 12 + 5
    for name, e in zip("xyz", explained):
        assert equal(e[0]["result"], engine.differentiate(expr, symbol(name)).expr)


def test_steps_cost_a_small_multiple_of_differentiation():
    expr = read(" + ".join(f"sin({i}*x*y)^2*exp(-x/{i + 1})" for i in range(1, 30)))
    STAGES.clear()
    start = time.perf_counter()
    from service.calculus.operations import symbolic
    symbolic(engine.differentiate(expr, symbol("x")).expr)
    plain = time.perf_counter() - start
    start = time.perf_counter()
    steps.explain(expr, [symbol("x")])
    explained = time.perf_counter() - start
    assert explained < 15 * plain + 0.5, (explained, plain)


# -- the check that steps end in the derivative ---------------------------------------

def test_agrees_tells_equal_from_different():
    x = symbol("x")
    assert steps.agrees((x * sympy.cos(x) - sympy.sin(x)) / x**2,
                        sympy.cos(x) / x - sympy.sin(x) / x**2) is True
    assert steps.agrees(x**2, 2 * x) is False
    assert steps.agrees(sympy.sin(x)**2 + sympy.cos(x)**2, sympy.S.One) is True
    assert steps.agrees(sympy.S(2), sympy.S(3)) is False


# -- random expressions: the last step is the derivative -------------------------------

UNARY = ["sin", "cos", "exp", "tanh", "atan", "sigmoid", "softplus", "log", "sqrt", "abs",
         "relu", "cbrt", "erf", "asinh"]


def _extend(children):
    return st.one_of(
        st.tuples(st.sampled_from(UNARY), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^"]), children)
        .map(lambda t: f"({t[0]}){t[1]}({t[2]})" if t[1] != "^" else f"({t[0]})^({t[2]})"),
        st.tuples(children, st.integers(-3, 4)).map(lambda t: f"({t[0]})^{t[1]}"),
        st.tuples(st.sampled_from(["max", "min", "atan2"]), children, children)
        .map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
    )


expressions = st.recursive(st.sampled_from(["x", "y", "2", "1/3", "pi", "x", "y"]), _extend,
                           max_leaves=6)
RANDOM = settings(max_examples=60, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture,
                                         HealthCheck.too_slow])


@RANDOM
@given(expressions)
def test_random_derivative_steps_end_in_the_derivative(post, expression):
    response = post("/v1/derivative", {"expression": expression, "variable": "x",
                                       "steps": True})
    if response.status_code == 422:  # e.g. a result the grammar cannot write
        return
    body = ok(response)
    assert not [w for w in body.get("warnings", []) if w.startswith("steps for")]
    top = body["steps"][0]
    verdict = equal(top["result"], body["derivative"]["expression"], within=expression)
    assert verdict is not False


@RANDOM
@given(expressions)
def test_random_gradient_steps_end_in_each_partial(post, expression):
    response = post("/v1/gradient", {"expression": expression, "variables": ["x", "y"],
                                      "steps": True})
    if response.status_code == 422:
        return
    body = ok(response)
    assert not [w for w in body.get("warnings", []) if w.startswith("steps")]
    for partial, explained in zip(body["gradient"], body["steps"]):
        verdict = equal(explained[0]["result"], partial["expression"], within=expression)
        assert verdict is not False
