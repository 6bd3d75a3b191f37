"""Samples, windows, line breaks and contour levels: robust to poles, jumps and valleys."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from service.plots import sampling

X = np.linspace(-5, 5, 1000)


def test_as_real_broadcasts_constants_and_nulls_what_is_not_real():
    assert_allclose(sampling.as_real(2, (3,)), [2, 2, 2])
    values = sampling.as_real(np.array([1 + 0j, 1j, np.inf, 1e300, -4.0]), (5,))
    assert_allclose(values, [1, np.nan, np.nan, np.nan, -4], equal_nan=True)


@pytest.mark.parametrize("curve, low, high", [
    (X**3, -125, 125),             # whole: steep, but no pole
    (np.exp(X), 0, np.exp(5)),     # whole up to its last value
    (np.sin(X), -1, 1),
])
def test_window_shows_smooth_curves_whole(curve, low, high):
    lo, hi = sampling.window(curve)
    assert lo <= low and hi >= high
    assert hi - lo <= 1.2 * (high - low)


@pytest.mark.parametrize("curve", [np.tan(X), 1 / X, 1 / X**2])
def test_window_leaves_out_the_poles(curve):
    lo, hi = sampling.window(curve)
    assert hi - lo < 60
    assert hi - lo < 0.2 * (np.nanmax(curve) - np.nanmin(curve))


def test_window_of_a_constant_is_not_empty():
    lo, hi = sampling.window(np.full(10, 3.0))
    assert lo < 3 < hi


def test_window_of_nothing_raises():
    with pytest.raises(sampling.NothingToDraw):
        sampling.window(np.full(10, np.nan))


def test_breaks_at_jumps_and_poles_but_not_at_kinks():
    for curve, breaks in [(np.sign(X), 1), (np.abs(X), 0), (np.tanh(20 * X), 0),
                          (np.heaviside(X, 0.5) + X, 1)]:
        lo, hi = sampling.window(curve)
        x, y = sampling.with_breaks(X, curve, lo, hi)
        assert np.isnan(y).sum() == breaks
        assert_allclose(y[np.isfinite(y)], curve)
        assert x.size == X.size + breaks


def test_levels_are_round_and_cover_the_values():
    x, y = np.meshgrid(X, X)
    levels, extend = sampling.contour_levels(x**2 + y**2)
    assert levels[0] <= 0 and levels[-1] >= 50 and extend == "neither"
    assert_allclose(np.diff(levels), np.diff(levels)[0])


def test_valley_levels_are_geometric_above_the_minimum():
    x, y = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-1, 3, 200))
    levels, _ = sampling.contour_levels((1 - x)**2 + 100 * (y - x**2)**2)
    heights = np.diff(levels)
    assert levels[0] <= 1e-3 and levels[-1] >= 2509
    assert heights[-1] / heights[1] > 1000  # many decades, each with its own colour


def test_a_pole_does_not_flatten_the_levels():
    x, y = np.meshgrid(X, X)
    with np.errstate(divide="ignore"):
        z = 1 / (x**2 + y**2)
    levels, extend = sampling.contour_levels(z)
    assert levels[-1] < 1e4 and extend in ("max", "both")


def test_unit_arrows_have_one_displayed_length_and_the_right_direction():
    u, v = sampling.unit_arrows(np.array([3.0, 0.0, np.nan]), np.array([4.0, 0.0, 1.0]),
                                x_span=10.0, y_span=1.0, length=0.1)
    assert_allclose(np.hypot(u[0] / 10.0, v[0] / 1.0), 0.1)
    assert_allclose(v[0] / u[0], 4 / 3)
    assert np.isnan(u[1:]).all() and np.isnan(v[1:]).all()
