# syntax=docker/dockerfile:1

# Bank API: build with the dev dependencies, run with the production ones only.
#   docker build -t bank-api .
#   docker run -p 3000:3000 -e DATABASE_URL=postgres://... -e JWT_SECRET=... bank-api
#
# Install scripts are not run (--ignore-scripts: @scarf/scarf is analytics,
# @parcel/watcher is dev-only). argon2 is then built from source on purpose:
# the prebuilt binaries of argon2 0.45 need Node-API 10, which Node 20 lacks
# (loading one crashes Node 20 with a segmentation fault), so the prod-deps
# stage has a compiler and rebuilds it; the runtime image has no compiler.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The image's own Node headers, so node-gyp needs no download.
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild argon2 --build-from-source \
 && rm -rf node_modules/argon2/build/Release/obj.target node_modules/argon2/prebuilds \
 && node -e "require('argon2').hash('smoke-test-password').then(() => console.log('argon2 ok'))" \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# Memory settings as in `npm run start:prod` (see README, Operations): one
# malloc arena keeps the 19 MiB password-hashing buffers from being kept once per
# thread; 64 MB semi-spaces let a request's objects die young (less CPU and RSS under load).
ENV NODE_ENV=production \
    PORT=3000 \
    MALLOC_ARENA_MAX=1
WORKDIR /app
# Code and dependencies stay root-owned (read-only for the app); only data/ is
# writable, for the embedded database when DATABASE_URL is not set, and only
# by the app (mode 0700: the service refuses a data folder others may use).
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN install -d -o node -g node -m 700 /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--max-semi-space-size=64", "dist/main.js"]
