"""Critical points by Newton's method from the grid minima of |grad f|."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from service.plots.critical import CriticalPoint, find


def _find(gradient, hessian, window=(-3.0, 3.0), samples=60):
    xs = np.linspace(*window, samples)
    x, y = np.meshgrid(xs, xs)
    gx, gy = gradient(x, y)
    return find(gradient, hessian, x, y, np.hypot(gx, gy), window, window)


def test_a_saddle_between_two_minima():
    # f = (x^2 - 1)^2 + y^2: minima at (+-1, 0), a saddle at (0, 0).
    points = _find(lambda x, y: [4 * x * (x**2 - 1), 2 * y],
                   lambda x, y: [[12 * x**2 - 4, 0 * x], [0 * x, 2 + 0 * x]])
    assert [p.kind for p in points] == ["local minimum", "local minimum", "saddle point"]
    assert_allclose([(p.x, p.y) for p in points], [(-1, 0), (1, 0), (0, 0)], atol=1e-12)


def test_a_flat_minimum_is_found_as_degenerate():
    # f = x^4 + y^4: the Hessian vanishes at the minimum.
    points = _find(lambda x, y: [4 * x**3, 4 * y**3],
                   lambda x, y: [[12 * x**2, 0 * x], [0 * x, 12 * y**2]])
    assert len(points) == 1 and points[0].kind in ("degenerate", "local minimum")
    assert abs(points[0].x) < 1e-3 and abs(points[0].y) < 1e-3


def test_points_outside_the_window_are_left_out():
    # f = (x - 5)^2 + y^2 has its minimum outside [-3, 3]^2.
    points = _find(lambda x, y: [2 * (x - 5), 2 * y],
                   lambda x, y: [[2 + 0 * x, 0 * x], [0 * x, 2 + 0 * x]])
    assert points == []


def test_undefined_gradients_are_no_candidates():
    points = _find(lambda x, y: [np.full_like(x, np.nan), np.full_like(x, np.nan)],
                   lambda x, y: [[x, x], [x, x]])
    assert points == []
    assert CriticalPoint(0.0, 0.0, "saddle point").kind == "saddle point"
