# Shared by the scripts that install a pinned tool outside the repository and reuse it on later runs.
# Source it; the functions print to stdout only what the caller captures.

CACHED_TOOLS_VERSIONS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/lib/versions.ts"

# The value of `export const <NAME> = '<value>';` in lib/versions.ts.
pinned_version() {
  local value
  value="$(sed -n "s/^export const $1 = '\([^']*\)';.*/\1/p" "$CACHED_TOOLS_VERSIONS")"
  [[ -n "$value" ]] || { echo "error: $1 not found in lib/versions.ts" >&2; return 2; }
  echo "$value"
}

# go_tool BINARY_PATH PACKAGE@VERSION [go install flags...]: builds the binary with `go install` into
# its folder unless it is already there.
go_tool() {
  local binary="$1" package="$2"
  shift 2
  if [[ ! -x "$binary" ]]; then
    command -v go >/dev/null || { echo "error: go is needed to build $(basename "$binary")" >&2; return 1; }
    mkdir -p "$(dirname "$binary")"
    GOBIN="$(dirname "$binary")" go install "$@" "$package" >&2
  fi
}

# python_venv VENV_PATH CHECK_COMMAND PIP_ARGS...: creates the virtualenv with the pip arguments unless a
# complete one is there; CHECK_COMMAND (run with the venv's bin first on PATH) must succeed before it
# counts as complete, so an interrupted install is redone.
python_venv() {
  local venv="$1" check="$2"
  shift 2
  if [[ ! -f "$venv/.complete" ]]; then
    echo "building $venv (first run only)" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
    PATH="$venv/bin:$PATH" bash -c "$check" >&2 || { echo "error: $venv failed its check: $check" >&2; return 1; }
    touch "$venv/.complete"
  fi
}

# no_arguments USAGE "$@": for a script that takes none; answers --help with USAGE, refuses anything else.
no_arguments() {
  local usage="$1"
  shift
  case "${1:-}" in
    -h|--help) echo "$usage"; exit 0 ;;
    "") ;;
    *) echo "error: unknown argument \"$1\"" >&2; exit 2 ;;
  esac
}
