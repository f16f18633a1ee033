#!/usr/bin/env bash
# Reports kube-score's critical and warning findings per workload over rendered manifests (default
# dist/). A report, not a gate: what it still flags are choices documented in docs/security.md
# (IfNotPresent with pinned tags, identical readiness/liveness endpoints, single-instance Deployments).
# Built from the Go module proxy at the pinned version into
#   ${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/kube-score-<version>/kube-score   (reused when present)
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/cached-tools.sh
KUBE_SCORE_VERSION="$(pinned_version KUBE_SCORE_VERSION)"
binary="${MATRIX_IT_CACHE:-/var/cache/matrix-platform-it}/kube-score-$KUBE_SCORE_VERSION/kube-score"
command -v go >/dev/null || [[ -x "$binary" ]] || { echo "kube-score: SKIPPED, go is needed to build it" >&2; exit 0; }
go_tool "$binary" "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"

directory="${1:-dist}"
# kube-score exits 1 whenever it has critical findings; the report below is the output that matters,
# and an empty or broken output still fails in the JSON parser.
scores="$(find "$directory" -name '*.yaml' -print0 | sort -z | xargs -0 "$binary" score --output-format json 2>/dev/null || true)"
printf '%s' "$scores" | python3 -c '
import collections, json, sys
workloads, findings = 0, collections.Counter()
for scored in json.load(sys.stdin):
    if scored["type_meta"]["kind"] not in ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job"):
        continue
    workloads += 1
    for check in scored["checks"]:
        if check["grade"] in (1, 5) and not check.get("skipped"):
            findings[check["check"]["id"]] += 1
total = sum(findings.values())
print(f"kube-score: {workloads} workloads, {total} critical/warning findings ({total / max(workloads, 1):.1f} per workload)")
for check, count in findings.most_common():
    print(f"  {count:3d}  {check}")
'
