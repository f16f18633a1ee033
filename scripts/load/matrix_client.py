"""A small Matrix client-server API client shared by the load tool (scripts/load/load.py, through Locust's
HttpSession) and the integration suite's clients (test/integration/conftest.py, through requests.Session).

It speaks only the endpoints both need; every request goes through `request`, which callers override to
record or classify requests. `name` is the endpoint class Locust aggregates statistics under: it is passed to
the session only when the session accepts it (Locust's does, requests' does not).
"""
from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any
from urllib.parse import quote

import requests

SLIDING_SYNC_PATH = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"


class MatrixError(AssertionError):
    """A request answered with an HTTP error where success was required."""

    def __init__(self, method: str, path: str, response: requests.Response):
        self.status = response.status_code
        super().__init__(f"{method} {path.split('?')[0]} -> {response.status_code} {response.text[:300]}"
                         f" (backend {response.headers.get('X-Synapse-Backend')})")


class MatrixClient:
    def __init__(self, base: str, session: Any = None, *, named_requests: bool = False, forwarded_for: str | None = None,
                 timeout: float = 60):
        self.base = base.rstrip("/")
        self.session = session if session is not None else requests.Session()
        self.named_requests = named_requests
        self.timeout = timeout
        if forwarded_for:
            self.session.headers["X-Forwarded-For"] = forwarded_for
        self.token: str | None = None
        self.user_id: str | None = None
        self.device_id: str | None = None

    # Transport --------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, ok: bool = True, auth: bool = True, timeout: float | None = None,
                name: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.named_requests and name:
            kwargs["name"] = name
        url = path if path.startswith(("http://", "https://")) else self.base + path
        response = self.session.request(method, url, headers=headers, timeout=timeout or self.timeout, **kwargs)
        if ok and response.status_code >= 400:
            raise MatrixError(method, path, response)
        return response

    def json(self, method: str, path: str, **kwargs) -> dict:
        return self.request(method, path, **kwargs).json()

    def use_token(self, user_id: str, token: str, device_id: str | None = None) -> None:
        self.user_id, self.token, self.device_id = user_id, token, device_id

    # Accounts ---------------------------------------------------------------------------------------
    def register_with_shared_secret(self, secret: str, username: str, password: str, admin: bool = False) -> dict:
        """Synapse's admin registration: a nonce, then an HMAC-SHA1 over nonce, user, password and admin flag."""
        nonce = self.json("GET", "/_synapse/admin/v1/register", auth=False, name="admin register")["nonce"]
        message = "\x00".join((nonce, username, password, "admin" if admin else "notadmin"))
        mac = hmac.new(secret.encode(), message.encode(), digestmod=hashlib.sha1)
        body = {"nonce": nonce, "username": username, "password": password, "admin": admin, "mac": mac.hexdigest()}
        return self.json("POST", "/_synapse/admin/v1/register", json=body, auth=False, name="admin register")

    def login(self, username: str, password: str) -> None:
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": username}, "password": password}
        result = self.json("POST", "/_matrix/client/v3/login", json=body, auth=False, name="login")
        self.use_token(result["user_id"], result["access_token"], result["device_id"])

    def admin_create_user(self, user_id: str, displayname: str) -> None:
        """A user without a password (no password hash to compute): tokens come from admin_login_as."""
        self.request("PUT", f"/_synapse/admin/v2/users/{quote(user_id)}", json={"displayname": displayname}, name="admin create user")

    def admin_login_as(self, user_id: str) -> str:
        return self.json("POST", f"/_synapse/admin/v1/users/{quote(user_id)}/login", json={}, name="admin login as")["access_token"]

    def admin_lift_ratelimit(self, user_id: str) -> None:
        self.request("POST", f"/_synapse/admin/v1/users/{quote(user_id)}/override_ratelimit",
                     json={"messages_per_second": 0, "burst_count": 0}, name="admin override ratelimit")

    # Rooms and messages -----------------------------------------------------------------------------
    def create_room(self, *, preset: str = "private_chat", name: str | None = None, invite: list[str] | None = None,
                    is_direct: bool = False) -> str:
        body: dict[str, Any] = {"preset": preset}
        if name:
            body["name"] = name
        if invite:
            body["invite"] = invite
        if is_direct:
            body["is_direct"] = True
        return self.json("POST", "/_matrix/client/v3/createRoom", json=body, name="create room")["room_id"]

    def join(self, room_id: str) -> None:
        self.request("POST", f"/_matrix/client/v3/join/{quote(room_id)}", json={}, name="join")

    def send_event(self, room_id: str, content: dict, txn: str, *, event_type: str = "m.room.message", ok: bool = True,
                   name: str = "send") -> requests.Response:
        """PUT with a transaction id: a retry with the same id is idempotent, as real clients rely on."""
        return self.request("PUT", f"/_matrix/client/v3/rooms/{quote(room_id)}/send/{event_type}/{txn}", json=content, ok=ok, name=name)

    def send_text(self, room_id: str, body: str, txn: str | None = None, retry_for: float = 0) -> str:
        """Sends a text message, retrying (same transaction id) through rate limits and errors for up to retry_for seconds."""
        txn = txn or uuid.uuid4().hex
        deadline = time.time() + retry_for
        while True:
            try:
                response = self.send_event(room_id, {"msgtype": "m.text", "body": body}, txn, ok=False)
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

    def messages(self, room_id: str, limit: int = 1000, since: str | None = None) -> list[dict]:
        """Room messages, oldest first; `since` pages back from that token (a /sync prev_batch)."""
        query = f"dir=b&limit={limit}" + (f"&from={quote(since)}" if since else "")
        chunk = self.json("GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/messages?{query}", name="messages")["chunk"]
        return [e for e in reversed(chunk) if e["type"] == "m.room.message"]

    # Sync -------------------------------------------------------------------------------------------
    def upload_filter(self, filter_body: dict) -> str:
        return self.json("POST", f"/_matrix/client/v3/user/{quote(self.user_id or '')}/filter", json=filter_body, name="filter")["filter_id"]

    def sync(self, since: str | None = None, timeout_ms: int = 0, filter_json: str | None = None, *,
             http_timeout: float | None = None, name: str | None = None) -> dict:
        query = f"timeout={timeout_ms}"
        if since:
            query += f"&since={quote(since)}"
        if filter_json:
            query += f"&filter={quote(filter_json)}"
        return self.json("GET", f"/_matrix/client/v3/sync?{query}", timeout=http_timeout or self.timeout + timeout_ms / 1000,
                         name=name or ("sync" if since else "sync (initial)"))

    def sliding_sync(self, body: dict, pos: str | None = None, timeout_ms: int = 0, *, http_timeout: float | None = None) -> dict:
        """MSC4186 simplified sliding sync (Element X): sticky request parameters, a `pos` token per connection."""
        query = f"timeout={timeout_ms}" + (f"&pos={quote(pos)}" if pos else "")
        return self.json("POST", f"{SLIDING_SYNC_PATH}?{query}", json=body, timeout=http_timeout or self.timeout + timeout_ms / 1000,
                         name="sliding sync" if pos else "sliding sync (initial)")

    # Media ------------------------------------------------------------------------------------------
    def upload(self, data: bytes, content_type: str = "application/octet-stream", filename: str = "load.bin") -> str:
        return self.json("POST", f"/_matrix/media/v3/upload?filename={quote(filename)}", data=data,
                         headers={"Content-Type": content_type}, name="media upload")["content_uri"]

    def download(self, content_uri: str) -> bytes:
        server, media_id = content_uri[len("mxc://"):].split("/", 1)
        return self.request("GET", f"/_matrix/client/v1/media/download/{server}/{media_id}", name="media download").content
