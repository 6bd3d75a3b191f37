"""GET /docs renders the contract in a real browser, with no network but the service's.

Headless Chromium (Debian's package; .ci/run installs it) loads the page from a live
gunicorn with every other host name unresolvable, runs Swagger UI's JavaScript, and the
rendered DOM must list every operation of openapi.yaml.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import pytest

CHROMIUM = next((path for path in map(shutil.which, ("chromium", "chromium-browser",
                                                    "google-chrome")) if path), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (.ci/run installs it; apt-get install chromium)",
)


def chromium(url: str, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on ``url`` with only 127.0.0.1 reachable."""
    assert CHROMIUM is not None, "chromium is not installed: .ci/run installs it with apt-get"
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "--virtual-time-budget=10000", *args, url],
            capture_output=True, text=True, timeout=120,
        )


def test_docs_page_loads_its_assets_from_the_service(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    references = re.findall(r'(?:src|href|url:)\s*=?\s*"([^"]+)"', html)
    assert references and not [r for r in references if "//" in r], references
    for asset, mimetypes in [("swagger-ui-bundle.js", {"text/javascript",
                                                        "application/javascript"}),
                             ("swagger-ui.css", {"text/css"})]:
        assert f"docs/assets/{asset}" in references
        response = client.get(f"/docs/assets/{asset}")
        assert response.status_code == 200 and response.mimetype in mimetypes
        assert len(response.data) > 10_000
        response.close()
    assert "openapi.yaml" in references


@needs_chromium
def test_docs_page_renders_every_operation(live_url, contract):
    result = chromium(f"{live_url}/docs", "--dump-dom")
    dom = result.stdout
    rendered = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert rendered == set(contract["paths"]), result.stderr[-2000:]
    assert "gradient-service" in dom
    for operation in ("post", "get"):
        assert f"opblock-{operation}" in dom


@needs_chromium
def test_docs_page_screenshot(live_url, tmp_path):
    shot = tmp_path / "docs.png"
    result = chromium(f"{live_url}/docs", f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.exists(), result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
