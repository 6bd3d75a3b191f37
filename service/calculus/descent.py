"""POST /v1/gradient-descent's work: compile the objective, then run the NumPy loop.

SymPy differentiates once and ``lambdify`` compiles value, gradient (and, for Newton, the
Hessian); the loop in ``service.optimize`` then runs on floats and arrays only.
With ``data``, ``expression`` is the loss of one sample: its data names become array
arguments and the objective is the reduction over rows.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Mapping, Sequence

from service.calculus import engine
from service.calculus.operations import symbolic
from service.calculus.spec import build_point, build_spec
from service.config import Limits
from service.errors import InvalidInput, LimitExceeded
from service.expressions import check_variable_name, symbol
from service.optimize import DataObjective, ScalarObjective, descend
from service.optimize.descent import check_trace_size

# The loop stops itself at this share of the time budget, with its own message, a little
# before the supervisor (service.compute) would have to kill and replace the process.
_BUDGET_SHARE = 0.9


def _check_data(data: Mapping[str, Sequence], variables, constants, limits: Limits) -> None:
    if len(data) > limits.max_variables:
        raise LimitExceeded(
            f"data has {len(data):,} columns", limits.max_variables,
            Limits.env_var("max_variables"), field="data",
        )
    for name, column in data.items():
        check_variable_name(name, f"data/{name}")
        if variables and name in variables:
            raise InvalidInput(
                f"data/{name}",
                f"data column '{name}' has the name of a variable; rename the column "
                "or the variable",
            )
        if constants and name in constants:
            raise InvalidInput(f"data/{name}", f"data column '{name}' is also a constant")
        if len(column) > limits.max_data_rows:
            raise LimitExceeded(
                f"data column '{name}' has {len(column):,} rows",
                limits.max_data_rows, Limits.env_var("max_data_rows"), field=f"data/{name}",
            )


def gradient_descent(
    limits: Limits, *, expression: str, start, variables=None, optimizer: str = "gd",
    learning_rate: float | None = None, hyperparameters: dict | None = None,
    max_iterations: int = 1000, tolerance: float = 1e-8, record_every: int = 1,
    constants=None, data: Mapping[str, Sequence[float]] | None = None,
    reduction: str = "mean", batch_size: int | None = None, seed: int | None = None,
    regularization: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Minimise ``expression`` (or its reduction over ``data``) and return the trace."""
    deadline = time.monotonic() + _BUDGET_SHARE * limits.time_budget_seconds
    if max_iterations > limits.max_iterations:
        raise LimitExceeded(
            f"max_iterations is {max_iterations:,}", limits.max_iterations,
            Limits.env_var("max_iterations"), field="max_iterations",
        )
    check_trace_size(max_iterations, record_every, limits.max_trace_entries)
    data = data or {}
    _check_data(data, variables, constants, limits)
    spec = build_spec([expression], limits, variables=variables, constants=constants,
                      also_symbols=list(data))
    if variables is None:  # data names are not parameters
        params = tuple(n for n in spec.variables if n not in data)
        spec = dataclasses.replace(spec, variables=params, names=params + tuple(
            n for n in spec.names if n not in params))
    unknown = [n for n in spec.names[len(spec.variables):] if n not in data]
    if unknown:
        raise InvalidInput(
            "expression",
            f"'{unknown[0]}' is neither a variable, a constant nor a data column; "
            "list it in variables, give it in constants, or add it to data",
        )
    if not spec.variables:
        raise InvalidInput("variables", "the expression has no parameters to optimise")
    parameters = spec.variable_symbols
    start_spec = dataclasses.replace(spec, names=spec.variables)
    start_point = build_point(start, start_spec, limits, field="start").numeric

    f = spec.expressions[0]
    partials = engine.gradient(f, parameters)
    second = engine.hessian(f, parameters) if optimizer == "newton" else None
    arguments = list(parameters) + [symbol(name) for name in data]
    value_fn = engine.compile_numeric(f, arguments)
    gradient_fn = engine.compile_numeric([d.expr for d in partials], arguments)
    hessian_fn = None
    if second is not None:
        hessian_fn = engine.compile_numeric([[d.expr for d in row] for row in second], arguments)
    l1 = (regularization or {}).get("l1", 0.0)
    l2 = (regularization or {}).get("l2", 0.0)
    n = len(parameters)
    if data:
        objective = DataObjective(value_fn, gradient_fn, hessian_fn, data,
                                  reduction=reduction, l1=l1, l2=l2, n_params=n)
    else:
        if batch_size is not None:
            raise InvalidInput("batch_size", "batch_size needs data to draw minibatches from")
        objective = ScalarObjective(value_fn, gradient_fn, hessian_fn, l1=l1, l2=l2,
                                    n_params=n)
    result = descend(
        objective, start_point, optimizer=optimizer, learning_rate=learning_rate,
        hyperparameters=hyperparameters, max_iterations=max_iterations, tolerance=tolerance,
        record_every=record_every, batch_size=batch_size, seed=seed,
        max_trace_entries=limits.max_trace_entries, deadline=deadline,
    )
    body = {"variables": list(spec.variables),
            "gradient": [symbolic(d.expr, spec.names) for d in partials]}
    body.update(result.as_dict(spec.variables))
    if not body["warnings"]:
        del body["warnings"]
    return body
