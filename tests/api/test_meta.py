"""GET /v1/functions, /healthz, /readyz."""

from __future__ import annotations

EXPECTED_FUNCTIONS = set(
    "sin cos tan sec csc cot asin acos atan atan2 sinh cosh tanh asinh acosh atanh exp log "
    "ln log2 log10 sqrt cbrt abs sign heaviside min max erf sigmoid softplus relu".split()
)


def test_functions_lists_the_grammar(client):
    body = client.get("/v1/functions").get_json()
    names = {f["name"] for f in body["functions"]}
    assert names == EXPECTED_FUNCTIONS
    assert {c["name"] for c in body["constants"]} == {"pi", "e"}
    atan2 = next(f for f in body["functions"] if f["name"] == "atan2")
    assert atan2["min_arguments"] == atan2["max_arguments"] == 2
    assert all(f["description"] for f in body["functions"])


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ready"
