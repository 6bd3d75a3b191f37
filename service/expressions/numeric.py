"""NumPy versions of the functions NumPy lacks, for ``sympy.lambdify``.

Use as ``lambdify(args, expr, modules=[NUMERIC_FUNCTIONS, "numpy"])``: lambdify prints these
functions by name, and the names resolve here first. They are written to stay finite and
warning-free for large |x|, since gradient descent pushes arguments far out.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

_erf = np.vectorize(math.erf, otypes=[float])


def sigmoid(x):
    """1/(1 + exp(-x)) computed from exp(-|x|), which never overflows."""
    x = np.asarray(x)
    decay = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + decay), decay / (1 + decay))[()]


def softplus(x):
    """log(1 + exp(x)) as logaddexp(0, x): exact to rounding and overflow-free."""
    with np.errstate(invalid="ignore"):  # logaddexp warns on nan, which it propagates
        return np.logaddexp(0, x)


def relu(x):
    return np.maximum(x, 0.0)


def erf(x):
    return _erf(x)[()]


NUMERIC_FUNCTIONS: dict[str, Callable] = {
    "sigmoid": sigmoid,
    "softplus": softplus,
    "relu": relu,
    "cbrt": np.cbrt,
    "erf": erf,
}
