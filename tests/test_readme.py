"""README's commands, run for real: gunicorn as README starts it, then every curl example.

Where README shows the answer (a ```json block right after the command), the live answer
must equal it, so the documented commands and outputs cannot rot. A command that saves
its answer with ``-o`` (a picture) must get a 200 and a file of the type its name says.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _examples():
    """(curl command, expected JSON or None) pairs from README's sh blocks."""
    blocks = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)
    examples = []
    for i, (lang, text) in enumerate(blocks):
        if lang != "sh" or "curl" not in text:
            continue
        commands = [c for c in re.split(r"\n(?=curl )", text.replace("\\\n", " ").strip())]
        expected = None
        if i + 1 < len(blocks) and blocks[i + 1][0] == "json":
            expected = json.loads(blocks[i + 1][1])
        for j, command in enumerate(commands):
            examples.append((command.strip(), expected if j == len(commands) - 1 else None))
    return examples


def test_readme_run_command_uses_gunicorn_wsgi_app():
    assert ".venv/bin/gunicorn service.wsgi:app" in README


@pytest.fixture(scope="module")
def server(start_gunicorn):
    return int(start_gunicorn(GRADIENT_WORKERS="2").rsplit(":", 1)[1])


EXAMPLES = _examples()


def test_readme_has_curl_examples():
    assert len(EXAMPLES) >= 5


def _check_picture(path: Path, status: str) -> None:
    """A curl example with ``-o``: a picture saved to a file, of the type its name says."""
    assert status == "200", path.read_bytes()[:500]
    data = path.read_bytes()
    if path.suffix == ".svg":
        assert ET.fromstring(data).tag == "{http://www.w3.org/2000/svg}svg"
    else:
        assert path.suffix == ".png" and data.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("command, expected", EXAMPLES, ids=[c[:60] for c, _ in EXAMPLES])
def test_readme_curl_example(server, command, expected, tmp_path):
    argv = shlex.split(command.replace("localhost:8000", f"127.0.0.1:{server}"))
    argv[1:1] = ["-w", "\n%{http_code}"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True,
                            cwd=tmp_path)
    body, status = result.stdout.rsplit("\n", 1)
    if "-o" in argv:
        _check_picture(tmp_path / argv[argv.index("-o") + 1], status)
        return
    answer = json.loads(body)
    if expected is not None:
        assert answer == expected
    elif "errors" in answer:
        pytest.fail(f"README example failed: {body}")
    assert status in ("200", "422")
    assert "NaN" not in body and "Infinity" not in body


def test_ci_runs_exactly_the_readme_test_command():
    test_section = README.split("## Test it", 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_section.strip() in ci
    assert "set -euo pipefail" in ci
