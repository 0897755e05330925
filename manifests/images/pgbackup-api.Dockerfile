# syntax=docker/dockerfile:1.7
# Image of the pgbackup HTTP API (packages/backstage-backend, standalone mode):
#   docker build -f manifests/images/pgbackup-api.Dockerfile -t ghcr.io/pgbackup/pgbackup-api:0.1.0 .
# (build context = repository root). The runtime stage holds the node executable of the build stage and the
# single-file server bundle (manifests/images/bundle-api.mjs) on Debian slim: no npm, no node_modules but the bundle's.

# The base images: the public ones by default; tools/images/build.sh passes locally made ones (nothing is pulled there).
# The build stage's node runs on the runtime's Debian: both glibc (not Alpine's musl).
ARG NODE_IMAGE=docker.io/library/node:24.11.1-bookworm-slim
ARG DEBIAN_IMAGE=docker.io/library/debian:12.12-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY packages/core/package.json packages/core/
COPY packages/kubectl-pgbackup/package.json packages/kubectl-pgbackup/
COPY packages/backstage-backend/package.json packages/backstage-backend/
COPY packages/backstage-plugin/package.json packages/backstage-plugin/
# No install script is needed to build (esbuild and swc find their binaries through optional dependencies);
# better-sqlite3's, of a test dependency, would want a compiler or a download from GitHub.
RUN npm ci --no-audit --no-fund --ignore-scripts --include-workspace-root -w @pgbackup/core -w kubectl-pgbackup -w @pgbackup/backstage-plugin-pgbackup-backend
COPY packages/core packages/core
COPY packages/backstage-backend packages/backstage-backend
COPY manifests/images/bundle-api.mjs manifests/images/bundle-api.mjs
RUN npm run build -w @pgbackup/core \
 && npm run build -w @pgbackup/backstage-plugin-pgbackup-backend \
 && node manifests/images/bundle-api.mjs /out/pgbackup-api

FROM ${DEBIAN_IMAGE}
LABEL org.opencontainers.image.title="pgbackup-api" \
      org.opencontainers.image.description="pgbackup HTTP API: backups, freshness and snapshots of PostgreSQL StatefulSets" \
      org.opencontainers.image.source="https://github.com/pgbackup/pgbackup" \
      org.opencontainers.image.licenses="Apache-2.0"
# No RUN step: the base, the node executable and the bundle.
COPY --from=build --chown=0:0 /usr/local/bin/node /usr/local/bin/node
COPY --from=build --chown=0:0 /out/pgbackup-api /opt/pgbackup-api
ENV NODE_ENV=production HOME=/tmp PORT=3000
WORKDIR /opt/pgbackup-api
# uid 1000 (no account: HOME is /tmp); numeric so that runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000
# Kubernetes uses the Deployment's /health/* probes; this is for docker/compose.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/opt/pgbackup-api/server.mjs"]
