"""Benchmark the service under gunicorn against its floor, ``GET /healthz``, in one run.

Starts the service as README documents (``gunicorn service.wsgi:app``, configured by
environment variables: ``GRADIENT_BIND`` on a free loopback port, 2 sync workers; the
access log off and worker recycling off so that neither moves the figures), drives it with
``wrk`` (Debian's package: ``apt-get install -y wrk``) and prints each figure next to the
floor measured in the same run:

- throughput (requests/s, from wrk) and server CPU per request (user + system time of the
  gunicorn master, workers and computation processes, read from /proc before and after):
  the CPU figure is the steadier one on a shared machine;
- cached ``/v1/gradient`` at a point, a new point for a known expression, and novel
  expressions (wrk's Lua builds a new 2-4 variable expression for every request), at an
  integer point (exact and float values: the target's figure) and without a point (only
  the symbolic gradient, text and LaTeX: what the values at the point add);
- cold single requests (a dense 50-variable Hessian at a point, a 100-variable gradient),
  each a new expression, timed by a Python client;
- 100,000 ``points``: the request against calling the compiled NumPy function directly and
  encoding the same arrays (orjson and, for comparison, the standard json module);
- gradient descent over HTTP end to end against the hand-written loop of bench/descent.py
  (each request new, so that the answer cache does not answer it).

With ``--isolation``, also novel expressions against ``/healthz`` on one server per
``GRADIENT_ISOLATION`` mode (``process``, the default: small requests answered in the web
worker; ``strict``: everything in the computation process; ``inline``), runs interleaved.
With ``--recycling``, also /healthz and novel expressions with workers replaced every
~2,000 requests (``GRADIENT_MAX_REQUESTS``), with and without the app preloaded in the
master, against recycling off.

Run: ``python bench/run.py`` from the project root (``--seconds`` per wrk run, default 5).
Loopback only; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import orjson  # noqa: E402
import sympy  # noqa: E402

WORKERS = 2
CONNECTIONS = 4

LUA_POST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{body}]]
"""

# A new 2-4 variable expression per request: a counter and a random draw make each unique.
LUA_NOVEL = r"""
local with_point = WITH_POINT
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
local names = {"x", "y", "z", "w"}
local unary = {"sin", "cos", "exp", "tanh", "atan", "sqrt", "log"}
local thread_id = 0
setup = function(thread)
  thread:set("seed", thread_id)
  thread_id = thread_id + 1
end
init = function(args)
  math.randomseed(os.time() * 1000 + (seed or 0) * 7919 + math.floor(os.clock() * 1e6))
end
local function pick(t) return t[math.random(#t)] end
local function term(vars)
  local a, b = pick(vars), pick(vars)
  local f = pick(unary)
  local inner
  if f == "log" or f == "sqrt" then
    inner = string.format("1 + %s^2 + %s^2", a, b)
  else
    inner = string.format("%d*%s - %s/%d", math.random(1, 9), a, b, math.random(2, 9))
  end
  return string.format("%d*%s^%d*%s(%s)", math.random(1, 20), b, math.random(1, 4), f, inner)
end
request = function()
  counter = counter + 1
  local nvars = math.random(2, 4)
  local vars = {}
  for i = 1, nvars do vars[i] = names[i] end
  local parts = {}
  for i = 1, 3 do parts[i] = term(vars) end
  local expr = table.concat(parts, " + ") .. string.format(" + %d*%s*%s", counter, vars[1], vars[nvars])
  local point = {}
  for i = 1, nvars do point[i] = string.format('"%s": %d', vars[i], math.random(1, 3)) end
  local body = string.format('{"expression": "%s", "variables": ["%s"]%s}',
    expr, table.concat(vars, '", "'), with_point and (', "point": {' .. table.concat(point, ", ") .. '}') or "")
  return wrk.format(nil, nil, nil, body)
end
"""

LUA_NEW_POINT = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, string.format(
    '{"expression": "sin(x)*exp(y) + x^2*y", "point": {"x": %d, "y": 2}}', counter))
end
"""

CACHED_BODY = '{"expression": "sin(x)*exp(y) + x^2*y", "point": {"x": 1, "y": 2}}'


# -- the server ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving the app on a free loopback port, as README's "Run it" says."""

    def __init__(self, workers: int = WORKERS, isolation: str = "process", **settings: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_dir = tempfile.mkdtemp(prefix="gradient-bench-metrics-")
        env = dict(os.environ, GRADIENT_BIND=f"127.0.0.1:{self.port}",
                   GRADIENT_WORKERS=str(workers), GRADIENT_ACCESS_LOG="off",
                   GRADIENT_LOG_LEVEL="warning", GRADIENT_MAX_REQUESTS="0",
                   GRADIENT_ISOLATION=isolation, PROMETHEUS_MULTIPROC_DIR=self.metrics_dir)
        env.update(settings)
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        self.process = subprocess.Popen([gunicorn, "service.wsgi:app"], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(self.url + "/readyz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("gunicorn did not become ready in 60 s")

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and all its descendants (workers, children),
        the ones that have exited too (a recycled worker's time is in its reaper's)."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for pid in self._tree():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # utime, stime, and cutime, cstime: the children it has waited for
            total += sum(int(field) for field in fields[11:15]) / tick
        return total

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.metrics_dir, ignore_errors=True)


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.status, response.read()


def post(url: str, body: bytes) -> tuple[int, bytes, float]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            data = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        data, status = error.read(), error.code
    return status, data, time.perf_counter() - started


# -- load runs -------------------------------------------------------------------------------

def wrk(server: Server, path: str, seconds: float, lua: str | None = None) -> dict:
    """One wrk run: requests/s, non-2xx count and server CPU per request."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    script = None
    if lua is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(lua)
        script.close()
        command += ["-s", script.name]
    command.append(server.url + path)
    cpu_before = server.cpu_seconds()
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                            check=True).stdout
    cpu = server.cpu_seconds() - cpu_before
    if script is not None:
        os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    count = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p50 = re.search(r"50%\s+([\d.]+\w+)", output)
    return {"rate": rate, "requests": count, "non2xx": int(errors.group(1)) if errors else 0,
            "cpu_ms": cpu / max(count, 1) * 1e3, "p50": p50.group(1) if p50 else "?"}


def timed_requests(server: Server, path: str, bodies: list[bytes]) -> list[float]:
    times = []
    for body in bodies:
        status, data, seconds = post(server.url + path, body)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}: {data[:300]!r}")
        times.append(seconds)
    return times


# -- the cases -------------------------------------------------------------------------------

def dense_hessian_body(n: int, salt: int) -> bytes:
    """A dense Hessian: every second partial of log(1 + sum c_i x_i^2) + exp(sum x_i / k) is
    a function of all n variables, and none is zero."""
    names = [f"x{i}" for i in range(1, n + 1)]
    squares = " + ".join(f"{(i * 7 + salt) % 5 + 1}*{v}^2" for i, v in enumerate(names))
    linear = " + ".join(names)
    expression = f"log(1 + {squares}) + exp(({linear})/{salt + 2})"
    point = {v: round(0.1 + 0.01 * i, 2) for i, v in enumerate(names)}
    return orjson.dumps({"expression": expression, "variables": names, "point": point})


def wide_gradient_body(n: int, salt: int) -> bytes:
    names = [f"x{i}" for i in range(1, n + 1)]
    terms = " + ".join(f"sin({(i + salt) % 9 + 1}*{v})*{names[(i + 1) % n]}"
                       for i, v in enumerate(names))
    expression = f"{terms} + exp(({' + '.join(names)})/{salt + 100})"
    point = {v: round(0.5 + 0.01 * i, 2) for i, v in enumerate(names)}
    return orjson.dumps({"expression": expression, "variables": names, "point": point})


def points_case(server: Server, n_points: int = 100_000, repeats: int = 5) -> dict:
    from service.api.jsonio import dumps
    from service.calculus import engine
    from service.expressions import symbol

    rng = np.random.default_rng(0)
    coordinates = rng.uniform(0.5, 2.0, size=(n_points, 2)).round(6)
    expression = "sin(x)*exp(y) + x^2*y"
    body = orjson.dumps({"expression": expression, "points": coordinates.tolist()})
    post(server.url + "/v1/gradient", body)  # compile once: the figure is the batch
    http = min(timed_requests(server, "/v1/gradient", [body] * repeats))

    x, y = symbol("x"), symbol("y")
    f = sympy.sin(x) * sympy.exp(y) + x**2 * y
    function = engine.compile_numeric([f, f.diff(x), f.diff(y)], [x, y])
    columns = coordinates.T.copy()

    def direct(encode):
        value, gx, gy = function(columns[0], columns[1])
        return encode({"batch": {"values": value, "gradient": np.stack([gx, gy], axis=1)}})

    def encode_json(obj):
        batch = obj["batch"]
        return json.dumps({"batch": {"values": batch["values"].tolist(),
                                     "gradient": batch["gradient"].tolist()}}).encode()

    best = {}
    for name, encode in (("orjson", dumps), ("json", encode_json)):
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            direct(encode)
            times.append(time.perf_counter() - started)
        best[name] = min(times)
    parse_times = []
    for _ in range(repeats):
        started = time.perf_counter()
        orjson.loads(body)
        parse_times.append(time.perf_counter() - started)
    return {"http": http, "direct_orjson": best["orjson"], "direct_json": best["json"],
            "request_bytes": len(body), "decode": min(parse_times)}


def descent_case(server: Server, repeats: int = 3) -> list[tuple[str, float, float]]:
    """Per-iteration time over HTTP against the hand-written loops of bench/descent.py."""
    sys.path.insert(0, str(ROOT / "bench"))
    import descent as bench_descent

    value, gradient = bench_descent.rosenbrock()
    rows = []
    n = 10_000
    for name, lr, hand in (("gd", 1e-4, bench_descent.hand_gd),
                           ("adam", 1e-3, bench_descent.hand_adam)):
        # a new start for each request, so that the web worker's answer cache never answers
        bodies = [orjson.dumps({"expression": "(1-x)^2 + 100*(y-x^2)^2", "variables": ["x", "y"],
                                "start": [-1.2 + 1e-9 * random.random(), 1.0], "optimizer": name,
                                "learning_rate": lr, "max_iterations": n, "tolerance": 0,
                                "record_every": 1000}) for _ in range(repeats + 1)]
        post(server.url + "/v1/gradient-descent", bodies.pop())
        http = min(timed_requests(server, "/v1/gradient-descent", bodies))
        manual = min(_time(lambda: hand(value, gradient, (-1.2, 1.0), lr, n, 0.0, False))
                     for _ in range(repeats))
        rows.append((f"rosenbrock {name}, {n:,} iterations", http / n, manual / n))
    value, gradient, xs, ys = bench_descent.least_squares()
    n = 200
    body = orjson.dumps({"expression": "(w*x + b - y)^2", "variables": ["w", "b"],
                         "start": [0, 0], "data": {"x": xs.tolist(), "y": ys.tolist()},
                         "optimizer": "gd", "learning_rate": 0.1, "max_iterations": n,
                         "tolerance": 0, "record_every": 100})
    post(server.url + "/v1/gradient-descent", body)
    http = min(timed_requests(server, "/v1/gradient-descent", [body] * repeats))
    manual = min(_time(lambda: bench_descent.hand_least_squares(
        value, gradient, xs, ys, 0.1, n, 0.0, False)) for _ in range(repeats))
    rows.append((f"least squares 100,000 rows, {n} iterations", http / n, manual / n))
    return rows


def _time(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def floor_and_novel(servers: dict[str, Server], seconds: float, rounds: int = 2,
                    warm: bool = False) -> dict[str, list[tuple[dict, dict]]]:
    """/healthz and novel expressions at a point on each server, run by run in turn (the
    floor of each pair measured next to it); the servers are stopped at the end."""
    runs: dict[str, list[tuple[dict, dict]]] = {label: [] for label in servers}
    try:
        if warm:  # the workers' computation processes too
            for server in servers.values():
                for _ in range(20):
                    post(server.url + "/v1/gradient", CACHED_BODY.encode())
        for _round in range(rounds):
            for label, server in servers.items():
                floor = wrk(server, "/healthz", seconds)
                novel = wrk(server, "/v1/gradient", seconds,
                            LUA_NOVEL.replace("WITH_POINT", "true"))
                runs[label].append((floor, novel))
    finally:
        for server in servers.values():
            server.stop()
    return runs


def isolation_case(seconds: float) -> dict[str, list[tuple[dict, dict]]]:
    """One server per GRADIENT_ISOLATION mode: small requests in the web worker (process),
    everything in the computation process (strict), everything in the web worker (inline)."""
    return floor_and_novel({mode: Server(isolation=mode)
                            for mode in ("process", "strict", "inline")}, seconds, warm=True)


# (label, settings): worker recycling off (the other figures' servers), every ~2,000
# requests with the app preloaded in the master (gunicorn.conf.py), and the same without
# preloading: each new worker then imports SymPy, SymEngine and NumPy itself.
RECYCLING = (
    ("recycling off", {}),
    ("every ~2,000 requests, preloaded", {"GRADIENT_MAX_REQUESTS": "2000"}),
    ("every ~2,000 requests, not preloaded",
     {"GRADIENT_MAX_REQUESTS": "2000", "GRADIENT_PRELOAD": "0"}),
)


def recycling_case(seconds: float) -> dict[str, list[tuple[dict, dict]]]:
    """One server per RECYCLING setting: what replacing a worker costs (its exit, its
    start, its cold caches)."""
    return floor_and_novel({label: Server(**settings) for label, settings in RECYCLING},
                           seconds)


def cache_metrics(server: Server) -> list[str]:
    _, body = get(server.url + "/metrics")
    return [line for line in body.decode().splitlines()
            if line.startswith("gradient_cache_lookups_total")]


# -- report ----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--skip-descent", action="store_true")
    parser.add_argument("--isolation", action="store_true",
                        help="also compare the GRADIENT_ISOLATION modes on novel expressions")
    parser.add_argument("--recycling", action="store_true",
                        help="also measure what replacing workers (GRADIENT_MAX_REQUESTS) costs")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")

    from service.calculus import engine
    from service.observability.versions import engine_versions

    versions = engine_versions()
    print(f"Python {versions['python']}, SymPy {versions['sympy']}, NumPy {versions['numpy']}, "
          f"SymEngine {versions.get('symengine', 'not installed')} "
          f"(fast engine {'on' if engine.FAST_ENGINE else 'off'}); {os.cpu_count()} CPUs, "
          f"{platform.machine()}; gunicorn {WORKERS} sync workers; wrk -t1 -c{CONNECTIONS} "
          f"-d{args.seconds:g}s")
    server = Server()
    try:
        # warm both workers and their computation processes
        for _ in range(20):
            post(server.url + "/v1/gradient", CACHED_BODY.encode())
        runs = {}
        for _round in range(2):  # interleaved: the floor is measured between the others too
            for name, path, lua in (
                ("healthz", "/healthz", None),
                ("cached gradient at a point", "/v1/gradient", LUA_POST.format(body=CACHED_BODY)),
                ("known expression, new point", "/v1/gradient", LUA_NEW_POINT),
                ("novel 2-4 variable expression at a point", "/v1/gradient",
                 LUA_NOVEL.replace("WITH_POINT", "true")),
                ("novel 2-4 variable expression, symbolic", "/v1/gradient",
                 LUA_NOVEL.replace("WITH_POINT", "false")),
            ):
                result = wrk(server, path, args.seconds, lua)
                best = runs.get(name)
                if best is None or result["rate"] > best["rate"]:
                    runs[name] = result
        floor = runs["healthz"]
        print()
        print(f"{'throughput (best of 2 runs)':<44} {'req/s':>8} {'ratio':>6} {'target':>7}  "
              f"{'CPU ms/req':>10} {'CPU ratio':>9}  {'p50':>8}  non-2xx")
        targets = {"cached gradient at a point": 0.85,
                   "novel 2-4 variable expression at a point": 0.25}
        for name, result in runs.items():
            ratio = result["rate"] / floor["rate"]
            cpu_ratio = floor["cpu_ms"] / result["cpu_ms"]
            target = targets.get(name)
            shown = f">={target:.2f}" if target else ""
            print(f"{name:<44} {result['rate']:>8.0f} {ratio:>6.3f} {shown:>7}  "
                  f"{result['cpu_ms']:>10.3f} {cpu_ratio:>9.3f}  {result['p50']:>8}  "
                  f"{result['non2xx']}")
        print("(ratio: requests/s over /healthz's; CPU ratio: /healthz's server CPU per request "
              "over this one's)")

        print()
        seed = random.randrange(10**6)
        hessian = timed_requests(server, "/v1/hessian",
                                 [dense_hessian_body(50, seed + i) for i in range(3)])
        wide = timed_requests(server, "/v1/gradient",
                              [wide_gradient_body(100, seed + i) for i in range(3)])
        print(f"{'cold single requests (new expression each)':<44} {'best s':>8} {'median s':>9} "
              f"{'target':>7}")
        for name, times, target in (("dense 50-variable Hessian at a point", hessian, 1.0),
                                    ("100-variable gradient at a point", wide, 0.5)):
            print(f"{name:<44} {min(times):>8.3f} {sorted(times)[1]:>9.3f} {'<' + str(target):>7}")
        print(f"(same run: /healthz {floor['rate']:.0f} req/s)")

        print()
        batch = points_case(server)
        print("100,000 points, 2-variable gradient "
              f"(request body {batch['request_bytes'] / 1e6:.1f} MB)")
        print(f"  over HTTP, end to end                      {batch['http'] * 1e3:9.1f} ms")
        print(f"  compiled NumPy call + orjson encoding      {batch['direct_orjson'] * 1e3:9.1f} ms"
              f"   ratio {batch['http'] / batch['direct_orjson']:.2f} (target <= 2)")
        print(f"  ... + decoding the request body (orjson)   "
              f"{(batch['direct_orjson'] + batch['decode']) * 1e3:9.1f} ms"
              f"   ratio {batch['http'] / (batch['direct_orjson'] + batch['decode']):.2f}")
        print(f"  compiled NumPy call + json encoding        {batch['direct_json'] * 1e3:9.1f} ms"
              f"   (json/orjson {batch['direct_json'] / batch['direct_orjson']:.1f}x)")

        if not args.skip_descent:
            print()
            print(f"{'gradient descent over HTTP (best of 3)':<44} {'HTTP us/it':>10} "
                  f"{'hand us/it':>10} {'ratio':>6}  target <= 2")
            for name, http, manual in descent_case(server):
                print(f"{name:<44} {http * 1e6:>10.2f} {manual * 1e6:>10.2f} "
                      f"{http / manual:>6.2f}")
            print("(the service's loop alone, without HTTP: python bench/descent.py)")

        print()
        print("cache lookups counted in /metrics (all workers and computation processes):")
        for line in cache_metrics(server):
            print("  " + line)
    finally:
        server.stop()

    for wanted, title, case in ((args.isolation, "novel expressions, by GRADIENT_ISOLATION",
                                 isolation_case),
                                (args.recycling, "worker recycling", recycling_case)):
        if wanted:
            print()
            print(f"{title:<40} {'/healthz req/s':>14} {'CPU ms':>7} {'novel req/s':>11} "
                  f"{'CPU ms':>7} {'ratio':>6}")
            for label, pairs in case(args.seconds).items():
                for floor, novel in pairs:
                    print(f"{label:<40} {floor['rate']:>14.0f} {floor['cpu_ms']:>7.3f} "
                          f"{novel['rate']:>11.0f} {novel['cpu_ms']:>7.3f} "
                          f"{novel['rate'] / floor['rate']:>6.3f}")


if __name__ == "__main__":
    main()
