"""Synapse upgrade under traffic (docs/operations.md, upgrade Synapse). Runs first: run.sh starts the stack
on the previous release (SYNAPSE_PREVIOUS_VERSION, IT_SYNAPSE_START_VENV) and this test upgrades it to the
pinned one in the order the manifests impose, so every later scenario runs on the upgraded stack.

Order, as GitOps applies dist/: stage 35-synapse-main first (main is Recreate: the old main stops, the new
one migrates the schema and answers /health), then stage 40-apps, where every workload rolls at once, each
StatefulSet one pod at a time from the highest ordinal, each pod running its init containers
(passfile, wait-for-schema, wait-for-main) with the new image before the new process starts. A worker of
the new version that starts early (before main migrated) must wait in wait-for-schema, not fail.

Asserted: every message sent before, during and after the upgrade is in the room exactly once; every
Synapse process was started exactly twice (its first start and its own rollout) and no old process died
before its rollout; the time main did not answer /health is measured and reported."""
from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import stack as stack_module
from conftest import WORK

ROOT = Path(__file__).resolve().parents[2]


def pinned(name: str) -> str:
    text = (ROOT / "lib" / "versions.ts").read_text()
    return next(line.split("'")[1] for line in text.splitlines() if line.startswith(f"export const {name} = "))


def synapse_version(python: str) -> str:
    return subprocess.run([python, "-c", "import synapse; print(synapse.__version__)"], capture_output=True, text=True, check=True).stdout.strip()


def record_measurements(values: dict) -> None:
    path = WORK / "measurements.json"
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(values)
    path.write_text(json.dumps(current, indent=1))


def starts_per_process() -> Counter:
    return Counter(line.split(" ", 1)[1] for line in (WORK / "pgids").read_text().splitlines() if " " in line)


class MainProbe(threading.Thread):
    """Polls main's /health every 100 ms; unavailable = the summed time between failed and next good answers."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.stop, self.unavailable, self.down_since = url, threading.Event(), 0.0, None

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                healthy = stack_module.http_ok(self.url)
            except OSError:
                healthy = False
            now = time.time()
            if not healthy and self.down_since is None:
                self.down_since = now
            elif healthy and self.down_since is not None:
                self.unavailable += now - self.down_since
                self.down_since = None
            time.sleep(0.1)


def rollout_order(processes: list[str], workloads: dict[str, str]) -> dict[str, list[str]]:
    """Per workload, the pods in the order a StatefulSet replaces them (highest ordinal first)."""
    order: dict[str, list[str]] = {}
    for process in processes:
        order.setdefault(workloads[process], []).append(process)
    return {pool: sorted(members, key=lambda n: int(n.rsplit("-", 1)[1]), reverse=True) for pool, members in order.items()}


def test_synapse_upgrade_main_first_under_traffic(stack, new_client):
    running = stack_module.Stack.load(WORK)
    target_python = str(stack_module.VENV_BIN / "python")
    start_version, target_version = synapse_version(running.synapse_python), synapse_version(target_python)
    if start_version == target_version:
        pytest.skip(f"the stack runs {target_version} already (start it with IT_SYNAPSE_START_VENV=<venv.sh previous>)")
    assert start_version == pinned("SYNAPSE_PREVIOUS_VERSION") and target_version == pinned("SYNAPSE_VERSION")
    workers = [p for p in stack["synapse_processes"] if p != "main"]
    old_pids = {p: stack["specs"][p]["pid"] for p in stack["synapse_processes"]}
    starts_before = starts_per_process()

    alice, bob = new_client("upgrade"), new_client("upgradebob")
    room_id = alice.json("POST", "/_matrix/client/v3/createRoom", json={"preset": "private_chat", "name": "upgrade"})["room_id"]
    alice.request("POST", f"/_matrix/client/v3/rooms/{room_id}/invite", json={"user_id": bob.user_id})
    bob.request("POST", f"/_matrix/client/v3/join/{room_id}", json={})
    expected = [f"before upgrade {i}" for i in range(20)]
    for i, body in enumerate(expected):
        (alice if i % 2 == 0 else bob).send_text(room_id, body)

    # Traffic throughout the rollout: retried idempotently (same transaction id), as clients do.
    during: list[str] = []
    errors: list[str] = []
    stop = threading.Event()
    alice.recorded = False

    def sender():
        while not stop.is_set():
            body = f"during upgrade {len(during)}"
            try:
                alice.send_text(room_id, body, retry_for=180)
                during.append(body)
            except AssertionError as exc:
                errors.append(str(exc))
                return
            time.sleep(0.2)
    traffic = threading.Thread(target=sender, daemon=True)
    traffic.start()
    main_info = stack["processes"]["main"]
    probe = MainProbe(f"http://{main_info['ip']}:8008/health")
    probe.start()
    time.sleep(2)
    started = time.time()
    try:
        # A worker pod of the new version that starts before main migrated (plain `kubectl apply` of
        # everything, a rescheduled pod): its wait-for-schema init container waits.
        early = workers[0]
        pod, _ = running.synapse_pod(early)
        init = next(c for c in pod.spec["initContainers"] if c["name"] == "wait-for-schema")
        pod.prepare([*pod.spec["initContainers"], pod.spec["containers"][0]])
        env = pod.env(init)
        env["POD_NAME"] = early
        running.synapse_python = target_python
        early_log = WORK / "logs" / f"{early}-early-wait-for-schema.log"
        with open(early_log, "wb") as log:
            waiting = subprocess.Popen(pod.command(init, env), env={"PATH": "/usr/bin:/bin", **env}, stdout=log, stderr=subprocess.STDOUT)
        stack_module.wait_for(f"{early}'s wait-for-schema to report that it waits",
                              lambda: "waiting for synapse main to migrate" in early_log.read_text(), 60, interval=0.5)
        assert waiting.poll() is None, f"wait-for-schema exited while the schema was old:\n{early_log.read_text()[-1500:]}"
        assert all(stack_module.group_alive(old_pids[p]) for p in workers), "an old worker stopped before its rollout"

        # Stage 35-synapse-main: main (Recreate).
        main_rollout = time.time()
        stack["specs"]["main"] = running.roll_synapse("main", target_python)
        running.wait_synapse("main", timeout=600)
        main_ready = time.time()
        assert waiting.wait(timeout=60) == 0, f"wait-for-schema did not pass after main migrated:\n{early_log.read_text()[-1500:]}"
        waited = early_log.read_text()

        # Stage 40-apps: every workload at once, each one pod at a time.
        workloads = {p: stack["processes"][p]["pool"] for p in workers}

        def roll(pool_members: list[str]) -> None:
            for process in pool_members:
                assert stack_module.group_alive(old_pids[process]), f"old {process} died before its own rollout"
                spec = running.roll_synapse(process, target_python)
                stack["specs"][process] = spec
                running.wait_synapse(process, timeout=300)
        with ThreadPoolExecutor(max_workers=4) as pool:
            for done in [pool.submit(roll, members) for members in rollout_order(workers, workloads).values()]:
                done.result()
        finished = time.time()
        stack_module.wait_router_states(running.state)
        time.sleep(2)
    finally:
        stop.set()
        traffic.join(timeout=200)
        probe.stop.set()
        probe.join()
        running.save()
        alice.recorded = True
    assert not errors, f"sending failed during the upgrade: {errors[:3]}"
    assert during, "no message was sent during the upgrade"
    expected += during
    after = [f"after upgrade {i}" for i in range(20)]
    for i, body in enumerate(after):
        (alice if i % 2 == 0 else bob).send_text(room_id, body)
    expected += after

    bodies = [e["content"].get("body") for e in bob.messages(room_id)]
    counts = Counter(bodies)
    assert not [b for b, n in counts.items() if n > 1], f"duplicated messages: {[b for b, n in counts.items() if n > 1][:5]}"
    assert sorted(bodies) == sorted(expected), f"missing {sorted(set(expected) - set(bodies))[:5]}, extra {sorted(set(bodies) - set(expected))[:5]}"

    starts = starts_per_process() - starts_before
    assert {p: starts[p] for p in stack["synapse_processes"]} == {p: 1 for p in stack["synapse_processes"]}, \
        f"restarts beyond the rollout: {dict(starts)}"
    for process in stack["synapse_processes"]:
        assert stack_module.group_alive(stack["specs"][process]["pid"]), f"{process} is not running after the upgrade"
        assert synapse_version(stack["specs"][process]["argv"][0]) == target_version
    measured = {"upgrade_from_to": f"{start_version} -> {target_version}", "upgrade_seconds": round(finished - started, 1),
                "upgrade_main_rollout_seconds": round(main_ready - main_rollout, 1),
                "upgrade_main_unavailable_seconds": round(probe.unavailable, 1),
                "upgrade_messages_checked": len(expected), "upgrade_messages_during": len(during),
                "upgrade_early_worker_waited": "waiting for synapse main to migrate" in waited}
    record_measurements(measured)
    print(json.dumps(measured))
