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
   worker-servable fails here until the route table has been reviewed.

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
# Processes that are not generic workers as far as the enumeration is concerned.
SKIPPED_BACKENDS = {"synapse-media"}
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
    method_acls = dict(re.findall(r"^\s*acl (method_\S+) method (\S+)\s*$", text, re.M))
    routes = []
    for backend, condition in re.findall(r"^\s*use_backend (\S+) if (.+?)\s*$", text, re.M):
        words = condition.split()
        route_acl = next(word for word in words if word.startswith("route_"))
        methods = tuple(method_acls[word] for word in words if word in method_acls)
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


def enumerate_servlets(homeserver: dict) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(method, regex) registered on main and on a generic worker that writes every stream."""
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
    return set(main), set(worker)


def methods_at(registrations: set[tuple[str, str]], path: str) -> set[str]:
    return {method for method, regex in registrations if method in METHODS and re.match(regex, path)}


def main() -> int:
    homeserver_path, haproxy_path, by_choice_path = sys.argv[1:4]
    homeserver = yaml.safe_load(open(homeserver_path))
    routes = parse_haproxy(open(haproxy_path).read())
    by_choice = json.load(open(by_choice_path))
    main_regs, worker_regs = enumerate_servlets(homeserver)
    findings: list[str] = []

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
          f"{len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
