"""The function being minimised, as plain callables over a parameter vector.

The calculus layer compiles an expression and its derivatives (``sympy.lambdify``) and
hands the callables in; nothing here knows about SymPy. Two kinds of objective:

* :class:`ScalarObjective`: ``f(w, b)`` itself, e.g. Rosenbrock's function.
* :class:`DataObjective`: the loss of one sample, ``loss(w, b, x, y)``, vectorized over the
  rows of a data set and reduced (mean or sum) over them, e.g. least squares.

Both add the same regularisation ``l1 * sum|v| + l2 * sum v^2`` over every parameter.

Every objective has two faces. The public one (``value``, ``gradient``, ``hessian``) takes
an array and returns a float or float arrays, for callers and tests. The hot one
(``value_at``, ``gradient_at``, ``hessian_at``) is what the descent loop calls thousands of
times: it takes the parameters as a sequence of Python floats and returns a float / a list
of numbers, because at two parameters Python floats are several times faster than small
NumPy arrays. Neither raises for arithmetic reasons: an overflow or a pole gives inf or
nan, a complex value nan, and the loop reports divergence.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from typing import Callable, Mapping, Sequence

import numpy as np
from numpy.exceptions import ComplexWarning

from service.errors import InvalidInput

__all__ = ["Objective", "ScalarObjective", "DataObjective", "NOT_REAL", "to_floats"]

REDUCTIONS = ("mean", "sum")

#: Errors plain Python float arithmetic raises where IEEE arithmetic gives inf or nan:
#: ``x**2`` overflowing (OverflowError), ``1/x`` at 0 (ZeroDivisionError), ``(-1.0)**0.5``
#: turning complex (handled by ``_to_float``), a math-module domain error (ValueError).
_FLOAT_ERRORS = (ArithmeticError, ValueError)


#: What converting a number that is not real raises: Python's complex refuses ``float``
#: (TypeError). NumPy's complex128 (``np.cos`` of ``(-1.0)**(1/3)``, a Python complex) would
#: drop its imaginary part with a ComplexWarning, which ``descend`` makes an error.
NOT_REAL = (TypeError, ComplexWarning)


def _to_float(number) -> float:
    """Convert one computed number to a float; anything that is not a real number is nan."""
    if isinstance(number, complex):  # Python's or NumPy's: real only if its imaginary part is 0
        return float(number.real) if number.imag == 0 else math.nan
    try:
        return float(number)
    except (TypeError, ValueError):
        # Something stranger: not a finite real, so the descent loop will report the run
        # as diverged.
        return math.nan


def to_floats(entries) -> list[float]:
    """Convert a returned list of numbers into a list of Python floats (complex: nan)."""
    if isinstance(entries, np.ndarray):
        if np.iscomplexobj(entries):
            return [_to_float(e) for e in entries.ravel().tolist()]
        entries = entries.ravel().tolist()
    try:
        return [float(e) for e in entries]
    except NOT_REAL + (ValueError,):
        return [_to_float(e) for e in entries]


def _call(fn: Callable, args: Sequence):
    """Call ``fn(*args)`` with IEEE semantics: overflow gives inf, not an exception.

    The first attempt uses the arguments as they are (fast Python floats). Only when pure
    Python arithmetic raises where IEEE arithmetic would give inf or nan, the call is
    repeated with NumPy float64 scalars, which follow IEEE, their warnings silenced. (Array
    arithmetic over data columns warns through NumPy: callers of the ``*_at`` methods run
    under ``np.errstate(all="ignore")``, as the public methods and the descent loop do.)
    """
    try:
        return fn(*args)
    except _FLOAT_ERRORS + (ComplexWarning,):
        pass
    try:
        with np.errstate(all="ignore"):
            return fn(*[np.float64(a) if isinstance(a, float) else a for a in args])
    except _FLOAT_ERRORS + (ComplexWarning,):  # a complex value cast to a real array: nan
        return None


def _count_parameters(fn: Callable, n_columns: int, what: str) -> int:
    """Infer how many parameters ``fn`` takes from its signature (lambdify names them)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        parameters = None
    if parameters is None or any(
        p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters
    ):
        raise TypeError(f"cannot count the parameters of {what}; pass n_params")
    n = len(parameters) - n_columns
    if n < 1:
        raise TypeError(f"{what} takes no parameters besides the data columns")
    return n


def _check_penalty(name: str, weight) -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise InvalidInput(f"regularization/{name}", f"{name} must be a number, got {weight!r}")
    weight = float(weight)
    if not (math.isfinite(weight) and weight >= 0):
        raise InvalidInput(
            f"regularization/{name}", f"{name} must be a finite number >= 0, got {weight!r}"
        )
    return weight


class Objective(ABC):
    """A function of ``n_params`` parameters to minimise, with its derivatives.

    ``rows`` (an index array into the data, or None for every row) selects a minibatch;
    it only means something for a data-driven objective (``n_rows`` is not None).
    """

    n_params: int
    n_rows: int | None = None
    l1: float = 0.0
    l2: float = 0.0

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _check_penalty("l1", l1)
        self.l2 = _check_penalty("l2", l2)
        self._regularized = bool(self.l1 or self.l2)

    # -- public face: arrays in, arrays out -----------------------------------------------
    def value(self, theta, rows=None) -> float:
        """The objective at ``theta`` (over ``rows``, or every row)."""
        with np.errstate(all="ignore"):
            return self.value_at(self._params(theta), self.batch(rows))

    def gradient(self, theta, rows=None) -> np.ndarray:
        """The gradient at ``theta``, shape ``(n_params,)``."""
        with np.errstate(all="ignore"):
            return np.array(to_floats(self.gradient_at(self._params(theta), self.batch(rows))))

    def hessian(self, theta, rows=None) -> np.ndarray:
        """The Hessian at ``theta``, shape ``(n_params, n_params)``."""
        with np.errstate(all="ignore"):
            return self.hessian_at(self._params(theta), self.batch(rows))

    @property
    def has_hessian(self) -> bool:
        """Whether ``hessian`` can be evaluated (Newton's method needs it)."""
        return True

    @property
    def plain_gradient(self) -> Callable | None:
        """The compiled gradient function, called as ``fn(*params)``, when ``gradient_at``
        would do nothing but call it; else None.

        Saves the descent loop a Python call per iteration. Unlike ``gradient_at`` it may
        raise OverflowError or ZeroDivisionError (pure float arithmetic); the loop then
        falls back to ``gradient_at``.
        """
        return None

    @property
    def plain_value(self) -> Callable | None:
        """The compiled function, called as ``fn(*params)``, when ``value_at`` would do
        nothing but call it and convert to float; else None (see ``plain_gradient``)."""
        return None

    def batch(self, rows):
        """What ``*_at`` take to evaluate over ``rows`` only; None means every row."""
        if rows is None:
            return None
        raise ValueError("rows only apply to an objective over data")

    # -- hot face: lists of Python floats, for the descent loop ------------------------------
    @abstractmethod
    def value_at(self, params: Sequence[float], batch=None) -> float:
        """The objective at ``params`` (floats) as a float; inf or nan if so."""

    @abstractmethod
    def gradient_at(self, params: Sequence[float], batch=None) -> Sequence:
        """The gradient at ``params`` as a list of ``n`` real numbers.

        For speed the numbers are returned as computed (Python floats, but possibly ints,
        NumPy floats, or a complex number where the function is not real); callers that
        keep them convert with ``float`` (see ``to_floats``). Never raises for arithmetic
        reasons: an overflow or a pole gives inf or nan.
        """

    @abstractmethod
    def hessian_at(self, params: Sequence[float], batch=None) -> np.ndarray:
        """The Hessian at ``params`` as an ``(n, n)`` float array."""

    # -- shared pieces ----------------------------------------------------------------------
    def _params(self, theta) -> list[float]:
        params = np.asarray(theta, dtype=float).ravel().tolist()
        if len(params) != self.n_params:
            raise ValueError(f"expected {self.n_params} parameters, got {len(params)}")
        return params

    def _penalty(self, params: list[float]) -> float:
        """``l1 * sum|v| + l2 * sum v^2``."""
        return self.l1 * math.fsum(abs(p) for p in params) + self.l2 * math.fsum(
            p * p for p in params
        )

    def _penalize(self, gradient: list[float], params: list[float]) -> list[float]:
        """Add ``l1 * sign(v) + 2 * l2 * v``; the subgradient of ``|v|`` at 0 is taken as 0."""
        l1, l2x2 = self.l1, 2.0 * self.l2
        return [
            g + l1 * ((p > 0) - (p < 0)) + l2x2 * p for g, p in zip(gradient, params)
        ]

    def _penalize_hessian(self, hessian: np.ndarray) -> np.ndarray:
        if self.l2:
            hessian[np.diag_indices_from(hessian)] += 2.0 * self.l2
        return hessian

    def _missing_hessian(self):
        raise InvalidInput("optimizer", "this objective has no Hessian; newton needs one")


class ScalarObjective(Objective):
    """A function of the parameters alone, ``f(w, b)``.

    Parameters
    ----------
    value_fn, gradient_fn, hessian_fn
        Take the parameters as separate positional floats, as ``lambdify`` makes them, and
        return a float, a list of ``n`` floats, a list of ``n`` lists of ``n`` floats.
    l1, l2
        Regularisation weights: the objective is ``f + l1*sum|v| + l2*sum v^2``.
    n_params
        Number of parameters; by default read from ``gradient_fn``'s signature.

    Examples
    --------
    >>> f = ScalarObjective(lambda x, y: x*x + y*y, lambda x, y: [2*x, 2*y])
    >>> f.gradient([1.0, 2.0])
    array([2., 4.])
    """

    def __init__(self, value_fn: Callable, gradient_fn: Callable,
                 hessian_fn: Callable | None = None, l1: float = 0.0, l2: float = 0.0,
                 *, n_params: int | None = None):
        super().__init__(l1, l2)
        self._value_fn = value_fn
        self._gradient_fn = gradient_fn
        self._hessian_fn = hessian_fn
        self.n_params = n_params or _count_parameters(gradient_fn, 0, "gradient_fn")

    @property
    def has_hessian(self) -> bool:
        return self._hessian_fn is not None

    @property
    def plain_gradient(self) -> Callable | None:
        return None if self._regularized else self._gradient_fn

    @property
    def plain_value(self) -> Callable | None:
        return None if self._regularized else self._value_fn

    def value_at(self, params, batch=None) -> float:
        try:
            value = float(self._value_fn(*params))
        except _FLOAT_ERRORS + NOT_REAL:
            value = _to_float(_call(self._value_fn, params))
        if self._regularized:
            value += self._penalty(params)
        return value

    def gradient_at(self, params, batch=None) -> list[float]:
        try:
            gradient = self._gradient_fn(*params)
        except _FLOAT_ERRORS:
            gradient = _call(self._gradient_fn, params)
            if gradient is None:
                return [math.nan] * self.n_params
        except NOT_REAL:  # a complex value met a real-only operation
            return [math.nan] * self.n_params
        if self._regularized:
            gradient = self._penalize(to_floats(gradient), params)
        return gradient

    def hessian_at(self, params, batch=None) -> np.ndarray:
        if self._hessian_fn is None:
            self._missing_hessian()
        rows = _call(self._hessian_fn, params)
        if rows is None:
            return np.full((self.n_params, self.n_params), math.nan)
        hessian = np.array([to_floats(row) for row in rows], dtype=float)
        return self._penalize_hessian(hessian)


class DataObjective(Objective):
    """The reduction over data rows of a per-sample loss, plus regularisation.

    The objective is ``reduce_i loss(v, row_i) + l1*sum|v| + l2*sum v^2`` with ``reduce`` the
    mean or the sum over rows.

    Parameters
    ----------
    sample_value_fn, sample_gradient_fn, sample_hessian_fn
        Take ``(*params, *columns)``: the parameters as floats, then the columns as float64
        arrays in the order of ``columns``, and are vectorized over rows. Each returns a value
        / a list of ``n`` entries / ``n`` lists of ``n`` entries, where an entry is an array
        of shape ``(rows,)`` or, when it does not depend on the data, a scalar (broadcast to
        every row). ``sample_hessian_fn`` may be None when no Hessian is needed.
    columns
        Column name -> 1-D array, all of the same length (the rows).
    reduction
        ``"mean"`` or ``"sum"`` over rows.
    l1, l2
        Regularisation weights; the penalty is added once, not per row.
    n_params
        Number of parameters; by default the arguments of ``sample_gradient_fn`` minus the
        columns.

    Notes
    -----
    Over a minibatch ``B`` of a data set of ``N`` rows the objective is the unbiased
    estimate of the full one: the mean over ``B``, or ``N/|B|`` times the sum over ``B``.
    So the regularisation keeps its weight relative to the data, and stochastic descent
    minimises the same objective as full-batch descent (with an unscaled minibatch sum,
    SGD would converge to the minimiser of a more strongly regularised objective).
    """

    def __init__(self, sample_value_fn: Callable, sample_gradient_fn: Callable,
                 sample_hessian_fn: Callable | None, columns: Mapping[str, Sequence[float]],
                 reduction: str = "mean", l1: float = 0.0, l2: float = 0.0,
                 *, n_params: int | None = None):
        super().__init__(l1, l2)
        if reduction not in REDUCTIONS:
            raise InvalidInput(
                "reduction", f"unknown reduction {reduction!r}; choose 'mean' or 'sum'"
            )
        if not columns:
            raise InvalidInput("data", "data needs at least one column")
        arrays = {}
        for name, column in columns.items():
            try:
                array = np.ascontiguousarray(column, dtype=float)
            except (TypeError, ValueError):
                raise InvalidInput(f"data/{name}", f"column {name!r} must hold numbers") \
                    from None
            if array.ndim != 1:
                raise InvalidInput(f"data/{name}", f"column {name!r} must be a flat list")
            arrays[name] = array
        lengths = {name: len(a) for name, a in arrays.items()}
        n_rows = next(iter(lengths.values()))
        if any(n != n_rows for n in lengths.values()):
            listed = ", ".join(f"{name}: {n}" for name, n in lengths.items())
            raise InvalidInput("data", f"columns must have equal lengths, got {listed}")
        if n_rows == 0:
            raise InvalidInput("data", "data needs at least one row")
        self.columns = arrays
        self._columns = list(arrays.values())
        self.n_rows = n_rows
        self.reduction = reduction
        self._value_fn = sample_value_fn
        self._gradient_fn = sample_gradient_fn
        self._hessian_fn = sample_hessian_fn
        self.n_params = n_params or _count_parameters(
            sample_gradient_fn, len(arrays), "sample_gradient_fn"
        )

    def batch(self, rows):
        """The columns restricted to ``rows`` (an index array or a slice), in that order."""
        if rows is None:
            return None
        batch = [column[rows] for column in self._columns]
        if len(batch[0]) == 0:
            raise ValueError("a minibatch needs at least one row")
        return batch

    @property
    def has_hessian(self) -> bool:
        return self._hessian_fn is not None

    def _scales(self, batch) -> tuple[list[np.ndarray], float, float]:
        """Columns to call with, the divisor of a per-row sum, the factor on a scalar entry.

        mean: ``sum / rows``; sum: ``sum / (rows / n_rows)``, which is the plain sum over all
        rows and the unbiased ``n_rows / rows`` scaling over a minibatch. A scalar entry is
        the same for every row: the mean is itself, the sum ``n_rows`` times it.
        """
        if batch is None:
            columns, rows = self._columns, self.n_rows
        else:
            columns, rows = batch, len(batch[0])
        if self.reduction == "mean":
            return columns, float(rows), 1.0
        return columns, rows / self.n_rows, float(self.n_rows)

    @staticmethod
    def _reduce(entry, divisor: float, per_scalar: float) -> float:
        """Reduce one returned entry: an array over rows, or a scalar meaning every row."""
        if isinstance(entry, np.ndarray) and entry.ndim:
            return _to_float(entry.sum()) / divisor  # complex: nan
        return _to_float(entry) * per_scalar

    def value_at(self, params, batch=None) -> float:
        columns, divisor, per_scalar = self._scales(batch)
        value = self._reduce(_call(self._value_fn, [*params, *columns]), divisor, per_scalar)
        if self._regularized:
            value += self._penalty(params)
        return value

    def gradient_at(self, params, batch=None) -> list[float]:
        columns, divisor, per_scalar = self._scales(batch)
        entries = _call(self._gradient_fn, [*params, *columns])
        if entries is None:
            return [math.nan] * self.n_params
        reduce = self._reduce
        gradient = [reduce(e, divisor, per_scalar) for e in entries]
        if self._regularized:
            gradient = self._penalize(gradient, params)
        return gradient

    def hessian_at(self, params, batch=None) -> np.ndarray:
        if self._hessian_fn is None:
            self._missing_hessian()
        columns, divisor, per_scalar = self._scales(batch)
        rows = _call(self._hessian_fn, [*params, *columns])
        if rows is None:
            return np.full((self.n_params, self.n_params), math.nan)
        reduce = self._reduce
        hessian = np.array(
            [[reduce(e, divisor, per_scalar) for e in row] for row in rows], dtype=float
        )
        return self._penalize_hessian(hessian)
