"""Points where a function is undefined, complex or infinite; names that collide.

A value that is not a finite real number is null with a warning naming the entry and why
(never NaN or Infinity in the body: ``check_answer`` reads every body with a strict JSON
parser). Duplicate names are refused; reserved-looking names are plain variables; a
variable named ``e`` or ``pi`` never makes an answer ambiguous.
"""

from __future__ import annotations

import mpmath
import pytest

# (path, request, where the null is, what the warning says)
AT_A_POINT = [
    ("/v1/derivative", {"expression": "log(x)", "variable": "x", "point": {"x": 0}},
     ["at", "value"], "undefined"),
    ("/v1/derivative", {"expression": "log(x)", "variable": "x", "point": {"x": -1}},
     ["at", "value"], "undefined"),
    ("/v1/derivative", {"expression": "log(x)", "variable": "x", "point": {"x": -0.5}},
     ["at", "value"], "undefined"),
    ("/v1/gradient", {"expression": "1/x", "point": [0]}, ["at", "value"], "infinite"),
    ("/v1/gradient", {"expression": "1/x", "point": [0.0]}, ["at", "value"], "infinite"),
    ("/v1/gradient", {"expression": "sqrt(x)", "point": [-1]}, ["at", "value"], "complex"),
    ("/v1/gradient", {"expression": "sqrt(x)", "point": [-1.5]}, ["at", "value"], "complex"),
    ("/v1/gradient", {"expression": "asin(x)", "point": [2]}, ["at", "value"], "complex"),
    ("/v1/gradient", {"expression": "acosh(x)", "point": ["1/2"]}, ["at", "value"], "complex"),
    ("/v1/gradient", {"expression": "atanh(x)", "point": [1]}, ["at", "value"], "infinite"),
    ("/v1/gradient", {"expression": "tan(x)", "point": ["pi/2"]}, ["at", "value"], "infinite"),
    ("/v1/gradient", {"expression": "x^y", "point": [-8, "1/3"]}, ["at", "value"], "complex"),
    ("/v1/gradient", {"expression": "exp(x)", "point": [1000]}, ["at", "value"], "float64"),
    ("/v1/gradient", {"expression": "abs(x)", "point": [0]}, ["at", "gradient"], "not exist"),
    ("/v1/hessian", {"expression": "log(x*y)", "point": [-1, 1]}, ["at", "hessian"],
     "undefined"),
    ("/v1/jacobian", {"expressions": ["1/x", "log(y)"], "point": [0, -1]}, ["at", "value"],
     "infinite"),
]


def _dig(body, path):
    for key in path:
        body = body[key]
    return body


def _nulls(value) -> bool:
    if isinstance(value, dict):
        return _nulls(value["numeric"])
    if isinstance(value, list):
        return any(_nulls(v) for v in value)
    return value is None


@pytest.mark.parametrize("path, body, where, why", AT_A_POINT,
                         ids=[f"{p}:{b.get('expression') or b['expressions']}:{b['point']}"
                              for p, b, _, _ in AT_A_POINT])
def test_a_value_that_is_not_a_finite_real_is_null_with_a_warning(survive, path, body, where,
                                                                   why):
    status, answer = survive(path, body, compute=False)
    assert status == 200, answer
    assert _nulls(_dig(answer, where)), answer
    assert any(why in warning for warning in answer["warnings"]), answer["warnings"]


@pytest.mark.parametrize("path, body", [
    ("/v1/derivative", {"expression": "log(x)", "variable": "x"}),
    ("/v1/gradient", {"expression": "log(x) + sqrt(y)"}),
    ("/v1/jacobian", {"expressions": ["1/x", "asin(y)"]}),
    ("/v1/hessian", {"expression": "log(x)*sqrt(y)"}),
])
def test_batches_null_the_bad_points_and_keep_the_good_ones(survive, path, body):
    points = [[1, 0.25], [0, 0], [-1, -1], [1e308, 1e308], [-1e-308, 2], [0.5, 4]]
    if path == "/v1/derivative":
        points = [[p[0]] for p in points]
    status, answer = survive(path, {**body, "points": points}, compute=False)
    assert status == 200, answer
    assert answer["warnings"], answer
    flat = str(answer["batch"])
    assert "None" in flat and "nan" not in flat.lower() and "inf" not in flat.lower()


def test_a_descent_that_diverges_is_an_answer_and_one_that_cannot_start_is_a_422(survive):
    status, answer = survive("/v1/gradient-descent", {
        "expression": "-x^4", "start": [1], "learning_rate": 10, "max_iterations": 100})
    assert status == 200 and answer["result"]["stop_reason"] == "diverged"
    status, problem = survive("/v1/gradient-descent", {"expression": "log(x)", "start": [-1]})
    assert status == 422 and problem["errors"][0]["field"] == "start"


@pytest.mark.parametrize("path, body, field", [
    ("/v1/gradient", {"expression": "x*y", "variables": ["x", "x"]}, "variables/1"),
    ("/v1/gradient", {"expression": "x*y", "variables": ["x", "y"], "constants": {"y": 2}},
     "variables/1"),
    ("/v1/derivative", {"expression": "x*y", "variable": "y", "constants": {"y": 2}},
     "variable"),
    ("/v1/gradient", {"expression": "x", "variables": ["x", "1x"]}, "variables/1"),
    ("/v1/gradient", {"expression": "x", "variables": ["x", ""]}, "variables/1"),
    ("/v1/gradient", {"expression": "x", "variables": ["x", "x y"]}, "variables/1"),
    ("/v1/gradient", {"expression": "x", "variables": ["x", "log"]}, "variables/1"),
    ("/v1/gradient", {"expression": "x", "constants": {"sqrt": 2}}, "constants/sqrt"),
    ("/v1/gradient-descent", {"expression": "(w*x)^2", "variables": ["w"], "start": [1],
                              "data": {"w": [1]}}, "data/w"),
    ("/v1/gradient-descent", {"expression": "(w*x)^2", "variables": ["w"], "start": [1],
                              "data": {"x": [1]}, "constants": {"x": 1}}, "data/x"),
    ("/v1/gradient", {"expression": "x", "point": {"x": 1, "y": 2}}, "point/y"),
    ("/v1/gradient", {"expression": "x + y", "point": {"x": 1}}, "point/y"),
])
def test_duplicate_and_unusable_names_are_a_422_naming_the_field(survive, path, body, field):
    status, problem = survive(path, body, compute=False)
    assert status == 422 and problem["errors"][0]["field"] == field, problem


@pytest.mark.parametrize("body, expected", [
    # d/de of exp(1)*e is Euler's number: written exp(1), since e is the variable here.
    ({"expression": "exp(1)*e", "variables": ["e"]}, ["exp(1)"]),
    ({"expression": "acos(-1)*pi", "variables": ["pi"]}, ["acos(-1)"]),
    ({"expression": "x*e", "variables": ["e"], "constants": {"x": "e"}}, ["exp(1)"]),
    ({"expression": "e*x"}, ["e"]),  # no variable e: e is the constant
])
def test_a_variable_named_e_or_pi_never_makes_an_answer_ambiguous(survive, body, expected):
    status, answer = survive("/v1/gradient", body, compute=False)
    assert status == 200
    assert [g["expression"] for g in answer["gradient"]] == expected
    # Sent back with the same variables, the answer means what it meant.
    name = answer["variables"][0]
    again = {"expression": expected[0], "variables": [name], "point": [2]}
    status, value = survive("/v1/gradient", again, compute=False)
    assert value["at"]["gradient"]["exact"] == ["0"]  # a constant: its derivative is 0


def test_a_constant_overrides_pi_and_e(survive):
    status, answer = survive("/v1/derivative", {"expression": "pi*x + e^x", "variable": "x",
                                                "constants": {"pi": 3, "e": 2},
                                                "point": {"x": 0}}, compute=False)
    assert status == 200
    assert answer["at"]["value"]["exact"] == "log(2) + 3"


@pytest.mark.parametrize("expression", ["sqk/9112^-091p", ".722^222*x", "x*3^2000",
                                        "x/7^500 - 10^150*y"])
def test_results_with_long_integers_are_valid_input(survive, expression):
    """Found by the atheris campaign: sqk/9112^-091p is 9112^91*p*sqk, whose 361-digit
    coefficient the parser refused as a literal (100 digits at most); long integers are now
    written in a form it reads back, ((a*10^50 + b)*10^50 + c). And .722^222 is (P)/(Q)
    with parts of 568 and 599 digits, which the parser's size guard counted as one number of
    1,167 digits. (x*3^2000 at a point was a 500: the compiled function multiplied a float
    by an integer past float64.)"""
    status, answer = survive("/v1/gradient", {"expression": expression}, compute=False)
    assert status == 200, answer
    names = answer["variables"]
    point = {name: k + 2 for k, name in enumerate(names)}
    for i, partial in enumerate(answer["gradient"]):
        again = {"expression": partial["expression"], "variables": names, "point": point}
        status, value = survive("/v1/gradient", again, compute=False)
        assert status == 200, value
        original = {"expression": expression, "variables": names, "point": point}
        _, expected = survive("/v1/gradient", original, compute=False)
        assert value["at"]["value"] == expected["at"]["gradient"]["numeric"][i] or \
            value["at"]["value"]["exact"] == expected["at"]["gradient"]["exact"][i]


# Dividing by a constant whose float64 value is 0: log(erf(7)) is log(1 - 4.2e-23). SymPy
# orders the terms of a sum by 53-bit float values of their factors, and raised
# ZeroDivisionError on 1/log(erf(7)) while printing, sorting or compiling: 500s (found by
# the round-trip property of tests/expressions/test_printer.py).
FLOAT_ZERO_DIVISOR = [
    ("/v1/derivative", {"expression": "-(x + log(x, erf(7)))", "variable": "x", "steps": True}),
    ("/v1/gradient", {"expression": "-(x + log(x, erf(7)))", "point": {"x": 1}}),
    ("/v1/gradient", {"expression": "x + 1/log(erf(9))", "steps": True}),
    ("/v1/jacobian", {"expressions": ["x*y", "y - log(x, erf(7))"], "point": [1, 2]}),
    ("/v1/hessian", {"expression": "y*log(x, erf(7))", "point": [2, 1]}),
    ("/v1/taylor", {"expression": "-(x + log(x, erf(7)))", "point": {"x": 1}, "order": 1}),
    ("/v1/gradient-descent", {"expression": "x^2 + log(x, erf(7))", "start": [1]}),
    ("/v1/plot", {"kind": "function", "expression": "x + log(x, erf(7))", "range": [1, 2]}),
]


@pytest.mark.parametrize("path, body", FLOAT_ZERO_DIVISOR,
                         ids=[f"{p}:{b.get('expression') or b['expressions']}"
                              for p, b in FLOAT_ZERO_DIVISOR])
def test_dividing_by_a_constant_that_is_zero_in_floats_is_a_422_naming_it(survive, path, body):
    status, answer = survive(path, body)
    assert status == 422, answer
    assert "divides by log(erf(" in answer["detail"], answer
    assert answer["errors"][0]["field"].startswith("expression"), answer


def test_a_float_lost_to_cancellation_comes_from_the_exact_value(survive):
    """cos(x) - 1 at x = 10^-10 is 0 in float64, -5e-21 exactly: the compiled function
    gives an infinity, the exact value its true float (1/(cos x - 1) ~ -2/x^2, its
    derivative ~ 4/x^3, by the Taylor series of cos)."""
    status, answer = survive("/v1/gradient", {"expression": "1/(cos(x) - 1)",
                                              "point": {"x": "1/10^10"}})
    assert status == 200, answer
    assert answer["at"]["value"]["numeric"] == pytest.approx(-2e20, rel=1e-9)
    assert answer["at"]["gradient"]["numeric"][0] == pytest.approx(4e30, rel=1e-9)


@pytest.mark.parametrize("path", ["/v1/hessian", "/v1/gradient", "/v1/derivative"])
def test_a_sympy_attribute_error_while_substituting_is_not_a_500(survive, path):
    """At z = 2 SymPy rewrites csc(4 - pi/2 + asinh(2)*cosh(3)) with sec(3*I), whose
    assumptions ask cosh(3) for a method it lacks (an AttributeError, found by
    fuzz/express_lane_diff.py): that node is kept as written, and the answer is a 200."""
    names = {"variable": "z"} if path == "/v1/derivative" else {"variables": ["z"]}
    status, answer = survive(path, {"expression": "csc(4 - pi/z + asinh(z)*cosh(3))",
                                    **names, "point": {"z": 2}})
    assert status == 200, answer


@pytest.mark.parametrize("text, derivative", [
    ("csc(z - pi/2 + asinh(2)*cosh(3))",
     lambda w: -mpmath.cos(w) / mpmath.sin(w) ** 2),
    ("sec(z - pi/2 + asinh(2)*cosh(3))",
     lambda w: mpmath.sin(w) / mpmath.cos(w) ** 2),
])
def test_csc_and_sec_of_a_shift_by_pi_over_2_are_real(survive, text, derivative):
    """SymPy's csc(w - pi/2) is -sec(w), but it wrote w's cosh(3) as 1/sec(3*I), and the
    builder refused the expression as not real (a 422). Against mpmath at z = 2."""
    status, answer = survive("/v1/derivative", {"expression": text, "variable": "z",
                                                "point": {"z": 2}})
    assert status == 200, answer
    with mpmath.workdps(40):
        w = 2 - mpmath.pi / 2 + mpmath.asinh(2) * mpmath.cosh(3)
        want = float(derivative(w))
    assert answer["at"]["value"]["numeric"] == pytest.approx(want, rel=1e-15, abs=0)
    assert "I" not in answer["derivative"]["expression"]
