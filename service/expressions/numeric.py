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
_erfc = np.vectorize(math.erfc, otypes=[float])


def sigmoid(x):
    """1/(1 + exp(-x)) computed from exp(-|x|), which never overflows."""
    x = np.asarray(x)
    if np.iscomplexobj(x):  # a complex intermediate ((-3)^(1/3) is a complex root)
        return (1 / (1 + np.exp(-x)))[()]
    decay = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + decay), decay / (1 + decay))[()]


def softplus(x):
    """log(1 + exp(x)) as logaddexp(0, x): exact to rounding and overflow-free."""
    if np.iscomplexobj(x):  # logaddexp takes no complex numbers
        return np.log1p(np.exp(x))[()]
    with np.errstate(invalid="ignore"):  # logaddexp warns on nan, which it propagates
        return np.logaddexp(0, x)


def relu(x):
    return np.maximum(x, 0.0)


def erf(x):
    """math.erf elementwise; NaN for complex input, which NumPy's erf does not take either
    (the value is then classified from its exact form, or as undefined)."""
    if np.iscomplexobj(x):
        return np.full(np.shape(x), complex("nan+nanj"))[()]
    return _erf(x)[()]


def erfc(x):
    """math.erfc elementwise (1 - erf(x) without its cancellation: the compiled form of
    1 - erf(x), engine._stable_forms); NaN for complex input, as erf."""
    if np.iscomplexobj(x):
        return np.full(np.shape(x), complex("nan+nanj"))[()]
    return _erfc(x)[()]


def logtanh(x):
    """log(tanh(x)) without the cancellation of tanh(x) near 1 (float64's tanh(20) is 1.0,
    whose log is 0, not -8.5e-18; at 10 half the digits are lost): for x > 1/2 as
    log1p(-e) - log1p(e), e = exp(-2x), two terms of one sign; at x <= 1/2 (tanh(x) at most
    0.46), and for complex input, as written, so NaN where tanh(x) < 0 and -inf at 0 as
    before. The compiled form of log(tanh(u)) (engine._stable_forms)."""
    x = np.asarray(x)
    if np.iscomplexobj(x):
        return np.log(np.tanh(x))[()]
    far = x > 0.5
    e = np.exp(-2 * np.where(far, x, 1.0))  # the far side only: no overflow
    return np.where(far, np.log1p(-e) - np.log1p(e),
                    np.log(np.tanh(np.where(far, 0.5, x))))[()]


NUMERIC_FUNCTIONS: dict[str, Callable] = {
    "sigmoid": sigmoid,
    "softplus": softplus,
    "relu": relu,
    "cbrt": np.cbrt,
    "erf": erf,
    "erfc": erfc,
    "logtanh": logtanh,
}
