"""What the time budget costs: requests computed in the supervised process vs in the worker.

Two apps side by side in one run, ``GRADIENT_ISOLATION=strict`` (each computation runs in
the web worker's child process, which is killed past the time budget; the default,
``process``, answers small requests in the worker itself) and ``inline`` (in the web
worker itself: no budget), through Flask's test client (the whole HTTP stack but the
socket). Every request body is new, so the web worker's
answer cache never answers; the computation process's own caches (parse, derivatives,
compiled functions) work as in production. The runs of the two modes are interleaved,
round after round, and the median of each is kept, so that a slow spell of the machine hits
both sides alike.

Workloads: a small gradient at a new point (the common case: only evaluation is new), a
new expression each time (parse, differentiate, compile, evaluate), and a batch of 10,000
points (the answer, 10,000 x 3 floats, crosses the process boundary).

Then the cost of a runaway: how long after its budget the answer comes, and what the
next request (served by the replacement process) costs.

Run: ``python bench/isolation.py`` (from the project root).
"""

from __future__ import annotations

import itertools
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.app import create_app  # noqa: E402
from service.config import Limits, Settings  # noqa: E402

ROUNDS = 15
REQUESTS_PER_ROUND = 40
_fresh = itertools.count(1)


def new_point():
    k = next(_fresh)
    return "/v1/gradient", {"expression": "(w*x + b - y)^2", "variables": ["w", "b"],
                            "constants": {"x": 3, "y": 4}, "point": {"w": k, "b": 1}}


def new_expression():
    k = next(_fresh)
    return "/v1/gradient", {"expression": f"sin(w*x)^2 + {k}*b*exp(-w)",
                            "point": {"w": 1, "b": 2, "x": 3}}


def batch():
    k = next(_fresh)
    return "/v1/gradient", {"expression": f"log(1 + w^2) + {k}*w*b",
                            "points": [[i / 10_000, 1.0] for i in range(10_000)]}


WORKLOADS = {"gradient at a new point": (new_point, REQUESTS_PER_ROUND),
             "new expression": (new_expression, REQUESTS_PER_ROUND // 4),
             "batch of 10,000 points": (batch, 4)}


def per_request(client, make, count: int) -> float:
    """Seconds per request over ``count`` new requests (each checked to succeed)."""
    requests = [make() for _ in range(count)]
    start = time.perf_counter()
    for path, body in requests:
        response = client.post(path, json=body)
        assert response.status_code == 200, response.get_data()[:300]
    return (time.perf_counter() - start) / count


def main() -> None:
    limits = Limits(time_budget_seconds=10)
    clients = {
        # small requests too (the default answers those in the web worker)
        "strict": create_app(Settings(limits=limits, isolated=True,
                                       small_in_worker=False)).test_client(),
        "inline": create_app(Settings(limits=limits, isolated=False)).test_client(),
    }
    print(f"Python {platform.python_version()}, {platform.machine()}; "
          f"{ROUNDS} rounds, medians\n")
    for name, client in clients.items():  # warm up: the child is forked, caches filled
        for make, _ in WORKLOADS.values():
            per_request(client, make, 2)
    print(f"{'workload':26} {'inline':>11} {'strict':>11} {'ratio':>7} {'overhead':>10}")
    for workload, (make, count) in WORKLOADS.items():
        times = {name: [] for name in clients}
        for _ in range(ROUNDS):
            for name, client in clients.items():
                times[name].append(per_request(client, make, count))
        inline, isolated = (statistics.median(times[n]) for n in ("inline", "strict"))
        print(f"{workload:26} {inline * 1e3:9.2f}ms {isolated * 1e3:9.2f}ms "
              f"{isolated / inline:7.2f} {(isolated - inline) * 1e3:8.2f}ms")

    print("\nA runaway (budget 1 s): the answer, then the next requests")
    client = create_app(Settings(limits=Limits(time_budget_seconds=1))).test_client()
    per_request(client, new_point, 2)
    for k in range(3):
        runaway = {"expression": f"abs(sin(x))*exp(cos(x)) + {k}", "variable": "x",
                   "order": 30}
        start = time.perf_counter()
        response = client.post("/v1/derivative", json=runaway)
        stopped = time.perf_counter() - start
        assert response.status_code == 422, response.get_data()[:300]
        first = per_request(client, new_point, 1)
        then = per_request(client, new_point, 5)
        print(f"  answered (422) after {stopped:.3f} s; next request {first * 1e3:.1f} ms "
              f"(a new process), then {then * 1e3:.1f} ms each")


if __name__ == "__main__":
    main()
