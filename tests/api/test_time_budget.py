"""The per-request time budget stops a runaway computation and the service carries on."""

from __future__ import annotations

import pytest

from service.app import create_app
from service.config import Limits, Settings

# A derivative that swells: the 30th derivative of abs(sin(x))*exp(cos(x)) takes SymPy
# minutes (non-smooth functions are differentiated by SymPy, not the fast engine, which
# does exp(sin(x))'s 40th in 0.3 s once warm).
SLOW = {"expression": "abs(sin(x))*exp(cos(x))", "variable": "x", "order": 30}


@pytest.fixture
def impatient_client():
    return create_app(Settings(limits=Limits(time_budget_seconds=0.5))).test_client()


def test_runaway_computation_is_stopped_with_a_422(impatient_client):
    response = impatient_client.post("/v1/derivative", json=SLOW)
    assert response.status_code == 422
    body = response.get_json()
    assert body["type"].endswith("time-budget-exceeded")
    assert "GRADIENT_TIME_BUDGET_SECONDS" in body["detail"]
    # The computation process was replaced: the next request is answered normally.
    again = impatient_client.post("/v1/gradient", json={"expression": "x^3", "point": [2]})
    assert again.status_code == 200
    assert again.get_json()["at"]["gradient"]["exact"] == ["12"]
    assert impatient_client.get("/healthz").status_code == 200


def test_inline_mode_computes_in_process():
    app = create_app(Settings(isolated=False))
    response = app.test_client().post("/v1/gradient", json={"expression": "x*y", "point": [2, 3]})
    assert response.get_json()["at"]["gradient"]["exact"] == ["3", "2"]


def test_errors_cross_the_process_boundary_intact(client):
    response = client.post("/v1/derivative", json={"expression": "(x", "variable": "x"})
    body = response.get_json()
    assert response.status_code == 422
    assert body["errors"][0]["position"] == 0 and body["errors"][0]["field"] == "expression"
