"""The figure builders: what is drawn is the mathematics, in the figure and in its SVG."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from service.calculus.descent import gradient_descent
from service.config import Limits
from service.errors import InvalidInput, LimitExceeded
from service.plots import contour_figure, descent_figure, function_figure, render
from service.plots.canvas import image_bytes
from .svg_support import data_to_svg, group, line, parse_svg, path_vertices, svg_to_data


@pytest.fixture
def limits() -> Limits:
    return Limits()


def svg_of(figure) -> bytes:
    return image_bytes(figure, "svg")


# --- function pictures --------------------------------------------------------------------

@pytest.mark.parametrize("expression, point, slope", [
    ("x^2", 1, 2.0),
    ("x^3 - 3x", 1.5, 3.75),
    ("sin(x)", "pi/3", 0.5),
    ("sigmoid(x)", 0, 0.25),
    ("log(x)", 2, 0.5),
    ("exp(x/2)", -1, 0.5 * math.exp(-0.5)),
])
def test_tangent_slope_is_the_derivative_in_the_figure_and_in_the_svg(limits, expression,
                                                                      point, slope):
    figure = function_figure(limits, expression=expression, point=point)
    tangent, ax = line(figure, "tangent")
    (x0, y0), (x1, y1) = tangent.get_xydata()
    assert_allclose((y1 - y0) / (x1 - x0), slope, rtol=1e-12)

    svg = svg_of(figure)
    ends = svg_to_data(figure, ax, path_vertices(group(parse_svg(svg), "tangent")))
    (u0, v0), (u1, v1) = ends[0], ends[-1]
    assert_allclose((v1 - v0) / (u1 - u0), slope, rtol=1e-4)
    # The tangent touches the curve at the point, which is marked there.
    marker, _ = line(figure, "point")
    (px, py), = marker.get_xydata()
    assert_allclose(np.interp(px, tangent.get_xdata(), tangent.get_ydata()), py, rtol=1e-9,
                    atol=1e-12)


def test_curve_and_derivatives_are_the_functions(limits):
    figure = function_figure(limits, expression="x^3 - 3x", derivatives=[1, 2],
                             range=[-2, 2], grid=401)
    for gid, truth in [("function", lambda x: x**3 - 3 * x),
                       ("derivative-1", lambda x: 3 * x**2 - 3),
                       ("derivative-2", lambda x: 6 * x)]:
        drawn, _ = line(figure, gid)
        x, y = drawn.get_xdata(), drawn.get_ydata()
        finite = np.isfinite(y)
        assert finite.sum() >= 400
        assert_allclose(y[finite], truth(x[finite]), rtol=1e-12, atol=1e-12)
    assert figure.axes[0].get_xlim() == (-2.0, 2.0)


def test_svg_path_of_the_curve_matches_the_line_data(limits):
    figure = function_figure(limits, expression="sin(x)", range=[0, 6], grid=50)
    drawn, ax = line(figure, "function")
    vertices = path_vertices(group(parse_svg(svg_of(figure)), "function"))
    assert_allclose(vertices, data_to_svg(figure, ax, drawn.get_xydata()), atol=2e-3)


def test_undefined_values_are_masked_not_drawn(limits):
    figure = function_figure(limits, expression="log(x)", derivatives=[1], range=[-2, 2])
    for gid in ("function", "derivative-1"):
        drawn, _ = line(figure, gid)
        x, y = drawn.get_xdata(), drawn.get_ydata()
        assert np.isnan(y[x < 0]).all(), gid  # 1/x is real there, but log(x) is not
        assert np.isfinite(y[x > 0.1]).all(), gid


def test_a_pole_is_not_joined_and_does_not_set_the_window(limits):
    figure = function_figure(limits, expression="tan(x)")
    drawn, ax = line(figure, "function")
    low, high = ax.get_ylim()
    assert -40 < low < -3 and 3 < high < 40
    y = drawn.get_ydata()
    assert np.isnan(y).sum() >= 3  # broken at each of the three poles in [-5, 5]


def test_a_jump_is_not_joined(limits):
    figure = function_figure(limits, expression="sign(x)", range=[-1, 1], grid=100)
    drawn, _ = line(figure, "function")
    x, y = drawn.get_xdata(), drawn.get_ydata()
    gap = np.flatnonzero(np.isnan(y))
    assert len(gap) == 1 and x[gap[0] - 1] < 0 < x[gap[0] + 1]


@pytest.mark.parametrize("fields, field, words", [
    ({"expression": "abs(x)", "point": 0}, "point", "no tangent"),
    ({"expression": "log(x)", "point": -1}, "point", "not a finite real"),
    ({"expression": "x^2", "point": 9, "range": [-1, 1]}, "point", "outside the range"),
    ({"expression": "x^2", "tangent": True}, "tangent", "needs a point"),
    ({"expression": "x*y"}, "variable", "several names"),
    ({"expression": "x*y", "variable": "x"}, "constants", "'y' has no value"),
    ({"expression": "sqrt(-1 - x^2)"}, "expression", "not a finite real number anywhere"),
    ({"expression": "x", "range": [2, 1]}, "range", "low < high"),
    ({"expression": "x", "range": [0, 1e-12]}, "range", "too narrow"),
])
def test_function_mistakes_are_invalid_input(limits, fields, field, words):
    with pytest.raises(InvalidInput) as caught:
        function_figure(limits, **fields)
    assert caught.value.errors[0].field == field
    assert words in caught.value.detail


def test_constants_and_a_named_variable(limits):
    figure = function_figure(limits, expression="a*t^2", variable="t", constants={"a": 3},
                             point=1)
    tangent, _ = line(figure, "tangent")
    (x0, y0), (x1, y1) = tangent.get_xydata()
    assert_allclose((y1 - y0) / (x1 - x0), 6.0)


# --- contour pictures ---------------------------------------------------------------------

def _critical(figure):
    found = {}
    for ax in figure.axes:
        for artist in ax.get_lines():
            gid = artist.get_gid() or ""
            if gid.startswith("critical-points-"):
                found[gid.removeprefix("critical-points-")] = artist.get_xydata()
    return found


@pytest.mark.parametrize("expression, expected", [
    ("x^3 - 3x + y^2", {"local-minimum": [(1, 0)], "saddle-point": [(-1, 0)]}),
    ("x^2 - y^2", {"saddle-point": [(0, 0)]}),
    ("-(x - 1)^2 - (y + 2)^2", {"local-maximum": [(1, -2)]}),
    ("(1 - x)^2 + 100(y - x^2)^2", {"local-minimum": [(1, 1)]}),
    ("sin(x)*sin(y)", None),
])
def test_critical_points_are_found_and_classified(limits, expression, expected):
    figure = contour_figure(limits, expression=expression, critical_points=True,
                            range={"x": [-2.5, 2.5], "y": [-2.5, 2.5]})
    found = _critical(figure)
    if expected is None:  # sin x sin y: (0, 0) and (+-pi/2, +-pi/2) lie in the window
        assert_allclose(found["saddle-point"], [[0, 0]], atol=1e-9)
        extrema = np.concatenate([found["local-minimum"], found["local-maximum"]])
        assert_allclose(np.sort(np.abs(extrema), axis=0), np.full((4, 2), np.pi / 2))
        return
    assert set(found) == set(expected)
    for kind, points in expected.items():
        assert_allclose(found[kind], points, atol=1e-9)


def test_gradient_field_points_down_the_slope(limits):
    figure = contour_figure(limits, expression="x^2 + 3y^2")
    (field,) = [c for c in figure.axes[0].collections if c.get_gid() == "gradient-field"]
    x, y = field.X, field.Y
    u, v = field.U, field.V
    ok = np.isfinite(u) & np.isfinite(v)
    # Along -grad f = (-2x, -6y): parallel to it and pointing the same way.
    assert_allclose((u * (-6 * y) - v * (-2 * x))[ok], 0, atol=1e-9)
    assert ((u * (-2 * x) + v * (-6 * y))[ok] >= 0).all()


def test_undefined_region_is_masked(limits):
    figure = contour_figure(limits, expression="log(x) + y^2", critical_points=True)
    (surface,) = [c for c in figure.axes[0].collections if c.get_gid() == "surface"]
    assert surface.levels.size > 3
    assert not _critical(figure)  # log(x) + y^2 has no critical point
    legend = figure.legends[0]
    assert "undefined" in [t.get_text() for t in legend.get_texts()]


@pytest.mark.parametrize("fields, field", [
    ({"expression": "x + y + z"}, "expression"),
    ({"expression": "x^2"}, "expression"),
    ({"expression": "x*y*z", "variables": ["x", "y"]}, "constants"),
    ({"expression": "x*y", "variables": ["x", "y", "z"]}, "variables"),
    ({"expression": "x*y", "range": {"z": [0, 1]}}, "range/z"),
    ({"expression": "x*y", "range": {"x": [1, 0]}}, "range/x"),
    ({"expression": "log(-1 - x^2 - y^2)"}, "expression"),
])
def test_contour_mistakes_are_invalid_input(limits, fields, field):
    with pytest.raises(InvalidInput) as caught:
        contour_figure(limits, **fields)
    assert caught.value.errors[0].field == field


# --- descent pictures ---------------------------------------------------------------------

DESCENT = {"expression": "x^2 + 10y^2", "start": {"x": -4, "y": 2}, "max_iterations": 40}


def test_descent_paths_are_the_traces_of_gradient_descent(limits):
    runs = [{"optimizer": "gd", "learning_rate": 0.09},
            {"optimizer": "momentum", "learning_rate": 0.01, "hyperparameters": {"momentum": 0.8}},
            {"optimizer": "adam", "learning_rate": 0.3}]
    figure = descent_figure(limits, **DESCENT, optimizers=runs, loss_panel=True)
    root = parse_svg(svg_of(figure))
    for i, run in enumerate(runs):
        trace = gradient_descent(limits, **DESCENT, **run)["trace"]
        points = np.array([entry["point"] for entry in trace])
        drawn, ax = line(figure, f"descent-path-{i}")
        assert_allclose(drawn.get_xydata(), points, rtol=0, atol=0)
        vertices = path_vertices(group(root, f"descent-path-{i}"))
        assert_allclose(vertices, data_to_svg(figure, ax, points), atol=2e-3)
        loss, _ = line(figure, f"loss-{i}")
        assert_allclose(loss.get_xydata(),
                        [[entry["iteration"], entry["value"]] for entry in trace])
    assert figure.axes[1].get_yscale() == "log"


def test_one_parameter_path_runs_along_the_curve(limits):
    fields = {"expression": "x^2", "start": [3], "optimizer": "gd", "learning_rate": 0.9,
              "max_iterations": 8}
    figure = descent_figure(limits, **fields)
    trace = gradient_descent(limits, **fields)["trace"]
    drawn, _ = line(figure, "descent-path-0")
    assert_allclose(drawn.get_xydata(), [[e["point"][0], e["value"]] for e in trace])
    assert np.sign(drawn.get_xdata()[:3]).tolist() == [1, -1, 1]  # it overshoots


def test_descent_over_data_draws_the_mean_loss(limits):
    fields = {"expression": "(w*x + b - y)^2", "variables": ["w", "b"], "start": [0, 0],
              "data": {"x": [1, 2, 3, 4], "y": [3, 5, 7, 9]}, "optimizer": "adam",
              "learning_rate": 0.1, "max_iterations": 300, "record_every": 10}
    figure = descent_figure(limits, **fields)
    body = gradient_descent(limits, **fields)
    drawn, _ = line(figure, "descent-path-0")
    assert_allclose(drawn.get_xydata(), [e["point"] for e in body["trace"]])
    (surface,) = [c for c in figure.axes[0].collections if c.get_gid() == "surface"]
    assert surface.levels[0] <= 1e-3  # the loss is 0 at w = 2, b = 1, inside the window


def test_loss_panel_of_values_below_zero_is_symmetric_log(limits):
    figure = descent_figure(limits, expression="x^2 + y^2 - 5", start=[1, 1],
                            learning_rate=0.1, max_iterations=30, loss_panel=True)
    assert figure.axes[1].get_yscale() == "symlog"


@pytest.mark.parametrize("fields, field", [
    ({"optimizers": ["gd", {"optimizer": "adam", "hyperparameters": {"momentum": 0.5}}]},
     "optimizers/1/hyperparameters/momentum"),
    ({"optimizers": ["gd"], "optimizer": "adam"}, "optimizer"),
    ({"optimizers": ["gd"], "hyperparameters": {"momentum": 0.5}}, "hyperparameters"),
    ({"expression": "x^2 + y^2 + z^2", "start": [1, 1, 1]}, "variables"),
    ({"range": [0, 1]}, "range"),
])
def test_descent_mistakes_name_the_field(limits, fields, field):
    with pytest.raises(InvalidInput) as caught:
        descent_figure(limits, **{**DESCENT, **fields})
    assert caught.value.errors[0].field == field


@pytest.mark.parametrize("fields, env", [
    ({"kind": "contour", "expression": "x*y", "grid": 2000}, "GRADIENT_MAX_PLOT_GRID"),
    ({"kind": "contour", "expression": "x*y", "dpi": 600}, "GRADIENT_MAX_PLOT_DPI"),
    ({"kind": "function", "expression": "x", "size": [30, 4]}, "GRADIENT_MAX_PLOT_INCHES"),
    ({"kind": "descent", **DESCENT, "optimizers": ["gd"] * 9}, "GRADIENT_MAX_PLOT_PATHS"),
])
def test_limits_name_their_environment_variable(limits, fields, env):
    with pytest.raises(LimitExceeded) as caught:
        render(limits, **fields)
    assert caught.value.env_var == env


def test_limits_come_from_the_settings():
    small = Limits(max_plot_grid=50)
    with pytest.raises(LimitExceeded):
        render(small, kind="function", expression="x", grid=51)
    assert render(small, kind="function", expression="x", grid=50)


def test_svg_is_deterministic_and_undated(limits):
    fields = {"kind": "contour", "expression": "x*y", "grid": 40}
    first, second = render(limits, **fields), render(limits, **fields)
    assert first == second
    assert b"<dc:date>" not in first
