#!/usr/bin/env bash
# `npm run load -- measure [load tool options]`: the measured capacity run. Starts the generated configuration
# on the loopback stack (test/integration/stack.py; root, the integration suite's packages and venv), runs the
# load tool against it while sampling every process (test/integration/load_phase.py), stores the raw figures in
# docs/capacity-measured.json and writes docs/capacity-measured.md (scripts/capacity-measured.ts).
# Default size: 200 clients for 120 s at 6 messages/s; options after `measure` go to the load tool (e.g. --users 300).
# Uses fixed loopback addresses: never run it next to another integration run.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
IT="$ROOT/test/integration"
cd "$ROOT"
[[ "$(id -u)" == 0 ]] || { echo "npm run load -- measure runs the loopback stack: run it as root" >&2; exit 2; }
PY="$(bash "$IT/venv.sh")/bin/python"
WORK="$(mktemp -d /tmp/matrix-load.XXXXXX)"
chmod 0755 "$WORK"
cleanup() {
  "$PY" "$IT/stack.py" down --work "$WORK" >/dev/null 2>&1 || true
  if [[ -n "${LOAD_KEEP:-}" ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
npm run -s synth >/dev/null
cp -r "$ROOT/dist" "$WORK/dist"
"$PY" "$IT/stack.py" up --work "$WORK" --dist "$WORK/dist"
set +e
"$PY" "$IT/load_phase.py" --work "$WORK" --out "$ROOT/docs/capacity-measured.json" --users 200 --duration 120 --message-rate 6 "$@"
rc=$?
set -e
[[ -f "$ROOT/docs/capacity-measured.json" ]] || exit "$rc"
npx --no-install tsx scripts/capacity-measured.ts --config config/deployment.example.yaml --write docs/capacity-measured.md
exit "$rc"
