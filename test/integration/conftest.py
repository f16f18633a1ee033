"""Fixtures of the integration suite: the running stack (stack.json from stack.py up) and Matrix clients
that talk only to the generated router and record which pool served every request."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
import stack as stack_module  # noqa: E402

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


class Matrix:
    """Minimal client-server API client; every request goes through the router and is recorded."""

    _clients = 0

    def __init__(self, base: str, server_name: str):
        self.base = base.rstrip("/")
        self.server_name = server_name
        self.session = requests.Session()
        # Each test client appears as its own address, as it would behind the edge (which sets
        # X-Forwarded-For): Synapse's per-address login rate limit then applies per client.
        Matrix._clients += 1
        self.session.headers["X-Forwarded-For"] = f"127.0.201.{Matrix._clients}"
        self.token: str | None = None
        self.user_id: str | None = None
        self.device_id: str | None = None
        # Requests are recorded for the route check (test_platform.py, last test); traffic that knowingly
        # meets a pool with no started server (a rollout) turns it off: HAProxy's own 503 names no backend.
        self.recorded = True

    def request(self, method: str, path: str, *, ok: bool = True, auth: bool = True, timeout: float = 60, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = self.base + path
        response = self.session.request(method, url, headers=headers, timeout=timeout, **kwargs)
        if self.recorded:
            record(method, url, response)
        if ok and response.status_code >= 400:
            raise AssertionError(f"{method} {path.split('?')[0]} -> {response.status_code} {response.text[:300]} (backend {response.headers.get('X-Synapse-Backend')})")
        return response

    def json(self, method: str, path: str, **kwargs) -> dict:
        return self.request(method, path, **kwargs).json()

    # Flows ------------------------------------------------------------------------------------------
    def register_with_shared_secret(self, secret: str, username: str, password: str, admin: bool = False) -> dict:
        nonce = self.json("GET", "/_synapse/admin/v1/register", auth=False)["nonce"]
        message = "\x00".join((nonce, username, password, "admin" if admin else "notadmin"))
        mac = hmac.new(secret.encode(), message.encode(), digestmod=hashlib.sha1)
        body = {"nonce": nonce, "username": username, "password": password, "admin": admin, "mac": mac.hexdigest()}
        return self.json("POST", "/_synapse/admin/v1/register", json=body, auth=False)

    def login(self, username: str, password: str) -> None:
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": username}, "password": password}
        result = self.json("POST", "/_matrix/client/v3/login", json=body, auth=False)
        self.token, self.user_id, self.device_id = result["access_token"], result["user_id"], result["device_id"]

    def send_text(self, room_id: str, body: str, txn: str | None = None, retry_for: float = 0) -> str:
        """PUT with a transaction id: retrying is idempotent, as real clients do."""
        txn = txn or uuid.uuid4().hex
        deadline = time.time() + retry_for
        while True:
            try:
                response = self.request("PUT", f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/{txn}",
                                        json={"msgtype": "m.text", "body": body}, ok=False, timeout=60)
                if response.status_code == 200:
                    return response.json()["event_id"]
                error = f"{response.status_code} {response.text[:200]}"
                if response.status_code == 429 and time.time() < deadline:
                    time.sleep(response.json().get("retry_after_ms", 1000) / 1000)
            except requests.RequestException as exc:
                error = str(exc)
            if time.time() >= deadline:
                raise AssertionError(f"sending {body!r} failed: {error}")
            time.sleep(0.5)

    def messages(self, room_id: str, limit: int = 1000) -> list[dict]:
        chunk = self.json("GET", f"/_matrix/client/v3/rooms/{room_id}/messages?dir=b&limit={limit}")["chunk"]
        return [e for e in reversed(chunk) if e["type"] == "m.room.message"]

    def sync(self, since: str | None = None, timeout_ms: int = 0, filter_json: str | None = None) -> dict:
        query = f"timeout={timeout_ms}"
        if since:
            query += f"&since={since}"
        if filter_json:
            query += f"&filter={requests.utils.quote(filter_json)}"
        return self.json("GET", f"/_matrix/client/v3/sync?{query}")


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
