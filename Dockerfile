# One image, two processes:
#   docker run … thumbs                                  the api (REST, Socket.IO, the web app) on :3000
#   docker run … thumbs node --single-threaded-gc dist/apps/worker/main.js    a worker (ffmpeg, sharp)
# See docker-compose.yml for a whole deployment (MongoDB, Redis, MinIO, api, workers).

ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------------------------------------
# build: every dependency (native ones compiled here), the api and worker bundles, the web app,
# then only the production dependencies are kept.
FROM ${NODE_IMAGE} AS build
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false \
    NG_CLI_ANALYTICS=false SCARF_ANALYTICS=false
# better-sqlite3 compiles from source when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

COPY package.json package-lock.json ./
# `npm ci` when the lockfile passes its sync check. A lockfile written where the registry lacked
# other platforms' optional binaries (@swc/core-darwin-*, …) fails it; `npm install` then adds
# those entries and keeps every version the lockfile pins.
RUN npm ci || npm install

COPY tsconfig.json nest-cli.json angular.json ./
COPY libs libs
COPY apps apps
COPY scripts/build-web.mjs scripts/compress-web.mjs scripts/
RUN npx nest build api && npx nest build worker
RUN npm run build:web

# Production dependencies only. The npm ffmpeg/ffprobe binaries are dropped: the runtime image
# has Debian's ffmpeg, found on the PATH first (FFMPEG_PATH/FFPROBE_PATH below make it explicit).
RUN npm prune --omit=dev \
 && rm -rf node_modules/@ffmpeg-installer/linux-* node_modules/@ffprobe-installer/linux-* \
 && test -d dist/apps/web/browser && test -f dist/apps/api/main.js && test -f dist/apps/worker/main.js

# ---------------------------------------------------------------------------------------------
# runtime: Node, Debian's ffmpeg, tini as PID 1, the built app, running as the unprivileged `node`.
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# MALLOC_ARENA_MAX=2: glibc otherwise gives each thread that allocates (libvips', libuv's) an arena
# of its own and keeps what photos left in them: the worker's RSS after a photo run settles at
# 330-380 MiB instead of 200-270 (bench/worker-memory.ts, docs/deploy.md#memory). VIPS_CONCURRENCY=1
# keeps sharp's one libvips thread per image, which sharp drops as soon as MALLOC_ARENA_MAX is set.
ENV NODE_ENV=production \
    PORT=3000 \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    FFPROBE_PATH=/usr/bin/ffprobe \
    MALLOC_ARENA_MAX=2 \
    VIPS_CONCURRENCY=1
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# The code stays root-owned and read-only to the app; only ./data (SQLite file, local files and
# the generated JWT secret when those defaults are used) is writable. Mount a volume there.
RUN mkdir -p /app/data && chown node:node /app/data

USER node
EXPOSE 3000

# tini forwards SIGTERM to node (graceful shutdown: the worker finishes or hands back its jobs)
# and reaps zombie ffmpeg processes.
ENTRYPOINT ["/usr/bin/tini", "--"]
# --single-threaded-gc: V8 collects on the main thread instead of 4 helper threads, which on a
# small machine cost more CPU than they save (scripts/node-flags.json, docs/deploy.md#garbage-collection).
CMD ["node", "--single-threaded-gc", "dist/apps/api/main.js"]

# Readiness of the api (database, Redis, storage). A worker has no HTTP unless
# WORKER_METRICS_PORT is set: point HEALTHCHECK_URL at http://127.0.0.1:<that port>/health, or run
# it with --no-healthcheck (docker-compose.yml does the former).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL || 'http://127.0.0.1:' + (process.env.PORT || 3000) + '/api/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
