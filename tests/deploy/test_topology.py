"""docker-compose's topology without Docker: two gunicorn replicas behind the repo's nginx.

nginx runs deploy/nginx/nginx.conf with three substitutions only (the upstream's
``server app:8000`` line becomes the two local replicas, ``listen 8080`` a free port, and
/tmp/ this test's directory). The tests show that requests reach both replicas, and that
killing a replica, even with a POST in flight on it, loses no request: nginx retries it on
the other one, as its access log shows.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest

from deploy_support import (
    ROOT,
    Process,
    established_connections_to,
    eventually,
    free_port,
    http,
    json_lines,
    start_gunicorn,
)

NGINX_CONF = ROOT / "deploy" / "nginx" / "nginx.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
DERIVATIVE = {"expression": "(w*x + b - y)^2", "variable": "w",
              "point": {"w": 2, "x": 3, "b": 1, "y": 4}}

pytestmark = pytest.mark.skipif(
    NGINX is None and not os.environ.get("CI"),
    reason="nginx is not installed (.ci/run installs it; apt-get install nginx)",
)


def render_nginx_conf(replica_ports: list[int], listen_port: int, prefix: Path) -> str:
    """The repo's nginx.conf, pointed at local replicas, a local port and a private prefix."""
    conf = NGINX_CONF.read_text()

    def servers(match: re.Match) -> str:
        parameters = " ".join(p for p in match.group(2).split() if p != "resolve")
        return "\n".join(f"{match.group(1)}server 127.0.0.1:{port} {parameters};"
                         for port in replica_ports)

    conf, upstreams = re.subn(r"^(\s*)server app:8000\b([^;]*);", servers, conf, flags=re.M)
    conf, listens = re.subn(r"\blisten 8080;", f"listen 127.0.0.1:{listen_port};", conf)
    assert upstreams == 1 and listens == 1, "nginx.conf lost the lines this test substitutes"
    return conf.replace("/tmp/", f"{prefix}/")


@pytest.fixture
def workdir():
    # Not pytest's tmp_path: nginx's workers drop root privileges and must reach it.
    path = Path(tempfile.mkdtemp(prefix="gradient-topology-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def cluster(workdir):
    """Replicas a and b (one worker each) and nginx in front; all stopped afterwards."""
    assert NGINX is not None, "nginx is not installed: .ci/run installs it with apt-get"
    processes: list[Process] = []
    try:
        replicas = {}
        for name in ("replica-a", "replica-b"):
            process, url = start_gunicorn(name, workdir, workers=1, GRADIENT_INSTANCE=name)
            processes.append(process)
            replicas[name] = (process, url)
        for process, url in replicas.values():
            process.wait_until(url + "/readyz")

        ports = [int(url.rsplit(":", 1)[1]) for _, url in replicas.values()]
        listen_port = free_port()
        (workdir / "nginx.conf").write_text(render_nginx_conf(ports, listen_port, workdir))
        argv = [NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"),
                "-e", "stderr", "-g", "daemon off;"]
        check = Process("nginx-check", argv + ["-t"], dict(os.environ), workdir, workdir).start()
        assert check.popen.wait(timeout=30) == 0, check.stderr()
        check.stop()
        nginx = Process("nginx", argv, dict(os.environ), workdir, workdir).start()
        processes.append(nginx)
        lb = f"http://127.0.0.1:{listen_port}"
        nginx.wait_until(lb + "/nginx-health")
        yield {"lb": lb, "nginx": nginx, "replicas": replicas, "ports": dict(zip(replicas, ports))}
    finally:
        for process in reversed(processes):
            process.stop()


def served_by(answer) -> str:
    return answer.header("X-Served-By").split("/")[0]


def nginx_access_log(nginx: Process) -> list[dict]:
    return [e for e in json_lines(nginx.stdout()) if e.get("logger") == "nginx.access"]


def test_requests_reach_both_replicas(cluster):
    lb = cluster["lb"]
    answers = [http(lb + "/healthz") for _ in range(6)]
    answers += [http(lb + "/v1/derivative", "POST", DERIVATIVE) for _ in range(6)]

    assert [a.status for a in answers] == [200] * 12
    assert {served_by(a) for a in answers} == {"replica-a", "replica-b"}
    assert all(a.json()["derivative"]["expression"] == "2*x*(b + w*x - y)"
               for a in answers[6:])


def test_request_id_passes_through_the_load_balancer(cluster):
    lb = cluster["lb"]
    given = http(lb + "/healthz", headers={"X-Request-ID": "trace-me-42"})
    made = http(lb + "/healthz")

    assert given.header("X-Request-ID") == "trace-me-42"
    assert re.fullmatch(r"[0-9a-f]{32}", made.header("X-Request-ID"))  # nginx's $request_id
    wanted = {"trace-me-42", made.header("X-Request-ID")}
    log = eventually(lambda: (entries := nginx_access_log(cluster["nginx"]))
                     and wanted <= {e["request_id"] for e in entries} and entries)
    entry = next(e for e in log if e["request_id"] == "trace-me-42")
    assert entry["method"] == "GET" and entry["path"] == "/healthz" and entry["status"] == 200
    assert isinstance(entry["duration_ms"], int)


def test_killing_a_replica_loses_no_request(cluster):
    lb, nginx = cluster["lb"], cluster["nginx"]
    victim, _ = cluster["replicas"]["replica-a"]
    victim_port = cluster["ports"]["replica-a"]

    # Freeze replica a so that a POST routed to it stays in flight (accepted by its
    # kernel, never answered); requests keep going to b meanwhile.
    victim.signal_group(signal.SIGSTOP)
    answers: list = []
    threads: list[threading.Thread] = []

    def post():
        answers.append(http(lb + "/v1/derivative", "POST", DERIVATIVE, timeout=120))

    for _ in range(50):
        thread = threading.Thread(target=post)
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 60
        while thread.is_alive() and not established_connections_to(victim_port):
            assert time.monotonic() < deadline, "a request through nginx hung"
            time.sleep(0.01)
        if established_connections_to(victim_port):
            break  # this POST sits on replica a; the ones before were answered by b
    assert established_connections_to(victim_port), "no request was routed to replica a"

    # Kill a outright: the in-flight POST's connection is reset and new connections to a
    # are refused. nginx must retry both kinds on b.
    victim.signal_group(signal.SIGKILL)
    victim.popen.wait(timeout=30)
    for _ in range(6):
        threads.append(threading.Thread(target=post))
        threads[-1].start()
    for method in ("GET",) * 4:
        answers.append(http(lb + "/healthz", method))
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == len(threads) + 4
    assert [a.status for a in answers] == [200] * len(answers)
    assert all(served_by(a) == "replica-b" for a in answers)
    # nginx logs every replica it tried: "502, 200" is a request it moved from a to b.
    def retried_posts():
        return [e for e in nginx_access_log(nginx) if e["method"] == "POST"
                and "," in e["upstream_status"] and e["status"] == 200]

    assert eventually(retried_posts), "nginx's log shows no POST retried on the other replica"


def test_with_no_replica_left_nginx_answers_a_problem(cluster):
    for process, _ in cluster["replicas"].values():
        process.stop(signal.SIGKILL)
    answer = http(cluster["lb"] + "/v1/derivative", "POST", DERIVATIVE,
                  headers={"X-Request-ID": "nobody-home"})

    assert answer.status == 503
    assert answer.header("Content-Type") == "application/problem+json"
    assert answer.json()["status"] == 503 and answer.json()["type"].startswith("urn:")
    assert answer.header("X-Request-ID") == "nobody-home"
