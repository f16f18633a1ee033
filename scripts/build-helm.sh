#!/usr/bin/env bash
# Installs helm at the pinned version (lib/versions.ts HELM_VERSION) from the Go module proxy, for
# scripts/check-chart-pods.ts: it renders the pinned charts with our values. Output (reused when present):
#   ${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/helm-<version>/helm
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/cached-tools.sh
no_arguments "usage: bash scripts/build-helm.sh   (prints the path of the cached helm)" "$@"
version="$(pinned_version HELM_VERSION)"
binary="${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/helm-$version/helm"
# Helm's release builds stamp the version the same way; without it `helm version` says only the minor.
go_tool "$binary" "helm.sh/helm/v3/cmd/helm@$version" -ldflags "-X helm.sh/helm/v3/internal/version.version=$version"
echo "$binary"
