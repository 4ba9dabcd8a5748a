# The control-plane image: multi-stage, Node 22 LTS, production dependencies only, non-root.
# Build from the repository root: docker build -t exoscale-autoscaler .
# NODE_IMAGE follows the Node 22 LTS line; pin a digest or patch tag (e.g. node:22.23.3-slim) for reproducible builds.
ARG NODE_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY apps/control-plane apps/control-plane
COPY libs libs
RUN npx nest build control-plane

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    LISTEN_PORT=8090 \
    SD_FILE=/srv/service-discovery/config.json
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist/apps/control-plane ./dist
COPY package.json ./
# The service-discovery directory is a volume shared with Prometheus; the app writes it as the node user.
RUN mkdir -p /srv/service-discovery /var/lib/exoscale-autoscaler \
    && chown node:node /srv/service-discovery /var/lib/exoscale-autoscaler
USER node
EXPOSE 8090
VOLUME ["/srv/service-discovery"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.LISTEN_PORT || 8090) + '/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
