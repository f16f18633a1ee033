"""Post-deployment smoke test of a running platform, from the client side only (`npm run smoke -- --help`).

Registers a throw-away user with the registration shared secret (the admin register nonce + HMAC flow), logs
in, creates a room, sends and syncs, uploads and downloads media, fetches TURN credentials and the client
well-known (including the MatrixRTC foci), requests a LiveKit token from lk-jwt-service, deactivates the
user, and prints a pass/fail table. Exit code 1 on any failure, 2 on a usage error. It speaks through the
same client as the load tool (matrix_client.py); the integration suite runs it against its local stack
(test/integration/test_smoke.py).
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matrix_client import MatrixClient  # noqa: E402

STEPS = ("versions", "register", "login", "create-room", "send", "sync", "media-upload", "media-download", "turn",
         "well-known", "lk-jwt", "deactivate")


class StepError(Exception):
    pass


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="npm run smoke --",
        description="Post-deployment smoke test from the client side: registers a throw-away user, logs in, creates a room, "
                    "sends and syncs, uploads and downloads media, fetches TURN credentials, the client well-known and a "
                    "LiveKit token, deactivates the user, and prints a pass/fail table. Exit 1 on any failure.")
    p.add_argument("--url", required=True, help="client-server API base URL, e.g. https://matrix.your-domain")
    p.add_argument("--server-name", required=True, help="the Matrix server name")
    p.add_argument("--registration-secret-file", required=True, type=Path, metavar="FILE", help="file holding registration_shared_secret")
    p.add_argument("--well-known-url", help="client well-known URL (default: https://NAME/.well-known/matrix/client)")
    p.add_argument("--skip", default="", help=f"comma-separated steps to skip ({', '.join(STEPS)})")
    p.add_argument("--timeout-ms", type=int, default=30000, help="timeout of each request in milliseconds (default 30000)")
    p.add_argument("--forwarded-for", help="X-Forwarded-For to send (tests only: a router without an edge in front)")
    return p


def run_smoke(args: argparse.Namespace, skip: set[str]) -> list[tuple[str, str, str]]:
    timeout = args.timeout_ms / 1000
    client = MatrixClient(args.url, forwarded_for=args.forwarded_for, timeout=timeout)
    username = f"smoke-{secrets.token_hex(5)}"
    password = secrets.token_urlsafe(18)
    payload = os.urandom(4096)
    marker = f"smoke {secrets.token_hex(6)}"
    state: dict[str, str] = {}

    def versions() -> str:
        return f"{len(client.json('GET', '/_matrix/client/versions', auth=False)['versions'])} spec versions"

    def register() -> str:
        secret = args.registration_secret_file.read_text().strip()
        state["user_id"] = client.register_with_shared_secret(secret, username, password)["user_id"]
        return state["user_id"]

    def login() -> str:
        client.login(username, password)
        return f"device {client.device_id}"

    def create_room() -> str:
        state["room_id"] = client.create_room(preset="private_chat", name="smoke test")
        return state["room_id"]

    def send() -> str:
        response = client.send_event(state["room_id"], {"msgtype": "m.text", "body": marker}, secrets.token_hex(8))
        state["event_id"] = response.json()["event_id"]
        return state["event_id"]

    def sync() -> str:
        deadline = time.time() + timeout
        since = None
        while time.time() < deadline:
            body = client.sync(since, 2000)
            events = (((body.get("rooms") or {}).get("join") or {}).get(state["room_id"]) or {}).get("timeline", {}).get("events", [])
            if any(event.get("event_id") == state["event_id"] for event in events):
                return "message seen in /sync"
            since = body["next_batch"]
        raise StepError("the sent message did not appear in /sync")

    def media_upload() -> str:
        state["content_uri"] = client.upload(payload, filename="smoke.bin")
        return state["content_uri"]

    def media_download() -> str:
        data = client.download(state["content_uri"])
        if data != payload:
            raise StepError(f"downloaded {len(data)} bytes differ from the {len(payload)} uploaded")
        return f"{len(data)} bytes match"

    def turn() -> str:
        body = client.json("GET", "/_matrix/client/v3/voip/turnServer")
        if not body.get("uris") or not body.get("username") or not body.get("password"):
            raise StepError(f"no TURN credentials: {str(body)[:200]}")
        return f"{len(body['uris'])} URIs, ttl {body.get('ttl')}s"

    def well_known() -> str:
        url = args.well_known_url or f"https://{args.server_name}/.well-known/matrix/client"
        body = client.json("GET", url, auth=False)
        homeserver = (body.get("m.homeserver") or {}).get("base_url")
        if not homeserver:
            raise StepError("m.homeserver.base_url missing")
        foci = body.get("org.matrix.msc4143.rtc_foci") or body.get("rtc_foci") or []
        livekit = next((focus.get("livekit_service_url") for focus in foci if focus.get("type") == "livekit"), None)
        if not livekit:
            raise StepError("no livekit entry in org.matrix.msc4143.rtc_foci")
        state["livekit_service_url"] = livekit.rstrip("/")
        return f"base_url {homeserver}, livekit {livekit}"

    def lk_jwt() -> str:
        if "livekit_service_url" not in state:
            raise StepError("needs the well-known step (livekit_service_url)")
        openid = client.json("POST", f"/_matrix/client/v3/user/{quote(state['user_id'])}/openid/request_token", json={})
        body = client.json("POST", f"{state['livekit_service_url']}/sfu/get", auth=False,
                           json={"room": state["room_id"], "openid_token": openid, "device_id": client.device_id})
        if not body.get("jwt") or not body.get("url"):
            raise StepError(f"no jwt/url in the reply: {str(body)[:200]}")
        return f"token for {body['url']}"

    def deactivate() -> str:
        auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": username}, "password": password}
        client.request("POST", "/_matrix/client/v3/account/deactivate", json={"auth": auth, "erase": True})
        return f"{state['user_id']} deactivated"

    steps: dict[str, Callable[[], str]] = {
        "versions": versions, "register": register, "login": login, "create-room": create_room, "send": send, "sync": sync,
        "media-upload": media_upload, "media-download": media_download, "turn": turn, "well-known": well_known,
        "lk-jwt": lk_jwt, "deactivate": deactivate,
    }
    results = []
    for step in STEPS:
        if step in skip:
            results.append((step, "SKIP", "skipped (--skip)"))
            continue
        try:
            results.append((step, "PASS", steps[step]()))
        except (StepError, AssertionError) as error:
            results.append((step, "FAIL", str(error)))
        except (requests.RequestException, KeyError, ValueError, OSError) as error:
            results.append((step, "FAIL", f"{type(error).__name__}: {error}"))
    return results


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    skip = {step for step in args.skip.split(",") if step}
    unknown = skip - set(STEPS)
    if unknown:
        print(f"--skip: unknown step {', '.join(sorted(unknown))} (steps: {', '.join(STEPS)})", file=sys.stderr)
        return 2
    if args.timeout_ms <= 0:
        print("--timeout-ms: expected a positive whole number of milliseconds", file=sys.stderr)
        return 2
    results = run_smoke(args, skip)
    width = max(len(step) for step, _, _ in results)
    print(f"smoke test of {args.url} ({args.server_name})")
    for step, status, detail in results:
        print(f"{status:<4}  {step:<{width}}  {detail}")
    failed = sum(1 for _, status, _ in results if status == "FAIL")
    passed = sum(1 for _, status, _ in results if status == "PASS")
    print(f"{passed} passed, {failed} failed, {len(results) - passed - failed} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
