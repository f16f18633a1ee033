#!/usr/bin/env bash
# Installs amtool (Alertmanager's config checker) at the version the Alertmanager image runs, from the
# Go module proxy, for test/alertmanager-config.test.ts: Debian's amtool is too old to know the webhook
# url_file the generated configuration uses. Output (reused when present):
#   ${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/amtool-<version>/amtool
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/cached-tools.sh
no_arguments "usage: bash scripts/build-amtool.sh   (prints the path of the cached amtool)" "$@"
version="$(pinned_version AMTOOL_VERSION)"
binary="${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/amtool-$version/amtool"
go_tool "$binary" "github.com/prometheus/alertmanager/cmd/amtool@$version"
echo "$binary"
