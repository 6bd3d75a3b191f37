"""Request examples for the contract: the interactive docs' "Try it out" starts from the
first of each, and the contract tests send every one and expect a 200."""

from __future__ import annotations


def _examples(**named: tuple[str, dict]) -> dict:
    """OpenAPI ``examples``: name -> {summary, value}."""
    return {name: {"summary": summary, "value": value} for name, (summary, value) in named.items()}


ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"

DERIVATIVE = _examples(
    squared_error=("Derivative of a squared-error loss by w, at a point", {
        "expression": "(w*x + b - y)^2", "variable": "w",
        "point": {"w": 2, "x": 3, "b": 1, "y": 4},
    }),
    second_order=("Second derivative at an exact point", {
        "expression": "sin(x)^2", "variable": "x", "order": 2, "point": {"x": "pi/4"},
    }),
    batch=("Derivative of the sigmoid over many points", {
        "expression": "sigmoid(x)", "variable": "x", "points": [[-2], [0], [0.5], [2]],
    }),
    steps=("The rules applied, step by step", {
        "expression": "sin(x^2)", "variable": "x", "steps": True,
    }),
)

GRADIENT = _examples(
    parameters=("Gradient by the parameters, the data point as constants", {
        "expression": "(w*x + b - y)^2", "variables": ["w", "b"],
        "constants": {"x": 3, "y": 4}, "point": {"w": "1/2", "b": 0},
    }),
    rosenbrock=("Rosenbrock's function at a float point (a list aligned with the sorted "
                "names)", {"expression": ROSENBROCK, "point": [-1.5, 2]}),
    batch=("Over many points, with nulls where the value is not real", {
        "expression": "log(x) + y^2", "points": [[1, 2], [-1, 0], [0.5, 0.5]],
    }),
    check=("Checked against central finite differences", {
        "expression": "exp(x*y) + sin(x)", "point": {"x": 0.5, "y": -1}, "check": True,
    }),
)

JACOBIAN = _examples(
    exact_point=("Jacobian at an exact point", {
        "expressions": ["x*y", "sin(x) + y^2"], "point": {"x": "pi/2", "y": 1},
    }),
    polar=("Polar to Cartesian coordinates", {
        "expressions": ["r*cos(t)", "r*sin(t)"], "variables": ["r", "t"],
        "point": {"r": 2, "t": "pi/3"},
    }),
)

HESSIAN = _examples(
    saddle=("A saddle point", {"expression": "x^2 - y^2", "point": [0, 0]}),
    minimum=("Rosenbrock's minimum", {"expression": ROSENBROCK, "point": {"x": 1, "y": 1}}),
)

GRADIENT_DESCENT = _examples(
    adam=("Adam on Rosenbrock's function", {
        "expression": ROSENBROCK, "start": {"x": -1.5, "y": 2}, "optimizer": "adam",
        "learning_rate": 0.02, "max_iterations": 2000, "record_every": 100,
    }),
    linear_regression=("Least squares over data, with momentum", {
        "expression": "(w*x + b - y)^2", "variables": ["w", "b"], "start": [0, 0],
        "optimizer": "momentum", "learning_rate": 0.02,
        "data": {"x": [1, 2, 3, 4], "y": [3, 5, 7, 9]},
        "max_iterations": 500, "record_every": 50,
    }),
    minibatch=("Stochastic: minibatches of 2 rows, reproducible with a seed, L2 penalty", {
        "expression": "(w*x - y)^2", "variables": ["w"], "start": [0],
        "learning_rate": 0.01, "data": {"x": [1, 2, 3, 4], "y": [2, 4, 6, 8]},
        "batch_size": 2, "seed": 7, "regularization": {"l2": 0.01},
        "max_iterations": 200, "record_every": 20,
    }),
    newton=("Newton's method (exact Hessian)", {
        "expression": "x^4 - 3x^2 + y^2", "start": [2, 1], "optimizer": "newton",
        "max_iterations": 20,
    }),
)
