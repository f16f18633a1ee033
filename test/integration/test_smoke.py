"""`npm run smoke` (scripts/load/smoke.py, on the client the load tool shares) against the local stack: the post-deployment smoke test is tested code.
The well-known document is the generated one (ConfigMap matrix-well-known, client.json), served on the
well-known Service's loopback address by a static file server instead of nginx. lk-jwt-service is not
part of the local stack, so its step is skipped here."""
from __future__ import annotations

import http.server
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import WORK
import stack as stack_module

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def well_known_url(stack):
    running = stack_module.Stack.load(WORK)
    config_map = next(d for d in running.dist.docs if d["kind"] == "ConfigMap" and "client.json" in (d.get("data") or {}))
    client_json = config_map["data"]["client.json"].encode()
    host = f"{config_map['metadata']['name']}.{config_map['metadata']['namespace']}.svc.cluster.local"
    ip = running.addresses.table.get(host) or "127.0.31.2"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            if self.path != "/.well-known/matrix/client":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(client_json)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((ip, 8080), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{ip}:8080/.well-known/matrix/client"
    server.shutdown()


def run_smoke(stack: dict, secret_file: str, well_known_url: str, client_address: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "scripts/load/run.sh", "smoke", "--url", stack["router_url"], "--server-name", stack["server_name"],
                           "--registration-secret-file", secret_file, "--well-known-url", well_known_url, "--skip", "lk-jwt",
                           "--forwarded-for", client_address],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)


def test_smoke_script_passes_against_the_local_stack(stack, well_known_url):
    result = run_smoke(stack, stack["secrets"]["registration_shared_secret_file"], well_known_url, "127.0.200.1")
    print(result.stdout)
    assert result.returncode == 0, f"npm run smoke failed:\n{result.stdout}\n{result.stderr[-1500:]}"
    for step in ("register", "login", "create-room", "send", "sync", "media-upload", "media-download", "turn", "well-known", "deactivate"):
        assert any(line.startswith("PASS") and f" {step} " in line + " " for line in result.stdout.splitlines()), f"step {step} did not pass:\n{result.stdout}"


def test_smoke_script_fails_with_a_wrong_registration_secret(stack, well_known_url, tmp_path):
    wrong = tmp_path / "wrong-secret"
    wrong.write_text("not-the-secret")
    result = run_smoke(stack, str(wrong), well_known_url, "127.0.200.2")
    assert result.returncode == 1, f"smoke passed with a wrong secret:\n{result.stdout}"
    assert any(line.startswith("FAIL") and "register" in line for line in result.stdout.splitlines()), result.stdout
