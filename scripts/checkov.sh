#!/usr/bin/env bash
# Runs checkov (kubernetes framework) over rendered manifests and fails on any finding that is not a
# documented exception. Exceptions live on the objects themselves as checkov.io/skip<N> annotations
# with a reason (lib/model/scanner-exceptions.ts); this script never skips a check globally.
#
#   scripts/checkov.sh [DIR...]      default: dist/
#   scripts/checkov.sh --install     only create the cached virtualenv, print its path
#
# checkov is pinned here and installed from PyPI into a virtualenv outside the repository:
#   ${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/checkov-<version>   (reused when present)
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/cached-tools.sh
CHECKOV_VERSION="$(pinned_version CHECKOV_VERSION)"
venv="${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/checkov-$CHECKOV_VERSION"
python_venv "$venv" "[[ \"\$(checkov --version)\" == $CHECKOV_VERSION ]]" "checkov==$CHECKOV_VERSION"
if [[ "${1:-}" == "--install" ]]; then
  echo "$venv"
  exit 0
fi

directories=("$@")
[[ ${#directories[@]} -gt 0 ]] || directories=(dist)
status=0
for directory in "${directories[@]}"; do
  echo "checkov $CHECKOV_VERSION: $directory"
  # --quiet: failed checks only; skipped checks (annotated exceptions) are counted in the summary.
  "$venv/bin/checkov" --framework kubernetes --directory "$directory" --quiet --compact --skip-download || status=$?
done
exit "$status"
