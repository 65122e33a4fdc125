import { describe, expect, it } from 'vitest';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { RunRegistry, UNTAGGED } from '../../sink/grade/runs.ts';
import { DEFAULT_CONFIG } from '../../sink/config.ts';
import { encodeV1, type HistogramObj, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';
import { T0, series, STALE, withStaleMarkers } from './fixtures/series.ts';




function registry(limits: Partial<typeof DEFAULT_CONFIG> = {}, log: (l: string) => void = () => {}) {
  const runs = new RunRegistry({ ...DEFAULT_CONFIG, ...limits }, log);
  const decoder = new RemoteWriteDecoder();
  const push = (...ts: TimeSeriesObj[]) => runs.ingest(decoder.decode(withStaleMarkers(encodeV1({ timeseries: ts })), 1));
  return { runs, push };
}

const reqs = (testid: string, url: string, t: number, n: number) => series('k6_http_reqs_total', { testid, url }, [[t, n]]);
const failed = (testid: string, url: string, t: number, rate: number) => series('k6_http_req_failed_rate', { testid, url }, [[t, rate]]);

/** A schema-3 integer histogram with `fast` observations of 0.1 s and `slow` ones of 3 s. */
function durations(testid: string, t: number, fast: number, slow: number): TimeSeriesObj {
  const h: HistogramObj = {
    count_int: fast + slow, sum: fast * 0.1 + slow * 3, schema: 3, zero_threshold: 2 ** -128, zero_count_int: 0, timestamp: t,
    positive_spans: [{ offset: -26, length: 1 }, { offset: 38, length: 1 }], positive_deltas: [fast, slow - fast],
  };
  return series('k6_http_req_duration_seconds', { testid }, [], [h]);
}

describe('grading runs from remote-write batches', () => {
  it('puts series without a testid into the run named "untagged"', () => {
    const { runs, push } = registry();
    push(series('k6_vus', {}, [[T0, 3]]));
    expect(runs.run(UNTAGGED)?.currentVus()).toBe(3);
  });

  it("weighs each series' failure rate by its request count", () => {
    const { runs, push } = registry();
    push(reqs('a', '/x', T0, 100), failed('a', '/x', T0, 0.1), reqs('a', '/y', T0, 900), failed('a', '/y', T0, 0));
    expect(runs.run('a')!.figures().run.errorRatio).toBeCloseTo(0.01, 12);
  });

  it('keeps what was counted before a counter reset (k6 restarted)', () => {
    const { runs, push } = registry();
    push(reqs('a', '/x', T0, 100), failed('a', '/x', T0, 0.5));
    push(reqs('a', '/x', T0 + 1000, 30), failed('a', '/x', T0 + 1000, 0));
    const run = runs.run('a')!;
    expect(run.figures().run.requests).toBe(130);
    expect(run.figures().run.errorRatio).toBeCloseTo(50 / 130, 12);
    expect(runs.counters.counterResets).toBe(1);
  });

  it('counts and skips a late sample older than the series already has', () => {
    const { runs, push } = registry();
    push(reqs('a', '/x', T0 + 2000, 200));
    push(reqs('a', '/x', T0 + 1000, 150));
    expect(runs.run('a')!.figures().run.requests).toBe(200);
    expect(runs.counters.outOfOrder).toBe(1);
  });

  it('ends a run when every series got a stale marker, and revives it on new data', () => {
    const { runs, push } = registry();
    push(reqs('a', '/x', T0, 10), series('k6_vus', { testid: 'a' }, [[T0, 2]]));
    push(reqs('a', '/x', T0 + 1000, STALE));
    expect(runs.counters.staleMarkers).toBe(1);
    expect(runs.run('a')!.ended).toBe(false);
    push(series('k6_vus', { testid: 'a' }, [[T0 + 1000, STALE]]));
    expect(runs.run('a')!.ended).toBe(true);
    expect(runs.run('a')!.figures().run.requests).toBe(10);
    push(reqs('a', '/x', T0 + 2000, 12));
    expect(runs.run('a')!.ended).toBe(false);
  });

  it('merges the histograms of every series of a run', () => {
    const { runs, push } = registry();
    push(durations('a', T0, 60, 0), { ...durations('a', T0, 0, 40), labels: [...durations('a', T0, 0, 40).labels, { name: 'url', value: '/slow' }] });
    const f = runs.run('a')!.figures().run;
    expect(f.p50Ms).toBeGreaterThan(90);
    expect(f.p50Ms).toBeLessThan(110);
    expect(f.p95Ms).toBeGreaterThan(2700);
    expect(f.p95Ms).toBeLessThan(3100);
  });

  it('grades the live window from the difference of two cumulative histograms', () => {
    const { runs, push } = registry({ windowMs: 30_000 });
    for (let s = 0; s <= 30; s += 5) push(durations('a', T0 + s * 1000, 100 * s, 0), reqs('a', '/x', T0 + s * 1000, 100 * s));
    // Between 40 s and 60 s, only slow requests.
    for (let s = 40; s <= 60; s += 5) push(durations('a', T0 + s * 1000, 3000, (s - 35) * 4), reqs('a', '/x', T0 + s * 1000, 3000 + (s - 35) * 4));
    const { live, run } = runs.run('a')!.figures();
    expect(run.p95Ms).toBeLessThan(110); // 100 slow of 3100: the run's p95 is still fast
    expect(live.p95Ms).toBeGreaterThan(2700); // the last 30 s saw only slow ones
    expect(live.requests).toBe(100); // from the snapshot at 30 s (3000 requests) to now
    expect(live.rps).toBeCloseTo(100 / 30, 6);
  });

  it('refuses new series past the per-run limit, counts them and logs one line', () => {
    const lines: string[] = [];
    const { runs, push } = registry({ maxSeriesPerRun: 2 }, (l) => lines.push(l));
    push(reqs('a', '/1', T0, 1), reqs('a', '/2', T0, 1), reqs('a', '/3', T0, 1), reqs('a', '/4', T0, 1));
    expect(runs.run('a')!.figures().run.requests).toBe(2);
    expect(runs.counters.refusedSeries.run_limit).toBe(2);
    expect(runs.counters.refusedSamples).toBe(2);
    expect(lines.filter((l) => l.startsWith('refusing'))).toEqual(['refusing new series for run a: the limit --max-series-per-run 2 is reached; raise it or cut label cardinality (url, name)']);
  });
});
