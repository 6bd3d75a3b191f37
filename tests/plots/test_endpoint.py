"""POST /v1/plot over HTTP: image types, content negotiation, sizes and problems."""

from __future__ import annotations

import io

import numpy as np
import pytest
from numpy.testing import assert_allclose
from PIL import Image

from service.app import create_app
from service.config import Limits, Settings
from service.plots import descent_figure
from .svg_support import group, line, parse_svg

FUNCTION = {"kind": "function", "expression": "x^3 - 3x", "point": 1.5, "derivatives": [1]}
CONTOUR = {"kind": "contour", "expression": "x^3 - 3x + y^2", "critical_points": True,
           "range": {"x": [-2.5, 2.5], "y": [-2, 2]}, "grid": 80}
DESCENT = {"kind": "descent", "expression": "x^2 + 10y^2", "start": {"x": -4, "y": 2},
           "optimizers": ["gd", {"optimizer": "adam", "learning_rate": 0.3}],
           "learning_rate": 0.09, "max_iterations": 40, "loss_panel": True}
PICTURES = {"function": FUNCTION, "contour": CONTOUR, "descent": DESCENT}


@pytest.mark.parametrize("kind", PICTURES)
def test_each_kind_is_an_svg_by_default(post, kind):
    response = post("/v1/plot", PICTURES[kind])
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "Accept" in response.headers["Vary"]
    root = parse_svg(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    gids = {"function": ["function", "derivative-1", "tangent", "point"],
            "contour": ["surface", "gradient-field", "critical-points-local-minimum",
                        "critical-points-saddle-point"],
            "descent": ["descent-path-0", "descent-path-1", "loss-0", "loss-1"]}[kind]
    for gid in gids:
        group(root, gid)


@pytest.mark.parametrize("kind", PICTURES)
def test_png_is_size_times_dpi_pixels(post, kind):
    body = {**PICTURES[kind], "format": "png", "size": [5, 3.5], "dpi": 80}
    response = post("/v1/plot", body)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    image.verify()
    assert image.format == "PNG"
    assert image.size == (400, 280)


def test_default_png_size(post):
    response = post("/v1/plot", {**FUNCTION, "format": "png"})
    assert Image.open(io.BytesIO(response.data)).size == (640, 480)


@pytest.mark.parametrize("accept, body_format, expected", [
    (None, None, "image/svg+xml"),
    ("*/*", None, "image/svg+xml"),
    ("image/png", None, "image/png"),
    ("image/svg+xml", None, "image/svg+xml"),
    ("image/svg+xml;q=0.5, image/png", None, "image/png"),
    ("text/html", None, "image/svg+xml"),
    ("image/png", "svg", "image/svg+xml"),
    (None, "png", "image/png"),
    ("image/svg+xml", "png", "image/png"),
])
def test_content_negotiation(client, accept, body_format, expected):
    body = dict(FUNCTION, **({"format": body_format} if body_format else {}))
    headers = {"Accept": accept} if accept else {}
    response = client.post("/v1/plot", json=body, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == expected
    assert response.data.startswith(b"\x89PNG" if expected == "image/png" else b"<?xml")


def test_descent_picture_draws_the_trace_of_the_endpoint(post, app):
    """The same fields give /v1/gradient-descent's trace and the picture's path."""
    fields = {"expression": "(1 - x)^2 + 100(y - x^2)^2", "start": {"x": -1.5, "y": 2},
              "optimizer": "momentum", "learning_rate": 0.0005, "max_iterations": 300,
              "record_every": 10}
    trace = post("/v1/gradient-descent", fields).get_json()["trace"]
    figure = descent_figure(app.config["SETTINGS"].limits, **fields)
    drawn, _ = line(figure, "descent-path-0")
    assert_allclose(drawn.get_xydata(), [entry["point"] for entry in trace], rtol=0, atol=0)
    response = post("/v1/plot", {"kind": "descent", **fields})
    assert response.status_code == 200
    group(parse_svg(response.data), "descent-path-0")


def _problem(response, status=422):
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "application/problem+json"
    return response.get_json()


@pytest.mark.parametrize("body, field, words", [
    ({"kind": "pie", "expression": "x"}, "kind", "unknown kind 'pie'"),
    ({"expression": "x"}, "kind", "choose a kind"),
    ({**FUNCTION, "format": "gif"}, "format", "svg, png"),
    ({"kind": "contour", "expression": "x + y + z"}, "expression", "exactly two variables"),
    ({"kind": "function", "expression": "sinn(x)"}, "expression", "did you mean 'sin'"),
    ({"kind": "function", "expression": "x", "gradient_field": True}, "gradient_field",
     "belongs to kind contour"),
    ({"kind": "function", "expression": "x", "tangent": "yes"}, "tangent", "true or false"),
    ({"kind": "function", "expression": "x", "derivatives": [3]}, "derivatives/0", ""),
    ({"kind": "function", "expression": "x", "range": [0]}, "range", "two numbers"),
    ({"kind": "function", "expression": "log(-1 - x^2)"}, "expression",
     "not a finite real number anywhere"),
    ({"kind": "contour", "expression": "x*y", "range": [0, 1]}, "range", "object"),
    ({"kind": "contour", "expression": "x*y", "dpi": 5000}, "dpi", "GRADIENT_MAX_PLOT_DPI"),
    ({"kind": "contour", "expression": "x*y", "size": [1, 1]}, "size/0", ""),
    ({**DESCENT, "optimizers": ["sgd"]}, "optimizers/0", "unknown optimizer 'sgd'"),
    ({**DESCENT, "optimizers": [{"optimizer": "adam", "lr": 1}]}, "optimizers/0/lr", ""),
])
def test_mistakes_are_problems(post, body, field, words):
    problem = _problem(post("/v1/plot", body))
    assert problem["errors"][0]["field"] == field
    assert words in problem["detail"]


def test_parse_error_has_its_position(post):
    problem = _problem(post("/v1/plot", {"kind": "contour", "expression": "x * (y + "}))
    assert problem["type"].endswith("invalid-expression")
    assert problem["errors"][0]["position"] >= 8


def test_a_body_that_is_not_json_is_a_415(client):
    response = client.post("/v1/plot", data=b"<svg/>", content_type="image/svg+xml")
    assert _problem(response, 415)["detail"]


def test_picture_past_the_time_budget_is_a_422():
    app = create_app(Settings(limits=Limits(time_budget_seconds=0.001)))
    response = app.test_client().post("/v1/plot", json={**CONTOUR, "grid": 1000})
    problem = _problem(response)
    assert problem["type"].endswith("time-budget-exceeded")


def test_png_pixels_are_not_blank(post):
    response = post("/v1/plot", {**CONTOUR, "format": "png", "dpi": 50})
    pixels = np.asarray(Image.open(io.BytesIO(response.data)).convert("L"))
    assert pixels.std() > 20  # a picture, not a white page
