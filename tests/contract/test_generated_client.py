"""An integrator's view: a client generated from openapi.yaml calls the running service.

openapi-python-client writes a typed package from the committed contract; the test imports
it and calls gunicorn (see ``live_url``), so the contract is proven usable by the tools
integrators use, not only valid.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from contract_support import CONTRACT

PACKAGE = "gradient_service_client"
CALCULUS = ["/v1/derivative", "/v1/gradient", "/v1/jacobian", "/v1/hessian",
            "/v1/gradient-descent"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package's modules: api calls and models."""
    out = tmp_path_factory.mktemp("client")
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(CONTRACT),
         "--meta", "none", "--output-path", str(out / PACKAGE)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The one part a generated client cannot use: the YAML of GET /openapi.yaml itself.
    # The generator skips what it cannot type (the YAML of GET /openapi.yaml itself, say);
    # nothing of the calculus operations may be skipped.
    output = result.stdout + result.stderr
    skipped = [line for line in output.splitlines() if line.startswith("WARNING")
               and any(f"POST {path} " in line for path in CALCULUS)]
    assert not skipped, output
    sys.path.insert(0, str(out))
    try:
        yield {name: importlib.import_module(f"{PACKAGE}.{name}") for name in (
            "client", "models", "types", "api.calculus.gradient",
            "api.calculus.gradient_descent", "api.meta.functions")}
    finally:
        sys.path.remove(str(out))
        for module in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[module]


@pytest.fixture
def client(generated, live_url):
    with generated["client"].Client(base_url=live_url, timeout=60,
                                    raise_on_unexpected_status=True) as client:
        yield client


def test_gradient_returns_typed_results(generated, client):
    models = generated["models"]
    body = models.GradientRequest(
        expression="(w*x + b - y)^2", variables=["w", "b"],
        constants=models.GradientRequestConstants.from_dict({"x": 3, "y": 4}),
        point=models.GradientRequestPointType0.from_dict({"w": "1/2", "b": 0}),
    )
    answer = generated["api.calculus.gradient"].sync(client=client, body=body)
    assert isinstance(answer, models.GradientResponse)
    assert answer.variables == ["w", "b"]
    assert all(isinstance(d, models.Symbolic) for d in answer.gradient)
    # x and y are constants: substituted before differentiating.
    assert [d.expression for d in answer.gradient] == ["6*b + 18*w - 24", "2*b + 6*w - 8"]
    assert isinstance(answer.at, models.GradientAt)
    assert answer.at.gradient.exact == ["-15", "-5"]
    assert answer.at.gradient.numeric == [-15.0, -5.0]
    assert answer.at.value.exact == "25/4"
    assert answer.at.norm == pytest.approx(250 ** 0.5)


def test_gradient_nulls_and_warnings_are_typed(generated, client):
    models = generated["models"]
    body = models.GradientRequest(expression="log(x) + y^2", points=[[1, 2], [-1, 0]])
    answer = generated["api.calculus.gradient"].sync(client=client, body=body)
    assert isinstance(answer.batch, models.GradientBatch)
    assert answer.batch.values == [4.0, None]
    assert answer.batch.gradient == [[1.0, 4.0], [None, None]]
    assert answer.warnings and all(isinstance(w, str) for w in answer.warnings)


def test_gradient_problem_is_typed(generated, client):
    models = generated["models"]
    response = generated["api.calculus.gradient"].sync_detailed(
        client=client, body=models.GradientRequest(expression="sinn(x)"))
    assert response.status_code == 422
    problem = response.parsed
    assert isinstance(problem, models.Problem)
    assert problem.type_ == "urn:gradient-service:problem:invalid-expression"
    assert problem.errors[0].field == "expression" and problem.errors[0].position == 0


def test_gradient_descent_returns_typed_results(generated, client):
    models = generated["models"]
    body = models.GradientDescentRequest(
        expression="(x - 3)^2 + (y + 1)^2",
        start=models.GradientDescentRequestStartType0.from_dict({"x": 0, "y": 0}),
        optimizer=models.GradientDescentRequestOptimizer.ADAM, learning_rate=0.1,
        max_iterations=2000, tolerance=1e-6, record_every=100,
    )
    answer = generated["api.calculus.gradient_descent"].sync(client=client, body=body)
    assert isinstance(answer, models.GradientDescentResponse)
    assert answer.variables == ["x", "y"]
    assert isinstance(answer.optimizer, models.OptimizerUsed)
    assert answer.optimizer.name == models.OptimizerUsedName.ADAM
    assert answer.optimizer.hyperparameters.to_dict() == {
        "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    assert all(isinstance(entry, models.TraceEntry) for entry in answer.trace)
    assert answer.trace[0].iteration == 0 and answer.trace[0].point == [0.0, 0.0]
    result = answer.result
    assert isinstance(result, models.DescentOutcome)
    assert result.converged is True
    assert result.stop_reason == models.DescentOutcomeStopReason.TOLERANCE
    assert result.point["x"] == pytest.approx(3, abs=1e-5)
    assert result.point["y"] == pytest.approx(-1, abs=1e-5)
    assert result.iterations == answer.trace[-1].iteration


def test_functions_are_typed(generated, client):
    answer = generated["api.meta.functions"].sync(client=client)
    names = {f.name for f in answer.functions}
    assert {"sin", "atan2", "relu"} <= names
    variadic = next(f for f in answer.functions if f.name == "max")
    assert variadic.min_arguments == 2 and variadic.max_arguments is None
