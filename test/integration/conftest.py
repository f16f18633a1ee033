"""Fixtures of the integration suite: the running stack (stack.json from stack.py up) and Matrix clients
that talk only to the generated router and record which pool served every request."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
import stack as stack_module  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "load"))
from matrix_client import MatrixClient, MatrixError  # noqa: E402

WORK = Path(os.environ.get("IT_WORK", "/tmp/it-dev"))
_lock = threading.Lock()


@pytest.fixture(scope="session")
def stack() -> dict:
    path = WORK / "stack.json"
    if not path.exists():
        pytest.exit(f"{path} not found: start the stack first (stack.py up)", returncode=2)
    return json.loads(path.read_text())


def record(method: str, url: str, response: requests.Response) -> None:
    path = url.split("://", 1)[1]
    path = path[path.index("/"):]
    line = json.dumps({"method": method, "url": path, "backend": response.headers.get("X-Synapse-Backend"), "status": response.status_code})
    with _lock, open(WORK / "requests.jsonl", "a") as f:
        f.write(line + "\n")


class Matrix(MatrixClient):
    """The shared client (scripts/load/matrix_client.py); every request goes through the router and is recorded."""

    _clients = 0

    def __init__(self, base: str, server_name: str):
        # Each test client appears as its own address, as it would behind the edge (which sets
        # X-Forwarded-For): Synapse's per-address login rate limit then applies per client.
        Matrix._clients += 1
        super().__init__(base, forwarded_for=f"127.0.201.{Matrix._clients}")
        self.server_name = server_name
        # Requests are recorded for the route check (test_platform.py, last test); traffic that knowingly
        # meets a pool with no started server (a rollout) turns it off: HAProxy's own 503 names no backend.
        self.recorded = True

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        response = super().request(method, path, **{**kwargs, "ok": False})
        if self.recorded:
            record(method, self.base + path, response)
        if kwargs.get("ok", True) and response.status_code >= 400:
            raise MatrixError(method, path, response)
        return response


@pytest.fixture(scope="session")
def registration_secret(stack) -> str:
    return Path(stack["secrets"]["registration_shared_secret_file"]).read_text().strip()


@pytest.fixture(scope="session")
def admin(stack, registration_secret) -> Matrix:
    client = Matrix(stack["router_url"], stack["server_name"])
    username, password = f"admin{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    client.register_with_shared_secret(registration_secret, username, password, admin=True)
    client.login(username, password)
    return client


@pytest.fixture(scope="session")
def new_client(stack, registration_secret, admin):
    """A fresh user; the scenarios send bursts, so the admin API lifts its message rate limit (no config change)."""
    def make(prefix: str) -> Matrix:
        client = Matrix(stack["router_url"], stack["server_name"])
        username = f"{prefix}{uuid.uuid4().hex[:8]}"
        password = uuid.uuid4().hex
        client.register_with_shared_secret(registration_secret, username, password)
        client.login(username, password)
        admin.request("POST", f"/_synapse/admin/v1/users/{client.user_id}/override_ratelimit",
                      json={"messages_per_second": 0, "burst_count": 0})
        return client
    return make


def psql(stack: dict, sql: str) -> list[list[str]]:
    pg = stack["postgres"]
    result = subprocess.run([pg["psql"], "-h", pg["socket"], "-U", "postgres", "-d", pg["database"], "-At", "-F", "\t", "-c", sql],
                            capture_output=True, text=True, check=True, user="postgres")
    return [line.split("\t") for line in result.stdout.splitlines() if line]


def restart_process(stack: dict, name: str) -> None:
    """Stop a process group and start it again with the same command, environment and pod directory."""
    spec = stack["specs"][name]
    stack_module.kill_group(spec["pid"])
    procs = stack_module.Processes(WORK)
    proc = procs.start(name, spec["argv"], spec["env"], Path(spec["cwd"]), user=spec.get("user"))
    spec["pid"] = proc.pid


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    counts = {key: len(reporter.stats.get(key, [])) for key in ("passed", "failed", "error", "skipped")}
    durations = {}
    for key in ("passed", "failed", "error"):
        for report in reporter.stats.get(key, []):
            if getattr(report, "when", "call") == "call":
                durations[report.nodeid.split("::")[-1]] = round(report.duration, 1)
    (WORK / "results.json").write_text(json.dumps({"counts": counts, "durations": durations}))
