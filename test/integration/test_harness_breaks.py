"""Self-test of the harness: deliberate breaks in a copy of dist/ must make the suite fail with a clear
message. Runs after the main stack is stopped (the same loopback addresses are reused)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("IT_WORK", "/tmp/it-dev"))
PY = os.environ.get("IT_PYTHON", sys.executable)


def broken_dist(name: str, config_map: str, key: str, edit) -> Path:
    """A copy of the suite's dist snapshot with one ConfigMap file changed by `edit`."""
    target = WORK / f"selftest-{name}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(WORK / "dist", target / "dist")
    for file in (target / "dist").rglob("*.yaml"):
        docs = list(yaml.safe_load_all(file.read_text()))
        hit = False
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "ConfigMap" and doc["metadata"]["name"] == config_map:
                before = doc["data"][key]
                doc["data"][key] = edit(before)
                assert doc["data"][key] != before, f"the break did not change {config_map}/{key}"
                hit = True
        if hit:
            file.write_text(yaml.safe_dump_all(docs, sort_keys=False))
            return target
    raise AssertionError(f"ConfigMap {config_map} not found")


def up(target: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PY, str(HERE / "stack.py"), "up", "--work", str(target), "--dist", str(target / "dist")],
                          capture_output=True, text=True, timeout=400)


def down(target: Path) -> None:
    subprocess.run([PY, str(HERE / "stack.py"), "down", "--work", str(target)], capture_output=True, timeout=120)


def test_event_persister_missing_from_instance_map_fails_clearly():
    def drop_persister(text: str) -> str:
        config = yaml.safe_load(text)
        victim = config["stream_writers"]["events"][-1]
        del config["instance_map"][victim]
        return yaml.safe_dump(config, sort_keys=False)
    target = broken_dist("instance-map", "synapse-config", "homeserver.yaml", drop_persister)
    try:
        result = up(target)
    finally:
        down(target)
    output = result.stdout + result.stderr
    assert result.returncode != 0, "the stack started although an event persister is missing from instance_map"
    assert "instance_map" in output and "synapse-event-persister" in output, f"unclear failure message:\n{output[-3000:]}"
    print(output[-800:])


def test_route_to_the_wrong_pool_fails_clearly():
    def misroute(text: str) -> str:
        # createRoom belongs to the generic pool; send it to main instead.
        return text.replace("use_backend synapse-generic if route_create_room", "use_backend synapse-main if route_create_room")
    target = broken_dist("route", "synapse-router-config", "haproxy.cfg", misroute)
    try:
        started = up(target)
        assert started.returncode == 0, f"the broken-route stack did not start:\n{started.stdout[-2000:]}{started.stderr[-2000:]}"
        result = subprocess.run([PY, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(HERE / "test_platform.py"),
                                 "-k", "register_login or every_request"],
                                env={**os.environ, "IT_WORK": str(target)}, capture_output=True, text=True, timeout=300, cwd=HERE)
    finally:
        down(target)
    assert result.returncode == 1, f"the suite passed although createRoom is routed to main:\n{result.stdout[-2000:]}"
    assert "createRoom: served by main, route table says generic" in result.stdout, f"unclear failure message:\n{result.stdout[-3000:]}"
    print([line for line in result.stdout.splitlines() if "route table says" in line][:3])
