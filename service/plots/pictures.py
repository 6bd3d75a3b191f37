"""POST /v1/plot's work: from validated request fields to a figure, and to image bytes.

Each picture is built in three steps: the function spec and its derivatives come from the
calculus core (``build_spec``, ``engine``; the descent paths from
:func:`service.calculus.descent.gradient_descent`, so a path is exactly the trace that
``/v1/gradient-descent`` returns for the same fields); NumPy samples them
(:mod:`~service.plots.sampling`); :mod:`~service.plots.figures` draws. :func:`render` runs
in the computation process under the time budget and returns bytes.

Defaults: a range is ``[-5, 5]`` per variable, or ``[p - 5, p + 5]`` around a function
picture's point; a descent picture's window is the box around every path, widened by a
tenth on each side. ``grid`` samples per axis (1,000 along a curve, 200 per side of a
surface); with ``data`` the surface grid is coarsened so that grid points times rows stay
under 20 million evaluations.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from service.calculus import engine
from service.calculus.descent import gradient_descent
from service.calculus.operations import symbolic
from service.calculus.spec import FunctionSpec, build_point, build_spec
from service.config import Limits
from service.errors import InvalidInput, LimitExceeded, ServiceError
from service.expressions import check_variable_name, symbol, to_latex
from service.plots import critical, figures, sampling
from service.plots.canvas import drawing, image_bytes, new_figure, styled
from service.plots.labels import formula, math as math_label, math_or_none, number, plain

DEFAULT_SIZES = {"function": (6.4, 4.8), "contour": (6.4, 5.6), "descent": (6.4, 5.8),
                 "descent with loss": (11.5, 5.4)}
DEFAULT_GRIDS = {"function": 1_000, "contour": 200, "descent": 200}
DEFAULT_DPI = 100
#: With ``data``, grid points x rows evaluated for a descent picture's surface at most.
MAX_DATA_EVALUATIONS = 20_000_000
#: Rows of data evaluated at once (grid points x rows per chunk).
CHUNK_EVALUATIONS = 2_000_000
ARROWS_PER_SIDE = 17


@dataclasses.dataclass(frozen=True)
class Frame:
    """Size in inches, resolution and samples per axis of one picture."""

    size: tuple[float, float]
    dpi: int
    grid: int


def _frame(limits: Limits, kind: str, size, dpi, grid) -> Frame:
    """The picture's frame, each part checked against its limit."""
    if size is not None:
        for i, inches in enumerate(size):
            if inches > limits.max_plot_inches:
                raise LimitExceeded(f"size/{i} is {inches:g} inches", limits.max_plot_inches,
                                    Limits.env_var("max_plot_inches"), field=f"size/{i}")
    dpi = DEFAULT_DPI if dpi is None else dpi
    if dpi > limits.max_plot_dpi:
        raise LimitExceeded(f"dpi is {dpi:,}", limits.max_plot_dpi,
                            Limits.env_var("max_plot_dpi"), field="dpi")
    if grid is None:
        grid = min(DEFAULT_GRIDS[kind], limits.max_plot_grid)
    elif grid > limits.max_plot_grid:
        raise LimitExceeded(f"grid is {grid:,} samples per axis", limits.max_plot_grid,
                            Limits.env_var("max_plot_grid"), field="grid")
    return Frame(tuple(size) if size is not None else DEFAULT_SIZES[kind], dpi, grid)


def _interval(raw: Sequence[float], field: str) -> tuple[float, float]:
    """A range ``[low, high]`` checked: ordered, finite, not absurdly wide or narrow."""
    low, high = float(raw[0]), float(raw[1])
    if not low < high:
        raise InvalidInput(field, f"a range is [low, high] with low < high; got "
                                  f"[{number(low)}, {number(high)}]")
    if max(abs(low), abs(high)) > sampling.LARGEST_BOUND:
        raise InvalidInput(field, f"the ends of a range are at most {sampling.LARGEST_BOUND:g} "
                                  "in size")
    if high - low < 1e-9 * max(1.0, abs(low), abs(high)):
        raise InvalidInput(field, "the range is too narrow to draw: widen it to at least "
                                  "a billionth of the size of its ends")
    return low, high


def _ranges(raw: Mapping[str, Any] | None, names: Sequence[str],
            defaults: Mapping[str, tuple[float, float]]) -> list[tuple[float, float]]:
    """One interval per name from ``range`` given as an object name -> [low, high]."""
    raw = raw or {}
    unknown = [name for name in raw if name not in names]
    if unknown:
        raise InvalidInput(f"range/{unknown[0]}", f"'{unknown[0]}' is not a variable of the "
                                                  f"picture (its variables are: {', '.join(names)})")
    return [_interval(raw[n], f"range/{n}") if n in raw else defaults[n] for n in names]


def _nothing_to_draw(expression: str, names: Sequence[str],
                     ranges: Sequence[tuple[float, float]]) -> InvalidInput:
    where = ", ".join(f"{n} in [{number(lo)}, {number(hi)}]" for n, (lo, hi) in zip(names, ranges))
    return InvalidInput(
        "expression",
        f"{expression!r} is not a finite real number anywhere in the window ({where}): "
        "nothing to draw; choose a range where it is defined",
    )


def _unbound_names(spec: FunctionSpec, wanted: int, field: str) -> None:
    extra = spec.names[len(spec.variables):]
    if extra:
        raise InvalidInput(
            "constants",
            f"'{extra[0]}' has no value: a {field} picture draws {wanted} variable"
            f"{'s' if wanted > 1 else ''} ({', '.join(spec.variables)}); give the others "
            "in constants",
        )


def _name(names: Sequence[str]) -> tuple[str, str]:
    """``f(x, y)`` in LaTeX and in text."""
    latex = ", ".join(to_latex(symbol(n)) for n in names)
    return f"f({latex})", f"f({', '.join(names)})"


def _legend_label(figure: Figure, full: str, short: str, share: float = 0.5) -> str:
    return full if figures.fits(figure, full, share) else short


# --- kind "function" ------------------------------------------------------------------------

def _function_variable(spec: FunctionSpec, variable: str | None) -> str:
    if variable is not None:
        return variable
    if len(spec.variables) == 1:
        return spec.variables[0]
    if not spec.variables:
        return "x"
    raise InvalidInput(
        "variable",
        f"the expression has several names ({', '.join(spec.variables)}): say which one is "
        "the variable, and give the others in constants",
    )


@styled
def function_figure(
    limits: Limits, *, expression: str, variable: str | None = None, range=None,
    point=None, tangent: bool | None = None, derivatives: Sequence[int] = (),
    constants=None, size=None, dpi=None, grid=None,
) -> Figure:
    """f over an interval; optionally f', f'' and the tangent line at a point."""
    frame = _frame(limits, "function", size, dpi, grid)
    if variable is not None:
        check_variable_name(variable, "variable")
        if constants and variable in constants:
            raise InvalidInput("variable", f"'{variable}' is a constant; it cannot be the "
                                           "variable of the picture")
    spec = build_spec([expression], limits, constants=constants,
                      also_symbols=[variable] if variable else [])
    name = _function_variable(spec, variable)
    spec = FunctionSpec(spec.expressions, (name,), (name,) + tuple(
        n for n in spec.names if n != name))
    _unbound_names(spec, 1, "function")
    if tangent and point is None:
        raise InvalidInput("tangent", "a tangent needs a point: give point")
    tangent = point is not None if tangent is None else tangent
    x = symbol(name)
    f = spec.expressions[0]
    orders = sorted(set(derivatives))
    needed = sorted(set(orders) | ({1} if tangent else set()))
    found = {k: engine.differentiate(f, *[x] * k) for k in needed}
    compiled = engine.compile_numeric([f] + [found[k].expr for k in needed], [x])

    at = None
    if point is not None:
        raw = point if isinstance(point, (list, dict)) else [point]
        at = build_point(raw, spec, limits, field="point")
    if range is not None:
        x_range = _interval(range, "range")
    elif at is not None and abs(at.numeric[0]) > sampling.LARGEST_BOUND:
        raise InvalidInput("point", f"the point is too far out to draw around (at most "
                                    f"{sampling.LARGEST_BOUND:g} in size)")
    else:
        x_range = sampling.default_range(at.numeric[0] if at else None)
    if at is not None and not x_range[0] <= at.numeric[0] <= x_range[1]:
        raise InvalidInput("point", f"the point {name} = {number(at.numeric[0])} is outside "
                                    f"the range [{number(x_range[0])}, {number(x_range[1])}]")

    xs = np.linspace(x_range[0], x_range[1], frame.grid)
    samples = sampling.evaluate(compiled, [xs], xs.shape)
    if len(samples) != 1 + len(needed):
        samples = [samples[0]] * (1 + len(needed))
    values = dict(zip([0] + needed, samples))
    if not np.isfinite(values[0]).any():
        raise _nothing_to_draw(expression, [name], [x_range])
    for k in needed:  # no derivative where f itself is undefined (1/x is real at x < 0)
        values[k][~np.isfinite(values[0])] = np.nan

    marked = None
    line = None
    if at is not None:
        p = at.numeric[0]
        at_point = sampling.evaluate(compiled, [np.array([p])], (1,))
        fp = float(at_point[0][0])
        if not math.isfinite(fp):
            raise InvalidInput("point", f"f is not a finite real number at {name} = "
                                        f"{number(p)}: choose a point where it is defined")
        marked = (p, fp)
        if tangent:
            exact = {x: at.exact[0]} if at.exact is not None else {x: sympy.Float(p, 17)}
            problem = engine.kink_warning(found[1], exact, numeric=at.exact is None)
            slope = float(at_point[1 + needed.index(1)][0])
            if problem is None and not math.isfinite(slope):
                problem = "is not a finite real number there"
            if problem is not None:
                raise InvalidInput("point", f"there is no tangent at {name} = {number(p)}: "
                                            f"the derivative {problem}")
            line = (p, fp, slope)

    y_range = sampling.window(*[values[k] for k in [0] + orders],
                              *([np.array([marked[1]])] if marked else []))

    figure = new_figure(frame.size, frame.dpi)
    ax = figure.add_subplot()
    figures.style_axes(ax, math_label(to_latex(x), name), "")
    figures.draw_axes_lines(ax, x_range, y_range)
    f_latex, f_text = _name([name])
    f_symbolic = symbolic(f)
    title = formula(f_latex, f_symbolic["latex"], f_text, f_symbolic["expression"])
    primes = {1: "'", 2: "''"}
    curves = [figures.Curve(*sampling.with_breaks(xs, values[0], *y_range), f"${f_latex}$",
                            "function", figures.CURVE_STYLES[0])]
    for k in orders:
        derivative = symbolic(found[k].expr)
        name_latex = f"f{primes[k]}({to_latex(x)})"
        full = formula(name_latex, derivative["latex"], f"f{primes[k]}({name})",
                       derivative["expression"])
        curves.append(figures.Curve(
            *sampling.with_breaks(xs, values[k], *y_range),
            _legend_label(figure, full, f"${name_latex}$"), f"derivative-{k}",
            figures.CURVE_STYLES[k]))
    figures.draw_curves(ax, curves)
    if line is not None:
        p, fp, slope = line
        ends = np.array(x_range)
        shown = _exact_latex(found[1].expr, x, at, slope)
        (drawn,) = ax.plot(ends, fp + slope * (ends - p), zorder=4,
                           label=f"tangent at ${to_latex(x)} = {_coordinate_latex(at)}$, "
                                 f"slope ${shown}$", **figures.TANGENT_STYLE)
        drawn.set_gid("tangent")
    if marked is not None:
        shown = _exact_latex(f, x, at, marked[1])
        figures.draw_point(ax, *marked, label=f"$({_coordinate_latex(at)},\\ {shown})$")
    ax.set_xlim(*x_range)
    ax.set_ylim(*y_range)
    _figure_legend(figure, ax.get_legend_handles_labels()[0])
    figures.set_title(figure, ax, [title, f"${f_latex}$"])
    return figure


#: Longest exact value (LaTeX) written in a label; longer ones are shown as floats.
MAX_EXACT_LATEX = 40


def _exact_latex(expr: sympy.Expr, x: sympy.Symbol, point, value: float) -> str:
    """``value`` for a label: exact (and approximate) when the point is exact, else a float.

    ``sqrt(2)/2`` reads better than 0.7071 in a picture about sin at pi/4; an exact value
    that is long, or is just the float again, is shown as the float.
    """
    if point.exact is None:
        return number(value)
    exact = engine.substitute(expr, {x: point.exact[0]})
    if not exact.is_number or exact.has(sympy.Float):
        return number(value)
    latex = math_or_none(to_latex(exact))
    if latex is None or len(latex) > MAX_EXACT_LATEX:
        return number(value)
    if exact.is_Integer or (exact.is_Rational and len(number(value)) >= len(latex)):
        return latex
    return f"{latex} \\approx {number(value)}"


def _coordinate_latex(point) -> str:
    """The coordinate of a one-variable point as given: exact LaTeX, or the float."""
    if point.exact is not None:
        return to_latex(point.exact[0])
    return number(point.numeric[0])


# --- kind "contour" -------------------------------------------------------------------------

def _two_variables(spec: FunctionSpec, given: bool) -> None:
    if len(spec.variables) != 2:
        field = "variables" if given else "expression"
        names = ", ".join(spec.variables) or "none"
        raise InvalidInput(
            field,
            f"a contour picture draws a function of exactly two variables; "
            f"{'variables lists' if given else 'the expression has'} {len(spec.variables)} "
            f"({names}): give the others in constants",
        )


@dataclasses.dataclass
class _Field:
    """A function of two variables compiled with its gradient (and Hessian on demand)."""

    f: sympy.Expr
    symbols: tuple[sympy.Symbol, sympy.Symbol]

    def __post_init__(self):
        partials = engine.gradient(self.f, self.symbols)
        self.partials = partials
        self.values = engine.compile_numeric([self.f] + [d.expr for d in partials],
                                             list(self.symbols))

    def sample(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """f, df/dx, df/dy over arrays; NaN where f is not a finite real."""
        sampled = sampling.evaluate(self.values, [x, y], x.shape)
        if len(sampled) != 3:  # the compiled function failed as a whole
            sampled = [np.full(x.shape, np.nan) for _ in range(3)]
        z, gx, gy = sampled
        undefined = ~np.isfinite(z)
        gx[undefined] = np.nan
        gy[undefined] = np.nan
        return z, gx, gy

    def critical_points(self, x, y, gradient_norm, x_range, y_range):
        rows = engine.hessian(self.f, self.symbols)
        gradient = engine.compile_numeric([d.expr for d in self.partials], list(self.symbols))
        hessian = engine.compile_numeric([[d.expr for d in row] for row in rows],
                                         list(self.symbols))
        return critical.find(gradient, hessian, x, y, gradient_norm, x_range, y_range)


def _arrows(field: _Field, x_range, y_range) -> figures.Arrows:
    ax_, ay_ = sampling.arrow_grid(x_range, y_range, ARROWS_PER_SIDE)
    _, gx, gy = field.sample(ax_, ay_)
    x_span, y_span = x_range[1] - x_range[0], y_range[1] - y_range[0]
    u, v = sampling.unit_arrows(-gx, -gy, x_span, y_span, 0.62 / ARROWS_PER_SIDE)
    return figures.Arrows(ax_, ay_, u, v, "direction of $-\\nabla f$ (steepest descent)")


def _arrow_handle() -> Line2D:
    return Line2D([], [], linestyle="none", marker=r"$\rightarrow$", markersize=13,
                  color="0.15", label="direction of $-\\nabla f$ (steepest descent)")


def _square_enough(x_range, y_range) -> bool:
    ratio = (x_range[1] - x_range[0]) / (y_range[1] - y_range[0])
    return 1 / 3 <= ratio <= 3


def _figure_legend(figure: Figure, handles: list) -> None:
    if handles:
        figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 2))


@styled
def contour_figure(
    limits: Limits, *, expression: str, variables: Sequence[str] | None = None, range=None,
    gradient_field: bool = True, critical_points: bool = False, constants=None,
    size=None, dpi=None, grid=None,
) -> Figure:
    """A function of two variables as filled contours, with -grad f and critical points."""
    frame = _frame(limits, "contour", size, dpi, grid)
    spec = build_spec([expression], limits, variables=variables, constants=constants)
    _two_variables(spec, variables is not None)
    _unbound_names(spec, 2, "contour")
    names = spec.variables
    x_range, y_range = _ranges(range, names, {n: sampling.default_range() for n in names})
    field = _Field(spec.expressions[0], spec.variable_symbols)
    xs, ys = sampling.grid_axes(x_range, y_range, frame.grid)
    x, y = np.meshgrid(xs, ys)
    z, gx, gy = field.sample(x, y)
    if not np.isfinite(z).any():
        raise _nothing_to_draw(expression, names, [x_range, y_range])
    levels, extend = sampling.contour_levels(z)

    figure = new_figure(frame.size, frame.dpi)
    ax = figure.add_subplot()
    labels = [math_label(to_latex(s), n) for s, n in zip(spec.variable_symbols, names)]
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    f_latex, f_text = _name(names)
    figures.draw_surface(figure, ax, figures.Surface(xs, ys, z, levels, extend,
                                                     f"${f_latex}$"))
    handles = []
    if gradient_field:
        figures.draw_arrows(ax, _arrows(field, x_range, y_range))
        handles.append(_arrow_handle())
    if critical_points:
        found = field.critical_points(x, y, np.hypot(gx, gy), x_range, y_range)
        handles += figures.draw_critical_points(ax, found)
    if not np.isfinite(z).all():
        handles.append(figures.undefined_handle())
    ax.set_xlim(*x_range)
    ax.set_ylim(*y_range)
    if _square_enough(x_range, y_range):
        ax.set_aspect("equal")
    _figure_legend(figure, handles)
    f_symbolic = symbolic(spec.expressions[0])
    figures.set_title(figure, ax, [
        formula(f_latex, f_symbolic["latex"], f_text, f_symbolic["expression"]),
        f"${f_latex}$"])
    return figure


# --- kind "descent" -------------------------------------------------------------------------

def _runs(fields: dict, optimizers, optimizer, learning_rate, hyperparameters,
          max_paths: int) -> list[tuple[dict, str | None]]:
    """The runs to draw: (fields for gradient_descent, prefix of their error fields)."""
    if optimizers is None:
        run = dict(fields, optimizer=optimizer or "gd")
        if learning_rate is not None:
            run["learning_rate"] = learning_rate
        if hyperparameters is not None:
            run["hyperparameters"] = hyperparameters
        return [(run, None)]
    if optimizer is not None:
        raise InvalidInput("optimizer", "give optimizer (one path) or optimizers (several), "
                                        "not both")
    if hyperparameters is not None:
        raise InvalidInput("hyperparameters", "with optimizers, give hyperparameters in each "
                                              "entry: {\"optimizer\", \"learning_rate\", "
                                              "\"hyperparameters\"}")
    if len(optimizers) > max_paths:
        raise LimitExceeded(f"{len(optimizers):,} optimizers were given", max_paths,
                            Limits.env_var("max_plot_paths"), field="optimizers")
    runs = []
    for i, entry in enumerate(optimizers):
        entry = {"optimizer": entry} if isinstance(entry, str) else dict(entry)
        run = dict(fields, optimizer=entry["optimizer"])
        rate = entry.get("learning_rate", learning_rate)
        if rate is not None:
            run["learning_rate"] = rate
        if entry.get("hyperparameters") is not None:
            run["hyperparameters"] = entry["hyperparameters"]
        runs.append((run, f"optimizers/{i}"))
    return runs


_PER_RUN_FIELDS = ("optimizer", "learning_rate", "hyperparameters")


def _descend(limits: Limits, run: dict, prefix: str | None) -> dict:
    try:
        return gradient_descent(limits, **run)
    except ServiceError as error:
        if prefix is not None:
            error.errors = [
                dataclasses.replace(e, field=f"{prefix}/{e.field}")
                if e.field and e.field.split("/")[0] in _PER_RUN_FIELDS else e
                for e in error.errors
            ]
        raise


def _path_label(body: dict, explicit: Mapping[str, float] | None) -> str:
    used = body["optimizer"]
    settings = [f"lr {number(used['learning_rate'])}"]
    settings += [f"{k} {number(v)}" for k, v in (explicit or {}).items()]
    result = body["result"]
    steps = result["iterations"]
    outcome = {"tolerance": f"converged in {steps:,} steps",
               "max_iterations": f"{steps:,} steps",
               "diverged": f"diverged after {steps:,} steps"}[result["stop_reason"]]
    return plain(f"{used['name']} ({', '.join(settings)}): {outcome}", 70)


def _surface_values(value_fn: Callable, grids: Sequence[np.ndarray], data: Mapping[str, Sequence],
                    reduction: str, regularization: Mapping[str, float] | None) -> np.ndarray:
    """The objective over a grid of parameters: f itself, or its reduction over the rows."""
    shape = grids[0].shape
    if not data:
        values = sampling.evaluate(value_fn, list(grids), shape)[0]
    else:
        columns = [np.asarray(c, dtype=float) for c in data.values()]
        rows = len(columns[0])
        flat = [g.ravel() for g in grids]
        values = np.empty(flat[0].size)
        chunk = max(1, CHUNK_EVALUATIONS // rows)
        for start in np.arange(0, flat[0].size, chunk):
            part = [g[start:start + chunk, None] for g in flat]
            losses = sampling.evaluate(value_fn, part + [c[None, :] for c in columns],
                                       (part[0].shape[0], rows))[0]
            total = losses.sum(axis=1)
            values[start:start + chunk] = total / rows if reduction == "mean" else total
        values = values.reshape(shape)
    l1 = (regularization or {}).get("l1", 0.0)
    l2 = (regularization or {}).get("l2", 0.0)
    if l1 or l2:
        values = values + sum(l1 * np.abs(g) + l2 * g * g for g in grids)
    return values


@styled
def descent_figure(
    limits: Limits, *, expression: str, start, optimizers=None, optimizer: str | None = None,
    learning_rate: float | None = None, hyperparameters: dict | None = None,
    loss_panel: bool = False, range=None, size=None, dpi=None, grid=None, **fields,
) -> Figure:
    """Gradient-descent paths over the contours (two parameters) or the curve (one) of f.

    ``fields`` are the other fields of /v1/gradient-descent, passed on unchanged.
    """
    kind = "descent with loss" if loss_panel else "descent"
    frame = _frame(limits, "descent", size if size is not None else DEFAULT_SIZES[kind], dpi,
                   grid)
    fields = dict(fields, expression=expression, start=start)
    runs = _runs(fields, optimizers, optimizer, learning_rate, hyperparameters,
                 limits.max_plot_paths)
    bodies = []
    for run, prefix in runs:
        bodies.append(_descend(limits, run, prefix))
        if len(bodies[0]["variables"]) > 2:
            raise InvalidInput(
                "variables",
                f"a descent picture shows one or two parameters; there are "
                f"{len(bodies[0]['variables'])} ({', '.join(bodies[0]['variables'])}): give "
                "the others in constants",
            )
    names = bodies[0]["variables"]
    paths = [figures.DescentPath(
        np.array([entry["point"] for entry in body["trace"]], dtype=float),
        np.array([entry["value"] for entry in body["trace"]], dtype=float),
        np.array([entry["iteration"] for entry in body["trace"]]),
        _path_label(body, run.get("hyperparameters")),
    ) for body, (run, _) in zip(bodies, runs)]

    data = fields.get("data") or {}
    constants = fields.get("constants")
    spec = build_spec([expression], limits, variables=names, constants=constants,
                      also_symbols=list(data))
    parameters = spec.variable_symbols
    value_fn = engine.compile_numeric(spec.expressions[0],
                                      list(parameters) + [symbol(n) for n in data])
    all_points = np.concatenate([p.points for p in paths])
    if isinstance(range, list):
        if len(names) != 1:
            raise InvalidInput("range", "with two parameters, range is an object "
                                        "{\"x\": [low, high], \"y\": [low, high]}")
        range = {names[0]: range}
    defaults = {n: sampling.bounding_range(all_points[:, i], margin=0.1)
                for i, n in enumerate(names)}
    windows = _ranges(range, names, defaults)
    samples = frame.grid
    if data:
        rows = len(next(iter(data.values())))
        per_axis = MAX_DATA_EVALUATIONS // max(rows, 1)
        samples = max(8, min(samples, per_axis if len(names) == 1 else math.isqrt(per_axis)))

    figure = new_figure(frame.size, frame.dpi)
    if loss_panel:
        ax, loss_ax = figure.subplots(1, 2, width_ratios=[1.35, 1])
    else:
        ax, loss_ax = figure.add_subplot(), None
    labels = [math_label(to_latex(s), n) for s, n in zip(parameters, names)]
    f_latex, f_text = _name(names)
    objective = symbolic(spec.expressions[0])
    if data:
        reduction = "mean" if fields.get("reduction", "mean") == "mean" else "sum"
        rows = len(next(iter(data.values())))
        loss = math_label(objective["latex"], objective["expression"])
        title_candidates = [f"${f_latex}$ = {reduction} over {rows:,} rows of {loss}",
                            f"${f_latex}$ = {reduction} of the loss over {rows:,} rows"]
    else:
        title_candidates = [formula(f_latex, objective["latex"], f_text,
                                    objective["expression"]), f"${f_latex}$"]
    penalty = fields.get("regularization")
    if penalty and (penalty.get("l1") or penalty.get("l2")):
        title_candidates = [t + " + penalty" for t in title_candidates]

    handles: list = []
    if len(names) == 1:
        xs = np.linspace(*windows[0], samples)
        values = _surface_values(value_fn, [xs], data, fields.get("reduction", "mean"),
                                 penalty)
        if not np.isfinite(values).any():
            raise _nothing_to_draw(expression, names, windows)
        y_range = sampling.window(values)  # the iterates in the window lie on this curve
        figures.style_axes(ax, labels[0], f"${f_latex}$")
        figures.draw_axes_lines(ax, windows[0], y_range)
        figures.draw_curves(ax, [figures.Curve(
            *sampling.with_breaks(xs, values, *y_range), f"${f_latex}$", "function",
            figures.CURVE_STYLES[0])])
        path_handles = figures.draw_paths(ax, paths, on_curve=True)
        ax.set_xlim(*windows[0])
        ax.set_ylim(*y_range)
    else:
        xs, ys = sampling.grid_axes(windows[0], windows[1], samples)
        x, y = np.meshgrid(xs, ys)
        z = _surface_values(value_fn, [x, y], data, fields.get("reduction", "mean"), penalty)
        if not np.isfinite(z).any():
            raise _nothing_to_draw(expression, names, windows)
        levels, extend = sampling.contour_levels(z, valley=True)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        figures.draw_surface(figure, ax, figures.Surface(xs, ys, z, levels, extend,
                                                         f"${f_latex}$"), alpha=0.85)
        path_handles = figures.draw_paths(ax, paths)
        if not np.isfinite(z).all():
            handles.append(figures.undefined_handle())
        ax.set_xlim(*windows[0])
        ax.set_ylim(*windows[1])
        if _square_enough(*windows):
            ax.set_aspect("equal")
    _figure_legend(figure, path_handles + [figures.end_handle()] + handles)
    if loss_ax is not None:
        scale = figures.draw_losses(loss_ax, paths)
        loss_ax.set_ylabel(f"${f_latex}$" + (" (symmetric log scale)" if scale == "symlog"
                                             else " (log scale)"))
        loss_ax.set_title("value per iteration")
    figures.set_title(figure, ax, title_candidates, share=0.97 if loss_ax is None else 0.55)
    return figure


# --- the entry point ------------------------------------------------------------------------

#: One builder per kind of picture.
PICTURES: dict[str, Callable[..., Figure]] = {
    "function": function_figure,
    "contour": contour_figure,
    "descent": descent_figure,
}


def render(limits: Limits, *, kind: str, image_format: str = "svg", **fields) -> bytes:
    """The picture of ``kind`` as SVG or PNG bytes (runs in the computation process)."""
    build = PICTURES.get(kind)
    if build is None:
        raise InvalidInput("kind", f"unknown kind {kind!r}; choose one of {', '.join(PICTURES)}")
    with drawing():
        try:
            figure = build(limits, **fields)
        except sampling.NothingToDraw:
            raise InvalidInput("expression", "the expression is not a finite real number "
                                             "anywhere in the window: nothing to draw") from None
        return image_bytes(figure, image_format)


__all__ = ["render", "function_figure", "contour_figure", "descent_figure", "PICTURES"]
