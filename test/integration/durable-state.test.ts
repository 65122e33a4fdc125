// State that survives operations, with real k6, real Prometheus servers and the sink as
// `npm run sink` runs it: spool cursors bound to their destinations across reorders and
// removals, one sink per spool directory and data directory, and the history reloaded
// after a SIGKILL.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { SCENARIO_BUNDLE_DIR } from '../../build/bundle.ts';
import { makeTestId } from '../../lib/tags.ts';
import { SINK_NODE_FLAGS, sinkServer } from '../../contract/dist-layout.ts';
import { runCli, runProcess, printedTestId } from '../../fixtures/processes.ts';
import { startDemo } from '../helpers/demo.ts';
import { remoteWriteEnv } from '../helpers/sink.ts';
import { CHROMIUM_ARGS } from '../helpers/browser.ts';
import { startPrometheus, startSinkProcess, freePort, scrape, metricSum, type Service } from '../../fixtures/services.ts';
import { promSampleCount, promScalar, waitFor } from '../helpers/stores.ts';
import { destinationName } from '../../sink/fanout/destinations.ts';
import { loadK6Recording, replayPush } from '../../fixtures/k6-native-replay.ts';

const k6 = inject('k6Bin');
let dir: string;
let shop: Awaited<ReturnType<typeof startDemo>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pla-durable-'));
  shop = await startDemo();
});
afterAll(async () => {
  await shop.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A real k6 smoke run with trend stats pointed at `sinkUrl`; its testid and k6's own request count. */
async function k6Smoke(sinkUrl: string, duration = '8s'): Promise<{ testid: string; requests: number }> {
  const testid = makeTestId('durable');
  const summary = join(dir, `${testid}.json`);
  const env = { TESTID: testid, BASE_URL: shop.url, TARGET_VUS: '3', DURATION: duration, THINK_TIME_MS: '100', MIN_GRADE: 'none' };
  const res = await runProcess(k6, ['run', '-q', '-o', 'experimental-prometheus-rw', '--summary-export', summary, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), join(SCENARIO_BUNDLE_DIR, 'smoke.js')], {
    env: remoteWriteEnv(sinkUrl, 'trend-stats'),
  });
  expect(res.code, res.stderr).toBe(0);
  return { testid, requests: (JSON.parse(readFileSync(summary, 'utf8')) as { metrics: { http_reqs: { count: number } } }).metrics.http_reqs.count };
}

/** Grade samples a Prometheus holds: a sink emits its grade record when it stops, into every destination's queue. */
const gradeSamples = (prom: Service) => promSampleCount(prom.url, '{__name__=~"promo_.+"}');
const queued = async (sink: Service, destination: string) => metricSum(await scrape(sink.url), 'sink_destination_queue_samples', { destination }) ?? NaN;
const prometheusDestination = (url: string) => destinationName({ kind: 'prometheus', url, headers: {} });
const spoolBytes = (spool: string) => readdirSync(spool).filter((f) => f.endsWith('.seg')).reduce((n, f) => n + statSync(join(spool, f)).size, 0);
/** k6's request count as Prometheus holds it: the last value of every k6_http_reqs_total series, summed. */
const storedRequests = (prom: Service, testid: string) => promScalar(prom.url, `sum(last_over_time(k6_http_reqs_total{testid="${testid}"}[1h]))`);

describe('spool cursors bound to their destinations, with two real Prometheus servers', () => {
  it('delivers every sample to both once A is back, after a restart with the URLs swapped, and never gives one’s backlog to the other', async () => {
    const b = await startPrometheus();
    // A's port stays free until A starts, so the OS may hand it to B: pick it after B, apart from B's.
    let portA = await freePort();
    while (b.url.endsWith(`:${portA}`)) portA = await freePort();
    const dataA = mkdtempSync(join(tmpdir(), 'pla-prom-a-'));
    const spool = mkdtempSync(join(tmpdir(), 'pla-spool-'));
    const urlA = `http://127.0.0.1:${portA}/api/v1/write`;
    const nameA = prometheusDestination(urlA);
    const nameB = prometheusDestination(b.writeUrl);
    let a: Service | null = null;
    let sink = await startSinkProcess({ args: ['--prometheus-url', urlA, '--prometheus-url', b.writeUrl, '--spool-dir', spool, '--grade-interval', '1h'] });
    try {
      const run = await k6Smoke(sink.url);
      const text = await scrape(sink.url);
      const accepted = (metricSum(text, 'sink_samples_received_total') ?? 0) - (metricSum(text, 'sink_stale_markers_total') ?? 0);
      await waitFor('B to have everything', async () => (await queued(sink, nameB)) === 0);
      const backlogA = await queued(sink, nameA);
      expect(backlogA).toBeGreaterThan(0);
      expect(await promSampleCount(b.url, `{testid="${run.testid}",__name__=~"k6_.+"}`)).toBe(accepted);
      await sink.stop();

      // The same two destinations, the other way round: each finds its own cursor. A's
      // backlog is what it was, plus the grade record the first sink queued as it stopped.
      const graded = await gradeSamples(b);
      expect(graded).toBeGreaterThan(0);
      sink = await startSinkProcess({ args: ['--prometheus-url', b.writeUrl, '--prometheus-url', urlA, '--spool-dir', spool, '--grade-interval', '1h'] });
      expect(await queued(sink, nameA)).toBe(backlogA + graded);
      expect(await queued(sink, nameB)).toBe(0);
      a = await startPrometheus({ port: portA, dataDir: dataA, keepData: true });
      await waitFor('A to catch up', async () => (await queued(sink, nameA)) === 0, 120_000, 500);
      for (const prom of [a, b]) {
        expect(await promSampleCount(prom.url, `{testid="${run.testid}",__name__=~"k6_.+"}`)).toBe(accepted);
        expect(await storedRequests(prom, run.testid)).toBe(run.requests);
      }
      // B got nothing twice: Prometheus counts a repeated sample as a duplicate (out of order).
      expect(metricSum(await scrape(b.url), 'prometheus_tsdb_out_of_order_samples_total')).toBe(0);
    } finally {
      await sink.stop();
      await a?.stop();
      await b.stop();
      rmSync(dataA, { recursive: true, force: true });
      rmSync(spool, { recursive: true, force: true });
    }
  });

  it('reports a removed destination’s backlog once, in a log line and a metric, and frees the segments it held', async () => {
    const b = await startPrometheus();
    const spool = mkdtempSync(join(tmpdir(), 'pla-spool-'));
    const goneUrl = `http://127.0.0.1:${await freePort()}/api/v1/write`;
    // Segments of 200 kB (an eighth of the bound), so that six k6 pushes of 120 kB fill several.
    const args = ['--spool-dir', spool, '--grade-interval', '1h', '--spool-max-bytes', '1600000'];
    let sink = await startSinkProcess({ args: ['--prometheus-url', goneUrl, '--prometheus-url', b.writeUrl, ...args] });
    try {
      const rec = loadK6Recording();
      const startMs = Date.now() - 10_000;
      for (let r = 0; r < 6; r++) {
        const res = await fetch(sink.writeUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' }, body: new Uint8Array(replayPush(rec, 0, r, startMs).body) });
        expect(res.status).toBe(204);
      }
      await waitFor('B to have everything', async () => (await queued(sink, prometheusDestination(b.writeUrl))) === 0);
      const queuedThen = await queued(sink, prometheusDestination(goneUrl));
      expect(queuedThen).toBeGreaterThan(0);
      await sink.stop();
      const backlog = queuedThen + (await gradeSamples(b));
      const before = spoolBytes(spool);
      expect(before).toBeGreaterThan(0);

      sink = await startSinkProcess({ args: ['--prometheus-url', b.writeUrl, ...args], logLevel: 'info' });
      const lines = sink.output().split('\n').filter((l) => l.includes('is not configured any more'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`prometheus ${goneUrl}`);
      expect(lines[0]).toContain(`(${backlog} samples)`);
      expect(metricSum(await scrape(sink.url), 'sink_spool_released_samples_total')).toBe(backlog);
      expect(spoolBytes(spool)).toBeLessThan(before);
      expect(readdirSync(spool).filter((f) => f.endsWith('.ack'))).toEqual([`${prometheusDestination(b.writeUrl)}.ack`]);
      await sink.stop();
      // Once released, it is not reported again.
      sink = await startSinkProcess({ args: ['--prometheus-url', b.writeUrl, ...args], logLevel: 'info' });
      expect(sink.output()).not.toContain('is not configured any more');
    } finally {
      await sink.stop();
      await b.stop();
      rmSync(spool, { recursive: true, force: true });
    }
  });
});

describe('one sink per spool directory and data directory', () => {
  it('stops a second sink with one sentence naming the first one’s pid and the path, while the first goes on accepting and delivering', async () => {
    const prom = await startPrometheus();
    const work = mkdtempSync(join(tmpdir(), 'pla-owner-'));
    const spool = join(work, 'spool');
    const first = await startSinkProcess({ args: ['--prometheus-url', prom.writeUrl, '--spool-dir', spool, '--data-dir', join(work, 'data'), '--grade-interval', '1h'] });
    const second = (args: string[]) => runProcess(process.execPath, [...SINK_NODE_FLAGS, sinkServer(), '--port', '0', ...args], { cwd: work, timeoutMs: 30_000 });
    try {
      const bySpool = await second(['--prometheus-url', prom.writeUrl, '--spool-dir', spool, '--data-dir', join(work, 'other-data')]);
      expect(bySpool.code).toBe(3);
      expect(bySpool.stderr).toBe(`The spool directory ${spool} is in use by sink pid ${first.pid} (lock file ${join(spool, 'sink.lock')}); give this sink another spool directory, or stop that one.\n`);
      const byData = await second(['--data-dir', join(work, 'data')]);
      expect(byData.code).toBe(3);
      expect(byData.stderr).toBe(`The history file ${join(work, 'data', 'history.jsonl')} is in use by sink pid ${first.pid} (lock file ${join(work, 'data', 'history.jsonl.lock')}); give this sink another history file, or stop that one.\n`);

      const push = replayPush(loadK6Recording(), 0, 0, Date.now());
      const res = await fetch(first.writeUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' }, body: new Uint8Array(push.body) });
      expect(res.status).toBe(204);
      await waitFor('Prometheus to get the push', async () => (metricSum(await scrape(prom.url), 'prometheus_tsdb_head_samples_appended_total') ?? 0) >= push.samples);
    } finally {
      await first.stop();
      await prom.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('a standalone sink with no flags, killed with SIGKILL and started again', () => {
  it('lists the run it took in history --sink, /api/history and the status page, and compares a later run against it', async () => {
    const work = mkdtempSync(join(tmpdir(), 'pla-standalone-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // Exactly `npm run sink` in an empty directory: no flags (the port as its SINK_PORT twin, the default being someone else's).
    const start = () => {
      const child = spawn(process.execPath, [...SINK_NODE_FLAGS, sinkServer()], { cwd: work, env: { ...process.env, SINK_PORT: String(port), SINK_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
      return waitFor('the sink to answer', () => fetch(`${url}/-/ready`).then((r) => r.ok, () => false), 20_000, 50).then(() => child);
    };
    let sink = await start();
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    try {
      const first = await runCli(['smoke', '--target', shop.url, '--sink', url, '--duration', '4s', '--min-grade', 'none', '--out-dir', join(work, 'results')], k6);
      expect(first.code, first.stderr).toBe(0);
      // A sink without a token stops nothing: the run says so in one line, and is graded all the same.
      expect(first.stdout.split('\n').filter((line) => line.includes('has no token'))).toEqual([
        `note: the sink at ${url} has no token, so it will not stop this run: Ctrl-C stops k6 directly, and a merged threshold that fails is reported, not enforced.`,
      ]);
      expect(first.stdout).toMatch(/^Grade: [A-F] /m);
      const baseline = printedTestId(first.stdout)!;
      expect(readFileSync(join(work, 'data', 'history.jsonl'), 'utf8')).toContain(baseline);

      sink.kill('SIGKILL');
      await new Promise((r) => sink.once('exit', r));
      sink = await start();

      const history = await runCli(['history', '--sink', url], k6);
      expect(history.code, history.stderr).toBe(0);
      expect(history.stdout).toContain(baseline);
      const api = (await (await fetch(`${url}/api/history`)).json()) as { runs: Array<{ testid: string }>; total: number };
      expect(api.runs.map((r) => r.testid)).toEqual([baseline]);
      const page = await browser.newPage();
      await page.goto(`${url}/`);
      await page.locator(`[data-testid="history-row"][data-run="${baseline}"]`).waitFor({ timeout: 15_000 });

      const second = await runCli(['smoke', '--target', shop.url, '--sink', url, '--duration', '4s', '--min-grade', 'none', '--out-dir', join(work, 'results')], k6);
      expect(second.code, second.stderr).toBe(0);
      const candidate = printedTestId(second.stdout)!;
      const compared = await runCli(['compare', baseline, candidate, '--sink', url, '--json'], k6);
      expect(compared.code, compared.stderr).toBe(0);
      const json = JSON.parse(compared.stdout) as { baseline: { testid: string }; candidate: { testid: string } };
      expect([json.baseline.testid, json.candidate.testid]).toEqual([baseline, candidate]);
      const newestFirst = (await (await fetch(`${url}/api/history?limit=1`)).json()) as { runs: Array<{ testid: string }>; total: number; next: string | null };
      expect(newestFirst).toMatchObject({ runs: [{ testid: candidate }], total: 2, next: '/api/history?limit=1&offset=1' });
    } finally {
      await browser.close();
      sink.kill('SIGTERM');
      await new Promise((r) => sink.once('exit', r));
      rmSync(work, { recursive: true, force: true });
    }
  });
});
