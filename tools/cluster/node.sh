# The real node (issue 22): containerd + runc + the CNI bridge, and a kubelet with a node identity (client certificate
# for system:node:node-real, checked by the API server's Node authorizer and NodeRestriction), next to kwok's fake node.
# Tainted (and labelled), so that only pods that tolerate the taint (and select the label) run there; everything else
# stays on kwok-node-0 unchanged. Sourced by up.sh, down.sh and status.sh, after lib.sh.
REAL_NODE=node-real
REAL_NODE_KEY=pgbackup.io/real-node        # its label (nodeSelector) and its taint (toleration)
REAL_STATE="$C/node"                       # containerd's root and state, the kubelet's root, certificates, configs
CONTAINERD_SOCK="$SOCK_DIR/containerd.sock"
# The kubelet listens on the node's own address only (below), so a second clone's node can use the same ports.
KUBELET_PORT=10350
KUBELET_HEALTHZ_PORT=10358
# The pods' Linux bridge (CNI bridge plugin) and their /24 (POD_NET: versions.env, kept in $CLONE_ENV).
POD_BRIDGE=pgbackup$POD_NET
POD_SUBNET=10.244.$POD_NET.0/24
# The node's address is the bridge's (the pods' gateway): the kubelet refuses a loopback node IP, and the API server
# reaches the kubelet there (logs, exec, port-forward) without the kubelet listening on the machine's other interfaces.
NODE_IP=10.244.$POD_NET.1
# The node's network is a network namespace of its own (kube-proxy's iptables chains have fixed names: two clones'
# kube-proxies in one namespace would rewrite each other's), joined to the machine by a veth pair: HOST_LINK on the
# machine (HOST_LINK_IP, where the node reaches the API server) and NODE_LINK in the node (NODE_LINK_IP, the machine's
# route to the node's address and the pods). containerd, the kubelet, kube-proxy and CoreDNS run in it (nsenter --net:
# the mount namespace stays the machine's, so the kubelet's volume mounts are containerd's).
NODE_NETNS=pgbackup-$POD_NET
HOST_LINK=pgbackup${POD_NET}h
NODE_LINK=uplink
HOST_LINK_IP=10.243.$POD_NET.1
NODE_LINK_IP=10.243.$POD_NET.2
# An older layout (before the namespace): the bridge on the machine and one DNAT rule for the `kubernetes` Service in
# this chain. real_node_stop still removes them.
LEGACY_NAT_CHAIN=PGBACKUP-NODE-$POD_NET
legacy_node_layout() { ip link show "$POD_BRIDGE" >/dev/null 2>&1; }
# Cluster DNS: CoreDNS (build.sh coredns) on the node's address, port 53; /ready on DNS_READY_PORT.
CLUSTER_DOMAIN=cluster.local
DNS_READY_PORT=8181
REAL_NODE_COMPONENTS="kubelet containerd coredns kube-proxy"

IN_NODE=(nsenter --net="/var/run/netns/$NODE_NETNS")   # runs a command in the node's network namespace
ctrc() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# client_cert NAME SUBJECT: a key and a client certificate $REAL_STATE/pki/NAME.{key,crt} for SUBJECT, signed by the
# cluster CA (made once).
client_cert() {
  local pki="$REAL_STATE/pki" ca="$KWOK_DIR/pki" name=$1 subject=$2
  [ -s "$pki/$name.crt" ] && return 0
  [ -f "$ca/ca.crt" ] && [ -f "$ca/ca.key" ] || die "no cluster CA in $ca (create the cluster first)"
  mkdir -p "$pki"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$pki/$name.cnf"
  openssl x509 -req -in "$pki/$name.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -CAcreateserial -days 3650 \
    -extfile "$pki/$name.cnf" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.cnf"
}
# client_kubeconfig NAME SERVER: $REAL_STATE/NAME.kubeconfig, authenticating with NAME's client certificate. The API
# server's certificate names localhost (kwokctl's), not HOST_LINK_IP.
client_kubeconfig() {
  cat >"$REAL_STATE/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$2", certificate-authority: "$KWOK_DIR/pki/ca.crt", tls-server-name: localhost}}]
users: [{name: $1, user: {client-certificate: "$REAL_STATE/pki/$1.crt", client-key: "$REAL_STATE/pki/$1.key"}}]
contexts: [{name: $1, context: {cluster: local, user: $1}}]
current-context: $1
EOF
}

real_node_configs() {
  local server
  server=$(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}'); server="https://$HOST_LINK_IP:${server##*:}"
  mkdir -p "$REAL_STATE/containerd" "$REAL_STATE/kubelet" "$REAL_STATE/cni/conf" "$REAL_STATE/certs.d/$REGISTRY_ADDR"
  # containerd 1.6 (Debian): the recipe of research/real-node.md. runc refuses the sandbox's negative oomScoreAdj here
  # (restrict_oom_score_adj), there is no overlayfs (native snapshotter), no AppArmor, cgroups v1 through cgroupfs.
  cat >"$REAL_STATE/containerd.toml" <<EOF
version = 2
root = "$REAL_STATE/containerd/root"
state = "$REAL_STATE/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = "$CONTAINERD_SOCK.debug"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:3.10"
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$ROOT/.tools/cni/bin"
    conf_dir = "$REAL_STATE/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$REAL_STATE/certs.d"
EOF
  # The local registry speaks plain HTTP: images are pulled from it by digest, through the node's link to the machine
  # (localhost, in the node's namespace, is the node's own).
  printf 'server = "http://%s"\n[host."http://%s:%s"]\n  capabilities = ["pull", "resolve"]\n' "$REGISTRY_ADDR" "$HOST_LINK_IP" \
    "${REGISTRY_ADDR##*:}" >"$REAL_STATE/certs.d/$REGISTRY_ADDR/hosts.toml"
  cat >"$REAL_STATE/cni/conf/10-pgbackup.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "pgbackup",
  "plugins": [
    {
      "type": "bridge", "bridge": "$POD_BRIDGE", "isGateway": true, "isDefaultGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$POD_SUBNET" }]], "dataDir": "$REAL_STATE/cni/ipam" }
    }
  ]
}
EOF
  client_kubeconfig kubelet "$server"
  client_kubeconfig coredns "$server"
  client_kubeconfig kube-proxy "$server"
  # kube-proxy (iptables) in the node's namespace. Every connection to a Service is masqueraded to the node's address:
  # the reply of a pod on the same bridge (or of the pod itself: hairpin) then comes back through the node's NAT.
  # Conntrack limits are the machine's (not settable from a namespace): left alone.
  cat >"$REAL_STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$REAL_STATE/kube-proxy.kubeconfig"}
hostnameOverride: $REAL_NODE
mode: iptables
clusterCIDR: $POD_SUBNET
iptables: {masqueradeAll: true, localhostNodePorts: false}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
nodePortAddresses: [$NODE_IP/32]
bindAddress: $NODE_IP
healthzBindAddress: $NODE_IP:10256
metricsBindAddress: $NODE_IP:10249
EOF
  # CoreDNS serves cluster.local only (Services, headless Services' pods by hostname); other names are refused at
  # once: nothing here forwards upstream. On the node's address, so each clone's has its own port 53.
  cat >"$REAL_STATE/Corefile" <<EOF
$CLUSTER_DOMAIN:53 {
  bind $NODE_IP
  ready $NODE_IP:$DNS_READY_PORT
  errors
  kubernetes $CLUSTER_DOMAIN {
    kubeconfig "$REAL_STATE/coredns.kubeconfig" coredns
  }
}
EOF
  # cgroups v1 hybrid: kubelet 1.36 runs only with failCgroupV1 false, and without QoS cgroups or node allocatable
  # enforcement (so resource limits are not enforced here). Callers authenticate with a certificate of the cluster CA
  # (the API server's, for logs/exec/port-forward) or a token, and are authorized by the API server (Webhook).
  cat >"$REAL_STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $NODE_IP
port: $KUBELET_PORT
healthzBindAddress: $NODE_IP
healthzPort: $KUBELET_HEALTHZ_PORT
readOnlyPort: 0
clusterDNS: [$NODE_IP]
clusterDomain: $CLUSTER_DOMAIN
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$KWOK_DIR/pki/ca.crt"}
authorization: {mode: Webhook}
registerWithTaints: [{key: $REAL_NODE_KEY, value: "true", effect: NoSchedule}]
failSwapOn: false
localStorageCapacityIsolation: false
evictionHard: {}
imageGCHighThresholdPercent: 100
volumePluginDir: "$REAL_STATE/kubelet/volume-plugins"
podLogsDir: "$REAL_STATE/pod-logs"
EOF
}

real_node_ready() {
  [ "$(kc get node "$REAL_NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# real_node_start: starts containerd and the kubelet (start() of up.sh), returns when the node is Ready.
real_node_start() {
  local t image
  [ -x "$BIN/kubelet" ] && [ -x "$BIN/kube-proxy" ] && [ -x "$BIN/coredns" ] && [ -x "$ROOT/.tools/cni/bin/bridge" ] && [ -f "$ROOT/.tools/images/pause.oci.tar" ] \
    || die "the real node's parts are missing: run tools/cluster/build.sh kubelet cni coredns nodeimages"
  for t in containerd containerd-shim-runc-v2 runc ctr openssl iptables ip nsenter; do
    command -v "$t" >/dev/null || die "$t is missing (Debian packages containerd, runc, openssl, iptables, iproute2; .ci/run installs them)"
  done
  client_cert kubelet "/O=system:nodes/CN=system:node:$REAL_NODE"
  client_cert coredns "/CN=pgbackup-local:coredns"
  client_cert kube-proxy "/CN=system:kube-proxy"   # bound to system:node-proxier by the default RBAC policy
  real_node_configs
  real_node_network
  kubernetes_endpoints
  kc apply --server-side --force-conflicts -f "$HERE/manifests/dns.yaml" -o name >/dev/null
  start kube-proxy "${IN_NODE[@]}" "$BIN/kube-proxy" --config "$REAL_STATE/kube-proxy.yaml" --v=2
  start coredns "${IN_NODE[@]}" "$BIN/coredns" -conf "$REAL_STATE/Corefile"
  wait_for "CoreDNS on $NODE_IP:53" 30 curl -fs --max-time 2 "http://$NODE_IP:$DNS_READY_PORT/ready" -o /dev/null \
    || die "CoreDNS is not ready; see $LOGS/coredns.log"
  start containerd "${IN_NODE[@]}" "$(command -v containerd)" --config "$REAL_STATE/containerd.toml"
  wait_for "containerd on $CONTAINERD_SOCK" 30 ctrc version >/dev/null 2>&1 \
    || die "containerd does not answer; see $LOGS/containerd.log"
  # The pod sandbox, and busybox for the tests' servers and clients (httpd, wget; imagePullPolicy: Never).
  for image in pause:3.10 busybox:local; do
    ctrc images list --quiet 2>/dev/null | grep -qx "localhost/$image" \
      || ctrc images import "$ROOT/.tools/images/${image%%:*}.oci.tar" >/dev/null || die "importing localhost/$image failed"
  done
  start kubelet "${IN_NODE[@]}" "$BIN/kubelet" --config "$REAL_STATE/kubelet.yaml" --kubeconfig "$REAL_STATE/kubelet.kubeconfig" \
    --root-dir "$REAL_STATE/kubelet" --cert-dir "$REAL_STATE/pki/serving" --hostname-override "$REAL_NODE" \
    --node-ip "$NODE_IP" --node-labels "$REAL_NODE_KEY=true" --v=2
  wait_for "node $REAL_NODE Ready" 90 real_node_ready || die "node $REAL_NODE not Ready; see $LOGS/kubelet.log"
}

# The node's network namespace, its link to the machine, and the pods' bridge (NODE_IP) in it. Idempotent.
real_node_network() {
  [ -e "/var/run/netns/$NODE_NETNS" ] || ip netns add "$NODE_NETNS" || die "cannot make the network namespace $NODE_NETNS"
  ip link show "$HOST_LINK" >/dev/null 2>&1 || ip link add "$HOST_LINK" type veth peer name "$NODE_LINK" netns "$NODE_NETNS" \
    || die "cannot make the veth pair $HOST_LINK/$NODE_LINK"
  ip addr replace "$HOST_LINK_IP/30" dev "$HOST_LINK" && ip link set "$HOST_LINK" up
  ip -n "$NODE_NETNS" link set lo up
  ip -n "$NODE_NETNS" addr replace "$NODE_LINK_IP/30" dev "$NODE_LINK" && ip -n "$NODE_NETNS" link set "$NODE_LINK" up
  ip -n "$NODE_NETNS" route replace default via "$HOST_LINK_IP"
  ip -n "$NODE_NETNS" link show "$POD_BRIDGE" >/dev/null 2>&1 || ip -n "$NODE_NETNS" link add "$POD_BRIDGE" type bridge \
    || die "cannot make the pods' bridge $POD_BRIDGE"
  ip -n "$NODE_NETNS" addr replace "$NODE_IP/${POD_SUBNET#*/}" dev "$POD_BRIDGE" && ip -n "$NODE_NETNS" link set "$POD_BRIDGE" up
  "${IN_NODE[@]}" sysctl -qw net.ipv4.ip_forward=1
  ip route replace "$POD_SUBNET" via "$NODE_LINK_IP" dev "$HOST_LINK" || die "cannot route $POD_SUBNET to the node"
}

# The `kubernetes` Service's endpoint for the node: the API server advertises 127.0.0.1 (kwokctl), which a pod cannot
# reach, so it publishes none; this EndpointSlice names where the node reaches it (HOST_LINK_IP, the API server
# listens on every address), and kube-proxy routes 10.0.0.1:443 there. Its certificate names 10.0.0.1.
kubernetes_endpoints() {
  local port; port=$(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}'); port=${port##*:}
  kc apply --server-side --force-conflicts -o name -f - >/dev/null <<EOF || die "cannot publish the kubernetes Service's endpoint"
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes-$REAL_NODE
  namespace: default
  labels: {kubernetes.io/service-name: kubernetes, endpointslice.kubernetes.io/managed-by: pgbackup.io-cluster-scripts}
addressType: IPv4
endpoints: [{addresses: [$HOST_LINK_IP], conditions: {ready: true}}]
ports: [{name: https, port: $port, protocol: TCP}]
EOF
}

# Our containerd's shims (their command line names its socket), and the processes of the node's containers: the shims'
# children (the sandboxes' pause, the containers' processes, exec'd commands).
node_shims() { pgrep -f -- "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" || true; }
node_container_pids() { local s; for s in $(node_shims); do pgrep -P "$s" || true; done; }
# The network namespaces (containerd names them cni-<uuid>) that processes PIDS... hold.
netns_of() {
  local f ino inos
  inos=" $(for p in "$@"; do stat -L -c %i "/proc/$p/ns/net" 2>/dev/null; done | sort -u | tr '\n' ' ') "
  for f in /var/run/netns/cni-*; do
    [ -e "$f" ] && ino=$(stat -L -c %i "$f" 2>/dev/null) || continue
    case $inos in *" $ino "*) echo "$f" ;; esac
  done
}

# real_node_stop: the kubelet, then every pod's processes, containerd and its shims; then what they leave behind:
# mounts under the node's state, the pods' network namespaces, the bridge. Safe to repeat.
real_node_stop() {
  [ -d "$REAL_STATE" ] || return 0
  local id netns m
  stop kubelet 15
  netns=""
  if alive containerd; then
    for id in $(ctrc containers list --quiet 2>/dev/null); do
      netns+=" $(ctrc containers info "$id" 2>/dev/null | jq -r '.Spec.linux.namespaces[]? | select(.type == "network") | .path // empty')"
      ctrc tasks kill --signal SIGKILL "$id" >/dev/null 2>&1 || true
    done
    for id in $(ctrc tasks list --quiet 2>/dev/null); do
      for _ in $(seq 1 50); do ctrc tasks delete "$id" >/dev/null 2>&1 && break; sleep 0.1; done
    done
  fi
  # What containerd did not stop (it was not running, or a task would not die): by the shims' children, then the shims.
  local pids; pids=$(node_container_pids)
  netns+=" $(netns_of $pids)"
  for id in $pids; do kill -KILL "$id" 2>/dev/null || true; done
  stop containerd 15
  stop coredns 5
  for id in $(node_shims); do kill -KILL "$id" 2>/dev/null || true; done
  # Mounts: the containers' rootfs and the sandboxes' shm under containerd's state, the pods' volumes under the kubelet's.
  for m in $(findmnt -rn -o TARGET | grep -F "$REAL_STATE/" | sort -r); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  for m in $netns; do
    [ -e "$m" ] || continue
    umount "$m" 2>/dev/null || true; rm -f "$m"
  done
  stop kube-proxy 5
  # The namespace goes with its bridge and veth pair (and the route); then what an older layout left on the machine.
  [ -e "/var/run/netns/$NODE_NETNS" ] && ip netns delete "$NODE_NETNS" 2>/dev/null || true
  ip link show "$POD_BRIDGE" >/dev/null 2>&1 && ip link delete "$POD_BRIDGE" 2>/dev/null || true
  while iptables -t nat -D PREROUTING -s "$POD_SUBNET" -j "$LEGACY_NAT_CHAIN" 2>/dev/null; do :; done
  iptables -t nat -F "$LEGACY_NAT_CHAIN" 2>/dev/null && iptables -t nat -X "$LEGACY_NAT_CHAIN" 2>/dev/null || true
  # The kubelet links every container's log into /var/log/containers (a fixed path).
  [ -d /var/log/containers ] && find /var/log/containers -maxdepth 1 -lname "$REAL_STATE/*" -delete 2>/dev/null || true
  [ -z "$(findmnt -rn -o TARGET | grep -F "$REAL_STATE/")" ] || die "mounts survive under $REAL_STATE"
}
