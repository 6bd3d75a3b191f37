"""Against a live gunicorn with 2 workers: no input kills a worker.

The adversarial requests of this suite (runaways, an uninterruptible C call, an allocation
past the memory cap, bodies past the size limit with and without Content-Length,
malformed JSON, injections) are sent at once, from several clients; every answer keeps the
contract, and afterwards the same two worker processes are serving (their pids, from the
process table and the ``X-Served-By`` header, are unchanged) and gunicorn's log shows no
worker timeout or restart. A second server, without the computation process
(``GRADIENT_ISOLATION=inline``), shows gunicorn's own worker timeout as the last resort.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
START_DEADLINE = 90  # only bounds a server that never starts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    """Pids of the processes whose parent is ``pid`` (gunicorn's workers)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


@dataclass
class Answer:
    status: int | None  # None: the connection closed without an answer
    headers: dict
    body: bytes


@dataclass
class Server:
    port: int
    popen: subprocess.Popen
    log: Path

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, chunked: bool = False,
                timeout: float = 60) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if chunked:
                chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
                connection.request(method, path, body=chunks, headers=headers or {},
                                   encode_chunked=True)
            else:
                connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                          response.read())
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            return Answer(None, {}, b"")
        finally:
            connection.close()

    def post(self, path: str, body, **kwargs) -> Answer:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return self.request("POST", path, data, headers=headers, **kwargs)

    def workers(self) -> set[int]:
        return _children(self.popen.pid)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _start(tmp_path: Path, **environment) -> Server:
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "GRADIENT_BIND": f"127.0.0.1:{port}", "GRADIENT_ACCESS_LOG": "off",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), **environment}
    with open(log, "wb") as out:
        popen = subprocess.Popen([GUNICORN, "service.wsgi:app"], cwd=ROOT, env=env,
                                 stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(port, popen, log)
    limit = time.monotonic() + START_DEADLINE
    while True:
        if popen.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{server.log_text()}")
        try:
            if server.request("GET", "/readyz", timeout=5).status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > limit:
            _stop(server)
            raise AssertionError(f"gunicorn did not start:\n{server.log_text()}")
        time.sleep(0.2)
    return server


def _stop(server: Server) -> None:
    """Stop the gunicorn this test started (its own session: master, workers, children)."""
    if server.popen.poll() is None:
        os.killpg(server.popen.pid, signal.SIGTERM)
        try:
            server.popen.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.popen.pid, signal.SIGKILL)
            server.popen.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = _start(
        tmp_path_factory.mktemp("gunicorn"), GRADIENT_WORKERS="2",
        GRADIENT_TIME_BUDGET_SECONDS="1", GRADIENT_MAX_MEMORY_MB="600",
        # Let the costliest requests reach the computation process: the batch table past
        # the memory cap, and a big power computed in one C call.
        GRADIENT_MAX_BATCH_VALUES="1000000000", GRADIENT_MAX_NUMBER_DIGITS="1000000000",
    )
    yield server
    _stop(server)


def _wait_for_workers(server: Server, count: int) -> set[int]:
    limit = time.monotonic() + START_DEADLINE
    while len(workers := server.workers()) != count:
        assert time.monotonic() < limit, workers
        time.sleep(0.1)
    return workers


HUGE_BODY = b'{"expression": "' + b"x+" * (11 * 1024 * 1024 // 2) + b'x"}'
ATTACKS = [
    ("runaway derivative", {"expression": "abs(sin(x))*exp(cos(x))", "variable": "x",
                            "order": 30}, "/v1/derivative", {}),
    ("runaway derivative 2", {"expression": "abs(sin(x))*exp(cos(x)) + 1", "variable": "x",
                              "order": 30}, "/v1/derivative", {}),
    ("one C call", {"expression": "x^(y*y)", "variable": "x", "point": {"x": 3, "y": 10_000}},
     "/v1/derivative", {}),
    ("past the memory cap", {"expression": "+".join(f"x{i}^2" for i in range(100)),
                             "points": [[1] * 100] * 10_000}, "/v1/hessian", {}),
    ("descent over big data", {"expression": "(w*x - y)^2", "variables": ["w"], "start": [0],
                               "tolerance": 0, "max_iterations": 100_000, "record_every": 100,
                               "data": {"x": [1.0] * 100_000, "y": [2.0] * 100_000}},
     "/v1/gradient-descent", {}),
    ("body past the limit", HUGE_BODY, "/v1/gradient", {}),
    ("chunked body past the limit", HUGE_BODY, "/v1/gradient", {"chunked": True}),
    ("NaN", b'{"expression": "x", "point": [NaN]}', "/v1/gradient", {}),
    ("deep JSON", b"[" * 100_000 + b"]" * 100_000, "/v1/gradient", {}),
    ("not JSON", b"\xff\xfe\x00", "/v1/jacobian", {}),
    ("injection", {"expression": "__import__('os').system('id')"}, "/v1/gradient", {}),
    ("tower", {"expression": "9^9^9^9"}, "/v1/gradient", {}),
    ("deep nesting", {"expression": "(" * 199 + "x" + ")" * 199, "variable": "x",
                      "order": 50}, "/v1/derivative", {}),
    ("Hessian in 100 variables", {"expression": "exp(" + "*".join(f"x{i}" for i in range(100))
                                  + ")"}, "/v1/hessian", {}),
]


def test_no_input_kills_a_worker(server):
    workers = _wait_for_workers(server, 2)
    served_by: set[int] = set()

    def attack(case):
        name, body, path, options = case
        answer = server.post(path, body, **options)
        return name, answer

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(attack, ATTACKS * 2))
    for name, answer in answers:
        assert answer.status is not None and answer.status < 500, (name, answer)
        if answer.status >= 400:
            assert answer.headers["content-type"].startswith("application/problem+json"), name
            json.loads(answer.body)
        served_by.add(int(answer.headers["x-served-by"].rsplit("/", 1)[1]))
    statuses = {name: answer.status for name, answer in answers}
    assert statuses["body past the limit"] == statuses["chunked body past the limit"] == 413
    assert statuses["past the memory cap"] == statuses["runaway derivative"] == 422

    for _ in range(20):
        answer = server.request("GET", "/healthz")
        assert answer.status == 200
        served_by.add(int(answer.headers["x-served-by"].rsplit("/", 1)[1]))
    assert server.workers() == workers
    assert served_by <= workers
    log = server.log_text()
    assert "WORKER TIMEOUT" not in log and "was sent SIGKILL" not in log, log
    assert log.count("Booting worker") == 2, log


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_at_the_limit_is_read_whole(server, chunked):
    """With or without Content-Length, a body of exactly the limit is not cut or refused
    (a chunked body past it is a 413, not a truncated body read as malformed JSON)."""
    limit = 10 * 1024 * 1024
    head, tail = b'{"expression": "x", "constants": {"c": 1}', b"}"
    body = head + b" " * (limit - len(head) - len(tail)) + tail
    assert len(body) == limit
    answer = server.post("/v1/gradient", body, chunked=chunked)
    assert answer.status == 200, answer.body[:300]


def test_gunicorn_worker_timeout_is_the_last_resort(tmp_path):
    """Without the computation process nothing stops a runaway inside the worker: gunicorn
    kills the worker after GRADIENT_WORKER_TIMEOUT and boots another, which serves on."""
    server = _start(tmp_path, GRADIENT_WORKERS="1", GRADIENT_ISOLATION="inline",
                    GRADIENT_WORKER_TIMEOUT="2")
    try:
        first = _wait_for_workers(server, 1)
        answer = server.post("/v1/derivative", {"expression": "abs(sin(x))*exp(cos(x))",
                                                "variable": "x", "order": 30})
        assert answer.status is None or answer.status >= 500  # the worker died under it
        assert server.request("GET", "/healthz").status == 200
        assert server.workers().isdisjoint(first)
        assert "WORKER TIMEOUT" in server.log_text()
    finally:
        _stop(server)
