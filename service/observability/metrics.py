"""Prometheus metrics: requests, latency, computation time, and the compile cache's hits.

Under gunicorn every worker is its own process. With ``PROMETHEUS_MULTIPROC_DIR`` set
before the worker starts (gunicorn.conf.py sees to it), prometheus_client writes each
worker's values to files in that directory and ``/metrics`` adds them all up, whichever
worker answers the scrape. Without it (Flask's test client, a single process) the
process's default registry is exposed as usual.

Nothing here imports Flask: the core may call :func:`record_cache_lookup`.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Any, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import choose_encoder

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

# From 5 ms to the 60 s worker timeout: requests have a 10 s computation budget.
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# The endpoint label is the URL rule (``/v1/derivative``), never the raw path, so that
# a scan of random URLs cannot create unbounded series; unrouted requests share this one.
UNMATCHED_ENDPOINT = "unmatched"

HTTP_REQUESTS = Counter(
    "gradient_http_requests",
    "HTTP requests answered, by method, endpoint (URL rule) and status code.",
    ["method", "endpoint", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "gradient_http_request_duration_seconds",
    "Time from the start of request handling to the response, by method, endpoint and status.",
    ["method", "endpoint", "status"],
    buckets=SECONDS_BUCKETS,
)
HTTP_REQUESTS_IN_PROGRESS = Gauge(
    "gradient_http_requests_in_progress",
    "Requests being handled now (summed over live workers).",
    multiprocess_mode="livesum",
)
COMPUTATION = Histogram(
    "gradient_computation_seconds",
    "Time of each computation a request hands to the computation process, by endpoint and "
    "outcome (ok, or the error's class such as TimeBudgetExceeded).",
    ["endpoint", "outcome"],
    buckets=SECONDS_BUCKETS,
)
CACHE_LOOKUPS = Counter(
    "gradient_cache_lookups",
    "Lookups in an internal cache (such as the compiled-expression cache), by cache and result.",
    ["cache", "result"],
)
BUILD_INFO_LABELS = ("service", "python", "sympy", "numpy")
BUILD_INFO = Gauge(
    "gradient_build_info",
    "Always 1; the labels carry the versions of the service and of its engines.",
    BUILD_INFO_LABELS,
    multiprocess_mode="max",
)


def record_cache_lookup(cache: str, hit: bool) -> None:
    """Count one lookup in ``cache`` (e.g. ``"compile"``) as a hit or a miss.

    The hook for caches in the core: call it on every lookup. Under gunicorn (multiprocess
    mode) lookups made in the computation processes are counted too: they inherit
    ``PROMETHEUS_MULTIPROC_DIR``. Hit ratio in PromQL:
    ``sum(rate(gradient_cache_lookups_total{result="hit"}[5m]))
    / sum(rate(gradient_cache_lookups_total[5m]))``.
    """
    counter = _LOOKUP_COUNTERS.get((cache, hit))
    if counter is None:  # labels() costs 1.5 us, a dozen times per request: once per pair
        counter = _LOOKUP_COUNTERS[(cache, hit)] = CACHE_LOOKUPS.labels(
            cache=cache, result="hit" if hit else "miss")
    counter.inc()


# (a forked process keeps them: each value notices the new pid and writes to its own file)
_LOOKUP_COUNTERS: dict[tuple[str, bool], Any] = {}


@contextmanager
def time_computation(endpoint: str) -> Iterator[None]:
    """Time the computation run in this block into ``gradient_computation_seconds``."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except BaseException as error:
        outcome = type(error).__name__
        raise
    finally:
        COMPUTATION.labels(endpoint=endpoint, outcome=outcome).observe(
            time.perf_counter() - started)


def record_request(method: str, endpoint: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    labels = {"method": method, "endpoint": endpoint, "status": str(status)}
    HTTP_REQUESTS.labels(**labels).inc()
    HTTP_REQUEST_DURATION.labels(**labels).observe(seconds)


def record_build_info(versions: dict[str, str]) -> None:
    """Publish the versions as the labels of ``gradient_build_info``."""
    BUILD_INFO.labels(**{name: versions.get(name, "") for name in BUILD_INFO_LABELS}).set(1)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR_ENV) or None


def exposition(accept: str | None = None) -> tuple[bytes, str]:
    """The current metrics and their content type: Prometheus text, or OpenMetrics when
    the scraper's ``Accept`` header asks for it.

    In multiprocess mode a fresh registry reads every worker's files (live and dead
    workers' counters and histograms; live workers' in-progress gauges).
    """
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
