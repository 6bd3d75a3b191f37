"""Where a request's CPU goes under gunicorn: the web worker against its computation process.

    python bench/processes.py [--requests 2000] [--rounds 2] [--isolation strict]

Starts the service as README's "Run it" says, with one worker (``GRADIENT_WORKERS=1``,
access log off), sends requests one after another over one keep-alive connection, and
prints for each kind the CPU per request of the web worker and of its computation process
(user + system time from /proc), next to ``GET /healthz`` measured in the same run. Kinds:
novel 2-4 variable gradients (bench/express.py's corpus) without a point and at an integer
point. Rounds are interleaved, so that a busy neighbour on a shared machine shows as
spread between rounds rather than as a bias of one kind.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orjson  # noqa: E402

from express import novel_requests  # noqa: E402

from service.config import ISOLATION_MODES  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per kind and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--isolation", choices=ISOLATION_MODES, default="process",
                        help="GRADIENT_ISOLATION: where computations run (README Configuration)")
    args = parser.parse_args()
    port = free_port()
    metrics = tempfile.mkdtemp(prefix="gradient-bench-metrics-")
    env = dict(os.environ, GRADIENT_BIND=f"127.0.0.1:{port}", GRADIENT_WORKERS="1",
               GRADIENT_ACCESS_LOG="off", GRADIENT_LOG_LEVEL="warning",
               GRADIENT_MAX_REQUESTS="0", PROMETHEUS_MULTIPROC_DIR=metrics,
               GRADIENT_ISOLATION=args.isolation)
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    server = subprocess.Popen([gunicorn, "service.wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        connection = _connect(port)

        def get(path: str) -> int:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response.status

        def post(path: str, body: dict) -> int:
            connection.request("POST", path, orjson.dumps(body),
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            return response.status

        for request in novel_requests(30, seed=1):
            post("/v1/gradient", request)
        # past the small caps (the worker answers the rest itself): starts the computation
        # process, or warms it
        post("/v1/gradient", {"expression": " + ".join(f"{i}*x^{i}" for i in range(1, 40))})
        worker = children(server.pid)[0]
        computation = children(worker)[0] if args.isolation != "inline" else None
        print(f"{'kind (CPU ms per request)':<40} {'round':>5} {'web worker':>10} "
              f"{'computation':>11} {'total':>7}")
        for round_ in range(args.rounds):
            seed = 1000 * (round_ + 1)
            kinds = {
                "GET /healthz": None,
                "novel gradient, symbolic": [
                    {k: v for k, v in r.items() if k != "point"}
                    for r in novel_requests(args.requests, seed)],
                "novel gradient at an integer point": novel_requests(args.requests, seed + 1),
            }
            for name, bodies in kinds.items():
                web, child = cpu_seconds(worker), _cpu_or_zero(computation)
                if bodies is None:
                    for _ in range(args.requests):
                        assert get("/healthz") == 200
                else:
                    for body in bodies:
                        assert post("/v1/gradient", body) == 200
                web = (cpu_seconds(worker) - web) / args.requests * 1e3
                child = (_cpu_or_zero(computation) - child) / args.requests * 1e3
                print(f"{name:<40} {round_ + 1:>5} {web:>10.3f} {child:>11.3f} "
                      f"{web + child:>7.3f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(metrics, ignore_errors=True)


def _cpu_or_zero(pid: int | None) -> float:
    return 0.0 if pid is None else cpu_seconds(pid)


def _connect(port: int) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("GET", "/readyz")
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                return connection
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not become ready in 60 s")


if __name__ == "__main__":
    main()
