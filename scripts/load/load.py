"""Load generator for a running Matrix deployment, built on Locust (run as a library, headless).

`npm run load -- --help` (scripts/load/run.sh) documents every option. Phases:

1. setup (not measured): N users and one admin registered with the registration shared secret (each with a
   device and access token), the message rate limit lifted per user through the admin API; rooms of realistic sizes: one 1:1 room per pair of users, small groups,
   and a few large rooms;
2. every client does an initial sync, then stays in incremental long-poll sync: plain /sync (filter id,
   like Element Web) or MSC4186 simplified sliding sync (like Element X), a share set by an option;
3. measured window: once every client is syncing, each client sends messages at its share of the total
   rate into its rooms (weighted by room kind) and uploads and downloads media at its share of the media
   rate; every message carries a unique load id, and every member of the room must see it exactly once
   through its sync;
4. drain: sending stops, the clients keep syncing until every sent message has reached every member
   (or the drain time is up), then the result is written.

Exit code: 0 when no message was lost or duplicated, no media mismatched and the error rate stayed within
--max-error-rate; 1 otherwise; 2 on a usage or setup error.
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import gevent.pool  # noqa: E402
import locust  # noqa: E402
import requests  # noqa: E402
from locust import HttpUser, task  # noqa: E402
from locust.clients import HttpSession  # noqa: E402
from locust.env import Environment  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matrix_client import MatrixClient, MatrixError  # noqa: E402
from tracking import Tracker, percentiles  # noqa: E402

ROOM_KINDS = ("dm", "small", "large")
# Endpoint classes of the measured window (Locust request names); setup requests are not counted.
MEASURED_CLASSES = ("sync (initial)", "sync", "sliding sync (initial)", "sliding sync", "filter", "send", "media upload",
                    "media download", "messages")


# ------------------------------------------------------------------------------------------ options
def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, found {text}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, found {text}")
    return value


def fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, found {text}")
    return value


def room_mix(text: str) -> dict[str, float]:
    mix: dict[str, float] = {}
    for part in text.split(","):
        kind, _, weight = part.partition(":")
        if kind not in ROOM_KINDS or not weight:
            raise argparse.ArgumentTypeError(f"expected kind:weight pairs of {', '.join(ROOM_KINDS)}, found {part!r}")
        mix[kind] = non_negative_float(weight)
    if sum(mix.values()) <= 0:
        raise argparse.ArgumentTypeError("at least one room kind needs a positive weight")
    return mix


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="npm run load --",
        description="Load generator for a running Matrix deployment (Locust, headless): creates users and rooms, keeps "
                    "every client in incremental long-poll sync (plain /sync or MSC4186 sliding sync), sends messages and "
                    "media, checks every message reaches every member exactly once, and reports latencies, request rates, "
                    "errors and lost/duplicated messages. A progress line every few seconds; a JSON result file at the end.",
        epilog="Exit code 0: no message lost or duplicated, no media mismatch, error rate within --max-error-rate; 1: any of "
               "those failed; 2: usage or setup error. The users and rooms it creates stay on the server (prefix load-<run id>-).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--url", required=True, help="client-server API base URL of the deployment, e.g. https://matrix.example.org")
    p.add_argument("--registration-secret-file", required=True, type=Path, metavar="FILE", help="file holding Synapse's registration_shared_secret")
    p.add_argument("--users", type=positive_int, default=200, help="concurrent clients (one user each)")
    p.add_argument("--duration", type=positive_int, default=120, help="seconds of the measured window (sending), after every client syncs")
    p.add_argument("--spawn-rate", type=positive_int, default=50, help="clients started per second")
    p.add_argument("--message-rate", type=non_negative_float, default=10.0, help="messages per second, all clients together")
    p.add_argument("--media-rate", type=non_negative_float, default=0.5, help="media uploads (each downloaded back) per second, all clients together")
    p.add_argument("--media-size", type=positive_int, default=65536, help="bytes per uploaded media file")
    p.add_argument("--sliding-sync-share", type=fraction, default=0.5, help="share of clients using MSC4186 sliding sync instead of /sync")
    p.add_argument("--small-room-size", type=positive_int, default=8, help="members of each small group (the users are split into such groups)")
    p.add_argument("--large-rooms", type=int, default=2, help="number of large rooms")
    p.add_argument("--large-room-size", type=positive_int, default=100, help="members of each large room (at most --users)")
    p.add_argument("--room-mix", type=room_mix, default="dm:50,small:35,large:15",
                   help="share of messages sent into each room kind, as kind:weight pairs (dm, small, large)")
    p.add_argument("--sync-timeout-ms", type=positive_int, default=30000, help="long-poll timeout of each sync request")
    p.add_argument("--timeline-limit", type=positive_int, default=50, help="timeline events per room and sync response (a limited timeline is back-filled)")
    p.add_argument("--drain-seconds", type=positive_int, default=30, help="after sending stops, wait at most this long for outstanding deliveries")
    p.add_argument("--ready-timeout", type=positive_int, default=300, help="seconds every client may take to start and finish its initial sync")
    p.add_argument("--setup-concurrency", type=positive_int, default=8, help="parallel requests while creating users and rooms")
    p.add_argument("--request-timeout", type=positive_int, default=60, help="timeout of each non-sync request in seconds")
    p.add_argument("--max-error-rate", type=fraction, default=0.01, help="largest share of failed requests in the measured window that still passes")
    p.add_argument("--no-ratelimit-override", action="store_true", help="keep the server's message rate limit for the load users (default: lifted per user through the admin API)")
    p.add_argument("--forwarded-for-base", default=None, help="send X-Forwarded-For 127.x.y.z per client from this /16, e.g. 127.202 (tests only: a router without an edge in front)")
    p.add_argument("--result", type=Path, default=Path("load-result.json"), help="machine-readable result file (JSON)")
    p.add_argument("--csv", default=None, help="also write Locust's CSV statistics with this file prefix")
    p.add_argument("--progress-interval", type=positive_int, default=5, help="seconds between progress lines")
    p.add_argument("--seed", type=int, default=1, help="random seed of room membership and message targets")
    p.add_argument("--run-id", default=None, help="name of this run in user names (default: random)")
    return p


# -------------------------------------------------------------------------------------------- world
@dataclass
class Account:
    index: int
    user_id: str
    token: str
    rooms: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in ROOM_KINDS})


class World:
    """Shared state of one run: accounts, rooms, the tracker and the phase events."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.accounts: list[Account] = []
        self.room_members: dict[str, list[int]] = {}
        self.room_kind: dict[str, str] = {}
        self.tracker = Tracker()
        self.next_client = itertools.count()
        self.ready = 0
        self.all_ready = gevent.event.Event()
        self.go = gevent.event.Event()
        self.interval = 1.0
        self.sending = False
        self.window: dict[str, float] = {}
        self.random = random.Random(args.seed)
        # (endpoint class, backend) -> requests: the router names the serving process in X-Synapse-Backend.
        self.backends: dict[tuple[str, str], int] = {}

    def count_backend(self, name: str, response=None, **_kwargs) -> None:
        if self.sending and response is not None:
            backend = getattr(response, "headers", {}).get("X-Synapse-Backend") or "-"
            self.backends[(name, backend)] = self.backends.get((name, backend), 0) + 1

    def client(self, session=None, index: int | None = None) -> MatrixClient:
        forwarded = None
        if self.args.forwarded_for_base and index is not None:
            forwarded = f"{self.args.forwarded_for_base}.{index // 250}.{1 + index % 250}"
        return MatrixClient(self.args.url, session, named_requests=session is not None, forwarded_for=forwarded,
                            timeout=self.args.request_timeout)


def setup_world(world: World) -> dict:
    """Users and rooms, created before the measured window (their requests are not in the statistics)."""
    args = world.args
    started = time.time()
    run_id = args.run_id or uuid.uuid4().hex[:6]
    secret = args.registration_secret_file.read_text().strip()
    admin = world.client()
    admin_name = f"load-{run_id}-admin"
    registered = admin.register_with_shared_secret(secret, admin_name, uuid.uuid4().hex, admin=True)
    admin.use_token(registered["user_id"], registered["access_token"], registered.get("device_id"))
    pool = gevent.pool.Pool(args.setup_concurrency)

    def make_user(index: int) -> Account:
        # Registered like the admin (one password hash each), which gives every client a device of its own:
        # sliding sync keeps its connection state per device.
        registered = world.client().register_with_shared_secret(secret, f"load-{run_id}-{index}", uuid.uuid4().hex)
        if not args.no_ratelimit_override:
            admin.admin_lift_ratelimit(registered["user_id"])
        return Account(index, registered["user_id"], registered["access_token"])

    world.accounts = sorted(pool.map(make_user, range(args.users)), key=lambda a: a.index)
    print(f"setup: {len(world.accounts)} users in {time.time() - started:.0f}s", flush=True)

    clients = []
    for account in world.accounts:
        client = world.client(index=account.index)
        client.use_token(account.user_id, account.token)
        clients.append(client)

    def add_room(kind: str, members: list[int], room_id: str) -> None:
        world.room_members[room_id] = members
        world.room_kind[room_id] = kind
        for member in members:
            world.accounts[member].rooms[kind].append(room_id)

    order = list(range(args.users))
    world.random.shuffle(order)
    plans: list[tuple[str, list[int]]] = []
    plans += [("dm", order[i:i + 2]) for i in range(0, len(order) - 1, 2)]
    plans += [("small", order[i:i + args.small_room_size]) for i in range(0, len(order), args.small_room_size)
              if len(order[i:i + args.small_room_size]) >= 3]
    large_size = min(args.large_room_size, args.users)
    plans += [("large", world.random.sample(range(args.users), large_size)) for _ in range(args.large_rooms)]

    def make_room(plan: tuple[str, list[int]]) -> None:
        kind, members = plan
        creator, others = clients[members[0]], members[1:]
        if kind == "dm":  # as clients create direct chats: an invite, then the join
            room_id = creator.create_room(preset="trusted_private_chat", invite=[world.accounts[o].user_id for o in others], is_direct=True)
        else:  # groups: public join rule, members join directly
            room_id = creator.create_room(preset="public_chat", name=f"load {kind}")
        for other in others:
            clients[other].join(room_id)
        add_room(kind, members, room_id)

    pool.map(make_room, plans)
    counts = {kind: sum(1 for k in world.room_kind.values() if k == kind) for kind in ROOM_KINDS}
    print(f"setup: rooms {counts} in {time.time() - started:.0f}s", flush=True)
    return {"run_id": run_id, "seconds": round(time.time() - started, 1), "users": args.users, "rooms": counts,
            "room_sizes": {"dm": 2, "small": args.small_room_size, "large": large_size}}


# ------------------------------------------------------------------------------------------- client
WORLD: World | None = None


class MatrixUser(HttpUser):
    """One client: a sync loop (its own HTTP session, like a client's long-poll connection) and a sender."""

    host = "http://loopback.invalid"  # replaced by Environment(host=...)

    def on_start(self) -> None:
        world = WORLD
        assert world is not None
        self.world = world
        self.account = world.accounts[next(world.next_client) % len(world.accounts)]
        self.matrix = world.client(self.client, self.account.index)
        self.matrix.use_token(self.account.user_id, self.account.token)
        sync_session = HttpSession(base_url=self.host, request_event=self.environment.events.request, user=self)
        self.syncer = world.client(sync_session, self.account.index)
        self.syncer.use_token(self.account.user_id, self.account.token)
        self.sliding = self.account.index < round(world.args.users * world.args.sliding_sync_share)
        self.via = "sliding sync" if self.sliding else "sync"
        weights = {kind: w for kind, w in world.args.room_mix.items() if self.account.rooms[kind]}
        self.kinds, self.weights = list(weights), list(weights.values())
        self.random = random.Random(world.args.seed * 100003 + self.account.index)
        self.seq = 0
        self.next_send: float | None = None
        self.sync_loop = gevent.spawn(self.run_sync)

    def on_stop(self) -> None:
        self.sync_loop.kill(block=False)

    # Receiving --------------------------------------------------------------------------------------
    def handle_events(self, room_id: str, events: list[dict], backfill: bool = False) -> None:
        for event in events:
            load_id = (event.get("content") or {}).get("load_id") if event.get("type") == "m.room.message" else None
            if load_id:
                self.world.tracker.seen(self.account.index, load_id, self.via, backfill)

    def backfill(self, room_id: str, prev_batch: str | None) -> None:
        """A limited timeline skipped events: fetch them as a client scrolling back would."""
        self.world.tracker.limited_timelines += 1
        if prev_batch:
            self.handle_events(room_id, self.syncer.messages(room_id, limit=1000, since=prev_batch), backfill=True)

    def run_sync(self) -> None:
        args = self.world.args
        first = True
        while True:
            try:
                if self.sliding:
                    self.sliding_sync_forever(args)
                else:
                    self.sync_forever(args)
            except (MatrixError, requests.RequestException, ValueError) as error:
                # A failed sync is counted by Locust; the client retries like a real one, after a pause.
                if first:
                    print(f"client {self.account.index}: sync failed: {error}", file=sys.stderr, flush=True)
                    first = False
                gevent.sleep(2)

    def mark_ready(self) -> None:
        if not getattr(self, "is_ready", False):
            self.is_ready = True
            self.world.ready += 1
            if self.world.ready >= len(self.world.accounts):
                self.world.all_ready.set()

    def sync_forever(self, args: argparse.Namespace) -> None:
        if not getattr(self, "filter_id", None):
            # Element Web's shape: a stored filter with a bounded timeline, lazy-loaded members.
            self.filter_id = self.syncer.upload_filter({"room": {"timeline": {"limit": args.timeline_limit},
                                                                 "state": {"lazy_load_members": True}}})
        since = getattr(self, "since", None)
        while True:
            body = self.syncer.sync(since, 0 if since is None else args.sync_timeout_ms, self.filter_id)
            for room_id, room in (body.get("rooms") or {}).get("join", {}).items():
                timeline = room.get("timeline") or {}
                if timeline.get("limited") and since is not None:
                    self.backfill(room_id, timeline.get("prev_batch"))
                self.handle_events(room_id, timeline.get("events") or [])
            since = self.since = body["next_batch"]
            self.mark_ready()

    def sliding_sync_forever(self, args: argparse.Namespace) -> None:
        # Element X's shape: one list over all rooms by recency, a few state events, timeline and extensions.
        request = {
            "lists": {"all": {"ranges": [[0, 99]], "timeline_limit": args.timeline_limit,
                              "required_state": [["m.room.create", ""], ["m.room.name", ""], ["m.room.member", "$LAZY"],
                                                 ["m.room.encryption", ""], ["m.room.power_levels", ""]]}},
            "extensions": {"to_device": {"enabled": True}, "e2ee": {"enabled": True}, "account_data": {"enabled": True},
                           "receipts": {"enabled": True}, "typing": {"enabled": True}},
        }
        pos = getattr(self, "pos", None)
        while True:
            try:
                body = self.syncer.sliding_sync(request, pos, 0 if pos is None else args.sync_timeout_ms)
            except MatrixError as error:
                if error.status != 400 or "M_UNKNOWN_POS" not in str(error):
                    raise
                # The server dropped the connection state: start over as Element X does. The fresh
                # response repeats recent timeline events, which are then no duplicates.
                pos = self.pos = None
                self.restarted = True
                continue
            for room_id, room in (body.get("rooms") or {}).items():
                if room.get("limited") and pos is not None and not room.get("initial"):
                    self.backfill(room_id, room.get("prev_batch"))
                repeated = pos is None and getattr(self, "restarted", False)
                self.handle_events(room_id, room.get("timeline") or [], backfill=repeated)
            pos = self.pos = body["pos"]
            self.mark_ready()

    # Sending ----------------------------------------------------------------------------------------
    def wait_time(self) -> float:
        """Each client's sends on a fixed schedule, the first at a random point of one interval after every
        client syncs, so all clients together send --message-rate per second, evenly spread."""
        world = self.world
        if not world.go.is_set():
            return 0.2
        now = time.time()
        self.next_send = now + self.random.uniform(0, world.interval) if self.next_send is None else self.next_send + world.interval
        return max(0.0, self.next_send - now)

    @task
    def send(self) -> None:
        world = self.world
        if not world.sending or self.next_send is None:  # not yet scheduled: wait_time sets the first send
            return
        if self.kinds:
            self.send_message()
        media_share = world.args.media_rate / world.args.message_rate if world.args.message_rate else 1.0
        if world.args.media_rate and self.random.random() < media_share:
            self.send_media()

    def send_message(self) -> None:
        world = self.world
        kind = self.random.choices(self.kinds, self.weights)[0]
        room_id = self.random.choice(self.account.rooms[kind])
        self.seq += 1
        load_id = f"{self.account.index}:{self.seq}:{uuid.uuid4().hex[:8]}"
        txn = uuid.uuid4().hex
        world.tracker.sending(load_id, room_id, self.account.index, world.room_members[room_id])
        content = {"msgtype": "m.text", "body": f"load message {load_id}", "load_id": load_id}
        for attempt in range(3):
            try:
                response = self.matrix.send_event(room_id, content, txn, ok=False)
            except requests.RequestException:
                continue
            if response.status_code == 200:
                world.tracker.sent(load_id, True)
                return
            if response.status_code == 429:
                gevent.sleep(min(5.0, (response.json() or {}).get("retry_after_ms", 1000) / 1000))
            elif response.status_code < 500:
                break
        world.tracker.sent(load_id, False)

    def send_media(self) -> None:
        data = os.urandom(self.world.args.media_size)
        media = self.world.tracker.media
        try:
            uri = self.matrix.upload(data, "application/octet-stream", "load.bin")
            media["uploaded"] += 1
            downloaded = self.matrix.download(uri)
            media["downloaded"] += 1
            if downloaded != data:
                media["mismatched"] += 1
        except (MatrixError, requests.RequestException):
            pass  # counted by Locust as a failed request


# ----------------------------------------------------------------------------------------- reporting
def class_stats(env: Environment, seconds: float) -> dict:
    result = {}
    for (name, method), entry in sorted(env.stats.entries.items()):
        if entry.num_requests == 0 and entry.num_failures == 0:
            continue
        result[name] = {
            "method": method, "requests": entry.num_requests, "failures": entry.num_failures,
            "rate_per_s": round(entry.num_requests / seconds, 2) if seconds else None,
            "p50_ms": entry.get_response_time_percentile(0.50), "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99), "avg_ms": round(entry.avg_response_time, 1),
        }
    return result


def error_stats(env: Environment) -> dict:
    """Failures by HTTP status (Locust records an HTTPError naming it) or by exception type."""
    by_status: dict[str, int] = {}
    detail = []
    for error in env.stats.errors.values():
        text = str(error.error)
        match = re.search(r"HTTPError\('(\d{3}) ", text)
        status = match.group(1) if match else text.split("(", 1)[0]
        by_status[status] = by_status.get(status, 0) + error.occurrences
        detail.append({"class": error.name, "method": error.method, "error": text[:300], "count": error.occurrences})
    return {"by_status": by_status, "detail": sorted(detail, key=lambda d: -d["count"])}


def progress(env: Environment, world: World, interval: int) -> None:
    while True:
        gevent.sleep(interval)
        tracker = world.tracker
        phase = "sending" if world.sending else ("draining" if "stop" in world.window else "starting")
        elapsed = time.time() - world.window.get("start", time.time())
        total = env.stats.total
        p95 = percentiles(tracker.delivery_ms["sync"] + tracker.delivery_ms["sliding sync"])["p95"]
        print(f"[{phase} {elapsed:5.0f}s] clients {env.runner.user_count}/{world.args.users} ready {world.ready}"
              f" | {total.current_rps:6.1f} req/s, {total.num_failures} failed | sent {len(tracker.messages)}"
              f" outstanding {tracker.outstanding()} dup {tracker.duplicates} | send p95 {percentiles(tracker.send_ms)['p95']} ms"
              f" delivered p95 {p95} ms", flush=True)


def main(argv: list[str]) -> int:
    global WORLD
    args = parser().parse_args(argv)
    if not args.registration_secret_file.is_file():
        print(f"error: --registration-secret-file: {args.registration_secret_file} is not a file", file=sys.stderr)
        return 2
    if args.large_rooms < 0:
        print("error: --large-rooms: expected a number >= 0", file=sys.stderr)
        return 2
    if args.users < 2:
        print("error: --users: at least 2 clients are needed (rooms have members)", file=sys.stderr)
        return 2
    world = WORLD = World(args)
    started_at = datetime.now(timezone.utc)
    try:
        setup = setup_world(world)
    except (MatrixError, requests.RequestException, OSError) as error:
        print(f"error: setup failed: {error}", file=sys.stderr)
        return 2

    # Each client sends every users/rate seconds, so all together send --message-rate per second.
    world.interval = args.users / (args.message_rate or args.media_rate or 1.0)
    env = Environment(user_classes=[MatrixUser], host=args.url.rstrip("/"), catch_exceptions=True)
    env.events.request.add_listener(world.count_backend)
    runner = env.create_local_runner()
    printer = gevent.spawn(progress, env, world, args.progress_interval)
    runner.start(args.users, spawn_rate=args.spawn_rate)
    if not world.all_ready.wait(timeout=args.ready_timeout):
        print(f"error: only {world.ready} of {args.users} clients finished their initial sync within {args.ready_timeout}s", file=sys.stderr)
        runner.quit()
        printer.kill()
        return 2

    env.stats.reset_all()  # the measured window starts here: initial syncs and setup are not in it
    world.window["start"] = time.time()
    world.sending = True
    world.go.set()
    print(f"all {args.users} clients syncing: sending for {args.duration}s", flush=True)
    gevent.sleep(args.duration)
    world.sending = False
    world.window["stop"] = time.time()
    window_seconds = world.window["stop"] - world.window["start"]
    classes = class_stats(env, window_seconds)
    drain_deadline = time.time() + args.drain_seconds
    while time.time() < drain_deadline and world.tracker.outstanding() > 0:
        gevent.sleep(0.5)
    gevent.sleep(1)  # a last sync round shows any duplicate of the final messages
    world.window["drained"] = time.time()
    runner.quit()
    printer.kill()

    tracker = world.tracker
    messages = tracker.summary()
    errors = error_stats(env)
    measured_requests = sum(c["requests"] for name, c in classes.items())
    failed_requests = sum(c["failures"] for c in classes.values())
    error_rate = failed_requests / measured_requests if measured_requests else 0.0
    checks = {
        "no_lost_messages": messages["lost"] == 0,
        "no_duplicated_messages": messages["duplicated"] == 0,
        "messages_sent": messages["sent"] > 0 or args.message_rate == 0,
        "media_intact": tracker.media["mismatched"] == 0,
        "error_rate_within_limit": error_rate <= args.max_error_rate,
    }
    result = {
        "tool": {"name": "matrix-platform load (scripts/load)", "locust": locust.__version__, "python": platform.python_version()},
        "started": started_at.isoformat(timespec="seconds"),
        "target": args.url,
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "registration_secret_file"},
        "setup": setup,
        "window": {"start": world.window["start"], "stop": world.window["stop"], "drained": world.window["drained"],
                   "seconds": round(window_seconds, 1)},
        "clients": {"sync": args.users - round(args.users * args.sliding_sync_share), "sliding_sync": round(args.users * args.sliding_sync_share)},
        "classes": classes,
        "backends": [{"class": name, "backend": backend, "requests": count} for (name, backend), count in sorted(world.backends.items())],
        "latency_ms": {"send": percentiles(tracker.send_ms),
                       "send_to_delivered": percentiles(tracker.delivery_ms["sync"] + tracker.delivery_ms["sliding sync"]),
                       "send_to_delivered_sync": percentiles(tracker.delivery_ms["sync"]),
                       "send_to_delivered_sliding_sync": percentiles(tracker.delivery_ms["sliding sync"])},
        "messages": messages,
        "media": tracker.media,
        "errors": errors,
        "error_rate": round(error_rate, 5),
        "checks": checks,
        "passed": all(checks.values()),
    }
    args.result.parent.mkdir(parents=True, exist_ok=True)
    args.result.write_text(json.dumps(result, indent=1) + "\n")
    if args.csv:
        from locust.stats import StatsCSVFileWriter
        StatsCSVFileWriter(env, locust.stats.PERCENTILES_TO_REPORT, args.csv, full_history=False).stats_writer()

    print("\nendpoint class              requests  failed   req/s    p50    p95    p99 (ms)")
    for name, c in classes.items():
        print(f"  {name:<25} {c['requests']:>8} {c['failures']:>7} {c['rate_per_s']:>7} {c['p50_ms']:>6} {c['p95_ms']:>6} {c['p99_ms']:>6}")
    for label, key in (("send", "send"), ("send -> delivered", "send_to_delivered")):
        lat = result["latency_ms"][key]
        print(f"{label:<20} p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms ({lat['count']} samples)")
    print(f"messages: {messages['sent']} sent, {messages['expected_deliveries']} deliveries expected, {messages['delivered']} delivered,"
          f" {messages['lost']} lost, {messages['duplicated']} duplicated; media {tracker.media}")
    print(f"errors by status: {errors['by_status'] or 'none'}; error rate {error_rate:.4f}")
    print(f"{'PASS' if result['passed'] else 'FAIL'}: {', '.join(k for k, v in checks.items() if not v) or 'all checks hold'}; result in {args.result}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
