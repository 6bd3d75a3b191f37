"""gunicorn as gunicorn.conf.py sets it up: metrics over all workers, JSON logs, draining.

The server is started the way README and the image start it (``gunicorn service.wsgi:app``
in a directory holding gunicorn.conf.py), with two workers.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from deploy_support import (
    eventually,
    gunicorn_worker_pids,
    http,
    json_lines,
    start_gunicorn,
)

HERE = Path(__file__).resolve().parent
LOG_FIELDS = {"time", "level", "logger", "message", "request_id", "method", "path", "status",
              "duration_ms"}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
HEALTHZ = {"method": "GET", "endpoint": "/healthz", "status": "200"}
DERIVATIVE = {"expression": "x^3", "variable": "x", "point": {"x": 2}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gunicorn")
    process, url = start_gunicorn("two-workers", tmp, workers=2, GRADIENT_INSTANCE="test")
    try:
        process.wait_until(url + "/readyz")
        yield process, url, tmp / "two-workers-metrics"
    finally:
        process.stop()


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    answer = http(url + "/metrics")
    assert answer.status == 200 and answer.header("Content-Type").startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.body.decode())
        for sample in family.samples
    }


def value(metrics, name: str, **labels: str) -> float:
    return metrics.get((name, frozenset(labels.items())), 0.0)


def worker_pid(answer) -> int:
    instance, pid = answer.header("X-Served-By").split("/")
    assert instance == "test"
    return int(pid)


def healthz_until(url: str, wanted) -> tuple[int, Counter]:
    """GET /healthz in concurrent batches until ``wanted(pids)``; (requests sent, pids)."""
    pids: Counter = Counter()
    sent = 0
    with ThreadPoolExecutor(4) as pool:
        while not wanted(pids):
            assert sent < 1000, f"gave up; answers came from {dict(pids)}"
            answers = list(pool.map(lambda _: http(url + "/healthz"), range(20)))
            assert [a.status for a in answers] == [200] * 20
            pids.update(worker_pid(a) for a in answers)
            sent += 20
    return sent, pids


def test_metrics_count_the_requests_of_every_worker(server):
    process, url, _ = server
    before = scrape(url)
    sent, pids = healthz_until(url, lambda pids: len(pids) >= 2)
    missing = [http(f"{url}/no/such/page-{i}") for i in range(3)]
    # Four different points: an exact repeat would be answered from the answer cache.
    computed = [http(url + "/v1/derivative", "POST", {**DERIVATIVE, "point": {"x": i}})
                for i in range(4)]
    after = scrape(url)

    assert set(pids) == gunicorn_worker_pids(process.pid)  # both workers answered
    assert [a.status for a in missing] == [404] * 3
    for name in ("gradient_http_requests_total", "gradient_http_request_duration_seconds_count"):
        assert value(after, name, **HEALTHZ) - value(before, name, **HEALTHZ) == sent
    computation = {"endpoint": "/v1/derivative", "outcome": "ok"}
    assert [a.status for a in computed] == [200] * 4
    assert (value(after, "gradient_computation_seconds_count", **computation)
            - value(before, "gradient_computation_seconds_count", **computation)) == 4
    unmatched = {"method": "GET", "endpoint": "unmatched", "status": "404"}
    assert (value(after, "gradient_http_requests_total", **unmatched)
            - value(before, "gradient_http_requests_total", **unmatched)) == 3
    assert not any("/no/such" in v for _, labels in after for _, v in labels)  # no raw paths
    # Only the scrape itself is in progress, whichever worker answers it.
    assert value(after, "gradient_http_requests_in_progress") == 1
    [build] = [labels for name, labels in after if name == "gradient_build_info"]
    assert dict(build)["service"] and "pid" not in dict(build)


def test_a_dead_workers_counts_stay_and_its_live_gauge_goes(server):
    process, url, metrics_dir = server
    victim = min(gunicorn_worker_pids(process.pid))
    healthz_until(url, lambda pids: victim in pids)  # the victim has counted something
    before = scrape(url)
    assert (metrics_dir / f"gauge_livesum_{victim}.db").exists()

    os.kill(victim, signal.SIGKILL)
    # The master reaps it, runs gunicorn.conf.py's child_exit hook and boots a new worker.
    eventually(lambda: not (metrics_dir / f"gauge_livesum_{victim}.db").exists())
    eventually(lambda: len(gunicorn_worker_pids(process.pid) - {victim}) == 2)
    process.wait_until(url + "/readyz")
    after = scrape(url)

    assert (metrics_dir / f"counter_{victim}.db").exists()
    name = "gradient_http_requests_total"
    assert value(after, name, **HEALTHZ) == value(before, name, **HEALTHZ)
    assert value(after, "gradient_http_requests_in_progress") == 1


def test_request_id_is_echoed_and_logged_as_json(server):
    process, url, _ = server
    given = http(url + "/healthz", headers={"X-Request-ID": "req-1234"})
    refused = http(url + "/healthz", headers={"X-Request-ID": "x" * 129})

    assert given.header("X-Request-ID") == "req-1234"
    generated = refused.header("X-Request-ID")
    assert re.fullmatch(r"[0-9a-f]{32}", generated)

    def access_line(request_id):
        return lambda: next((e for e in json_lines(process.stdout())
                             if e.get("request_id") == request_id), None)

    entry = eventually(access_line("req-1234"))
    assert LOG_FIELDS <= set(entry)
    assert entry["logger"] == "gunicorn.access" and entry["level"] == "INFO"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/healthz", 200)
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert ISO_UTC.fullmatch(entry["time"])
    assert eventually(access_line(generated))["status"] == 200


def test_every_line_gunicorn_writes_is_json(server):
    process, url, _ = server
    http(url + "/healthz")
    entries = json_lines(process.stdout()) + json_lines(process.stderr())

    assert all(LOG_FIELDS <= set(e) and ISO_UTC.fullmatch(e["time"]) for e in entries)
    assert any(e["message"].startswith("Booting worker") for e in entries)
    assert {e["logger"] for e in entries} >= {"gunicorn.access", "gunicorn.error"}


def test_sigterm_lets_the_request_in_flight_finish(tmp_path):
    marker = tmp_path / "in-flight"
    process, url = start_gunicorn(
        "draining", tmp_path, workers=1, app="draining_app:app",
        extra_args=("--pythonpath", str(HERE)), DRAIN_MARKER=str(marker),
    )
    try:
        process.wait_until(url + "/")
        answers = []
        client = threading.Thread(target=lambda: answers.append(http(url + "/drain", timeout=90)))
        client.start()
        eventually(marker.exists)
        os.kill(process.pid, signal.SIGTERM)  # to the master alone, as `docker stop` does
        client.join(timeout=90)

        assert [(a.status, a.body) for a in answers] == [(200, b"finished after SIGTERM")]
        assert process.popen.wait(timeout=60) == 0
        messages = [e["message"] for e in json_lines(process.stderr())]
        assert "Handling signal: term" in messages and "Shutting down: Master" in messages
    finally:
        process.stop()
