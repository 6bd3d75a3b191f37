"""Workers forked from a preloaded master, and replaced after GRADIENT_MAX_REQUESTS.

gunicorn.conf.py loads the app in the master (``GRADIENT_PRELOAD``, on by default) so that
a recycled worker starts from it instead of importing SymPy again. What is checked is what
can be seen from outside: whether the master process has SymEngine's extension mapped, and
that replaced workers go on answering correctly, with every request still counted.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from deploy_support import http, start_gunicorn


def _maps_symengine(pid: int) -> bool:
    """Whether the process has SymEngine's compiled wrapper mapped (it imported SymEngine)."""
    return "symengine_wrapper" in Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.parametrize(("setting", "preloaded"), [(None, True), ("0", False), ("on", True)])
def test_the_master_loads_the_app_unless_told_not_to(tmp_path, setting, preloaded):
    env = {} if setting is None else {"GRADIENT_PRELOAD": setting}
    process, url = start_gunicorn("preload", tmp_path, workers=1, **env)
    try:
        process.wait_until(url + "/readyz")
        assert _maps_symengine(process.pid) is preloaded
    finally:
        process.stop()


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("GRADIENT_PRELOAD", "maybe", "GRADIENT_PRELOAD='maybe' is not one of"),
    # read by the app, which the master now loads: it stops before any worker starts
    ("GRADIENT_MAX_NESTING_DEPTH", "deep", "GRADIENT_MAX_NESTING_DEPTH='deep' is not a valid int"),
])
def test_a_bad_setting_stops_gunicorn_and_names_itself(tmp_path, name, raw, message):
    process, _ = start_gunicorn("bad-setting", tmp_path, workers=1, **{name: raw})
    try:
        assert process.popen.wait(timeout=60) != 0
    finally:
        process.stop()
    assert message in process.stderr()


def _served_by(answer) -> int:
    return int(answer.header("X-Served-By").rsplit("/", 1)[1])


def _samples(url: str, name: str) -> list:
    text = http(url + "/metrics").body.decode()
    return [sample for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == name]


def test_recycled_workers_answer_and_every_request_is_counted(tmp_path):
    process, url = start_gunicorn("recycling", tmp_path, workers=1, GRADIENT_INSTANCE="test",
                                  GRADIENT_MAX_REQUESTS="10", GRADIENT_MAX_REQUESTS_JITTER="0")
    try:
        process.wait_until(url + "/readyz")
        pids = set()
        # d/dx of x^3 + k*x at x = 2 is 12 + k: a new body each time (no cached answer)
        for k in range(35):
            answer = http(url + "/v1/derivative", "POST",
                          {"expression": f"x^3 + {k}*x", "variable": "x", "point": {"x": 2}})
            assert answer.status == 200, answer.body
            value = answer.json()["at"]["value"]
            assert value["exact"] == str(12 + k) and math.isclose(value["numeric"], 12 + k)
            pids.add(_served_by(answer))
        # 35 requests (and the readiness probes) at 10 per worker: three replacements at least
        assert len(pids) >= 3
        counted = _samples(url, "gradient_http_requests_total")
        assert sum(s.value for s in counted if s.labels["endpoint"] == "/v1/derivative") == 35
        [build] = _samples(url, "gradient_build_info")
        assert build.value == 1 and build.labels["service"] == http(url + "/v1/version").json()[
            "service"]
    finally:
        process.stop()
