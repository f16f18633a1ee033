#!/usr/bin/env bash
# `npm run load -- [options]`: the load generator (scripts/load/load.py, Locust) in its own cached virtualenv
# (scripts/load/venv.sh; needs python3 >= 3.10 with venv, and PyPI on first use).
# `npm run load -- measure [...]`: the measured capacity run on the loopback stack (scripts/load/measure.sh).
# `npm run smoke -- [options]` (`run.sh smoke`): the post-deployment smoke test (scripts/load/smoke.py), same client.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ "${1:-}" == measure ]]; then
  shift
  exec bash "$HERE/measure.sh" "$@"
fi
VENV="$(bash "$HERE/venv.sh")"
if [[ "${1:-}" == smoke ]]; then
  shift
  exec "$VENV/bin/python" "$HERE/smoke.py" "$@"
fi
exec "$VENV/bin/python" "$HERE/load.py" "$@"
