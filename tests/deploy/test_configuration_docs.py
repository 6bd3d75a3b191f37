"""README documents every environment variable that the service, gunicorn.conf.py, the
Dockerfile and docker-compose.yml read, and has the deployment sections."""

from __future__ import annotations

import re

import pytest

from deploy_support import ROOT, dockerfile_stages, env_instructions

README = (ROOT / "README.md").read_text()
DOCUMENTED = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", README, flags=re.M))
# Read by the runtime, not settings of this service.
NOT_SETTINGS = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}


def variables_read() -> dict[str, str]:
    """Variable -> the file that reads it."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "service").rglob("*.py")):
        text = path.read_text()
        names = re.findall(r"[\"'](GRADIENT_[A-Z0-9_]*[A-Z0-9]|PROMETHEUS_MULTIPROC_DIR)[\"']",
                           text)
        names += ["GRADIENT_" + n for n in re.findall(r"ENV_PREFIX \+ \"([A-Z0-9_]+)\"", text)]
        found.update({name: str(path.relative_to(ROOT)) for name in names})
    conf = (ROOT / "gunicorn.conf.py").read_text()
    found.update({n: "gunicorn.conf.py" for n in
                  re.findall(r"_env(?:_int)?\(\s*[\"']([A-Z0-9_]+)[\"']", conf)})
    found.update({n: "gunicorn.conf.py" for n in
                  re.findall(r"environ(?:\.get\(|\[)\s*[\"']([A-Z0-9_]+)[\"']", conf)})
    found.update({n: "docker-compose.yml" for n in
                  re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text())})
    found.update({n: "Dockerfile" for n in env_instructions(dockerfile_stages()[-1])
                  if n not in NOT_SETTINGS})
    return found


def test_every_variable_is_in_a_readme_table():
    from service.config import Limits

    missing = {name: where for name, where in variables_read().items()
               if name not in DOCUMENTED}
    assert not missing, f"add these to README's Configuration table: {missing}"
    limits = {Limits.env_var(name) for name in Limits.__dataclass_fields__}
    assert limits <= DOCUMENTED


def test_the_scan_sees_the_known_variables():
    names = set(variables_read())
    assert {"PORT", "GRADIENT_BIND", "GRADIENT_WORKERS", "GRADIENT_LOG_LEVEL",
            "GRADIENT_INSTANCE", "PROMETHEUS_MULTIPROC_DIR", "GRADIENT_REPLICAS"} <= names


@pytest.mark.parametrize("section", ["Run with Docker", "Run with compose", "Configuration",
                                     "Monitoring"])
def test_readme_has_the_deployment_sections(section):
    assert re.search(rf"^## {section}$", README, flags=re.M)
