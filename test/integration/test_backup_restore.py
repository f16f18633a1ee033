"""Backups proven by a restore (docs/operations.md, restore from backup). Runs last: it replaces the
stack's PostgreSQL.

PostgreSQL archives every WAL segment with barman-cloud-wal-archive to the suite's S3 server, with the
bucket, folder (serverName) and compression of the generated ObjectStore and Cluster (barman_cloud.py
reads them from dist/, as the Barman Cloud plugin does). The test takes a base backup with
barman-cloud-backup, keeps sending messages, then loses the database (SIGKILL: what was not archived is
gone), restores the latest backup into a fresh data directory, replays every archived WAL segment
(barman-cloud-wal-restore as restore_command), starts Synapse main on the restored database and checks
the room: every message acknowledged before the backup, then an unbroken prefix of those sent after it,
each exactly once. RPO = seconds between the loss and the newest restored message."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

import stack as stack_module
from barman_cloud import BarmanCloud
from conftest import WORK, restart_process

TRAFFIC_SECONDS = 25
ARCHIVE_TIMEOUT_SECONDS = int(stack_module.ARCHIVE_TIMEOUT.rstrip("s"))


def run_as_postgres(argv: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=timeout,
                            user="postgres", group="postgres", cwd="/tmp")
    assert result.returncode == 0, f"{Path(argv[0]).name} failed ({result.returncode}):\n{result.stdout[-1500:]}\n{result.stderr[-1500:]}"
    return result


def room_bodies(base_url: str, token: str, room_id: str) -> list[str]:
    response = requests.get(f"{base_url}/_matrix/client/v3/rooms/{room_id}/messages?dir=b&limit=1000",
                            headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, f"/messages on the restored database -> {response.status_code} {response.text[:300]}"
    return [e["content"].get("body") for e in reversed(response.json()["chunk"]) if e["type"] == "m.room.message"]


def record_measurements(values: dict) -> None:
    path = WORK / "measurements.json"
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(values)
    path.write_text(json.dumps(current, indent=1))


def test_restore_from_archive_to_a_fresh_postgres(stack, new_client):
    running = stack_module.Stack.load(WORK)
    barman = BarmanCloud.from_dist(running.dist, stack["s3"], running.secret)
    pg = stack["postgres"]
    alice = new_client("backup")
    room_id = alice.json("POST", "/_matrix/client/v3/createRoom", json={"preset": "private_chat", "name": "backup"})["room_id"]
    before = [f"before backup {i}" for i in range(20)]
    for body in before:
        alice.send_text(room_id, body)

    started = time.time()
    # The ObjectStore leaves the daily backup's checkpoint spread out (minutes, gentle on I/O); the
    # suite asks for an immediate one, which changes when the backup starts, not what it contains.
    run_as_postgres(barman.backup(f"it-{uuid.uuid4().hex[:8]}", pg["socket"], pg["port"], immediate_checkpoint=True), barman.credentials)
    backup_seconds = time.time() - started
    backups = json.loads(run_as_postgres(barman.backup_list(), barman.credentials).stdout)["backups_list"]
    done = [b for b in backups if b.get("status") == "DONE"]
    assert done, f"no completed backup in {barman.destination_path}{barman.server_name}: {backups}"
    backup_id = done[-1]["backup_id"]

    # Traffic after the backup: only the WAL archive can bring it back.
    sent: list[tuple[str, float]] = []
    deadline = time.time() + TRAFFIC_SECONDS
    while time.time() < deadline:
        body = f"after backup {len(sent)}"
        alice.send_text(room_id, body, retry_for=10)
        sent.append((body, time.time()))
        time.sleep(0.2)
    lost_at = time.time()
    stack_module.kill_group(stack["specs"]["postgres"]["pid"], sig=signal.SIGKILL)

    # A fresh PostgreSQL from the object store: the latest base backup plus every archived segment.
    started = time.time()
    restored = WORK / "postgres-restored" / "data"
    restored.mkdir(parents=True)
    shutil.chown(restored.parent, "postgres", "postgres")
    shutil.chown(restored, "postgres", "postgres")
    os.chmod(restored, 0o700)
    run_as_postgres(barman.restore(backup_id, str(restored)), barman.credentials)
    with open(restored / "postgresql.conf", "a") as conf:
        # The restored instance replays the archive and must not archive into the folder it restores from.
        conf.write(f"archive_mode = off\nrestore_command = '{barman.restore_command()}'\nrecovery_target_timeline = 'latest'\n")
    (restored / "recovery.signal").write_text("")
    shutil.chown(restored / "recovery.signal", "postgres", "postgres")
    procs = stack_module.Processes(WORK)
    proc = procs.start("postgres-restored", [str(Path(pg["bindir"]) / "postgres"), "-D", str(restored)], barman.credentials,
                       restored.parent, user="postgres")

    def promoted():
        assert proc.poll() is None, "restored PostgreSQL exited:\n" + Path(procs.specs["postgres-restored"]["log"]).read_text()[-2000:]
        out = subprocess.run([pg["psql"], "-h", pg["socket"], "-U", "postgres", "-At", "-c", "SELECT pg_is_in_recovery()"],
                             capture_output=True, text=True, user="postgres").stdout.strip()
        return out == "f"
    stack_module.wait_for("the restored PostgreSQL to finish recovery", promoted, 180, interval=0.5,
                          log=procs.specs["postgres-restored"]["log"])
    restore_seconds = time.time() - started

    # Synapse main on the restored database.
    restart_process(stack, "main")
    main = stack["processes"]["main"]
    main_url = f"http://{main['ip']}:8008"
    stack_module.wait_for("synapse main /health on the restored database", lambda: stack_module.http_ok(f"{main_url}/health"), 180)
    bodies = room_bodies(main_url, alice.token, room_id)

    duplicates = [b for b, n in Counter(bodies).items() if n > 1]
    assert not duplicates, f"messages restored more than once: {duplicates[:5]}"
    assert [b for b in bodies if b.startswith("before backup")] == before, "messages from before the base backup are missing"
    after = [b for b in bodies if b.startswith("after backup")]
    assert after == [b for b, _ in sent[: len(after)]], f"the restored messages after the backup are not an unbroken prefix: {after[:5]}..."
    assert after, "no message sent after the base backup was restored: the WAL archive did not replay"
    newest_restored = sent[len(after) - 1][1]
    rpo = lost_at - newest_restored
    # The archive lags by at most archive_timeout plus the time to upload one segment.
    assert rpo <= ARCHIVE_TIMEOUT_SECONDS + 15, f"RPO {rpo:.1f}s exceeds archive_timeout {ARCHIVE_TIMEOUT_SECONDS}s + 15s"
    measured = {"backup_base_backup_seconds": round(backup_seconds, 1), "backup_restore_seconds": round(restore_seconds, 1),
                "backup_rpo_seconds": round(rpo, 1), "backup_messages_checked": len(before) + len(sent),
                "backup_messages_restored_after_base_backup": f"{len(after)} of {len(sent)}"}
    record_measurements(measured)
    print(json.dumps(measured))
