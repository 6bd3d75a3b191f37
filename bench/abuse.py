"""Normal requests under abuse: their latency with and without the costliest requests.

Starts gunicorn as README says (``gunicorn service.wsgi:app``; GRADIENT_BIND on a free
port, GRADIENT_WORKERS workers, GRADIENT_TIME_BUDGET_SECONDS), unless ``--url`` names a
running service. Then two phases of the same length:

1. baseline: normal gradient requests at a steady rate (open loop: each is sent on time
   whatever the others are doing), each one new (a new point), so none is answered from
   the web worker's answer cache;
2. abuse: the same normal load, plus ``--abusers`` clients that each send, back to back,
   the most expensive requests the limits allow (derivatives that run out of the time
   budget, the largest Hessian and Jacobian, a batch at the batch-value limit, a descent
   over 100,000 rows of data, a body of almost 10 MiB, an allocation the batch limit lets
   through, towers of powers), each varied so that no answer comes from a cache.

It prints the normal requests' p50/p90/p99/max latency and success rate for each phase,
the abusive requests' outcomes, and whether any worker died (the worker pids before and
after, gunicorn's log). Target: every normal request succeeds, the p99 under abuse stays
under twice the time budget (the wait for a worker that is busy with a runaway), and no
worker dies.

Run: ``python bench/abuse.py`` (from the project root; ``--help`` for the knobs).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
_fresh = itertools.count(1)


# -- HTTP ------------------------------------------------------------------------------------

def post(host: str, port: int, path: str, body: bytes, timeout: float = 120):
    """(status or None when the connection failed, seconds, X-Served-By)."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("POST", path, body=body,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - start, response.getheader("X-Served-By")
    except OSError:
        return None, time.perf_counter() - start, None
    finally:
        connection.close()


def get(host: str, port: int, path: str) -> int | None:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


# -- the requests ------------------------------------------------------------------------------

def normal_request() -> tuple[str, bytes]:
    k = next(_fresh)
    body = {"expression": "(w*x + b - y)^2", "variables": ["w", "b"],
            "constants": {"x": 3, "y": 4}, "point": {"w": k % 1000, "b": k // 1000}}
    return "/v1/gradient", json.dumps(body).encode()


VARIABLES = [f"x{i}" for i in range(100)]


def abusive_requests():
    """The costliest requests the default limits allow, each new (no cache answers it)."""
    def runaway(k):
        return "/v1/derivative", {"expression": f"abs(sin(x))*exp(cos(x)) + {k}*x",
                                  "variable": "x", "order": 30}

    def swelling(k):
        return "/v1/derivative", {"expression": f"x^x + {k}", "variable": "x", "order": 50}

    def hessian(k):
        return "/v1/hessian", {"expression": f"exp({k} + " + "*".join(VARIABLES) + ")"}

    def jacobian(k):
        return "/v1/jacobian", {"expressions": [f"sin({v} + {k})*" + "*".join(VARIABLES[:50])
                                                for v in VARIABLES]}

    def batch(k):  # 100,000 points x (1 + 40) values: 4.1 M of the 5 M allowed, 8 MB body
        names = VARIABLES[:40]
        return "/v1/gradient", {"expression": f"{k}*" + "*".join(f"sin({v})" for v in names),
                                "points": [[1] * 40] * 100_000}

    def big_body(k):  # ~9.9 MiB of points
        names = VARIABLES[:25]
        return "/v1/gradient", {"expression": f"{k}*" + "+".join(names),
                                "points": [[0.5] * 25] * 82_000}

    def descent(k):
        return "/v1/gradient-descent", {
            "expression": "(w*x + b - y)^2", "variables": ["w", "b"], "start": [k, 0],
            "tolerance": 0, "max_iterations": 100_000, "record_every": 100,
            "data": {"x": [0.5] * 100_000, "y": [1.0] * 100_000}}

    def tower(k):
        return "/v1/derivative", {"expression": "x^y", "variable": "x",
                                  "point": {"x": f"10^99 + {k}", "y": "10^99"}}

    kinds = [runaway, swelling, hessian, jacobian, batch, big_body, descent, tower]
    for k in itertools.count(1):
        for make in kinds:
            path, body = make(k)
            yield make.__name__, path, json.dumps(body, separators=(",", ":")).encode()


# -- gunicorn ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workers_of(master: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == master:
                        found.add(int(entry))
            except OSError:
                pass
    return found


def start_gunicorn(workers: int, budget: float, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "GRADIENT_BIND": f"127.0.0.1:{port}", "GRADIENT_WORKERS": str(workers),
           "GRADIENT_TIME_BUDGET_SECONDS": str(budget), "GRADIENT_ACCESS_LOG": "off"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn.conf.py makes a fresh one
    with open(log_path, "wb") as log:
        server = subprocess.Popen([GUNICORN, "service.wsgi:app"], cwd=ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 90
    while get("127.0.0.1", port, "/readyz") != 200:
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"gunicorn did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    while len(workers_of(server.pid)) < workers:
        time.sleep(0.1)
    return server, port


def stop_gunicorn(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(40)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


# -- the phases --------------------------------------------------------------------------------

def run_phase(host, port, seconds: float, rate: float, abusers: int):
    """Normal requests at ``rate`` per second for ``seconds`` (+ ``abusers`` clients)."""
    stop = threading.Event()
    normal: list[tuple[int | None, float]] = []
    abuse: Counter = Counter()
    served_by: set[str] = set()
    lock = threading.Lock()
    source = abusive_requests()

    def abuser():
        while not stop.is_set():
            with lock:
                kind, path, body = next(source)
            status, _, by = post(host, port, path, body)
            with lock:
                abuse[(kind, status)] += 1
                if by:
                    served_by.add(by)

    def one_normal():
        path, body = normal_request()
        status, seconds_taken, by = post(host, port, path, body)
        with lock:
            normal.append((status, seconds_taken))
            if by:
                served_by.add(by)

    threads = [threading.Thread(target=abuser, daemon=True) for _ in range(abusers)]
    for thread in threads:
        thread.start()
    time.sleep(0.5 if abusers else 0)  # let the abuse start first
    senders = []
    start = time.perf_counter()
    for i in range(int(seconds * rate)):  # open loop: each request sent on its schedule
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sender = threading.Thread(target=one_normal, daemon=True)
        sender.start()
        senders.append(sender)
    for sender in senders:
        sender.join()
    stop.set()
    for thread in threads:
        thread.join()
    return normal, abuse, served_by


def summary(label: str, normal) -> dict:
    times = sorted(t for _, t in normal)
    ok = sum(1 for status, _ in normal if status == 200)
    q = statistics.quantiles(times, n=100, method="inclusive")
    row = {"p50": q[49], "p90": q[89], "p99": q[98], "max": times[-1]}
    print(f"{label:22} {len(normal):6} {ok / len(normal):8.1%} "
          + " ".join(f"{row[k] * 1e3:9.0f}" for k in ("p50", "p90", "p99", "max")))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running service (default: start gunicorn)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget", type=float, default=2.0, help="time budget, seconds")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--rate", type=float, default=10.0, help="normal requests per second")
    parser.add_argument("--abusers", type=int, default=2, help="clients sending abuse")
    args = parser.parse_args()

    server = None
    log_path = Path(tempfile.mkdtemp(prefix="gradient-abuse-")) / "gunicorn.log"
    if args.url:
        url = urlparse(args.url)
        host, port = url.hostname, url.port or 80
    else:
        server, port = start_gunicorn(args.workers, args.budget, log_path)
        host = "127.0.0.1"
    try:
        before = workers_of(server.pid) if server else set()
        print(f"{args.workers} sync workers, time budget {args.budget:g} s; normal load "
              f"{args.rate:g} requests/s for {args.seconds:g} s per phase; "
              f"{args.abusers} abusive clients in the second phase\n")
        print(f"{'phase':22} {'normal':>6} {'success':>8} {'p50 ms':>9} {'p90 ms':>9} "
              f"{'p99 ms':>9} {'max ms':>9}")
        run_phase(host, port, 2, args.rate, 0)  # warm up: each worker forks its computer
        base_normal, _, _ = run_phase(host, port, args.seconds, args.rate, 0)
        baseline = summary("baseline", base_normal)
        abused_normal, abuse, served_by = run_phase(host, port, args.seconds, args.rate,
                                                   args.abusers)
        abused = summary(f"with {args.abusers} abusers", abused_normal)
        print("\nabusive requests (kind, status: count):")
        by_kind: dict[str, Counter] = {}
        for (kind, status), count in sorted(abuse.items(), key=lambda item: str(item)):
            by_kind.setdefault(kind, Counter())[status] += count
        for kind, statuses in by_kind.items():
            print(f"  {kind:10} " + ", ".join(f"{s}: {n}" for s, n in sorted(
                statuses.items(), key=str)))
        ok = all(status == 200 for status, _ in base_normal + abused_normal)
        target = 2 * args.budget
        print(f"\nnormal requests all succeeded: {ok}")
        print(f"p99 under abuse {abused['p99']:.2f} s vs 2 x budget {target:g} s: "
              f"{'within' if abused['p99'] < target else 'PAST'} the target "
              f"(baseline p99 {baseline['p99'] * 1e3:.0f} ms)")
        if server:
            after = workers_of(server.pid)
            pids = {int(by.rsplit("/", 1)[1]) for by in served_by}
            log = log_path.read_text(errors="replace")
            print(f"workers before {sorted(before)}, after {sorted(after)}; answers came "
                  f"from {sorted(pids)}; gunicorn log: {log.count('WORKER TIMEOUT')} worker "
                  f"timeouts, {log.count('Booting worker')} workers booted")
            print("no worker died" if before == after and pids <= before
                  and "WORKER TIMEOUT" not in log else "A WORKER DIED")
    finally:
        if server:
            stop_gunicorn(server)


if __name__ == "__main__":
    main()
