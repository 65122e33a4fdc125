// Real k6 runs with the sink as their remote-write URL, checked against k6's own
// end-of-test summary and its raw samples.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIO_BUNDLE_DIR } from '../../build/bundle.ts';
import { runProcess } from '../../fixtures/processes.ts';
import { readPoints, k6Percentile, nearBandEdge, expectWithinBuckets } from '../helpers/k6-samples.ts';
import { startDemo } from '../helpers/demo.ts';
import { startSink, remoteWriteEnv, type RwMode } from '../helpers/sink.ts';
import { grade } from '../../lib/grade.ts';
import { makeTestId } from '../../lib/tags.ts';
import { runJson } from '../../sink/control/runs-routes.ts';

const k6 = inject('k6Bin');
let dir: string;
let shop: Awaited<ReturnType<typeof startDemo>>;
let sink: Awaited<ReturnType<typeof startSink>>;
const warnings: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pla-sink-'));
  shop = await startDemo();
  // A few failures, so the error ratio is more than zero over zero.
  await shop.admin('PUT', 'faults', { errorRatio: 0.02, extraLatencyMs: 0 });
  sink = await startSink({ logger: { level: 'warn', stream: { write: (line: string) => warnings.push(line) } } });
});
afterAll(async () => {
  await sink.close();
  await shop.close();
  rmSync(dir, { recursive: true, force: true });
});

interface K6Run {
  testid: string;
  exitCode: number | null;
  summary: { metrics: Record<string, Record<string, number>> };
  samples: string;
}

async function runThroughSink(scenario: string, mode: RwMode, extraEnv: string[] = []): Promise<K6Run> {
  const testid = makeTestId(`${scenario} ${mode}`);
  const summary = join(dir, `${testid}.summary.json`);
  const samples = join(dir, `${testid}.json`);
  const res = await runProcess(k6, [
    'run', '-q', '-o', 'experimental-prometheus-rw', '--out', `json=${samples}`, '--summary-export', summary,
    '-e', `TESTID=${testid}`, '-e', `BASE_URL=${shop.url}`, '-e', 'TARGET_VUS=4', '-e', 'RAMP_MAX_VUS=8', '-e', 'DURATION=4s', '-e', 'THINK_TIME_MS=20', '-e', 'MIN_GRADE=none',
    ...extraEnv.flatMap((e) => ['-e', e]),
    join(SCENARIO_BUNDLE_DIR, `${scenario}.js`),
  ], { env: remoteWriteEnv(sink.url, mode) });
  expect(res.stderr.match(/level=error.*/g) ?? []).toEqual([]);
  return { testid, exitCode: res.code, summary: JSON.parse(readFileSync(summary, 'utf8')), samples };
}


describe.each(['smoke', 'ramp'])('%s through the sink with native histograms', (scenario) => {
  let run: K6Run;
  let result: ReturnType<typeof runJson>;
  beforeAll(async () => {
    run = await runThroughSink(scenario, 'native');
    result = runJson(sink.app.sink.runs.run(run.testid)!);
  });

  it('counts exactly the requests k6 made', () => {
    expect(run.exitCode).toBe(0);
    expect(result.final.requests).toBe(run.summary.metrics.http_reqs!.count);
  });

  it("gets a final p95 inside the buckets of k6's own summary value", async () => {
    expect(result.p95Source).toBe('native_histogram');
    const k6p95 = run.summary.metrics.http_req_duration!['p(95)']!;
    const raw = (await readPoints(run.samples, 'http_req_duration')).map((p) => p.data.value);
    expect(Math.abs(k6Percentile(raw, 95) - k6p95) / k6p95).toBeLessThan(1e-6);
    expectWithinBuckets(result.final.p95Ms!, raw, 95, `sink p95 ${result.final.p95Ms}, k6 ${k6p95}`);
  });

  it('gets the error ratio within 0.1 point of k6', () => {
    const k6ratio = run.summary.metrics.http_req_failed!.value!;
    expect(k6ratio).toBeGreaterThan(0);
    expect(Math.abs(result.final.errorRatio! - k6ratio)).toBeLessThanOrEqual(0.001);
  });

  it("gives the grade lib/grade.ts gives for k6's summary figures", () => {
    const k6p95 = run.summary.metrics.http_req_duration!['p(95)']!;
    const expected = grade({ p95Ms: k6p95, errorRatio: run.summary.metrics.http_req_failed!.value! });
    if (!nearBandEdge(k6p95)) expect(result.final.grade.letter).toBe(expected.letter);
  });

  it('ends the run on the stale markers k6 sends at the end', () => {
    expect(result.status).toBe('ended');
  });
});

describe.each(['smoke', 'ramp'])('%s through the sink with trend stats p(95),p(99)', (scenario) => {
  let run: K6Run;
  let result: ReturnType<typeof runJson>;
  beforeAll(async () => {
    run = await runThroughSink(scenario, 'trend-stats');
    result = runJson(sink.app.sink.runs.run(run.testid)!);
  });

  it('counts exactly the requests k6 made, with the error ratio within 0.1 point', () => {
    expect(result.final.requests).toBe(run.summary.metrics.http_reqs!.count);
    expect(Math.abs(result.final.errorRatio! - run.summary.metrics.http_req_failed!.value!)).toBeLessThanOrEqual(0.001);
  });

  it('takes the p95 of the slowest series, since per-series trend stats cannot be merged', async () => {
    expect(result.p95Source).toBe('trend_stats_per_series');
    const bySeries = new Map<string, number[]>();
    for (const p of await readPoints(run.samples, 'http_req_duration')) {
      const key = JSON.stringify(Object.entries(p.data.tags ?? {}).sort());
      bySeries.set(key, [...(bySeries.get(key) ?? []), p.data.value]);
    }
    const slowest = Math.max(...[...bySeries.values()].map((v) => k6Percentile(v, 95)));
    expect(Math.abs(result.final.p95Ms! - slowest) / slowest).toBeLessThanOrEqual(0.01);
  });
});

describe("k6's default trend stats (p(99) only)", () => {
  it('gives N/A with the k6 setting to add, in /api/runs and in one log line', async () => {
    const run = await runThroughSink('smoke', 'default');
    const res = await sink.app.inject({ method: 'GET', url: `/api/runs/${run.testid}` });
    const body = res.json();
    expect(body.final.grade.letter).toBe('N/A');
    expect(body.naReason).toContain('K6_PROMETHEUS_RW_TREND_STATS');
    expect(body.final.requests).toBe(run.summary.metrics.http_reqs!.count);
    expect(warnings.filter((w) => w.includes(run.testid) && w.includes('no p95'))).toHaveLength(1);
  });
});
