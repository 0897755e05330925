#!/usr/bin/env bash
# `npm run images`: builds every image from its Dockerfile as it ships (the public base images replaced by build
# arguments with the local bases of bases.sh), pushes it to the local registry and prints one `<repository>@sha256:…`
# per line on stdout (progress goes to stderr). An image whose inputs did not change is not rebuilt.
#   kubectl-pgbackup   manifests/images/kubectl-pgbackup.Dockerfile (the CLI, also the backup CronJob)
#   pgbackup-api       manifests/images/pgbackup-api.Dockerfile
#   postgres           tools/images/postgres (the local stand-in for docker.io/library/postgres:15)
# Environment: IMAGES_REGISTRY (host:port; default: the local cluster's, .cluster/registry.addr, else REGISTRY_ADDR).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REGISTRY=${IMAGES_REGISTRY:-$(cat "$ROOT/.cluster/registry.addr" 2>/dev/null || echo "$REGISTRY_ADDR")}
curl -fsS --max-time 5 "http://$REGISTRY/v2/" >/dev/null 2>&1 \
  || die "no image registry answers on http://$REGISTRY/v2/ (start it with tools/cluster/up.sh, or set IMAGES_REGISTRY)"

bash "$HERE/bases.sh"

# What the Node images' `npm ci` borrows from this machine (mounted, never committed): npm's cache, so that it downloads
# little that the host's `npm ci` of the same lockfile fetched already, and the CAs npm trusts here (egress may go
# through a TLS proxy) with a global npmrc naming them.
NPM_MOUNTS=(--volume "$HOME/.npm:/root/.npm")
cafile=$(npm config get cafile 2>/dev/null || true)
if [ -f "$cafile" ]; then
  mkdir -p "$KEYS/npm-etc"
  cp "$cafile" "$KEYS/npm-etc/ca.crt"
  echo 'cafile=/usr/local/etc/ca.crt' >"$KEYS/npm-etc/npmrc"
  NPM_MOUNTS+=(--volume "$KEYS/npm-etc:/usr/local/etc:ro")
fi

# inputs_key NAME BASES FILES...: what the image is made of (its recipe, its bases' IDs, the files its context may copy).
inputs_key() {
  local name=$1 bases=$2 base; shift 2
  {
    echo "$name $(buildah --version)"
    for base in $bases; do
      have_image "$base" || die "$name: base image $base is missing (tools/images/bases.sh makes it)"
      image_id "$base"
    done
    (cd "$ROOT" && git ls-files -z -co --exclude-standard -- "$@" | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-64
}

# push NAME LOCAL REPOSITORY: pushes LOCAL to REPOSITORY in the registry, prints REPOSITORY@DIGEST.
push() {
  local name=$1 local_image=$2 repo=$3 digestfile
  digestfile=$(mktemp)
  buildah push --quiet --tls-verify=false --digestfile "$digestfile" "$local_image" "docker://$repo:latest" 2>"$KEYS/$name.push.log" \
    || { rm -f "$digestfile"; die "$name: push to $repo failed: $(tail -1 "$KEYS/$name.push.log")"; }
  echo "$repo@$(cat "$digestfile")"
  rm -f "$digestfile"
}

# pushed REF: the registry holds that manifest.
pushed() {
  local repo=${1%@*} digest=${1#*@}
  curl -fs --max-time 5 -o /dev/null -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REGISTRY/v2/${repo#*/}/manifests/$digest"
}

# forget_others NAME KEEP KEEPFILE: the images and keys of NAME's older inputs go (vfs storage holds every layer
# whole), but the newest KEEP_VERSIONS builds stay (by their key files' times): clones at other commits (worktrees,
# CI beside a checkout) then reuse each other's builds instead of rebuilding in turn.
KEEP_VERSIONS=4
forget_others() {
  local name=$1 keep=$2 keepfile=$3 img f kept
  kept=" $keep "
  for f in $(ls -t "$KEYS/$name"-* 2>/dev/null | head -n "$KEEP_VERSIONS"); do
    kept+="localhost/pgbackup/$name:${f##*/"$name"-} "
  done
  for img in $(buildah images --noheading --format '{{.Name}}:{{.Tag}}' | grep "^localhost/pgbackup/$name:" || true); do
    case $kept in *" $img "*) ;; *) buildah rmi "$img" >/dev/null ;; esac
  done
  for f in "$KEYS/$name"-*; do
    case $kept in *":${f##*/"$name"-} "*) ;; *) [ "$f" = "$keepfile" ] || rm -f "$f" ;; esac
  done
}

# image NAME "ARG=BASE..." DOCKERFILE CONTEXT IGNOREFILE INPUTS...: builds (unless cached), checks, pushes, prints the
# reference. Each ARG is a build argument of the Dockerfile naming a base image.
image() {
  local name=$1 bases=$2 dockerfile=$3 context=$4 ignorefile=$5 args=() volumes=() arg; shift 5
  for arg in $bases; do args+=(--build-arg "$arg"); done
  case " $bases" in *" NODE_IMAGE="*) volumes=("${NPM_MOUNTS[@]}") ;; esac
  local key ref t0 user repo="$REGISTRY/pgbackup/$name"
  key=$(inputs_key "$name" "$(printf '%s\n' $bases | sed 's/^[^=]*=//')" "$@")
  # The local image is tagged with its key (clones of other commits share the cache) and its reference kept beside it.
  local local_image="localhost/pgbackup/$name:${key:0:20}" keyfile="$KEYS/$name-${key:0:20}"
  ref=$(cat "$keyfile" 2>/dev/null || true)
  [ -z "$ref" ] || ref="$repo@${ref#*@}"   # the digest, in this registry
  [ -z "$ref" ] || touch "$keyfile"   # recently used: forget_others keeps it
  if [ -n "$ref" ] && pushed "$ref"; then
    say "$name: cached"; echo "$ref"; return
  fi
  if [ -n "$ref" ] && have_image "$local_image"; then
    ref=$(push "$name" "$local_image" "$repo") || exit 1
    say "$name: cached (pushed again)"; echo "$ref"; return
  fi
  t0=$(date +%s)
  say "$name: building from ${dockerfile#"$ROOT"/}"
  buildah bud --quiet --pull=never --layers=false --timestamp 0 "${args[@]}" \
    ${ignorefile:+--ignorefile "$ignorefile"} "${volumes[@]}" \
    -f "$dockerfile" -t "$local_image" "$context" >"$KEYS/$name.build.log" 2>&1 \
    || die "$name: build failed; see $KEYS/$name.build.log: $(tail -3 "$KEYS/$name.build.log" | tr '\n' ' ')"
  user=$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$local_image")
  case ${user%%:*} in
    '' | 0 | root) die "$name: the image runs as root (USER '${user}'); it must name a non-root numeric user" ;;
  esac
  ref=$(push "$name" "$local_image" "$repo") || exit 1
  echo "$ref" >"$keyfile"
  say "$name: built and pushed in $(($(date +%s) - t0))s ($(buildah images --noheading --format '{{.Size}}' "$local_image"))"
  forget_others "$name" "$local_image" "$keyfile"
  echo "$ref"
}

# What the Node images' build contexts hold (their .dockerignore files say the same): a change there rebuilds both;
# tests and the portal's sources do not.
NODE_INPUTS="package.json package-lock.json turbo.json tsconfig.base.json LICENSE manifests/images packages/*/package.json
  packages/core packages/kubectl-pgbackup packages/backstage-backend :(exclude,glob)**/*.test.ts :(exclude,glob)**/*.test.tsx :(exclude,glob)**/__fixtures__/** :(exclude,glob)packages/*/test/**"
BASES="NODE_IMAGE=$NODE_IMAGE DEBIAN_IMAGE=$DEBIAN_IMAGE"
image kubectl-pgbackup "$BASES" "$ROOT/manifests/images/kubectl-pgbackup.Dockerfile" "$ROOT" \
  "$ROOT/manifests/images/kubectl-pgbackup.Dockerfile.dockerignore" $NODE_INPUTS
image pgbackup-api "$BASES" "$ROOT/manifests/images/pgbackup-api.Dockerfile" "$ROOT" \
  "$ROOT/manifests/images/pgbackup-api.Dockerfile.dockerignore" $NODE_INPUTS
image postgres "DEBIAN_IMAGE=$DEBIAN_IMAGE" "$HERE/postgres/Dockerfile" "$HERE/postgres" "" tools/images/postgres
# What the builds left behind (images of earlier inputs, untagged): vfs storage holds every layer whole.
buildah rmi --prune >/dev/null
