"""Reading pictures back: SVG groups and path vertices, in SVG and in data coordinates."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

SVG = "{http://www.w3.org/2000/svg}"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def parse_svg(data: bytes) -> ET.Element:
    """The SVG document's root; raises if the bytes are not well-formed XML."""
    return ET.parse(io.BytesIO(data)).getroot()


def group(root: ET.Element, gid: str) -> ET.Element:
    """The ``<g id=gid>`` that matplotlib writes for an artist with that gid."""
    found = root.find(f".//{SVG}g[@id='{gid}']")
    assert found is not None, f"no <g id={gid!r}> in the SVG"
    return found


def path_vertices(element: ET.Element) -> np.ndarray:
    """The vertices of the first ``<path>`` under ``element`` (M/L commands), in SVG units."""
    path = element.find(f"{SVG}path")
    assert path is not None
    d = path.get("d")
    assert set(re.findall(r"[A-Za-z]", d)) <= {"M", "L"}, d
    numbers = [float(n) for n in _NUMBER.findall(d)]
    return np.array(numbers).reshape(-1, 2)


def svg_to_data(figure: Figure, ax: Axes, vertices: np.ndarray) -> np.ndarray:
    """SVG coordinates (points, y down) back to the data coordinates of ``ax``.

    The SVG backend draws at 72 dots per inch with y measured from the top; the figure's
    own transforms are at its dpi with y from the bottom.
    """
    scale = figure.dpi / 72.0
    height = figure.bbox.height
    display = np.column_stack([vertices[:, 0] * scale, height - vertices[:, 1] * scale])
    return ax.transData.inverted().transform(display)


def data_to_svg(figure: Figure, ax: Axes, points: np.ndarray) -> np.ndarray:
    """Data coordinates of ``ax`` to SVG coordinates (the inverse of :func:`svg_to_data`)."""
    display = ax.transData.transform(points)
    scale = 72.0 / figure.dpi
    return np.column_stack([display[:, 0] * scale,
                            (figure.bbox.height - display[:, 1]) * scale])


def line(figure: Figure, gid: str):
    """The Line2D with ``gid`` on any axes of ``figure``, and its axes."""
    for ax in figure.axes:
        for artist in ax.get_lines():
            if artist.get_gid() == gid:
                return artist, ax
    raise AssertionError(f"no line with gid {gid!r}")
