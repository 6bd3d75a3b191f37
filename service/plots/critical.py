"""Critical points of a function of two variables inside a window, found numerically.

Solving grad f = 0 symbolically has no time bound (and often no closed form), so the
points are found the way one would by hand on a contour map: the sample points of a grid
where |grad f| is smallest among their neighbours are the candidates, and a few Newton
steps on grad f = 0 (with the exact Hessian, pseudo-inverted where it is singular) take
each candidate to the critical point near it. A candidate is kept when it converges
inside the window; the Hessian's eigenvalues there say what it is. The cost is bounded:
at most ``MAX_CANDIDATES`` candidates and ``NEWTON_STEPS`` vectorized steps.

Critical points the grid cannot see (closer together than two samples) may be missed, and
a whole line of them (``x^2`` over x and y) shows as a few points of that line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from service.plots.sampling import as_real

MAX_CANDIDATES = 64
MAX_POINTS = 24
NEWTON_STEPS = 40
#: |grad f| at a critical point, relative to the typical |grad f| over the window.
GRADIENT_TOLERANCE = 1e-9
#: Points closer than this share of the window are the same point.
SAME_POINT = 1e-6

KINDS = ("local minimum", "local maximum", "saddle point", "degenerate")


@dataclass(frozen=True)
class CriticalPoint:
    x: float
    y: float
    kind: str  # one of KINDS


def _local_minima(norm: np.ndarray) -> np.ndarray:
    """Flat indices of the grid cells whose value is at most each of their 8 neighbours."""
    padded = np.pad(norm, 1, constant_values=np.inf)
    padded[~np.isfinite(padded)] = np.inf
    centre = padded[1:-1, 1:-1]
    is_min = np.isfinite(centre)
    rows, cols = norm.shape
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr or dc:
                is_min &= centre <= padded[1 + dr:1 + dr + rows, 1 + dc:1 + dc + cols]
    return np.flatnonzero(is_min)


def _classify(hessian: np.ndarray, scale: float) -> str:
    eigenvalues = np.linalg.eigvalsh(hessian)
    tiny = 1e-8 * max(scale, float(np.max(np.abs(eigenvalues))), 1e-300)
    if np.all(eigenvalues > tiny):
        return "local minimum"
    if np.all(eigenvalues < -tiny):
        return "local maximum"
    if eigenvalues.min() < -tiny and eigenvalues.max() > tiny:
        return "saddle point"
    return "degenerate"


def find(gradient: Callable, hessian: Callable, x: np.ndarray, y: np.ndarray,
         gradient_norm: np.ndarray, x_range: Sequence[float],
         y_range: Sequence[float]) -> list[CriticalPoint]:
    """Critical points in the window, from candidates on the grid ``x``, ``y`` (2-D arrays).

    ``gradient(x, y)`` returns the two partials and ``hessian(x, y)`` the 2 x 2 nested list
    of second partials, both vectorized over arrays; ``gradient_norm`` is |grad f| on the grid.
    """
    finite = gradient_norm[np.isfinite(gradient_norm)]
    if finite.size == 0:
        return []
    typical = float(np.median(finite)) or 1.0
    candidates = _local_minima(gradient_norm)
    candidates = candidates[np.argsort(gradient_norm.ravel()[candidates])][:MAX_CANDIDATES]
    px, py = x.ravel()[candidates].astype(float), y.ravel()[candidates].astype(float)
    shape = px.shape
    with np.errstate(all="ignore"):
        for _ in range(NEWTON_STEPS):
            g = np.stack([as_real(v, shape) for v in gradient(px, py)], axis=-1)
            h = np.stack([np.stack([as_real(v, shape) for v in row], axis=-1)
                          for row in hessian(px, py)], axis=-2)
            usable = np.isfinite(g).all(axis=-1) & np.isfinite(h).all(axis=(-2, -1))
            step = np.zeros_like(g)
            if usable.any():
                step[usable] = np.einsum("nij,nj->ni", np.linalg.pinv(h[usable]), g[usable])
            px, py = px - step[:, 0], py - step[:, 1]
        g = np.stack([as_real(v, shape) for v in gradient(px, py)], axis=-1)
        h = np.stack([np.stack([as_real(v, shape) for v in row], axis=-1)
                      for row in hessian(px, py)], axis=-2)
    x_span, y_span = x_range[1] - x_range[0], y_range[1] - y_range[0]
    inside = ((px >= x_range[0]) & (px <= x_range[1]) & (py >= y_range[0])
              & (py <= y_range[1]))
    converged = np.linalg.norm(g, axis=-1) <= GRADIENT_TOLERANCE * max(typical, 1.0)
    keep = inside & converged & np.isfinite(h).all(axis=(-2, -1))
    points: list[CriticalPoint] = []
    for i in np.flatnonzero(keep):
        if any(abs(p.x - px[i]) <= SAME_POINT * x_span and abs(p.y - py[i]) <= SAME_POINT * y_span
               for p in points):
            continue
        points.append(CriticalPoint(float(px[i]), float(py[i]), _classify(h[i], typical)))
        if len(points) == MAX_POINTS:
            break
    return sorted(points, key=lambda p: (KINDS.index(p.kind), p.x, p.y))
