#!/usr/bin/env bash
# Builds the local cluster's binaries from their Go modules into .tools/bin.
# Each component is built in its own throwaway wrapper module (no shared MVS graph),
# and skipped when a stamp says the pinned version is already built.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tools/cluster/versions.env"
BIN="$ROOT/.tools/bin"; WORK="$ROOT/.tools/build"; STAMPS="$ROOT/.tools/stamps"
mkdir -p "$BIN" "$WORK" "$STAMPS"
export GOFLAGS="-mod=mod" CGO_ENABLED=0 GOTOOLCHAIN=local
JOBS=${BUILD_JOBS:-2}

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# quiet CMD...: runs CMD, drops go's per-module chatter (go: downloading/added/...) from its stderr, streams the rest.
quiet() {
  local rc=0
  "$@" 2> >(grep --line-buffered -Ev '^go: (downloading|added|upgraded|downgraded|finding|extracting) ' >&2) || rc=$?
  local filter=${!:-}; [ -z "$filter" ] || wait "$filter" 2>/dev/null || true   # let the filter flush first
  return $rc
}
T0=0; begin() { T0=$(date +%s); log "$*"; }
done_in() { local s=$(( $(date +%s) - T0 )); log "$1: done in ${s}s"; echo "$(date -u +%FT%TZ) $1 ${s}s" >> "$ROOT/.tools/build-times.txt"; }

# built NAME VERSION -> true when the stamp for that exact version exists and all outputs are present.
built() { [ "$(cat "$STAMPS/$1" 2>/dev/null)" = "$2" ] && shift 2 && for b in "$@"; do [ -x "$BIN/$b" ] || return 1; done; }
stamp() { echo "$2" > "$STAMPS/$1"; }

wrapper() { rm -rf "$WORK/$1"; mkdir -p "$WORK/$1"; cd "$WORK/$1"; go mod init "local/$1" >/dev/null 2>&1; }

# go_tool NAME LABEL VERSION LDFLAGS MODULE@VERSION... -- PACKAGE...: a tool built the usual way, skipped when stamped
# with VERSION and all its binaries (the packages' last path elements) are there; else a wrapper module of its own,
# go get the modules, go build the packages into .tools/bin with -s -w LDFLAGS, timed and stamped.
# A single PACKAGE=BINARY names the binary of a package whose path does not end in it.
go_tool() {
  local name=$1 label=$2 version=$3 ldflags=$4 modules=() packages=() bins=()
  shift 4
  while [ "$1" != -- ]; do modules+=("$1"); shift; done
  shift; packages=("$@")
  local out="$BIN/"
  if [ "${#packages[@]}" = 1 ] && [ "${packages[0]#*=}" != "${packages[0]}" ]; then
    out="$BIN/${packages[0]#*=}"; packages=("${packages[0]%%=*}")
  fi
  for p in "${packages[@]}"; do bins+=("${p##*/}"); done
  [ "$out" = "$BIN/" ] || bins=("${out##*/}")
  built "$name" "$version" "${bins[@]}" && { log "$label $version: cached"; return; }
  begin "$label $version: building"
  wrapper "$name"
  quiet go get "${modules[@]}" >/dev/null
  quiet go build -p "$JOBS" -trimpath -ldflags "-s -w $ldflags" -o "$out" "${packages[@]}"
  stamp "$name" "$version"; done_in "$label $version"
}

# Adds `k8s.io/X => k8s.io/X v0.M.P` for every staging module that k8s.io/kubernetes@v$1 maps to ./staging.
staging_replaces() {
  local kv=$1 gomod sv
  gomod=$(quiet go mod download -json "k8s.io/kubernetes@v$kv" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  sv="v0.${kv#1.}"
  for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => \./staging/.*#\1#p' "$gomod"); do
    go mod edit -replace="$m=$m@$sv"
  done
}

k8s_ldflags() {
  local kv=$1 minor; minor=$(echo "$kv" | cut -d. -f2)
  echo "-s -w -X k8s.io/component-base/version.gitVersion=v$kv -X k8s.io/component-base/version.gitMajor=1 \
-X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean \
-X k8s.io/client-go/pkg/version.gitVersion=v$kv -X k8s.io/client-go/pkg/version.gitMajor=1 \
-X k8s.io/client-go/pkg/version.gitMinor=$minor"
}

build_kubernetes() {
  local v="k8s-$K8S_VERSION"
  built kubernetes "$v" kube-apiserver kube-controller-manager kube-scheduler kubectl && { log "kubernetes v$K8S_VERSION: cached"; return; }
  begin "kubernetes v$K8S_VERSION: resolving modules"
  wrapper kubernetes
  staging_replaces "$K8S_VERSION"
  quiet go get "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kube-controller-manager@v$K8S_VERSION" \
    "k8s.io/kubernetes/cmd/kube-scheduler@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@v$K8S_VERSION" >/dev/null
  log "kubernetes v$K8S_VERSION: compiling kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (many minutes cold)"
  quiet go build -p "$JOBS" -trimpath -ldflags "$(k8s_ldflags "$K8S_VERSION")" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  stamp kubernetes "$v"; done_in "kubernetes v$K8S_VERSION"
}

# The real node's kubelet and kube-proxy: same version and staging replaces as the control plane, so go's build cache
# shares the packages.
build_kubelet() {
  local v="k8s-$K8S_VERSION"
  built kubelet "$v" kubelet kube-proxy && { log "kubelet + kube-proxy v$K8S_VERSION: cached"; return; }
  begin "kubelet + kube-proxy v$K8S_VERSION: building"
  wrapper kubelet
  staging_replaces "$K8S_VERSION"
  quiet go get "k8s.io/kubernetes/cmd/kubelet@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kube-proxy@v$K8S_VERSION" >/dev/null
  quiet go build -p "$JOBS" -trimpath -ldflags "$(k8s_ldflags "$K8S_VERSION")" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
  stamp kubelet "$v"; done_in "kubelet + kube-proxy v$K8S_VERSION"
}

# CNI plugins for the real node's pod network (installed into .tools/cni/bin, where containerd's CRI looks).
build_cni() {
  built cni "$CNI_PLUGINS_VERSION" && [ -x "$ROOT/.tools/cni/bin/bridge" ] && { log "CNI plugins $CNI_PLUGINS_VERSION: cached"; return; }
  begin "CNI plugins $CNI_PLUGINS_VERSION: building"
  wrapper cni
  quiet go get "github.com/containernetworking/plugins@$CNI_PLUGINS_VERSION" >/dev/null
  mkdir -p "$ROOT/.tools/cni/bin"
  quiet go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$ROOT/.tools/cni/bin/" \
    github.com/containernetworking/plugins/plugins/main/bridge github.com/containernetworking/plugins/plugins/ipam/host-local \
    github.com/containernetworking/plugins/plugins/main/loopback github.com/containernetworking/plugins/plugins/meta/portmap
  stamp cni "$CNI_PLUGINS_VERSION"; done_in "CNI plugins $CNI_PLUGINS_VERSION"
}

build_etcd() {
  go_tool etcd etcd "$ETCD_VERSION" "" "go.etcd.io/etcd/server/v3@$ETCD_VERSION" -- go.etcd.io/etcd/server/v3=etcd
}

# kwok gets two small local patches for `kubectl exec`: the command's real exit code instead of 1
# (tools/cluster/patches/kwok_exec_exitcode.go), and EOF on the command's stdin when the client's stdin ends.
# go build -overlay refuses files in GOMODCACHE, so the module is copied next to the wrapper and replaced.
# Bump KWOK_PATCH when the patch changes, so the stamp forces a rebuild.
KWOK_PATCH=exec2
build_kwok() {
  built kwok "$KWOK_VERSION+$KWOK_PATCH" kwok kwokctl && { log "kwok $KWOK_VERSION: cached"; return; }
  begin "kwok $KWOK_VERSION (+$KWOK_PATCH): building"
  wrapper kwok
  quiet go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" >/dev/null
  local src="$WORK/kwok/kwok-src"
  cp -r "$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')" "$src"
  chmod -R u+w "$src"
  # Rename the original ExecInContainer; the patch file defines the exported one around it.
  sed -i 's/^func (s \*Server) ExecInContainer(/func (s *Server) execInContainerUnpatched(/' "$src/pkg/kwok/server/debugging_exec.go"
  grep -q 'execInContainerUnpatched(' "$src/pkg/kwok/server/debugging_exec.go" \
    || { log "kwok patch does not apply to $KWOK_VERSION (ExecInContainer not found)"; return 1; }
  cp "$ROOT/tools/cluster/patches/kwok_exec_exitcode.go" "$src/pkg/kwok/server/zz_exec_exitcode.go"
  # Close the command's stdin when the client's stdin ends, so `kubectl exec -i pod -- psql < file.sql` terminates.
  sed -i 's/^\(\t*\)_, _ = io.Copy(inPipe, opt.In)$/&\n\1_ = inPipe.Close()/' "$src/pkg/utils/exec/exec.go"
  grep -q '_ = inPipe.Close()' "$src/pkg/utils/exec/exec.go" || { log "kwok stdin patch does not apply to $KWOK_VERSION"; return 1; }
  go mod edit -require="sigs.k8s.io/kwok@$KWOK_VERSION" -replace="sigs.k8s.io/kwok=./kwok-src"
  quiet go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$BIN/" sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
  stamp kwok "$KWOK_VERSION+$KWOK_PATCH"; done_in "kwok $KWOK_VERSION"
}

build_snapshotter() {
  built snapshotter "$SNAPSHOTTER_VERSION" snapshot-controller csi-snapshotter && { log "external-snapshotter $SNAPSHOTTER_VERSION: cached"; return; }
  begin "external-snapshotter $SNAPSHOTTER_VERSION: building"
  wrapper snapshotter
  quiet go get "github.com/kubernetes-csi/external-snapshotter/v8@$SNAPSHOTTER_VERSION" \
    "github.com/kubernetes-csi/external-snapshotter/client/v8@$SNAPSHOTTER_VERSION" >/dev/null
  quiet go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$BIN/" \
    github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller \
    github.com/kubernetes-csi/external-snapshotter/v8/cmd/csi-snapshotter
  # The CRDs ship inside the client module; keep a copy next to the binaries.
  local crd; crd="$(go list -m -f '{{.Dir}}' github.com/kubernetes-csi/external-snapshotter/client/v8)/config/crd"
  mkdir -p "$ROOT/.tools/crd"; cp "$crd"/*.yaml "$ROOT/.tools/crd/"; chmod u+w "$ROOT/.tools/crd/"*.yaml
  stamp snapshotter "$SNAPSHOTTER_VERSION"; done_in "external-snapshotter $SNAPSHOTTER_VERSION"
}

build_provisioner() {
  built provisioner "$PROVISIONER_VERSION" csi-provisioner && { log "external-provisioner $PROVISIONER_VERSION: cached"; return; }
  begin "external-provisioner $PROVISIONER_VERSION: building"
  wrapper provisioner
  local kv; kv=$(quiet go mod download -json "github.com/kubernetes-csi/external-provisioner/v6@$PROVISIONER_VERSION" \
    | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' | xargs sed -n 's#^[[:space:]]*k8s.io/kubernetes v1\.\([0-9.]*\).*#1.\1#p' | head -1)
  staging_replaces "$kv"
  quiet go get "github.com/kubernetes-csi/external-provisioner/v6@$PROVISIONER_VERSION" >/dev/null
  quiet go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$BIN/" github.com/kubernetes-csi/external-provisioner/v6/cmd/csi-provisioner
  stamp provisioner "$PROVISIONER_VERSION"; done_in "external-provisioner $PROVISIONER_VERSION"
}

# helm's Makefile stamps the Kubernetes version of its client-go (k8s.io/client-go v0.M.P = Kubernetes 1.M): without it
# `helm template` and `helm lint` assume Kubernetes 1.20 and refuse a chart's kubeVersion ">=1.27.0-0".
build_helm() {
  built helm "$HELM_VERSION+kubeversion" helm && { log "helm $HELM_VERSION: cached"; return; }
  begin "helm $HELM_VERSION: building"
  wrapper helm
  quiet go get "helm.sh/helm/v3@$HELM_VERSION" >/dev/null
  local minor; minor=$(go list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)
  local k8s="-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
  k8s="$k8s -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
  quiet go build -p "$JOBS" -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION $k8s" \
    -o "$BIN/helm" helm.sh/helm/v3/cmd/helm
  stamp helm "$HELM_VERSION+kubeversion"; done_in "helm $HELM_VERSION"
}

# chart-testing: `ct lint` of the Helm chart (helm lint per ci/*-values.yaml, Chart.yaml schema, yamllint, versions).
# Its config (chart_schema.yaml, lintconf.yaml) ships in the module's etc/; it runs yamllint and yamale, Python tools,
# installed at pinned versions into a venv of their own (.tools/ct/venv), as ct's own image does with pip.
build_ct() {
  local v="$CT_VERSION+yamllint-$YAMLLINT_VERSION+yamale-$YAMALE_VERSION" dir="$ROOT/.tools/ct"
  built ct "$v" ct && [ -x "$dir/venv/bin/yamllint" ] && [ -x "$dir/venv/bin/yamale" ] && { log "chart-testing $CT_VERSION: cached"; return; }
  begin "chart-testing $CT_VERSION: building"
  wrapper ct
  quiet go get "github.com/helm/chart-testing/v3@$CT_VERSION" >/dev/null
  quiet go build -p "$JOBS" -trimpath -ldflags "-s -w -X github.com/helm/chart-testing/v3/ct/cmd.Version=$CT_VERSION" \
    -o "$BIN/ct" github.com/helm/chart-testing/v3/ct
  mkdir -p "$dir"
  cp "$(go list -m -f '{{.Dir}}' github.com/helm/chart-testing/v3)"/etc/*.yaml "$dir/"; chmod u+w "$dir"/*.yaml
  rm -rf "$dir/venv"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "yamllint==$YAMLLINT_VERSION" "yamale==$YAMALE_VERSION"
  stamp ct "$v"; done_in "chart-testing $CT_VERSION"
}

build_registry() {
  go_tool registry "registry (distribution)" "$REGISTRY_VERSION" "-X github.com/distribution/distribution/v3/version.version=$REGISTRY_VERSION" \
    "github.com/distribution/distribution/v3@$REGISTRY_VERSION" -- github.com/distribution/distribution/v3/cmd/registry
}

# The real node's images, as OCI archives in .tools/images that up.sh imports into containerd: the pod sandbox
# (`pause`, from go/cmd/pause) and a small test image (Debian's static busybox). buildah works on vfs storage here.
NODE_IMAGES_REV=1
build_nodeimages() {
  local out="$ROOT/.tools/images"
  built nodeimages "$NODE_IMAGES_REV" && [ -f "$out/pause.oci.tar" ] && [ -f "$out/busybox.oci.tar" ] \
    && { log "node images: cached"; return; }
  command -v buildah >/dev/null || { log "buildah is missing (Debian package buildah)"; return 1; }
  [ -x /bin/busybox ] || { log "/bin/busybox is missing (Debian package busybox-static)"; return 1; }
  begin "node images: building"
  local work="$WORK/nodeimages" bh id
  rm -rf "$work" && mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp" "$out" && chmod 1777 "$work/rootfs/tmp"
  (cd "$ROOT/tools/cluster/go" && quiet go build -trimpath -ldflags "-s -w" -o "$work/pause" ./cmd/pause)
  bh() { buildah --storage-driver vfs --root "$work/storage" --runroot "$work/run" "$@"; }
  id=$(bh from --quiet scratch)
  bh copy --quiet "$id" "$work/pause" /pause
  bh config --entrypoint '["/pause"]' --user 65535:65535 "$id"
  bh commit --quiet --rm "$id" localhost/pause:3.10 >/dev/null
  rm -f "$out/pause.oci.tar" && bh push --quiet localhost/pause:3.10 "oci-archive:$out/pause.oci.tar:localhost/pause:3.10"
  # busybox with its applets as links, and /tmp: enough for commands, exec probes and an HTTP server in tests.
  cp /bin/busybox "$work/rootfs/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$work/rootfs/bin/$a"; done
  id=$(bh from --quiet scratch)
  bh copy --quiet "$id" "$work/rootfs" /
  bh config --cmd '["/bin/sh"]' --env PATH=/bin "$id"
  bh commit --quiet --rm "$id" localhost/busybox:local >/dev/null
  rm -f "$out/busybox.oci.tar" && bh push --quiet localhost/busybox:local "oci-archive:$out/busybox.oci.tar:localhost/busybox:local"
  rm -rf "$work"
  stamp nodeimages "$NODE_IMAGES_REV"; done_in "node images"
}

# Cluster DNS for the real node's pods: CoreDNS with only the plugins its Corefile uses (tools/cluster/coredns/main.go,
# on coremain). The stamp names that file's hash, so a changed plugin list rebuilds.
build_coredns() {
  local v; v="$COREDNS_VERSION+$(sha256sum "$ROOT/tools/cluster/coredns/main.go" | cut -c1-12)"
  built coredns "$v" coredns && { log "CoreDNS $COREDNS_VERSION: cached"; return; }
  begin "CoreDNS $COREDNS_VERSION: building"
  wrapper coredns
  cp "$ROOT/tools/cluster/coredns/main.go" .
  quiet go get "github.com/coredns/coredns@$COREDNS_VERSION" >/dev/null
  quiet go mod tidy
  quiet go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$BIN/coredns" .
  stamp coredns "$v"; done_in "CoreDNS $COREDNS_VERSION"
}

build_krew() {
  # krew itself (as kubectl-krew) and the validator that krew-index runs on every plugin manifest.
  go_tool krew krew "$KREW_VERSION" "-X sigs.k8s.io/krew/internal/version.gitTag=$KREW_VERSION" \
    "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION" "sigs.k8s.io/krew/cmd/validate-krew-manifest@$KREW_VERSION" -- \
    sigs.k8s.io/krew/cmd/krew sigs.k8s.io/krew/cmd/validate-krew-manifest
}

build_ours() {
  # Our own CSI driver and pod runner (tools/cluster/go); cheap, so always rebuilt by go's cache.
  if [ -f "$ROOT/tools/cluster/go/go.mod" ]; then
    log "pgbackup-csi + pod-runner: building"
    (cd "$ROOT/tools/cluster/go" && quiet go build -trimpath -o "$BIN/" ./cmd/...)
  fi
}

targets=${*:-"etcd kwok snapshotter kubernetes kubelet cni coredns nodeimages provisioner helm ct krew registry ours"}
# One build at a time: the machine has few cores and two go builds of the same module would race on the outputs.
exec 9>"$ROOT/.tools/build.lock"
flock -n 9 || { log "another build.sh is running; waiting for it"; flock 9; }
start=$(date +%s)
for t in $targets; do "build_$t"; done
log "all done in $(( $(date +%s) - start ))s; binaries in $BIN"
