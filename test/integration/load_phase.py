"""Load phase of the integration suite: runs the load tool (`npm run load`, scripts/load) against the running
loopback stack and records what each process of the stack spent while it ran.

    python load_phase.py --work DIR --out FILE [load tool options...]

Every process group the harness started (DIR/pgids) is sampled once a second from /proc: CPU seconds
(utime+stime of every live member, descendants included, plus the cutime+cstime of the children they reaped,
so PostgreSQL's exited backends count too) and memory (sum of the members' PSS, so PostgreSQL's shared buffers count once; and the
largest member's VmHWM). The CPU figures are the difference between the samples around the load tool's
measured window (its result file's window.start/stop). The load tool's own process is sampled as well: it
shares this machine's cores with the stack.

Exit code: the load tool's (0: no message lost or duplicated, errors within its limit).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def read_stat(pid: str) -> tuple[int, int, float] | None:
    """(parent pid, session id, CPU seconds of the process and its reaped children)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): ppid is field 4, session field 6, utime..cstime fields 14..17.
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return int(fields[1]), int(fields[3]), ticks / CLOCK_TICKS


def memory_kib(pid: str) -> tuple[int, int]:
    """(PSS, VmHWM) in KiB; 0 when the process is gone or the kernel does not say."""
    pss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
                break
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
                break
    except OSError:
        pass
    return pss, hwm


def process_groups(work: Path) -> dict[int, str]:
    """Session id -> name: the last start of each name in pgids (a restarted process gets a new group)."""
    groups: dict[str, int] = {}
    for line in (work / "pgids").read_text().splitlines():
        if line.strip():
            pgid, name = line.split(" ", 1)
            groups[name.strip()] = int(pgid)
    return {pgid: name for name, pgid in groups.items()}


class Sampler(threading.Thread):
    def __init__(self, groups: dict[int, str], interval: float = 1.0):
        super().__init__(daemon=True)
        self.groups = groups
        self.interval = interval
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.peak_pss: dict[str, int] = {}
        self.peak_hwm: dict[str, int] = {}
        self.stopping = threading.Event()

    def sample(self) -> None:
        """A process belongs to the group whose session it is in, or to the group of its nearest ancestor that does:
        PostgreSQL's backends start sessions of their own (setsid) but are children of the postmaster."""
        now = time.time()
        stats = {int(pid): stat for pid in os.listdir("/proc") if pid.isdigit() and (stat := read_stat(pid))}

        def group_of(pid: int, depth: int = 0) -> str | None:
            stat = stats.get(pid)
            if stat is None or depth > 20:
                return None
            return self.groups.get(stat[1]) or self.groups.get(pid) or group_of(stat[0], depth + 1)
        cpu: dict[str, float] = {}
        pss: dict[str, int] = {}
        for pid, (_, _, seconds) in stats.items():
            name = group_of(pid)
            if name is None:
                continue
            cpu[name] = cpu.get(name, 0.0) + seconds
            member_pss, member_hwm = memory_kib(str(pid))
            pss[name] = pss.get(name, 0) + member_pss
            self.peak_hwm[name] = max(self.peak_hwm.get(name, 0), member_hwm)
        for name, value in pss.items():
            self.peak_pss[name] = max(self.peak_pss.get(name, 0), value)
        self.samples.append((now, cpu))

    def run(self) -> None:
        while not self.stopping.is_set():
            self.sample()
            self.stopping.wait(self.interval)

    def cpu_between(self, start: float, stop: float) -> dict[str, float]:
        before = max((s for s in self.samples if s[0] <= start), key=lambda s: s[0], default=self.samples[0])
        after = min((s for s in self.samples if s[0] >= stop), key=lambda s: s[0], default=self.samples[-1])
        seconds = after[0] - before[0]
        return {name: round(after[1].get(name, 0.0) - before[1].get(name, 0.0), 2) for name in after[1]} | {"_seconds": round(seconds, 1)}


def classify(name: str, state: dict) -> tuple[str, str]:
    """(kind, pool) of a process group of the stack."""
    info = state.get("processes", {}).get(name, {})
    if name in state.get("synapse_processes", []):
        return "synapse", "synapse-main" if name == "main" else info.get("pool", name.rsplit("-", 1)[0])
    if name == "postgres":
        return "postgresql", "synapse-postgres"
    if name.startswith("valkey-sentinel"):
        return "sentinel", "valkey-sentinel"
    if name.startswith("valkey"):
        return "valkey", "valkey"
    if name == "load-generator":
        return "load-generator", "load-generator"
    return info.get("kind", "other"), name


def machine() -> dict:
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.processor())
    mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")))
    return {"cpus": os.cpu_count(), "cpu_model": cpu_model, "memory_gib": round(mem_kib / 1048576, 1), "kernel": platform.release()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="the running stack's work dir (stack.json, pgids)")
    parser.add_argument("--out", type=Path, required=True, help="measurement file to write (JSON)")
    parser.add_argument("--idle-seconds", type=float, default=10, help="idle baseline sampled before the load starts")
    args, load_args = parser.parse_known_args()
    state = json.loads((args.work / "stack.json").read_text())
    result_file = args.work / "load-result.json"
    groups = process_groups(args.work)
    load_before = os.getloadavg()
    command = ["bash", str(ROOT / "scripts/load/run.sh"), "--url", state["router_url"],
               "--registration-secret-file", state["secrets"]["registration_shared_secret_file"], "--result", str(result_file),
               # a router without an edge in front: each client its own address, as the edge would forward
               "--forwarded-for-base", "127.202", *load_args]
    # Idle baseline first: what each process spends with no client (replication, timers, metrics) is
    # subtracted from its CPU in the window, so per-request figures are not inflated by it.
    sampler = Sampler(groups)
    sampler.start()
    idle_start = time.time()
    time.sleep(args.idle_seconds)
    idle_stop = time.time()
    # The load tool runs in its own session so its CPU is sampled like any process group of the stack.
    load = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    sampler.groups = {**groups, load.pid: "load-generator"}
    rc = load.wait()
    time.sleep(1.5)
    sampler.stopping.set()
    sampler.join()
    if not result_file.exists():
        print("error: the load tool wrote no result file", file=sys.stderr)
        return rc or 1
    result = json.loads(result_file.read_text())
    window = result["window"]
    cpu = sampler.cpu_between(window["start"], window["stop"])
    idle = sampler.cpu_between(idle_start, idle_stop)
    processes = {}
    for name in sorted(set(sampler.groups.values())):
        kind, pool = classify(name, state)
        if name not in cpu:
            continue
        idle_rate = idle.get(name, 0.0) / idle["_seconds"] if idle["_seconds"] else 0.0
        processes[name] = {"kind": kind, "pool": pool, "cpu_seconds": cpu[name],
                           "idle_cpu_per_s": round(idle_rate, 4),
                           "cpu_seconds_net": round(max(0.0, cpu[name] - idle_rate * cpu["_seconds"]), 2),
                           "peak_pss_mib": round(sampler.peak_pss.get(name, 0) / 1024, 1),
                           "peak_rss_mib": round(sampler.peak_hwm.get(name, 0) / 1024, 1)}
    measurement = {
        "measured_at": result["started"], "machine": machine(),
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
        "cpu_window_seconds": cpu["_seconds"], "idle_seconds": idle["_seconds"], "processes": processes, "load": result,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(measurement, indent=1) + "\n")
    print(f"load phase: measurement in {args.out}")
    for name, p in processes.items():
        print(f"  {name:<28} {p['pool']:<26} CPU {p['cpu_seconds']:>7.1f}s (net of idle {p['cpu_seconds_net']:>7.1f}s)  PSS peak {p['peak_pss_mib']:>7.1f} MiB")
    return rc


if __name__ == "__main__":
    sys.exit(main())
