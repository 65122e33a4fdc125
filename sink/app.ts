// buildApp(deps): the sink as a Fastify instance that does not listen (server.ts does).
import { dirname, join } from 'node:path';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { DEFAULT_CONFIG, historyPath, type SinkConfig } from './config.ts';
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

/** Fastify's own errors, put in the catalogue's words. */
function catalogued(err: FastifyError): InstanceType<(typeof SinkErrors)[keyof typeof SinkErrors]> | null {
  if (typeof err.code === 'string' && err.code.startsWith('SINK_ERR_')) return err as never;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SinkErrors.BODY_TOO_LARGE('the compressed body is over the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new SinkErrors.BAD_REQUEST(err.message);
    default:
      return err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? new SinkErrors.BAD_REQUEST(err.message) : null;
  }
}

export function buildApp(deps: SinkDeps = {}): SinkApp {
  const config: SinkConfig = { ...DEFAULT_CONFIG, ...deps.config };
  const registry = deps.registry ?? new Registry();
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: 1024 * 1024,
    // Unknown fields are an error (400), not something to strip silently.
    ajv: { customOptions: { removeAdditional: false } },
    // Shutting down answers from the catalogue (below), not with Fastify's own body.
    return503OnClosing: false,
  }) as unknown as SinkApp;
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new SinkErrors.SHUTTING_DOWN();
  });
  const runs = new RunRegistry(config, (line) => app.log.warn(line));
  const metrics = registerSinkMetrics(registry, runs);
  const sink: SinkApp['sink'] = { runs, registry, metrics, config, fanOut: null, control: null, history: null, notifier: null, seriesStore: null };
  app.decorate('sink', sink);

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const known = catalogued(err);
    if (request.url.startsWith('/api/v1/write')) metrics.rejected.inc({ reason: known?.code ?? 'SINK_ERR_INTERNAL' });
    if (!known) {
      request.log.error(err);
      const internal = new SinkErrors.INTERNAL();
      return reply.code(500).send({ code: internal.code, message: internal.message } satisfies ErrorBody);
    }
    if (known.statusCode === 401) {
      const challenges = [config.token ? 'Bearer realm="promo-sink"' : '', config.basicAuth ? 'Basic realm="promo-sink"' : ''].filter(Boolean);
      if (challenges.length > 0) reply.header('WWW-Authenticate', challenges.join(', '));
    }
    return reply.code(known.statusCode!).send({ code: known.code, message: known.message } satisfies ErrorBody);
  });
  app.setNotFoundHandler((request, reply) => {
    const err = new SinkErrors.NOT_FOUND(`${request.method} ${request.url.split('?')[0]}`);
    return reply.code(404).send({ code: err.code, message: err.message } satisfies ErrorBody);
  });

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
    sink.history = historyFile ? await History.open(historyFile, log) : null;
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
