#!/usr/bin/env bash
# Stops the local cluster: our processes by pid (pod-runner first: it stops its PostgreSQL instances),
# then the control plane through kwokctl. State (etcd, volumes, snapshots) is kept for the next up.sh;
# --purge deletes it too.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$HERE/node.sh"
PURGE=0
# One up/down at a time (several test runners may share the cluster).
if [ -z "${CLUSTER_LOCKED:-}" ] && [ -d "$C" ]; then
  exec 8>"$C/.lock"; flock -w 300 8 || die "another up.sh/down.sh holds $C/.lock"; export CLUSTER_LOCKED=1
fi
for a in "$@"; do
  case $a in
    --purge) PURGE=1 ;;
    *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
  esac
done

# stop NAME SECONDS: SIGTERM, wait, then SIGKILL.
stop() {
  local name=$1 secs=$2 pid i
  if pid=$(pid_of "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then say "$name ($pid) ignored SIGTERM for ${secs}s: killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    say "stopped $name ($pid)"
  fi
  rm -f "$PIDS/$name.pid"
}

# The real node first (its kubelet, its pods' processes, containerd), while the API server still answers.
real_node_stop
stop pod-runner 60
for c in csi-snapshotter csi-provisioner snapshot-controller pgbackup-csi "$REGISTRY_COMPONENT"; do stop "$c" 15; done
rm -f "$REGISTRY_ADDR_FILE"

if [ -f "$KWOK_DIR/kwok.yaml" ]; then
  # Stop kwok-controller first and drop its node Lease: the next kwok-controller (new identity) can take the node at once.
  if alive kwok-controller && api_ready; then
    stop kwok-controller 15
    kc delete lease -n kube-node-lease "$NODE" --ignore-not-found --request-timeout=5s >/dev/null 2>&1 || true
  fi
  if [ $PURGE = 1 ]; then
    "$BIN/kwokctl" --name "$NAME" delete cluster --kubeconfig="$KUBECONFIG_FILE" >>"$LOGS/kwokctl.log" 2>&1 8>&- || true
  else
    "$BIN/kwokctl" --name "$NAME" stop cluster >>"$LOGS/kwokctl.log" 2>&1 8>&- || true
  fi
fi
# kwokctl stops its components by pid; make sure, by the same pids.
for c in $KWOK_COMPONENTS; do stop "$c" 15; done

# Anything else of ours still running (PostgreSQL started by pod-runner, a CLI pod): found by our paths.
leftovers() { pgrep -f -- "$C/|$SOCK_DIR" || true; }
left=$(leftovers)
if [ -n "$left" ]; then
  say "leftover processes: $(for p in $left; do printf '%s:%s ' "$p" "$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | cut -c1-80)"; done)"
  for p in $left; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 3
  for p in $(leftovers); do kill -KILL "$p" 2>/dev/null || true; done
fi
[ -z "$(leftovers)" ] || die "processes of ours survive: $(leftovers)"

if [ $PURGE = 1 ]; then
  rm -rf "$C" "$SOCK_DIR"
  say "down; state removed"
else
  say "down; state kept in $C (tools/cluster/down.sh --purge removes it)"
fi
