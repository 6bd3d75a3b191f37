"""Helpers for the deployment tests: processes that clean up after themselves, plain HTTP.

Every server runs in a session of its own, so that stopping it reaches its workers too,
and writes its output to files (a full pipe would block it). Waits poll with a deadline
that only bounds a hung start; no test asserts how long anything took.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
START_DEADLINE_SECONDS = 90

# urllib without any proxy from the environment: every request here goes to 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def http(url: str, method: str = "GET", body=None, headers: dict | None = None,
         timeout: float = 60) -> Answer:
    """One request; HTTP error statuses are answers, not exceptions."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Answer(response.status, {k.lower(): v for k, v in response.headers.items()},
                          response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, {k.lower(): v for k, v in error.headers.items()},
                          error.read())


def eventually(check, deadline: float = 30, interval: float = 0.05):
    """Poll ``check()`` until it returns something truthy, and return that (or fail).

    For facts that trail a response, such as a log line written after the answer.
    """
    limit = time.monotonic() + deadline
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > limit:
            raise AssertionError(f"still false after {deadline} s: {check}")
        time.sleep(interval)


def json_lines(text: str) -> list[dict]:
    """Every non-empty line of ``text`` parsed as a JSON object (fails on any other line)."""
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"log line is not JSON: {line!r}") from None
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries


@dataclass
class Process:
    """A server process started in its own session, with its output in files."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_dir: Path
    popen: subprocess.Popen | None = None
    _files: list = field(default_factory=list)

    @property
    def stdout_path(self) -> Path:
        return self.log_dir / f"{self.name}.out"

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / f"{self.name}.err"

    def start(self) -> Process:
        out = open(self.stdout_path, "wb")
        err = open(self.stderr_path, "wb")
        self._files = [out, err]
        self.popen = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=err,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_until(self, url: str, deadline: float = START_DEADLINE_SECONDS) -> None:
        """Poll ``url`` until it answers 200; fail with the server's output if it exits."""
        limit = time.monotonic() + deadline
        while True:
            try:
                if http(url, timeout=5).status == 200:
                    return
            except OSError:
                pass
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n"
                                   f"{self.stderr()[-4000:]}")
            if time.monotonic() > limit:
                raise RuntimeError(f"{self.name} did not answer {url}:\n{self.stderr()[-4000:]}")
            time.sleep(0.1)

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the process and every process of its session."""
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        """Stop the server (and its children); SIGKILL whatever is left after ``timeout``."""
        if self.popen is None:
            return None
        if self.alive():
            self.signal_group(signum)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.signal_group(signal.SIGKILL)  # workers orphaned by a killed master, if any
        returncode = self.popen.wait(timeout=timeout)
        for f in self._files:
            f.close()
        self._files = []
        return returncode


def gunicorn_env(port: int, metrics_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        GRADIENT_BIND=f"127.0.0.1:{port}",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    env.update(extra)
    return env


def start_gunicorn(name: str, tmp: Path, workers: int = 1, app: str = "service.wsgi:app",
                   extra_args: tuple[str, ...] = (), **env: str) -> tuple[Process, str]:
    """gunicorn as README and the image run it (``gunicorn service.wsgi:app`` in the repo,
    which reads ./gunicorn.conf.py); returns the process and its base URL."""
    port = free_port()
    metrics_dir = tmp / f"{name}-metrics"
    process = Process(
        name=name,
        argv=[sys.executable, "-m", "gunicorn", *extra_args, app],
        env=gunicorn_env(port, metrics_dir, GRADIENT_WORKERS=str(workers), **env),
        cwd=ROOT,
        log_dir=tmp,
    ).start()
    return process, f"http://127.0.0.1:{port}"


def gunicorn_worker_pids(master_pid: int) -> set[int]:
    """The children of a gunicorn master, from /proc."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    try:
        return {int(pid) for pid in children.read_text().split()}
    except FileNotFoundError:
        return set()


def established_connections_to(port: int) -> int:
    """How many TCP connections to local ``port`` are established (accepted or queued)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":
                count += 1
    return count


def dockerfile_instructions(path: Path = ROOT / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuations joined and comments dropped."""
    instructions = []
    logical = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):  # comments may sit inside continuations too
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        keyword, _, rest = logical.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        logical = ""
    return instructions


def dockerfile_stages(path: Path = ROOT / "Dockerfile") -> list[list[tuple[str, str]]]:
    """The instructions grouped by stage (each list starts with its FROM)."""
    stages: list[list[tuple[str, str]]] = []
    for instruction in dockerfile_instructions(path):
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def exec_form(arguments: str) -> list[str]:
    """The argv of an exec-form (JSON array) CMD/ENTRYPOINT/HEALTHCHECK CMD."""
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(a, str) for a in value), arguments
    return value


def healthcheck_command(stage) -> tuple[dict[str, str], list[str]]:
    """The options and exec-form argv of a stage's HEALTHCHECK."""
    [arguments] = [rest for keyword, rest in stage if keyword == "HEALTHCHECK"]
    options = dict(re.findall(r"--([a-z-]+)=(\S+)", arguments))
    command = re.sub(r"--[a-z-]+=\S+\s*", "", arguments).strip()
    assert command.startswith("CMD "), arguments
    return options, exec_form(command[len("CMD "):])


def env_instructions(stage) -> dict[str, str]:
    """The variables a stage's ENV instructions set (KEY=VALUE form), in order."""
    env: dict[str, str] = {}
    for keyword, rest in stage:
        if keyword == "ENV":
            for token in shlex.split(rest):
                key, _, value = token.partition("=")
                env[key] = value
    return env
