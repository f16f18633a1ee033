"""barman-cloud command lines derived from the generated ObjectStore and Cluster (dist/), as the Barman
Cloud plugin builds them (cloudnative-pg/barman-cloud pkg/command, pkg/archiver, pkg/backup):

    common   [--endpoint-url URL] --cloud-provider aws-s3 DESTINATION_PATH SERVER_NAME
    WAL      barman-cloud-wal-archive [--<wal.compression>] common WAL_PATH
    backup   barman-cloud-backup [--<data.compression>] [--immediate-checkpoint] [--jobs N] --user postgres --name NAME common
    restore  barman-cloud-restore common BACKUP_ID DESTINATION_DIRECTORY
             barman-cloud-wal-restore common WAL_NAME WAL_PATH   (restore_command)

The only rewrite is the endpoint (the ObjectStore's MinIO URL -> the suite's S3 server, as for Synapse's
media); credentials come from the Secret the ObjectStore names. One source for the plugin and the suite:
bucket, folder layout, server name and compression are read from dist/, never repeated here.
"""
from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLUGIN = "barman-cloud.cloudnative-pg.io"


def barman_venv() -> Path:
    """The barman[cloud] virtualenv (test/integration/venv.sh barman), built once and cached."""
    if os.environ.get("IT_BARMAN_VENV"):
        return Path(os.environ["IT_BARMAN_VENV"])
    out = subprocess.run(["bash", str(HERE / "venv.sh"), "barman"], capture_output=True, text=True, check=True).stdout
    return Path(out.strip().splitlines()[-1])


@dataclass(frozen=True)
class BarmanCloud:
    bin: Path
    destination_path: str
    server_name: str
    endpoint_url: str
    wal_compression: str | None
    data_compression: str | None
    data_jobs: int | None
    immediate_checkpoint: bool
    credentials: dict[str, str]

    @classmethod
    def from_dist(cls, dist, s3: dict, secret) -> "BarmanCloud":
        """`dist`: stack.Dist; `s3`: the stack's S3 state (original and local endpoint); `secret`: Stack.secret."""
        cluster = next(d for d in dist.docs if d["kind"] == "Cluster")
        archiver = next(p for p in cluster["spec"].get("plugins", []) if p["name"] == PLUGIN and p.get("isWALArchiver"))
        parameters = archiver["parameters"]
        store = dist.find("ObjectStore", parameters["barmanObjectName"], cluster["metadata"]["namespace"])
        configuration = store["spec"]["configuration"]
        endpoint = configuration.get("endpointURL", "")
        if endpoint and endpoint != s3["original_endpoint"]:
            raise SystemExit(f"error: ObjectStore endpoint {endpoint} is not the object storage the suite emulates ({s3['original_endpoint']})")
        credentials = configuration["s3Credentials"]
        env = {
            "AWS_ACCESS_KEY_ID": secret(credentials["accessKeyId"]["name"])[credentials["accessKeyId"]["key"]],
            "AWS_SECRET_ACCESS_KEY": secret(credentials["secretAccessKey"]["name"])[credentials["secretAccessKey"]["key"]],
        }
        return cls(bin=barman_venv() / "bin", destination_path=configuration["destinationPath"],
                   server_name=parameters.get("serverName", cluster["metadata"]["name"]),
                   endpoint_url=s3["endpoint"] if endpoint else "",
                   wal_compression=configuration.get("wal", {}).get("compression"),
                   data_compression=configuration.get("data", {}).get("compression"),
                   data_jobs=configuration.get("data", {}).get("jobs"),
                   immediate_checkpoint=bool(configuration.get("data", {}).get("immediateCheckpoint")), credentials=env)

    @property
    def bucket(self) -> str:
        return self.destination_path.removeprefix("s3://").split("/")[0]

    def common(self) -> list[str]:
        endpoint = ["--endpoint-url", self.endpoint_url] if self.endpoint_url else []
        return [*endpoint, "--cloud-provider", "aws-s3", self.destination_path, self.server_name]

    def wal_archive(self, wal_path: str) -> list[str]:
        compression = [f"--{self.wal_compression}"] if self.wal_compression else []
        return [str(self.bin / "barman-cloud-wal-archive"), *compression, *self.common(), wal_path]

    def archive_command(self) -> str:
        """postgresql.conf archive_command, as the plugin's sidecar runs it for every completed segment."""
        return shlex.join(self.wal_archive("%p"))

    def backup(self, name: str, socket_dir: str, port: int, immediate_checkpoint: bool | None = None) -> list[str]:
        """`immediate_checkpoint`: None takes the ObjectStore's setting."""
        compression = [f"--{self.data_compression}"] if self.data_compression else []
        if immediate_checkpoint if immediate_checkpoint is not None else self.immediate_checkpoint:
            compression.append("--immediate-checkpoint")
        jobs = ["--jobs", str(self.data_jobs)] if self.data_jobs else []
        return [str(self.bin / "barman-cloud-backup"), *compression, *jobs, "--user", "postgres", "--host", socket_dir,
                "--port", str(port), "--name", name, *self.common()]

    def backup_list(self) -> list[str]:
        return [str(self.bin / "barman-cloud-backup-list"), "--format", "json", *self.common()]

    def restore(self, backup_id: str, directory: str) -> list[str]:
        return [str(self.bin / "barman-cloud-restore"), *self.common(), backup_id, directory]

    def restore_command(self) -> str:
        """postgresql.conf restore_command of the recovering instance."""
        return shlex.join([str(self.bin / "barman-cloud-wal-restore"), *self.common(), "%f", "%p"])
