#!/usr/bin/env bash
# Checks the generated Synapse configuration with the real matrix-synapse from PyPI (the version the
# image is built from, lib/versions.ts SYNAPSE_VERSION): `python -m synapse.config -c homeserver.yaml
# [-c <worker>.yaml]` must report "Config parses OK!" for main and for every worker type.
#
# Usage: scripts/check-synapse-config.sh [--all] [DIST_DIR]
#   --all      check every worker file, not one per worker type
#   DIST_DIR   synthesized output (default: dist)
# Env: SYNAPSE_CHECK_VENV (default .tmp/synapse-check-venv) is created on first use and reused.
#
# The ConfigMaps name paths inside the pods. They are rewritten into a temporary directory:
#   /config/          -> $WORK/config/          (homeserver.yaml, log.yaml, aws.conf)
#   /worker-config/   -> $WORK/worker-config/   (one <worker_name>.yaml per worker)
#   /secrets/         -> $WORK/secrets/         (fake secret files written here, never real ones)
#   /run/synapse/     -> $WORK/run/synapse/     (the passfile copy)
#   /data/            -> $WORK/data/            (media store)
#   /tmp/             -> $WORK/tmp/             (pid file)
# Nothing connects to PostgreSQL, Redis or S3: `synapse.config` only parses and validates.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ALL=0
if [[ "${1:-}" == "--all" ]]; then ALL=1; shift; fi
DIST="${1:-$ROOT/dist}"
VENV="${SYNAPSE_CHECK_VENV:-$ROOT/.tmp/synapse-check-venv}"

version_of() { sed -n "s/^export const $1 = '\([^']*\)';.*/\1/p" "$ROOT/lib/versions.ts"; }
SYNAPSE_VERSION="$(version_of SYNAPSE_VERSION)"
S3_VERSION="$(version_of S3_STORAGE_PROVIDER_VERSION)"
[[ -n "$SYNAPSE_VERSION" && -n "$S3_VERSION" ]] || { echo "cannot read versions from lib/versions.ts" >&2; exit 2; }

PY="$VENV/bin/python"
if ! "$PY" -c "import synapse, sys; sys.exit(synapse.__version__ != '$SYNAPSE_VERSION')" 2>/dev/null; then
  echo "creating $VENV with matrix-synapse==$SYNAPSE_VERSION synapse-s3-storage-provider==$S3_VERSION"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "matrix-synapse[postgres,redis]==$SYNAPSE_VERSION" "synapse-s3-storage-provider==$S3_VERSION"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Extract the ConfigMaps from dist/ and rewrite the in-pod paths.
"$PY" - "$DIST" "$WORK" <<'PY'
import pathlib, re, sys, yaml

dist, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wanted = {"synapse-config": work / "config", "synapse-workers": work / "worker-config"}
found = {}
for path in sorted(dist.rglob("*.yaml")):
    for doc in yaml.safe_load_all(path.read_text()):
        if isinstance(doc, dict) and doc.get("kind") == "ConfigMap" and doc["metadata"]["name"] in wanted:
            found[doc["metadata"]["name"]] = doc.get("data", {})
missing = set(wanted) - set(found)
if missing:
    sys.exit(f"ConfigMaps not found under {dist}: {', '.join(sorted(missing))} (run npm run synth first)")
# One pass, so a rewritten path (under a /tmp work dir) is never rewritten again.
in_pod = re.compile(r"(?<=[:-] )/(worker-config|config|secrets|run/synapse|data|tmp)/")
for name, target in wanted.items():
    target.mkdir(parents=True, exist_ok=True)
    for key, text in found[name].items():
        text = in_pod.sub(lambda match: f"{work}/{match.group(1)}/", text)
        (target / key).write_text(text)
PY

# Fake secrets, same file names as the mounted Secrets (lib/model/synapse-config.ts SYNAPSE_PATHS).
mkdir -p "$WORK"/secrets/{synapse,signing,redis,turn,postgres} "$WORK"/run/synapse "$WORK"/data/media_store "$WORK"/tmp
for key in registration_shared_secret macaroon_secret_key form_secret worker_replication_secret; do
  "$PY" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$WORK/secrets/synapse/$key"
done
"$PY" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$WORK/secrets/redis/password"
"$PY" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$WORK/secrets/turn/secret"
"$PY" -m synapse._scripts.generate_signing_key -o "$WORK/secrets/signing/signing.key"
echo "*:5432:synapse:synapse:fake" > "$WORK/run/synapse/pgpass"
chmod 0600 "$WORK/run/synapse/pgpass"

check() {
  local label="$1"; shift
  local output
  if output="$(cd "$WORK" && "$PY" -m synapse.config "$@" 2>&1)" && grep -q "Config parses OK" <<<"$output"; then
    echo "ok   $label"
  else
    echo "FAIL $label"; echo "$output" | tail -20; FAILED=1
  fi
}

FAILED=0
check "main" -c "$WORK/config/homeserver.yaml"
declare -A seen=()
for file in "$WORK"/worker-config/*.yaml; do
  name="$(basename "$file" .yaml)"
  type="${name%-*}"
  if [[ $ALL -eq 0 && -n "${seen[$type]:-}" ]]; then continue; fi
  seen[$type]=1
  check "$name" -c "$WORK/config/homeserver.yaml" -c "$file"
done
if [[ $FAILED -ne 0 ]]; then echo "synapse config check failed" >&2; exit 1; fi
echo "synapse config check passed (matrix-synapse $SYNAPSE_VERSION)"
