"""Runs the generated configuration from dist/ as real programs on loopback addresses.

Every workload is started like a pod: its ConfigMap and Secret volumes become per-pod directories,
its init containers and container command run with the pod's environment, and the only changes made
to what dist/ contains are the rewrites listed in REWRITES (docs/testing.md repeats them).

    python stack.py up   --work DIR [--dist DIR]   start everything, write DIR/stack.json, return
    python stack.py down --work DIR                stop every process group this harness started

Process groups: every program runs in its own session; DIR/pgids lists them (run.sh kills them on EXIT).
"""
from __future__ import annotations

import argparse
import base64
import resource
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from barman_cloud import BarmanCloud

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV_BIN = Path(sys.executable).parent

# The documented rewrites (docs/testing.md). Nothing else in the generated files is changed.
REWRITES = [
    "service host names (*.svc.cluster.local) -> one 127.0.x.y address per host (table in stack.json)",
    "listen addresses: Synapse listeners get bind_addresses [own address]; HAProxy `bind :PORT` -> `bind ADDRESS:PORT`;"
    " Valkey/Sentinel `bind * -::*` -> `bind ADDRESS`",
    "mount paths (ConfigMap, Secret, emptyDir, PVC mounts) -> per-pod directories under the work dir",
    "S3 endpoint https://<minio host> -> http://<its address>:8333 (SeaweedFS, no TLS) in media_storage_providers"
    " and in the s3_media_upload command",
    "binaries: python -> the suite's virtualenv python, haproxy -> /usr/sbin/haproxy, valkey-server/valkey-cli ->"
    " redis-server/redis-cli (VALKEY_SERVER/VALKEY_CLI, variables the scripts document)",
    "PostgreSQL: max_connections from the CNPG Cluster; database created from its bootstrap.initdb; WAL archived with"
    " barman-cloud-wal-archive from the ObjectStore (archive_timeout 10s instead of CNPG's 5min)",
    "HAProxy global maxconn lowered to fit this machine's open-file hard limit (only when it is lower than needed)",
    "coturn: the node table's public address -> the node's loopback address; listening-ip/relay-ip set to it",
    "Secrets: values generated per run (throw-away CA and TLS certificates)",
]

# CNPG's archive_timeout is 5min: a segment is archived at the latest 5 minutes after it was started. The
# suite measures the archive path (RPO) within seconds instead.
ARCHIVE_TIMEOUT = "10s"
SVC_HOST = re.compile(r"\b[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.svc\.cluster\.local\b")
S3_PORT = 8333
SYNAPSE_NS = "matrix"


# --------------------------------------------------------------------------------------------- dist
class Dist:
    def __init__(self, path: Path):
        self.path = path
        self.docs: list[dict] = []
        for file in sorted(path.rglob("*.yaml")):
            for doc in yaml.safe_load_all(file.read_text()):
                if isinstance(doc, dict) and doc.get("kind"):
                    self.docs.append(doc)

    def find(self, kind: str, name: str, namespace: str | None = None) -> dict:
        for doc in self.docs:
            meta = doc.get("metadata", {})
            if doc["kind"] == kind and meta.get("name") == name and (namespace is None or meta.get("namespace") == namespace):
                return doc
        raise SystemExit(f"error: {kind} {namespace or '*'}/{name} not found in {self.path} (run npm run synth)")

    def find_any(self, kinds: tuple[str, ...], name: str, namespace: str | None = None) -> dict:
        for doc in self.docs:
            meta = doc.get("metadata", {})
            if doc["kind"] in kinds and meta.get("name") == name and (namespace is None or meta.get("namespace") == namespace):
                return doc
        raise SystemExit(f"error: none of {', '.join(kinds)} {namespace or '*'}/{name} found in {self.path} (run npm run synth)")

    def config_map(self, name: str, namespace: str) -> dict[str, str]:
        return dict(self.find("ConfigMap", name, namespace).get("data") or {})


# ----------------------------------------------------------------------------------------- addresses
class Addresses:
    """One loopback address per service host name, allocated in sorted order (deterministic)."""

    def __init__(self, dist: Dist, extra: list[str]):
        hosts: set[str] = set(extra)
        for doc in dist.docs:
            if doc["kind"] in ("ConfigMap", "Deployment", "StatefulSet", "CronJob", "Cluster"):
                hosts.update(m.group(0) for m in SVC_HOST.finditer(yaml.safe_dump(doc)))
        self.table = {host: f"127.0.{10 + i // 250}.{2 + i % 250}" for i, host in enumerate(sorted(hosts))}

    def ip(self, host: str) -> str:
        """The address of a host; hosts no generated file names (the router Service, pushers) get one on first use."""
        if host not in self.table:
            used = set(self.table.values())
            self.table[host] = next(f"127.0.30.{i}" for i in range(2, 250) if f"127.0.30.{i}" not in used)
        return self.table[host]

    def rewrite(self, text: str) -> str:
        return SVC_HOST.sub(lambda m: self.table.get(m.group(0), m.group(0)), text)


# ------------------------------------------------------------------------------------------- processes
class Processes:
    def __init__(self, work: Path):
        self.work = work
        self.pgid_file = work / "pgids"
        self.specs: dict[str, dict] = {}
        self.popen: dict[str, subprocess.Popen] = {}

    def exited(self, name: str) -> bool:
        """True when the process has exited (polling our own child also reaps it, so no zombie looks alive)."""
        proc = self.popen.get(name)
        return proc.poll() is not None if proc else not group_alive(self.specs[name]["pid"])

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, user: str | None = None) -> subprocess.Popen:
        log = self.work / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        full_env = {"PATH": f"{VENV_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", **env}
        out = open(log, "ab")
        proc = subprocess.Popen(argv, env=full_env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, user=user, group=user)
        with open(self.pgid_file, "a") as f:
            f.write(f"{proc.pid} {name}\n")
        self.popen[name] = proc
        self.specs[name] = {"argv": argv, "env": env, "cwd": str(cwd), "user": user, "pid": proc.pid, "log": str(log)}
        return proc


def container_limits() -> None:
    """Open-file limit of a typical container runtime (containerd: 1048576), inherited by every process: the router's maxconn needs it."""
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1048576, 1048576))
    except (ValueError, OSError):
        pass


def local_haproxy_version() -> tuple[int, int]:
    output = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout
    match = re.search(r"version (\d+)\.(\d+)", output)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def for_local_haproxy(text: str) -> str:
    """`init-state` exists since HAProxy 3.1 (the image runs 3.4); Debian's 2.6 loads the config without it."""
    if local_haproxy_version() >= (3, 1):
        return text
    return text.replace(" init-state down", "")


def fit_maxconn(haproxy_cfg: str) -> str:
    """HAProxy needs about 2 x maxconn open files; lower the global maxconn only when this machine's hard limit is below that."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    fits = max(1000, (hard - 100) // 2) if hard != resource.RLIM_INFINITY else None

    def lower(m: re.Match) -> str:
        return m.group(0) if fits is None or int(m.group(2)) <= fits else f"{m.group(1)}{fits}"
    return re.sub(r"(?m)^(global\n(?:[ \t]+.*\n)*?[ \t]+maxconn )(\d+)", lower, haproxy_cfg)


def kill_group(pgid: int, timeout: float = 15.0, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        # reap if it is our child
        try:
            os.waitpid(pgid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


# -------------------------------------------------------------------------------------------- waiting
def wait_for(what: str, check, timeout: float, interval: float = 0.5, log: str | None = None):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # noqa: BLE001 - any failure means "not yet"
            last = error
        time.sleep(interval)
    tail = ""
    if log and Path(log).exists():
        tail = "\n--- last lines of " + log + " ---\n" + "\n".join(Path(log).read_text(errors="replace").splitlines()[-30:])
    raise SystemExit(f"error: timed out after {timeout:.0f}s waiting for {what} (last error: {last}){tail}")


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=3) as response:
        return response.status == 200


def tcp_open(ip: str, port: int) -> bool:
    with socket.create_connection((ip, port), timeout=1):
        return True


# ------------------------------------------------------------------------------------------------ pods
class Pod:
    """A pod of a dist workload emulated on the host: mounts become directories, paths are rewritten."""

    def __init__(self, stack: "Stack", workload: dict, pod_name: str, ip: str | None):
        self.stack = stack
        self.workload = workload
        self.name = pod_name
        self.ip = ip
        self.root = stack.work / "pods" / pod_name
        self.spec = workload["spec"]["template"]["spec"] if workload["kind"] != "CronJob" else \
            workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        self.namespace = workload["metadata"]["namespace"]
        self.mounts: dict[str, Path] = {}

    # Paths -----------------------------------------------------------------------------------------
    def mount_dir(self, container: dict, mount_path: str) -> Path:
        volume = next(m for m in container.get("volumeMounts", []) if m["mountPath"] == mount_path)
        return self.root / "volumes" / volume["name"]

    def rewrite_paths(self, text: str) -> str:
        """One pass over every mount path (longest first), so a rewritten path is never rewritten again."""
        if not self.mounts:
            return text
        alternatives = "|".join(re.escape(p) for p in sorted(self.mounts, key=len, reverse=True))
        pattern = re.compile(r"(?<![\w./-])(" + alternatives + r")(?=/|[^\w.-]|$)")
        return pattern.sub(lambda m: str(self.mounts[m.group(1)]), text)

    def rewrite(self, text: str) -> str:
        s3 = self.stack.state.get("s3")
        if s3:  # the MinIO endpoint (https, port 443) becomes SeaweedFS's plain-HTTP endpoint
            text = text.replace(s3["original_endpoint"], s3["endpoint"])
        return self.rewrite_paths(self.stack.addresses.rewrite(text))

    # Volumes ---------------------------------------------------------------------------------------
    def prepare(self, containers: list[dict], file_hook=None) -> None:
        """Materialise the pod's volumes once (a restarted process keeps its pod directory, like a pod restart)."""
        volumes = {v["name"]: v for v in self.spec.get("volumes", [])}
        for container in containers:
            for mount in container.get("volumeMounts", []):
                self.mounts[mount["mountPath"]] = self.claimed_dir(volumes.get(mount["name"])) or self.root / "volumes" / mount["name"]
        marker = self.root / ".prepared"
        if marker.exists():
            return
        names = sorted({m["name"] for c in containers for m in c.get("volumeMounts", [])})
        for name in names:
            volume = volumes.get(name)
            target = self.claimed_dir(volume) or self.root / "volumes" / name
            target.mkdir(parents=True, exist_ok=True)
            if volume is None or "persistentVolumeClaim" in volume:  # volumeClaimTemplate: a per-pod persistent directory
                continue
            if "configMap" in volume:
                data = self.stack.dist.config_map(volume["configMap"]["name"], self.namespace)
                for key, text in data.items():
                    text = self.rewrite(text)
                    if file_hook:
                        text = file_hook(key, text)
                    (target / key).write_text(text)
            elif "secret" in volume:
                items = volume["secret"].get("items")
                for key, value in self.stack.secret(volume["secret"]["secretName"]).items():
                    path = key
                    if items:
                        match = [i for i in items if i["key"] == key]
                        if not match:
                            continue
                        path = match[0]["path"]
                    (target / path).write_text(value)
                    os.chmod(target / path, 0o600)
        marker.write_text("")

    def claimed_dir(self, volume: dict | None) -> Path | None:
        """A PersistentVolumeClaim `<template>-<pod>` of a StatefulSet: that pod's volume directory (the same data)."""
        if not volume or "persistentVolumeClaim" not in volume:
            return None
        claim = volume["persistentVolumeClaim"]["claimName"]
        for pod_dir in sorted((self.stack.work / "pods").iterdir()):
            if claim.endswith("-" + pod_dir.name):
                return pod_dir / "volumes" / claim[: -len(pod_dir.name) - 1]
        raise SystemExit(f"error: claim {claim} of {self.name} belongs to no started pod")

    # Environment and command ---------------------------------------------------------------------
    def env(self, container: dict) -> dict[str, str]:
        env: dict[str, str] = {}
        for entry in container.get("env", []):
            if "value" in entry:
                value = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), str(entry["value"]))
                env[entry["name"]] = self.rewrite(value)
            elif "fieldRef" in entry.get("valueFrom", {}):
                field = entry["valueFrom"]["fieldRef"]["fieldPath"]
                # status.hostIP: a host-network pod's node address is the pod's own loopback address here.
                env[entry["name"]] = {"metadata.name": self.name, "metadata.namespace": self.namespace,
                                      "spec.nodeName": getattr(self, "node_name", "node"),
                                      "status.hostIP": self.ip or "127.0.0.1"}[field]
            elif "secretKeyRef" in entry.get("valueFrom", {}):
                ref = entry["valueFrom"]["secretKeyRef"]
                env[entry["name"]] = self.stack.secret(ref["name"])[ref["key"]]
        return env

    def command(self, container: dict, env: dict[str, str]) -> list[str]:
        argv = [*container.get("command", []), *container.get("args", [])]
        argv = [re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), arg) for arg in argv]
        argv = [self.rewrite(arg) for arg in argv]
        binaries = {"python": self.stack.synapse_python, "haproxy": "/usr/sbin/haproxy", "sh": "/bin/sh"}
        argv[0] = binaries.get(argv[0], argv[0])
        return argv

    def run_init_containers(self, skip: tuple[str, ...] = ()) -> None:
        for init in self.spec.get("initContainers", []):
            if init["name"] in skip:
                continue
            env = self.env(init)
            argv = self.command(init, env)
            result = subprocess.run(argv, env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=120)
            if result.returncode != 0:
                raise SystemExit(f"error: init container {init['name']} of {self.name} failed: {result.stderr[-2000:]}")


# ----------------------------------------------------------------------------------------------- stack
class Stack:
    def __init__(self, work: Path, dist: Path):
        self.work = work
        self.dist = Dist(dist)
        self.procs = Processes(work)
        self.state: dict = {"work": str(work), "dist": str(dist), "processes": {}, "rewrites": REWRITES}
        self._secrets: dict[str, dict[str, str]] = {}
        hs = yaml.safe_load(self.dist.config_map("synapse-config", SYNAPSE_NS)["homeserver.yaml"])
        self.homeserver = hs
        self.addresses = Addresses(self.dist, [f"{n}.{SYNAPSE_NS}.svc.cluster.local" for n in ("synapse-main",)])
        # The interpreter of the `python` the Synapse pods run: the pinned release, or the previous one
        # when the suite starts there to upgrade (IT_SYNAPSE_START_VENV, test_upgrade.py).
        self.synapse_python = str(VENV_BIN / "python")

    # Secrets: generated per run, never from the repository --------------------------------------------
    def secret(self, name: str) -> dict[str, str]:
        if name in self._secrets:
            return self._secrets[name]
        token = lambda: secrets.token_urlsafe(24)  # noqa: E731
        valkey_password = self._shared("valkey", token)
        if name == "synapse-secrets":
            value = {k: token() for k in ("registration_shared_secret", "macaroon_secret_key", "form_secret", "worker_replication_secret")}
        elif name == "synapse-signing-key":
            key = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            value = {"signing.key": f"ed25519 a_{secrets.token_hex(2)} {key}\n"}
        elif name == "synapse-redis-password":
            value = {"password": valkey_password}
        elif name == "valkey-auth":  # with the derived keys of the catalogue (lib/model/secrets.ts)
            value = {"password": valkey_password,
                     "haproxy-auth.cfg": f'global\n    setenv VALKEY_PASSWORD "{valkey_password}"\n',
                     "redis-exporter-passwords.json": json.dumps({"redis://localhost:6379": valkey_password, "redis://localhost:26379": valkey_password})}
        elif name == "coturn-shared-secret":
            value = {"secret": self._shared("turn", token), "shared-secret": self._shared("turn", token)}
        elif name == "object-storage-credentials":
            access_key, secret_key = self._shared("s3-id", lambda: "it" + secrets.token_hex(8)), self._shared("s3-secret", token)
            # `credentials`: the AWS shared credentials file the catalogue derives for boto3 (lib/model/secrets.ts).
            value = {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key,
                     "credentials": f"[default]\naws_access_key_id = {access_key}\naws_secret_access_key = {secret_key}\n"}
        elif name == "coturn-tls":  # self-signed certificate for the TLS listener (the suite tests plain TURN)
            key_file = self.work / "coturn-tls.key"
            pem = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                  "-subj", "/CN=turn.example.org", "-days", "1", "-keyout", str(key_file)], capture_output=True, text=True, check=True).stdout
            value = {"tls.crt": pem, "tls.key": key_file.read_text()}
            key_file.unlink()
        elif name == "object-storage-ca":  # written by cert-manager in the cluster; the local S3 server speaks plain HTTP, a valid throw-away CA keeps boto3's ca_bundle loadable
            pem = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                  "-subj", "/CN=matrix-it-ca", "-days", "1", "-keyout", "/dev/null"], capture_output=True, text=True, check=True).stdout
            value = {"ca.crt": pem}
        elif name.endswith("-app"):  # CNPG `<cluster>-app` Secret: username, password and a pgpass line
            password = self._shared("pg", token)
            cluster = name[: -len("-app")]
            value = {"username": "synapse", "password": password,
                     "pgpass": f"{cluster}-rw:5432:synapse:synapse:{password}\n"}
        else:
            raise SystemExit(f"error: the harness does not know Secret {name}; add it to Stack.secret")
        self._secrets[name] = value
        return value

    def _shared(self, key: str, make) -> str:
        store = self._secrets.setdefault("__shared__", {})
        if key not in store:
            store[key] = make()
        return store[key]

    # Components ------------------------------------------------------------------------------------
    def start_postgres(self) -> None:
        cluster = next(d for d in self.dist.docs if d["kind"] == "Cluster" and d["metadata"]["namespace"] == SYNAPSE_NS)
        host = f"{cluster['metadata']['name']}-rw.{SYNAPSE_NS}.svc.cluster.local"
        ip = self.addresses.ip(host)
        initdb_spec = cluster["spec"]["bootstrap"]["initdb"]
        params = cluster["spec"].get("postgresql", {}).get("parameters", {})
        bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        data = self.work / "postgres" / "data"
        sock = self.work / "postgres" / "sock"
        data.mkdir(parents=True)
        sock.mkdir(parents=True)
        shutil.chown(self.work / "postgres", "postgres", "postgres")
        for d in (data, sock):
            shutil.chown(d, "postgres", "postgres")
        subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"],
                       check=True, capture_output=True, user="postgres", group="postgres")
        archiving = ""
        archive_env: dict[str, str] = {}
        if any(p.get("isWALArchiver") for p in cluster["spec"].get("plugins", [])):
            # As the Barman Cloud plugin's sidecar: every completed WAL segment goes to the ObjectStore.
            barman = BarmanCloud.from_dist(self.dist, self.state["s3"], self.secret)
            archiving = (f"archive_mode = on\narchive_command = '{barman.archive_command().replace(chr(39), chr(39) * 2)}'\n"
                         f"archive_timeout = {ARCHIVE_TIMEOUT}\n")
            archive_env = barman.credentials
            self.state["barman"] = {"bin": str(barman.bin)}
        with open(data / "postgresql.conf", "a") as f:
            f.write(f"listen_addresses = '{ip}'\nport = 5432\nunix_socket_directories = '{sock}'\n"
                    f"max_connections = {params.get('max_connections', '400')}\nfsync = off\nsynchronous_commit = off\n"
                    "full_page_writes = off\nshared_buffers = 256MB\n" + archiving)
        (data / "pg_hba.conf").write_text(f"local all postgres trust\nhost all all {ip}/32 scram-sha-256\nhost all all 127.0.0.0/8 scram-sha-256\n")
        self.procs.start("postgres", [str(bindir / "postgres"), "-D", str(data)], archive_env, self.work / "postgres", user="postgres")
        wait_for("postgres", lambda: tcp_open(ip, 5432), 60, log=str(self.work / "logs" / "postgres.log"))
        password = self.secret(f"{cluster['metadata']['name']}-app")["password"]
        db, owner = initdb_spec["database"], initdb_spec["owner"]
        create_role = f"CREATE ROLE {owner} LOGIN PASSWORD '{password}'"
        create_db = (f"CREATE DATABASE {db} OWNER {owner} ENCODING '{initdb_spec.get('encoding', 'UTF8')}' "
               f"LC_COLLATE '{initdb_spec.get('localeCollate', 'C')}' LC_CTYPE '{initdb_spec.get('localeCType', 'C')}' TEMPLATE template0")
        wait_for("postgres socket", lambda: subprocess.run([str(bindir / "psql"), "-h", str(sock), "-U", "postgres", "-c", "select 1"],
                                                          capture_output=True, user="postgres").returncode == 0, 30)
        subprocess.run([str(bindir / "psql"), "-v", "ON_ERROR_STOP=1", "-h", str(sock), "-U", "postgres", "-c", create_role, "-c", create_db],
                       check=True, capture_output=True, user="postgres")
        self.state["postgres"] = {"host": ip, "port": 5432, "user": owner, "database": db, "password": password,
                                  "psql": str(bindir / "psql"), "socket": str(sock), "bindir": str(bindir), "data": str(data)}

    def start_s3(self) -> None:
        storage = self.homeserver["media_storage_providers"][0]["config"]
        host = re.sub(r"^https?://", "", storage["endpoint_url"]).split(":")[0].split("/")[0]
        ip = self.addresses.ip(host)
        creds = self.secret("object-storage-credentials")
        data = self.work / "s3"
        data.mkdir()
        (data / "s3.json").write_text(json.dumps({"identities": [{
            "name": "synapse", "credentials": [{"accessKey": creds["AWS_ACCESS_KEY_ID"], "secretKey": creds["AWS_SECRET_ACCESS_KEY"]}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        self.procs.start("seaweedfs", [str(VENV_BIN / "weed"), "server", f"-ip={ip}", f"-ip.bind={ip}", f"-dir={data}", "-s3",
                                       f"-s3.port={S3_PORT}", f"-s3.config={data / 's3.json'}", "-master.volumeSizeLimitMB=64",
                                       "-volume.max=0", "-volume.port=18080", "-master.port=19334", "-filer.port=18889"],
                         {}, data)
        endpoint = f"http://{ip}:{S3_PORT}"
        self.state["s3"] = {"endpoint": endpoint, "original_endpoint": storage["endpoint_url"], "host": host, "bucket": storage["bucket"], "region": storage.get("region_name", "us-east-1"),
                            "access_key": creds["AWS_ACCESS_KEY_ID"], "secret_key": creds["AWS_SECRET_ACCESS_KEY"]}

    def create_bucket(self) -> None:
        import boto3
        from botocore.config import Config
        s3 = self.state["s3"]
        client = boto3.client("s3", endpoint_url=s3["endpoint"], aws_access_key_id=s3["access_key"], aws_secret_access_key=s3["secret_key"],
                              region_name=s3["region"], config=Config(s3={"addressing_style": "path"}))

        buckets = [s3["bucket"]]
        if "barman" in self.state:
            buckets.append(BarmanCloud.from_dist(self.dist, s3, self.secret).bucket)

        def create():
            existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
            for bucket in buckets:
                if bucket not in existing:
                    client.create_bucket(Bucket=bucket)
            return True
        wait_for("S3 bucket creation", create, 90, interval=1, log=str(self.work / "logs" / "seaweedfs.log"))

    def start_valkey(self) -> None:
        ns = "redis-synapse"
        for kind_name, count_key in (("valkey", "data"), ("valkey-sentinel", "sentinel")):
            workload = self.dist.find("StatefulSet", kind_name, ns)
            container = workload["spec"]["template"]["spec"]["containers"][0]
            for ordinal in range(workload["spec"]["replicas"]):
                pod_name = f"{kind_name}-{ordinal}"
                host = f"{pod_name}.{workload['spec']['serviceName']}.{ns}.svc.cluster.local"
                ip = self.addresses.ip(host)
                pod = Pod(self, workload, pod_name, ip)
                pod.prepare([container], file_hook=lambda fname, text, ip=ip: text.replace("bind * -::*", f"bind {ip}") if fname.endswith(".conf") else text)
                env = pod.env(container)
                env.update({"VALKEY_SERVER": "redis-server", "VALKEY_CLI": "redis-cli"})
                argv = pod.command(container, env)
                self.procs.start(pod_name, argv, env, pod.root)
                port = int(env.get("SENTINEL_PORT" if count_key == "sentinel" else "VALKEY_PORT", "6379"))
                self.state["processes"][pod_name] = {"ip": ip, "port": port, "kind": count_key}
                if count_key == "data" and ordinal == 0:
                    wait_for(pod_name, lambda: tcp_open(ip, port), 60, log=str(self.work / "logs" / f"{pod_name}.log"))
        self.state["valkey"] = {"password": self.secret("valkey-auth")["password"], "master_name": env["VALKEY_MASTER_NAME"]}

    def start_haproxy(self, name: str, workload_name: str, namespace: str, service_host: str) -> None:
        workload = self.dist.find("Deployment", workload_name, namespace)
        container = workload["spec"]["template"]["spec"]["containers"][0]
        ip = self.addresses.ip(service_host)
        pod = Pod(self, workload, name, ip)
        pod.prepare([container], file_hook=lambda fname, text: for_local_haproxy(fit_maxconn(re.sub(r"(?m)^(\s*bind )\*?:(\d+)", rf"\g<1>{ip}:\2", text))))
        env = pod.env(container)
        argv = pod.command(container, env)
        result = subprocess.run([*argv[:1], "-c", *argv[1:]], env={**os.environ, **env}, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"error: haproxy -c rejected the {name} config: {result.stdout}{result.stderr}")
        self.procs.start(name, argv, env, pod.root)
        status_port = next(int(p["containerPort"]) for p in container["ports"] if p["name"] in ("status",))
        self.state["processes"][name] = {"ip": ip, "status": f"http://{ip}:{status_port}", "kind": "haproxy"}

    def start_coturn(self) -> None:
        """coturn as on one TURN node: the node table's external address of that node becomes a loopback address."""
        workload = next((d for d in self.dist.docs if d["kind"] == "DaemonSet" and d["metadata"]["name"] == "coturn"), None)
        if workload is None:
            return
        ns = workload["metadata"]["namespace"]
        table = self.dist.config_map(f"{workload['metadata']['name']}-config", ns)["nodes"]
        node, external = table.split()[0], table.split()[1]
        ip = self.addresses.ip(f"coturn-{node}.node.local")
        pod = Pod(self, workload, f"coturn-{node}", ip)
        pod.node_name = node
        container = pod.spec["containers"][0]

        def hook(name: str, text: str) -> str:
            if name == "nodes":  # this node's public address -> its loopback address
                return text.replace(external, ip)
            if name.endswith(".conf"):  # listen and relay on that address only
                return text + f"listening-ip={ip}\nrelay-ip={ip}\n"
            return text
        pod.prepare([*pod.spec.get("initContainers", []), container], file_hook=hook)
        pod.run_init_containers()
        env = pod.env(container)
        argv = pod.command(container, env)
        self.procs.start(pod.name, argv, env, pod.root)
        port = next(int(p["containerPort"]) for p in container["ports"] if p["name"] == "turn-udp")
        self.state["processes"][pod.name] = {"ip": ip, "port": port, "kind": "coturn", "external": external}
        self.state["coturn"] = {"process": pod.name, "ip": ip, "port": port,
                                "secret": self.secret(next(v["secret"]["secretName"] for v in pod.spec["volumes"] if v["name"] == "turn-secret"))["secret"]}
        wait_for("coturn", lambda: tcp_open(ip, port), 30, log=str(self.work / "logs" / f"{pod.name}.log"))

    def synapse_pod(self, process: str) -> tuple[Pod, dict]:
        if process == "main":
            workload = self.dist.find("Deployment", "synapse-main", SYNAPSE_NS)
            host = f"synapse-main.{SYNAPSE_NS}.svc.cluster.local"
        else:
            pool = process.rsplit("-", 1)[0]
            # Replicated pools are StatefulSets (per-pod names); single writers Deployments behind their Service.
            workload = self.dist.find_any(("StatefulSet", "Deployment"), pool, SYNAPSE_NS)
            host = f"{process}.{pool}.{SYNAPSE_NS}.svc.cluster.local" if workload["kind"] == "StatefulSet" \
                else f"{pool}.{SYNAPSE_NS}.svc.cluster.local"
        return Pod(self, workload, process, self.addresses.ip(host)), workload

    def synapse_file_hook(self, ip: str):
        s3 = self.state["s3"]

        def hook(name: str, text: str) -> str:
            if not name.endswith(".yaml"):
                return text
            doc = yaml.safe_load(text)
            if not isinstance(doc, dict):
                return text
            for key in ("listeners", "worker_listeners"):
                for listener in doc.get(key, []) or []:
                    listener["bind_addresses"] = [ip]
            for provider in doc.get("media_storage_providers", []) or []:
                provider.get("config", {})["endpoint_url"] = s3["endpoint"]
            return yaml.safe_dump(doc, sort_keys=False)
        return hook

    def start_synapse(self, process: str) -> None:
        pod, workload = self.synapse_pod(process)
        container = pod.spec["containers"][0]
        pod.prepare([*pod.spec.get("initContainers", []), container], file_hook=self.synapse_file_hook(pod.ip))
        pod.run_init_containers(skip=("wait-for-main",) if process == "main" else ())
        env = pod.env(container)
        env["POD_NAME"] = pod.name
        argv = pod.command(container, env)
        # Synapse's data directory is the working directory (the image's /data).
        cwd = pod.root / "cwd"
        cwd.mkdir(exist_ok=True)
        self.procs.start(process, argv, env, cwd)
        self.state["processes"][process] = {"ip": pod.ip, "port": 8008, "kind": "synapse", "pool": workload["metadata"]["name"],
                                            "root": str(pod.root), "mounts": {k: str(v) for k, v in pod.mounts.items()}}

    def roll_synapse(self, process: str, python: str) -> dict:
        """One pod of a rollout: the old process stops as the kubelet stops it (SIGTERM, grace period), the
        new pod runs its init containers with the new interpreter and starts. Returns the new process spec."""
        kill_group(self.procs.specs[process]["pid"], timeout=60)
        self.synapse_python = python
        self.state["synapse_python"] = python
        self.start_synapse(process)
        return self.procs.specs[process]

    def wait_synapse(self, process: str, timeout: float = 240) -> None:
        info = self.state["processes"][process]
        log = str(self.work / "logs" / f"{process}.log")
        pgid = self.procs.specs[process]["pid"]

        def healthy():
            if self.procs.exited(process):
                raise SystemExit(f"error: synapse {process} exited during start-up\n" + "\n".join(Path(log).read_text().splitlines()[-40:]))
            return http_ok(f"http://{info['ip']}:8008/health")
        wait_for(f"synapse {process} /health", healthy, timeout, log=log)

    def wait_synapses(self, names: list[str], timeout: float = 240) -> None:
        """Waits for every process at once and fails as soon as one of them exits (a config error, say)."""
        pending = list(names)
        deadline = time.time() + timeout
        while pending:
            for name in list(pending):
                log = Path(self.procs.specs[name]["log"])
                if self.procs.exited(name):
                    raise SystemExit(f"error: synapse {name} exited during start-up; last lines of {log}:\n"
                                     + "\n".join(log.read_text(errors="replace").splitlines()[-25:]))
                try:
                    if http_ok(f"http://{self.state['processes'][name]['ip']}:8008/health"):
                        pending.remove(name)
                except OSError:
                    pass
            if time.time() > deadline:
                raise SystemExit(f"error: timed out after {timeout:.0f}s waiting for /health of {', '.join(pending)}")
            time.sleep(0.3)

    def save(self) -> None:
        self.state["addresses"] = self.addresses.table
        self.state["specs"] = self.procs.specs
        self.state["secrets"] = {"registration_shared_secret_file": str(self.work / "pods" / "main" / "volumes" / "secrets" / "registration_shared_secret"),
                                 "turn": self._secrets.get("__shared__", {}).get("turn")}
        (self.work / "stack.json").write_text(json.dumps(self.state, indent=1))
        secrets_file = self.work / "secrets.json"
        secrets_file.write_text(json.dumps(self._secrets))
        os.chmod(secrets_file, 0o600)

    @classmethod
    def load(cls, work: Path) -> "Stack":
        """The running stack as `up` left it: same addresses, secrets and process table."""
        state = json.loads((work / "stack.json").read_text())
        stack = cls(work, Path(state["dist"]))
        stack.state = state
        stack.addresses.table = state["addresses"]
        stack._secrets = json.loads((work / "secrets.json").read_text())
        stack.procs.specs = state["specs"]
        stack.synapse_python = state.get("synapse_python", stack.synapse_python)
        return stack

    def run_job(self, cronjob: str) -> subprocess.CompletedProcess:
        """Runs one Job of a CronJob now, like `kubectl create job --from=cronjob/<name>`."""
        workload = self.dist.find("CronJob", cronjob)
        pod = Pod(self, workload, f"{cronjob}-manual-{int(time.time())}", None)
        container = pod.spec["containers"][0]
        pod.prepare([*pod.spec.get("initContainers", []), container])
        pod.run_init_containers()
        env = pod.env(container)
        argv = pod.command(container, env)
        cwd = pod.root / "cwd"
        cwd.mkdir(exist_ok=True)
        return subprocess.run(argv, env={"PATH": f"{VENV_BIN}:{os.environ['PATH']}", **env}, cwd=cwd, capture_output=True, text=True, timeout=300)


def default_processes(dist: Dist) -> list[str]:
    """Main, every process in instance_map (stream writers must run), and the routed pools the suite needs."""
    hs = yaml.safe_load(dist.config_map("synapse-config", SYNAPSE_NS)["homeserver.yaml"])
    workers = sorted(k[: -len(".yaml")] for k in dist.config_map("synapse-workers", SYNAPSE_NS))
    chosen = ["main"] + [name for name in hs.get("instance_map", {}) if name != "main"]
    wanted = {"synapse-sync": 2, "synapse-generic": 1, "synapse-federation-reader": 1, "synapse-media": 1, "synapse-user-directory": 1}
    for pool, count in wanted.items():
        members = [w for w in workers if w.rsplit("-", 1)[0] == pool]
        chosen += [m for m in sorted(members, key=lambda n: int(n.rsplit("-", 1)[1]))[:count] if m not in chosen]
    return chosen


def up(work: Path, dist_path: Path, which: str) -> None:
    timings: dict[str, float] = {}
    t0 = time.time()
    os.chmod(work, 0o755)  # the postgres user must reach its data directory
    container_limits()
    stack = Stack(work, dist_path)
    if os.environ.get("IT_SYNAPSE_START_VENV"):
        stack.synapse_python = str(Path(os.environ["IT_SYNAPSE_START_VENV"]) / "bin" / "python")
    stack.state["synapse_python"] = stack.synapse_python
    processes = default_processes(stack.dist) if which == "default" else \
        ["main"] + sorted(k[:-5] for k in stack.dist.config_map("synapse-workers", SYNAPSE_NS))
    stack.state["synapse_processes"] = processes

    def mark(name: str):
        nonlocal t0
        timings[name] = round(time.time() - t0, 1)
        t0 = time.time()
        print(f"  stack: {name} ready ({timings[name]}s)", flush=True)
    try:
        stack.start_s3()  # first: PostgreSQL archives its WAL there
        stack.start_postgres()
        stack.start_valkey()
        redis_host = stack.homeserver["redis"]["host"]
        stack.start_haproxy("redis-proxy", redis_host.split(".")[0], redis_host.split(".")[1], redis_host)
        stack.start_coturn()
        mark("postgres, seaweedfs, valkey+sentinels, redis haproxy, coturn (started)")
        stack.create_bucket()
        mark("s3 bucket")
        stack.start_synapse("main")
        stack.wait_synapse("main")
        mark("synapse main (schema)")
        # Pods start in parallel, as the kubelets would; their init containers (wait-for-schema loads
        # each worker's full config) dominate the start-up otherwise.
        with ThreadPoolExecutor(max_workers=4) as pool:
            for started in [pool.submit(stack.start_synapse, process) for process in processes[1:]]:
                started.result()
        stack.wait_synapses(processes[1:])
        mark(f"{len(processes) - 1} synapse workers")
        router = next(d for d in stack.dist.docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "synapse-router")
        stack.start_haproxy("router", "synapse-router", router["metadata"]["namespace"], f"synapse-router.{router['metadata']['namespace']}.svc.cluster.local")
        router_ip = stack.state["processes"]["router"]["ip"]
        stack.state["router_url"] = f"http://{router_ip}:8008"
        stack.state["server_name"] = stack.homeserver["server_name"]
        stack.save()
        wait_router_states(stack.state)
        mark("router (started servers UP, others DOWN)")
    finally:
        stack.state["timings"] = timings
        stack.save()


def router_server_states(status_url: str) -> dict[tuple[str, str], str]:
    with urllib.request.urlopen(f"{status_url}/metrics", timeout=3) as response:
        text = response.read().decode()
    states: dict[tuple[str, str], str] = {}
    for m in re.finditer(r'^haproxy_server_status\{proxy="([^"]+)",server="([^"]+)",state="([A-Z_]+)"\} 1$', text, re.M):
        states[(m.group(1), m.group(2))] = m.group(3)
    return states


def wait_router_states(state: dict, timeout: float = 60) -> None:
    started = set(state["synapse_processes"])
    status = state["processes"]["router"]["status"]

    def settled():
        states = router_server_states(status)
        if not states:
            return False
        for (proxy, server), st in states.items():
            name = "main" if server == "synapse-main" else server
            if (name in started) != (st == "UP"):
                return False
        return True
    wait_for("router health checks to settle", settled, timeout, interval=1)


def down(work: Path, grace: float = 10.0) -> None:
    """SIGTERM to every process group this harness started (all at once), SIGKILL to what is left after `grace` seconds."""
    pgid_file = work / "pgids"
    if not pgid_file.exists():
        return
    pgids = [int(line.split(" ", 1)[0]) for line in pgid_file.read_text().splitlines() if line.strip()]
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + grace
    while time.time() < deadline and any(group_alive(pgid) for pgid in pgids):
        time.sleep(0.2)
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--processes", default=os.environ.get("IT_PROCESSES", "default"), choices=["default", "all"])
    args = parser.parse_args()
    if args.action == "up":
        args.work.mkdir(parents=True, exist_ok=True)
        up(args.work, args.dist, args.processes)
    else:
        down(args.work)


if __name__ == "__main__":
    main()
