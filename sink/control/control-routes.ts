// Run control over HTTP: register, stop, finish, start, live events, history.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { spawn } from 'node:child_process';
import { registrationJson, type RunControl } from './run-control.ts';
import type { FinishRequest, RegistrationReply, RegistrationRequest, RunSeriesJson } from '../../contract/sink-api.ts';
import type { RunRegistry } from '../grade/runs.ts';
import type { History } from './history.ts';
import type { SeriesStore } from './series-store.ts';
import { historyCsv } from '../../report/history-csv.ts';
import { authorized, type Credentials } from '../auth.ts';
import { SinkErrors } from '../errors.ts';
import { runJson } from './runs-routes.ts';
import { makeTestId, TESTID_PATTERN, INTENSITY_NAMES, ENVIRONMENTS, PROMO_TYPES } from '../../lib/tags.ts';
import { builtScenarioNames, cliMain, projectRoot } from '../../contract/dist-layout.ts';

export interface ControlOptions {
  control: RunControl;
  runs: RunRegistry;
  history: History | null;
  /** Finished runs' series (beside the history). */
  seriesStore: SeriesStore | null;
  credentials: Credentials;
  /** POST /api/runs/start launches bundled scenarios with the local k6 (off by default). */
  allowStart: boolean;
  /** This sink's own URL, for the runs it starts. */
  selfUrl: () => string;
  log: (line: string) => void;
}

const testidParam = { type: 'object', properties: { testid: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,128}$' } }, required: ['testid'] } as const;
const tagsSchema = { type: 'object', additionalProperties: { type: 'string', maxLength: 256 }, propertyNames: { pattern: '^[a-zA-Z_][a-zA-Z0-9_]{0,63}$' }, maxProperties: 32 } as const;

/**
 * A guard's rules (contract GuardRuleJson): errors as a ratio, a percentile in ms, held for
 * 1 s to 1 h; at most 8 rules.
 */
const guardSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    rules: {
      type: 'array',
      minItems: 1,
      maxItems: 8,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['measure', 'above', 'forMs'],
        properties: {
          measure: { type: 'string', enum: ['errors', 'p50', 'p90', 'p95', 'p99'] },
          above: { type: 'number', minimum: 0, maximum: 3_600_000 },
          forMs: { type: 'integer', minimum: 1000, maximum: 3_600_000 },
        },
        if: { properties: { measure: { const: 'errors' } } },
        then: { properties: { above: { type: 'number', maximum: 1 } } },
      },
    },
  },
} as const;

/** GET /api/history's page size: by default, and at most. */
export const HISTORY_PAGE_DEFAULT = 100;
export const HISTORY_PAGE_MAX = 1000;

function stringEntries(query: object): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
}

export async function controlRoutes(app: FastifyInstance, options: ControlOptions): Promise<void> {
  const { control, runs, credentials } = options;

  /**
   * One authority for control: with a token, every route that changes a run's state
   * (register, finish, stop, start) needs it, the bearer token itself (the write
   * credentials, basic auth, do not control runs). Without one, stopping and starting are
   * refused (403), and register and finish need the basic-auth credentials when those are
   * set; run control (control.sinkStops) then stops nothing, whatever it is told.
   */
  const withToken = (request: FastifyRequest) => Boolean(credentials.token) && authorized(request.headers.authorization, { token: credentials.token });
  const requireAuth = (strict: boolean) => async (request: FastifyRequest) => {
    if (strict && !credentials.token) throw new SinkErrors.CONTROL_NEEDS_TOKEN();
    const allowed = credentials.token ? withToken(request) : authorized(request.headers.authorization, credentials);
    if (!allowed) throw new SinkErrors.UNAUTHORIZED('run control');
  };

  app.post<{ Body: RegistrationRequest }>(
    '/api/runs',
    {
      onRequest: requireAuth(false),
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['testid'],
          properties: {
            testid: { type: 'string', pattern: TESTID_PATTERN.source },
            scenario: { type: 'string', maxLength: 128 },
            tags: tagsSchema,
            target: { type: 'string', maxLength: 2048 },
            k6Address: { type: 'string', pattern: '^[A-Za-z0-9.:\\[\\]-]{1,255}:[0-9]{1,5}$' },
            abortOnFail: { type: 'boolean' },
            plannedVus: { type: 'integer', minimum: 1, maximum: 10_000_000 },
            // The expected peak: users or requests/s, one of the two.
            expect: {
              type: 'object',
              additionalProperties: false,
              minProperties: 1,
              maxProperties: 1,
              properties: { users: { type: 'integer', minimum: 1, maximum: 10_000_000 }, rps: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000_000 } },
            },
            guard: guardSchema,
            thresholds: {
              type: 'object',
              maxProperties: 200,
              additionalProperties: {
                type: 'array',
                maxItems: 20,
                items: {
                  anyOf: [
                    { type: 'string', maxLength: 256 },
                    {
                      type: 'object',
                      additionalProperties: false,
                      required: ['threshold'],
                      properties: { threshold: { type: 'string', maxLength: 256 }, abortOnFail: { type: 'boolean' }, delayAbortEval: { type: 'string', maxLength: 32 } },
                    },
                  ],
                },
              },
            },
          },
        },
      },
    },
    async (request, reply): Promise<RegistrationReply> => {
      const authenticated = withToken(request);
      const registration = control.register(request.body, authenticated);
      reply.code(201);
      const { testid, k6Instances, sinkStops, k6Addresses } = registrationJson(registration, control.sinkStops, authenticated);
      return { testid, k6Instances, sinkStops, ...(k6Addresses ? { k6Addresses } : {}) };
    },
  );

  app.post<{ Params: { testid: string } }>('/api/runs/:testid/stop', { onRequest: requireAuth(true), schema: { params: testidParam } }, async (request, reply) => {
    const { testid } = request.params;
    if (!control.registrations.has(testid)) throw new SinkErrors.RUN_NOT_FOUND(JSON.stringify(testid));
    const result = await control.stop(testid);
    reply.code(202);
    return { testid, ...result };
  });

  const nullableNumber = { type: ['number', 'null'], minimum: 0 } as const;
  app.post<{ Params: { testid: string }; Body: FinishRequest }>(
    '/api/runs/:testid/finish',
    {
      onRequest: requireAuth(false),
      schema: {
        params: testidParam,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['exitCode'],
          properties: {
            exitCode: { type: ['integer', 'null'], minimum: 0, maximum: 255 },
            k6Summary: {
              type: 'object',
              additionalProperties: false,
              required: ['requests', 'p50Ms', 'p95Ms', 'p99Ms', 'errorRatio', 'rps', 'checksRate', 'iterations'],
              properties: {
                requests: { type: 'integer', minimum: 0 },
                p50Ms: nullableNumber,
                p95Ms: nullableNumber,
                p99Ms: nullableNumber,
                errorRatio: { type: 'number', minimum: 0, maximum: 1 },
                rps: { type: 'number', minimum: 0 },
                checksRate: { type: ['number', 'null'], minimum: 0, maximum: 1 },
                iterations: { type: 'integer', minimum: 0 },
              },
            },
          },
        },
      },
    },
    async (request) => control.finish(request.params.testid, request.body.exitCode, request.body.k6Summary ?? null),
  );

  // The status page's stream is public (EventSource sends no Authorization header): the k6
  // addresses in it only for a caller with the token, k6's REST API having no auth of its own.
  app.get<{ Params: { testid: string } }>('/api/runs/:testid/events', { schema: { params: testidParam } }, async (request, reply) => {
    const { testid } = request.params;
    const withAddresses = withToken(request);
    reply.hijack();
    reply.raw.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    let last = '';
    // The series goes out a piece at a time: the points since the last message, from the
    // last one sent (a push of the same second may have replaced it); all of them again
    // when the series was compacted (its step doubled). The page keeps points[0, from).
    let sentPoints = 0;
    let sentStep = 0;
    const seriesDelta = (run: NonNullable<ReturnType<typeof runs.run>>) => {
      const { stepMs, points: all } = run.seriesPoints();
      const from = stepMs === sentStep ? Math.max(0, Math.min(sentPoints, all.length) - 1) : 0;
      sentPoints = all.length;
      sentStep = stepMs;
      return { stepMs, from, points: all.slice(from) };
    };
    const send = () => {
      const run = runs.run(testid);
      const known = control.registrations.get(testid);
      const registration = known ? registrationJson(known, control.sinkStops, withAddresses) : null;
      const payload = JSON.stringify(run ? { ...runJson(run), registration, seriesDelta: seriesDelta(run) } : { testid, status: 'waiting', registration });
      if (payload !== last) reply.raw.write(`data: ${payload}\n\n`);
      else reply.raw.write(': keep-alive\n\n');
      last = payload;
    };
    send();
    const timer = setInterval(send, 1000);
    request.raw.on('close', () => clearInterval(timer));
  });

  // The run's points: live while the sink holds the run, then from the store beside the history.
  app.get<{ Params: { testid: string } }>('/api/runs/:testid/series', { schema: { params: testidParam } }, async (request): Promise<RunSeriesJson> => {
    const { testid } = request.params;
    const run = runs.run(testid);
    if (run) return run.seriesJson();
    const stored = await options.seriesStore?.get(testid);
    if (stored) return stored;
    throw new SinkErrors.RUN_NOT_FOUND(JSON.stringify(testid));
  });

  // Newest first, a page at a time; `next` is the URL of the next page, null on the last.
  app.get<{ Querystring: { limit?: number; offset?: number; scenario?: string; promo_name?: string; environment?: string } }>(
    '/api/history',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: HISTORY_PAGE_MAX },
            offset: { type: 'integer', minimum: 0 },
            scenario: { type: 'string', maxLength: 128 },
            promo_name: { type: 'string', maxLength: 256 },
            environment: { type: 'string', maxLength: 64 },
          },
        },
      },
    },
    async (request) => {
      const { limit = HISTORY_PAGE_DEFAULT, offset = 0, scenario, promo_name: promoName, environment } = request.query;
      const { runs: page, total } = options.history?.page({ scenario, promoName, environment, offset, limit }) ?? { runs: [], total: 0 };
      const nextOffset = offset + page.length;
      const next = nextOffset < total ? `/api/history?${new URLSearchParams({ ...stringEntries(request.query), offset: String(nextOffset), limit: String(limit) })}` : null;
      return { runs: page, total, offset, limit, next };
    },
  );
  app.get('/api/runs.csv', async (_request, reply) => {
    reply.header('Content-Type', 'text/csv; charset=utf-8');
    return historyCsv(options.history?.list() ?? []);
  });

  app.post<{ Body: { scenario: string; target: string; intensity?: string; vus?: number; duration?: string; tags?: Record<string, string> } }>(
    '/api/runs/start',
    {
      onRequest: async (request) => {
        if (!options.allowStart) throw new SinkErrors.START_DISABLED();
        await requireAuth(true)(request);
      },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['scenario', 'target'],
          properties: {
            scenario: { type: 'string', enum: builtScenarioNames() },
            target: { type: 'string', pattern: '^https?://[^\\s/]+[^\\s]*$', maxLength: 2048 },
            intensity: { type: 'string', enum: [...INTENSITY_NAMES] },
            vus: { type: 'integer', minimum: 1, maximum: 100_000 },
            duration: { type: 'string', pattern: '^([0-9]+(ms|s|m|h))+$' },
            tags: {
              type: 'object',
              additionalProperties: false,
              properties: {
                environment: { type: 'string', enum: [...ENVIRONMENTS] },
                promo_type: { type: 'string', enum: [...PROMO_TYPES] },
                promo_name: { type: 'string', maxLength: 128 },
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const testid = makeTestId(body.tags?.promo_name ?? body.scenario);
      // Only bundled scenarios run, with arguments from validated fields: nothing in the request is executed.
      const args = [cliMain(), body.scenario, '--target', body.target, '--sink', options.selfUrl(), '--testid', testid];
      if (body.intensity) args.push('--intensity', body.intensity);
      if (body.vus) args.push('--vus', String(body.vus));
      if (body.duration) args.push('--duration', body.duration);
      if (body.tags?.environment) args.push('--env', body.tags.environment);
      if (body.tags?.promo_type) args.push('--promo-type', body.tags.promo_type);
      if (body.tags?.promo_name) args.push('--promo-name', body.tags.promo_name);
      const child = spawn(process.execPath, args, {
        cwd: projectRoot(),
        env: { ...process.env, SINK_TOKEN: credentials.token },
        stdio: 'ignore',
        detached: false,
      });
      child.on('exit', (code) => options.log(`started run ${testid} exited with ${code}`));
      options.log(`starting run ${testid}: ${body.scenario} against ${body.target}`);
      reply.code(202);
      return { testid, status: 'starting' };
    },
  );
}
