"""gunicorn settings, read from the environment (gunicorn loads this file from the cwd).

Sync workers, one per CPU by default: the work is CPU-bound SymPy/NumPy, so threads would
only contend for the GIL. README's "Configuration" section lists every variable.

Shutdown: on SIGTERM (``docker stop``, Kubernetes, compose scaling down) the master stops
accepting connections and each worker finishes the request it is handling before it
exits; a worker still busy after ``graceful_timeout`` seconds is killed. Give the
container more than that to stop (compose's ``stop_grace_period``).

Metrics: every worker writes its Prometheus values to ``PROMETHEUS_MULTIPROC_DIR`` so that
``/metrics`` counts all workers. The variable must be set before a worker starts, so it is
set here (to a fresh directory of this master's when the environment has none); the
master empties the directory when it starts and marks each dead worker.
"""

import ctypes
import ctypes.util
import gc
import glob
import os
import platform
import shutil
import tempfile


def _env(name, default):
    value = os.environ.get(name, "").strip()
    return value if value else default


def _env_int(name, default):
    raw = _env(name, None)
    if raw is None:
        return default
    try:
        return int(raw.replace("_", ""))
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None


def _env_bool(name, default):
    raw = _env(name, None)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={raw!r} is not one of 1, 0, true, false, yes, no, on, off")


def _cpu_count():
    """CPUs this process may run on (a container's cpuset, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


bind = _env("GRADIENT_BIND", f"0.0.0.0:{_env('PORT', '8000')}")
workers = _env_int("GRADIENT_WORKERS", _cpu_count())
worker_class = _env("GRADIENT_WORKER_CLASS", "sync")
threads = _env_int("GRADIENT_THREADS", 1)  # used by the gthread worker class only
# Last resort only: requests have their own, shorter time budget (GRADIENT_TIME_BUDGET_SECONDS).
timeout = _env_int("GRADIENT_WORKER_TIMEOUT", 60)
graceful_timeout = _env_int("GRADIENT_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GRADIENT_KEEPALIVE", 5)
# Recycle each worker after about this many requests, a safety net for the memory it holds
# (its caches are bounded: under novel gradients a worker levels off at ~215 MB after
# 40,000 requests); the jitter keeps the workers from restarting all at once. Each
# replacement costs the old worker's exit (~0.3 s of CPU to free a full worker's heap) and
# the new one's cold caches: rarely, then, as a busy worker answers 2,000 requests in a
# few seconds (bench/run.py --recycling).
max_requests = _env_int("GRADIENT_MAX_REQUESTS", 20_000)
max_requests_jitter = _env_int("GRADIENT_MAX_REQUESTS_JITTER", 2_000)
# Load the app once, in the master, and fork every worker from it: a new worker (recycled,
# or replacing a dead one) starts at once, instead of importing SymPy, SymEngine and NumPy
# again (1.3-1.9 s of CPU; with workers recycled every 2,000 requests that cost /healthz a
# third to a half of its throughput, and now costs it nothing measurable). Code changes
# then need a restart, not a SIGHUP: GRADIENT_PRELOAD=0.
preload_app = _env_bool("GRADIENT_PRELOAD", True)
# The workers' heartbeat files: on tmpfs where there is one (a container's disk may be slow).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

# gunicorn 25.1+ opens a control socket for `gunicornc` under $HOME, which a container's
# user may not have and which several instances on one host would share: off unless a
# path is given.
_control_socket = _env("GRADIENT_CONTROL_SOCKET", None)
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True

# Logs: JSON lines, the access log on stdout and everything else on stderr.
_access_log = _env("GRADIENT_ACCESS_LOG", "-")
accesslog = None if _access_log.lower() in ("off", "none", "false", "0") else _access_log
errorlog = "-"
loglevel = _env("GRADIENT_LOG_LEVEL", "info").lower()
logger_class = "service.observability.gunicorn_logging.JsonLogger"

# (This master's own directory is removed again when it exits.)
_DEFAULT_METRICS_DIR = os.path.join(tempfile.gettempdir(), f"gradient-metrics-{os.getpid()}")
metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = _env(
    "PROMETHEUS_MULTIPROC_DIR", _DEFAULT_METRICS_DIR
)
os.makedirs(metrics_dir, exist_ok=True)  # before the preloaded app writes its build info


# glibc's malloc, in the master before it forks (the workers and their computation processes
# inherit it): buffers up to 32 MiB (a 10 MiB body, 100,000 points' answers) come from the
# heap, and up to 64 MiB of freed heap is kept rather than handed back to the system. With
# glibc's defaults a worker mapped those buffers afresh on every request: 6,300 page faults
# and ~5 ms of a 100,000-point request's 29 ms of worker CPU, gone with these settings.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MALLOC_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest on 64-bit systems
MALLOC_TRIM_THRESHOLD = 64 * 1024 * 1024


def _tune_malloc():
    if platform.libc_ver()[0] != "glibc":
        return  # musl (Alpine) and others have no mallopt of these
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD)
    except (OSError, AttributeError):
        pass


_tune_malloc()


def on_starting(server):
    """Empty the metrics directory of a previous run's files (not of this master's own:
    the app it preloaded has written its build info)."""
    own = f"_{os.getpid()}.db"
    for stale in glob.glob(os.path.join(metrics_dir, "*.db")):
        if not stale.endswith(own):
            os.remove(stale)


def post_worker_init(worker):
    """Freeze the loaded app's objects (SymPy's are many) out of the garbage collector's
    sight: its full collections no longer walk them, which cut the mean time of a new
    expression by ~10% and its p99 by a quarter (measured in-process). The worker answers
    small requests itself: collect as rarely as a computation process does (at CPython's
    thresholds the collections took a fifth of a novel gradient's cost in the worker)."""
    from service.compute import COMPUTING_GC_THRESHOLDS

    gc.freeze()
    gc.set_threshold(*COMPUTING_GC_THRESHOLDS)


def child_exit(server, worker):
    """Drop a dead worker's live gauges (its counters stay: totals never go down)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, metrics_dir)


def on_exit(server):
    if metrics_dir == _DEFAULT_METRICS_DIR:
        shutil.rmtree(metrics_dir, ignore_errors=True)
