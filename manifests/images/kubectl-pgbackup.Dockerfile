# syntax=docker/dockerfile:1.7
# Image of `kubectl pgbackup`, also the program the backup CronJob runs:
#   docker build -f manifests/images/kubectl-pgbackup.Dockerfile -t ghcr.io/pgbackup/kubectl-pgbackup:0.1.0 .
# (build context = repository root). The runtime stage holds Node and the single-file CLI release build
# (`npm run release -w kubectl-pgbackup`: esbuild bundle + sh launcher), nothing else.

# The base image: the public one by default; tools/images/build.sh passes a locally made one (nothing is pulled there).
ARG NODE_IMAGE=docker.io/library/node:24.11.1-alpine3.22

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json turbo.json tsconfig.base.json LICENSE ./
COPY packages/core/package.json packages/core/
COPY packages/kubectl-pgbackup/package.json packages/kubectl-pgbackup/
COPY packages/backstage-backend/package.json packages/backstage-backend/
COPY packages/backstage-plugin/package.json packages/backstage-plugin/
# No install script is needed to build (esbuild and swc find their binaries through optional dependencies);
# better-sqlite3's, of a test dependency, would want a compiler or a download from GitHub.
RUN npm ci --no-audit --no-fund --ignore-scripts --include-workspace-root -w @pgbackup/core -w kubectl-pgbackup
COPY packages/core packages/core
COPY packages/kubectl-pgbackup packages/kubectl-pgbackup
RUN npm run build -w @pgbackup/core \
 && npm run build -w kubectl-pgbackup \
 && npm run release -w kubectl-pgbackup -- --no-sea

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="kubectl-pgbackup" \
      org.opencontainers.image.description="Back up PostgreSQL StatefulSets with CSI VolumeSnapshots (CLI and backup CronJob)" \
      org.opencontainers.image.source="https://github.com/pgbackup/pgbackup" \
      org.opencontainers.image.licenses="Apache-2.0"
# The CLI needs node and sh (the CronJob runs `sh -c "kubectl-pgbackup create … && kubectl-pgbackup prune …"`), not npm.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
COPY --from=build --chown=0:0 /src/packages/kubectl-pgbackup/release/kubectl-pgbackup /opt/kubectl-pgbackup
RUN ln -s /opt/kubectl-pgbackup/bin/kubectl-pgbackup /usr/local/bin/kubectl-pgbackup \
 && ln -s /opt/kubectl-pgbackup/bin/kubectl_complete-pgbackup /usr/local/bin/kubectl_complete-pgbackup
# SHELL: oclif reads the login shell from the passwd entry when SHELL is unset, and that entry does not exist for an
# arbitrary runAsUser (e.g. OpenShift's): without it `kubectl exec … kubectl-pgbackup` fails with uv_os_get_passwd ENOENT.
ENV NODE_ENV=production HOME=/tmp SHELL=/bin/sh
WORKDIR /tmp
# uid 1000 = user "node" of the base image; numeric so that runAsNonRoot can verify it.
USER 1000:1000
# A batch job, not a server: Kubernetes Job status is its health.
HEALTHCHECK NONE
ENTRYPOINT ["kubectl-pgbackup"]
CMD ["--help"]
