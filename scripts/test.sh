#!/usr/bin/env bash
# npm test | test:unit | test:integration | test:cov
#   unit:        *.test.ts, in-memory fakes only, no cluster
#   integration: *.int.test.ts, against the local cluster (started here if it is not up, stopped again after)
#   all:         both, in one jest run (one coverage report with --coverage)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
mode=${1:-all}; shift || true

echo "node $(node --version) ($(command -v node))"
case "$(node --version)" in v2[4-9]*|v[3-9][0-9]*) ;; *) echo "error: Node >= 24 expected (npm scripts use node_modules/.bin/node; run npm ci)" >&2; exit 1;; esac

export TURBO_TELEMETRY_DISABLED=1
npx turbo run build --output-logs=errors-only

started_cluster=""
stop_cluster() { if [ -n "$started_cluster" ]; then bash tools/cluster/down.sh; fi; }
trap stop_cluster EXIT
ensure_cluster() {
  if bash tools/cluster/status.sh >/dev/null 2>&1; then
    echo "local cluster: already up"
  else
    bash tools/cluster/up.sh
    started_cluster=1
  fi
}

case "$mode" in
  unit) npx jest --testPathIgnorePatterns '\.int\.test\.' '/node_modules/' '/dist/' "$@" ;;
  integration) ensure_cluster; npx jest --testPathPatterns '\.int\.test\.' "$@" ;;
  all) ensure_cluster; npx jest "$@" ;;
  *) echo "usage: scripts/test.sh unit|integration|all [jest args]" >&2; exit 2 ;;
esac
