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

CHECKOV_VERSION="$(sed -n "s/^export const CHECKOV_VERSION = '\([^']*\)';.*/\1/p" lib/versions.ts)"
[[ -n "$CHECKOV_VERSION" ]] || { echo "error: CHECKOV_VERSION not found in lib/versions.ts" >&2; exit 2; }
cache="${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}"
venv="$cache/checkov-$CHECKOV_VERSION"

if [[ ! -f "$venv/.complete" ]]; then
  echo "installing checkov $CHECKOV_VERSION into $venv (first run only)" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" >&2
  [[ "$("$venv/bin/checkov" --version)" == "$CHECKOV_VERSION" ]] || { echo "error: checkov --version is not $CHECKOV_VERSION" >&2; exit 1; }
  touch "$venv/.complete"
fi
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
