"""Where the computation runs: a supervised child process with a time budget.

Evidence behind the choice (measured for issue 6): a signal timer stops pure-Python SymPy
work but not one long big-integer C call, and works only in a main thread;
``concurrent.futures`` timeouts return but leave the worker computing; a process that is
killed and replaced when it overruns stops anything and leaves the web worker healthy.
So each web worker owns one child, forked lazily so it inherits the loaded SymPy/NumPy,
and a request's computation runs there under the budget; per-process caches live in the
child. Small requests are the exception (:meth:`Computer.run_small`): the express lane
answers them in the web worker under a 50 ms timer, saving the hand-off. The web worker
talks to the child over one pipe and waits with ``poll(budget)``: a round trip costs ~0.05
ms (pebble's pool, used before, took 0.27 ms through its threads, and 9 ms for the arrays
of 100,000 points; see README "Performance"). Large arrays cross through two shared
mappings instead (see :class:`_Transport`).
"""

from __future__ import annotations

import gc
import logging
import mmap
import multiprocessing
import os
import pickle
import resource
import signal
import sys
import threading
import time
from io import BytesIO
from typing import Any, Callable

import numpy as np

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
# Collector thresholds of a process that computes (generation 0 allocations, then 1 and 2):
# a computation process, and a web worker, which answers small requests (gunicorn.conf.py).
COMPUTING_GC_THRESHOLDS = (50_000, 20, 10)


def _prepare_child(max_bytes: int) -> None:
    """In the child: deep enough recursion for SymPy, a memory cap for the host's sake, and
    death at the first SIGTERM.

    An overrunning child gets SIGKILL; SIGTERM comes from multiprocessing when the web
    worker exits. A Python handler would run only between bytecodes, so a child inside one
    long C call (LAPACK, mpmath's big floats) would outlive its worker: the default action
    ends it at once.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.setrecursionlimit(CHILD_RECURSION_LIMIT)
    gc.freeze()  # the inherited objects (SymPy, NumPy) stay out of the collector's walks
    # A computation allocates thousands of objects and leaves almost no cycles (30 novel
    # gradients leave ~4 objects for the collector), but at the default thresholds
    # (700, 10, 10) the collections, most of all the full ones over the growing caches,
    # took a quarter to a third of a novel gradient's time (bench/express.py). Collect
    # rarely; refcounting still frees all the rest at once, and RLIMIT_AS bounds the process.
    gc.set_threshold(*COMPUTING_GC_THRESHOLDS)
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
# tests, share it. A child made before a fork belongs to the parent, hence the pid key.
_CHILDREN: dict[tuple[int, int], _Child] = {}
_CHILDREN_LOCK = threading.Lock()


class _Child:
    """One forked computation process, the pipe to it, and a lock: one task at a time (the
    gthread worker class runs requests in threads)."""

    def __init__(self, max_memory_mb: int):
        context = multiprocessing.get_context("fork")  # inherits the loaded SymPy and NumPy
        self.connection, their_end = context.Pipe()
        self.transport = _Transport.make()  # mapped before the fork: the child shares it
        self.process = context.Process(
            target=_serve, args=(their_end, self.transport.mirrored(),
                                 max_memory_mb * 1024 * 1024),
            name="gradient-computation", daemon=True,
        )
        self.process.start()
        their_end.close()
        self.lock = threading.Lock()

    def stop(self) -> None:
        """Kill the process at once (it may be inside one long C call) and reap it."""
        if self.process.is_alive():
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.join()
        self.connection.close()
        self.transport.close()


class _Transport:
    """Where the arrays of a message go: two shared anonymous mappings, one per direction.

    Through the pipe, the 4 MB of arrays of 100,000 points and their answers cost ~5 ms
    (copied into the kernel and out again, 64-200 KB at a time, a context switch each);
    written into shared memory and copied out by the receiver they cost ~1 ms. The two
    processes take turns (the web worker writes a task, then waits; the computation writes
    its answer, then waits), and a receiver copies every buffer out before it goes on, so a
    region is never written while it is read. Buffers below ``SMALLEST`` or past what is
    left of a region still go through the pipe. Pages are only made when first written.
    """

    SMALLEST = 64 * 1024
    REGION_BYTES = 16 * 1024 * 1024

    def __init__(self, outgoing: mmap.mmap | None, incoming: mmap.mmap | None):
        self.outgoing, self.incoming = outgoing, incoming

    @classmethod
    def make(cls) -> _Transport:
        try:
            return cls(mmap.mmap(-1, cls.REGION_BYTES), mmap.mmap(-1, cls.REGION_BYTES))
        except (OSError, ValueError):  # no shared memory here: everything through the pipe
            return cls(None, None)

    def mirrored(self) -> _Transport:
        """The child's view: what the web worker sends is what it receives."""
        return _Transport(self.incoming, self.outgoing)

    def close(self) -> None:
        for region in (self.outgoing, self.incoming):
            if region is not None:
                region.close()


class _Pickler(pickle.Pickler):
    """Pickles arrays that are views across rows or columns (a batch's columns of its table)
    as contiguous copies: only contiguous buffers go out of band (pickled in band, the
    answers of 100,000 points took 2.4 MB of pickle and 7 ms), and orjson writes only
    C-contiguous arrays itself."""

    def reducer_override(self, obj):  # not called for str, int, float, list, dict, ...
        if type(obj) is np.ndarray and not obj.flags.c_contiguous:
            return np.ascontiguousarray(obj).__reduce_ex__(5)
        return NotImplemented


def _send(connection, message: Any, transport: _Transport) -> None:
    """Pickle ``message`` and send it; array data goes out of band, straight from memory.

    Pickle protocol 5 hands NumPy arrays' buffers over instead of copying them into the
    pickle: 100,000 points there and their answers back cost 1.4 ms instead of 4.6 ms.
    Large buffers are written into ``transport``'s outgoing region, the others follow the
    pickle through the pipe.
    """
    buffers: list[pickle.PickleBuffer] = []
    stream = BytesIO()
    _Pickler(stream, protocol=5, buffer_callback=buffers.append).dump(message)
    head = stream.getvalue()
    region, offset = transport.outgoing, 0
    places: list[tuple[int, int] | None] = []
    piped = []
    for buffer in buffers:
        raw = buffer.raw()
        size = raw.nbytes
        if region is not None and size >= _Transport.SMALLEST and offset + size <= len(region):
            region[offset:offset + size] = raw
            places.append((offset, size))
            offset += size
        else:
            places.append(None)
            piped.append(raw)
    connection.send_bytes(pickle.dumps((places, head), protocol=5))
    for raw in piped:
        connection.send_bytes(raw)


def _receive(connection, transport: _Transport) -> Any:
    places, head = pickle.loads(connection.recv_bytes())
    region = transport.incoming
    # copies (bytearrays): the sender may reuse its region at once, and the arrays made
    # over them are writable, as unpickled arrays always were
    buffers = [bytearray(connection.recv_bytes()) if place is None
               else bytearray(memoryview(region)[place[0]:place[0] + place[1]])
               for place in places]
    return pickle.loads(head, buffers=buffers)


def _serve(connection, transport: _Transport, max_bytes: int) -> None:
    """The child's loop: receive (function, args, kwargs), send back ("ok"|"error", value)."""
    _prepare_child(max_bytes)
    while True:
        try:
            function, args, kwargs = _receive(connection, transport)
        except (EOFError, OSError):  # the web worker is gone
            return
        try:
            reply = ("ok", function(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - every failure goes back to the caller
            reply = ("error", error)
        try:
            _send(connection, reply, transport)
        except (EOFError, OSError):
            return
        except Exception as error:  # noqa: BLE001 - an answer or error that cannot be pickled
            _send(connection, ("error", SystemError(f"the answer could not be sent: {error}")),
                  transport)


def _child(max_memory_mb: int) -> _Child:
    key = (os.getpid(), max_memory_mb)
    with _CHILDREN_LOCK:
        child = _CHILDREN.get(key)
        if child is None or not child.process.is_alive():
            if child is not None:
                child.stop()
            child = _CHILDREN[key] = _Child(max_memory_mb)
        return child


def _replace_child(child: _Child, max_memory_mb: int) -> None:
    """Stop the computation process, whose state may be damaged; the next call makes one."""
    with _CHILDREN_LOCK:
        if _CHILDREN.get((os.getpid(), max_memory_mb)) is child:
            del _CHILDREN[(os.getpid(), max_memory_mb)]
    child.stop()


# How long a small request may compute in the web worker before it is handed to the
# computation process after all. A backstop: the caps of a small request
# (operations.SMALL_REQUEST) keep the slowest case known in the express lane at ~19 ms.
SMALL_SECONDS = 0.05


class _Overrun(BaseException):
    """Raised by the timer into a small computation that ran past SMALL_SECONDS (a
    BaseException, so that no ``except Exception`` on the way catches it)."""


# Whether the small-request timer may still raise (cleared the moment the computation ends,
# so that a late signal is ignored), and how soon it fires again where it may not raise.
_timer_armed = [False]
_REFIRE_SECONDS = 0.001


def _overrun(signum, frame):
    """Raise _Overrun into the computation, but not into a gc callback or a ``__del__``
    (hypothesis counts gc time with a callback): there Python prints the exception and goes
    on, so the computation would run unbounded. Fire again soon instead."""
    if not _timer_armed[0]:
        return
    if _swallows_exceptions(frame):
        signal.setitimer(signal.ITIMER_REAL, _REFIRE_SECONDS)
        return
    raise _Overrun


def _swallows_exceptions(frame) -> bool:
    callbacks = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    for _ in range(50):
        if frame is None:
            return False
        if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def _answer_here(small: Callable[..., Any], args, kwargs, seconds: float) -> Any:
    """``small(*args, **kwargs)`` in this process, or None past ``seconds`` or on any error
    (the computation process then answers, or words the error).

    The timer is SIGALRM: the express lane is Python calling short C functions, which a
    signal interrupts between two of them. Only the main thread may set a handler. An alarm
    already set (by a test runner, say) is put back, less the time spent here; one due
    sooner than ours is left alone, and the request handed over.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    pending, interval = signal.getitimer(signal.ITIMER_REAL)
    if pending and pending <= seconds:
        return None
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _overrun)
    try:
        _timer_armed[0] = True
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return small(*args, **kwargs)
        finally:
            _timer_armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Overrun:
        log.debug("a small request took over %g s in the web worker; handed over", seconds)
        return None
    except Exception:  # noqa: BLE001 - the computation process words every error
        log.debug("a small request failed in the web worker; handed over", exc_info=True)
        return None
    finally:
        signal.signal(signal.SIGALRM, previous)
        if pending:
            left = pending - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), interval)


class Computer:
    """Runs functions in a supervised child process, one computation at a time; with
    ``small_here``, small requests (see :meth:`run_small`) in the web worker itself."""

    def __init__(self, limits: Limits, isolated: bool = True, small_here: bool = True):
        self.limits = limits
        self.isolated = isolated
        self.small_here = small_here

    def run_small(self, small: Callable[..., Any] | None, function: Callable[..., Any],
                  *args: Any, **kwargs: Any) -> Any:
        """``small(*args, **kwargs)`` here, when it answers (not None) within SMALL_SECONDS
        (or a shorter time budget); else ``function(*args, **kwargs)`` as :meth:`run` runs it.

        ``small`` is a cheaper way to the same answer for some requests (the express lane
        within small caps): answered here it skips the hand-over to the computation process
        (both ways, ~20% of a novel gradient's cost, README "Performance").
        """
        if small is not None and self.isolated and self.small_here:
            seconds = min(SMALL_SECONDS, self.limits.time_budget_seconds)
            answer = _answer_here(small, args, kwargs, seconds)
            if answer is not None:
                return answer
        return self.run(function, *args, **kwargs)

    def run(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` in the child, or TimeBudgetExceeded past the budget."""
        if not self.isolated:
            return function(*args, **kwargs)
        budget = self.limits.time_budget_seconds
        memory = self.limits.max_memory_mb
        child = _child(memory)
        with child.lock:
            try:
                _send(child.connection, (function, args, kwargs), child.transport)
                answered = child.connection.poll(budget)
                if answered:
                    status, value = _receive(child.connection, child.transport)
            except (EOFError, OSError) as error:
                # Killed by the system, or dead as it started (a memory cap below what it maps)
                _replace_child(child, memory)
                raise ComputationFailed(
                    f"the computation's process ended abnormally ({error or 'it exited'}); it "
                    "was replaced, and the request can be simplified and retried"
                ) from None
            except BaseException:
                # Interrupted between the task and its answer (a worker's own timeout): the
                # answer would be read by the next request, so the process goes.
                _replace_child(child, memory)
                raise
            if not answered:
                _replace_child(child, memory)
                raise TimeBudgetExceeded(
                    f"the computation took longer than {budget:g} s and was stopped; simplify "
                    "the request (a lower order, fewer variables or points) or raise the "
                    f"budget with the environment variable {Limits.env_var('time_budget_seconds')}"
                )
        if status == "ok":
            return value
        if isinstance(value, MemoryError):
            _replace_child(child, memory)  # its caches may be half updated
            raise ComputationFailed(
                f"the computation needed more than {memory:,} MiB of memory and was "
                f"stopped; simplify the request or raise {Limits.env_var('max_memory_mb')}"
            )
        if isinstance(value, SystemError):
            # What C code says when an allocation fails where it did not expect it ("error
            # return without exception set"): the interpreter's state is suspect.
            _replace_child(child, memory)
            raise ComputationFailed(
                f"the computation's process failed ({value}), most likely out of memory "
                f"past {memory:,} MiB; it was replaced. Simplify the request or raise "
                f"{Limits.env_var('max_memory_mb')}"
            )
        raise value
