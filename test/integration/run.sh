#!/usr/bin/env bash
# Integration suite: runs the generated configuration (the ConfigMaps in dist/) as real programs on
# loopback addresses and checks the platform's behaviour end to end. See docs/testing.md.
#
#   npm run test:integration            (root: installs missing Debian packages; venv cached in /var/cache)
# Env: IT_WORK=DIR   keep the work dir there (default: a fresh mktemp dir, removed at exit)
#      IT_KEEP=1     keep the work dir (logs) after the run
#      IT_DIST=DIR   use this synthesized output instead of running `npm run synth`
#      IT_SKIP_SELFTEST=1  skip the harness self-test (deliberate breaks)
#      IT_SKIP_LOAD=1      skip the load phase
#      IT_LOAD_USERS=N IT_LOAD_SECONDS=S IT_LOAD_ARGS="..."  size of the load phase (default 60 clients, 45 s)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

SUITE_START=$(date +%s)
PHASE_NAMES=()
PHASE_SECONDS=()
PHASE_START=$SUITE_START
phase() {
  local now; now=$(date +%s)
  if [[ ${#PHASE_NAMES[@]} -gt 0 ]]; then PHASE_SECONDS+=($((now - PHASE_START))); fi
  PHASE_NAMES+=("$1"); PHASE_START=$now
  printf '\n--> %s\n' "$1"
}

WORK="${IT_WORK:-$(mktemp -d /tmp/matrix-it.XXXXXX)}"
mkdir -p "$WORK"
chmod 0755 "$WORK"
PY=""
PASSED=0
FAILED=0

# Every process group this run started is listed in pgids files (main stack and self-test stacks).
signal_all() {
  local file pgid name
  for file in "$WORK/pgids" "$WORK"/selftest-*/pgids; do
    [[ -f "$file" ]] || continue
    while read -r pgid name; do
      kill "-$1" -- "-$pgid" 2>/dev/null || true
    done <"$file"
  done
}

stop_everything() {
  signal_all TERM
  sleep 1
  signal_all KILL
}

summary() {
  local rc=$?
  set +e
  if [[ -n "$PY" && -f "$WORK/pgids" ]]; then "$PY" "$HERE/stack.py" down --work "$WORK" >/dev/null 2>&1; fi
  stop_everything
  local now; now=$(date +%s)
  PHASE_SECONDS+=($((now - PHASE_START)))
  printf '\nPhase timings:\n'
  for i in "${!PHASE_NAMES[@]}"; do printf '  %-48s %4ss\n' "${PHASE_NAMES[$i]}" "${PHASE_SECONDS[$i]:-0}"; done
  local file
  for file in "$WORK/results-scenarios.json" "$WORK/results.json"; do
    [[ -f "$file" ]] || continue
    printf 'Test timings (%s):\n' "$(basename "$file" .json)"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["durations"]; [print(f"  {k:<64} {v:>5}s") for k,v in d.items()]' "$file"
  done
  printf '  %-48s %4ss\n' "total" "$((now - SUITE_START))"
  if [[ -f "$WORK/measurements.json" ]]; then
    printf 'Measurements:\n'
    python3 -c 'import json,sys; [print(f"  {k:<48} {v}") for k,v in json.load(open(sys.argv[1])).items()]' "$WORK/measurements.json"
  fi
  if [[ -n "${IT_KEEP:-}" || -n "${IT_WORK:-}" ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  if [[ $rc -ne 0 && $FAILED -eq 0 ]]; then FAILED=1; fi
  echo "$PASSED passed, $FAILED failed"
  exit $(( rc != 0 || FAILED != 0 ))
}
trap summary EXIT
trap 'exit 130' INT TERM

count_results() {
  local file="$1"
  [[ -f "$file" ]] || { FAILED=$((FAILED + 1)); return; }
  local counts
  counts=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["counts"]; print(c["passed"], c["failed"] + c["error"])' "$file")
  PASSED=$((PASSED + ${counts% *})); FAILED=$((FAILED + ${counts#* }))
}

phase "system packages"
missing=()
for pair in postgres:postgresql redis-server:redis-server haproxy:haproxy turnserver:coturn openssl:openssl; do
  binary=${pair%%:*}; package=${pair#*:}
  if [[ "$binary" == postgres ]]; then ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=("$package"); continue; fi
  command -v "$binary" >/dev/null || [[ -x "/usr/sbin/$binary" ]] || missing+=("$package")
done
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if [[ ${#missing[@]} -gt 0 ]]; then
  [[ "$(id -u)" == 0 ]] || { echo "missing packages ${missing[*]} and not root" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start their own services: the suite runs its own instances.
  for service in postgresql redis-server haproxy coturn; do systemctl stop "$service" 2>/dev/null || service "$service" stop 2>/dev/null || true; done
fi
echo "ok: postgresql $(ls /usr/lib/postgresql | tail -1), $(redis-server --version | cut -d' ' -f3), $(/usr/sbin/haproxy -v | head -1 | cut -d' ' -f1-3)"

phase "python virtualenvs (cached)"
VENV="$(bash "$HERE/venv.sh")"
PY="$VENV/bin/python"
# barman-cloud-* for PostgreSQL's WAL archive and the backup/restore scenario.
IT_BARMAN_VENV="$(bash "$HERE/venv.sh" barman)"
export IT_BARMAN_VENV
# The previous Synapse release: the stack starts on it and test_upgrade.py upgrades it first.
PREVIOUS_VENV="$(bash "$HERE/venv.sh" previous)"
echo "$VENV $IT_BARMAN_VENV $PREVIOUS_VENV"

phase "synthesize dist/ and snapshot it"
if [[ -n "${IT_DIST:-}" ]]; then
  cp -r "$IT_DIST" "$WORK/dist"
else
  npm run -s synth >/dev/null
  # A private copy: other processes re-running synth cannot change the files under a running stack.
  cp -r "$ROOT/dist" "$WORK/dist"
fi

phase "start the stack from dist/"
IT_SYNAPSE_START_VENV="$PREVIOUS_VENV" "$PY" "$HERE/stack.py" up --work "$WORK" --dist "$WORK/dist"

phase "scenarios (pytest)"
rm -f "$WORK/results.json"
set +e
IT_WORK="$WORK" "$PY" -m pytest -p no:cacheprovider -q -rfE "$HERE/test_upgrade.py" "$HERE/test_platform.py" "$HERE/test_calls.py" "$HERE/test_smoke.py" "$HERE/test_backup_restore.py" 2>&1 | tail -n 60
pytest_rc=${PIPESTATUS[0]}
set -e
# pytest exits 5 when it collected nothing: that is a failure of the suite, not a pass.
if [[ $pytest_rc -eq 5 ]]; then echo "error: pytest collected no tests" >&2; FAILED=$((FAILED + 1)); fi
count_results "$WORK/results.json"
mv "$WORK/results.json" "$WORK/results-scenarios.json" 2>/dev/null || true

if [[ -z "${IT_SKIP_LOAD:-}" ]]; then
  phase "load (scripts/load: ${IT_LOAD_USERS:-60} clients, ${IT_LOAD_SECONDS:-45}s)"
  set +e
  # shellcheck disable=SC2086 # IT_LOAD_ARGS is a list of options
  "$PY" "$HERE/load_phase.py" --work "$WORK" --out "$WORK/load-measure.json" \
    --users "${IT_LOAD_USERS:-60}" --duration "${IT_LOAD_SECONDS:-45}" --progress-interval 10 ${IT_LOAD_ARGS:-}
  load_rc=$?
  set -e
  if [[ $load_rc -eq 0 ]]; then PASSED=$((PASSED + 1)); else echo "load phase failed (exit $load_rc)"; FAILED=$((FAILED + 1)); fi
fi

phase "stop the stack"
"$PY" "$HERE/stack.py" down --work "$WORK"

if [[ -z "${IT_SKIP_SELFTEST:-}" ]]; then
  phase "harness self-test (deliberate breaks must fail)"
  set +e
  IT_WORK="$WORK" IT_PYTHON="$PY" "$PY" -m pytest -p no:cacheprovider -q -s -rfE "$HERE/test_harness_breaks.py" 2>&1 | tail -n 40
  selftest_rc=${PIPESTATUS[0]}
  set -e
  if [[ $selftest_rc -eq 5 ]]; then echo "error: pytest collected no self-tests" >&2; FAILED=$((FAILED + 1)); fi
  count_results "$WORK/results.json"
fi
