#!/usr/bin/env bash
# Installs helm at the pinned version (lib/versions.ts HELM_VERSION) from the Go module proxy, for
# scripts/check-chart-pods.ts: it renders the pinned charts with our values. Output (reused when present):
#   ${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/helm-<version>/helm
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h|--help) echo "usage: bash scripts/build-helm.sh   (prints the path of the cached helm)"; exit 0 ;;
  "") ;;
  *) echo "error: unknown argument \"$1\"" >&2; exit 2 ;;
esac
version="$(sed -n "s/^export const HELM_VERSION = '\([^']*\)';.*/\1/p" lib/versions.ts)"
[ -n "$version" ] || { echo "error: HELM_VERSION not found in lib/versions.ts" >&2; exit 2; }
binary="${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/helm-$version/helm"
if [ ! -x "$binary" ]; then
  command -v go >/dev/null || { echo "error: go is needed to build helm" >&2; exit 1; }
  # Helm's release builds stamp the version the same way; without it `helm version` says only the minor.
  GOBIN="$(dirname "$binary")" go install -ldflags "-X helm.sh/helm/v3/internal/version.version=$version" "helm.sh/helm/v3/cmd/helm@$version" >&2
fi
echo "$binary"
