// Bounded, linear costs (issue 23, item 3): runs past --max-runs and registrations past
// --max-registrations go, least recently touched first, counted; a run keeps at most 1,024
// k6 addresses and 200 thresholds; the hash-keyed indexes of what clients send are keyed at random, so values
// crafted to share a hash (fixtures/colliding-labels.ts) spread like any others. The
// timings of the floods themselves are in `npm run bench -- sink-abuse`.
import { describe, expect, it } from 'vitest';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { RunRegistry } from '../../sink/grade/runs.ts';
import { RunControl } from '../../sink/control/run-control.ts';
import { RunEvents } from '../../sink/model/run-events.ts';
import { KeyedHash } from '../../sink/model/keyed-hash.ts';
import { parseThresholds } from '../../sink/grade/thresholds.ts';
import { DEFAULT_CONFIG } from '../../sink/config.ts';
import { buildApp } from '../../sink/app.ts';
import { collidingValues, unkeyedLabelsHash } from '../../fixtures/colliding-labels.ts';
import { encodeV1, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';
import { metricSum } from '../../fixtures/services.ts';
import { T0, series } from './fixtures/series.ts';

function registry(maxRuns: number, log: (l: string) => void = () => {}) {
  const runs = new RunRegistry({ ...DEFAULT_CONFIG, maxRuns }, log);
  const decoder = new RemoteWriteDecoder();
  const push = (...ts: TimeSeriesObj[]) => runs.ingest(decoder.decode(encodeV1({ timeseries: ts }), 1));
  return { runs, push };
}

const reqs = (testid: string, url: string, t: number) => series('k6_http_reqs_total', { testid, url }, [[t, 1]]);

describe('runs past --max-runs', () => {
  it('go least recently touched first, open or ended, with their series, counted in sink_evicted_runs_total', () => {
    const lines: string[] = [];
    const { runs, push } = registry(3, (l) => lines.push(l));
    push(reqs('a', '/1', T0), reqs('a', '/2', T0));
    push(reqs('b', '/1', T0));
    push(reqs('c', '/1', T0));
    push(reqs('a', '/1', T0 + 1000)); // a is touched again: b is now the least recently touched
    push(reqs('d', '/1', T0));
    expect([...runs.runs.keys()].sort()).toEqual(['a', 'c', 'd']);
    expect(runs.counters.evictedRuns).toBe(1);
    expect(runs.activeSeries).toBe(4);
    push(reqs('e', '/1', T0), reqs('f', '/1', T0));
    expect([...runs.runs.keys()].sort()).toEqual(['d', 'e', 'f']);
    expect(runs.counters.evictedRuns).toBe(3);
    expect(runs.activeSeries).toBe(3);
    const evictions = () => lines.filter((l) => l.includes('--max-runs'));
    expect(evictions()).toEqual(['more than --max-runs 3 runs: the least recently touched goes, open or ended, with its series (counted in sink_evicted_runs_total)']);
    // An evicted run that comes back is a new run, its series new series.
    push(reqs('a', '/1', T0 + 2000), reqs('a', '/2', T0 + 2000));
    expect([...runs.runs.keys()].sort()).toEqual(['a', 'e', 'f']);
    expect(runs.run('a')!.seriesCount).toBe(2);
    expect(runs.activeSeries).toBe(4);
    runs.sweep(T0 + 3000);
    expect(evictions()[1]).toBe('forgot 3 runs past --max-runs 3 since the last such line, the least recently touched first (sink_evicted_runs_total)');
  });

  it('forget their series in a batch that makes more runs than the bound, and only the runs that stay are heard of', () => {
    const lines: string[] = [];
    const { runs, push } = registry(10, (l) => lines.push(l));
    const touched: string[] = [];
    runs.events.on('touched', (run) => void touched.push(run.testid));
    push(...Array.from({ length: 50 }, (_, i) => reqs(`flood_${i}`, '/', T0)));
    expect(runs.runs.size).toBe(10);
    expect(runs.activeSeries).toBe(10);
    expect(runs.counters.evictedRuns).toBe(40);
    expect(touched.sort()).toEqual([...runs.runs.keys()].sort());
    expect(lines.filter((l) => l.includes('grade is N/A'))).toHaveLength(10);
  });

  it('take at most 100 lines a minute about single runs; the rest are counted in one line', () => {
    const lines: string[] = [];
    const { runs, push } = registry(1000, (l) => lines.push(l));
    push(...Array.from({ length: 500 }, (_, i) => reqs(`many_${i}`, '/', T0)));
    expect(lines.filter((l) => l.includes('grade is N/A'))).toHaveLength(100);
    runs.sweep(T0);
    expect(lines.at(-1)).toBe('400 more lines about single runs (N/A grades, refusals) were not logged since the last sweep: at most 100 a minute');
    push(reqs('after_sweep', '/', T0));
    expect(lines.at(-1)).toMatch(/^run after_sweep has no p95/);
  });
});

describe('registrations past --max-registrations', () => {
  it('go least recently registered or finished first, counted in sink_evicted_registrations_total', () => {
    const control = new RunControl(new RunRegistry({ ...DEFAULT_CONFIG }), null, new RunEvents(), () => {}, null, { stops: true, maxRegistrations: 3 });
    try {
      for (const testid of ['r1', 'r2', 'r3']) control.register({ testid, tags: { promo_name: testid } });
      control.register({ testid: 'r1' }); // touched again
      control.register({ testid: 'r4' });
      expect([...control.registrations.keys()]).toEqual(['r3', 'r1', 'r4']);
      expect(control.counters.evictedRegistrations).toBe(1);
      expect(control.registrations.get('r1')!.tags).toEqual({ promo_name: 'r1' });
    } finally {
      control.close();
    }
  });

  it('keep one copy of each threshold a run expects, and at most 200 of them, the rest counted', () => {
    const runs = new RunRegistry({ ...DEFAULT_CONFIG });
    const control = new RunControl(runs, null, new RunEvents(), () => {}, null, { stops: true });
    try {
      const many = { http_req_duration: Array.from({ length: 20 }, (_, k) => `p(95)<${1000 + k}`) };
      const thresholds = Object.fromEntries(Array.from({ length: 15 }, (_, m) => [`http_req_duration{page_type:p${m}}`, many.http_req_duration]));
      for (let i = 0; i < 20; i++) control.register({ testid: 'late_20261127_080000_00000001', thresholds }, true);
      expect(runs.counters.refusedThresholds).toBe(20 * 100);
      const { push } = { push: (...ts: TimeSeriesObj[]) => runs.ingest(new RemoteWriteDecoder().decode(encodeV1({ timeseries: ts }), 1)) };
      push(reqs('late_20261127_080000_00000001', '/', T0));
      expect(runs.run('late_20261127_080000_00000001')!.thresholds.size).toBe(200);
      expect(parseThresholds(thresholds)).toHaveLength(300);
    } finally {
      control.close();
    }
  });
});

describe('k6 addresses per run', () => {
  it('are kept up to 1,024; the next one is refused with 409 and counted in sink_refused_k6_addresses_total', async () => {
    const token = 'bounds-token-0001';
    const app = buildApp({ config: { token }, decodeWorker: false });
    await app.ready();
    try {
      const testid = 'many_20261127_080000_00000001';
      const register = (port: number) =>
        app.inject({ method: 'POST', url: '/api/runs', headers: { authorization: `Bearer ${token}` }, payload: { testid, k6Address: `127.0.0.1:${port}` } });
      for (let i = 0; i < 1024; i++) expect((await register(10_000 + i)).statusCode).toBe(201);
      expect((await register(10_000)).statusCode).toBe(201); // one already kept: nothing new
      const refused = await register(20_000);
      expect({ status: refused.statusCode, body: refused.json() }).toEqual({
        status: 409,
        body: { code: 'SINK_ERR_TOO_MANY_K6_ADDRESSES', message: `The run "${testid}" already has 1024 k6 addresses registered, the most a run keeps; this one was not registered.` },
      });
      expect(app.sink.control.registrations.get(testid)!.k6Addresses).toHaveLength(1024);
      expect(metricSum((await app.inject({ method: 'GET', url: '/metrics' })).body, 'sink_refused_k6_addresses_total')).toBe(1);
    } finally {
      await app.close();
    }
  });
});

describe('the keyed hash of the hash-keyed indexes', () => {
  const names = ['__name__', 'testid', 'url'];
  const crafted = collidingValues(names, ['k6_http_reqs_total', 'collide', ''], 'url', 4096);

  it('spreads label values crafted to share one unkeyed hash as it spreads any others', () => {
    expect(new Set(crafted.map((url) => unkeyedLabelsHash(names, ['k6_http_reqs_total', 'collide', url]))).size).toBe(1);
    const h = new KeyedHash();
    const keyed = (url: string) => h.begin().word(3).string('__name__').string('k6_http_reqs_total').string('testid').string('collide').string('url').string(url).finish();
    // 4,096 values in 2^32: a handful of collisions at most.
    expect(new Set(crafted.map(keyed)).size).toBeGreaterThan(4090);
    // Bucket selectors, as a table of 4,096 slots takes them: no slot holds more than a few.
    const slots = new Map<number, number>();
    for (const url of crafted) slots.set(keyed(url) & 4095, (slots.get(keyed(url) & 4095) ?? 0) + 1);
    expect(Math.max(...slots.values())).toBeLessThan(12);
  });

  it("keeps grading's series index apart for them: one bucket each, not one chain of 4,096", () => {
    const { runs, push } = registry(1000);
    push(...crafted.map((url) => reqs('collide', url, T0)));
    expect(runs.activeSeries).toBe(4096);
    // The index's buckets (private: the chain lengths are what a flood would lengthen).
    const buckets = (runs as unknown as { series: Map<number, unknown> }).series;
    expect(buckets.size).toBeGreaterThan(4090);
  });

  it('is keyed at random: two hashers disagree, the same key agrees', () => {
    const hash = (h: KeyedHash, s: string) => h.begin().string(s).finish();
    const a = new KeyedHash();
    const b = new KeyedHash();
    const values = crafted.slice(0, 64);
    expect(values.filter((v) => hash(a, v) === hash(b, v)).length).toBeLessThan(2);
    const key = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(values.map((v) => hash(new KeyedHash(key), v))).toEqual(values.map((v) => hash(new KeyedHash(key), v)));
  });

  it('tells inputs apart by their lengths and words, not only their characters', () => {
    const h = new KeyedHash();
    const ofStrings = (...xs: string[]) => xs.reduce((acc, x) => acc.string(x), h.begin()).finish();
    expect(ofStrings('ab', 'c')).not.toBe(ofStrings('a', 'bc'));
    const bytes = Buffer.from('label_name_');
    expect(h.begin().bytes(bytes, 0, 10).finish()).not.toBe(h.begin().bytes(bytes, 0, 11).finish());
    expect(h.begin().word(1).word(2).finish()).not.toBe(h.begin().word(2).word(1).finish());
  });
});
