// Capacity you can plan with (issue 22): the capacity model of real ramps against targets of
// the tests' own, whose truth is known:
// - capacity-limited targets (C workers of S ms, 503 after Q ms in the queue) at 40, 120 and
//   300 requests/s (C/S), each ramped past saturation in 15 s of the same shape (to twice the
//   users whose pace asks for C/S, breaking near 1.6 ×): the predicted peak within ±10 % of
//   C/S and its band holding it; from the part before the break, within ±20 % or a floor
//   below C/S; --expect-users on both sides of the true capacity;
// - a target whose service time grows with concurrency as the Universal Scalability Law has
//   it (its throughput falls past its peak): the predicted peak concurrency within ±20 %;
// - a ramp that stays in a target's linear part: a floor, not a number;
// - three ramps against the 40 requests/s target (one run by k6 itself, two by the CLI):
//   `forecast` gives the capacity within ±15 %, the runs it rests on and the next ramp.
// - the dashboards' Capacity forecast panels: their queries, read from grafana/dashboards/*.json,
//   run against the real Prometheus and InfluxDB the sink fans out to, give the run's forecast.
// Every sentence the forecast adds (forecast, holds, at risk, will not hold) has a run where
// it must appear and one where it must not, in the run's JSON, its history entry, the CLI,
// the status page (real Chromium), the report and the notifications.
//
// The runs go in three rounds of about 16 s, a 40 requests/s ramp in each (one target, one
// ramp at a time): the other runs side by side with them, one heavy run a round.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { SCENARIO_BUNDLE_DIR } from '../../build/bundle.ts';
import { makeTestId } from '../../lib/tags.ts';
import { printedTestId, runCli, runProcess, type Finished } from '../../fixtures/processes.ts';
import { startSink, startWebhookReceiver, remoteWriteEnv, pointsText } from '../helpers/sink.ts';
import { startCapacityTarget, startScalabilityTarget, type LatencyTarget } from '../helpers/latency-target.ts';
import { CHROMIUM_ARGS } from '../helpers/browser.ts';
import { drained } from '../helpers/stores.ts';
import { startPrometheus, type Service } from '../../fixtures/services.ts';
import { startInfluxDB, type InfluxDB } from '../../fixtures/influxdb.ts';
import { DASHBOARD_DIR } from '../../grafana/generate.ts';
import { allQueries, expandQuery, type DashboardQuery } from '../../grafana/queries.ts';
import { forecast } from '../../sink/grade/forecast.ts';
import { capacity } from '../../sink/grade/capacity.ts';
import { expectationOf, type PastForecast } from '../../report/forecast.ts';
import type { ExpectRequest, ForecastJson, HistoryEntry, RunJson, RunSeriesJson, VerdictJson } from '../../contract/sink-api.ts';

const k6 = inject('k6Bin');
const TOKEN = 'forecast-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
/** Every ramp: 15 s (9 s up, 4.5 s held), 200 ms between a VU's requests. */
const DURATION = '15s';
const THINK_MS = 200;
/** The capacity-limited targets: S ms per request, a 503 after Q ms in the queue. */
const SERVICE_MS = 50;
const QUEUE_MS = 150;
const CAPACITIES = { cap40: 2, cap120: 6, cap300: 15 } as const;
type Capacity = keyof typeof CAPACITIES;
/** The users whose pace asks a target for C/S: the true capacity in users, C(S+T)/S. */
const kneeUsers = (workers: number) => (workers * (SERVICE_MS + THINK_MS)) / SERVICE_MS;
const capacityRps = (workers: number) => (workers * 1000) / SERVICE_MS;
/** The target whose throughput falls past its peak: S₀ 40 ms, σ 0.05, κ 0.02 (N* ≈ 6.9 in flight, X* ≈ 82 requests/s). */
const LAW = { serviceMs: 40, sigma: 0.05, kappa: 0.02 };

/** The runs, by name: which target, how many VUs, what they expect, and who runs them. */
const RUNS = {
  cap40: { target: 'cap40', vus: 2 * kneeUsers(2), expect: { users: kneeUsers(2) / 2 }, by: 'k6' },
  law: { target: 'law', vus: 40, expect: null, by: 'k6' },
  linear: { target: 'cap300', vus: 10, expect: { users: 40 }, by: 'k6' },
  cap120: { target: 'cap120', vus: 2 * kneeUsers(6), expect: { users: 2 * kneeUsers(6) }, by: 'k6' },
  cli40high: { target: 'cap40', vus: 2 * kneeUsers(2), expect: { users: 2 * kneeUsers(2) }, by: 'cli' },
  cap300: { target: 'cap300', vus: 2 * kneeUsers(15), expect: { rps: capacityRps(15) }, by: 'k6' },
  cli40low: { target: 'cap40', vus: 2 * kneeUsers(2), expect: { users: kneeUsers(2) / 2 }, by: 'cli' },
} as const satisfies Record<string, { target: Capacity | 'law'; vus: number; expect: ExpectRequest | null; by: 'k6' | 'cli' }>;
type Name = keyof typeof RUNS;
const ROUNDS: Name[][] = [
  ['cap40', 'law', 'linear'],
  ['cli40high', 'cap120'],
  ['cli40low', 'cap300'],
];

let dir: string;
let sink: Awaited<ReturnType<typeof startSink>>;
const targets = {} as Record<Capacity | 'law', LatencyTarget>;
let lawPeak: { n: number; rps: number };
const ids = {} as Record<Name, string>;
const finished = {} as Record<Name, Finished>;
const measured = {} as Record<Name, { run: RunJson; series: RunSeriesJson; entry: HistoryEntry }>;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let forecastCli: { text: Finished; json: Finished };
let statusPage: Record<string, { expectation: string | null; firstText: string; forecast: string | null }> = {};
let prom: Service;
let influx: InfluxDB;
/** The stores' time range: from before the first run to after the last grade landed. */
let from: Date;
let to: Date;

const cliArgs = (name: Name) => {
  const r = RUNS[name];
  const expectFlag = 'users' in r.expect! ? ['--expect-users', String(r.expect.users)] : ['--expect-rps', String((r.expect as { rps: number }).rps)];
  return ['ramp', '--target', targets[r.target].url, '--sink', sink.url, '--vus', String(r.vus), '--duration', DURATION, '--min-grade', 'none', '--out-dir', dir, ...expectFlag, '--', '-e', `THINK_TIME_MS=${THINK_MS}`];
};

/** A ramp by k6 itself, registered first as the CLI registers one (scenario, target, expected peak), then finished. */
async function k6Ramp(name: Name): Promise<void> {
  const r = RUNS[name];
  ids[name] = makeTestId(name);
  const body = { testid: ids[name], scenario: 'ramp', target: targets[r.target].url, tags: { promo_type: 'none' }, ...(r.expect ? { expect: r.expect } : {}) };
  const registered = await sink.app.inject({ method: 'POST', url: '/api/runs', headers: auth, payload: body });
  expect(registered.statusCode, registered.body).toBe(201);
  const env = { TESTID: ids[name], BASE_URL: targets[r.target].url, MIN_GRADE: 'none', RAMP_MAX_VUS: String(r.vus), DURATION, THINK_TIME_MS: String(THINK_MS) };
  finished[name] = await runProcess(k6, ['run', '-q', '-o', 'experimental-prometheus-rw', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), join(SCENARIO_BUNDLE_DIR, 'ramp.js')], {
    env: { ...remoteWriteEnv(sink.url, 'native'), K6_PROMETHEUS_RW_BEARER_TOKEN: TOKEN },
  });
  const res = await sink.app.inject({ method: 'POST', url: `/api/runs/${ids[name]}/finish`, headers: auth, payload: { exitCode: finished[name].code } });
  expect(res.statusCode, res.body).toBe(200);
}

/** A ramp by the CLI, reporting to the test's sink, with its expected peak. */
async function cliRamp(name: Name): Promise<void> {
  finished[name] = await runCli(cliArgs(name), k6, { SINK_TOKEN: TOKEN, K6_NO_USAGE_REPORT: 'true' });
  ids[name] = printedTestId(finished[name].stdout)!;
}

async function keep(name: Name): Promise<void> {
  const run = (await sink.app.inject({ url: `/api/runs/${ids[name]}` })).json() as RunJson;
  const series = (await sink.app.inject({ url: `/api/runs/${ids[name]}/series` })).json() as RunSeriesJson;
  measured[name] = { run, series, entry: sink.app.sink.history!.find(ids[name])! };
}

/** What the status page shows of a run, in real Chromium: its expectation sentence, and the first sentence of its summary. */
async function readStatusPages(names: Name[]): Promise<void> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    for (const name of names) {
      await page.goto(`${sink.url}/?testid=${ids[name]}#token=${TOKEN}`);
      await page.getByTestId('verdict').filter({ hasNotText: 'Waiting' }).waitFor();
      const expectation = page.getByTestId('expectation');
      statusPage[ids[name]] = {
        expectation: (await expectation.isVisible()) ? await expectation.textContent() : null,
        firstText: (await page.locator('.summary p:visible').first().textContent()) ?? '',
        forecast: (await page.getByTestId('forecast').isVisible()) ? await page.getByTestId('forecast').textContent() : null,
      };
    }
  } finally {
    await browser.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pla-forecast-'));
  receiver = await startWebhookReceiver();
  [prom, influx] = await Promise.all([startPrometheus(), startInfluxDB()]);
  await influx.query('CREATE DATABASE k6');
  sink = await startSink({
    config: {
      token: TOKEN,
      dataDir: dir,
      webhookUrl: receiver.url,
      prometheusUrls: [`${prom.url}/api/v1/write`],
      influxUrl: influx.url,
      influxDb: 'k6',
    },
  });
  for (const [name, workers] of Object.entries(CAPACITIES)) targets[name as Capacity] = await startCapacityTarget({ workers, serviceMs: SERVICE_MS, queueTimeoutMs: QUEUE_MS });
  const law = await startScalabilityTarget(LAW);
  targets.law = law;
  lawPeak = { n: law.peakConcurrency, rps: law.peakRps };
  from = new Date(Date.now() - 5000);
  const t0 = Date.now();
  const took: string[] = [];
  for (const round of ROUNDS) {
    await Promise.all(round.map((name) => (RUNS[name].by === 'cli' ? cliRamp(name) : k6Ramp(name))));
    took.push(`${round.join(' + ')} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  for (const name of Object.keys(RUNS) as Name[]) {
    expect(finished[name].code, `${name}: ${finished[name].stdout.slice(-1500)}${finished[name].stderr.slice(-1500)}`).toBe(0);
    await keep(name);
  }
  const forecastArgs = ['forecast', '--target', targets.cap40.url, '--sink', sink.url, '--expect-users', String(2 * kneeUsers(2))];
  // The last grades, with each run's final forecast, go out to the stores while the CLI and Chromium read.
  await sink.app.sink.grades.emit();
  const [text, json] = await Promise.all([runCli(forecastArgs, k6, { SINK_TOKEN: TOKEN }), runCli([...forecastArgs, '--json'], k6, { SINK_TOKEN: TOKEN }), readStatusPages(['cap40', 'cap120', 'law']), drained(sink.app, 60_000)]);
  forecastCli = { text, json };
  to = new Date();
  await sink.app.sink.notifier!.drain(10_000);
  process.stderr.write(`[forecast] ${took.join('; ')}; all ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}, 240_000);

afterAll(async () => {
  await sink?.close();
  await Promise.all([...Object.values(targets).map((t) => t.close()), prom?.stop(), influx?.stop()]);
  receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const forecastOf = (name: Name): ForecastJson => measured[name].run.capacity.forecast!;
const context = (name: Name) => `${name}: forecast ${JSON.stringify(measured[name].run.capacity.forecast)}; capacity ${JSON.stringify({ ...measured[name].run.capacity, forecast: undefined })}; the points:\n${pointsText(measured[name].series.points)}`;

describe('a capacity model from each ramp', () => {
  for (const name of ['cap40', 'cap120', 'cap300'] as const) {
    const workers = CAPACITIES[name];
    const truth = capacityRps(workers);
    it(`predicts the peak within 10 % of C/S = ${truth} requests/s from a whole ramp past saturation, with a band that holds C/S (${name})`, () => {
      const f = forecastOf(name);
      console.log(`${name}: peak ${f.peakRps?.toFixed(1)} requests/s [${f.lowRps?.toFixed(1)}, ${f.highRps?.toFixed(1)}] (C/S ${truth}), ${f.peakVus?.toFixed(1)} users (true ${kneeUsers(workers)}), R² ${f.r2.toFixed(3)}, ${f.points} points`);
      expect(f, context(name)).toMatchObject({ kind: 'peak' });
      expect(Math.abs(f.peakRps! - truth) / truth, context(name)).toBeLessThanOrEqual(0.1);
      expect(f.lowRps!, context(name)).toBeLessThanOrEqual(truth);
      expect(f.highRps!, context(name)).toBeGreaterThanOrEqual(truth);
      // The history entry carries the model as the run's JSON has it.
      expect(measured[name].entry.capacity?.forecast).toEqual(f);
      expect(f.sigma).toBeGreaterThanOrEqual(0);
      expect(f.kappa).toBeGreaterThanOrEqual(0);
      expect(f.r2).toBeGreaterThan(0.8);
    });

    it(`predicts it within 20 % from the part of the ramp before the break, or gives a floor below C/S (${name})`, () => {
      const points = measured[name].series.points;
      const breakVus = capacity(points).breakingPointVus;
      expect(breakVus, context(name)).not.toBeNull();
      const before = points.slice(0, points.findIndex((p) => p.vus >= breakVus!));
      const f = forecast(before);
      console.log(`${name} before the break at ${breakVus} VUs (${before.length} points): ${f?.kind} ${f?.peakRps?.toFixed(1) ?? `≥ ${f?.lowRps?.toFixed(1)}`} requests/s`);
      expect(f, context(name)).not.toBeNull();
      if (f!.kind === 'peak') expect(Math.abs(f!.peakRps! - truth) / truth, context(name)).toBeLessThanOrEqual(0.2);
      else expect(f!.lowRps!, context(name)).toBeLessThan(truth);
    });

    it(`says the shop holds half the users of its true capacity and will not hold twice them (${name})`, () => {
      const f = forecastOf(name);
      const users = kneeUsers(workers);
      expect(expectationOf(f, { users: users / 2 }), context(name)).toMatchObject({ verdict: 'holds' });
      expect(expectationOf(f, { users: users / 2 }).headroomPct!).toBeGreaterThan(0);
      expect(expectationOf(f, { users: 2 * users }), context(name)).toMatchObject({ verdict: 'will-not-hold' });
      expect(expectationOf(f, { users: 2 * users }).headroomPct!).toBeLessThan(0);
    });
  }

  it('finds the peak concurrency of a target whose throughput falls past its peak within 20 %', () => {
    const f = forecastOf('law');
    console.log(`law: N* ${f.peakConcurrency?.toFixed(2)} (true ${lawPeak.n.toFixed(2)}), peak ${f.peakRps?.toFixed(1)} requests/s (the law's ${lawPeak.rps.toFixed(1)}), σ ${f.sigma.toFixed(3)} κ ${f.kappa.toFixed(4)}`);
    expect(f, context('law')).toMatchObject({ kind: 'peak' });
    expect(Math.abs(f.peakConcurrency! - lawPeak.n) / lawPeak.n, context('law')).toBeLessThanOrEqual(0.2);
    expect(f.kappa, context('law')).toBeGreaterThan(0);
  });

  it('gives a floor, not a number, for a ramp that never left the shop\'s linear part', () => {
    const f = forecastOf('linear');
    expect(f, context('linear')).toMatchObject({ kind: 'floor', peakRps: null, highRps: null });
    expect(f.lowRps!).toBeGreaterThan(0);
    expect(f.lowRps!).toBeLessThan(capacityRps(CAPACITIES.cap300));
  });

  it('sends the forecast to /metrics as promo_capacity_forecast_rps by bound', async () => {
    const metrics = (await sink.app.inject({ url: '/metrics' })).body;
    const f = forecastOf('cap120');
    for (const [bound, value] of [['peak', f.peakRps], ['low', f.lowRps], ['high', f.highRps]] as const) {
      const line = metrics.split('\n').find((l) => l.startsWith(`promo_capacity_forecast_rps{testid="${ids.cap120}",bound="${bound}"}`));
      expect(Number(line?.split(' ').pop())).toBeCloseTo(value!, 6);
    }
    expect(metrics).toContain(`promo_capacity_forecast_rps{testid="${ids.linear}",bound="low"}`);
    expect(metrics).not.toContain(`promo_capacity_forecast_rps{testid="${ids.linear}",bound="peak"}`);
  });
});

/** The dashboards' Capacity forecast panel queries, from the committed JSON. */
const panelQueries: Array<{ file: string; q: DashboardQuery }> = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((file) => allQueries(JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8'))).filter((q) => q.source === 'panel' && q.title === 'Capacity forecast').map((q) => ({ file, q })));

/** A panel query for one run, as Grafana sends it (All for the other variables): the last value of each bound over the range. */
async function panelValues(q: DashboardQuery, testid: string): Promise<Record<string, number>> {
  const ctx = { variables: { testid: [testid], environment: '.*', promo_type: '.*' }, from, to, interval: '1s', rateInterval: '15s' };
  const out: Record<string, number> = {};
  if (q.datasourceType === 'influxdb') {
    const text = expandQuery(q.query, { ...ctx, datasourceType: 'influxdb' });
    const body = await influx.query(text, 'k6');
    if (body.results?.[0]?.error) throw new Error(`InfluxDB refused ${text}: ${body.results[0].error}`);
    for (const s of (body.results?.[0]?.series ?? []) as Array<{ tags: { bound: string }; values: Array<[string, number | null]> }>) {
      const last = s.values.filter((v) => v[1] !== null).pop();
      if (last) out[s.tags.bound] = last[1]!;
    }
    return out;
  }
  const text = expandQuery(q.query, { ...ctx, datasourceType: 'prometheus' });
  const params = new URLSearchParams({ query: text, start: String(from.getTime() / 1000), end: String(to.getTime() / 1000), step: '1' });
  const body = (await (await fetch(`${prom.url}/api/v1/query_range`, { method: 'POST', body: params })).json()) as { status: string; error?: string; data: { result: Array<{ metric: { bound: string }; values: Array<[number, string]> }> } };
  if (body.status !== 'success') throw new Error(`Prometheus refused ${text}: ${body.error}`);
  for (const s of body.data.result) out[s.metric.bound] = Number(s.values.at(-1)![1]);
  return out;
}

describe('the Capacity forecast panels, against the real Prometheus and InfluxDB after real runs', () => {
  it('finds the panel on the marketing dashboard and both k6 dashboards', () => {
    expect(panelQueries.map(({ file, q }) => `${file} ${q.datasourceType}`)).toEqual(['k6-influxdb.json influxdb', 'k6-prometheus.json prometheus', 'promo-marketing.json prometheus']);
  });

  for (const { file, q } of panelQueries) {
    it(`${file}: gives a ramp's peak and its band, and a floor alone for a ramp that never left the linear part (${q.datasourceType})`, async () => {
      const f = forecastOf('cap120');
      const peak = await panelValues(q, ids.cap120);
      expect(Object.keys(peak).sort(), context('cap120')).toEqual(['high', 'low', 'peak']);
      expect(peak.peak).toBeCloseTo(f.peakRps!, 6);
      expect(peak.low).toBeCloseTo(f.lowRps!, 6);
      expect(peak.high).toBeCloseTo(f.highRps!, 6);
      const floor = await panelValues(q, ids.linear);
      expect(Object.keys(floor)).toEqual(['low']);
      expect(floor.low).toBeCloseTo(forecastOf('linear').lowRps!, 6);
    });
  }
});

/** Every sentence a run says, from its live JSON and its history entry alike. */
function sentencesOf(name: Name): string {
  const said = (v: VerdictJson) => [v.headline, v.capacity, v.forecast, v.expectation, v.ending].filter((s): s is string => typeof s === 'string');
  expect(measured[name].run.verdict.expectation).toBe(measured[name].entry.verdict!.expectation);
  return [...said(measured[name].run.verdict), ...said(measured[name].entry.verdict!)].join('\n');
}

const TABLE: Array<{ kind: string; pattern: RegExp; appears: Name[]; absent: Name[] }> = [
  { kind: '"Forecast: the shop tops out near"', pattern: /Forecast: the shop tops out near [\d.,]+ requests\/s, the pace of about \d+ users? of this test \(95 % likely between/, appears: ['cap40', 'cap120', 'cap300', 'law'], absent: ['linear'] },
  { kind: '"Forecast: at least"', pattern: /Forecast: at least [\d.,]+ requests\/s/, appears: ['linear'], absent: ['cap40', 'cap120', 'cap300', 'law'] },
  { kind: '"Holds"', pattern: /^Holds: the shop should take the expected 5 users, with \d+ % headroom \(it tops out near \d+ users\)\.$/m, appears: ['cap40', 'cli40low'], absent: ['cap120', 'cap300', 'law', 'linear', 'cli40high'] },
  { kind: '"At risk"', pattern: /^At risk: /m, appears: ['cap300', 'linear'], absent: ['cap40', 'cap120', 'law', 'cli40high', 'cli40low'] },
  { kind: '"Will not hold … tops out near Y users"', pattern: /^Will not hold: the shop tops out near \d+ users, fewer than the expected (60|20) \(95 % likely at most \d+ users\)\.$/m, appears: ['cap120', 'cli40high'], absent: ['cap40', 'cap300', 'law', 'linear', 'cli40low'] },
];

describe('will it hold the promo: each sentence where it must appear and where it must not', () => {
  for (const row of TABLE) {
    it(`${row.kind} appears for ${row.appears.join(', ')} and not for ${row.absent.join(', ')}`, () => {
      for (const name of row.appears) expect(sentencesOf(name), context(name)).toMatch(row.pattern);
      for (const name of row.absent) expect(sentencesOf(name), context(name)).not.toMatch(row.pattern);
    });
  }

  it('says "at risk" for the expected requests/s at the true capacity, inside the band, and "not proven" past a floor', () => {
    expect(measured.cap300.entry.expectation, context('cap300')).toMatchObject({ rps: 300, verdict: 'at-risk' });
    expect(measured.cap300.entry.verdict!.expectation).toMatch(/^At risk: the expected 300 requests\/s are within the forecast's margin: the shop tops out near \d+ requests\/s \(about \d+ users\) \(95 % likely between \d+ and \d+ requests\/s\)\.$/);
    expect(measured.linear.entry.expectation).toMatchObject({ users: 40, verdict: 'at-risk' });
    expect(measured.linear.entry.verdict!.expectation).toMatch(/^At risk: not proven for the expected 40 users: the test reached 10 users \(at least [\d.]+ requests\/s\) without finding the shop's limit; a ramp past 40 users would tell\.$/);
  });

  it('carries the expectation in the history entry: the expected peak, the verdict and the headroom', () => {
    expect(measured.cap40.entry.expectation).toMatchObject({ users: 5, verdict: 'holds' });
    expect(measured.cap40.entry.expectation!.headroomPct!).toBeGreaterThan(50);
    expect(measured.cap120.entry.expectation).toMatchObject({ users: 60, verdict: 'will-not-hold' });
    expect(measured.cap120.entry.expectation!.headroomPct!).toBeLessThan(0);
    expect(measured.law.entry.expectation).toBeUndefined();
    expect(measured.law.run.expectation).toBeUndefined();
  });

  it('says it first in the CLI: the line before the grade', () => {
    for (const name of ['cli40high', 'cli40low'] as const) {
      const sentence = measured[name].entry.verdict!.expectation!;
      expect(finished[name].stdout, name).toContain(`\n${sentence}\nGrade: `);
      expect(finished[name].stdout, name).toContain(`\n  ${measured[name].entry.verdict!.forecast}\n`);
    }
  });

  it('says it first on the status page, in real Chromium, and not for a run without an expected peak', () => {
    for (const name of ['cap40', 'cap120'] as const) {
      const said = measured[name].entry.verdict!;
      expect(statusPage[ids[name]], name).toEqual({ expectation: said.expectation, firstText: said.expectation, forecast: said.forecast });
    }
    expect(statusPage[ids.law]!.expectation).toBeNull();
    expect(statusPage[ids.law]!.forecast).toBe(measured.law.entry.verdict!.forecast);
  });

  it('says it first in the report, and in the completed notification', async () => {
    for (const name of ['cap120', 'law'] as const) {
      const html = (await sink.app.inject({ url: `/api/runs/${ids[name]}/report` })).body;
      const sentence = measured[name].entry.verdict!.expectation;
      const summary = html.slice(html.indexOf('<div class="summary">'));
      if (sentence) expect(summary.indexOf('data-testid="expectation"'), name).toBeLessThan(summary.indexOf('data-testid="grade-letter"'));
      else expect(summary).not.toContain('data-testid="expectation"');
      expect(html).toContain(`data-testid="forecast">${measured[name].entry.verdict!.forecast!.replace(/'/g, '&#39;')}</p>`);
      const message = receiver.notifications.find((n) => n.testid === ids[name] && n.event === 'completed')?.message ?? '';
      if (sentence) expect(message.startsWith(sentence), message).toBe(true);
      else expect(message).not.toMatch(/Holds|At risk|Will not hold/);
    }
  });
});

describe('before the test: forecast from past ramps', () => {
  it('gives the capacity within 15 % from three past ramps against the same target, the runs it rests on and a ramp just past the break', () => {
    const { text, json } = forecastCli;
    expect(json.code, json.stderr).toBe(0);
    const f = JSON.parse(json.stdout) as PastForecast & { expectation: { verdict: string; sentence: string } };
    const truth = capacityRps(CAPACITIES.cap40);
    const threeRuns = [ids.cap40, ids.cli40high, ids.cli40low];
    console.log(`forecast from ${f.runs.length} ramps: ${f.forecast?.peakRps?.toFixed(1)} requests/s [${f.forecast?.lowRps?.toFixed(1)}, ${f.forecast?.highRps?.toFixed(1)}] (C/S ${truth}); break ${f.breakVus}; next ramp to ${f.suggestedVus} VUs`);
    expect(f.runs.map((r) => r.testid)).toEqual(threeRuns);
    expect(f.target).toBe(targets.cap40.url);
    expect(f.journey).toEqual(['product']);
    expect(Math.abs(f.forecast!.peakRps! - truth) / truth, json.stdout).toBeLessThanOrEqual(0.15);
    expect(f.forecast!.lowRps!).toBeLessThanOrEqual(f.forecast!.peakRps!);
    expect(f.forecast!.highRps!).toBeGreaterThanOrEqual(f.forecast!.peakRps!);
    // Just past the predicted break: beyond it, and not far.
    expect(f.breakVus).not.toBeNull();
    expect(f.suggestedVus!).toBeGreaterThan(f.breakVus!);
    expect(f.suggestedVus!).toBeLessThanOrEqual(Math.ceil(1.5 * Math.max(f.breakVus!, f.forecast!.highVus!)));
    expect(f.expectation.verdict).toBe('will-not-hold');
    // In words: the answer first, then the model, the runs, the next ramp.
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(`Forecast for ${targets.cap40.url} (scenario ramp; journey: product), from 3 past ramps:`);
    expect(lines[1]).toBe(`  ${f.expectation.sentence}`);
    expect(lines[2]).toMatch(/^ {2}Forecast: the shop tops out near [\d.]+ requests\/s/);
    for (const id of threeRuns) expect(text.stdout).toContain(id);
    expect(text.stdout).toContain(`Next ramp: npm run k6 -- ramp --target ${targets.cap40.url} --vus ${f.suggestedVus}`);
  });

  it('refuses in one sentence when no past ramp has a forecast for the target', async () => {
    const res = await runCli(['forecast', '--target', 'http://127.0.0.1:9', '--sink', sink.url], k6, { SINK_TOKEN: TOKEN });
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe(`No past ramp with a capacity forecast against http://127.0.0.1:9 in the sink at ${sink.url}: run \`npm run k6 -- ramp --target http://127.0.0.1:9\` first.`);
  });
});
