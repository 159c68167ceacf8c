# syntax=docker/dockerfile:1
# mcp-fleet server image.
#   docker build -t mcp-fleet:0.1.0 .
#   docker run --rm -p 3000:3000 --read-only --tmpfs /tmp mcp-fleet:0.1.0
# The runtime stage holds the compiled dist/ and production dependencies only, runs as the
# non-root user 1000 (the base image's "node" user) and writes nothing outside /tmp, so it runs
# with a read-only root filesystem. tini is PID 1: it forwards SIGTERM to Node, which drains
# (readiness false, SSE streams closed with a retry hint, in-flight requests finished).

ARG NODE_IMAGE=node:24-alpine

# --- build: all dependencies, compile TypeScript to dist/ ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# bin/build-on-demand.mjs: npm ci's prepare (a no-op without src/) and npm run build's stamp.
COPY bin ./bin
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- deps: production dependencies only ---
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime ---
FROM ${NODE_IMAGE} AS runtime
RUN apk add --no-cache tini \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx \
           /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the user the server runs as.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER 1000:1000
EXPOSE 3000 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/sbin/tini", "--"]
CMD ["node", "dist/main.js"]
