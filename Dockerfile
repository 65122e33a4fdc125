# The sink (and the demo shop) for compose.yaml: Node 20, the locked dependencies, the sources.
# tsx runs the TypeScript as it is, so `npm ci` keeps the dev dependencies.
FROM node:20-bookworm-slim

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY . .
# The sink's native decoder (sink/native-decoder.ts), compiled now against the image's Node
# headers; the compiler goes again afterwards. Without it the sink decodes in JavaScript.
RUN apt-get update \
  && apt-get install -y --no-install-recommends gcc libc6-dev \
  && node --import tsx -e "import('./sink/native-decoder.ts').then((m) => m.buildNativeDecoder())" \
  && apt-get purge -y --auto-remove gcc libc6-dev \
  && rm -rf /var/lib/apt/lists/*
# The sink's spool and run history (a volume in compose.yaml), writable by the node user.
RUN mkdir -p /var/lib/sink && chown node:node /var/lib/sink

USER node
EXPOSE 9091
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.SINK_PORT || 9091) + '/-/healthy').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["npm", "run", "sink", "--", "--host", "0.0.0.0"]
