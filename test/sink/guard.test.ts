// The guard's judgement (sink/grade/guard.ts): a rule holds when every push interval's
// reading stayed over its limit for its duration, on the shop's own failures only; it trips
// once, on the push that completes it. Fed remote write as k6 sends it. The stop itself, on
// real k6 instances, is test/integration/guard.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { RunRegistry } from '../../sink/grade/runs.ts';
import { RunGuard, type GuardReading } from '../../sink/grade/guard.ts';
import { DEFAULT_CONFIG } from '../../sink/config.ts';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { endingOf, historyEntry, type Registration } from '../../sink/control/run-control.ts';
import { buildApp } from '../../sink/app.ts';
import { encodeV1, type HistogramObj, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';
import { series, T0 } from './fixtures/series.ts';
import type { GuardRuleJson, GuardTripJson } from '../../contract/sink-api.ts';

const ERRORS: GuardRuleJson = { measure: 'errors', above: 0.05, forMs: 10_000 };
const P95: GuardRuleJson = { measure: 'p95', above: 3000, forMs: 10_000 };

const SERVED = { status: '200', expected_response: 'true', method: 'GET', name: 'http://127.0.0.1:8/product/1', page_type: 'product' };
const BUSY = { status: '503', error_code: '1503', expected_response: 'false', method: 'GET', name: 'http://127.0.0.1:8/product/1', page_type: 'product' };
const REFUSED = { status: '0', error_code: '1212', error: 'dial: connection refused', expected_response: 'false', method: 'GET', name: 'http://127.0.0.1:9/product/1', page_type: 'product' };

/** A bucket index of k6's schema 3 (base 2^(1/8)) holding `seconds`. */
const bucket = (seconds: number) => Math.ceil(Math.log2(seconds) * 8);

/** A cumulative native histogram of `fast` requests of 100 ms and `slow` ones of `slowS` seconds. */
function durations(fast: number, slow: number, slowS: number): HistogramObj {
  const a = bucket(0.1);
  const b = bucket(slowS);
  return { count_int: fast + slow, sum: fast * 0.1 + slow * slowS, schema: 3, zero_threshold: 0, zero_count_int: 0, positive_spans: [{ offset: a, length: 1 }, { offset: b - a - 1, length: 1 }], positive_deltas: [fast, slow - fast] };
}

/** A run fed one push a second: the requests that second of each kind (all served fast unless said), and its VUs (a ramp of one a second unless said). */
function feed(testid: string) {
  const runs = new RunRegistry({ ...DEFAULT_CONFIG, windowMs: 30_000 });
  const decoder = new RemoteWriteDecoder();
  const trips: GuardTripJson[] = [];
  runs.events.on('guardTripped', ({ trip }) => void trips.push(trip));
  const totals = { served: 0, busy: 0, refused: 0, slow: 0 };
  return {
    runs,
    trips,
    run: () => runs.run(testid)!,
    second(s: number, add: { served?: number; busy?: number; refused?: number; slow?: number }, vus = 10 + s, slowS = 4) {
      const t = T0 + s * 1000;
      for (const k of ['served', 'busy', 'refused', 'slow'] as const) totals[k] += add[k] ?? 0;
      const ts: TimeSeriesObj[] = [series('k6_vus', { testid }, [[t, vus]])];
      const group = (labels: Record<string, string>, requests: number, failed: boolean) => {
        if (requests === 0) return;
        const all = { testid, scenario: 'ramp', ...labels };
        ts.push(series('k6_http_reqs_total', all, [[t, requests]]), series('k6_http_req_failed_rate', all, [[t, failed ? 1 : 0]]));
      };
      group(SERVED, totals.served + totals.slow, false);
      group(BUSY, totals.busy, true);
      group(REFUSED, totals.refused, true);
      ts.push(series('k6_http_req_duration_seconds', { testid, scenario: 'ramp' }, [], [{ ...durations(totals.served + totals.busy + totals.refused, totals.slow, slowS), timestamp: t }]));
      runs.ingest(decoder.decode(encodeV1({ timeseries: ts }), 1));
    },
  };
}

describe('a guard rule', () => {
  const reading = (to: number, requests: number, shopFailed: number, p95: number | null = 100): GuardReading => ({ from: to - 1000, to, requests, shopFailed, percentileMs: () => p95 });

  it('holds only when every reading of its duration is over the limit, and trips once, on the reading that completes it', () => {
    const guard = new RunGuard([ERRORS]);
    // Over from the window that starts at 4 s; a reading at the limit (not over it) starts it again.
    for (let s = 1; s <= 4; s++) expect(guard.read(reading(T0 + s * 1000, 100, 1))).toBeNull();
    for (let s = 5; s <= 9; s++) expect(guard.read(reading(T0 + s * 1000, 100, 20))).toBeNull();
    expect(guard.read(reading(T0 + 10_000, 100, 5))).toBeNull();
    for (let s = 11; s <= 19; s++) expect(guard.read(reading(T0 + s * 1000, 100, 8 + s))).toBeNull();
    // A window without a request says nothing either way.
    expect(guard.read(reading(T0 + 19_500, 0, 0))).toBeNull();
    expect(guard.read(reading(T0 + 20_000, 100, 30))).toEqual({ rule: ERRORS, since: T0 + 10_000, at: T0 + 20_000, lowest: 0.19 });
    expect(guard.read(reading(T0 + 21_000, 100, 90))).toBeNull();
    expect(guard.tripped).toMatchObject({ at: T0 + 20_000 });
  });

  it('trips on the first of its rules that holds, a percentile in ms', () => {
    const guard = new RunGuard([ERRORS, P95]);
    let trip: GuardTripJson | null = null;
    for (let s = 1; s <= 12 && !trip; s++) trip = guard.read(reading(T0 + s * 1000, 100, 0, s >= 2 ? 3500 + s : 200));
    expect(trip).toEqual({ rule: P95, since: T0 + 1000, at: T0 + 11_000, lowest: 3502 });
  });
});

describe('the guard on a run', () => {
  it("trips on the shop's errors, over every push interval for 10 s, on the push that completes them", () => {
    const f = feed('guarded_20261127_080000_00000001');
    f.runs.expectGuard('guarded_20261127_080000_00000001', [ERRORS, P95]);
    for (let s = 0; s <= 30 && f.trips.length === 0; s++) f.second(s, s < 8 ? { served: 50 } : { served: 50, busy: 10 });
    // The first push over the limit is at 8 s, over the window from 7 s: it has held 10 s on the push of 17 s.
    expect(f.trips).toEqual([{ rule: ERRORS, since: T0 + 7000, at: T0 + 17_000, lowest: 10 / 60 }]);
    expect(f.run().guard?.tripped).toEqual(f.trips[0]);
  });

  it('never trips on the test\'s own failures (refused connections), however many', () => {
    const f = feed('refused_20261127_080000_00000002');
    f.runs.expectGuard('refused_20261127_080000_00000002', [ERRORS]);
    for (let s = 0; s <= 30; s++) f.second(s, { served: 5, refused: 100 });
    expect(f.trips).toEqual([]);
  });

  it('trips on p95 over 3 s from the native histograms, and starts again after a second under it', () => {
    const f = feed('slow_20261127_080000_00000003');
    f.runs.expectGuard('slow_20261127_080000_00000003', [P95]);
    for (let s = 0; s <= 40 && f.trips.length === 0; s++) f.second(s, s < 5 ? { served: 20 } : s === 9 ? { served: 20, slow: 0 } : { served: 1, slow: 19 });
    // Slow from the push of 5 s; the push of 9 s was fast; slow again from 10 s (window from 9 s): held at 19 s.
    expect(f.trips).toHaveLength(1);
    expect(f.trips[0]).toMatchObject({ rule: P95, since: T0 + 9000, at: T0 + 19_000 });
    expect(f.trips[0]!.lowest).toBeGreaterThan(3000);
  });

  it('has no guard unless the registration asked for one', () => {
    const f = feed('plain_20261127_080000_00000004');
    for (let s = 0; s <= 30; s++) f.second(s, { served: 50, busy: 50 });
    expect([f.trips, f.run().guard]).toEqual([[], null]);
  });
});

describe("a run the guard stopped", () => {
  const registration = (extra: Partial<Registration>): Registration => ({
    testid: 'x', scenario: 'ramp', tags: {}, target: null, k6Addresses: ['127.0.0.1:6565'], registeredAt: T0, stopRequestedAt: null, finishedAt: T0 + 60_000, exitCode: 103, abortOnFail: false, abortOn: [],
    k6Summary: null, abortedBy: null, plannedVus: 72, stoppedAtVus: null, guardStop: null, ...extra,
  });
  // A ramp of one VU a second that breaks at 20 VUs (its errors begin in the second to 10 s).
  const f = feed('broke_20261127_080000_00000005');
  for (let s = 0; s <= 25; s++) f.second(s, s < 10 ? { served: 40 } : { served: 40, busy: 20 });
  const detail = "the shop's errors stayed above 5 % for 10 s (never under 33 %)";

  it('ends in the words "Stopped by the guard at N users, X s after the breaking point", with exitReason guard', () => {
    const run = f.run();
    const broke = run.capacity().breakingPointVus!;
    expect(broke).toBeGreaterThanOrEqual(18);
    const entry = historyEntry(run.testid, run, registration({ guardStop: { at: T0 + 21_500, detail }, stoppedAtVus: 31 }));
    expect(entry.exitReason).toBe('guard');
    expect(entry.ending).toEqual({ kind: 'guard', atVus: 31, plannedVus: 72, detail, sinceBreakS: 12 });
    const sentence = `Stopped by the guard at 31 of 72 users, 12 s after the breaking point: ${detail}.`;
    expect(entry.verdict).toMatchObject({ headline: sentence, ending: sentence, endingKind: 'guard' });
  });

  it('says no breaking point when there was none, and nothing of the guard when it did not stop the run', () => {
    const steady = feed('steady_20261127_080000_00000006');
    for (let s = 0; s <= 25; s++) steady.second(s, { served: 40, busy: 20 }, 22);
    const ending = endingOf(steady.run(), registration({ guardStop: { at: T0 + 12_000, detail }, stoppedAtVus: 22 }));
    expect(ending).toEqual({ kind: 'guard', atVus: 22, plannedVus: 72, detail, sinceBreakS: null });
    const entry = historyEntry(f.run().testid, f.run(), registration({ exitCode: 0 }));
    expect([entry.exitReason, entry.ending?.kind, entry.verdict?.ending]).toEqual(['completed', 'completed', null]);
  });
});

describe('POST /api/runs with a guard', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  async function sink() {
    const app = buildApp({ config: { token: 'guard-unit-token-0123456789' } });
    cleanups.push(() => app.close());
    await app.ready();
    return app;
  }
  const register = (app: Awaited<ReturnType<typeof sink>>, guard: unknown) =>
    app.inject({ method: 'POST', url: '/api/runs', headers: { authorization: 'Bearer guard-unit-token-0123456789' }, payload: { testid: 'guard_20261127_080000_00000007', guard } });

  it("gives the run the registration's rules", async () => {
    const app = await sink();
    const res = await register(app, { rules: [ERRORS, P95] });
    expect(res.statusCode, res.body).toBe(201);
    // The rules wait for the run's first sample.
    const decoder = new RemoteWriteDecoder();
    app.sink.runs.ingest(decoder.decode(encodeV1({ timeseries: [series('k6_vus', { testid: 'guard_20261127_080000_00000007' }, [[T0, 1]])] }), 1));
    expect(app.sink.runs.run('guard_20261127_080000_00000007')!.guard?.rules).toEqual([ERRORS, P95]);
  });

  it('refuses a rule it cannot judge with a 400 from the catalogue', async () => {
    const app = await sink();
    for (const [guard, message] of [
      [{ rules: [{ measure: 'errors', above: 5, forMs: 10_000 }] }, 'body/guard/rules/0/above must be <= 1'],
      [{ rules: [{ measure: 'p97', above: 3000, forMs: 10_000 }] }, 'body/guard/rules/0/measure must be equal to one of the allowed values'],
      [{ rules: [{ measure: 'p95', above: 3000, forMs: 10 }] }, 'body/guard/rules/0/forMs must be >= 1000'],
      [{ rules: [] }, 'body/guard/rules must NOT have fewer than 1 items'],
    ] as const) {
      const res = await register(app, guard);
      expect([res.statusCode, res.json()]).toEqual([400, { code: 'SINK_ERR_BAD_REQUEST', message: `Bad request: ${message}` }]);
    }
  });
});
