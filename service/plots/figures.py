"""Drawing: plain records of numbers and labels in, matplotlib artists out.

Nothing here knows about expressions: :mod:`service.plots.pictures` computes the curves,
surfaces and paths, and these functions draw them on the axes of a
:func:`~service.plots.canvas.new_figure`. Every artist that carries data has a ``gid``
(``function``, ``derivative-1``, ``tangent``, ``point``, ``gradient-field``,
``critical-points``, ``descent-path-0``, ``loss-0``...), which becomes the ``id`` of its
group in the SVG, so a reader (or a test) can find the drawn data.

Colours are Okabe and Ito's, which stay distinct for colour-blind readers; curves also
differ by line style and paths by marker, so a greyscale print still tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from service.plots.canvas import SURFACE_COLORMAP, text_width
from service.plots.critical import CriticalPoint
from service.plots.labels import number

CURVE_STYLES = [
    {"color": "#0072B2", "linestyle": "-", "linewidth": 2.2},     # f
    {"color": "#D55E00", "linestyle": "--", "linewidth": 1.8},    # f'
    {"color": "#009E73", "linestyle": "-.", "linewidth": 1.8},    # f''
]
TANGENT_STYLE = {"color": "#CC79A7", "linestyle": "-", "linewidth": 1.6}
PATH_COLOURS = ["#D55E00", "#56B4E9", "#CC79A7", "#000000", "#E69F00", "#009E73",
                "#F0E442", "#0072B2"]
PATH_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "h"]
PATH_LINESTYLES = ["-", "--", "-.", ":"]
#: Paths with more points than this are drawn without a marker at every iterate.
MARKED_POINTS = 60
CRITICAL_MARKERS = {
    "local minimum": {"marker": "o", "color": "white"},
    "local maximum": {"marker": "^", "color": "white"},
    "saddle point": {"marker": "X", "color": "white"},
    "degenerate": {"marker": "D", "color": "white"},
}
#: Critical points are annotated with their coordinates when there are at most this many.
ANNOTATED_POINTS = 6
UNDEFINED_COLOUR = "0.82"
#: The loss axis ends at 10^250 at most: past that, matplotlib's log ticks overflow.
LARGEST_LOSS_EXPONENT = 250.0


@dataclass
class Curve:
    """A line to draw: samples (NaN breaks the line), its legend label and its gid."""

    x: np.ndarray
    y: np.ndarray
    label: str
    gid: str
    style: dict = field(default_factory=dict)


@dataclass
class Surface:
    """Samples of f over a grid: ``z[i, j]`` is f at ``(x[j], y[i])``; NaN is undefined."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    levels: np.ndarray
    extend: str
    label: str


@dataclass
class Arrows:
    """Arrows at ``(x, y)`` along ``(u, v)``, in data units (NaN: no arrow)."""

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    label: str


@dataclass
class DescentPath:
    """One run of gradient descent: its recorded iterates and the values there."""

    points: np.ndarray  # (entries, parameters)
    values: np.ndarray
    iterations: np.ndarray
    label: str


def _darkness(colour: str) -> float:
    r, g, b = to_rgb(colour)
    return 1 - (0.299 * r + 0.587 * g + 0.114 * b)


def _halo(colour: str, width: float) -> list:
    """A contrasting outline under a line, so that it reads on any part of a colour map."""
    return [patheffects.withStroke(linewidth=width + 2.2,
                                   foreground="white" if _darkness(colour) > 0.45 else "black",
                                   alpha=0.9)]


def set_title(figure: Figure, ax: Axes, candidates: Sequence[str],
              share: float = 0.97) -> None:
    """Give ``ax`` the first title of ``candidates`` that fits in the figure's width.

    Constrained layout keeps a title inside the figure vertically, not horizontally: a long
    formula would be cut at the edges. The last candidate is used if none fits.
    """
    room = figure.bbox.width * share
    for candidate in candidates:
        title = ax.set_title(candidate)
        if text_width(figure, title) <= room:
            return
    ax.set_title(candidates[-1])


def fits(figure: Figure, text: str, share: float) -> bool:
    """Whether ``text`` at the legend's font size is at most ``share`` of the figure's width."""
    probe = figure.text(0, 0, text, fontsize="small")
    try:
        return text_width(figure, probe) <= figure.bbox.width * share
    finally:
        probe.remove()


def style_axes(ax: Axes, x_label: str, y_label: str) -> None:
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(True, color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)


def draw_curves(ax: Axes, curves: Sequence[Curve]) -> list[Line2D]:
    lines = []
    for curve in curves:
        (line,) = ax.plot(curve.x, curve.y, label=curve.label, **curve.style)
        line.set_gid(curve.gid)
        lines.append(line)
    return lines


def draw_axes_lines(ax: Axes, x_range: Sequence[float], y_range: Sequence[float]) -> None:
    """The lines x = 0 and y = 0 where they are in the window."""
    if y_range[0] < 0 < y_range[1]:
        ax.axhline(0, color="0.35", linewidth=0.8, zorder=1)
    if x_range[0] < 0 < x_range[1]:
        ax.axvline(0, color="0.35", linewidth=0.8, zorder=1)


def draw_point(ax: Axes, x: float, y: float, label: str, gid: str = "point") -> Line2D:
    (marker,) = ax.plot([x], [y], linestyle="none", marker="o", markersize=7,
                        markerfacecolor="black", markeredgecolor="white",
                        markeredgewidth=1.2, label=label, zorder=5)
    marker.set_gid(gid)
    return marker


def draw_surface(figure: Figure, ax: Axes, surface: Surface, *, alpha: float = 1.0,
                 colorbar: bool = True):
    """Filled contours (a grey hatch-free backdrop where f is undefined) with thin lines."""
    z = np.ma.masked_invalid(surface.z)
    norm = BoundaryNorm(surface.levels, ncolors=256, extend=surface.extend)
    filled = ax.contourf(surface.x, surface.y, z, levels=surface.levels, norm=norm,
                         cmap=SURFACE_COLORMAP, extend=surface.extend, alpha=alpha)
    filled.set_gid("surface")
    lines = ax.contour(surface.x, surface.y, z, levels=surface.levels, colors="black",
                       linewidths=0.35, alpha=0.45)
    lines.set_gid("contours")
    ax.set_facecolor(UNDEFINED_COLOUR)
    if colorbar:
        bar = figure.colorbar(filled, ax=ax, shrink=0.92, pad=0.02)
        bar.set_label(surface.label)
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: number(v)))
        bar.ax.tick_params(labelsize=8)
    return filled


def undefined_handle() -> Patch:
    return Patch(facecolor=UNDEFINED_COLOUR, edgecolor="0.6", label="undefined")


def draw_arrows(ax: Axes, arrows: Arrows):
    field_ = ax.quiver(arrows.x, arrows.y, arrows.u, arrows.v, angles="xy",
                       scale_units="xy", scale=1.0, pivot="middle", color="white",
                       edgecolor="0.15", linewidth=0.35, width=0.0042, headwidth=4.2,
                       headlength=4.5, headaxislength=4.0, zorder=3, label=arrows.label)
    field_.set_gid("gradient-field")
    return field_


def draw_critical_points(ax: Axes, points: Sequence[CriticalPoint]) -> list[Line2D]:
    """One marker per kind of critical point, the coordinates written beside a few."""
    handles = []
    for kind, style in CRITICAL_MARKERS.items():
        chosen = [p for p in points if p.kind == kind]
        if not chosen:
            continue
        (marker,) = ax.plot([p.x for p in chosen], [p.y for p in chosen], linestyle="none",
                            marker=style["marker"], markersize=8.5,
                            markerfacecolor=style["color"], markeredgecolor="black",
                            markeredgewidth=1.3, label=kind, zorder=6)
        marker.set_gid("critical-points-" + kind.replace(" ", "-"))
        handles.append(marker)
    if len(points) <= ANNOTATED_POINTS:
        for p in points:
            ax.annotate(f"({number(p.x)}, {number(p.y)})", (p.x, p.y), xytext=(6, 6),
                        textcoords="offset points", fontsize=8, color="black", zorder=7,
                        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white",
                              "edgecolor": "none", "alpha": 0.8})
    return handles


def _haloed_line(ax: Axes, xs, ys, i: int, label: str, gid: str, marker_size: float,
                 zorder: float) -> Line2D:
    """Path ``i``'s line (gid ``gid``, with a halo) and its iterates (``gid-iterates``).

    The markers are a separate artist without the halo: a haloed marker is written to SVG
    as a full path each time, an unhaloed one as a reference to one shared path. Returns
    the handle that stands for both in a legend.
    """
    colour = PATH_COLOURS[i % len(PATH_COLOURS)]
    linestyle = PATH_LINESTYLES[i % len(PATH_LINESTYLES)]
    marker = PATH_MARKERS[i % len(PATH_MARKERS)] if len(xs) <= MARKED_POINTS else None
    (line,) = ax.plot(xs, ys, color=colour, linestyle=linestyle, linewidth=1.7, label=label,
                      zorder=zorder, path_effects=_halo(colour, 1.7))
    line.set_gid(gid)
    if marker is not None:
        (iterates,) = ax.plot(xs, ys, linestyle="none", marker=marker, markersize=marker_size,
                              color=colour, markeredgecolor="black", markeredgewidth=0.6,
                              zorder=zorder)
        iterates.set_gid(f"{gid}-iterates")
    return Line2D([], [], color=colour, linewidth=1.7, linestyle=linestyle, marker=marker,
                  markersize=marker_size, markeredgecolor="black", markeredgewidth=0.6,
                  label=label, path_effects=_halo(colour, 1.7))


def draw_paths(ax: Axes, paths: Sequence[DescentPath], on_curve: bool = False) -> list[Line2D]:
    """Descent paths over a contour (2 parameters) or along a curve (1 parameter).

    Over a contour a path joins its iterates (x, y); along a curve it joins
    (x, f(x)), which shows each step's overshoot as a zigzag across the valley.
    Returns the legend's handles: one per path, then the start.
    """
    handles = []
    for i, path in enumerate(paths):
        xs, ys = (path.points[:, 0], path.values) if on_curve else path.points.T
        handles.append(_haloed_line(ax, xs, ys, i, path.label, f"descent-path-{i}", 4.5,
                                    4 + i * 0.01))
        (end,) = ax.plot([xs[-1]], [ys[-1]], linestyle="none", marker="*", markersize=13,
                         color=PATH_COLOURS[i % len(PATH_COLOURS)], markeredgecolor="black",
                         markeredgewidth=0.8, zorder=5 + i * 0.01)
        end.set_gid(f"descent-end-{i}")
    if paths:
        first = paths[0]
        start = (first.points[0, 0], first.values[0]) if on_curve else first.points[0]
        (mark,) = ax.plot([start[0]], [start[1]], linestyle="none", marker="o", markersize=8,
                          markerfacecolor="white", markeredgecolor="black",
                          markeredgewidth=1.4, label="start", zorder=6)
        mark.set_gid("descent-start")
        handles.append(mark)
    return handles


def end_handle() -> Line2D:
    return Line2D([], [], linestyle="none", marker="*", markersize=11, color="0.5",
                  markeredgecolor="black", label="last iterate")


def _widened(value: float, threshold: float) -> float:
    """A symlog axis limit a little beyond ``value``, never past the float range."""
    if abs(value) <= threshold:
        return value + (threshold if value >= 0 else -threshold) * 0.5
    largest = 10.0 ** LARGEST_LOSS_EXPONENT
    return float(np.clip(value * 1.6, -largest, largest))


def draw_losses(ax: Axes, paths: Sequence[DescentPath]) -> str:
    """The value per iteration of each path; the y scale is logarithmic.

    A log scale needs positive values: when some value is zero or negative the scale is
    symmetric-logarithmic (linear near 0). Returns the scale used.
    """
    values = np.concatenate([p.values for p in paths]) if paths else np.array([1.0])
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        finite = np.array([1.0])
    low, high = float(finite.min()), float(finite.max())
    if low > 0:
        scale = "log"
        ax.set_yscale("log")
        # Set the limits here: autoscaling's margin overflows past 1e307 (a diverged run).
        bottom, top = np.log10(max(low, 1e-300)), np.log10(high)
        pad = max(0.05 * (top - bottom), 0.1)
        ax.set_ylim(10 ** (bottom - pad), 10 ** min(top + pad, LARGEST_LOSS_EXPONENT))
    else:
        scale = "symlog"
        nonzero = np.abs(finite[finite != 0])
        threshold = float(np.quantile(nonzero, 0.1)) if nonzero.size else 1.0
        ax.set_yscale("symlog", linthresh=max(threshold, 1e-300))
        ax.set_ylim(_widened(low, threshold), _widened(high, threshold))
    for i, path in enumerate(paths):
        _haloed_line(ax, path.iterations, path.values, i, path.label, f"loss-{i}", 3.5, 2)
    ax.grid(True, which="major", color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("iteration")
    return scale
