"""Where the computation runs: a supervised child process with a time budget.

Evidence behind the choice (measured for issue 6): a signal timer stops pure-Python SymPy
work but not one long big-integer C call, and works only in a main thread;
``concurrent.futures`` timeouts return but leave the worker computing; a process that is
killed and replaced when it overruns stops anything, costs ~0.1 ms per request when warm
and leaves the web worker healthy. So each web worker owns one child (a ``pebble``
process pool of size 1, forked lazily so it inherits the loaded SymPy/NumPy), and every
request's computation runs there under the budget. Per-process caches live in the child.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
from concurrent.futures import TimeoutError as FutureTimeout
from collections import OrderedDict
from typing import Any, Callable

import orjson
import pebble
from pebble.common import ProcessExpired

from service.config import Limits
from service.errors import ServiceError, TimeBudgetExceeded
from service.observability.metrics import record_cache_lookup

log = logging.getLogger(__name__)


class ComputationFailed(ServiceError):
    """The child process died (out of memory, or killed by the system)."""

    slug = "computation-failed"
    title = "Computation failed"


# SymPy recurses a few frames per level of nesting: the grammar's 200 levels need more
# than Python's default of 1000. The child's main thread has the 8 MiB C stack to hold it.
CHILD_RECURSION_LIMIT = 12_000


def _prepare_child(max_bytes: int) -> None:
    """In the child: deep enough recursion for SymPy, and a memory cap for the host's sake."""
    sys.setrecursionlimit(CHILD_RECURSION_LIMIT)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    except (ValueError, OSError) as error:  # already lower, or not permitted
        log.warning("could not limit the computation's memory: %s", error)


# One child per web-worker process (and memory cap): apps made in the same process, as in
# tests, share it. A pool made before a fork belongs to the parent, hence the pid key.
_POOLS: dict[tuple[int, int], pebble.ProcessPool] = {}


def _pool(max_memory_mb: int) -> pebble.ProcessPool:
    key = (os.getpid(), max_memory_mb)
    pool = _POOLS.get(key)
    if pool is None or not pool.active:
        pool = _POOLS[key] = pebble.ProcessPool(
            max_workers=1, initializer=_prepare_child, initargs=(max_memory_mb * 1024 * 1024,)
        )
    return pool


# Answers kept in the web worker for exact repeats: small requests only (the key is the
# request itself), and never those with `points` or `data`, whose answers are large.
ANSWER_CACHE_ENTRIES = 1024
_LARGEST_CACHED_REQUEST = 16 * 1024
_UNCACHED_FIELDS = ("points", "data")
# ... and bounded in bytes (of the answers' JSON), since the web worker has no memory cap
# and a small request can have a large answer: a Hessian in 100 variables is 15 MB of
# text, a descent trace of 10,000 entries in 100 parameters 40 MB.
ANSWER_CACHE_BYTES = 32 * 1024 * 1024
_LARGEST_CACHED_ANSWER = 1024 * 1024
_ERROR_SIZE = 1024  # what a remembered error is counted as


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    raise TypeError(type(value).__name__)


def _answer_size(answer: Any) -> int | None:
    """The size of ``answer`` as JSON, or None if it is not plain data."""
    try:
        return len(orjson.dumps(answer, default=_plain,
                                option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS))
    except TypeError:
        return None


class Computer:
    """Runs functions in a supervised child process, one computation at a time.

    Computations are pure functions of the request, so the answers to small requests
    (errors included: a request that ran out of time will again) are remembered in the web
    worker, and an exact repeat costs no trip to the child at all.
    """

    def __init__(self, limits: Limits, isolated: bool = True):
        self.limits = limits
        self.isolated = isolated
        self._answers: OrderedDict[tuple, tuple[bool, Any, int]] = OrderedDict()
        self._answer_bytes = 0

    def _answer_key(self, function: Callable, args: tuple, kwargs: dict) -> tuple | None:
        if any(kwargs.get(name) is not None for name in _UNCACHED_FIELDS):
            return None
        try:
            request = orjson.dumps(kwargs, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
        except TypeError:
            return None
        if len(request) > _LARGEST_CACHED_REQUEST:
            return None
        return (function.__module__, function.__qualname__, args, request)

    def run(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` in the child, or TimeBudgetExceeded past the budget."""
        key = self._answer_key(function, args, kwargs)
        if key is not None and key in self._answers:
            self._answers.move_to_end(key)
            record_cache_lookup("answer", hit=True)
            ok, answer, _size = self._answers[key]
            if ok:
                return answer
            raise answer.with_traceback(None)
        if key is not None:
            record_cache_lookup("answer", hit=False)
        try:
            answer = self._compute(function, args, kwargs)
        except ComputationFailed:
            raise  # may be the host's state, not the request's: try again next time
        except ServiceError as error:
            self._remember(key, False, error)
            raise
        self._remember(key, True, answer)
        return answer

    def _remember(self, key: tuple | None, ok: bool, answer: Any) -> None:
        if key is None:
            return
        size = _answer_size(answer) if ok else _ERROR_SIZE
        if size is None or size > _LARGEST_CACHED_ANSWER:
            return
        if key in self._answers:  # computed twice at once (threaded workers)
            self._answer_bytes -= self._answers.pop(key)[2]
        self._answers[key] = (ok, answer, size)
        self._answer_bytes += size
        while len(self._answers) > ANSWER_CACHE_ENTRIES or self._answer_bytes > ANSWER_CACHE_BYTES:
            _, (_, _, dropped) = self._answers.popitem(last=False)
            self._answer_bytes -= dropped

    def _compute(self, function: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        if not self.isolated:
            return function(*args, **kwargs)
        budget = self.limits.time_budget_seconds
        future = _pool(self.limits.max_memory_mb).schedule(function, args, kwargs, timeout=budget)
        try:
            return future.result()
        except FutureTimeout:
            raise TimeBudgetExceeded(
                f"the computation took longer than {budget:g} s and was stopped; simplify "
                "the request (a lower order, fewer variables or points) or raise the budget "
                f"with the environment variable {Limits.env_var('time_budget_seconds')}"
            ) from None
        except MemoryError:
            raise ComputationFailed(
                f"the computation needed more than {self.limits.max_memory_mb:,} MiB of "
                "memory and was stopped; simplify the request or raise "
                f"{Limits.env_var('max_memory_mb')}"
            ) from None
        except ProcessExpired as error:
            raise ComputationFailed(
                f"the computation's process ended abnormally ({error}); it was replaced, "
                "and the request can be simplified and retried"
            ) from None
