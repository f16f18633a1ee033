"""Compares the router's route table with the endpoints the pinned Synapse really registers.

Run by scripts/check-synapse-config.sh inside the venv of the pinned matrix-synapse:

    python scripts/check_worker_routes.py HOMESERVER_YAML HAPROXY_CFG MAIN_BY_CHOICE_JSON

It uses the servlet enumeration of `synapse._scripts.generate_workers_map` (the script Synapse ships to
produce docs/workers.md), but keeps the servlets' exact regexes instead of the script's simplified
output, and checks both directions:

1. Soundness: every (route, method) the router sends to a worker is registered on a generic worker
   for every method main registers at that path (a worker that lacks a method answers 404/405 or
   fails, e.g. POST .../delayed_events/<id> or PUT .../pushrules/...).
2. Completeness: every endpoint a generic worker can serve is routed to a worker, unless it is listed in
   MAIN_BY_CHOICE (lib/model/routes.ts) with a reason. A Synapse upgrade that makes more endpoints
   worker-servable fails here until the route table has been reviewed. Rules that send requests to
   main explicitly (writes of a stream main writes, lib/model/routes.ts StreamWriteRoute) are choices
   the table states, not omissions.
3. Stream writers: every write (PUT, POST, DELETE) to a servlet whose CATEGORY names a stream reaches
   only processes that `stream_writers` (as the real Synapse config parser reads it) lists for that
   stream; main is `master`. A servlet category the check does not know fails, so a Synapse upgrade
   that adds one is reviewed. Run it for configs with the writer pools at 0 and at >= 1.
4. Main's background updates: a stream that a background update scheduled by the pinned Synapse's
   schema deltas writes must list main (`master`) among its writers (they run only on main).

The enumeration has no media repository, admin API, local key server or SSO endpoints; routes to media
workers, /_synapse/ and /_matrix/key/v2/server are skipped (the media resource is checked by the
per-process config check).
Exit status 1 on any finding.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from dataclasses import dataclass

try:  # Python 3.11+
    import re._parser as sre_parse  # type: ignore[import-not-found]
    from re._constants import (  # type: ignore[import-not-found]
        ANY, AT, BRANCH, IN, LITERAL, MAX_REPEAT, MIN_REPEAT, NEGATE, NOT_LITERAL, RANGE, SUBPATTERN, CATEGORY,
    )
except ImportError:  # Python 3.10
    import sre_parse  # type: ignore[no-redef]
    from sre_constants import (  # type: ignore[no-redef]
        ANY, AT, BRANCH, IN, LITERAL, MAX_REPEAT, MIN_REPEAT, NEGATE, NOT_LITERAL, RANGE, SUBPATTERN, CATEGORY,
    )

import attr
import yaml

# Example values for the servlets' named groups, so that sample paths look like real requests.
GROUP_SAMPLES = {
    "room_id": "!room:example.org",
    "room_alias": "#alias:example.org",
    "room_identifier": "!room:example.org",
    "event_id": "$event",
    "user_id": "@alice:example.org",
    "target_user_id": "@bob:example.org",
    "origin": "remote.example",
    "server_name": "remote.example",
}
# Processes that are not generic workers as far as the enumeration is concerned. Rules that name main
# explicitly (stream writes whose stream main writes) are deliberate: main serves every endpoint.
MAIN_BACKEND = "synapse-main"
SKIPPED_BACKENDS = {"synapse-media", MAIN_BACKEND}
METHODS = ("GET", "PUT", "POST", "DELETE")


def sample_paths(pattern: str) -> list[str]:
    """Concrete paths matched by `pattern`: one per alternative of each alternation (versions...)."""
    parsed = sre_parse.parse(pattern)
    names = {index: name for name, index in parsed.state.groupdict.items()}

    def render(items) -> list[str]:
        results = [""]
        for op, arg in items:
            results = [prefix + part for prefix in results for part in render_item(op, arg)]
        return results

    def render_item(op, arg) -> list[str]:
        if op == LITERAL:
            return [chr(arg)]
        if op == ANY:  # a bare `.` in a path pattern stands for a dot (im.nheko.summary)
            return ["."]
        if op == NOT_LITERAL:
            return ["x"]
        if op == IN:
            return [render_class(arg)]
        if op == AT:
            return [""]
        if op == BRANCH:
            return [sample for branch in arg[1] for sample in render(branch)]
        if op == SUBPATTERN:
            group, _add, _del, sub = arg
            name = names.get(group)
            value = GROUP_SAMPLES.get(name or "")
            if value is not None and re.fullmatch(sre_pattern_text(pattern, name), value):
                return [value]
            return render(sub)
        if op in (MAX_REPEAT, MIN_REPEAT):
            low, _high, sub = arg
            if low == 0 and is_single_char(sub):
                return ["x"]  # `.*`, `[^/]*`: one path segment
            if low == 0:
                return [""]  # an optional part is left out
            return [sample * low for sample in render(sub)]
        raise ValueError(f"unsupported regex construct {op} in {pattern}")

    def render_class(items) -> str:
        if any(op == NEGATE for op, _ in items):
            return "x"
        for op, arg in items:
            if op == LITERAL:
                return chr(arg)
            if op == RANGE:
                return chr(arg[0])
        return "x"

    def is_single_char(sub) -> bool:
        return len(sub) == 1 and sub[0][0] in (ANY, IN, NOT_LITERAL, LITERAL)

    return render(parsed)


def sre_pattern_text(pattern: str, group: str) -> str:
    """The sub-pattern of a named group, to check that an example value fits it."""
    match = re.search(r"\(\?P<%s>(.+?)\)" % re.escape(group), pattern)
    return match.group(1) if match else ".*"


@dataclass(frozen=True)
class Route:
    acl: str
    pattern: str
    backend: str
    methods: tuple[str, ...]  # empty: any method


def parse_haproxy(text: str) -> list[Route]:
    acls = dict(re.findall(r"^\s*acl (route_\S+) path_reg (\S+)\s*$", text, re.M))
    method_acls = {name: values.split() for name, values in re.findall(r"^\s*acl (method_\S+) method (.+?)\s*$", text, re.M)}
    routes = []
    for backend, condition in re.findall(r"^\s*use_backend (\S+) if (.+?)\s*$", text, re.M):
        words = condition.split()
        route_acl = next(word for word in words if word.startswith("route_"))
        methods = tuple(method for word in words if word in method_acls for method in method_acls[word])
        routes.append(Route(route_acl, acls[route_acl], backend, methods))
    return routes


def route_of(routes: list[Route], method: str, path: str) -> Route | None:
    """The first matching route (HAProxy evaluates use_backend rules in order); None: main."""
    for route in routes:
        if route.methods and method not in route.methods:
            continue
        if re.search(route.pattern, path):
            return route
    return None


# Paths outside the enumeration: admin APIs and the local key server (KeyResource, mounted with every
# `federation` or `keys` listener resource).
SKIPPED_PREFIXES = ("^/_synapse/", "^/_matrix/key/v2/server")


def skipped(route: Route) -> bool:
    return route.backend in SKIPPED_BACKENDS or route.pattern.startswith(SKIPPED_PREFIXES)


def enumerate_servlets(homeserver: dict) -> tuple[dict, dict]:
    """(method, regex) -> EndpointDescription registered on main and on a generic worker that writes every stream."""
    logging.disable(logging.CRITICAL)
    from synapse._scripts import generate_workers_map as gwm
    from synapse.config.homeserver import HomeServerConfig

    config = dict(homeserver)
    # The enumeration builds in-memory homeservers: no database, no Redis. Process placement keys are
    # dropped so the mock worker (instance "master") is the writer of every stream, like the process
    # the router sends a stream's endpoints to.
    config["database"] = {"name": "sqlite3", "args": {"database": ":memory:"}}
    config["redis"] = {"enabled": False}
    for key in ("stream_writers", "instance_map", "federation_sender_instances", "pusher_instances",
                "run_background_tasks_on", "update_user_directory_from_worker",
                "media_instance_running_background_jobs", "notify_appservices_from_worker"):
        config.pop(key, None)
    parsed = HomeServerConfig()
    parsed.parse_config_dict(config, "", "")
    main = gwm.get_registered_paths_for_default(None, parsed)
    worker = gwm.get_registered_paths_for_default("synapse.app.generic_worker", parsed)
    return main, worker


# Servlet categories (the CATEGORY constant generate_workers_map reads) that name a stream: writes to
# these servlets must reach a writer of the stream. Every other category Synapse uses is listed as not
# stream-bound; a category in neither set is a finding.
CATEGORY_STREAMS = {
    "The typing stream": "typing",
    "The to_device stream": "to_device",
    "Receipts requests": "receipts",
    "Account data requests": "account_data",
    "Presence requests": "presence",
    "Push rule requests": "push_rules",
    "Thread Subscriptions requests (unstable)": "thread_subscriptions",
}
OTHER_CATEGORIES = {
    None,
    "Client API requests",
    "Client API requests (ALL FOR SAME ROOM MUST GO TO SAME WORKER)",
    "Delayed event management requests",
    "Encryption requests",
    "Event sending requests",
    "Federation requests",
    "Federation requests (unstable)",
    "Inbound federation transaction request",
    "Registration/login requests",
    "SSO requests needed for all SSO providers",
    "Sync requests",
    "User directory search requests",
}
WRITE_METHODS = ("PUT", "POST", "DELETE")
# Main's instance name (synapse.config.workers.MAIN_PROCESS_INSTANCE_NAME).
MAIN_WRITER = "master"
# Background updates that write a stream (they run only on main).
BACKGROUND_UPDATE_STREAMS = {"flag_existing_quarantined_media": "quarantined_media_changes"}


def stream_writers(homeserver: dict) -> dict[str, list[str]]:
    """The writers of every stream as the pinned Synapse parses this homeserver.yaml."""
    from synapse.config.homeserver import HomeServerConfig
    from synapse.config.workers import MAIN_PROCESS_INSTANCE_NAME

    assert MAIN_PROCESS_INSTANCE_NAME == MAIN_WRITER, MAIN_PROCESS_INSTANCE_NAME
    config = dict(homeserver)
    config["database"] = {"name": "sqlite3", "args": {"database": ":memory:"}}
    config["redis"] = {"enabled": False}
    parsed = HomeServerConfig()
    parsed.parse_config_dict(config, "", "")
    writers = parsed.worker.writers
    return {field.name: list(getattr(writers, field.name)) for field in attr.fields(type(writers))}


def backend_instances(text: str) -> dict[str, list[str]]:
    """Backend name -> the Synapse instance names of its servers (main's server is `master`)."""
    result: dict[str, list[str]] = {}
    for block in re.split(r"^backend ", text, flags=re.M)[1:]:
        name = block.split("\n", 1)[0].strip()
        servers = re.findall(r"^\s*server (\S+) ", block, re.M)
        result[name] = [MAIN_WRITER if server == "synapse-main" else server for server in servers]
    return result


def scheduled_background_updates() -> set[str]:
    """Names of the background updates the pinned Synapse's schema deltas schedule."""
    import pathlib

    import synapse.storage.schema as schema

    names: set[str] = set()
    for path in pathlib.Path(schema.__file__).parent.rglob("*.sql*"):
        names.update(re.findall(r"'([a-z0-9_]+)'", path.read_text(errors="replace")))
    return names


def methods_at(registrations, path: str) -> set[str]:
    return {method for method, regex in registrations if method in METHODS and re.match(regex, path)}


def main() -> int:
    homeserver_path, haproxy_path, by_choice_path = sys.argv[1:4]
    homeserver = yaml.safe_load(open(homeserver_path))
    haproxy = open(haproxy_path).read()
    routes = parse_haproxy(haproxy)
    by_choice = json.load(open(by_choice_path))
    main_regs, worker_regs = enumerate_servlets(homeserver)
    writers = stream_writers(homeserver)
    instances = backend_instances(haproxy)
    default_backend = re.search(r"^\s*default_backend (\S+)", haproxy, re.M).group(1)
    findings: list[str] = []

    # 3. Stream writers: writes to a stream's servlets reach only its writers.
    stream_writes = 0
    for (method, regex), description in sorted(main_regs.items(), key=lambda item: item[0]):
        category = description.category
        if category not in CATEGORY_STREAMS:
            if category not in OTHER_CATEGORIES:
                findings.append(f"CATEGORY {category!r} ({description.servlet_class.__name__}) is unknown; does it write a stream?")
            continue
        if method not in WRITE_METHODS:
            continue
        stream = CATEGORY_STREAMS[category]
        for path in sample_paths(regex):
            stream_writes += 1
            route = route_of(routes, method, path)
            backend = route.backend if route else default_backend
            targets = instances.get(backend, [])
            strangers = [target for target in targets if target not in writers[stream]]
            if not targets or strangers:
                findings.append(
                    f"WRITER   {method} {path} -> {backend} ({route.acl if route else 'default'}): {strangers or 'no servers'} "
                    f"do not write {stream} (writers: {writers[stream]})"
                )

    # 4. Streams written by main's background updates list main.
    scheduled = scheduled_background_updates()
    for update, stream in BACKGROUND_UPDATE_STREAMS.items():
        if update in scheduled and MAIN_WRITER not in writers[stream]:
            findings.append(f"MAIN     background update {update} writes {stream} on main, but its writers are {writers[stream]}")

    # Every endpoint Synapse registers, as concrete sample requests, through the router's table.
    hits: set[str] = set()
    for method, regex in sorted(main_regs | worker_regs):
        if method not in METHODS:
            continue
        for path in sample_paths(regex):
            if not re.match(regex, path):
                findings.append(f"INTERNAL sample {path} does not match {regex}")
                continue
            # A route is alive when it matches some endpoint, even if an earlier route takes it first
            # (the GET fallbacks behind stream writers).
            hits.update(r.acl for r in routes if (not r.methods or method in r.methods) and re.search(r.pattern, path))
            route = route_of(routes, method, path)
            if route is None:
                # 2. Completeness: a worker could serve it.
                if (method, regex) in worker_regs and not any(re.search(entry["pattern"], path) for entry in by_choice):
                    findings.append(f"ON MAIN  {method} {path}  (worker-servable: {regex}); route it or add it to MAIN_BY_CHOICE")
                continue
            if skipped(route):
                continue
            # 1. Soundness: the worker must register this method at this path.
            if method not in methods_at(worker_regs, path):
                findings.append(
                    f"UNSOUND  {method} {path} -> {route.backend} ({route.acl}), but a generic worker does not serve it "
                    f"(worker methods there: {sorted(methods_at(worker_regs, path))})"
                )
    for route in routes:
        if not skipped(route) and route.acl not in hits:
            findings.append(f"DEAD     {route.acl} ({route.pattern}) matches no endpoint Synapse registers")

    for finding in findings:
        print(finding)
    print(f"worker routes: {len(routes)} routes checked against {len(worker_regs)} worker and {len(main_regs)} main registrations, "
          f"{stream_writes} stream writes against stream_writers {json.dumps({k: v for k, v in writers.items()}, sort_keys=True)}, "
          f"{len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
