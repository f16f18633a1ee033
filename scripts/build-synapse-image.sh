#!/usr/bin/env bash
# Builds the project's Synapse image (images/synapse: the official image plus the pinned
# synapse-s3-storage-provider of images/synapse/requirements.txt) with docker or podman, and
# optionally pushes it. Prints the image reference to put into config synapse.image.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<USAGE
usage: bash scripts/build-synapse-image.sh [--push] [--tag TAG] [--engine docker|podman] [--platform LIST] REPOSITORY

Builds images/synapse for the Synapse version pinned in lib/versions.ts and tags it
REPOSITORY:<tag>, where <tag> is the project's tag for that version (for example
registry.example.net/matrix/synapse-s3:v1.163.2-s3-1.7.0). Then set in config/deployment.yaml:

  synapse:
    image: { repository: REPOSITORY, tag: <tag> }

options:
  --push             push the image after building (log in to the registry first)
  --tag TAG          another tag than the project's tag for the pinned versions
  --engine NAME      docker or podman (default: whichever is installed, docker first)
  --platform LIST    e.g. linux/amd64,linux/arm64 (default: the builder's own)
  --help             print this help and exit
USAGE
}

push=false engine="" platform="" repository="" tag=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --push) push=true ;;
    --tag) tag="${2:?--tag needs a value}"; shift ;;
    --tag=*) tag="${1#*=}" ;;
    --engine) engine="${2:?--engine needs a value}"; shift ;;
    --engine=*) engine="${1#*=}" ;;
    --platform) platform="${2:?--platform needs a value}"; shift ;;
    --platform=*) platform="${1#*=}" ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "error: unknown option \"$1\" (--help for the options)" >&2; exit 2 ;;
    *) [[ -z "$repository" ]] || { echo "error: one REPOSITORY only" >&2; exit 2; }; repository="$1" ;;
  esac
  shift
done
[[ -n "$repository" ]] || { usage >&2; exit 2; }
[[ "$repository" != *:* || "$repository" == *:*/* ]] || { echo "error: give the repository without a tag; the tag follows the pinned versions" >&2; exit 2; }

source "$ROOT/scripts/lib/cached-tools.sh"
synapse_version="$(pinned_version SYNAPSE_VERSION)"
s3_version="$(pinned_version S3_STORAGE_PROVIDER_VERSION)"
[[ -n "$synapse_version" && -n "$s3_version" ]] || { echo "error: cannot read the versions from lib/versions.ts" >&2; exit 2; }
[[ -n "$tag" ]] || tag="v${synapse_version}-s3-${s3_version}"

if [[ -z "$engine" ]]; then
  if command -v docker >/dev/null; then engine=docker; elif command -v podman >/dev/null; then engine=podman; else
    echo "error: neither docker nor podman is installed" >&2; exit 1
  fi
fi
[[ "$engine" == docker || "$engine" == podman ]] || { echo "error: --engine must be docker or podman" >&2; exit 2; }

args=(build --build-arg "SYNAPSE_VERSION=$synapse_version" --tag "$repository:$tag")
[[ -z "$platform" ]] || args+=(--platform "$platform")
"$engine" "${args[@]}" "$ROOT/images/synapse"
if $push; then "$engine" push "$repository:$tag"; fi
echo "image: $repository:$tag"
echo "config: synapse.image: { repository: $repository, tag: $tag }"
