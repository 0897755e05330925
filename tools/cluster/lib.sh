# Shared by up.sh, down.sh and status.sh (sourced, not run).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tools/cluster"
C="$ROOT/.cluster"                      # all state, git-ignored
# What a clone chose when its cluster state was made (up.sh writes it; --purge removes it): the registry's address and
# the real node's pod network, so that every later up/down/status of that clone uses the same ones, whatever the env.
CLONE_ENV="$C/clone.env"
if [ -f "$CLONE_ENV" ]; then . "$CLONE_ENV"; fi
. "$HERE/versions.env"
BIN="$ROOT/.tools/bin"
NAME=pgbackup                           # kwok cluster name
export KWOK_WORKDIR="$C/kwok"           # kwokctl keeps etcd, pki, its logs and pids under clusters/$NAME
KWOK_DIR="$KWOK_WORKDIR/clusters/$NAME"
KUBECONFIG_FILE="$C/kubeconfig"
# Every component the harness starts talks to the local cluster only, whatever the caller's shell holds:
# client-go prefers $KUBECONFIG over --kubeconfig (csi-provisioner says "Found KUBECONFIG environment variable set"),
# and in-cluster settings would point a child at some other API server.
export KUBECONFIG="$KUBECONFIG_FILE"
unset KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT KUBERNETES_MASTER
LOGS="$C/logs"; PIDS="$C/pids"
CSI_STATE="$C/csi"                      # pgbackup-csi: volumes/<id>, snapshots
POD_STATE="$C/pods"                     # pod-runner: per-pod files
NODE=kwok-node-0
# unix sockets have a 108-byte path limit, so they live in a short per-checkout directory under /tmp
SOCK_DIR="/tmp/pgbackup-$(printf %s "$ROOT" | sha256sum | cut -c1-10)"
CSI_SOCK="$SOCK_DIR/csi.sock"
PG_BIN=/usr/lib/postgresql/15/bin
REGISTRY_STATE="$C/registry"            # the local image registry's blobs and manifests
REGISTRY_ADDR_FILE="$C/registry.addr"   # host:port of that registry, for `npm run images` and the node
# kwok-controller runs `kubectl exec` commands on the host and resolves them with its own PATH
export PATH="$BIN:$PG_BIN:$PATH"

# Components we start ourselves (kwokctl starts etcd, apiserver, controller-manager, scheduler, kwok-controller).
OUR_COMPONENTS="pgbackup-csi snapshot-controller csi-provisioner csi-snapshotter pod-runner"
KWOK_COMPONENTS="etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller"
# The image registry stands apart: up.sh starts it on its own, so that adding it never restarts a running cluster.
REGISTRY_COMPONENT=registry

say() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }
kc() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# running PID -> the process exists and is not a zombie waiting to be reaped.
running() { [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# pid_of NAME -> prints the pid recorded for NAME (ours or kwokctl's) if that process is alive and is that program.
pid_of() {
  local f pid
  for f in "$PIDS/$1.pid" "$KWOK_DIR/pids/$1.pid"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null) || continue
    [ -n "$pid" ] && running "$pid" || continue
    # guard against pid reuse: the command line must still name the program (kwok-controller runs as `kwok`)
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "${1%-controller}"; then echo "$pid"; return 0; fi
  done
  return 1
}
alive() { pid_of "$1" >/dev/null; }

# The registry answers, and the process listening on its port is ours (a second clone's, or anything else, may hold it).
registry_ready() {
  local pid; pid=$(pid_of "$REGISTRY_COMPONENT") || return 1
  ss -Hltnp "sport = :${REGISTRY_ADDR##*:}" 2>/dev/null | grep -q "pid=$pid," \
    && curl -fsS --max-time 3 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1
}
api_ready() { [ -f "$KUBECONFIG_FILE" ] && kc get --raw /readyz --request-timeout=3s >/dev/null 2>&1; }

# wait_for DESCRIPTION SECONDS CMD... : polls CMD every 0.5s.
wait_for() {
  local what=$1 secs=$2 t0; shift 2; t0=$(date +%s)
  until "$@"; do
    [ $(( $(date +%s) - t0 )) -lt "$secs" ] || { say "timed out after ${secs}s waiting for $what"; return 1; }
    sleep 0.5
  done
}
