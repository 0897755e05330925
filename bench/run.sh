#!/usr/bin/env bash
# npm run bench: every benchmark of bench/README.md against kubectl, side by side in one run.
# Starts the local cluster if it is down (and stops it again at the end), builds the CLI release
# (single executable), runs bench/bench.mjs on Node 24, prints the table and writes it into
# bench/README.md. BENCH_ONLY=cli,status,... runs some rows (the others keep their last results).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export TURBO_TELEMETRY_DISABLED=1
export KUBECONFIG="$ROOT/.cluster/kubeconfig"
export PATH="$ROOT/.tools/bin:/usr/lib/postgresql/15/bin:$PATH"

if [ ! -x /usr/bin/time ]; then
  echo "bench: installing GNU time (peak memory)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq time >/dev/null; else sudo apt-get install -y -qq time >/dev/null; fi
fi
for tool in pgbench psql pg_isready; do
  command -v "$tool" >/dev/null || { echo "bench: $tool missing (apt-get install postgresql-15)" >&2; exit 1; }
done

started_cluster=""
cleanup() {
  local rc=$?
  if [ -n "$started_cluster" ]; then echo "bench: stopping the local cluster (the bench started it)" >&2; bash tools/cluster/down.sh >&2 || true; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if bash tools/cluster/status.sh >/dev/null 2>&1; then
  echo "bench: local cluster already up" >&2
else
  echo "bench: starting the local cluster" >&2
  bash tools/cluster/up.sh </dev/null >&2
  started_cluster=1
fi

echo "bench: building (turbo) and the CLI release (single executable)" >&2
npx turbo run build --output-logs=errors-only >&2
host="linux/$([ "$(uname -m)" = aarch64 ] && echo arm64 || echo amd64)"   # this machine's executable only
npm run release -w kubectl-pgbackup -- --platform "$host" >/dev/null 2>&1 || npm run release -w kubectl-pgbackup -- --platform "$host" >&2

rc=0
npm exec -- node bench/bench.mjs || rc=$?
npm exec -- node bench/table.mjs --readme
npx prettier --log-level warn --write bench/README.md bench/results.json
exit $rc
