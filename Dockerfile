# The sink and the demo shop for compose.yaml. Build once, run the output: the first
# stage builds dist/ with the dev dependencies; the image holds dist/, package.json
# and the production dependencies only, and runs dist/ on plain Node.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
# The sink's data directory (run history, spool; a volume in compose.yaml), writable by the node user.
RUN mkdir -p /var/lib/sink && chown node:node /var/lib/sink
ENV SINK_DATA_DIR=/var/lib/sink

USER node
# It listens on every interface, so it needs a token: `docker run -e SINK_TOKEN=…` (compose.yaml
# passes the one in .env). Without one it refuses to start and says so.
EXPOSE 9091
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.SINK_PORT || 9091) + '/-/healthy').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "--max-semi-space-size=2", "dist/sink/server.js", "--host", "0.0.0.0"]
