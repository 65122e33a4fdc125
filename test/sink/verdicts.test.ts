// The sink's side of the run's sentences: failures classed from k6's labels (as k6 v2.2.0
// sends them), a broken test's grade withheld, endings from k6's exit codes, and the
// comparison API. The real k6 runs are test/integration/sentences.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { RunRegistry } from '../../sink/grade/runs.ts';
import { DEFAULT_CONFIG } from '../../sink/config.ts';
import { failureCause, failureSide } from '../../sink/grade/failures.ts';
import { endingOf, historyEntry, type Registration } from '../../sink/control/run-control.ts';
import { MessageWriter } from '../../sink/control/notify/message.ts';
import { History } from '../../sink/control/history.ts';
import { buildApp } from '../../sink/app.ts';
import { encodeV1, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';
import { series, T0 } from './fixtures/series.ts';
import type { HistoryEntry } from '../../contract/sink-api.ts';
import { BASELINE } from '../helpers/history-entry.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A run fed remote write as k6 sends it: per second, request groups with their status, error_code and error labels, and the VUs. */
function feed(testid: string) {
  const runs = new RunRegistry({ ...DEFAULT_CONFIG, windowMs: 30_000 });
  const decoder = new RemoteWriteDecoder();
  const totals = new Map<string, { requests: number; failed: number }>();
  return {
    runs,
    run: () => runs.run(testid)!,
    /** At second `s`, `vus` VUs, and the requests of each group so far (its labels; all failed when it is a failure). */
    second(s: number, vus: number, groups: Array<{ labels: Record<string, string>; add: number; failed: boolean }>) {
      const t = T0 + s * 1000;
      const ts: TimeSeriesObj[] = [series('k6_vus', { testid }, [[t, vus]])];
      for (const g of groups) {
        const key = JSON.stringify(g.labels);
        const total = totals.get(key) ?? { requests: 0, failed: 0 };
        total.requests += g.add;
        if (g.failed) total.failed += g.add;
        totals.set(key, total);
        const labels = { testid, scenario: 'ramp', ...g.labels };
        ts.push(series('k6_http_reqs_total', labels, [[t, total.requests]]), series('k6_http_req_failed_rate', labels, [[t, total.failed / total.requests]]));
      }
      ts.push(series('k6_http_req_duration_p95', { testid }, [[t, 0.002]]));
      runs.ingest(decoder.decode(encodeV1({ timeseries: ts }), 1));
    },
  };
}

const REFUSED = { status: '0', error_code: '1212', error: 'dial: connection refused', expected_response: 'false', method: 'GET', name: 'http://127.0.0.1:9/product/1', page_type: 'product' };
const SERVED = { status: '200', expected_response: 'true', method: 'GET', name: 'http://127.0.0.1:8/product/1', page_type: 'product' };
const BUSY = { status: '503', error_code: '1503', expected_response: 'false', method: 'GET', name: 'http://127.0.0.1:8/product/1', page_type: 'product' };

describe('failure classes', () => {
  it('puts refused, DNS, TLS and 4xx on the test, and 5xx, 429, timeouts and dropped connections on the shop', () => {
    const cases: Array<[number, number | null, string, string]> = [
      [0, 1212, 'refused', 'test'],
      [0, 1101, 'dns', 'test'],
      [0, 1301, 'tls', 'test'],
      [404, 1404, 'client_error', 'test'],
      [410, null, 'client_error', 'test'],
      [503, 1503, 'server_error', 'shop'],
      [500, null, 'server_error', 'shop'],
      [429, 1429, 'rate_limited', 'shop'],
      [408, 1408, 'timeout', 'shop'],
      [0, 1050, 'timeout', 'shop'],
      [0, 1211, 'timeout', 'shop'],
      [0, 1000, 'dropped', 'shop'],
      [0, 1220, 'dropped', 'shop'],
      [200, null, 'other', 'shop'],
    ];
    for (const [status, code, cause, side] of cases) {
      expect([status, code, failureCause(status, code)]).toEqual([status, code, cause]);
      expect(failureSide(failureCause(status, code))).toBe(side);
    }
  });
});

describe('a broken test in the sink', () => {
  it('withholds the letter, live and for the whole run, and says why; it finds no breaking point on a ramp of refusals', () => {
    const f = feed('refused_20261127_080000_00000001');
    for (let s = 0; s < 12; s++) f.second(s, s + 1, [{ labels: REFUSED, add: 10 * (s + 1), failed: true }]);
    const run = f.run();
    const sentence = 'The test could not reach the shop: 100 % of requests were refused (connection refused at http://127.0.0.1:9).';
    expect(run.failures()).toMatchObject({ testSide: run.totalRequests(), shopSide: 0, causes: [{ cause: 'refused', side: 'test', status: 0, errorCode: 1212, error: 'dial: connection refused', origin: 'http://127.0.0.1:9' }] });
    expect(run.figures().live.grade).toMatchObject({ letter: 'N/A', reason: sentence });
    expect(run.figures().run.grade).toMatchObject({ letter: 'N/A', reason: sentence });
    expect(run.capacity()).toMatchObject({ breakingPointVus: null, throughputLimitRps: null });
    const entry = historyEntry(run.testid, run, null);
    expect(entry).toMatchObject({ grade: { letter: 'N/A', text: 'N/A' }, breakingPointVus: null, verdict: { kind: 'test_broken', headline: sentence, broken: sentence, capacity: null } });
  });

  it('grades the shop when its own failures are the most of them, and breaks it there on a growing load', () => {
    const f = feed('busy_20261127_080000_00000002');
    for (let s = 0; s < 30; s++) {
      const vus = s + 1;
      f.second(s, vus, [
        { labels: SERVED, add: vus > 20 ? 20 : vus, failed: false },
        { labels: BUSY, add: vus > 20 ? vus - 20 : 0, failed: true },
        { labels: REFUSED, add: vus > 20 ? 1 : 0, failed: true },
      ]);
    }
    const run = f.run();
    expect(run.failures().shopSide).toBeGreaterThan(run.failures().testSide);
    expect(run.figures().run.grade.letter).not.toBe('N/A');
    expect(run.capacity().breakingPointVus).toBeGreaterThanOrEqual(21);
    expect(run.capacity().breakingPointVus).toBeLessThanOrEqual(23);
  });
});

describe("a run's labels", () => {
  it('come from every series, so a scenario label missing from the first (k6\'s vus) is found on the next', () => {
    const f = feed('labels_20261127_080000_00000004');
    f.second(0, 1, []);
    expect(f.run().tags.scenario).toBeUndefined();
    f.second(1, 1, [{ labels: SERVED, add: 5, failed: false }]);
    expect(f.run().tags.scenario).toBe('ramp');
  });
});

describe('how a run ended', () => {
  const registration = (extra: Partial<Registration>): Registration => ({
    testid: 'x', scenario: 'ramp', tags: {}, target: null, k6Addresses: [], registeredAt: T0, stopRequestedAt: null, finishedAt: T0 + 60_000, exitCode: 0, abortOnFail: false, abortOn: [],
    k6Summary: null, abortedBy: null, plannedVus: 20, stoppedAtVus: null, guardStop: null, ...extra,
  });
  const f = feed('ending_20261127_080000_00000003');
  for (let s = 0; s < 10; s++) f.second(s, s + 1, [{ labels: SERVED, add: 5, failed: false }]);

  it('is read from k6\'s exit code and what the sink did, at the VUs of the stop', () => {
    const run = f.run();
    expect(endingOf(run, registration({ exitCode: 0 }))).toEqual({ kind: 'completed', atVus: 10, plannedVus: 20, detail: null });
    expect(endingOf(run, registration({ exitCode: 99 }))).toMatchObject({ kind: 'completed' });
    expect(endingOf(run, registration({ exitCode: 103, stopRequestedAt: T0 + 4_500 }))).toEqual({ kind: 'stopped', atVus: 5, plannedVus: 20, detail: null });
    // The VUs the sink saw when it sent the stop, when it kept them.
    expect(endingOf(run, registration({ exitCode: 103, stopRequestedAt: T0 + 4_500, stoppedAtVus: 6 }))).toMatchObject({ kind: 'stopped', atVus: 6 });
    expect(endingOf(run, registration({ exitCode: 99, abortOnFail: true }))).toEqual({ kind: 'threshold', atVus: 10, plannedVus: 20, detail: 'k6 aborted the run on its thresholds' });
    expect(endingOf(run, registration({ exitCode: 108 }))).toEqual({ kind: 'aborted', atVus: 10, plannedVus: 20, detail: 'k6 exited with 108 (aborted by the script)' });
    expect(endingOf(run, registration({ exitCode: 103, guardStop: { at: T0 + 6_500, detail: 'errors over 5 % for 10 s' } }))).toEqual({ kind: 'guard', atVus: 7, plannedVus: 20, detail: 'errors over 5 % for 10 s', sinceBreakS: null });
    const abortedBy = { metric: 'http_req_duration', threshold: 'p(95)<300', ok: false, value: 651.2, requests: 3120, abortOnFail: true, supported: true };
    expect(endingOf(run, registration({ exitCode: 103, abortedBy }))).toMatchObject({ kind: 'threshold', detail: 'http_req_duration p(95)<300 failed at 651.2 ms over 3120 requests' });
    expect(endingOf(run, null)).toMatchObject({ kind: 'completed', plannedVus: null });
  });

  it('is the sentence under the light, and ends the notifications', () => {
    const entry = historyEntry(f.run().testid, f.run(), registration({ exitCode: 103, stopRequestedAt: T0 + 4_500 }));
    const sentence = 'Stopped by hand at 5 of 20 users; the shop held until then.';
    expect(entry.verdict).toMatchObject({ headline: sentence, ending: sentence, endingKind: 'stopped' });
    const words = new MessageWriter({ errorRatioCritical: 0.05, p95WarningMs: 3000, windowMs: 30_000, log: () => {} });
    expect(words.completed(entry).notification.message).toMatch(new RegExp(`testid ${entry.testid}\\. ${sentence.replace(/[.()]/g, '\\$&')}$`));
    expect(words.completed(entry).slack.text).toContain(sentence);
    expect(words.aborted({ testid: entry.testid, tags: {}, target: null, grade: entry.grade.text, reason: entry.exitReason, ending: entry.verdict!.ending }).notification.message).toContain(sentence);
  });
});

describe('GET /api/compare', () => {
  const page = (key: string, p95Ms: number) => ({ key, requests: 5000, rps: null, p50Ms: null, p95Ms, p99Ms: null, errorRatio: 0.001, p95LowMs: p95Ms - 2, p95HighMs: p95Ms + 2 });
  const run = (testid: string, hour: number, promoType: string, cartMs: number, scenario = 'promo'): HistoryEntry => ({
    ...BASELINE, testid, scenario, endedAt: `2026-11-27T${hour}:05:00.000Z`, tags: { ...BASELINE.tags, promo_type: promoType },
    pages: { pageTypes: [page('cart', cartMs), page('product', 100)], slowestNames: [] },
  });
  const before = run('before_20261127_080000_00000001', 10, 'none', 60);
  const promo = run('promo_20261127_090000_00000002', 11, 'auto_cart', 180);
  const ramp = run('ramp_20261127_100000_00000003', 12, 'none', 60, 'ramp');

  async function sink() {
    const dir = mkdtempSync(join(tmpdir(), 'compare-api-'));
    const history = await History.open(join(dir, 'history.jsonl'));
    for (const e of [before, promo, ramp]) await history.append(e);
    await history.close();
    const app = buildApp({ config: { dataDir: dir } });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => app.close());
    await app.ready();
    return app;
  }

  it('compares the viewed run with the default baseline, in the words of the comparison', async () => {
    const app = await sink();
    const res = await app.inject({ url: `/api/compare?candidate=${promo.testid}` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect([body.picked, body.baseline.testid, body.candidate.testid, body.refused]).toEqual([true, before.testid, promo.testid, null]);
    expect(body.comparison.sentences[0]).toBe('Cart pages were 200 % slower with the promo (95 % within 180 ms, against 60 ms without it).');
  });

  it('gives the reason, and no figures, for runs that are not alike, and a 404 for a run it does not know', async () => {
    const app = await sink();
    const refused = (await app.inject({ url: `/api/compare?baseline=${before.testid}&candidate=${ramp.testid}` })).json();
    expect(refused).toMatchObject({ picked: false, comparison: null, refused: 'These runs cannot be compared: the baseline ran scenario promo and the candidate ramp; compare runs of the same scenario.' });
    const nothing = (await app.inject({ url: `/api/compare?candidate=${ramp.testid}` })).json();
    expect(nothing).toMatchObject({ baseline: null, comparison: null, refused: 'No earlier run of the same scenario and journey to compare with.' });
    const missing = await app.inject({ url: '/api/compare?candidate=nope_20261127_000000_00000000' });
    expect([missing.statusCode, missing.json()]).toEqual([404, { code: 'SINK_ERR_RUN_NOT_FOUND', message: 'No run has the testid "nope_20261127_000000_00000000".' }]);
    const bad = await app.inject({ url: '/api/compare?candidate=../x' });
    expect(bad.statusCode).toBe(400);
  });
});
