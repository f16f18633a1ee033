"""coturn started from the generated turnserver.conf (and its init container) accepts a TURN allocation with
the credentials Synapse issues (/voip/turnServer: HMAC-SHA1 of the shared secret, TURN REST API) and
rejects credentials derived from a wrong secret. turnutils_uclient is the client."""
from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess

import pytest


def allocate(coturn: dict, username: str, password: str) -> str:
    # -y: two clients relaying to each other; -I: no permissions; -L: a loopback source address.
    result = subprocess.run(["turnutils_uclient", "-u", username, "-w", password, "-n", "1", "-y", "-I", "-L", "127.0.41.1",
                             "-p", str(coturn["port"]), coturn["ip"]], capture_output=True, text=True, timeout=60)
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def coturn(stack):
    if "coturn" not in stack:
        pytest.skip("calls are disabled in this config: no coturn DaemonSet in dist/")
    return stack["coturn"]


def test_coturn_accepts_credentials_issued_by_synapse(coturn, new_client):
    client = new_client("caller")
    turn = client.json("GET", "/_matrix/client/v3/voip/turnServer")
    assert turn["uris"] and turn["username"].endswith(client.user_id), f"unexpected TURN credentials: {turn}"
    output = allocate(coturn, turn["username"], turn["password"])
    assert "Cannot complete Allocation" not in output, f"coturn refused Synapse's TURN credentials:\n{output[-1500:]}"
    # The allocation succeeded; the relay addresses are loopback, which the generated denied-peer-ip
    # ranges forbid as peers (no relaying into internal networks): channel binds get 403.
    assert "Forbidden IP" in output or "error" not in output.lower(), output[-1500:]


def test_coturn_rejects_credentials_from_a_wrong_secret(coturn, new_client):
    client = new_client("intruder")
    turn = client.json("GET", "/_matrix/client/v3/voip/turnServer")
    forged = base64.b64encode(hmac.new(b"not-the-shared-secret", turn["username"].encode(), hashlib.sha1).digest()).decode()
    output = allocate(coturn, turn["username"], forged)
    assert "Cannot complete Allocation" in output, f"coturn accepted credentials from a wrong secret:\n{output[-1500:]}"
