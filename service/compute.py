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
import signal
import sys
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

import pebble
from pebble.common import ProcessExpired

from service.config import Limits
from service.errors import ServiceError, TimeBudgetExceeded

log = logging.getLogger(__name__)


class ComputationFailed(ServiceError):
    """The child process died (out of memory, or killed by the system)."""

    slug = "computation-failed"
    title = "Computation failed"


# SymPy recurses a few frames per level of nesting: the grammar's 200 levels need more
# than Python's default of 1000. The child's main thread has the 8 MiB C stack to hold it.
CHILD_RECURSION_LIMIT = 12_000


def _prepare_child(max_bytes: int) -> None:
    """In the child: deep enough recursion for SymPy, a memory cap for the host's sake, and
    death at the first SIGTERM.

    pebble stops an overrunning child with SIGTERM, then SIGKILL 3 s later, and only then
    answers the request. Its worker handles SIGTERM in Python, and a Python handler runs
    only between bytecodes: a child inside one long C call (LAPACK, mpmath's big floats)
    would outlive the budget by those 3 s. The default action ends it at once.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.setrecursionlimit(CHILD_RECURSION_LIMIT)
    mapped = _address_space()
    if max_bytes < mapped + MIN_HEADROOM:
        log.warning(
            "GRADIENT_MAX_MEMORY_MB (%d MiB) leaves less than %d MiB for computations above "
            "the %d MiB the process maps already: most requests will fail; raise it",
            max_bytes >> 20, MIN_HEADROOM >> 20, mapped >> 20)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    except (ValueError, OSError) as error:  # already lower, or not permitted
        log.warning("could not limit the computation's memory: %s", error)


# Room a computation process should have above what it maps when it starts (~270 MiB for a
# gunicorn worker's child: the interpreter, SymPy, NumPy and OpenBLAS).
MIN_HEADROOM = 256 * 1024 * 1024


def _address_space() -> int:
    """The process's current address space in bytes (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


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


def _replace_pool(max_memory_mb: int) -> None:
    """Stop the computation process, whose state may be damaged; the next call makes one."""
    pool = _POOLS.pop((os.getpid(), max_memory_mb), None)
    if pool is not None:
        pool.stop()
        pool.join()


class Computer:
    """Runs functions in a supervised child process, one computation at a time."""

    def __init__(self, limits: Limits, isolated: bool = True):
        self.limits = limits
        self.isolated = isolated

    def run(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` in the child, or TimeBudgetExceeded past the budget."""
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
            _replace_pool(self.limits.max_memory_mb)  # its caches may be half updated
            raise ComputationFailed(
                f"the computation needed more than {self.limits.max_memory_mb:,} MiB of "
                "memory and was stopped; simplify the request or raise "
                f"{Limits.env_var('max_memory_mb')}"
            ) from None
        except SystemError as error:
            # What C code says when an allocation fails where it did not expect it ("error
            # return without exception set"): the interpreter's state is suspect.
            _replace_pool(self.limits.max_memory_mb)
            raise ComputationFailed(
                f"the computation's process failed ({error}), most likely out of memory "
                f"past {self.limits.max_memory_mb:,} MiB; it was replaced. Simplify the "
                f"request or raise {Limits.env_var('max_memory_mb')}"
            ) from None
        except (ProcessExpired, BrokenProcessPool) as error:
            # Killed by the system, or dead as it started (a memory cap below what it maps)
            _replace_pool(self.limits.max_memory_mb)
            raise ComputationFailed(
                f"the computation's process ended abnormally ({error}); it was replaced, "
                "and the request can be simplified and retried"
            ) from None
