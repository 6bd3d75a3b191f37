"""openapi.yaml: generated from the code, valid OpenAPI 3.1, complete, and served as is."""

from __future__ import annotations

import difflib
from dataclasses import fields

import jsonschema
import marshmallow
import pytest
import yaml
from openapi_spec_validator import validate

from contract_support import CONTRACT, ROOT
from service.api.openapi import generate
from service.app import create_app
from service.config import Limits, Settings
from service.expressions import CONSTANTS, FUNCTIONS

REGENERATE = "python -m service.api.openapi > openapi.yaml"
POST_ERRORS = {"400": "MalformedBody", "413": "BodyTooLarge", "415": "UnsupportedMediaType",
               "422": "InvalidRequest"}
CALCULUS = ["/v1/derivative", "/v1/gradient", "/v1/jacobian", "/v1/hessian",
            "/v1/gradient-descent"]
# Every POST operation, the calculus ones and any added since (learning, plots...).
POSTS = sorted(path for path, item in yaml.safe_load(CONTRACT.read_text())["paths"].items()
               if "post" in item)


def component(contract: dict, ref: str) -> dict:
    return contract["components"][ref.split("/")[2]][ref.split("/")[3]]


def validator(contract: dict, ref: str) -> jsonschema.Draft202012Validator:
    """A JSON Schema 2020-12 validator for one component, its $refs resolved in the document."""
    return jsonschema.Draft202012Validator({"$ref": ref, "components": contract["components"]})


def operations(contract: dict):
    for path, item in contract["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_committed_contract_is_what_the_code_generates():
    committed, generated = CONTRACT.read_text(), generate()
    if committed != generated:
        diff = "".join(list(difflib.unified_diff(
            committed.splitlines(True), generated.splitlines(True),
            "openapi.yaml (committed)", "generated from the code"))[:80])
        pytest.fail(f"openapi.yaml is stale; regenerate it with `{REGENERATE}`:\n{diff}")


def test_readme_gives_the_command_that_regenerates_the_contract():
    assert REGENERATE in (ROOT / "README.md").read_text()


def test_contract_is_valid_openapi_3_1(contract):
    assert contract["openapi"] == "3.1.0"
    validate(contract)  # raises on any violation of the OpenAPI 3.1 schema


def test_served_contract_is_the_committed_file(client):
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    assert response.data == CONTRACT.read_bytes()


def test_document_has_exactly_the_operations_the_app_serves(app, contract):
    served = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.endswith("static")  # Swagger UI's assets, Flask's static files
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, method, _ in operations(contract)}
    # Endpoints of API.md that are not built yet (/v1/taylor, /v1/plot...) stay out of the
    # document until they exist; every one that exists is in it.
    assert documented == served


def test_every_operation_has_an_id_a_summary_and_no_catch_all_response(contract):
    ids = set()
    for path, method, operation in operations(contract):
        assert operation.get("summary"), f"{method} {path} has no summary"
        assert operation["operationId"] not in ids
        ids.add(operation["operationId"])
        assert "default" not in operation["responses"], f"{method} {path}"


@pytest.mark.parametrize("path", POSTS)
def test_post_operations_document_success_and_every_problem(contract, path):
    operation = contract["paths"][path]["post"]
    assert set(operation["responses"]) == {"200", *POST_ERRORS}
    success = operation["responses"]["200"]["content"]
    assert all("schema" in media for media in success.values())
    if path in CALCULUS:
        assert list(success) == ["application/json"]
        assert success["application/json"]["schema"]["$ref"].endswith("Response")
    for status, name in POST_ERRORS.items():
        assert operation["responses"][status] == {"$ref": f"#/components/responses/{name}"}
        content = contract["components"]["responses"][name]["content"]
        assert list(content) == ["application/problem+json"]
        assert content["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"}
        validator(contract, "#/components/schemas/Problem").validate(
            content["application/problem+json"]["example"])
    body = operation["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["examples"], f"{path} has no request example"


def test_404_and_405_are_documented_once_as_problems(contract):
    responses = contract["components"]["responses"]
    for name in ("NotFound", "MethodNotAllowed"):
        assert "application/problem+json" in responses[name]["content"]


@pytest.mark.parametrize("path", CALCULUS)
def test_calculus_responses_document_warnings(contract, path):
    ref = contract["paths"][path]["post"]["responses"]["200"]["content"]["application/json"][
        "schema"]["$ref"]
    warnings = component(contract, ref)["properties"]["warnings"]
    assert warnings["type"] == "array" and warnings["items"] == {"type": "string"}


def test_gradient_descent_response_is_documented_in_full(contract):
    schemas = contract["components"]["schemas"]
    response = schemas["GradientDescentResponse"]
    assert set(response["properties"]) == {"variables", "gradient", "optimizer", "trace",
                                           "result", "warnings"}
    assert set(schemas["OptimizerUsed"]["properties"]) == {"name", "learning_rate",
                                                           "hyperparameters"}
    assert set(schemas["TraceEntry"]["properties"]) == {"iteration", "point", "value",
                                                        "gradient", "gradient_norm"}
    result = schemas["DescentOutcome"]["properties"]
    assert result["point"]["type"] == "object"
    assert result["point"]["additionalProperties"] == {"type": "number"}
    assert set(result["stop_reason"]["enum"]) == {"tolerance", "max_iterations", "diverged"}
    assert set(schemas["DescentOutcome"]["required"]) == {
        "point", "value", "gradient_norm", "iterations", "converged", "stop_reason"}


def test_nullable_numbers_use_openapi_3_1_type_lists(contract):
    schemas = contract["components"]["schemas"]
    assert schemas["Value"]["properties"]["numeric"]["type"] == ["number", "null"]
    assert schemas["GradientAt"]["properties"]["norm"]["type"] == ["number", "null"]
    assert schemas["Values"]["properties"]["exact"]["type"] == ["array", "null"]
    assert "nullable" not in CONTRACT.read_text()  # the OpenAPI 3.0 keyword


def test_description_states_the_grammar_and_every_limit(contract):
    text = contract["info"]["description"]
    defaults = Limits()
    for f in fields(Limits):
        value = getattr(defaults, f.name)
        shown = f"{value:,}" if isinstance(value, int) else f"{value:g}"
        assert f"| `{Limits.env_var(f.name)}` | {shown} |" in text
    for name in [*FUNCTIONS, *CONSTANTS]:
        assert f" {name}" in text or f"`{name}" in text, name
    assert "right-associative" in text and "`2^3x` is `(2^3)*x`" in text


@pytest.mark.parametrize("path", POSTS)
def test_every_request_example_answers_a_conforming_200(client, contract, path):
    operation = contract["paths"][path]["post"]
    success = operation["responses"]["200"]["content"]
    for name, example in operation["requestBody"]["content"]["application/json"][
            "examples"].items():
        response = client.post(path, json=example["value"])
        assert response.status_code == 200, (name, response.get_json())
        assert response.mimetype in success, name
        if response.mimetype == "application/json":
            validator(contract, success["application/json"]["schema"]["$ref"]).validate(
                response.get_json())


@pytest.mark.parametrize("request_kwargs, status", [
    ({"data": b"[1, 2]", "content_type": "application/json"}, 400),
    ({"data": b"x" * 2048, "content_type": "application/json"}, 413),
    ({"data": b"expression=x", "content_type": "application/x-www-form-urlencoded"}, 415),
    ({"json": {"expression": "sinn(x)"}}, 422),
])
def test_real_problems_match_the_problem_schema(contract, request_kwargs, status):
    app = create_app(Settings(limits=Limits(max_body_bytes=1024), isolated=False))
    response = app.test_client().post("/v1/gradient", **request_kwargs)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    validator(contract, "#/components/schemas/Problem").validate(response.get_json())


@pytest.mark.parametrize("method, path, status", [
    ("get", "/v1/nowhere", 404), ("get", "/v1/gradient", 405), ("delete", "/healthz", 405)])
def test_404_and_405_are_problems(client, contract, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    validator(contract, "#/components/schemas/Problem").validate(response.get_json())


def test_response_schemas_document_but_never_serialise(client, monkeypatch):
    """Views return ready Responses (orjson); flask-smorest must pass them through as is."""

    def refuse(*args, **kwargs):
        raise AssertionError("a response schema was used to serialise a response")

    monkeypatch.setattr(marshmallow.Schema, "dump", refuse)
    response = client.post("/v1/gradient", json={"expression": "log(x)", "point": {"x": -1}})
    assert response.status_code == 200
    body = response.get_json()
    assert body["at"]["value"] == {"exact": None, "numeric": None}
    assert body["warnings"]
    assert client.get("/v1/functions").status_code == 200
