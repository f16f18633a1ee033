#!/usr/bin/env bash
# Checks the generated Synapse configuration with the real matrix-synapse from PyPI (the version the
# image is built from, lib/versions.ts SYNAPSE_VERSION):
# 1. `python -m synapse.config read media.can_load_media_repo -c homeserver.yaml [-c <worker>.yaml]`
#    must report "Config parses OK!" for main and for every worker type, and the media repository
#    must be loaded exactly on the processes with a `media` listener (Synapse silently ignores a
#    media listener where the repository is disabled).
# 2. scripts/check_worker_routes.py compares the router's table (haproxy.cfg) with the endpoints the
#    pinned Synapse registers on main and on a generic worker (generate_workers_map's enumeration), and
#    stream writes with stream_writers; once for DIST_DIR and once for the same config with every
#    stream-writer pool that may be empty at 0 (scripts/writer-pools-at-zero.ts).
#
# Usage: scripts/check-synapse-config.sh [--all] [DIST_DIR]
#   --all      check every worker file, not one per worker type
#   DIST_DIR   synthesized output (default: dist)
# Env: SYNAPSE_CHECK_VENV (default .tmp/synapse-check-venv) is created on first use and reused.
#      SYNAPSE_CHECK_PLANT=config|media|route plants a known defect into the extracted files, to prove
#      that the check fails on it (config: a stream writer missing from instance_map; media: the media
#      worker loses enable_media_repo; route: PUT push rules sent to a generic worker; writer: receipts
#      sent to a generic worker while receipts.count is 0).
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

source "$ROOT/scripts/lib/cached-tools.sh"
SYNAPSE_VERSION="$(pinned_version SYNAPSE_VERSION)"
S3_VERSION="$(pinned_version S3_STORAGE_PROVIDER_VERSION)"
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

# extract DIST TARGET: the Synapse and router ConfigMaps of a synthesized output into TARGET, in-pod
# paths rewritten into $WORK (one set of fake secrets serves every extracted output).
extract() {
"$PY" - "$1" "$2" "$WORK" <<'PY'
import pathlib, re, sys, yaml

dist, target_root, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
wanted = {"synapse-config": target_root / "config", "synapse-workers": target_root / "worker-config", "synapse-router-config": target_root / "router"}
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
        if name != "synapse-router-config":
            text = in_pod.sub(lambda match: f"{work}/{match.group(1)}/", text)
        (target / key).write_text(text)
PY
}
extract "$DIST" "$WORK"

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

case "${SYNAPSE_CHECK_PLANT:-}" in
  "") ;;
  config) printf 'stream_writers:\n  typing: [not-in-instance-map]\n' >> "$WORK/config/homeserver.yaml" ;;
  media) sed -i '/^enable_media_repo: true$/d' "$WORK"/worker-config/synapse-media-*.yaml ;;
  route) sed -i 's/^\(    use_backend synapse-generic if route_push_rules_read\) method_get$/\1/' "$WORK/router/haproxy.cfg" ;;
  writer) ;; # planted in the variant below
  *) echo "unknown SYNAPSE_CHECK_PLANT=$SYNAPSE_CHECK_PLANT" >&2; exit 2 ;;
esac

# check LABEL LAST_CONFIG_FILE -c FILE...: parses the process config and compares where Synapse loads
# the media repository with whether the process has a `media` listener.
check() {
  local label="$1" last="$2"; shift 2
  local output expected loaded
  expected=False
  if grep -qE '^ *- media$' "$last"; then expected=True; fi
  if output="$(cd "$WORK" && "$PY" -m synapse.config read media.can_load_media_repo "$@" 2>&1)" && grep -q "Config parses OK" <<<"$output"; then
    loaded="$(sed -n 's/^media.can_load_media_repo: //p' <<<"$output")"
    if [[ "$loaded" == "$expected" ]]; then
      echo "ok   $label (media repository: $loaded)"
    else
      echo "FAIL $label: media repository loaded: $loaded, media listener: $expected"; FAILED=1
    fi
  else
    echo "FAIL $label"; echo "$output" | tail -20; FAILED=1
  fi
}

FAILED=0
check "main" "$WORK/config/homeserver.yaml" -c "$WORK/config/homeserver.yaml"
declare -A seen=()
for file in "$WORK"/worker-config/*.yaml; do
  name="$(basename "$file" .yaml)"
  type="${name%-*}"
  if [[ $ALL -eq 0 && -n "${seen[$type]:-}" ]]; then continue; fi
  seen[$type]=1
  check "$name" "$file" -c "$WORK/config/homeserver.yaml" -c "$file"
done
echo "checked main and ${#seen[@]} worker types"

# The router's table against the endpoints Synapse registers (needs the MAIN_BY_CHOICE list from the model).
(cd "$ROOT" && npx --no-install tsx -e \
  'import { MAIN_BY_CHOICE } from "./lib/model/routes"; console.log(JSON.stringify(MAIN_BY_CHOICE));') > "$WORK/main-by-choice.json"
# route_check LABEL DIR: scripts/check_worker_routes.py on DIR/config/homeserver.yaml and DIR/router/haproxy.cfg.
route_check() {
  local label="$1" dir="$2"
  echo "route check: $label"
  if ! (cd "$WORK" && "$PY" "$ROOT/scripts/check_worker_routes.py" "$dir/config/homeserver.yaml" "$dir/router/haproxy.cfg" \
    "$WORK/main-by-choice.json" 2> "$WORK/routes.stderr"); then
    grep -v "already registered" "$WORK/routes.stderr" | tail -20 || true
    FAILED=1
  fi
}
route_check "$(basename "$DIST")" "$WORK"

# The same config with every stream-writer pool that may be empty at count 0 (those streams stay on
# main): their writes must then reach main, not a worker that is no writer.
VARIANT="$WORK/writers-on-main"
mkdir -p "$VARIANT"
(cd "$ROOT" && npx --no-install tsx scripts/writer-pools-at-zero.ts > "$VARIANT/deployment.yaml")
(cd "$ROOT" && npx --no-install tsx main.ts --config "$VARIANT/deployment.yaml" --out "$VARIANT/dist" > /dev/null)
extract "$VARIANT/dist" "$VARIANT"
case "${SYNAPSE_CHECK_PLANT:-}" in
  writer) sed -i 's/^\(    use_backend \)synapse-main\( if route_receipt \)method_post_put_delete$/\1synapse-generic\2/' "$VARIANT/router/haproxy.cfg" ;;
esac
route_check "writer pools at 0 ($(sed -n 's/^# zero: //p' "$VARIANT/deployment.yaml"))" "$VARIANT"

if [[ $FAILED -ne 0 ]]; then echo "synapse config check failed" >&2; exit 1; fi
echo "synapse config check passed (matrix-synapse $SYNAPSE_VERSION)"
