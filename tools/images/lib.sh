# Shared by the image scripts (sourced, not run).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tools/images"
. "$ROOT/tools/cluster/versions.env"
# buildah here: vfs storage (no overlay in this sandbox) and chroot isolation for RUN steps (crun/OCI isolation fails
# on this cgroups v1 hybrid host). Both are buildah's own environment variables, so every buildah call honours them.
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
# Everything slow is cached outside the clone, like Go's build cache, so that a fresh clone (CI's) rebuilds only what
# changed: buildah's storage (a storage.conf that every buildah and skopeo call reads), the bases' inputs, the images'
# keys (their inputs' digests: the key, never the place, says whether an image is current). One build at a time uses it.
IMAGES_CACHE="${PGBACKUP_IMAGES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pgbackup/images}"
STORAGE="$IMAGES_CACHE/containers"
CACHE="$IMAGES_CACHE/bases"
KEYS="$IMAGES_CACHE/keys"
mkdir -p "$STORAGE" "$CACHE" "$KEYS"
if [ -z "${PGBACKUP_IMAGES_LOCKED:-}" ]; then
  exec 9>"$IMAGES_CACHE/lock"
  flock -n 9 || { printf '[images] waiting for another build that uses %s\n' "$IMAGES_CACHE" >&2; flock 9; }
  export PGBACKUP_IMAGES_LOCKED=1
fi
export CONTAINERS_STORAGE_CONF="$STORAGE/storage.conf"
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$STORAGE/graph" "$STORAGE/run" >"$CONTAINERS_STORAGE_CONF"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Versions of the bases follow the repository's own pins (package.json's node and packageManager).
NODE_VERSION=$(sed -n 's/^ *"node": "\([0-9.]*\)".*/\1/p' "$ROOT/package.json" | head -1)
NPM_VERSION=$(sed -n 's/^ *"packageManager": "npm@\([0-9.]*\)".*/\1/p' "$ROOT/package.json")
DEBIAN_IMAGE=localhost/debian:bookworm
NODE_IMAGE=localhost/node:24-bookworm-slim

say() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
have_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }
# The image's ID (config digest): what a derived image's cache key depends on.
image_id() { buildah inspect --type image --format '{{.FromImageID}}' "$1"; }
