"""Labels: SymPy's LaTeX in mathtext when it can be drawn, plain text when it cannot."""

from __future__ import annotations

import pytest

from service.config import Limits
from service.expressions import parse, to_latex
from service.plots import labels


@pytest.mark.parametrize("text", ["sigmoid(x)", "softplus(x)", "abs(x)", "sign(x)",
                                  "log(x, 2)", "cbrt(x)", "erf(x)", "atan2(y, x)",
                                  "max(x, y)", "heaviside(x)", "(w*x + b - y)^2"])
def test_every_function_of_the_grammar_draws_in_mathtext(text):
    latex = to_latex(parse(text, Limits()).expr)
    assert labels.math_or_none(latex) is not None


@pytest.mark.parametrize("latex, drawn", [
    (r"\operatorname{relu}{\left(x \right)}", True),
    (r"\text{loss} + x", True),
    (r"\begin{cases} x & \text{for}\: x > 0 \\ 0 & \text{otherwise} \end{cases}", False),
    (r"\unknowncommand{x}", False),
])
def test_latex_is_rewritten_or_refused(latex, drawn):
    assert (labels.math_or_none(latex) is not None) is drawn


def test_formula_falls_back_to_plain_text():
    label = labels.formula("f(x)", r"\begin{cases} 1 \end{cases}", "f(x)", "sign(x)")
    assert label == "f(x) = sign(x)"
    assert labels.formula("f(x)", "x^{2}", "f(x)", "x^2") == "$f(x) = x^{2}$"


def test_plain_text_is_escaped_and_shortened():
    assert labels.plain("costs $5") == r"costs \$5"
    shortened = labels.plain("x + " * 50, max_chars=20)
    assert len(shortened) <= 20 and shortened.endswith("\u2026")


def test_too_long_latex_is_plain_text():
    assert labels.math_or_none("x + " * 200 + "x") is None


def test_bars_of_abs_are_plain_bars():
    assert labels.math_or_none(r"\left|{x}\right|") == "|{x}|"


@pytest.mark.parametrize("value, text", [(2.0, "2"), (-0.0, "0"), (0.123456, "0.1235"),
                                         (1e-7, "1e-07")])
def test_numbers_are_short(value, text):
    assert labels.number(value) == text
