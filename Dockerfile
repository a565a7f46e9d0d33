# syntax=docker/dockerfile:1

# Bank API: build with the dev dependencies, run with the production ones only.
#   docker build -t bank-api .
#   docker run -p 3000:3000 -e DATABASE_URL=postgres://... -e JWT_SECRET=... bank-api
#
# Install scripts are not run (--ignore-scripts: @scarf/scarf is analytics,
# @parcel/watcher is dev-only, and the image brings its own Node 24, so the
# `node` dev dependency that gives npm scripts Node 24 elsewhere is not
# needed). argon2 loads its prebuilt binary, which needs Node-API 10: Node 24
# has it, so nothing is compiled and no image has a compiler.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && node -e "require('argon2').hash('smoke-test-password').then(() => console.log('argon2 ok'))" \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# Memory settings as in `npm run start:prod` (see docs/operations.md, Memory settings): one
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
