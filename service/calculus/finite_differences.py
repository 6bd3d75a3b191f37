"""Central finite differences, and the gradient check learners run on their own backprop.

The check compares an exact derivative (gradient, Jacobian or Hessian) at a point with the
central difference (F(x + h e_j) - F(x - h e_j)) / 2h of the compiled NumPy function F (the
function itself, or the gradient for the Hessian). The step h_j = cbrt(eps) * max(1, |x_j|)
balances the O(h^2) truncation error against the O(eps/h) rounding error, so on a smooth
function the two agree to about 1e-10 relative; a wrong derivative shows as a large error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

EPSILON = float(np.finfo(np.float64).eps)


def step_sizes(x: Sequence[float]) -> np.ndarray:
    """h_j = cbrt(eps) * max(1, |x_j|), rounded so that x_j + h_j is a float64 exactly h_j away."""
    x = np.asarray(x, dtype=np.float64)
    h = np.cbrt(EPSILON) * np.maximum(1.0, np.abs(x))
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = (x + h) - x
    return np.where(np.isfinite(rounded), rounded, h)  # x + h overflows near the largest float


def central_differences(
    function: Callable[[np.ndarray], object], x: Sequence[float], n_variables: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate the derivative of ``function`` by the first ``n_variables`` coordinates.

    ``function`` maps a coordinate vector to a number or a (nested) list of numbers; the
    estimate has that shape plus a last axis for the variables. Values that are not finite
    reals become NaN. Returns the estimate and the steps used.
    """
    x = np.asarray(x, dtype=np.float64)
    h = step_sizes(x[:n_variables])
    columns = []
    for j in range(n_variables):
        up, down = x.copy(), x.copy()
        with np.errstate(over="ignore"):
            up[j] += h[j]
            down[j] -= h[j]
        if not (np.isfinite(up[j]) and np.isfinite(down[j])):  # no estimate along x_j
            columns.append(np.full(np.shape(_real(function(x))), np.nan))
            continue
        with np.errstate(all="ignore"):
            columns.append((_real(function(up)) - _real(function(down))) / (up[j] - down[j]))
    if not columns:
        return np.zeros(np.shape(_real(function(x))) + (0,)), h
    return np.stack(columns, axis=-1), h


def _real(value) -> np.ndarray:
    """Float64 values, NaN where a value is complex or not finite."""
    array = np.asarray(value, dtype=np.complex128)
    with np.errstate(all="ignore"):
        real = np.where(array.imag == 0, array.real, np.nan)
    return np.where(np.isfinite(real), real, np.nan)


@dataclass
class GradientCheck:
    """A finite-difference estimate next to the exact result, with the errors between them.

    ``absolute_error`` is the largest |estimate - exact| over the entries, and
    ``relative_error`` that divided by the largest |entry| of either (0 when both vanish);
    both are None when an entry of either is not a finite real.
    """

    finite_difference: np.ndarray
    step: np.ndarray
    absolute_error: float | None
    relative_error: float | None
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "finite_difference": _nulls(self.finite_difference),
            "step": [float(h) for h in self.step],
            "absolute_error": self.absolute_error,
            "relative_error": self.relative_error,
        }


def gradient_check(
    function: Callable[[np.ndarray], object], x: Sequence[float], n_variables: int, exact,
) -> GradientCheck:
    """Check ``exact`` (numbers, None where not a finite real) against central differences.

    ``exact`` has the shape of ``function``'s value plus one axis for the variables: a
    gradient for a scalar function, a Jacobian for a vector of them, a Hessian when
    ``function`` is the gradient.
    """
    estimate, h = central_differences(function, x, n_variables)
    exact = np.array(exact, dtype=np.float64)  # None -> NaN
    if exact.size == estimate.size:  # a 0 x 0 matrix given as []
        exact = exact.reshape(estimate.shape)
    if exact.shape != estimate.shape:
        raise ValueError(f"exact has shape {exact.shape}, the estimate {estimate.shape}")
    warnings = [
        f"check: finite_difference{''.join(f'[{i}]' for i in index)} is not a finite real "
        "number (the function is not a finite real near the point)"
        for index in zip(*np.nonzero(np.isnan(estimate)))
    ]
    if np.isnan(estimate).any() or np.isnan(exact).any():
        warnings.append("check: the errors are null because an entry is null")
        return GradientCheck(estimate, h, None, None, warnings)
    if estimate.size == 0:
        return GradientCheck(estimate, h, 0.0, 0.0, warnings)
    absolute = float(np.max(np.abs(estimate - exact)))
    scale = float(max(np.max(np.abs(exact)), np.max(np.abs(estimate))))
    relative = absolute / scale if absolute > 0 else 0.0
    if not (np.isfinite(absolute) and np.isfinite(relative)):  # overflow of huge entries
        warnings.append("check: the errors are null because they overflow a float64")
        return GradientCheck(estimate, h, None, None, warnings)
    return GradientCheck(estimate, h, absolute, relative, warnings)


def _nulls(array: np.ndarray):
    """Nested lists of floats with None for NaN."""
    if array.ndim == 0:
        return None if np.isnan(array) else float(array)
    return [_nulls(row) for row in array]
