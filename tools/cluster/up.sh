#!/usr/bin/env bash
# Starts the local cluster (real etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok node,
# snapshot-controller, csi-provisioner, csi-snapshotter, pgbackup-csi, pod-runner, image registry, and the real node:
# containerd + kubelet, node.sh) as local processes.
# Returns when the API is ready, both nodes are Ready and default/default ServiceAccount exists. Idempotent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$HERE/node.sh"
T0=$(date +%s)
# One up/down at a time (several test runners may share the cluster).
# (Long-lived children get fd 8 closed, or they would hold the lock.)
if [ -z "${CLUSTER_LOCKED:-}" ]; then
  mkdir -p "$C"; exec 8>"$C/.lock"; flock -w 300 8 || die "another up.sh/down.sh holds $C/.lock"; export CLUSTER_LOCKED=1
fi

usage() {
  cat <<EOF
Cluster is up. Use it with:
  export KUBECONFIG=$KUBECONFIG_FILE
  export PATH=$BIN:\$PATH      # kubectl, helm built for this cluster
  kubectl get nodes
Logs: $LOGS/*.log (ours), $KWOK_DIR/logs/*.log (control plane).  Status: tools/cluster/status.sh  Stop: tools/cluster/down.sh [--purge]
EOF
}

# Our processes: each in its own session, pid in .cluster/pids, log in .cluster/logs.
start() {
  local name=$1; shift
  if alive "$name"; then return 0; fi
  printf '\n=== %s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$LOGS/$name.log"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 8>&- &
  echo $! >"$PIDS/$name.pid"
}

# The image registry (plain HTTP): `npm run images` pushes to it on localhost, the node pulls from it on HOST_LINK_IP
# (node.sh), so it listens on every address.
start_registry() {
  [ -x "$BIN/registry" ] || "$HERE/build.sh" registry
  mkdir -p "$LOGS" "$PIDS" "$REGISTRY_STATE"
  REGISTRY_HTTP_ADDR=":${REGISTRY_ADDR##*:}" REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$REGISTRY_STATE" \
    OTEL_TRACES_EXPORTER=none start "$REGISTRY_COMPONENT" "$BIN/registry" serve "$HERE/manifests/registry.yml"
  local why="(is the port another process's? PGBACKUP_REGISTRY_ADDR moves it); see $LOGS/registry.log"
  # By its pid, not alive(): until setsid has exec'd, the pid's command line is still this script's.
  registry_up() {
    running "$(cat "$PIDS/$REGISTRY_COMPONENT.pid")" || die "the registry exited $why: $(tail -1 "$LOGS/registry.log")"
    registry_ready
  }
  wait_for "registry on $REGISTRY_ADDR" 30 registry_up || die "our registry does not answer on $REGISTRY_ADDR $why"
  echo "$REGISTRY_ADDR" >"$REGISTRY_ADDR_FILE"
}
mkdir -p "$C"
[ -f "$CLONE_ENV" ] || printf 'PGBACKUP_REGISTRY_ADDR=%s\nPGBACKUP_NODE_NET=%s\n' "$REGISTRY_ADDR" "$POD_NET" >"$CLONE_ENV"
start_registry

all_alive() { local c; for c in $KWOK_COMPONENTS $OUR_COMPONENTS; do alive "$c" || return 1; done; }
# kwok must leave the real node to its kubelet: it manages only nodes annotated kwok.x-k8s.io/node=fake, and the API
# server must reach the kubelet with a client certificate. Both are flags fixed when the cluster is created: a cluster
# made before the real node runs on without it (and says so) until it is recreated.
real_node_possible() { grep -q -- 'kubelet-client-certificate' "$KWOK_DIR/kwok.yaml" && grep -q -- '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake' "$KWOK_DIR/kwok.yaml"; }
up_real_node() {
  if ! real_node_possible; then
    say "WARNING: this cluster was made before the real node (its kwok-controller manages every node): no $REAL_NODE until it is recreated (tools/cluster/down.sh --purge; tools/cluster/up.sh)"
    return 0
  fi
  local t; t=$(date +%s)
  real_node_start
  say "real node $REAL_NODE Ready in $(( $(date +%s) - t ))s"
}
# A node still running in the layout before its network namespace (its bridge on the machine): down.sh stops it and
# removes that layout's bridge and DNAT chain (state kept), then everything starts again below.
if legacy_node_layout; then say "the real node runs without its network namespace (an older up.sh): restarting"; "$HERE/down.sh"; start_registry; fi
if all_alive && api_ready; then
  up_real_node
  say "already up"; usage; exit 0
fi

# 1. Binaries (cached by stamps; `ours` is rebuilt incrementally by go's build cache).
if [ "${CLUSTER_SKIP_BUILD:-}" != 1 ]; then "$HERE/build.sh"; fi
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl \
         snapshot-controller csi-snapshotter csi-provisioner pgbackup-csi pod-runner registry; do
  [ -x "$BIN/$b" ] || die "$BIN/$b is missing: run tools/cluster/build.sh (pgbackup-csi and pod-runner come from tools/cluster/go)"
done
[ -f "$ROOT/.tools/crd/snapshot.storage.k8s.io_volumesnapshots.yaml" ] || die "snapshot CRDs missing in .tools/crd: run tools/cluster/build.sh snapshotter"

# Something half up (a crash, a killed up.sh): stop what is left, keep state, start again.
for c in $KWOK_COMPONENTS $OUR_COMPONENTS; do
  if alive "$c"; then say "partly up ($c runs): restarting"; "$HERE/down.sh"; start_registry; break; fi
done

# PostgreSQL refuses to run as root: pod-runner runs it as `postgres`, which must reach and write the state dirs.
mkdir -p "$C" "$LOGS" "$PIDS" "$CSI_STATE" "$POD_STATE" "$SOCK_DIR"
chmod 0755 "$C" "$CSI_STATE" "$POD_STATE"
chmod 0777 "$SOCK_DIR"
# PostgreSQL runs as uid postgres and must traverse every folder above its volumes (CI clones anywhere).
d=$ROOT; while [ "$d" != / ]; do [ -x "$d" ] && chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
id postgres >/dev/null 2>&1 || say "warning: no 'postgres' user on this machine; pod-runner cannot start PostgreSQL"

# 2. Control plane through kwokctl (binary runtime, our binaries symlinked, nothing downloaded). The flags are saved in the
#    cluster's kwok.yaml and reused by `kwokctl start`: after changing them here, recreate with down.sh --purge.
#    advertise-address: the apiserver needs one without a default route; leader-elect=false: one instance each, and a
#    restart after a crash does not wait for the old leader lease to expire.
kwokctl() { "$BIN/kwokctl" --name "$NAME" "$@" 8>&-; }
if [ -f "$KWOK_DIR/kwok.yaml" ]; then
  say "starting existing cluster (state in $KWOK_DIR)"
  kwokctl start cluster >"$LOGS/kwokctl.log" 2>&1 || { cat "$LOGS/kwokctl.log"; die "kwokctl start cluster failed"; }
else
  say "creating cluster (kwokctl, binary runtime)"
  kwokctl -c "$HERE/manifests/kwokctl.yaml" create cluster \
    --runtime=binary \
    --kubeconfig="$KUBECONFIG_FILE" \
    --etcd-binary="$BIN/etcd" \
    --kube-apiserver-binary="$BIN/kube-apiserver" \
    --kube-controller-manager-binary="$BIN/kube-controller-manager" \
    --kube-scheduler-binary="$BIN/kube-scheduler" \
    --kwok-controller-binary="$BIN/kwok" \
    --kube-authorization=true --kube-admission=true \
    --extra-args=kube-apiserver=advertise-address=127.0.0.1 \
    --extra-args=kube-controller-manager=leader-elect=false \
    --extra-args=kube-scheduler=leader-elect=false \
    --extra-args=kwok-controller=manage-all-nodes=false \
    --extra-args=kwok-controller=manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --extra-args=kube-apiserver=enable-admission-plugins=NodeRestriction \
    --extra-args=kube-apiserver=kubelet-preferred-address-types=InternalIP,Hostname \
    --extra-args=kube-apiserver=kubelet-client-certificate="$KWOK_DIR/pki/admin.crt" \
    --extra-args=kube-apiserver=kubelet-client-key="$KWOK_DIR/pki/admin.key" \
    --timeout=3m >"$LOGS/kwokctl.log" 2>&1 || { cat "$LOGS/kwokctl.log"; die "kwokctl create cluster failed"; }
fi
wait_for "kube-apiserver /readyz" 120 api_ready || die "API not ready; see $KWOK_DIR/logs/kube-apiserver.log"
say "API ready ($(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}'))"

# 3. Snapshot CRDs (VolumeSnapshot*, VolumeGroupSnapshot*) and the cluster objects.
kc apply --server-side --force-conflicts -k "$ROOT/.tools/crd/" -o name >/dev/null
kc wait --for=condition=Established --timeout=60s crd --all >/dev/null
kc apply --server-side --force-conflicts -f "$HERE/manifests/node.yaml" -f "$HERE/manifests/storage.yaml" -o name >/dev/null

# 4. Our processes (start: above).
KC="--kubeconfig=$KUBECONFIG_FILE"
rm -f "$CSI_SOCK"
# Its Node service is the real node's: the kubelet finds it by the registration socket in its plugins_registry.
start pgbackup-csi "$BIN/pgbackup-csi" --endpoint "unix://$CSI_SOCK" --statedir "$CSI_STATE" \
  --drivername pgbackup.csi.local --nodeid "$REAL_NODE" --registration-dir "$REAL_STATE/kubelet/plugins_registry"
start snapshot-controller "$BIN/snapshot-controller" "$KC" --leader-election=false \
  --feature-gates=CSIVolumeGroupSnapshot=true --retry-interval-max=30s --v=2
wait_for "CSI socket $CSI_SOCK" 30 test -S "$CSI_SOCK" || die "pgbackup-csi did not create its socket; see $LOGS/pgbackup-csi.log"
start csi-provisioner "$BIN/csi-provisioner" "$KC" --csi-address="$CSI_SOCK" --leader-election=false \
  --timeout=5m --retry-interval-max=30s --extra-create-metadata=true --v=2
start csi-snapshotter "$BIN/csi-snapshotter" "$KC" --csi-address="$CSI_SOCK" --leader-election=false \
  --timeout=5m --retry-interval-max=30s --extra-create-metadata=true \
  --feature-gates=CSIVolumeGroupSnapshot=true --v=2
start pod-runner "$BIN/pod-runner" --kubeconfig "$KUBECONFIG_FILE" --statedir "$CSI_STATE" --workdir "$POD_STATE" \
  --sockdir "$SOCK_DIR/pg" --node "$NODE" --pgbin "$PG_BIN" --kubectl "$BIN/kubectl" \
  --cli "$ROOT/packages/kubectl-pgbackup/bin/kubectl-pgbackup"

# 5. Ready means: node Ready, default ServiceAccount present, our processes still alive after start-up.
node_ready() { [ "$(kc get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; }
default_sa() { kc get serviceaccount default -n default >/dev/null 2>&1; }
wait_for "node $NODE Ready" 60 node_ready || die "node not Ready; see $KWOK_DIR/logs/kwok-controller.log"
# kwok only acts for a node whose Lease it holds, and its identity is new on every start: a Lease left by an earlier
# kwok-controller (killed, not stopped by down.sh) would stall pods until it expires. Take it over at once.
kwok_id() { grep -o '"id":"[^"]*"' "$KWOK_DIR/logs/kwok-controller.log" 2>/dev/null | tail -1 | cut -d'"' -f4; }
lease_held() { local id; id=$(kwok_id); [ -n "$id" ] && [ "$(kc get lease -n kube-node-lease "$NODE" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)" = "$id" ]; }
for _ in 1 2 3 4 5 6; do lease_held && break; sleep 0.5; done
if ! lease_held; then
  say "taking over the node Lease left by an earlier kwok-controller"
  kc delete lease -n kube-node-lease "$NODE" --ignore-not-found >/dev/null
  wait_for "kwok to hold the node lease" 60 lease_held || die "kwok-controller does not manage $NODE; see $KWOK_DIR/logs/kwok-controller.log"
fi
wait_for "ServiceAccount default/default" 60 default_sa || die "no default ServiceAccount; see $KWOK_DIR/logs/kube-controller-manager.log"
sleep 1
for c in $OUR_COMPONENTS; do alive "$c" || die "$c exited; see $LOGS/$c.log"; done
up_real_node

say "up in $(( $(date +%s) - T0 ))s"
usage
