# syntax=docker/dockerfile:1.7
# Image of `kubectl pgbackup`, also the program the backup CronJob runs:
#   docker build -f manifests/images/kubectl-pgbackup.Dockerfile -t ghcr.io/pgbackup/kubectl-pgbackup:0.1.0 .
# (build context = repository root). The runtime stage holds the CLI's single executable (the Node.js SEA that
# `npm run release -w kubectl-pgbackup` makes for Krew, with its lib/ beside it) on Debian slim: no node, no npm.

# The base images: the public ones by default; tools/images/build.sh passes locally made ones (nothing is pulled there).
# The executable needs glibc: Debian's, not Alpine's musl.
ARG NODE_IMAGE=docker.io/library/node:24.11.1-bookworm-slim
ARG DEBIAN_IMAGE=docker.io/library/debian:12.12-slim

FROM ${NODE_IMAGE} AS build
# Node.js 26, the single executable's runtime, needs libatomic, which Debian slim lacks: installed here to build the
# executable, its files copied into the runtime stage (/runtime holds what that stage gets).
RUN apt-get update && apt-get install -y --no-install-recommends libatomic1 \
 && mkdir -p /runtime/opt && cp -P --parents /usr/lib/*-linux-gnu/libatomic.so.1* /runtime/
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
# The single executable of the platform this stage runs on (node's x64 is Krew's amd64).
RUN npm run build -w @pgbackup/core \
 && npm run build -w kubectl-pgbackup \
 && npm run release -w kubectl-pgbackup -- --platform "linux/$(node -p 'process.arch.replace("x64", "amd64")')" \
 && mv packages/kubectl-pgbackup/release/kubectl-pgbackup_linux_*/ /runtime/opt/kubectl-pgbackup

FROM ${DEBIAN_IMAGE}
LABEL org.opencontainers.image.title="kubectl-pgbackup" \
      org.opencontainers.image.description="Back up PostgreSQL StatefulSets with CSI VolumeSnapshots (CLI and backup CronJob)" \
      org.opencontainers.image.source="https://github.com/pgbackup/pgbackup" \
      org.opencontainers.image.licenses="Apache-2.0"
# The CronJob runs `sh -c "kubectl-pgbackup create … && kubectl-pgbackup prune …"`: Debian's sh, and the executable on
# PATH. No RUN step: the base, the executable and libatomic.
COPY --from=build --chown=0:0 /runtime/ /
ENV PATH=/opt/kubectl-pgbackup:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Any uid runs it (runAsUser, OpenShift's random ones): no account is needed, since HOME and SHELL are set (oclif asks
# the account database for the shell when SHELL is unset, and that throws for a uid it does not know).
ENV NODE_ENV=production HOME=/tmp SHELL=/bin/sh
WORKDIR /tmp
# uid 1000 (no account); numeric so that runAsNonRoot can verify it.
USER 1000:1000
# A batch job, not a server: Kubernetes Job status is its health.
HEALTHCHECK NONE
ENTRYPOINT ["kubectl-pgbackup"]
CMD ["--help"]
