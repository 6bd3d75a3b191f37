"""Pictures of functions, tangents, gradient fields and descent paths (POST /v1/plot).

Pure matplotlib and NumPy (no Flask): :func:`render` turns a picture request's fields into
SVG or PNG bytes, in the computation process under the time budget. The figure builders
(:func:`function_figure`, :func:`contour_figure`, :func:`descent_figure`) return the
matplotlib figure itself, whose artists carry ids (``tangent``, ``descent-path-0``...).
"""

from service.plots.canvas import MEDIA_TYPES
from service.plots.pictures import PICTURES, contour_figure, descent_figure, function_figure, render

__all__ = ["MEDIA_TYPES", "PICTURES", "contour_figure", "descent_figure", "function_figure",
           "render"]
