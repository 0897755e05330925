#!/usr/bin/env bash
# npm run demo [-- --json]
# A PostgreSQL StatefulSet under write load (pgbench), a backup taken with the CLI while it writes,
# restored into a new StatefulSet and verified (amcheck, row counts). Prints source and restored row
# counts. With --json the last line of stdout is one JSON object:
#   {backupId, method, status, verified, rowsSource, rowsRestored, restoreSeconds}
# Starts the local cluster if it is down (and stops it again at the end); deletes its namespace.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

json=""
for arg in "$@"; do
  case "$arg" in
    --json) json=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "usage: scripts/demo.sh [--json]" >&2; exit 2 ;;
  esac
done

# Progress goes to stderr with --json, so stdout's last line is the JSON object.
say() { if [ -n "$json" ]; then echo "$*" >&2; else echo "$*"; fi; }
quiet() { if [ -n "$json" ]; then "$@" >&2; else "$@"; fi; }

export TURBO_TELEMETRY_DISABLED=1
export KUBECONFIG="$ROOT/.cluster/kubeconfig"
export PATH="$ROOT/packages/kubectl-pgbackup/bin:$ROOT/.tools/bin:/usr/lib/postgresql/15/bin:$PATH"
export PGPASSWORD=demo
NS="pgbackup-demo-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
started_cluster=""
pgbench_pid=""

cleanup() {
  local rc=$?
  if [ -n "$pgbench_pid" ]; then kill "$pgbench_pid" 2>/dev/null || true; wait "$pgbench_pid" 2>/dev/null || true; fi
  if kubectl get namespace "$NS" >/dev/null 2>&1; then
    say "cleaning up: deleting namespace $NS"
    kubectl delete namespace "$NS" --wait=true --timeout=180s >/dev/null 2>&1 || say "warning: namespace $NS not deleted"
  fi
  if [ -n "$started_cluster" ]; then say "stopping the local cluster (the demo started it)"; quiet bash tools/cluster/down.sh || true; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if bash tools/cluster/status.sh >/dev/null 2>&1; then
  say "local cluster: already up"
else
  say "local cluster: down, starting it"
  quiet bash tools/cluster/up.sh </dev/null
  started_cluster=1
fi
say "building (turbo, cached)"
quiet npx turbo run build --output-logs=errors-only

say "1. a PostgreSQL StatefulSet in namespace $NS"
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
for _ in $(seq 1 240); do
  [ "$(kubectl get statefulset pg -n "$NS" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = "1" ] && break
  sleep 0.5
done
[ "$(kubectl get statefulset pg -n "$NS" -o jsonpath='{.status.readyReplicas}')" = "1" ] || { say "error: pg-0 did not become ready"; kubectl get pods,pvc -n "$NS" >&2; exit 1; }
port=$(kubectl get portforward pg-0 -n "$NS" -o jsonpath='{.spec.forwards[0].target.port}')

say "2. data and a write load (pgbench, 4 clients, against 127.0.0.1:$port)"
quiet pgbench -i -s 2 -q -h 127.0.0.1 -p "$port" -U postgres postgres
pgbench -c 4 -j 2 -T 600 -n -h 127.0.0.1 -p "$port" -U postgres postgres >/dev/null 2>&1 &
pgbench_pid=$!
sleep 3

count() { # count(*) of pgbench_history in a pod
  kubectl exec -n "$NS" "$1" -- psql -XAtq -d postgres -c 'SELECT count(*) FROM pgbench_history'
}
rows_source=$(count pg-0)
say "3. backup while pgbench writes (pgbench_history has $rows_source rows as it starts)"
backup_json=$(kubectl pgbackup create pg -n "$NS" --wait --timeout 5m -o json 2> >(while read -r l; do say "   $l"; done))
id=$(jq -r .id <<<"$backup_json")
method=$(jq -r .method <<<"$backup_json")
status=$(jq -r .status <<<"$backup_json")
say "   backup/$id: $status ($method)"
kill "$pgbench_pid" 2>/dev/null || true; wait "$pgbench_pid" 2>/dev/null || true; pgbench_pid=""
rows_source_now=$(count pg-0)

say "4. restore into a new StatefulSet pg-restored"
restore_json=$(kubectl pgbackup restore "$id" --to pg-restored -n "$NS" --wait --timeout 5m -o json)
restore_seconds=$(jq -r .restoreSeconds <<<"$restore_json")
rows_restored=$(count pg-restored-0)
say "   ready in ${restore_seconds}s"

say "5. verify: scratch restore, amcheck on every b-tree index, row counts, recorded on the backup"
verify_rc=0
verify_json=$(kubectl pgbackup verify "$id" -n "$NS" -o json --sql "SELECT count(*) >= $rows_source FROM pgbench_history") || verify_rc=$?
verified=$(jq -r '.verification.result // "failed"' <<<"$verify_json" 2>/dev/null || echo failed)
jq -r '.checks[] | "\(if .passed then "ok  " else "FAIL" end) \(.name): \(.detail)"' <<<"$verify_json" 2>/dev/null | while IFS= read -r l; do say "   $l"; done
quiet kubectl pgbackup list pg -n "$NS"

say ""
say "source     pgbench_history rows: $rows_source when the backup started ($rows_source_now when the load stopped)"
say "restored   pgbench_history rows: $rows_restored (every row committed before the backup began, plus those committed until the cut)"
if [ "$rows_restored" -lt "$rows_source" ]; then say "error: the restore lost committed rows"; verify_rc=1; fi
if [ -n "$json" ]; then
  jq -nc --arg backupId "$id" --arg method "$method" --arg status "$status" --arg verified "$verified" \
    --argjson rowsSource "$rows_source" --argjson rowsRestored "$rows_restored" --argjson restoreSeconds "$restore_seconds" \
    '{backupId: $backupId, method: $method, status: $status, verified: ($verified == "passed"), rowsSource: $rowsSource, rowsRestored: $rowsRestored, restoreSeconds: $restoreSeconds}'
fi
[ "$verified" = "passed" ] && [ "$verify_rc" = 0 ]
