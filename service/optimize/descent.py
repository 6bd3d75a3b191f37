"""The descent loop: run an optimizer on an objective and record the trace.

Like ``scipy.optimize.minimize``, :func:`descend` checks its input, hands off to a small
loop and returns one record, :class:`DescentResult`, whose ``stop_reason`` says how the run
ended. A run that blows up is an answer (``"diverged"``, ending at the last finite iterate),
not an exception: the result becomes JSON, so it never holds a nan or an infinity.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import Iterator, Sequence
from warnings import catch_warnings, simplefilter

import numpy as np
from numpy.exceptions import ComplexWarning

from service.errors import InvalidInput, LimitExceeded, TimeBudgetExceeded
from service.optimize.objectives import NOT_REAL, Objective, to_floats
from service.optimize.optimizers import get_optimizer

__all__ = ["descend", "DescentResult", "TraceEntry", "STOP_MESSAGES", "trace_size",
           "smallest_record_every", "check_trace_size"]

TOLERANCE, MAX_ITERATIONS, DIVERGED = "tolerance", "max_iterations", "diverged"

#: One table of what each stop reason means (scipy's habit).
STOP_MESSAGES = {
    TOLERANCE: "converged: the gradient norm fell below the tolerance",
    MAX_ITERATIONS: "stopped at max_iterations before the gradient norm fell below the tolerance",
    DIVERGED: "diverged: the iterates stopped being finite; the result is the last finite one",
}

#: Full-batch runs evaluate the value at least this often (checkpoints), so a run whose
#: value overflows ends at most this many iterations before the break, whatever
#: ``record_every`` is. (Every iteration would cost a third of the loop.)
VALUE_CHECK_EVERY = 32

#: Environment variable of the trace-size limit (``Limits.max_trace_entries``).
TRACE_LIMIT_ENV_VAR = "GRADIENT_MAX_TRACE_ENTRIES"


@dataclass(slots=True)
class TraceEntry:
    """The state at one iteration: the point after ``iteration`` updates."""

    iteration: int
    point: list[float]
    value: float
    gradient: list[float]
    gradient_norm: float

    def as_dict(self) -> dict:
        return {"iteration": self.iteration, "point": self.point, "value": self.value,
                "gradient": self.gradient, "gradient_norm": self.gradient_norm}


@dataclass
class DescentResult:
    """The outcome of one run: the settings used, the trace and the final iterate.

    ``point``, ``value``, ``gradient`` and ``gradient_norm`` are those of the last trace
    entry, and ``iterations`` is its iteration: the number of updates that led to ``point``.
    Every number is finite.
    """

    optimizer: str
    learning_rate: float
    hyperparameters: dict[str, float]
    trace: list[TraceEntry]
    point: list[float]
    value: float
    gradient: list[float]
    gradient_norm: float
    iterations: int
    converged: bool
    stop_reason: str
    warnings: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return STOP_MESSAGES[self.stop_reason]

    def as_dict(self, variables: Sequence[str] | None = None) -> dict:
        """The result as JSON-ready data, shaped like the HTTP response of API.md.

        With ``variables``, ``result.point`` is an object name -> coordinate.
        """
        point = dict(zip(variables, self.point)) if variables is not None else self.point
        return {
            "optimizer": {"name": self.optimizer, "learning_rate": self.learning_rate,
                          "hyperparameters": dict(self.hyperparameters)},
            "trace": [entry.as_dict() for entry in self.trace],
            "result": {"point": point, "value": self.value,
                       "gradient_norm": self.gradient_norm, "iterations": self.iterations,
                       "converged": self.converged, "stop_reason": self.stop_reason},
            "warnings": list(self.warnings),
        }


@functools.lru_cache(maxsize=None)
def _entry_maker(n: int):
    """``make(k, point, value, gradient, norm) -> TraceEntry`` for ``n`` parameters, with
    point and gradient converted to lists of Python floats.

    Unrolled for up to 16 parameters (``[float(p[0]), float(p[1])]`` in one function is
    ~40% cheaper than ``list(map(float, p))`` twice): with ``record_every=1`` the loop
    makes one entry per iteration. The generated source depends on ``n`` only.
    """
    if n > 16:
        return lambda k, p, v, g, norm: TraceEntry(k, [*map(float, p)], v,
                                                   [*map(float, g)], norm)
    point = ", ".join(f"float(p[{i}])" for i in range(n))
    gradient = ", ".join(f"float(g[{i}])" for i in range(n))
    return eval(f"lambda k, p, v, g, norm: TraceEntry(k, [{point}], v, [{gradient}], norm)",
                {"TraceEntry": TraceEntry, "float": float})  # noqa: S307 (no user text)


def trace_size(max_iterations: int, record_every: int) -> int:
    """Most trace entries a run can hold: iteration 0, the multiples, the last one.

    That is ``1 + floor(M / r) + (1 if r does not divide M)``, i.e. ``1 + ceil(M / r)``.
    """
    return 1 + -(-max_iterations // record_every)


def smallest_record_every(max_iterations: int, max_trace_entries: int) -> int | None:
    """The smallest ``record_every`` whose trace fits ``max_trace_entries`` (None: none does)."""
    if max_iterations == 0:
        return 1
    if max_trace_entries < 2:
        return None
    return -(-max_iterations // (max_trace_entries - 1))


def descend(objective: Objective, start: Sequence[float], *, optimizer: str = "gd",
            learning_rate: float | None = None, hyperparameters: dict | None = None,
            max_iterations: int = 1000, tolerance: float = 1e-8, record_every: int = 1,
            batch_size: int | None = None, seed: int | None = None,
            max_trace_entries: int = 10_000, deadline: float | None = None) -> DescentResult:
    """Minimise ``objective`` from ``start`` with ``optimizer``; return the trace and result.

    Parameters
    ----------
    objective
        What to minimise (:class:`~service.optimize.objectives.Objective`).
    start
        The parameters at iteration 0 (finite numbers, one per parameter).
    optimizer, learning_rate, hyperparameters
        A name of ``OPTIMIZERS``; None means the optimizer's default learning rate, and
        missing hyperparameters take their defaults.
    max_iterations
        Most updates to make.
    tolerance
        Stop (converged) when the gradient norm is ``< tolerance``.
    record_every
        The trace holds iteration 0, every ``record_every``-th iteration and the last one.
    batch_size, seed
        Minibatch (stochastic) descent over a data objective; see Notes.
    max_trace_entries
        Refuse (:class:`LimitExceeded`) a request whose trace could be longer.
    deadline
        A ``time.monotonic()`` instant; past it the run stops with
        :class:`TimeBudgetExceeded`.

    Returns
    -------
    DescentResult
        ``stop_reason`` is ``"tolerance"``, ``"max_iterations"`` or ``"diverged"``.

    Examples
    --------
    >>> from service.optimize import ScalarObjective
    >>> square = ScalarObjective(lambda x: x * x, lambda x: [2 * x])
    >>> run = descend(square, [1.0], learning_rate=0.25, max_iterations=3, tolerance=0)
    >>> [entry.point for entry in run.trace], run.stop_reason
    ([[1.0], [0.5], [0.25], [0.125]], 'max_iterations')

    Notes
    -----
    Iteration ``k`` is the point after ``k`` updates. A run *diverges* when the point, the
    gradient or the value is no longer finite (an overflow, a pole, a complex value); it
    then ends at the last iterate known to be finite, and a warning says where it broke.
    Point and gradient are tested at every iteration (the update needs them anyway). The
    value costs a function call that the update does not need, so it is evaluated at
    recorded iterations, at least every ``VALUE_CHECK_EVERY`` (32) iterations in between,
    and at the end. When the point or gradient breaks at iteration ``k + 1`` the result
    is iteration ``k``; when the value breaks at iteration ``k``, the result is the last
    iterate where it was found finite, at most ``min(record_every, 32)`` iterations
    earlier (with the default ``record_every=1``, exactly ``k - 1``).

    Stochastic runs (``batch_size``): each epoch visits the rows in a fresh random order
    drawn from ``numpy.random.default_rng(seed)`` (like a shuffling PyTorch DataLoader that
    keeps the last, smaller batch); each update uses the minibatch gradient. The minibatch
    objective is the unbiased estimate of the full one (see ``DataObjective``), so the
    learning rate means the same as in a full-batch run. The trace's ``value`` and
    ``gradient`` are those of the *full-data* objective at the recorded iterations, so a
    trace is comparable across runs and batch sizes and shows the true loss curve; the
    stopping test ``||grad|| < tolerance`` uses that full gradient, so it happens only at
    recorded iterations (and the last); so are the value's finiteness checks, since each
    costs a pass over all rows. ``seed=None`` means seed 0: the same request always gives
    the same trace.
    """
    spec = get_optimizer(optimizer)
    learning_rate, hyperparameters = spec.resolve(learning_rate, hyperparameters)
    max_iterations = _count("max_iterations", max_iterations, minimum=0)
    record_every = _count("record_every", record_every, minimum=1)
    tolerance = _tolerance(tolerance)
    check_trace_size(max_iterations, record_every, max_trace_entries)
    params = _start(start, objective.n_params)
    batches = _minibatches(objective, batch_size, seed)
    stepper = spec.start(objective.n_params, learning_rate, hyperparameters, objective)
    # Look at the clock about every 25,600 row evaluations (every iteration over big data).
    clock = _Clock(deadline, every=256 if objective.n_rows is None
                   else max(1, 25_600 // objective.n_rows))

    # float() of a NumPy complex number would keep its real part and go on: an error here,
    # so that a complex value is not real (NOT_REAL), as a Python complex already is
    with np.errstate(all="ignore"), catch_warnings():
        simplefilter("error", ComplexWarning)
        if batches is None:
            loop = _full_batch(objective, stepper.step, params, max_iterations, tolerance,
                               record_every, clock)
        else:
            loop = _minibatch(objective, stepper.step, params, max_iterations, tolerance,
                              record_every, clock, batches)
    trace, stop_reason, warnings = loop
    last = trace[-1]
    return DescentResult(
        optimizer=spec.name, learning_rate=learning_rate, hyperparameters=hyperparameters,
        trace=trace, point=last.point, value=last.value, gradient=last.gradient,
        gradient_norm=last.gradient_norm, iterations=last.iteration,
        converged=stop_reason == TOLERANCE, stop_reason=stop_reason,
        warnings=stepper.warnings + warnings,
    )


# -- the loops --------------------------------------------------------------------------------
#
# Both loops keep the current iterate as (k, params, gradient, norm), the gradient as the
# objective returned it (see ``Objective.gradient_at``), and convert to floats only what
# they record. They return ``(trace, stop_reason, warnings)``.

def _full_batch(objective, step, params, max_iterations, tolerance, record_every, clock):
    """Gradient at every iteration (it drives the update); value every few iterations.

    The hot path is one step, one gradient, one test of finiteness and one of the
    tolerance. Everything else happens at "events", precomputed iterations, so costs one
    comparison per iteration: recording (every ``record_every``), a *checkpoint* (the
    value, every ``VALUE_CHECK_EVERY`` iterations at most: the last finite iterate to fall
    back on if the value breaks), the clock and the iteration limit. Where the objective is
    just a compiled function (``plain_gradient``, ``plain_value``) it is called directly,
    falling back to the objective's own method on a float exception.
    """
    value_at, gradient_at = objective.value_at, objective.gradient_at
    gradient_fn = objective.plain_gradient or (lambda *p: gradient_at(p))
    value_fn = objective.plain_value or (lambda *p: value_at(p))
    isfinite, hypot, entry = math.isfinite, math.hypot, _entry_maker(objective.n_params)
    params, gradient, norm = _first_entry(objective, params, gradient_at(params),
                                          trace := [])
    checkpoint = trace[0]
    check_every = min(record_every, VALUE_CHECK_EVERY)
    k, next_record, next_value = 0, record_every, check_every
    next_stop = min(max_iterations, clock.next_check)  # the limit, or a look at the clock
    next_event = min(next_value, next_stop)
    while True:
        if norm < tolerance:
            return _close(objective, trace, TOLERANCE, checkpoint, k, params, gradient)
        if k == next_event:
            if k == next_value or k == next_record:
                try:
                    value = float(value_fn(*params))
                except (ArithmeticError, ValueError) + NOT_REAL:
                    value = value_at(params)
                if not isfinite(value):
                    return _diverged(objective, trace, "value", k, checkpoint)
                if k == next_record:
                    trace.append(checkpoint := entry(k, params, value, gradient, norm))
                    next_record += record_every
                else:  # converted only if it is ever used
                    checkpoint = (k, params, value, gradient, norm)
                next_value = k + check_every
            if k == next_stop:
                if k == max_iterations:
                    return _close(objective, trace, MAX_ITERATIONS, checkpoint, k, params,
                                  gradient)
                next_stop = min(max_iterations, clock.check(k))
            next_event = next_value if next_value < next_record else next_record
            if next_stop < next_event:
                next_event = next_stop
        try:
            new = step(params, gradient, k + 1)
        except ArithmeticError:  # float overflow inside the rule
            return _diverged(objective, trace, "point", k + 1, checkpoint, k, params, gradient)
        try:
            new_gradient = gradient_fn(*new)
            new_norm = hypot(*new_gradient)
        except (ArithmeticError, ValueError):  # float overflow: IEEE semantics instead
            new_gradient = gradient_at(new)
            new_norm = hypot(*to_floats(new_gradient))
        except NOT_REAL:  # not all real: complex entries become nan
            new_gradient = to_floats(gradient_at(new))
            new_norm = hypot(*new_gradient)
        if not isfinite(sum(new, new_norm)):  # point and gradient in one test
            what = _not_finite(new, new_norm)
            if what:
                return _diverged(objective, trace, what, k + 1, checkpoint, k, params,
                                 gradient)
        params, gradient, norm = new, new_gradient, new_norm
        k += 1


def _minibatch(objective, step, params, max_iterations, tolerance, record_every, clock,
               batches):
    """Minibatch gradient for each update; full value and gradient at recorded iterations."""
    value_at, gradient_at = objective.value_at, objective.gradient_at
    isfinite, hypot = math.isfinite, math.hypot
    params, gradient, norm = _first_entry(objective, params, gradient_at(params),
                                          trace := [])
    k, next_check = 0, clock.next_check
    while True:
        if trace[-1].iteration == k and norm < tolerance:
            return _close(objective, trace, TOLERANCE, None, k, params)
        if k == max_iterations:
            return _close(objective, trace, MAX_ITERATIONS, None, k, params)
        batch = next(batches)
        batch_gradient = gradient_at(params, batch)
        try:
            finite = isfinite(hypot(*batch_gradient))
        except NOT_REAL:  # not all real
            finite = False
        if not finite:
            return _diverged(objective, trace, "minibatch gradient", k, None, k, params)
        try:
            new = step(params, batch_gradient, k + 1, batch)
        except ArithmeticError:
            new = None
        if new is None or not isfinite(sum(new)) and _not_finite(new, 0.0):
            return _diverged(objective, trace, "point", k + 1, None, k, params)
        k += 1
        params = new
        if k % record_every == 0 or k == max_iterations:
            gradient = to_floats(gradient_at(params))
            norm = hypot(*gradient)
            value = value_at(params)
            if not (isfinite(norm) and isfinite(value)):
                return _diverged(objective, trace, "value" if isfinite(norm) else "gradient",
                                 k, None)
            trace.append(TraceEntry(k, to_floats(params), value, gradient, norm))
        if k >= next_check:
            next_check = clock.check(k)


def _first_entry(objective, params, gradient, trace):
    """Record iteration 0; a start where the objective is not finite is the caller's error."""
    gradient = to_floats(gradient)
    norm = math.hypot(*gradient)
    value = objective.value_at(params)
    for what, number in (("value", value), ("gradient norm", norm)):
        if not math.isfinite(number):
            raise InvalidInput(
                "start", f"the objective's {what} is not finite at the start point "
                         f"({number}); choose another start")
    trace.append(TraceEntry(0, params, value, gradient, norm))
    return params, gradient, norm


def _not_finite(point, norm) -> str | None:
    """What is not finite: "point", "gradient", or None (a sum overflowed, nothing else)."""
    if not all(map(math.isfinite, point)):
        return "point"
    if not math.isfinite(norm):
        return "gradient"
    return None


def _evaluate(objective, k, params, gradient=None) -> tuple[TraceEntry | None, str | None]:
    """Iteration ``k`` as a trace entry, or None and what is not finite there."""
    gradient = to_floats(objective.gradient_at(params) if gradient is None else gradient)
    norm = math.hypot(*gradient)
    value = objective.value_at(params)
    what = _not_finite(params, norm) or (None if math.isfinite(value) else "value")
    if what:
        return None, what
    return TraceEntry(k, to_floats(params), value, gradient, norm), None


def _close(objective, trace, stop_reason, checkpoint, k, params, gradient=None):
    """End the run at iteration ``k``, recording it unless it is the last entry already.

    Returns ``(trace, stop_reason, warnings)``. If iteration ``k`` is not finite after all
    (its value had not been evaluated), the run has diverged there.
    """
    if trace[-1].iteration < k:
        entry, what = _evaluate(objective, k, params, gradient)
        if what:
            return _diverged(objective, trace, what, k, checkpoint)
        trace.append(entry)
    return trace, stop_reason, []


def _diverged(objective, trace, what, k, checkpoint, *before):
    """End a run whose ``what`` is not finite at iteration ``k``.

    The run ends at ``before`` = ``(iteration, params[, gradient])``, the iterate before
    the break, if it is finite; else at ``checkpoint``, the last iterate whose value was
    found finite (None: the last recorded entry).
    """
    if before and trace[-1].iteration < before[0]:
        entry, broken = _evaluate(objective, *before)
        if entry is not None:
            checkpoint = entry
        else:
            what, k = broken, before[0]
    if isinstance(checkpoint, tuple):
        checkpoint = _entry_maker(len(checkpoint[1]))(*checkpoint)
    if checkpoint is not None and checkpoint.iteration > trace[-1].iteration:
        trace.append(checkpoint)
    return trace, DIVERGED, [
        f"diverged: the {what} is not finite at iteration {k}; the result is iteration "
        f"{trace[-1].iteration}, the last finite iterate found"
    ]


# -- minibatches, time budget -------------------------------------------------------------

def _minibatches(objective, batch_size, seed) -> Iterator[list[np.ndarray]] | None:
    """Minibatches of a shuffled epoch after shuffled epoch (None: full-batch descent).

    Each epoch copies the columns once, in a fresh permutation drawn from
    ``default_rng(seed)``; its batches are then contiguous slices (views), so a step costs
    no indexing. The last batch of an epoch holds the remaining rows.
    """
    if batch_size is None:
        return None  # a seed without batch_size has nothing to draw
    if objective.n_rows is None:
        raise InvalidInput("batch_size", "batch_size needs data: minibatches are drawn from "
                                         "its rows")
    rows = objective.n_rows
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or not 1 <= batch_size <= rows:
        raise InvalidInput("batch_size", f"batch_size must be an integer from 1 to {rows:,} "
                                         f"(the number of data rows), got {batch_size!r}")
    if seed is None:
        seed = 0
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInput("seed", f"seed must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    size = int(batch_size)

    def batches():
        while True:
            shuffled = objective.batch(rng.permutation(rows))
            for lo in range(0, rows, size):
                yield [column[lo:lo + size] for column in shuffled]

    return batches()


class _Clock:
    """Raise TimeBudgetExceeded past ``deadline``, looking at the clock every ``every``."""

    def __init__(self, deadline: float | None, every: int):
        self._deadline = deadline
        self._every = every
        self.next_check = every if deadline is not None else math.inf

    def check(self, k: int) -> int | float:
        """Raise if past the deadline; return the iteration of the next look."""
        if time.monotonic() > self._deadline:
            raise TimeBudgetExceeded(
                f"gradient descent ran past the time budget after {k:,} iterations; ask "
                f"for fewer max_iterations or less data (the environment variable "
                f"GRADIENT_TIME_BUDGET_SECONDS sets the budget)")
        return k + self._every


# -- guard clauses ------------------------------------------------------------------------

def _count(name: str, raw, minimum: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, np.integer)) or raw < minimum:
        raise InvalidInput(name, f"{name} must be an integer >= {minimum}, got {raw!r}")
    return int(raw)


def _tolerance(raw) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, np.integer, np.floating)) \
            or not (math.isfinite(raw) and raw >= 0):
        raise InvalidInput("tolerance", f"tolerance must be a finite number >= 0, got {raw!r}")
    return float(raw)


def check_trace_size(max_iterations: int, record_every: int, max_trace_entries: int):
    """Refuse (LimitExceeded) a run whose trace could hold more than ``max_trace_entries``."""
    entries = trace_size(max_iterations, record_every)
    if entries <= max_trace_entries:
        return
    fits = smallest_record_every(max_iterations, max_trace_entries)
    advice = (f"use record_every >= {fits:,}" if fits is not None
              else "lower max_iterations")
    raise LimitExceeded(
        f"the trace would hold {entries:,} entries ({advice})", max_trace_entries,
        TRACE_LIMIT_ENV_VAR, field="record_every")


def _start(start, n_params: int) -> list[float]:
    try:
        params = [float(v) for v in start]
    except (TypeError, ValueError):
        raise InvalidInput("start", "start must be a list of numbers, one per parameter") \
            from None
    if len(params) != n_params:
        raise InvalidInput("start", f"start has {len(params)} coordinates; the objective "
                                    f"has {n_params} parameters")
    for i, v in enumerate(params):
        if not math.isfinite(v):
            raise InvalidInput(f"start/{i}", f"start coordinates must be finite, got {v}")
    return params
