"""The symbolic engine on its own: kinks, spikes, Hessian symmetry, compilation."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy

from service.calculus import engine
from service.expressions import symbol
from service.expressions.custom_functions import sigmoid

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


def _central_difference(f, at: float, h: float = 1e-6) -> float:
    value = sympy.lambdify(x, f, "mpmath")
    import mpmath

    mpmath.mp.dps = 40
    return float((value(mpmath.mpf(at) + h) - value(mpmath.mpf(at) - h)) / (2 * h))


@pytest.mark.parametrize("function, by_hand, points", [
    # SymPy cannot tell log(x), asin(x), sqrt(x) real (x may be out of their domain), so
    # it leaves d sign(u) unevaluated and writes d|u| with re and im; on the reals:
    (sympy.sign(sympy.log(x)), sympy.S.Zero, [0.5, 3.0]),
    (sympy.sign(sympy.sqrt(x)), sympy.S.Zero, [0.5, 3.0]),
    (sympy.Abs(sympy.log(x)), sympy.sign(sympy.log(x)) / x, [0.5, 3.0]),
    (sympy.Abs(sympy.asin(x)), sympy.sign(sympy.asin(x)) / sympy.sqrt(1 - x**2), [-0.5, 0.25]),
    (x * sympy.Abs(sympy.log(x)) ** 3,
     sympy.Abs(sympy.log(x)) ** 3 + 3 * sympy.log(x) ** 2 * sympy.sign(sympy.log(x)),
     [0.5, 3.0]),
])
def test_abs_and_sign_of_a_part_not_known_real_differentiate_as_on_the_reals(
        function, by_hand, points):
    d = engine.differentiate(function, x)
    assert not d.expr.has(sympy.Derivative, sympy.re, sympy.im), d.expr
    for at in points:
        got = float(d.expr.subs(x, sympy.Float(at, 30)).evalf(30))
        assert got == pytest.approx(float(by_hand.subs(x, at).evalf(30)), rel=1e-12, abs=1e-12)
        assert got == pytest.approx(_central_difference(function, at), rel=1e-7, abs=1e-9)
    engine.compile_numeric([d.expr], [x])  # printable and compilable: no Derivative left


def test_the_jump_of_sign_of_a_part_not_known_real_is_remembered():
    d = engine.differentiate(sympy.sign(sympy.log(x)), x)
    assert engine.kink_warning(d, {x: sympy.Integer(1)})  # log(1) = 0: a jump
    assert engine.kink_warning(d, {x: sympy.Integer(2)}) is None


def test_what_cannot_be_compiled_is_a_clean_error():
    from service.errors import ServiceError

    with pytest.raises(ServiceError):
        engine.compile_numeric([sympy.Derivative(sympy.sign(sympy.log(x)), x)], [x])


def test_min_and_max_of_numbers_sympy_cannot_compare_are_decided():
    """1 - sigmoid(300) is 5.1e-131: SymPy's comparisons (in a few digits) call it "not
    comparable" with 0, and the value at x = 300 was undefined."""
    at = {x: sympy.Integer(300)}
    small = 1 - sigmoid(sympy.Integer(300))
    assert engine.substitute(sympy.Max(1 - sigmoid(x), 0), at) == small
    assert engine.substitute(sympy.Min(1 - sigmoid(x), 0) + x, at) == 300
    assert engine.substitute(sympy.Max(x, sympy.Min(1 - sigmoid(x), -1)), at) == 300
    assert engine.substitute(sympy.Max(sympy.log(x), 4), {x: sympy.Integer(-1)}) is sympy.nan


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


# Machine learning's logistic and tanh expressions at large arguments, compiled, against SymPy's
# 1,000-digit evaluation of the expression as written (the compiled code uses stable
# forms; 1 - sigmoid(998) needs more than 434 digits).
w, b = symbol("w"), symbol("b")
_cross_entropy = (-y * sympy.log(sigmoid(w * x + b))
                  - (1 - y) * sympy.log(1 - sigmoid(w * x + b)))


@pytest.mark.parametrize("f", [
    _cross_entropy,
    sympy.log(1 + sympy.exp(w)),  # softplus written out
    1 / (1 + sympy.exp(-w)),  # sigmoid written out
    sympy.exp(w) / (1 + sympy.exp(w)) ** 2 + w,
    sympy.log(1 + sympy.exp(2 * w + 3 * b)),
    sympy.sin(sympy.tanh(7 * w)) + b,  # tanh' is 1 - tanh^2: 1 - tanh(14)^2 cancels
], ids=str)
@pytest.mark.parametrize("point", [{w: 40, b: 1, x: 1, y: 0}, {w: -800, b: 3, x: 1, y: 1},
                                   {w: 1000, b: -2, x: 1, y: 0}, {w: 20, b: 0, x: 1, y: 1},
                                   {w: 2, b: 0, x: 1, y: 0}])
def test_logistic_expressions_compile_to_stable_float64(f, point):
    symbols = [w, b, x, y]
    entries = [f] + [engine.differentiate(f, s).expr for s in (w, b)]
    entries += [engine.differentiate(entries[1], w).expr]
    got = engine.compile_numeric(entries, symbols)(*(float(point[s]) for s in symbols))
    for entry, value in zip(entries, got):
        want = float(entry.evalf(1000, subs=point))
        # an absolute error of a few ulps of 1 where O(1) terms cancel (sigmoid - sigmoid^2)
        assert value == pytest.approx(want, rel=1e-12, abs=1e-15), entry


_gelu = w / 2 * (1 + sympy.erf(w / sympy.sqrt(2)))


@pytest.mark.parametrize("f, at", [
    (sympy.tanh(w) + 1, -16.75),                   # 1 + tanh(u): 2*sigmoid(2u)
    (2 - 2 * sympy.tanh(w), 13.5),                 # c - c*tanh(u): 2c*sigmoid(-2u)
    (sympy.diff(3 * sympy.tanh(w), w), -16.75),     # 3 - 3*tanh(w)^2: SymPy distributes the 3
    (sympy.diff(10**60 * sympy.tanh(8 * w), w), -2.0943461290153786),  # the fuzz's case
    (_gelu, -8.0),                                  # GELU: 1 + erf(u) is erfc(-u)
    (sympy.diff(_gelu, w), -8.0),
    (1 - sympy.erf(w) ** 2, 6.1),                   # erfc(u)*erfc(-u)
    (5 - 5 * sympy.erf(w - 1), 7.0),                # c*erfc(u)
], ids=str)
@pytest.mark.parametrize("fast_engine", [True, False], ids=["SymEngine", "lambdify"])
def test_tanh_and_erf_near_saturation_compile_without_cancellation(f, at, fast_engine,
                                                                    monkeypatch):
    """Each is far below its terms (1 + tanh(-16.75) is 5.7e-15): the float64 of the sum
    as written keeps a few digits or none; its stable form all of them, also where
    lambdify compiles (its cse made SymPy's erfc(8) of 1 + erf(-8) into 2 - erfc(8): 0.0)."""
    monkeypatch.setattr(engine, "FAST_ENGINE", fast_engine)
    got = engine._compile_numeric([f], [w])(at)[0]  # not the cache: it is the same for both
    want = float(f.evalf(1000, subs={w: sympy.Rational(at)}, maxn=4000, strict=True))
    assert got == pytest.approx(want, rel=1e-13, abs=0), (engine._stable_forms(f), got, want)


def _mp_log_tanh(t):
    return mpmath.log(mpmath.tanh(t))


@pytest.mark.parametrize("f, reference, scale", [
    (sympy.log(sympy.tanh(w)), _mp_log_tanh, 1),
    (3 * sympy.log(sympy.tanh(2 * w)), lambda t: 3 * _mp_log_tanh(2 * t), 0.5),
    (sympy.log(sympy.tanh(-w)), lambda t: _mp_log_tanh(-t), -1),  # SymPy: log(-tanh(w))
    (sympy.exp(2 * w) * sympy.log(sympy.tanh(w)), lambda t: mpmath.exp(2 * t) * _mp_log_tanh(t),
     1),  # near -2 for large w: 0 before
    # stable before logtanh already (one_minus): (1 - tanh(w)^2)/tanh(w)
    (sympy.diff(sympy.log(sympy.tanh(w)), w), lambda t: 2 / mpmath.sinh(2 * t), 1),
], ids=["log(tanh(w))", "3*log(tanh(2*w))", "log(tanh(-w))", "exp(2*w)*log(tanh(w))",
        "derivative"])
def test_log_tanh_compiles_without_cancellation(f, reference, scale):
    """float64's tanh(u) rounds to 1 from u = 19 on: log(tanh(u)) was 0.0 at 20 (it is
    -8.5e-18) and lost 8 of its 16 digits at 10. Against mpmath with the digits 2u needs
    (50 would make log(tanh(300)), -5.3e-261, zero)."""
    at = np.array([0.25, 0.75, 2.0, 10.0, 20.0, 300.0]) * scale
    got = engine.compile_numeric([f], [w])(at)[0]
    for value, point in zip(got, at):
        with mpmath.workdps(400):
            want = float(reference(mpmath.mpf(float(point))))
        assert value == pytest.approx(want, rel=1e-14, abs=0), (point, engine._stable_forms(f))


def test_log_tanh_where_tanh_is_not_positive_compiles_as_before():
    """log(tanh(u)) for u <= 1/2 is computed as written: NaN where u < 0, -inf at 0, and in
    complex arithmetic (which tells complex from undefined values) the same complex value."""
    compiled = engine.compile_numeric([sympy.log(sympy.tanh(w))], [w])
    at = np.array([-np.inf, -300.0, -1.0, -1e-300, -0.0, 0.0, 1e-300, 0.5, np.nan])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(compiled(at)[0], np.log(np.tanh(at)))
        for point in (-1.0, -20.0, 0.5, 20.0):
            z = np.complex128(point)
            assert compiled(z)[0] == np.log(np.tanh(z))


@pytest.mark.parametrize("f", [
    1 + sigmoid(w), 2 + 2 * sigmoid(w - b), 1 + sympy.tanh(w) ** 2, 3 + 3 * sympy.erf(w) ** 2,
    sympy.sinh(sympy.sqrt(6) + sigmoid(-3) + 1) + w,  # points_accuracy's finding
    1 - sigmoid(w) ** 2, 2 - sympy.tanh(w), 1 + 2 * sympy.erf(w),
], ids=str)
def test_sums_without_a_stable_form_compile_as_they_are(f):
    """Only the pairs c -/+ c*g(u) of _stable_forms are rewritten: 1 + sigmoid(u) was once
    taken for 1 - sigmoid(u) (sinh(sqrt(6) + sigmoid(-3) + 1) came out 15.00, not 16.49)."""
    compiled = engine.compile_numeric([f], [w, b])
    for point in ({w: sympy.Rational(1, 3), b: 2}, {w: -5, b: sympy.Rational(-1, 2)}):
        want = float(f.evalf(60, subs=point))
        assert compiled(*(float(point[s]) for s in (w, b)))[0] == pytest.approx(want, rel=1e-13)


@pytest.mark.parametrize("f", [
    sympy.tan(sympy.cosh(sympy.cosh(5))) + w,     # cosh(cosh(5)) is 8.5e31: float64 noise
    w * sympy.sin(10**15 + sympy.Rational(1, 3)),  # an argument past float64's resolution
    w * sympy.log(1 - sympy.exp(-40)),             # log(1 - 1.0) = -inf in float64
    sympy.exp(w) * sympy.cos(sympy.exp(sympy.exp(3))),
], ids=str)
def test_constant_parts_compile_to_their_correctly_rounded_floats(f):
    """points_accuracy's finding: tan(cosh(cosh(5))) came out 0.24 over points, -1.69
    at a point (the exact value's float)."""
    compiled = engine.compile_numeric([f], [w])
    for at in (1, -2):
        want = float(f.evalf(50, subs={w: at}, maxn=4000, strict=True))
        assert compiled(float(at))[0] == pytest.approx(want, rel=1e-14, abs=0)


def test_stable_forms_are_equal_to_the_expressions():
    f = _cross_entropy
    points = [{w: sympy.Rational(p, 7), b: sympy.Rational(-q, 5), x: 2, y: sympy.Rational(1, 3)}
              for p, q in [(1, 2), (-9, 4), (5, 13), (20, -3)]]
    for e in [f, engine.differentiate(f, w).expr, sympy.log(1 + sympy.exp(w)).diff(w, 2),
              sympy.log(1 + sympy.exp(w - b)).diff(w, b), sympy.tanh(w * b).diff(w, 2),
              3 - 3 * sympy.tanh(w * b) ** 2, 1 + sympy.tanh(w), 2 - 2 * sympy.tanh(w - b),
              sympy.erf(w) + 1, 1 - sympy.erf(w) ** 2, 5 - 5 * sympy.erf(w - b) + b,
              sympy.diff(_gelu, w), sympy.log(sympy.tanh(w * b)),
              sympy.log(sympy.tanh(b - w)) + w]:
        stable = engine._stable_forms(e)
        assert stable != e  # a rewrite was made
        for point in points:
            assert stable.evalf(60, subs=point) == pytest.approx(
                e.evalf(60, subs=point), rel=1e-40)


def test_folded_constants_never_leave_a_float_past_float64():
    """exp(x + exp(8)): SymPy takes a folded float out of the sum, 1e1294*exp(x), which the
    compiled code wrote as `inf` (a NameError, a 500 over points; found by
    fuzz/sympy_path_errors.py)."""
    f = 11 * sympy.exp(w + sympy.exp(8)) / 10**60
    assert engine._within_float64(f) == f  # left unfolded
    with np.errstate(over="ignore"):
        assert math.isinf(engine.compile_numeric([f], [w])(0.0)[0])
