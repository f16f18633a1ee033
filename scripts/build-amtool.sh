#!/usr/bin/env bash
# Installs amtool (Alertmanager's config checker) at the version the Alertmanager image runs, from the
# Go module proxy, for test/alertmanager-config.test.ts: Debian's amtool is too old to know the webhook
# url_file the generated configuration uses. Output (reused when present):
#   ${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/amtool-<version>/amtool
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h|--help) echo "usage: bash scripts/build-amtool.sh   (prints the path of the cached amtool)"; exit 0 ;;
  "") ;;
  *) echo "error: unknown argument \"$1\"" >&2; exit 2 ;;
esac
version="$(sed -n "s/^export const AMTOOL_VERSION = '\([^']*\)';.*/\1/p" lib/versions.ts)"
[ -n "$version" ] || { echo "error: AMTOOL_VERSION not found in lib/versions.ts" >&2; exit 2; }
binary="${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/amtool-$version/amtool"
if [ ! -x "$binary" ]; then
  command -v go >/dev/null || { echo "error: go is needed to build amtool" >&2; exit 1; }
  GOBIN="$(dirname "$binary")" go install "github.com/prometheus/alertmanager/cmd/amtool@$version" >&2
fi
echo "$binary"
