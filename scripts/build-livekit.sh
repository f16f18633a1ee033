#!/usr/bin/env bash
# Builds livekit-server at the pinned version (lib/versions.ts) from the Go module proxy, for
# test/livekit-run.test.ts: the real server loads the generated config.yaml. Output:
#   ${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/livekit-server-<version>   (reused when present)
#
# `go install` refuses livekit-server because its go.mod replaces three pion modules with LiveKit forks
# (github.com/livekit/webrtc-pion, dtls, ice), and those forks are not served by the module proxy. The
# build therefore uses the upstream pion modules: the replace lines are dropped and the two calls that
# switch on the forks' transport extension ("warp", SettingEngine.EnableSped/EnableSctpSnap, only used
# with LiveKit's own clients) are removed. Config parsing (pkg/config), Redis/Sentinel, the HTTP server
# and every key we emit are LiveKit's own code, unchanged. The script stops if the patched lines are
# not found exactly, so a version bump that changes them is noticed.
set -euo pipefail
cd "$(dirname "$0")/.."

version="$(npx --no-install tsx -e "import { images } from './lib/versions'; process.stdout.write(images.livekit.tag)")"
cache="${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}"
binary="$cache/livekit-server-$version"
if [ -x "$binary" ]; then
  echo "livekit-server $version: $binary (cached)"
  exit 0
fi
command -v go >/dev/null || { echo "error: go is needed to build livekit-server" >&2; exit 1; }

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
module="github.com/livekit/livekit-server@$version"
dir="$(cd "$work" && go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -n "$dir" ] || { echo "error: go mod download $module returned no directory" >&2; exit 1; }
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"

forks="$(grep -c '^replace github.com/pion/' go.mod || true)"
[ "$forks" = 3 ] || { echo "error: expected 3 pion replace lines in $module go.mod, found $forks" >&2; exit 1; }
sed -i '/^replace github.com\/pion\//d' go.mod
for call in 'se.EnableSped(true)' 'se.EnableSctpSnap(true)'; do
  [ "$(grep -cF "$call" pkg/rtc/transport.go)" = 1 ] || { echo "error: $call not found once in pkg/rtc/transport.go" >&2; exit 1; }
  grep -vF "$call" pkg/rtc/transport.go > pkg/rtc/transport.go.new
  mv pkg/rtc/transport.go.new pkg/rtc/transport.go
done

mkdir -p "$cache"
GOFLAGS=-mod=mod go build -trimpath -o "$binary.tmp" ./cmd/server
mv "$binary.tmp" "$binary"
"$binary" --version
echo "livekit-server $version: $binary"
