"""Test functions, compiled the way the calculus layer compiles them: with lambdify."""

from __future__ import annotations

import sympy as sp

from service.optimize import DataObjective, ScalarObjective

x, y, w, b = sp.symbols("x y w b")

#: name -> (expression in x, y; the known minimiser; a start point)
TEXTBOOK = {
    "quadratic": (x**2 + 3 * y**2 + x * y, (0.0, 0.0), (3.0, -2.0)),
    "rosenbrock": ((1 - x) ** 2 + 100 * (y - x**2) ** 2, (1.0, 1.0), (-1.2, 1.0)),
    "beale": ((sp.Rational(3, 2) - x + x * y) ** 2 + (sp.Rational(9, 4) - x + x * y**2) ** 2
              + (sp.Rational(21, 8) - x + x * y**3) ** 2, (3.0, 0.5), (1.0, 1.0)),
    "booth": ((x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2, (1.0, 3.0), (0.0, 0.0)),
}


def compile_scalar(expression, variables=(x, y), **kwargs) -> ScalarObjective:
    """value, gradient and Hessian of ``expression`` as lambdified callables."""
    variables = list(variables)
    return ScalarObjective(
        sp.lambdify(variables, expression),
        sp.lambdify(variables, [sp.diff(expression, v) for v in variables]),
        sp.lambdify(variables, sp.hessian(expression, variables).tolist()),
        **kwargs,
    )


def compile_data(loss, parameters, columns: dict, **kwargs) -> DataObjective:
    """A per-sample ``loss`` over ``columns`` (named like the column symbols)."""
    parameters = list(parameters)
    arguments = parameters + [sp.Symbol(name) for name in columns]
    return DataObjective(
        sp.lambdify(arguments, loss),
        sp.lambdify(arguments, [sp.diff(loss, p) for p in parameters]),
        sp.lambdify(arguments, sp.hessian(loss, parameters).tolist()),
        columns,
        **kwargs,
    )


def least_squares(columns, **kwargs) -> DataObjective:
    """Squared error of ``w*x + b`` against ``y``, per sample."""
    return compile_data((w * sp.Symbol("x") + b - sp.Symbol("y")) ** 2, (w, b), columns,
                        **kwargs)
