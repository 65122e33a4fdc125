// buildApp(deps): the sink as a Fastify instance that does not listen (server.ts does).
import { dirname, join } from 'node:path';
import http from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { DEFAULT_CONFIG, fileSettingError, historyPath, type SinkConfig } from './config.ts';
import { RunRegistry } from './grade/runs.ts';
import { registerSinkMetrics, registerFanOutMetrics, type SinkMetrics } from './metrics.ts';
import { writeRoute } from './write-route.ts';
import { runsRoutes } from './control/runs-routes.ts';
import { SinkErrors, type ErrorBody } from './errors.ts';
import { createFanOut, type FanOut } from './fanout/fanout.ts';
import { History } from './control/history.ts';
import { SeriesStore } from './control/series-store.ts';
import { RunControl } from './control/run-control.ts';
import { controlRoutes } from './control/control-routes.ts';
import { reportRoutes } from './control/report-routes.ts';
import { notifierFromConfig, type Notifier } from './control/notify.ts';
import { statusPageRoutes } from './control/status-page/routes.ts';
import { redactUrl } from './redact.ts';

export interface SinkDeps {
  config?: Partial<SinkConfig>;
  /** The Registry /metrics serves; one per app, never the global one. */
  registry?: Registry;
  /** Fastify's logger option. */
  logger?: boolean | object;
  /** How long shutdown waits for the destinations to catch up. */
  drainTimeoutMs?: number;
}

export type SinkApp = FastifyInstance & {
  sink: { runs: RunRegistry; registry: Registry; metrics: SinkMetrics; config: SinkConfig; fanOut: FanOut | null; control: RunControl | null; history: History | null; notifier: Notifier | null; seriesStore: SeriesStore | null };
};

type CatalogueError = InstanceType<(typeof SinkErrors)[keyof typeof SinkErrors]>;

/** JSON bodies (run control) are small; remote-write bodies have their own limit (write-route.ts). */
const JSON_BODY_LIMIT = 1024 * 1024;
/** A testid is 1 to 128 characters (the route schemas); the router's default limit is 100. */
const TESTID_MAX_LENGTH = 128;
/** Node's limit on the size of a request's headers (--max-http-header-size). */
const MAX_HEADER_BYTES = http.maxHeaderSize;

/** Fastify's own errors, put in the catalogue's words. */
function catalogued(err: FastifyError, request: FastifyRequest): CatalogueError | null {
  if (typeof err.code === 'string' && err.code.startsWith('SINK_ERR_')) return err as never;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SinkErrors.BODY_TOO_LARGE(
        request.routeOptions.url === '/api/v1/write' ? 'the compressed body is over the limit' : `the JSON body is over ${JSON_BODY_LIMIT} bytes (1 MiB)`,
      );
    case 'FST_ERR_BAD_URL':
      return new SinkErrors.BAD_URL(JSON.stringify((request.raw.url ?? '').split('?')[0]));
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new SinkErrors.PATH_SEGMENT_TOO_LONG(JSON.stringify((request.raw.url ?? '').split('?')[0]), TESTID_MAX_LENGTH);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new SinkErrors.BAD_REQUEST(err.message);
    default:
      return err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? new SinkErrors.BAD_REQUEST(err.message) : null;
  }
}

/** Fastify's request log fields, with the query string's values redacted: clients do put tokens there. */
function requestForLog(request: FastifyRequest) {
  return { method: request.method, url: redactUrl(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}

/** The catalogue's error for what Node's HTTP parser or its timeouts refused, before any route ran. */
function connectionError(err: NodeJS.ErrnoException & { reason?: string }, config: SinkConfig): CatalogueError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new SinkErrors.REQUEST_TIMEOUT(config.requestTimeoutMs / 1000);
  if (err.code === 'HPE_HEADER_OVERFLOW') return new SinkErrors.HEADERS_TOO_LARGE(MAX_HEADER_BYTES);
  return new SinkErrors.MALFORMED_HTTP(err.code?.startsWith('HPE_') ? `${err.reason ?? err.message}: ${err.code}` : (err.code ?? err.message));
}

export function buildApp(deps: SinkDeps = {}): SinkApp {
  const config: SinkConfig = { ...DEFAULT_CONFIG, ...deps.config };
  const registry = deps.registry ?? new Registry();
  const runs = new RunRegistry(config, (line) => app.log.warn(line));
  const metrics = registerSinkMetrics(registry, runs);
  const app = Fastify({
    logger: deps.logger ? { ...(typeof deps.logger === 'object' ? deps.logger : {}), serializers: { req: requestForLog } } : false,
    bodyLimit: JSON_BODY_LIMIT,
    routerOptions: { maxParamLength: TESTID_MAX_LENGTH },
    // Unknown fields are an error (400), not something to strip silently.
    ajv: { customOptions: { removeAdditional: false } },
    // Shutting down answers from the catalogue (below), not with Fastify's own body.
    return503OnClosing: false,
    // Slow clients (docs/sink.md, "Timeouts"): the whole request, headers and body, must
    // arrive within requestTimeout, whether or not it was answered already (a 401 whose
    // body still trickles in); Node checks once a second. A connection idle in both
    // directions for connectionTimeout is closed.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    http: { headersTimeout: config.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs) },
    // Errors before routing (a bad %-escape, a path segment longer than a testid) answer from the catalogue.
    frameworkErrors: (err, request, reply) => sendError(reply, catalogued(err, request) ?? new SinkErrors.INTERNAL()),
    // So do errors before Fastify sees a request: bad framing, oversized headers, a timeout.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const known = connectionError(err, config);
      metrics.connectionErrors.inc({ reason: known.code });
      // Not when a reply is being written: a status line in the middle of it would corrupt it.
      const replying = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
      if (socket.writable && !replying) {
        const body = JSON.stringify({ code: known.code, message: known.message } satisfies ErrorBody);
        const status = known.statusCode!;
        socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
      socket.destroy();
    },
  }) as unknown as SinkApp;
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new SinkErrors.SHUTTING_DOWN();
  });
  const sink: SinkApp['sink'] = { runs, registry, metrics, config, fanOut: null, control: null, history: null, notifier: null, seriesStore: null };
  app.decorate('sink', sink);

  function sendError(reply: FastifyReply, err: CatalogueError) {
    if (err.statusCode === 401) {
      const challenges = [config.token ? 'Bearer realm="promo-sink"' : '', config.basicAuth ? 'Basic realm="promo-sink"' : ''].filter(Boolean);
      if (challenges.length > 0) reply.header('WWW-Authenticate', challenges.join(', '));
    }
    return reply.code(err.statusCode!).send({ code: err.code, message: err.message } satisfies ErrorBody);
  }
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const known = catalogued(err, request);
    if (request.url.startsWith('/api/v1/write')) metrics.rejected.inc({ reason: known?.code ?? 'SINK_ERR_INTERNAL' });
    if (!known) request.log.error(err);
    return sendError(reply, known ?? new SinkErrors.INTERNAL());
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, new SinkErrors.NOT_FOUND(`${request.method} ${request.url.split('?')[0]}`)));

  app.get('/-/healthy', async () => 'Healthy\n');
  app.get('/-/ready', async () => 'Ready\n');
  app.get('/metrics', async (_request, reply) => {
    reply.header('Content-Type', registry.contentType);
    return registry.metrics();
  });
  app.register(runsRoutes, { runs });
  app.register(statusPageRoutes, { grafanaUrl: config.grafanaUrl });
  // Opening a disk spool is asynchronous, so the fan-out starts as a plugin: ready()
  // and listen() wait for it, and the write route sees it.
  app.register(async () => {
    sink.fanOut = await createFanOut(config, runs, (line) => app.log.warn(line));
    if (!sink.fanOut) return;
    const fanOut = sink.fanOut;
    registerFanOutMetrics(registry, fanOut);
    const grades = setInterval(() => void fanOut.emitGrades().catch((err) => app.log.error(err)), config.gradeIntervalMs);
    grades.unref();
    app.addHook('onClose', async () => {
      clearInterval(grades);
      await fanOut.close(deps.drainTimeoutMs ?? 10_000);
    });
  });
  app.register(async (scope) => {
    const log = (line: string) => app.log.warn(line);
    const historyFile = historyPath(config);
    sink.history = historyFile
      ? await History.open(historyFile, log).catch((err) => {
          const [flag, value] = config.historyFile ? ['--history-file', config.historyFile] : ['--data-dir', config.dataDir!];
          throw fileSettingError(err, flag, value, historyFile) ?? err;
        })
      : null;
    if (sink.history) {
      const history = sink.history;
      app.log.info(`history ${history.path}: ${history.list().length} finished runs`);
      app.addHook('onClose', async () => history.close());
    }
    const notifier = notifierFromConfig(config, log);
    sink.notifier = notifier;
    const seriesStore = new SeriesStore({ dir: historyFile ? join(dirname(historyFile), 'series') : null, log });
    sink.seriesStore = seriesStore;
    app.addHook('onClose', async () => seriesStore.flush());
    const control = new RunControl(runs, sink.history, { finished: (entry) => notifier?.finished(entry) }, log, seriesStore);
    if (notifier) {
      runs.onTouched = (run) => notifier.evaluate(run, control.registrations.get(run.testid)?.target ?? null);
      app.addHook('onClose', async () => notifier.drain(5000));
    }
    sink.control = control;
    runs.onAbort = (run, threshold) => void control.abort(run, threshold).catch((err) => app.log.error(err));
    app.addHook('onClose', async () => control.close());
    await controlRoutes(scope, {
      control,
      runs,
      history: sink.history,
      seriesStore,
      credentials: { token: config.token, basic: config.basicAuth },
      allowStart: config.allowStart,
      selfUrl: () => {
        const address = app.server.address();
        return typeof address === 'object' && address ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : `http://127.0.0.1:${config.port}`;
      },
      log,
    });
    await reportRoutes(scope, { control, runs, history: sink.history, seriesStore });
  });
  app.register(async (scope) =>
    writeRoute(scope, {
      credentials: { token: config.token, basic: config.basicAuth },
      maxBodyBytes: config.maxBodyBytes,
      maxLabels: config.maxLabels,
      maxLabelValueBytes: config.maxLabelValueBytes,
      runs,
      metrics,
      forward: sink.fanOut ?? undefined,
    }),
  );

  const sweep = setInterval(() => runs.sweep(Date.now()), 60_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
  return app;
}
