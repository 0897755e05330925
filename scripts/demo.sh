#!/usr/bin/env bash
# npm run demo [-- --json]
# A PostgreSQL StatefulSet under write load (pgbench), a backup taken with the CLI while it writes,
# restored into a new StatefulSet and verified (amcheck, row counts), then the figures.
# Starts the local cluster if it is down. What it made stays for you to look at (namespace pgbackup-demo,
# removed by the next run); the last lines say how to look and how to clean up.
# With --json, progress goes to stderr and the last line of stdout is one JSON object:
#   {namespace, backupId, method, status, verified, rowsSource, rowsRestored, restoreSeconds}
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

json=""
for arg in "$@"; do
  case "$arg" in
    --json) json=1 ;;
    -h | --help) sed -n '2,8p' "$0" | cut -c3-; exit 0 ;;
    *) echo "usage: npm run demo [-- --json]" >&2; exit 2 ;;
  esac
done

# Progress is written to fd 3, never to the stdout that $(...) captures: the terminal's stdout in plain mode,
# stderr with --json (whose stdout carries only the JSON line).
if [ -n "$json" ]; then exec 3>&2; else exec 3>&1; fi
say() { printf '%s\n' "$*" >&3; }
step() { say ""; say "$1"; shift; for l in "$@"; do say "   $l"; done; }
# Runs a command whose output is progress, not data.
progress() { "$@" 2>&1 | sed -u 's/^/   /' >&3; }
# Runs a command whose output matters only when it fails.
hushed() {
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" != 0 ]; then printf '%s\n' "$out" | sed 's/^/   /' >&3; say "error: $* exited $rc"; fi
  return $rc
}
# Runs a command whose stdout is data (captured by the caller) and whose stderr is progress.
data() {
  local rc=0
  "$@" 2> >(sed -u 's/^/   /' >&3) || rc=$?
  wait $! 2>/dev/null || true # the progress is shown before the caller goes on
  return $rc
}

export TURBO_TELEMETRY_DISABLED=1
# Only the local cluster, whatever KUBECONFIG the caller's shell holds.
export KUBECONFIG="$ROOT/.cluster/kubeconfig"
export PATH="$ROOT/packages/kubectl-pgbackup/bin:$ROOT/.tools/bin:/usr/lib/postgresql/15/bin:$PATH"
export PGPASSWORD=demo
NS=pgbackup-demo
pgbench_pid=""

stop_pgbench() {
  if [ -n "$pgbench_pid" ]; then kill "$pgbench_pid" 2>/dev/null || true; wait "$pgbench_pid" 2>/dev/null || true; pgbench_pid=""; fi
}
on_exit() {
  local rc=$?
  stop_pgbench
  if [ "$rc" != 0 ]; then
    say ""
    say "demo failed (exit $rc). What it made is left for a look: kubectl get all,pvc,volumesnapshots -n $NS"
    say "clean up: kubectl delete namespace $NS   (with export KUBECONFIG=$KUBECONFIG)"
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

say "pgbackup demo: back up a PostgreSQL StatefulSet while it takes writes, restore it, prove the restore is good"
if bash tools/cluster/status.sh >/dev/null 2>&1; then
  step "0. the local cluster is up"
else
  step "0. starting the local cluster" "real etcd, kube-apiserver, scheduler, controllers, snapshot-controller and a CSI driver;" \
    "the first run builds them from their Go modules (27 minutes measured on a new 2-core machine, about 2 with Go's caches warm), later runs take seconds"
  progress bash tools/cluster/up.sh </dev/null
fi
hushed npx turbo run build --output-logs=errors-only

if kubectl get namespace "$NS" >/dev/null 2>&1; then
  say "   removing the previous demo's namespace $NS"
  kubectl delete namespace "$NS" --wait=true --timeout=180s >/dev/null
fi

step "1. a PostgreSQL 15 StatefulSet pg in namespace $NS" "one pod, its data directory and WAL on one 1Gi volume of the CSI driver"
kubectl create namespace "$NS" >/dev/null
kubectl apply -n "$NS" -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: pg}
spec:
  clusterIP: None
  selector: {app: pg}
  ports: [{name: postgres, port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: pg}
spec:
  serviceName: pg
  replicas: 1
  selector: {matchLabels: {app: pg}}
  template:
    metadata: {labels: {app: pg}}
    spec:
      containers:
      - name: postgres
        image: postgres:15
        args: [-c, max_wal_size=96MB]
        env:
        - {name: POSTGRES_PASSWORD, value: demo}
        - {name: PGDATA, value: /var/lib/postgresql/data/pgdata}
        readinessProbe:
          exec: {command: [pg_isready, -U, postgres]}
        volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: pgbackup-local
      resources: {requests: {storage: 1Gi}}
EOF
t0=$(date +%s)
kubectl rollout status statefulset/pg -n "$NS" --timeout=180s >/dev/null 2>&1 ||
  { say "error: pod pg-0 did not become ready in 180s"; kubectl get pods,pvc -n "$NS" >&3; exit 1; }
say "   pod pg-0 ready in $(($(date +%s) - t0))s"
port=$(kubectl get portforward pg-0 -n "$NS" -o jsonpath='{.spec.forwards[0].target.port}')

step "2. data and a write load" "pgbench -i -s 2 (200,000 accounts), then 4 clients writing transactions without pause"
hushed pgbench -i -s 2 -q -h 127.0.0.1 -p "$port" -U postgres postgres
pgbench -c 4 -j 2 -T 600 -n -h 127.0.0.1 -p "$port" -U postgres postgres >/dev/null 2>&1 &
pgbench_pid=$!
sleep 3

count() { # count(*) of pgbench_history in a pod
  kubectl exec -n "$NS" "$1" -- psql -XAtq -d postgres -c 'SELECT count(*) FROM pgbench_history'
}
rows_source=$(count pg-0)
step "3. kubectl pgbackup create pg --wait" "while pgbench writes (pgbench_history has $rows_source rows now):" \
  "CHECKPOINT in PostgreSQL, then one CSI VolumeSnapshot of the volume, a point-in-time image of data and WAL"
t0=$(date +%s)
backup_json=$(data kubectl pgbackup create pg -n "$NS" --wait --timeout 5m -o json)
backup_seconds=$(($(date +%s) - t0))
id=$(jq -r .id <<<"$backup_json")
method=$(jq -r .method <<<"$backup_json")
status=$(jq -r .status <<<"$backup_json")
say "   backup/$id: $status ($method) in ${backup_seconds}s"
stop_pgbench
rows_source_now=$(count pg-0)

step "4. kubectl pgbackup restore $id --to pg-restored" "a new StatefulSet whose volume is cloned from the snapshot; PostgreSQL replays its WAL"
restore_json=$(data kubectl pgbackup restore "$id" --to pg-restored -n "$NS" --wait --timeout 5m -o json)
restore_seconds=$(jq -r .restoreSeconds <<<"$restore_json")
rows_restored=$(count pg-restored-0)
say "   statefulset/pg-restored ready in ${restore_seconds}s"

step "5. kubectl pgbackup verify $id" "a scratch restore, amcheck on every b-tree index, row counts, and a check of ours;" \
  "the result is recorded on the backup"
verify_rc=0
verify_json=$(data kubectl pgbackup verify "$id" -n "$NS" -o json --sql "SELECT count(*) >= $rows_source FROM pgbench_history") ||
  verify_rc=$?
verified=$(jq -r '.verification.result // "failed"' <<<"$verify_json" 2>/dev/null || echo failed)
jq -r '.checks[] | "\(if .passed then "ok  " else "FAIL" end) \(.name): \(.detail)"' <<<"$verify_json" 2>/dev/null |
  while IFS= read -r l; do say "   $l"; done
progress kubectl pgbackup list pg -n "$NS"

lost=""
[ "$rows_restored" -ge "$rows_source" ] || lost=1
say ""
say "result"
say "   pgbench_history rows in pg           $rows_source when the backup started, $rows_source_now when the load stopped"
say "   pgbench_history rows in pg-restored  $rows_restored (all committed before the backup began, and those until the cut)"
say "   backup                               $status in ${backup_seconds}s ($method)"
say "   restore                              ready in ${restore_seconds}s"
say "   verification                         $verified"
[ -z "$lost" ] || say "error: the restore lost committed rows ($rows_restored < $rows_source)"
say ""
say "look at it (the demo left namespace $NS and the cluster up):"
say "   export KUBECONFIG=$KUBECONFIG PATH=$ROOT/packages/kubectl-pgbackup/bin:$ROOT/.tools/bin:\$PATH"
say "   kubectl pgbackup status $id -n $NS"
say "   kubectl get statefulsets,pods,volumesnapshots -n $NS"
say "clean up: kubectl delete namespace $NS; npm run cluster:down (add -- --purge to drop the cluster's state too)"
if [ -n "$json" ]; then
  jq -nc --arg namespace "$NS" --arg backupId "$id" --arg method "$method" --arg status "$status" --arg verified "$verified" \
    --argjson rowsSource "$rows_source" --argjson rowsRestored "$rows_restored" --argjson restoreSeconds "$restore_seconds" \
    '{namespace: $namespace, backupId: $backupId, method: $method, status: $status, verified: ($verified == "passed"), rowsSource: $rowsSource, rowsRestored: $rowsRestored, restoreSeconds: $restoreSeconds}'
fi
[ "$verified" = passed ] && [ "$verify_rc" = 0 ] && [ -z "$lost" ] && say "demo: passed"
