"""docker-compose.yml: valid by the Compose Specification's JSON schema, and a real topology.

The schema is the one check-jsonschema ships (``vendor/compose-spec.json``, taken from
the compose-spec project). The file is checked as written and with its ``${VAR:-default}``
references replaced by their defaults, as `docker compose` would read it with an empty
environment.
"""

from __future__ import annotations

import json
import re
from importlib import resources

import jsonschema
import pytest
import yaml

from deploy_support import ROOT, dockerfile_stages, healthcheck_command

COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx" / "nginx.conf"
RAW = COMPOSE_FILE.read_text()
VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def compose_schema() -> dict:
    schema = resources.files("check_jsonschema.builtin_schemas").joinpath(
        "vendor", "compose-spec.json")
    return json.loads(schema.read_text())


def with_defaults(text: str) -> dict:
    return yaml.safe_load(VARIABLE.sub(lambda m: m.group(2) or "", text))


@pytest.fixture(scope="module")
def compose() -> dict:
    return with_defaults(RAW)


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


@pytest.mark.parametrize("document", [yaml.safe_load(RAW), with_defaults(RAW)],
                         ids=["as written", "defaults interpolated"])
def test_valid_by_the_compose_specification_schema(document):
    schema = compose_schema()
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_every_variable_has_a_default():
    assert all(default is not None for _, default in
               ((m.group(1), m.group(2)) for m in VARIABLE.finditer(RAW)))


def test_the_app_scales_out(compose):
    app = compose["services"]["app"]
    assert app["build"] == "."
    assert int(app["deploy"]["replicas"]) >= 2
    # A fixed container name or a published host port would make a second replica fail.
    assert "container_name" not in app and "ports" not in app


def test_the_app_is_configured_by_environment_variables(compose):
    environment = compose["services"]["app"]["environment"]
    assert isinstance(environment, dict)
    assert {"PORT", "GRADIENT_WORKERS", "GRADIENT_LOG_LEVEL",
            "PROMETHEUS_MULTIPROC_DIR"} <= set(environment)
    for name in re.findall(r"\$\{(\w+)", RAW):
        assert name.startswith("GRADIENT_"), name


def test_healthchecks_and_restart_policies(compose):
    _, probe = healthcheck_command(dockerfile_stages()[-1])
    app, lb = compose["services"]["app"], compose["services"]["lb"]
    assert app["healthcheck"]["test"] == ["CMD", *probe]  # the image's own probe
    assert lb["healthcheck"]["test"][0] == "CMD"
    assert "/nginx-health" in " ".join(lb["healthcheck"]["test"])
    for service in (app, lb):
        assert service["restart"] in ("always", "unless-stopped", "on-failure")


def test_stopping_leaves_time_to_finish_requests(compose):
    app = compose["services"]["app"]
    graceful = int(app["environment"]["GRADIENT_GRACEFUL_TIMEOUT"])
    assert app.get("stop_signal", "SIGTERM") == "SIGTERM"
    assert seconds(app["stop_grace_period"]) > graceful


def test_nginx_balances_the_app_service(compose):
    lb = compose["services"]["lb"]
    app = compose["services"]["app"]
    assert lb["image"].startswith("nginx:")
    assert lb["depends_on"]["app"]["condition"] == "service_healthy"
    [mount] = lb["volumes"]
    source, target, mode = mount.split(":")
    assert (ROOT / source).resolve() == NGINX_CONF and target == "/etc/nginx/nginx.conf"
    assert mode == "ro"

    conf = NGINX_CONF.read_text()
    # nginx's upstream is the compose service on its PORT; the published port is nginx's.
    assert re.search(rf"^\s*server app:{app['environment']['PORT']}\b", conf, re.M)
    [published] = lb["ports"]
    assert published.rsplit(":", 1)[1] == re.search(r"\blisten (\d+);", conf).group(1)
