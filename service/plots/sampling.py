"""The numbers behind a picture: samples, masks, the visible window and contour levels.

Pure NumPy. A value that is not a finite real number (log of a negative, a pole, an
overflow) becomes NaN here, and NaN is never drawn: curves break there and contours leave
the region blank. Everything that decides what is shown (the y window of a curve with a
pole, the levels of a surface with a deep valley) is robust to a few huge values.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

#: Larger magnitudes are not drawn (they would overflow matplotlib's transforms).
LARGEST_DRAWN = 1e100
#: A range bound may not exceed this magnitude.
LARGEST_BOUND = 1e15
#: Default half-width of a range around its centre.
DEFAULT_HALF_WIDTH = 5.0
#: Share of the samples allowed outside the y window of a curve (on each side).
TAIL = 0.05
#: Number of filled contour levels.
LEVELS = 14


class NothingToDraw(Exception):
    """The function has no finite real value anywhere in the window."""


def as_real(values, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` as a float64 array of ``shape``: complex, infinite or huge entries are NaN.

    A compiled constant (``2``) comes back as a scalar: it is broadcast to ``shape``.
    """
    array = np.asarray(values)
    if np.iscomplexobj(array):
        array = np.where(array.imag == 0, array.real, np.nan)
    try:
        array = np.array(np.broadcast_to(array.astype(np.float64), shape))
    except (TypeError, ValueError):
        return np.full(shape, np.nan)
    array[~(np.abs(array) <= LARGEST_DRAWN)] = np.nan
    return array


def evaluate(function: Callable, arguments: Sequence[np.ndarray], shape) -> list[np.ndarray]:
    """Call a compiled function of several outputs over arrays; one real array per output."""
    with np.errstate(all="ignore"):
        try:
            outputs = function(*arguments)
        except (ArithmeticError, ValueError, TypeError):
            return [np.full(shape, np.nan)]
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [as_real(output, shape) for output in outputs]


def default_range(centre: float | None = None,
                  half_width: float = DEFAULT_HALF_WIDTH) -> tuple[float, float]:
    """``[-5, 5]``, or the interval of the same width centred on ``centre``.

    Far from 0 the interval is widened to a millionth of ``centre``, so that it is still
    wide in floating point.
    """
    centre = 0.0 if centre is None else float(centre)
    half_width = max(half_width, 1e-6 * abs(centre))
    return centre - half_width, centre + half_width


def bounding_range(values: np.ndarray, margin: float = 0.12,
                   least: float = 1.0) -> tuple[float, float]:
    """The interval holding ``values``, widened by ``margin`` of its width on each side.

    An interval narrower than ``least`` is widened to ``least`` around its middle.
    """
    finite = values[np.isfinite(values) & (np.abs(values) <= LARGEST_BOUND)]
    if finite.size == 0:
        return default_range()
    lo, hi = float(finite.min()), float(finite.max())
    width = hi - lo
    least = max(least, 1e-6 * max(abs(lo), abs(hi)))
    if width < least:
        middle = (lo + hi) / 2
        lo, hi, width = middle - least / 2, middle + least / 2, least
    return lo - margin * width, hi + margin * width


def window(*curves: np.ndarray, ends: float = 0.005, reach: float = 3.0) -> tuple[float, float]:
    """The y window that shows curves whole, unless they fly off inside the interval (a pole).

    The window holds the bulk of the values (the quartiles widened by ``reach`` times the
    interquartile range) and the values near both ends of the interval (the first and last
    ``ends`` of the samples) unless those are three windows away: ``exp`` is shown up to its
    last value, while ``tan`` shows its branches and not one sample of 10^16 by a pole.
    """
    finite = [c[np.isfinite(c)] for c in curves]
    values = np.concatenate(finite) if finite else np.array([])
    if values.size == 0:
        raise NothingToDraw
    q1, q3 = (float(q) for q in np.quantile(values, [0.25, 0.75]))
    spread = q3 - q1
    lo = max(float(values.min()), q1 - reach * spread)
    hi = min(float(values.max()), q3 + reach * spread)
    span = max(hi - lo, 1e-12)
    for curve in curves:
        m = max(1, int(len(curve) * ends))
        edge = np.concatenate([curve[:m], curve[-m:]])
        edge = edge[np.isfinite(edge) & (edge >= lo - 3 * span) & (edge <= hi + 3 * span)]
        if edge.size:
            lo, hi = min(lo, float(edge.min())), max(hi, float(edge.max()))
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        pad = max(1.0, abs(lo) * 0.1)
        return lo - pad, hi + pad
    pad = 0.06 * (hi - lo)
    return lo - pad, hi + pad


def with_breaks(x: np.ndarray, y: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` ready to draw as a line in the window ``[low, high]``.

    Samples far outside the window (more than its height beyond it) are dropped, and the
    line is broken (a NaN inserted) at a jump: a step more than half the window's height,
    or a step of at least 2% of the height that is twenty times both steps beside it
    (``sign``, ``heaviside``, the far side of a pole). The vertical strokes there are not
    part of the graph.
    """
    height = high - low
    y = y.copy()
    y[(y < low - height) | (y > high + height)] = np.nan
    with np.errstate(invalid="ignore"):
        step = np.abs(np.diff(y))
        # The larger finite step beside each step; none known (NaN around): no ratio test.
        beside = np.fmax(np.concatenate([[np.nan], step[:-1]]),
                         np.concatenate([step[1:], [np.nan]]))
        beside = np.where(np.isfinite(beside), beside, np.inf)
        jump = (step > 0.5 * height) | ((step > 0.02 * height) & (step > 20 * beside))
    if not jump.any():
        return x, y
    index = np.nonzero(jump)[0] + 1
    gap_x = (x[index - 1] + x[index]) / 2
    return np.insert(x, index, gap_x), np.insert(y, index, np.nan)


def contour_levels(z: np.ndarray, count: int = LEVELS,
                   valley: bool | None = None) -> tuple[np.ndarray, str]:
    """Levels of a filled contour plot, and which ends extend beyond them.

    Equally spaced round levels (closer lines: a steeper slope) unless the surface is a
    valley, most of the window lying low with a few high walls (as a loss surface usually
    is), or ``valley`` says so: then the levels are spaced geometrically above the minimum,
    so that the floor of the valley, where descent ends, still shows its shape. A few
    extreme values (a pole) are left out of the levels, and the ends they fall in are
    marked as extended.
    """
    values = z[np.isfinite(z)]
    if values.size == 0:
        raise NothingToDraw
    true_lo, true_hi = float(values.min()), float(values.max())
    bulk_lo, bulk_hi = (float(q) for q in np.quantile(values, [0.01, 0.99]))
    bulk = bulk_hi - bulk_lo
    lo = max(true_lo, bulk_lo - bulk)
    hi = min(true_hi, bulk_hi + bulk)
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        pad = max(1.0, abs(lo) * 0.1)
        return np.array([lo - pad, lo + pad]), "neither"
    median = float(np.median(values))
    if valley or (valley is None and (median - lo) / (hi - lo) < 0.12):
        levels = _valley_levels(values, lo, hi, count)
    else:
        # Round numbers that cover [lo, hi]: the first at or below lo, the last at or above hi.
        levels = MaxNLocator(count, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
        first = max(int(np.searchsorted(levels, lo, side="right")) - 1, 0)
        last = min(int(np.searchsorted(levels, hi, side="left")), levels.size - 1)
        levels = levels[first:last + 1]
    levels = np.unique(levels)
    below, above = true_lo < levels[0], true_hi > levels[-1]
    extend = {(False, False): "neither", (True, False): "min", (False, True): "max",
              (True, True): "both"}[(below, above)]
    return levels, extend


def _valley_levels(values: np.ndarray, lo: float, hi: float, count: int) -> np.ndarray:
    """Round levels spaced geometrically above a round base at or below the minimum.

    Heights above the base run 1, 2, 5, 10, 20, 50... (or 1, 3, 10, 30... when that is too
    many) from the smallest height that matters, the 0.2% quantile of the values above the
    minimum, up to the maximum.
    """
    floor = max((hi - lo) * 1e-5, float(np.quantile(values - lo, 0.002)))
    step = 10.0 ** np.floor(np.log10(floor))
    base = np.floor(lo / step) * step
    top = hi - base
    for mantissas in ([1, 2, 5], [1, 3], [1]):
        heights = np.array([m * 10.0 ** e
                            for e in np.arange(np.log10(step), np.ceil(np.log10(top)) + 1)
                            for m in mantissas])
        last = int(np.searchsorted(heights, top, side="left"))
        heights = heights[:last + 1]
        if heights.size <= count + 1:
            break
    else:
        heights = np.geomspace(step, top, count)
    return base + np.concatenate([[0.0], heights])


def grid_axes(x_range: Sequence[float], y_range: Sequence[float],
              samples: int) -> tuple[np.ndarray, np.ndarray]:
    """The sample coordinates along each axis, ``samples`` on each."""
    return (np.linspace(x_range[0], x_range[1], samples),
            np.linspace(y_range[0], y_range[1], samples))


def arrow_grid(x_range: Sequence[float], y_range: Sequence[float],
               count: int = 17) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the cells of a ``count`` by ``count`` grid, where field arrows sit."""
    def centres(lo, hi):
        edges = np.linspace(lo, hi, count + 1)
        return (edges[:-1] + edges[1:]) / 2
    return np.meshgrid(centres(*x_range), centres(*y_range))


def unit_arrows(u: np.ndarray, v: np.ndarray, x_span: float, y_span: float,
                length: float) -> tuple[np.ndarray, np.ndarray]:
    """Arrows along ``(u, v)`` of one displayed length, in data units.

    The direction is kept in data coordinates (so it is drawn at the right angle on axes of
    any aspect) and the length is ``length`` of the window in axes terms. Zero or undefined
    vectors become NaN (not drawn).
    """
    a, b = u / x_span, v / y_span
    norm = np.hypot(a, b)
    ok = np.isfinite(norm) & (norm > 0)
    with np.errstate(all="ignore"):
        scale = np.where(ok, length / norm, np.nan)
    return a * scale * x_span, b * scale * y_span
