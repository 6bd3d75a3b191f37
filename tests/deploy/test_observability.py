"""Request ids, JSON log records, /metrics in one process, and /v1/version (Flask's client)."""

from __future__ import annotations

import io
import json
import logging
import os
import platform
import re
from datetime import datetime, timezone

import numpy
import pytest
import sympy
from prometheus_client.parser import text_string_to_metric_families

import service
from service.observability import logs
from service.observability.metrics import record_cache_lookup

HEX_ID = re.compile(r"[0-9a-f]{32}")


def metrics(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def captured():
    """JSON lines written by the "service" logger during the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("service")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


# --- request ids ---------------------------------------------------------------------------

def test_a_valid_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "client-id_42:a/b"})
    assert response.headers["X-Request-ID"] == "client-id_42:a/b"


def test_without_a_request_id_each_request_gets_a_new_one(client):
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3 and all(HEX_ID.fullmatch(i) for i in ids)


@pytest.mark.parametrize("given", ["x" * 129, "caf\u00e9", "tab\there", " padded", ""],
                         ids=["too long", "not ascii", "control character", "space", "empty"])
def test_an_unusable_request_id_is_replaced(client, given):
    response = client.get("/healthz", headers={"X-Request-ID": given})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


@pytest.mark.parametrize("given, usable", [
    ("a", True), ("x" * 128, True), ("x" * 129, False), ("with space", True),
    ("new\nline", False), ("nul\x00", False), ("\u00e9", False), (None, False),
])
def test_valid_request_id(given, usable):
    assert logs.valid_request_id(given) == (given if usable else None)


def test_errors_carry_the_request_id_too(client):
    response = client.get("/no/such/path", headers={"X-Request-ID": "missing-page"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "missing-page"


def test_served_by_names_the_instance_and_worker(client):
    response = client.get("/healthz")
    instance, pid = response.headers["X-Served-By"].split("/")
    assert instance and int(pid) == os.getpid()


# --- JSON log records ----------------------------------------------------------------------

def test_records_logged_during_a_request_carry_its_id_method_and_path(app, captured):
    @app.get("/_test/log")
    def log_something():
        logging.getLogger("service.example").warning("working on %s", "it")
        return "logged"

    app.test_client().get("/_test/log", headers={"X-Request-ID": "log-me"})
    [entry] = [e for e in captured() if e["logger"] == "service.example"]

    assert entry["message"] == "working on it" and entry["level"] == "WARNING"
    assert (entry["request_id"], entry["method"], entry["path"]) == ("log-me", "GET",
                                                                     "/_test/log")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])


def test_records_outside_requests_have_null_request_fields(captured):
    logging.getLogger("service.example").warning("no request here")
    [entry] = captured()
    assert list(entry)[:9] == ["time", "level", "logger", "message", "request_id", "method",
                               "path", "status", "duration_ms"]
    assert entry["request_id"] is None and entry["status"] is None


def test_a_traceback_stays_on_one_line(captured):
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        logging.getLogger("service.example").exception("it failed")
    [entry] = captured()
    assert "ValueError: first line\nsecond line" in entry["exception"]


@pytest.mark.parametrize("created", [
    0.0, 1.9999, 799514450.3479998, 1765112800.421, 1765112800.9995, 1765112800.9999996,
    1765112801.0004, 4102444799.9999999,
])
def test_the_time_of_a_line_is_datetimes_iso_form_to_the_millisecond(created):
    moment = datetime.fromtimestamp(created, tz=timezone.utc)
    expected = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert logs._timestamp(created) == expected
    assert logs._timestamp(created) == expected  # the same second again, from the cache


class _Agent:
    def __str__(self) -> str:
        return "agent/1.0"


@pytest.mark.parametrize("size", [120, 2**70])  # orjson writes 64-bit integers; json the rest
def test_a_field_json_cannot_encode_is_written_as_its_text(captured, size):
    logging.getLogger("service.example").warning("odd fields", extra={
        "bytes": size, "user_agent": _Agent()})
    [entry] = captured()
    assert entry["bytes"] == size and entry["user_agent"] == "agent/1.0"


# --- /metrics in a single process ----------------------------------------------------------

def test_metrics_count_requests_by_url_rule_and_status(client):
    before = metrics(client)
    client.get("/healthz")
    client.get("/v1/version")
    client.get("/v1/nothing-here-12345")
    after = metrics(client)

    total = "gradient_http_requests_total"
    for labels in ({"method": "GET", "endpoint": "/healthz", "status": "200"},
                   {"method": "GET", "endpoint": "/v1/version", "status": "200"},
                   {"method": "GET", "endpoint": "unmatched", "status": "404"}):
        assert value(after, total, **labels) - value(before, total, **labels) == 1
    latency = "gradient_http_request_duration_seconds_count"
    labels = {"method": "GET", "endpoint": "/healthz", "status": "200"}
    assert value(after, latency, **labels) - value(before, latency, **labels) == 1
    assert not any("nothing-here" in v for _, labels in after for _, v in labels)


def test_computations_are_timed_by_endpoint_and_outcome(client):
    body = {"expression": "x^3", "variable": "x", "point": {"x": 2}}
    before = metrics(client)
    assert client.post("/v1/derivative", json=body).status_code == 200
    after = metrics(client)

    name = "gradient_computation_seconds_count"
    labels = {"endpoint": "/v1/derivative", "outcome": "ok"}
    assert value(after, name, **labels) - value(before, name, **labels) == 1


def test_unknown_methods_share_one_label(client):
    before = metrics(client)
    client.open("/healthz", method="BREW")
    after = metrics(client)
    labels = {"method": "other", "endpoint": "unmatched", "status": "405"}
    assert value(after, "gradient_http_requests_total", **labels) - value(
        before, "gradient_http_requests_total", **labels) == 1


def test_cache_lookups_are_counted_by_the_hook(client):
    before = metrics(client)
    record_cache_lookup("compile", hit=True)
    record_cache_lookup("compile", hit=False)
    record_cache_lookup("compile", hit=False)
    after = metrics(client)

    name = "gradient_cache_lookups_total"
    for result, count in (("hit", 1), ("miss", 2)):
        labels = {"cache": "compile", "result": result}
        assert value(after, name, **labels) - value(before, name, **labels) == count


def test_metrics_speak_openmetrics_when_asked(client):
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert response.get_data(as_text=True).endswith("# EOF\n")


# --- /v1/version ---------------------------------------------------------------------------

def test_version_names_the_service_and_its_engines(client):
    response = client.get("/v1/version")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.get_json()
    assert body["service"] == service.__version__
    assert body["sympy"] == sympy.__version__
    assert body["numpy"] == numpy.__version__
    assert body["python"] == platform.python_version()


def test_build_info_metric_carries_the_versions(client):
    versions = client.get("/v1/version").get_json()
    samples = metrics(client)
    assert value(samples, "gradient_build_info", service=versions["service"],
                 python=versions["python"], sympy=versions["sympy"],
                 numpy=versions["numpy"]) == 1
