# syntax=docker/dockerfile:1.7
# One image per service, built from the monorepo root:
#   docker build -f docker/service.Dockerfile --build-arg SERVICE=booking -t happening/booking .
# The services run as TypeScript source through tsx (workspace packages export ./src/index.ts),
# so the runtime image carries a pinned tsx loader next to the service's production dependencies.

ARG NODE_VERSION=24.21
ARG PNPM_VERSION=10.34.9
ARG TSX_VERSION=4.20.6

FROM node:${NODE_VERSION}-bookworm-slim AS base
ARG PNPM_VERSION
ENV PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH \
    CI=true
RUN npm install --global --no-audit --no-fund pnpm@${PNPM_VERSION}

# Dependencies first: this layer is reused until the lockfile changes.
FROM base AS fetch
WORKDIR /repo
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm fetch --frozen-lockfile

FROM fetch AS build
ARG SERVICE
RUN test -n "${SERVICE}" || (echo "build arg SERVICE is required (identity-org, catalog, booking, notification, gateway)" && exit 1)
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --filter "@happening/${SERVICE}..."
# Only this service's production dependencies, workspace packages copied in as source.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm deploy --legacy --filter "@happening/${SERVICE}" --prod /out \
 && rm -rf /out/test /out/vitest.config.ts /out/tsconfig.json

# The TypeScript loader, outside the service's dependency tree so it is present whether or not a
# service lists tsx among its production dependencies.
FROM base AS loader
ARG TSX_VERSION
WORKDIR /opt/tsx
RUN echo '{"private":true}' > package.json \
 && npm install --no-audit --no-fund --omit=dev "tsx@${TSX_VERSION}"

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG SERVICE
# The service's listening port (identity-org 3001, catalog 3002, booking 3003, notification 3004,
# gateway 8080); compose and the chart set PORT explicitly as well.
ARG PORT=8080
LABEL org.opencontainers.image.title="happening-${SERVICE}"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=${PORT} \
    NODE_OPTIONS="--import=/opt/tsx/node_modules/tsx/dist/loader.mjs --enable-source-maps" \
    TMPDIR=/tmp
WORKDIR /app
COPY --from=loader --chown=root:root /opt/tsx /opt/tsx
COPY --from=build --chown=root:root /out /app
# Files stay owned by root and read-only for the service user; tsx writes its transform cache to
# TMPDIR, the only writable path (an emptyDir or tmpfs when the root filesystem is read-only).
USER 10001:10001
EXPOSE ${PORT}
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["env", "NODE_OPTIONS=", "node", "--input-type=module", "-e", "const r = await fetch(`http://127.0.0.1:${process.env.PORT}/healthz`); process.exit(r.ok ? 0 : 1);"]
STOPSIGNAL SIGTERM
# Migrations: the same image with `node src/migrate.ts`.
CMD ["node", "src/main.ts"]
