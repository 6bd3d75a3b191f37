"""POST /v1/plot: pictures of functions, tangents, gradient fields and descent paths."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView

from service.api.blueprint import Blueprint
from service.api.plot_schemas import PlotRequest
from service.plots import MEDIA_TYPES, render

blp = Blueprint("plots", __name__, url_prefix="/v1",
                description="Pictures: functions and tangents, gradient fields, descent paths.")

EXAMPLES = {
    "tangent": {"summary": "A cubic, its derivative and the tangent at x = 1.5", "value": {
        "kind": "function", "expression": "x^3 - 3x", "point": 1.5, "derivatives": [1]}},
    "gradient_field": {"summary": "Contours, the field of -grad f and the critical points",
                       "value": {"kind": "contour", "expression": "x^3 - 3x + y^2",
                                 "range": {"x": [-2.5, 2.5], "y": [-2, 2]},
                                 "critical_points": True}},
    "descent": {"summary": "Three optimizers compared on an elongated bowl", "value": {
        "kind": "descent", "expression": "x^2 + 10y^2", "start": {"x": -4, "y": 2},
        "optimizers": [{"optimizer": "gd", "learning_rate": 0.09},
                       {"optimizer": "momentum", "learning_rate": 0.02},
                       {"optimizer": "adam", "learning_rate": 0.5}],
        "max_iterations": 60, "loss_panel": True}},
}

_IMAGE_RESPONSE = {
    "description": "The picture: SVG unless `format` is png or the Accept header prefers "
                   "image/png (`format` wins over Accept). The answer varies with Accept.",
    "content": {
        "image/svg+xml": {"schema": {"type": "string"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
    },
}


def negotiate(image_format: str | None) -> str:
    """``svg`` or ``png``: the body's ``format``, else what Accept prefers, else SVG."""
    if image_format is not None:
        return image_format
    best = request.accept_mimetypes.best_match([MEDIA_TYPES["svg"], MEDIA_TYPES["png"]])
    return "png" if best == MEDIA_TYPES["png"] else "svg"


@blp.route("/plot")
class PlotView(MethodView):
    @blp.arguments(PlotRequest, examples=EXAMPLES)
    @blp.doc(responses={"200": _IMAGE_RESPONSE})
    def post(self, args):
        """A picture: f and its tangent, a gradient field, or gradient-descent paths.

        kind function: f over an interval with its derivatives and the tangent at a point;
        contour: f(x, y) as filled contours with arrows along -grad f and its critical
        points; descent: the paths of /v1/gradient-descent for one or several optimizers
        over the contours of f, with an optional panel of the value per iteration.
        Rendered with matplotlib, as SVG (default) or PNG.
        """
        image_format = negotiate(args.pop("format", None))
        limits = current_app.config["SETTINGS"].limits
        image = current_app.extensions["computer"].run(render, limits, image_format=image_format,
                                                       **args)
        response = Response(image, content_type=MEDIA_TYPES[image_format])
        response.vary.add("Accept")
        return response
