// Every query of every generated dashboard returns data. Real k6 runs go through an
// in-process sink into a real Prometheus 2.42 (remote write + native histograms, scraping
// the sink and the demo shops as the compose stack does) and a real InfluxDB 1.6; then
// each panel query, annotation query and variable query read from grafana/dashboards/*.json
// is expanded (variables, $__rate_interval, $__interval, $__range, $timeFilter) and run
// against the Prometheus HTTP API or InfluxDB's /query. Each must return at least one
// series with a finite number. A new panel, or a new dashboard file, is covered as is.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { SCENARIO_BUNDLE_DIR } from '../../build/bundle.ts';
import { makeTestId } from '../../lib/tags.ts';
import { DASHBOARD_DIR } from '../../grafana/generate.ts';
import { allQueries, durationMs, expandQuery, referencedVariables, type DashboardQuery } from '../../grafana/queries.ts';
import { freePort, startService, type Service } from '../../fixtures/services.ts';
import { runProcess, type Finished } from '../../fixtures/processes.ts';
import { startDemo } from '../helpers/demo.ts';
import { startSink, remoteWriteEnv } from '../helpers/sink.ts';
import { startInfluxDB, type InfluxDB } from '../../fixtures/influxdb.ts';
import { drained, waitFor } from '../helpers/stores.ts';

const k6 = inject('k6Bin');

/** Grafana's macros as the test sets them (Prometheus scrapes every second here). */
const INTERVAL = '1s';
const RATE_INTERVAL = '15s';

type Json = Record<string, unknown>;
type Values = Record<string, string | string[]>;

// ---------------------------------------------------------------------------------------
// The dashboards, read from the committed JSON, and what the walker finds in them.

interface Loaded {
  file: string;
  json: dashboard.Dashboard;
  /** What the walker could classify. */
  queries: DashboardQuery[];
  /** Where it could not, and why: each fails the dashboard's classification test. */
  unclassified: string[];
}

/** Every panel anywhere (rows' nested panels included), rows excluded. */
function rawPanels(d: dashboard.Dashboard): Json[] {
  const flat = (ps: Json[]): Json[] => ps.flatMap((p) => [p, ...flat((p.panels as Json[] | undefined) ?? [])]);
  return flat((d.panels ?? []) as unknown as Json[]).filter((p) => p.type !== 'row');
}

/**
 * The walker's queries. When it refuses the dashboard, each panel, annotation and the
 * variables go through it alone, so the failure names the part it cannot read and every
 * other query is still run.
 */
function walk(json: dashboard.Dashboard): Pick<Loaded, 'queries' | 'unclassified'> {
  try {
    return { queries: allQueries(json), unclassified: [] };
  } catch (whole) {
    const queries: DashboardQuery[] = [];
    const unclassified: string[] = [];
    const base: dashboard.Dashboard = { ...json, panels: [], annotations: { list: [] } };
    const attempt = (what: string, part: dashboard.Dashboard, source: DashboardQuery['source']) => {
      try {
        queries.push(...allQueries(part).filter((q) => q.source === source));
      } catch (err) {
        unclassified.push(`${what}: ${(err as Error).message}`);
      }
    };
    for (const panel of rawPanels(json)) attempt(`panel "${String(panel.title)}"`, { ...base, panels: [panel as unknown as dashboard.Panel] }, 'panel');
    for (const a of json.annotations.list ?? []) attempt(`annotation "${a.name}"`, { ...base, annotations: { list: [a] } }, 'annotation');
    attempt('variables', base, 'variable');
    if (unclassified.length === 0) unclassified.push((whole as Error).message);
    return { queries, unclassified };
  }
}

const files = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).sort();
const loaded: Loaded[] = files.map((file) => {
  const json = JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as dashboard.Dashboard;
  return { file, json, ...walk(json) };
});

/** The raw target (or annotation) behind a walker query, for settings the walker does not carry (min step). */
function rawTarget(d: dashboard.Dashboard, q: DashboardQuery): Json | undefined {
  if (q.source === 'panel') {
    const panel = rawPanels(d).find((p) => p.id === q.panelId);
    return ((panel?.targets as Json[] | undefined) ?? []).find((t) => t.refId === q.refId);
  }
  if (q.source === 'annotation') {
    const a = (d.annotations.list ?? []).find((x) => x.name === q.title) as unknown as Json | undefined;
    return (a?.target as Json | undefined) ?? a;
  }
  return undefined;
}

function queryName(file: string, q: DashboardQuery): string {
  const where = q.source === 'panel' ? `panel "${q.title}"` : q.source === 'annotation' ? `annotation "${q.title}"` : `variable $${q.title}`;
  return `${file} › ${where} › ${q.refId} (${q.datasourceType})`;
}

// ---------------------------------------------------------------------------------------
// Reading the stores as Grafana does.

interface Answer {
  series: number;
  finite: number;
  values: number;
}

/** POST as Grafana's datasource does (httpMethod: POST); the label values endpoint only takes GET. */
async function prometheusApi(base: string, path: string, params: Record<string, string>, method: 'GET' | 'POST' = 'POST'): Promise<unknown> {
  const res = await fetch(method === 'GET' ? `${base}${path}?${new URLSearchParams(params)}` : `${base}${path}`, {
    method,
    headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
    body: method === 'POST' ? new URLSearchParams(params) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { status: string; error?: string; data: unknown };
  if (body.status !== 'success') throw new Error(`Prometheus ${path} answered ${res.status}: ${body.error} (${JSON.stringify(params)})`);
  return body.data;
}

function promAnswer(data: { resultType: string; result: unknown }): Answer {
  const answer: Answer = { series: 0, finite: 0, values: 0 };
  const count = (v: string) => {
    answer.values++;
    if (Number.isFinite(Number(v))) answer.finite++;
  };
  if (data.resultType === 'scalar') {
    answer.series = 1;
    count((data.result as [number, string])[1]);
    return answer;
  }
  for (const s of data.result as Array<{ value?: [number, string]; values?: Array<[number, string]> }>) {
    answer.series++;
    if (s.value) count(s.value[1]);
    for (const [, v] of s.values ?? []) count(v);
  }
  return answer;
}

function influxAnswer(body: any, q: string): Answer {
  const result = body.results?.[0];
  if (result?.error) throw new Error(`InfluxDB refused ${q}: ${result.error}`);
  const answer: Answer = { series: 0, finite: 0, values: 0 };
  for (const s of (result?.series ?? []) as Array<{ columns: string[]; values: unknown[][] }>) {
    answer.series++;
    for (const row of s.values ?? []) {
      row.forEach((v, i) => {
        if (s.columns[i] === 'time' || typeof v === 'string') return;
        answer.values++;
        if (typeof v === 'number' && Number.isFinite(v)) answer.finite++;
      });
    }
  }
  return answer;
}

// ---------------------------------------------------------------------------------------
// The stack and the runs.

interface Run {
  testid: string;
}

let dir: string;
let prom: Service;
let influx: InfluxDB;
let sink: Awaited<ReturnType<typeof startSink>>;
let shops: Array<Awaited<ReturnType<typeof startDemo>>> = [];
const runs: Record<'baseline' | 'promo' | 'faults' | 'ramp' | 'arrival', Run> = {
  baseline: { testid: makeTestId('baseline') },
  promo: { testid: makeTestId('spring sale') },
  faults: { testid: makeTestId('faults') },
  ramp: { testid: makeTestId('breaking point') },
  arrival: { testid: makeTestId('arrival') },
};
/** The dashboards' time range: from just before the first run to after the last one landed. */
let from: Date;
let to: Date;
let timings = '';

/** A constant-arrival-rate scenario with too few VUs (dropped iterations), one of whose hosts is down (status 0). */
const ARRIVAL_SCRIPT = `
import http from 'k6/http';
import { sleep } from 'k6';

export const options = {
  tags: { testid: __ENV.TESTID, environment: 'preprod', promo_type: 'none', promo_name: 'arrival', intensity: 'light' },
  scenarios: {
    arrival: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '10s', preAllocatedVUs: 1, maxVUs: 2 },
  },
};

export default function () {
  http.get(__ENV.BASE_URL + '/product/1', { tags: { page_type: 'product' } });
  // The shop's second host is down: no answer at all, k6 records status 0.
  http.get(__ENV.DOWN_URL + '/', { tags: { page_type: 'homepage' } });
  sleep(0.3);
}
`;

type Mode = 'native' | 'trend-stats';

function k6Env(mode: Mode): Record<string, string> {
  const env: Record<string, string> = { ...remoteWriteEnv(sink.url, mode), K6_PROMETHEUS_RW_BEARER_TOKEN: SINK_TOKEN };
  if (mode === 'trend-stats') env.K6_PROMETHEUS_RW_TREND_STATS = 'p(50),p(95),p(99)';
  return env;
}

async function k6Run(run: Run, script: string, mode: Mode, vars: Record<string, string>, flags: string[] = []): Promise<Finished> {
  const env = { TESTID: run.testid, MIN_GRADE: 'none', ...vars };
  return runProcess(k6, ['run', '-q', '-o', 'experimental-prometheus-rw', ...flags, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), script], {
    env: k6Env(mode),
    timeoutMs: 150_000,
  });
}

async function sinkApi(method: 'POST', path: string, body: unknown): Promise<unknown> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${SINK_TOKEN}` };
  const res = await fetch(`${sink.url}${path}`, { method, headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`sink ${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sink's control token: only a sink with one stops a run (the guard's stop, for its annotation). */
const SINK_TOKEN = 'dashboards-control-token-0123456789';
/** k6 exits 103 when its REST API stopped it: the guard's stop. */
const STOPPED_BY_REST_API = 103;

async function startStack(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'pla-dashboards-'));
  // ok: baseline and promo runs; faulty: 4xx then 5xx; small: saturates near 20 VUs (see run-control.test.ts).
  const [ok, faulty, small] = await Promise.all([
    startDemo(),
    startDemo(),
    startDemo({ concurrency: 4, serviceTimeMs: 20, maxQueue: 10_000, queueTimeoutMs: 10, cacheTtlS: 0 }),
  ]);
  shops = [ok, faulty, small];
  const promPort = await freePort();
  influx = await startInfluxDB();
  await influx.query('CREATE DATABASE k6');
  sink = await startSink({
    config: { prometheusUrls: [`http://127.0.0.1:${promPort}/api/v1/write`], influxUrl: influx.url, influxDb: 'k6', gradeIntervalMs: 1000, windowMs: 2000, token: SINK_TOKEN },
  });
  // As prometheus/prometheus.yml: the sink (grades, promo_run_info, breaking point) and the shops' /metrics.
  const promDir = mkdtempSync(join(tmpdir(), 'pla-dashboards-prom-'));
  const host = (url: string) => new URL(url).host;
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 15s',
    'scrape_configs:',
    '  - job_name: sink',
    '    metrics_path: /metrics',
    '    static_configs:',
    `      - targets: ['${host(sink.url)}']`,
    '  - job_name: demo',
    '    metrics_path: /metrics',
    '    static_configs:',
    `      - targets: [${shops.map((s) => `'${host(s.url)}'`).join(', ')}]`,
    '',
  ].join('\n');
  writeFileSync(join(promDir, 'prometheus.yml'), config);
  prom = await startService(
    'prometheus',
    'prometheus',
    (port, data) => [
      '--web.enable-remote-write-receiver',
      '--enable-feature=native-histograms',
      `--storage.tsdb.path=${join(data, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--config.file=${join(data, 'prometheus.yml')}`,
      '--log.level=warn',
    ],
    { port: promPort, dataDir: promDir, readyPath: '/-/ready', writePath: '/api/v1/write' },
  );
  await waitFor('Prometheus to scrape the sink and the three shops', async () => {
    const data = (await prometheusApi(prom.url, '/api/v1/query', { query: 'up == 1' })) as { result: unknown[] };
    return data.result.length === 4;
  }, 30_000, 250);
}

async function driveRuns(): Promise<void> {
  const [ok, faulty, small] = shops as [typeof shops[0], typeof shops[0], typeof shops[0]];
  const bundle = (name: string) => join(SCENARIO_BUNDLE_DIR, `${name}.js`);
  const arrivalScript = join(dir, 'arrival.js');
  writeFileSync(arrivalScript, ARRIVAL_SCRIPT);
  const downUrl = `http://127.0.0.1:${await freePort()}`;

  // The aborted run is registered like the CLI does, so its k6 exit code can be reported.
  await sinkApi('POST', '/api/runs', { testid: runs.faults.testid, scenario: 'smoke', tags: { environment: 'preprod', promo_type: 'striked_price' }, target: faulty.url, abortOnFail: true });
  await faulty.admin('PUT', 'faults', { errorRatio: 0.4, status: 404 });
  const switchTo5xx = sleep(5000).then(() => faulty.admin('PUT', 'faults', { errorRatio: 0.4, status: 503 }));
  // The ramp past the small shop's capacity is guarded, as the CLI registers it: the guard
  // stops it through k6's REST API once its 503s stay over 5 % for 4 s (the guard's annotation):
  // not 2 s, which stopped it after 5 s once, when five k6 starting at once made the shop's first
  // answers slow, too short for the capacity forecast's five seconds of points.
  const rampAddress = `127.0.0.1:${await freePort()}`;
  await sinkApi('POST', '/api/runs', {
    testid: runs.ramp.testid,
    scenario: 'ramp',
    target: small.url,
    k6Address: rampAddress,
    guard: { rules: [{ measure: 'errors', above: 0.05, forMs: 4000 }] },
  });

  const started = Date.now();
  const took = (name: string) => (res: Finished) => {
    timings += `${name} ${((Date.now() - started) / 1000).toFixed(1)} s (exit ${res.code}); `;
    return res;
  };
  const results = await Promise.all([
    // Baseline and promo runs against the same healthy shop, for the promo-impact panels.
    k6Run(runs.baseline, bundle('promo'), 'native', { BASE_URL: ok.url, ENVIRONMENT: 'prod', PROMO_TYPE: 'none', PROMO_NAME: 'baseline', TARGET_VUS: '2', DURATION: '15s', THINK_TIME_MS: '100' }).then(took('baseline')),
    k6Run(runs.promo, bundle('promo'), 'trend-stats', { BASE_URL: ok.url, ENVIRONMENT: 'prod', PROMO_TYPE: 'manual_code', PROMO_NAME: 'spring sale', TARGET_VUS: '2', DURATION: '15s', THINK_TIME_MS: '100' }).then(took('promo')),
    // 404s, then 503s; the thresholds abort the run (exit 99) once their 10 s delay is over.
    k6Run(runs.faults, bundle('smoke'), 'native', { BASE_URL: faulty.url, ENVIRONMENT: 'preprod', PROMO_TYPE: 'striked_price', PROMO_NAME: 'faults', DURATION: '60s', THINK_TIME_MS: '100', MIN_GRADE: 'C', ABORT_ON_FAIL: 'true' })
      .then(took('faults'))
      .then(async (res) => {
        await sinkApi('POST', `/api/runs/${runs.faults.testid}/finish`, { exitCode: res.code });
        return res;
      }),
    // A ramp past the small shop's capacity: 503s from the queue timeout, so a breaking point.
    k6Run(runs.ramp, bundle('ramp'), 'trend-stats', { BASE_URL: small.url, ENVIRONMENT: 'preprod', PROMO_TYPE: 'auto_cart', PROMO_NAME: 'breaking point', RAMP_MAX_VUS: '36', DURATION: '25s', THINK_TIME_MS: '80' }, ['--address', rampAddress]).then(took('ramp')),
    k6Run(runs.arrival, arrivalScript, 'native', { BASE_URL: ok.url, DOWN_URL: downUrl }).then(took('arrival')),
  ]);
  await switchTo5xx;
  for (const [i, res] of results.entries()) {
    const name = Object.keys(runs)[i]!;
    const expected = name === 'faults' ? 99 : name === 'ramp' ? STOPPED_BY_REST_API : 0;
    if (res.code !== expected) throw new Error(`k6 run "${name}" exited with ${res.code}, not ${expected}:\n${res.stdout.slice(-2000)}\n${res.stderr.slice(-4000)}`);
  }
  const ramp = sink.app.sink.runs.run(runs.ramp.testid);
  if (ramp?.breakingPointVus == null) throw new Error(`The ramp against the small shop found no breaking point: ${JSON.stringify(ramp?.figures().run)}`);
  if (ramp.capacity().forecast == null) throw new Error(`The guard stopped the ramp against the small shop after ${timings.match(/ramp ([\d.]+) s/)?.[1]} s, too early for a capacity forecast (five seconds of points), so its panels have nothing to show.`);
}

// ---------------------------------------------------------------------------------------
// Variables: each query variable's own query runs against the store, as Grafana's picker does.

const KNOWN_VARIABLE_TYPES = ['datasource', 'textbox', 'constant', 'query', 'custom'];

interface VariableState {
  options: string[];
  error?: Error;
}

interface DashboardValues {
  /** Values every query uses (multi-value: all options; a set current value; picks). */
  fixed: Values;
  /** Single-value variables without a pick: a query passes when one of these options gives data. */
  choices: Record<string, string[]>;
  variables: Record<string, VariableState>;
}

const dashboardValues = new Map<string, DashboardValues>();

async function variableOptions(q: DashboardQuery, values: Values): Promise<string[]> {
  if (q.datasourceType === 'influxdb') {
    const text = expandQuery(q.query, { datasourceType: 'influxdb', variables: values, from, to, interval: INTERVAL, rateInterval: RATE_INTERVAL });
    const body = await influx.query(text, 'k6');
    if (body.results?.[0]?.error) throw new Error(`InfluxDB refused ${text}: ${body.results[0].error}`);
    return ((body.results?.[0]?.series ?? []) as Array<{ values: unknown[][] }>).flatMap((s) => s.values.map((v) => String(v[1])));
  }
  const text = expandQuery(q.query, { datasourceType: 'prometheus', variables: values, from, to, interval: INTERVAL, rateInterval: RATE_INTERVAL });
  const m = /^label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)$/.exec(text.trim());
  if (!m) throw new Error(`The test only runs label_values(...) variable queries, not ${text}`);
  const params: Record<string, string> = { start: String(from.getTime() / 1000), end: String(to.getTime() / 1000) };
  if (m[1]) params['match[]'] = m[1];
  return (await prometheusApi(prom.url, `/api/v1/label/${m[2]}/values`, params, 'GET')) as string[];
}

/** A variable's current value as the dashboard stores it, undefined for none or All. */
function currentValue(v: dashboard.VariableModel): string | string[] | undefined {
  const value = v.current?.value as string | string[] | undefined;
  if (value === undefined || value === '$__all' || (Array.isArray(value) && (value.length === 0 || value.includes('$__all')))) return undefined;
  return value;
}

async function resolveVariables(l: Loaded): Promise<DashboardValues> {
  const picks: Values = { baseline: runs.baseline.testid, promo: runs.promo.testid };
  const out: DashboardValues = { fixed: {}, choices: {}, variables: {} };
  const queries = l.queries;
  for (const v of l.json.templating.list ?? []) {
    const type = String(v.type);
    if (type === 'datasource') {
      out.fixed[v.name] = (currentValue(v) as string | undefined) ?? String(v.query);
      continue;
    }
    if (type === 'textbox' || type === 'constant') {
      out.fixed[v.name] = (currentValue(v) as string | undefined) ?? String(v.query ?? '');
      continue;
    }
    if (type !== 'query' && type !== 'custom') {
      out.variables[v.name] = { options: [], error: new Error(`The test does not know variables of type ${type} ($${v.name}).`) };
      continue;
    }
    const state: VariableState = { options: [] };
    out.variables[v.name] = state;
    try {
      if (type === 'custom') state.options = String(v.query ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      else state.options = [...new Set(await variableOptions(queries.find((q) => q.source === 'variable' && q.title === v.name)!, out.fixed))].sort();
    } catch (err) {
      state.error = err as Error;
      continue;
    }
    const current = currentValue(v);
    const pick = picks[v.name];
    if (pick !== undefined) out.fixed[v.name] = pick;
    else if (current !== undefined) out.fixed[v.name] = Array.isArray(current) ? current : [current];
    else if (v.multi) out.fixed[v.name] = state.options;
    else out.choices[v.name] = state.options;
    for (const value of [out.fixed[v.name] ?? []].flat()) {
      if (!state.options.includes(value)) state.error = new Error(`$${v.name} = "${value}" is not among the options its query offers: ${state.options.join(', ')}`);
    }
  }
  return out;
}

/** Every combination of the choices a query refers to. */
function combinations(choices: Record<string, string[]>, names: string[]): Values[] {
  return names.filter((n) => n in choices).reduce<Values[]>((acc, name) => acc.flatMap((vals) => choices[name]!.map((c) => ({ ...vals, [name]: c }))), [{}]);
}

// ---------------------------------------------------------------------------------------
// One query, as Grafana would send it.

async function runQuery(l: Loaded, q: DashboardQuery, values: Values): Promise<{ text: string; answer: Answer }> {
  // Grafana's $__interval, and a range query's step: the test's interval, or the target's
  // own min interval when larger.
  const minInterval = rawTarget(l.json, q)?.interval;
  const intervalMs = Math.max(durationMs(INTERVAL), typeof minInterval === 'string' && minInterval ? durationMs(minInterval) : 0);
  const ctx = { variables: values, from, to, interval: `${intervalMs / 1000}s`, rateInterval: RATE_INTERVAL };
  if (q.datasourceType === 'influxdb') {
    const text = expandQuery(q.query, { ...ctx, datasourceType: 'influxdb' });
    return { text, answer: influxAnswer(await influx.query(text, 'k6'), text) };
  }
  const text = expandQuery(q.query, { ...ctx, datasourceType: 'prometheus' });
  if (q.instant) {
    const data = await prometheusApi(prom.url, '/api/v1/query', { query: text, time: String(to.getTime() / 1000) });
    return { text, answer: promAnswer(data as { resultType: string; result: unknown }) };
  }
  const data = await prometheusApi(prom.url, '/api/v1/query_range', { query: text, start: String(from.getTime() / 1000), end: String(to.getTime() / 1000), step: `${intervalMs / 1000}` });
  return { text, answer: promAnswer(data as { resultType: string; result: unknown }) };
}

// ---------------------------------------------------------------------------------------

describe('every query of every dashboard returns data after real k6 runs', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    await startStack();
    from = new Date(Date.now() - 5000);
    await driveRuns();
    await sink.app.sink.grades.emit();
    await drained(sink.app);
    // Scrapes of the sink's final statuses (ended, aborted, guard) for one annotation step
    // (15 s): Grafana evaluates the annotations every step, and a status that appeared less
    // than a step before the range's end can fall between two evaluations.
    await sleep(16_000);
    to = new Date();
    for (const l of loaded) dashboardValues.set(l.file, await resolveVariables(l));
    process.stderr.write(`[dashboards-data] stack ${((from.getTime() + 5000 - t0) / 1000).toFixed(1)} s; runs: ${timings}range ${((to.getTime() - from.getTime()) / 1000).toFixed(0)} s; total ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  });

  afterAll(async () => {
    await sink?.close();
    await Promise.all([prom?.stop(), influx?.stop(), ...shops.map((s) => s.close())]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the dashboards', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  for (const l of loaded) {
    describe(l.file, () => {
      it('has every query classified by the walker (prometheus or influxdb, with a query text)', () => {
        if (l.unclassified.length > 0) throw new Error(`${l.file}: the walker cannot classify:\n  ${l.unclassified.join('\n  ')}`);
        const panels = rawPanels(l.json);
        const targets = panels.reduce((n, p) => n + ((p.targets as unknown[] | undefined) ?? []).length, 0);
        for (const p of panels) expect(((p.targets as unknown[] | undefined) ?? []).length, `${l.file} › panel "${String(p.title)}" has no query`).toBeGreaterThan(0);
        expect(l.queries.filter((q) => q.source === 'panel').length, `${l.file}: panel targets the walker missed`).toBe(targets);
        const annotations = (l.json.annotations.list ?? []).filter((a) => a.builtIn !== 1);
        expect(l.queries.filter((q) => q.source === 'annotation').length, `${l.file}: annotations the walker missed`).toBe(annotations.length);
        const queryVariables = (l.json.templating.list ?? []).filter((v) => v.type === 'query');
        expect(l.queries.filter((q) => q.source === 'variable').length, `${l.file}: variables the walker missed`).toBe(queryVariables.length);
        for (const q of l.queries) expect(['prometheus', 'influxdb'], queryName(l.file, q)).toContain(q.datasourceType);
        for (const v of l.json.templating.list ?? []) expect(KNOWN_VARIABLE_TYPES, `${l.file}: variable $${v.name} is of a type the test cannot fill in`).toContain(String(v.type));
      });

      const queries = l.queries;

      for (const q of queries.filter((x) => x.source === 'variable')) {
        it(queryName(l.file, q), () => {
          const state = dashboardValues.get(l.file)!.variables[q.title]!;
          if (state.error) throw state.error;
          expect(state.options.length, `${queryName(l.file, q)}: ${q.query} offers no value`).toBeGreaterThan(0);
        });
      }

      for (const q of queries.filter((x) => x.source !== 'variable')) {
        it(queryName(l.file, q), async () => {
          const values = dashboardValues.get(l.file)!;
          const names = referencedVariables(q.query);
          for (const name of names) {
            const error = values.variables[name]?.error;
            if (error) throw new Error(`${queryName(l.file, q)} uses $${name}, whose options could not be read: ${error.message}`);
          }
          const tried: string[] = [];
          for (const choice of combinations(values.choices, names)) {
            const { text, answer } = await runQuery(l, q, { ...values.fixed, ...choice });
            if (process.env.DASHBOARDS_DATA_VERBOSE) process.stderr.write(`${queryName(l.file, q)} ${JSON.stringify(choice)}: ${answer.series} series, ${answer.finite} finite of ${answer.values} values\n`);
            if (answer.series > 0 && answer.finite > 0) return;
            tried.push(`${JSON.stringify(choice)} → ${answer.series} series, ${answer.finite} finite of ${answer.values} values: ${text}`);
          }
          throw new Error(`${queryName(l.file, q)} returned no finite number over ${from.toISOString()}…${to.toISOString()}:\n  ${tried.join('\n  ')}`);
        });
      }
    });
  }
});
