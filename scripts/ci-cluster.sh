#!/usr/bin/env bash
# Build (or reuse from cache) the e2e Kubernetes control plane for CI.
# Called by .ci/run before pytest; see docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then
        export PATH="/usr/local/go/bin:$PATH"
    else
        echo "ci-cluster: FATAL: Go toolchain not found (need go >= 1.26 on PATH or in /usr/local/go)." >&2
        echo "ci-cluster: the e2e control plane (tests/cluster) is built from Go modules." >&2
        exit 1
    fi
fi
echo "ci-cluster: $(go version)"

start=$(date +%s)
python3 scripts/testcluster build
end=$(date +%s)
echo "ci-cluster: scripts/testcluster build took $((end - start))s"
python3 scripts/testcluster paths | python3 -c 'import json,sys; d=json.load(sys.stdin); print("ci-cluster: cache", d["cache_dir"]); print("ci-cluster: versions", json.dumps(d["manifest"]["versions"]))'
