// buildApp(deps): the sink as a Fastify instance that does not listen (server.ts does).
import { dirname, join } from 'node:path';
import http from 'node:http';
import { availableParallelism } from 'node:os';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { DEFAULT_CONFIG, fileSettingError, historyPath, type SinkConfig } from './config.ts';
import { RunRegistry } from './grade/runs.ts';
import { registerSinkMetrics, registerFanOutMetrics, registerNotifierMetrics, registerControlMetrics, type SinkMetrics } from './metrics.ts';
import { decoderLimits, writeRoute } from './write-route.ts';
import { DecodePool } from './remote-write/decode-pool.ts';
import { offLoopBodies, replayEncoder } from './off-loop-bodies.ts';
import { runsRoutes } from './control/runs-routes.ts';
import { SinkErrors, type ErrorBody } from './errors.ts';
import { createFanOut, type FanOut } from './fanout/fanout.ts';
import { History } from './control/history.ts';
import { SeriesStore } from './control/series-store.ts';
import { RunControl } from './control/run-control.ts';
import { controlRoutes } from './control/control-routes.ts';
import { reportRoutes } from './control/report-routes.ts';
import { compareRoutes } from './control/compare-routes.ts';
import { notifierFromConfig, type Notifier } from './control/notify/notifier.ts';
import { RunEvents } from './model/run-events.ts';
import { GradeEmitter } from './grade/grades.ts';
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
  /**
   * Decode (and build the fan-out's bodies) in a worker thread while the event loop does
   * HTTP and grading. Default: when the machine has more than one CPU.
   */
  decodeWorker?: boolean;
}

/** The sink's parts, as buildApp put them together (for tests and inspection). */
export interface SinkParts {
  config: SinkConfig;
  registry: Registry;
  metrics: SinkMetrics;
  events: RunEvents;
  runs: RunRegistry;
  grades: GradeEmitter;
  history: History | null;
  seriesStore: SeriesStore;
  control: RunControl;
  notifier: Notifier | null;
  fanOut: FanOut | null;
}

export type SinkApp = FastifyInstance & {
  /** Set once ready() (or listen()) has put the parts together. */
  sink: SinkParts;
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
  const log = (line: string) => app.log.warn(line);
  // Grading publishes the run events; run control, the notifier and the fan-out subscribe when they are built.
  const events = new RunEvents((line) => app.log.error(line));
  const runs = new RunRegistry(config, log, events);
  const grades = new GradeEmitter(runs);
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
  let parts: SinkParts | null = null;
  app.decorate('sink', {
    getter(): SinkParts {
      if (parts === null) throw new Error('the sink is not ready: await app.ready() first');
      return parts;
    },
  });

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
  // Opening the history and a disk spool is asynchronous, so the parts are put together in
  // a plugin (ready() and listen() wait for it), each built with what it depends on.
  app.register(async (scope) => {
    // Closed in this order whatever was built before a failure: the last grades go out
    // with the rest, the fan-out drains after them (its last bodies may be built on the
    // decode worker, which goes next), then run control, the notifier's queue, the files.
    let history: History | null = null;
    let seriesStore: SeriesStore | null = null;
    let control: RunControl | null = null;
    let notifier: Notifier | null = null;
    let pool: DecodePool | null = null;
    let fanOut: FanOut | null = null;
    let gradeTimer: NodeJS.Timeout | null = null;
    app.addHook('onClose', async () => {
      if (gradeTimer) clearInterval(gradeTimer);
      if (fanOut) {
        await grades.emit();
        await fanOut.close(deps.drainTimeoutMs ?? 10_000);
      }
      await pool?.close();
      control?.close();
      await notifier?.drain(5000);
      await seriesStore?.flush();
      await history?.close();
    });

    const historyFile = historyPath(config);
    history = historyFile
      ? await History.open(historyFile, log).catch((err) => {
          const [flag, value] = config.historyFile ? ['--history-file', config.historyFile] : ['--data-dir', config.dataDir!];
          throw fileSettingError(err, flag, value, historyFile) ?? err;
        })
      : null;
    if (history) app.log.info(`history ${history.path}: ${history.list().length} finished runs`);
    seriesStore = new SeriesStore({ dir: historyFile ? join(dirname(historyFile), 'series') : null, log });
    control = new RunControl(runs, history, events, log, seriesStore, { stops: Boolean(config.token), maxRegistrations: config.maxRegistrations });
    registerControlMetrics(registry, control);
    if (!config.token) {
      app.log.warn('no --token: run control is off; the sink stops and starts no k6 instance, whatever it is told (a failed merged threshold is recorded, not enforced), and keeps no k6 address');
    }
    const registrations = control.registrations;
    notifier = notifierFromConfig(config, log, { events, targetOf: (testid) => registrations.get(testid)?.target ?? null });
    if (notifier) registerNotifierMetrics(registry, notifier);
    pool = (deps.decodeWorker ?? availableParallelism() > 1) ? await DecodePool.start(decoderLimits(config), log) : null;
    fanOut = await createFanOut(config, events, offLoopBodies(pool, replayEncoder()), log);
    if (fanOut) {
      registerFanOutMetrics(registry, fanOut);
      gradeTimer = setInterval(() => void grades.emit(), config.gradeIntervalMs);
      gradeTimer.unref();
    }
    parts = { config, registry, metrics, events, runs, grades, history, seriesStore, control, notifier, fanOut };

    const credentials = { token: config.token, basic: config.basicAuth };
    await controlRoutes(scope, {
      control,
      runs,
      history,
      seriesStore,
      credentials,
      allowStart: config.allowStart,
      selfUrl: () => {
        const address = app.server.address();
        return typeof address === 'object' && address ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : `http://127.0.0.1:${config.port}`;
      },
      log,
    });
    await reportRoutes(scope, { control, runs, history, seriesStore });
    await compareRoutes(scope, { history });
    const forward = fanOut ?? undefined;
    scope.register(async (write) =>
      writeRoute(write, {
        credentials,
        maxBodyBytes: config.maxBodyBytes,
        maxLabels: config.maxLabels,
        maxLabelValueBytes: config.maxLabelValueBytes,
        runs,
        metrics,
        pool,
        forward,
      }),
    );
  });

  const sweep = setInterval(() => runs.sweep(Date.now()), 60_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
  return app;
}
