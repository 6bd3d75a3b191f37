"""Figures without pyplot: the house style, and a figure written out as SVG or PNG bytes.

Everything goes through matplotlib's object-oriented API (``matplotlib.figure.Figure``
with an Agg canvas attached), never ``pyplot``: pyplot keeps global figure state and picks
a GUI backend, neither of which belongs in a long-running worker. The few settings that
matplotlib only reads from ``rcParams`` (the SVG id salt, the house fonts) are applied with
``rc_context`` around building and saving, under a lock so that threads never see each
other's settings.

SVG output is deterministic: element ids are salted with a fixed string
(``svg.hashsalt``) and no date is written, so the same request always gives the same
bytes. Text is written as paths (``svg.fonttype = "path"``): the picture looks the same
in every browser whatever fonts it has, at the price of text that cannot be selected.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

log = logging.getLogger(__name__)

#: Media type of each output format.
MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}

#: Colour map of filled contours: perceptually uniform, readable in greyscale.
SURFACE_COLORMAP = "viridis"

STYLE = {
    "svg.hashsalt": "gradient-service",
    "svg.fonttype": "path",
    # Draw every vertex: a descent path is the trace, not an approximation of it.
    "path.simplify": False,
    "font.size": 10.0,
    "axes.titlesize": 11.0,
    "axes.labelsize": 10.0,
    "legend.fontsize": 8.5,
    "legend.framealpha": 0.92,
    "legend.edgecolor": "0.7",
    "xtick.labelsize": 9.0,
    "ytick.labelsize": 9.0,
    "axes.formatter.useoffset": False,
    "axes.formatter.limits": (-4, 5),
    "image.cmap": SURFACE_COLORMAP,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.constrained_layout.h_pad": 0.06,
    "figure.constrained_layout.w_pad": 0.06,
}

# matplotlib's rcParams are process-global: one picture at a time per process.
_DRAWING = threading.RLock()


@contextmanager
def drawing() -> Iterator[None]:
    """Build and save pictures inside this: the house style, no floating-point warnings.

    matplotlib's own warnings (a layout that cannot fit, say) are logged, not raised: a
    picture that is a little cramped is still an answer.
    """
    with _DRAWING, matplotlib.rc_context(STYLE), np.errstate(all="ignore"), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        log.debug("while drawing: %s", warning.message)


def styled(build: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a figure builder inside :func:`drawing`, so its artists get the house style."""

    @functools.wraps(build)
    def build_styled(*args, **kwargs) -> Figure:
        with drawing():
            return build(*args, **kwargs)

    return build_styled


def new_figure(size: tuple[float, float], dpi: float) -> Figure:
    """A figure of ``size`` inches at ``dpi`` with constrained layout (no clipped labels).

    An Agg canvas is attached so that text can be measured before the figure is saved.
    """
    figure = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def image_bytes(figure: Figure, image_format: str) -> bytes:
    """The figure as SVG or PNG bytes; the PNG is exactly ``size * dpi`` pixels."""
    if image_format not in MEDIA_TYPES:
        raise ValueError(f"unknown image format {image_format!r}")
    buffer = io.BytesIO()
    metadata = {"Date": None} if image_format == "svg" else {"Software": "gradient-service"}
    with drawing():
        figure.savefig(buffer, format=image_format, dpi=figure.dpi, metadata=metadata)
    return buffer.getvalue()


def text_width(figure: Figure, artist) -> float:
    """Width of a text artist in pixels, as it will be drawn."""
    return artist.get_window_extent(figure.canvas.get_renderer()).width
