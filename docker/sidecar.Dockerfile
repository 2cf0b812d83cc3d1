# syntax=docker/dockerfile:1
# The iam-ra sidecar: one bundled file on a slim Node 24 base, run as a non-root user.
# Build from the repository root:
#   docker build -f docker/sidecar.Dockerfile -t iam-ra-sidecar .
# It needs no shell, writes nothing outside the token file's directory, and runs with
# readOnlyRootFilesystem: true (mount the certificate Secret and an emptyDir for the token).

FROM node:24-bookworm-slim AS build
WORKDIR /src
RUN npm install --global pnpm@10.34.9
# Manifests first, so dependency layers are cached across source changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/core/package.json packages/core/
COPY packages/emulator/package.json packages/emulator/
COPY apps/cli/package.json apps/cli/
COPY apps/sidecar/package.json apps/sidecar/
RUN pnpm install --frozen-lockfile --filter "@iam-ra/sidecar..."
COPY tsconfig.base.json ./
COPY packages/core packages/core
COPY apps/sidecar apps/sidecar
RUN pnpm --filter @iam-ra/sidecar run build

FROM node:24-bookworm-slim
ARG VERSION=0.0.0
LABEL org.opencontainers.image.title="iam-ra-sidecar" \
      org.opencontainers.image.description="AWS credentials from an X.509 certificate (IAM Roles Anywhere) for pods: container credentials and IMDSv2." \
      org.opencontainers.image.source="https://github.com/iam-ra/iam-ra" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
ENV NODE_ENV=production \
    IAM_RA_HOST=127.0.0.1 \
    IAM_RA_PORT=9911
COPY --from=build --chown=root:root --chmod=0555 /src/apps/sidecar/dist/main.js /app/main.js
# The image's node user (uid 1000); Kubernetes may override it with runAsUser.
USER 1000:1000
EXPOSE 9911
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["node", "/app/main.js", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/main.js"]
