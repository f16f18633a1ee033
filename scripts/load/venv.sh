#!/usr/bin/env bash
# Creates (once) and prints the path of the load tool's virtualenv (scripts/load/requirements.txt).
# It lives outside the repository, keyed by the Python version and a hash of the requirement list, so
# reruns reuse it and a version bump builds a new one.
#   MATRIX_LOAD_CACHE=DIR   where to keep it (default: $XDG_CACHE_HOME or ~/.cache, /matrix-platform-load)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${MATRIX_LOAD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/matrix-platform-load}"
command -v python3 >/dev/null || { echo "python3 (>= 3.10) is required" >&2; exit 2; }
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || { echo "python3 >= 3.10 is required" >&2; exit 2; }
KEY="$( { python3 -c 'import sys; print(sys.version.split()[0])'; grep -v '^#' "$HERE/requirements.txt"; } | sha256sum | cut -c1-12)"
VENV="$CACHE/venv-load-$KEY"
source "$HERE/../lib/cached-tools.sh"
python_venv "$VENV" 'python -c "import locust, requests, gevent"' -r "$HERE/requirements.txt"
echo "$VENV"
