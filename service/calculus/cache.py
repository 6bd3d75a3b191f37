"""The compiled-expression cache of a computation process (and of a web worker: small
requests).

Each costly stage of a request is memoized under the normalized inputs of that stage:
parsing (expression text, variables, constants, limits), differentiation (expression and
variables), rendering (text and LaTeX of an expression) and compilation (expressions and
argument symbols). A repeated request, or a new point for a known expression, then skips
SymPy entirely; a request that shares only a stage (a Hessian of an expression whose
gradient was asked for) reuses that stage.

Bounded twice: by the number of entries (least recently used ones go first) and by the
resident memory of the process, checked every few insertions, past which the older half
of the entries is dropped. Hits and misses are counted in the Prometheus metrics.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Callable, Hashable, TypeVar

from service.observability.metrics import record_cache_lookup

T = TypeVar("T")

# How often (in insertions) the process's resident memory is read.
_MEMORY_CHECK_EVERY = 32
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    """The process's current resident memory (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


class StageCache:
    """An LRU map of (stage, key) -> value, bounded in entries and in process memory."""

    def __init__(self, max_entries: int = 2048, max_megabytes: int = 512):
        self._entries: OrderedDict[tuple[str, Hashable], Any] = OrderedDict()
        self.max_entries = max_entries
        self.max_bytes = max_megabytes * 1024 * 1024
        self._insertions = 0

    def configure(self, max_entries: int, max_megabytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_megabytes * 1024 * 1024

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def get(self, stage: str, key: Hashable, build: Callable[[], T]) -> T:
        """The cached value of ``stage`` for ``key``, built (and kept) on a miss.

        Exceptions from ``build`` propagate and nothing is kept.
        """
        full_key = (stage, key)
        try:
            value = self._entries[full_key]
        except KeyError:
            record_cache_lookup(stage, hit=False)
        except TypeError:  # an unhashable key: compute without caching
            return build()
        else:
            self._entries.move_to_end(full_key)
            record_cache_lookup(stage, hit=True)
            return value
        value = build()
        self._entries[full_key] = value
        self._evict()
        return value

    def _evict(self) -> None:
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        self._insertions += 1
        if self._insertions % _MEMORY_CHECK_EVERY == 0 and resident_bytes() > self.max_bytes:
            for _ in range(len(self._entries) // 2 or len(self._entries)):
                self._entries.popitem(last=False)


#: The cache of this process (a computation child under gunicorn, or a web worker).
STAGES = StageCache()


def memoized(stage: str, key: Hashable, build: Callable[[], T]) -> T:
    return STAGES.get(stage, key, build)


def freeze(value: Any) -> Hashable:
    """A hashable, order-normalized form of JSON-like request data (dicts sorted by key)."""
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return (type(value).__name__, value) if isinstance(value, (int, float)) else value
