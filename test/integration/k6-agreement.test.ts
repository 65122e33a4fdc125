// The sink's figures against k6's own: quantiles by k6's definition on targets whose
// latency has real tails, one threshold verdict over every instance of a distributed
// run (and the abort it triggers), and per-page figures against k6's sub-metrics.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SCENARIO_BUNDLE_DIR } from '../../build/bundle.ts';
import { makeTestId } from '../../lib/tags.ts';
import { runCli, runProcess, printedTestId } from '../../fixtures/processes.ts';
import { readPoints, k6Percentile, expectWithinBuckets } from '../helpers/k6-samples.ts';
import { startSink, remoteWriteEnv } from '../helpers/sink.ts';
import { startLatencyTarget, type LatencyShape } from '../helpers/latency-target.ts';
import { startInfluxDB, type InfluxDB } from '../../fixtures/influxdb.ts';
import { startPrometheus, type Service } from '../../fixtures/services.ts';
import { promQuery, drained } from '../helpers/stores.ts';
import type { RunJson } from '../../contract/sink-api.ts';

const k6 = inject('k6Bin');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'k6');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pla-agree-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHAPES: Record<string, LatencyShape> = {
  'exponential (mean 60 ms)': { kind: 'exponential', meanMs: 60 },
  'lognormal with a heavy tail (median 25 ms, σ 1.2)': { kind: 'lognormal', medianMs: 25, sigma: 1.2 },
  'bimodal (90 % about 5 ms, 10 % about 400 ms)': { kind: 'bimodal', fastMs: 5, slowMs: 400, slowShare: 0.1 },
};
/** Requests per run, and the VUs that send them. */
const SIZES = [
  { requests: 50, vus: 2 },
  { requests: 500, vus: 10 },
  { requests: 5000, vus: 50 },
];

const relative = (actual: number, expected: number) => Math.abs(actual - expected) / expected;


interface Summary {
  metrics: Record<string, Record<string, number> & { thresholds?: Record<string, boolean> }>;
}

interface K6Run {
  code: number | null;
  summary: Summary;
  stderr: string;
  /** http_req_duration's raw samples, with their tags. */
  durations: Array<{ ms: number; tags: Record<string, string> }>;
  durationsMs: number[];
}

async function k6Run(script: string, sinkUrl: string, env: Record<string, string>): Promise<K6Run> {
  const summaryPath = join(dir, `${env.TESTID}.summary.json`);
  const samplesPath = join(dir, `${env.TESTID}.samples.json`);
  const res = await runProcess(k6, ['run', '-q', '-o', 'experimental-prometheus-rw', '-o', `json=${samplesPath}`, `--summary-export=${summaryPath}`, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), script], {
    env: remoteWriteEnv(sinkUrl, 'native'),
  });
  const durations = (await readPoints(samplesPath, 'http_req_duration')).map((p) => ({ ms: p.data.value, tags: p.data.tags ?? {} }));
  return { code: res.code, summary: JSON.parse(readFileSync(summaryPath, 'utf8')) as Summary, stderr: res.stderr, durations, durationsMs: durations.map((d) => d.ms) };
}

describe("the sink's quantiles follow k6's definition", () => {
  let sink: Awaited<ReturnType<typeof startSink>>;
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(() => sink.close());

  const runJson = async (testid: string) => (await sink.app.inject({ url: `/api/runs/${testid}` })).json() as RunJson;

  for (const [name, shape] of Object.entries(SHAPES)) {
    it(`puts the final p95 and p99 inside the buckets of k6's summary values (so within 9.05 %) and the error rate within 0.1 pt, for ${name} latencies and 50, 500 and 5,000 requests`, async () => {
      const target = await startLatencyTarget(shape);
      try {
        // The three sizes run side by side: each compares with its own summary.
        const runs = await Promise.all(
          SIZES.map(async ({ requests, vus }) => {
            const testid = makeTestId(`quantiles ${shape.kind} ${requests}`);
            const res = await k6Run(join(FIXTURES, 'latency.js'), sink.url, { TESTID: testid, BASE_URL: target.url, N: String(requests), VUS: String(vus) });
            return { requests, testid, ...res };
          }),
        );
        for (const run of runs) {
          expect(run.code, run.stderr).toBe(0);
          const k6d = run.summary.metrics.http_req_duration!;
          const final = (await runJson(run.testid)).final;
          const context = `${shape.kind}, ${run.requests} requests: sink p95 ${final.p95Ms} p99 ${final.p99Ms}, k6 p95 ${k6d['p(95)']} p99 ${k6d['p(99)']}`;
          expect(final.requests, context).toBe(run.requests);
          expect(run.durationsMs, context).toHaveLength(run.requests);
          // The raw samples are the ones k6's summary was computed from.
          expect(relative(k6Percentile(run.durationsMs, 95), k6d['p(95)']!), context).toBeLessThan(1e-6);
          expect(relative(k6Percentile(run.durationsMs, 99), k6d['p(99)']!), context).toBeLessThan(1e-6);
          expectWithinBuckets(final.p95Ms!, run.durationsMs, 95, context);
          expectWithinBuckets(final.p99Ms!, run.durationsMs, 99, context);
          expect(Math.abs(final.errorRatio! - run.summary.metrics.http_req_failed!.value!), context).toBeLessThanOrEqual(0.001);
        }
      } finally {
        await target.close();
      }
    });
  }

  it("merges four instances with execution segments to inside the buckets of k6's formula on all their raw samples (so within 9.05 %), for every shape", async () => {
    for (const shape of Object.values(SHAPES)) {
      const target = await startLatencyTarget(shape);
      try {
        const res = await runCli([join(FIXTURES, 'latency.js'), '--instances', '4', '--target', target.url, '--sink', sink.url, '--out-dir', dir, '--min-grade', 'none', '--', '-e', 'N=1000', '-e', 'VUS=20'], k6);
        expect(res.code, res.stderr).toBe(0);
        const testid = printedTestId(res.stdout)!;
        const samples: number[] = [];
        let failed = 0;
        for (let i = 0; i < 4; i++) {
          for (const p of await readPoints(join(dir, testid, `samples-${i}.json.gz`))) {
            if (p.metric === 'http_req_duration') samples.push(p.data.value);
            if (p.metric === 'http_req_failed') failed += p.data.value;
          }
        }
        const final = (await runJson(testid)).final;
        const context = `${shape.kind}: sink p95 ${final.p95Ms} p99 ${final.p99Ms}, raw p95 ${k6Percentile(samples, 95)} p99 ${k6Percentile(samples, 99)}`;
        expect(samples).toHaveLength(1000);
        expect(final.requests).toBe(1000);
        expectWithinBuckets(final.p95Ms!, samples, 95, context);
        expectWithinBuckets(final.p99Ms!, samples, 99, context);
        expect(Math.abs(final.errorRatio! - failed / samples.length)).toBeLessThanOrEqual(0.001);
      } finally {
        await target.close();
      }
    }
  });
});

describe('one threshold verdict over every instance', () => {
  const CONTROL_TOKEN = 'agreement-control-token-0123456789';
  // 1 ms for the fast path, 1 s for the slow one: an instance with one slow request in
  // 17 has p(95) ≈ 201 ms alone; four of them together ≈ 650 ms (merged-threshold.js).
  const paths = (path: string): LatencyShape | undefined => (path.startsWith('/slow/') ? { kind: 'constant', ms: 1000 } : undefined);
  let target: Awaited<ReturnType<typeof startLatencyTarget>>;
  let prom: Service;
  let influx: InfluxDB;
  let sink: Awaited<ReturnType<typeof startSink>>;

  beforeAll(async () => {
    [prom, influx, target] = await Promise.all([startPrometheus(), startInfluxDB(), startLatencyTarget({ kind: 'constant', ms: 1 }, paths)]);
    await influx.query('CREATE DATABASE k6');
    // With a token: a tokenless sink records a merged abort but stops nothing (docs/sink.md).
    sink = await startSink({ config: { prometheusUrls: [prom.writeUrl], influxUrl: influx.url, influxDb: 'k6', gradeIntervalMs: 1000, token: CONTROL_TOKEN } });
  });
  afterAll(async () => {
    await sink?.close();
    await Promise.all([prom?.stop(), influx?.stop(), target?.close()]);
  });

  const cliRun = (env: Record<string, string>, flags: string[] = []) =>
    runCli([join(FIXTURES, 'merged-threshold.js'), '--instances', '4', '--target', target.url, '--sink', sink.url, '--out-dir', dir, '--min-grade', 'none', ...flags, '--', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`])], k6, { SINK_TOKEN: CONTROL_TOKEN });
  const rawDurations = async (testid: string) => {
    const values: number[] = [];
    for (let i = 0; i < 4; i++) for (const p of await readPoints(join(dir, testid, `samples-${i}.json.gz`), 'http_req_duration')) values.push(p.data.value);
    expect(values).toHaveLength(68);
    return values;
  };
  const ownP95 = (testid: string, i: number) => (JSON.parse(readFileSync(join(dir, testid, `summary-${i}.json`), 'utf8')) as Summary).metrics.http_req_duration!;

  async function stored(testid: string): Promise<{ prometheus: number[]; influx: number[] }> {
    await sink.app.sink.grades.emit();
    await drained(sink.app);
    const series = await promQuery(prom.url, `last_over_time(promo_threshold_ok{testid="${testid}"}[10m])`);
    for (const s of series) expect(s.metric).toMatchObject({ metric: 'http_req_duration', threshold: expect.stringMatching(/^p\(95\)</) });
    const rows = await influx.query(`SELECT last("ok") FROM "promo_threshold" WHERE "testid" = '${testid}' GROUP BY "metric", "threshold"`, 'k6');
    return {
      prometheus: series.map((s) => Number(s.value![1])),
      influx: (rows.results[0].series ?? []).map((s: { values: Array<[string, number]> }) => s.values[0]![1]),
    };
  }

  it('fails p(95)<300 merged while each instance passes alone, and with --abort-on-fail stops all four within 2 push intervals and exits 99', async () => {
    const res = await cliRun({ SLOW: 'all', LIMIT_MS: '300', IDLE: '60s' }, ['--abort-on-fail']);
    const testid = printedTestId(res.stdout)!;
    expect(res.code, res.stdout + res.stderr).toBe(99);
    for (let i = 0; i < 4; i++) {
      const own = ownP95(testid, i);
      expect(own.thresholds!['p(95)<300'], `instance ${i} p95 ${own['p(95)']}`).toBe(false);
      expect(own['p(95)']).toBeLessThan(300);
    }
    const run = (await sink.app.inject({ url: `/api/runs/${testid}` })).json() as RunJson;
    const verdict = run.thresholds.find((t) => t.metric === 'http_req_duration' && t.threshold === 'p(95)<300')!;
    expect(verdict).toMatchObject({ ok: false, requests: 68, abortOnFail: true, supported: true });
    // k6's formula on the 68 raw requests: about 0.35·fast + 0.65·slow.
    const raw = await rawDurations(testid);
    expect(k6Percentile(raw, 95)).toBeGreaterThan(600);
    expectWithinBuckets(verdict.value!, raw, 95, 'merged p(95)');
    expect(run.abortedBy).toMatchObject({ metric: 'http_req_duration', threshold: 'p(95)<300', ok: false, requests: 68 });
    // The last instance's stale markers (its final push) came within 2 push intervals of the breach.
    expect(Date.parse(run.endedAt!) - Date.parse(run.abortedAt!)).toBeLessThanOrEqual(2000);
    expect(res.stdout).toMatch(/^aborted: the merged threshold http_req_duration p\(95\)<300 failed at \d+\.\d ms over 68 requests; the sink stopped every instance$/m);
    expect(res.stdout).toContain('note: http_req_duration p(95)<300 fails merged');
    expect(res.stdout).toContain('but k6 on instances 0, 1, 2, 3 alone judged it ok');
    expect(await stored(testid)).toEqual({ prometheus: [0], influx: [0] });
  });

  it('passes p(95)<150 merged while the one instance with the slow request fails it alone, and says so', async () => {
    const res = await cliRun({ SLOW: '2', LIMIT_MS: '150', IDLE: '2s' });
    const testid = printedTestId(res.stdout)!;
    // k6 on instance 2 fails its own threshold: k6 exits 99 there, the merged verdict holds.
    expect(res.code, res.stdout + res.stderr).toBe(99);
    expect(ownP95(testid, 2).thresholds!['p(95)<150']).toBe(true);
    for (const i of [0, 1, 3]) expect(ownP95(testid, i).thresholds!['p(95)<150']).toBe(false);
    const run = (await sink.app.inject({ url: `/api/runs/${testid}` })).json() as RunJson;
    expect(run.abortedBy).toBeNull();
    const verdict = run.thresholds.find((t) => t.threshold === 'p(95)<150')!;
    expect(verdict).toMatchObject({ ok: true, requests: 68 });
    const raw = await rawDurations(testid);
    expect(k6Percentile(raw, 95)).toBeLessThan(150);
    expectWithinBuckets(verdict.value!, raw, 95, 'merged p(95)');
    expect(res.stdout).toMatch(/^ {4}ok {10}http_req_duration p\(95\)<150 {3}\d+\.\d ms over 68 requests$/m);
    expect(res.stdout).toContain('note: http_req_duration p(95)<150 holds merged');
    expect(res.stdout).toContain('but k6 on instance 2 alone judged it failed');
    expect(await stored(testid)).toEqual({ prometheus: [1], influx: [1] });
  });
});

describe('per-page figures', () => {
  it("match k6's own page_type sub-metrics in a promo run: counts exact, p95 inside the buckets of k6's value", async () => {
    // Each page its own latency shape, so the pages' figures differ and a mix-up shows.
    const pageShapes: Record<string, LatencyShape> = {
      '/': { kind: 'exponential', meanMs: 30 },
      '/category/shoes': { kind: 'lognormal', medianMs: 20, sigma: 1 },
      '/product/1': { kind: 'bimodal', fastMs: 5, slowMs: 300, slowShare: 0.1 },
    };
    const target = await startLatencyTarget({ kind: 'constant', ms: 1 }, (path) => pageShapes[path]);
    const sink = await startSink();
    try {
      const testid = makeTestId('per page');
      const res = await k6Run(join(SCENARIO_BUNDLE_DIR, 'promo.js'), sink.url, { TESTID: testid, BASE_URL: target.url, TARGET_VUS: '10', DURATION: '8s', THINK_TIME_MS: '0' });
      expect([0, 99], res.stderr).toContain(res.code);
      const run = (await sink.app.inject({ url: `/api/runs/${testid}` })).json() as RunJson;
      expect(run.pages.pageTypes.map((p) => p.key)).toEqual(['category', 'homepage', 'product']);
      for (const page of run.pages.pageTypes) {
        const own = res.summary.metrics[`http_req_duration{page_type:${page.key}}`]!;
        const context = `${page.key}: sink ${page.requests} requests p95 ${page.p95Ms}; k6 ${own.count} p95 ${own['p(95)']}`;
        expect(page.requests, context).toBe(own.count);
        const raw = res.durations.filter((d) => d.tags.page_type === page.key).map((d) => d.ms);
        expect(relative(k6Percentile(raw, 95), own['p(95)']!), context).toBeLessThan(1e-6);
        expectWithinBuckets(page.p95Ms!, raw, 95, context);
        expect(page.errorRatio).toBe(0);
        // The sub-metric's threshold, judged by the sink on the same data.
        const verdict = run.thresholds.find((t) => t.metric === `http_req_duration{page_type:${page.key}}`)!;
        expect(verdict.requests).toBe(own.count);
        expectWithinBuckets(verdict.value!, raw, 95, `${context}, threshold`);
      }
      // The names (URL groups) are the three pages too, slowest first.
      expect(run.pages.slowestNames).toHaveLength(3);
      const p95s = run.pages.slowestNames.map((p) => p.p95Ms!);
      expect([...p95s].sort((a, b) => b - a)).toEqual(p95s);
    } finally {
      await sink.close();
      await target.close();
    }
  });
});
