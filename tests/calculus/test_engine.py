"""The symbolic engine on its own: kinks, spikes, Hessian symmetry, compilation."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from service.calculus import engine
from service.expressions import symbol

x, y = symbol("x"), symbol("y")


def test_symbols_are_made_in_one_place():
    assert symbol("x") is symbol("x")
    assert engine.differentiate(x**2, symbol("x")).expr == 2 * x


def test_dirac_delta_is_removed_and_remembered():
    d = engine.differentiate(sympy.Heaviside(x - 1), x)
    assert d.expr == 0
    assert d.spikes == {x - 1}
    assert engine.kink_warning(d, {x: sympy.Integer(1)})
    assert engine.kink_warning(d, {x: sympy.Integer(2)}) is None


@pytest.mark.parametrize("function, at, exists", [
    (sympy.Abs(x), 0, False),
    (x * sympy.Abs(x), 0, True),  # 2|x| both sides
    (sympy.Abs(x), 1, True),
    (sympy.Max(x, 0), 0, False),
    (sympy.Max(x, 0) ** 2, 0, True),  # 2 max(x, 0): 0 from both sides
])
def test_kinks(function, at, exists):
    d = engine.differentiate(function, x)
    warning = engine.kink_warning(d, {x: sympy.Integer(at)})
    assert (warning is None) is exists


def test_numeric_kink_detection_at_float_points():
    d = engine.differentiate(sympy.Abs(x - sympy.Rational(1, 10)), x)
    assert engine.kink_warning(d, {x: sympy.Float(0.1, 17)}, numeric=True)


def test_hessian_is_symmetric_and_right():
    f = x**3 * y + sympy.sin(x * y)
    h = engine.hessian(f, [x, y])
    assert h[0][1].expr == h[1][0].expr
    want = sympy.diff(f, x, y)
    assert sympy.simplify(h[0][1].expr - want) == 0


def test_compile_numeric_nested_shapes_and_keyword_names():
    lam = symbol("lambda")
    fn = engine.compile_numeric([[lam * x, x**2], [1, lam]], [lam, x])
    assert fn(2.0, 3.0) == [[6.0, 9.0], [1, 2.0]]
    vec = engine.compile_numeric([x**2], [x])(np.array([1.0, 2.0]))
    np.testing.assert_allclose(vec[0], [1.0, 4.0])


def test_kink_without_a_known_variable_is_reported_not_crashed():
    d = engine.Derivative(sympy.sign(x), frozenset())
    assert "may not exist" in engine.kink_warning(d, {x: sympy.Integer(0)})
