// Reading k6's raw `--out json` samples: the oracle for tags and counts.
import { expect } from 'vitest';
import { forEachPoint, type K6Point } from '../../cli/samples-csv.ts';
import { DEFAULT_BANDS } from '../../lib/grade.ts';

export async function readPoints(path: string, metric?: string): Promise<K6Point[]> {
  const points: K6Point[] = [];
  await forEachPoint(path, (p) => {
    if (metric === undefined || p.metric === metric) points.push(p);
  });
  return points;
}

/** Exact nearest-rank-free p95 as k6 computes it: linear interpolation between order statistics. */
export function k6Percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/**
 * Where a histogram estimate of k6's percentile may lie, from the bucket bounds of the two
 * order statistics k6 interpolates between (k6 sends durations in seconds; buckets follow
 * the native-histogram spec, (base^(i−1), base^i] with base 2^(2^−schema)). Schema 3 is the
 * coarsest k6 uses, and finer schemas' buckets nest inside it, so the bounds hold for both.
 */
export function k6PercentileBucketSpan(valuesMs: number[], p: number, schema = 3): { lower: number; upper: number; exact: number } {
  const sorted = [...valuesMs].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const base = 2 ** (2 ** -schema);
  const bucket = (ms: number) => {
    const index = Math.ceil(Math.log(ms / 1000) / Math.log(base));
    return { lower: 1000 * base ** (index - 1), upper: 1000 * base ** index };
  };
  const below = bucket(sorted[lo]!);
  const above = bucket(sorted[hi]!);
  const f = rank - lo;
  return {
    lower: below.lower + (above.lower - below.lower) * f,
    upper: below.upper + (above.upper - below.upper) * f,
    exact: sorted[lo]! + (sorted[hi]! - sorted[lo]!) * f,
  };
}

/**
 * The documented bound (docs/sink.md): each order statistic is estimated inside the bucket
 * of the true one, so the sink's percentile lies between the interpolated bucket bounds,
 * which keeps it within 9.05 % of k6's value. A float's last bits are forgiven.
 */
export function expectWithinBuckets(estimateMs: number, rawMs: number[], p: number, context: string) {
  const span = k6PercentileBucketSpan(rawMs, p);
  const where = `${context}; p(${p}) may lie in [${span.lower}, ${span.upper}]`;
  expect(estimateMs, where).toBeGreaterThanOrEqual(span.lower * (1 - 1e-9));
  expect(estimateMs, where).toBeLessThanOrEqual(span.upper * (1 + 1e-9));
  expect(Math.abs(estimateMs - span.exact) / span.exact, where).toBeLessThanOrEqual(0.0905);
}

/** True when a p95 is within 5 % of a latency band edge, where two fair measurements may get different letters. */
export function nearBandEdge(p95Ms: number): boolean {
  return DEFAULT_BANDS.latency.some(([edge]) => edge > 0 && Math.abs(p95Ms - edge) <= 0.05 * edge);
}

/**
 * The VUs of every instance added up, at each sample time of the first instance's `vus`
 * gauge (about one a second): each other instance's latest value at or before it.
 */
export function mergedVus(instances: K6Point[][]): Array<{ t: number; v: number }> {
  const series = instances.map((points) => points.filter((p) => p.metric === 'vus').map((p) => ({ t: Date.parse(p.data.time), v: p.data.value })).sort((a, b) => a.t - b.t));
  const at = (s: Array<{ t: number; v: number }>, t: number) => {
    let v = 0;
    for (const x of s) {
      if (x.t > t) break;
      v = x.v;
    }
    return v;
  };
  return (series[0] ?? []).map(({ t }) => ({ t, v: series.reduce((n, s) => n + at(s, t), 0) }));
}

/**
 * The breaking point's oracle, from k6's raw samples (of one instance, or of each of a
 * distributed run's, merged): for each second until the ramp starts down (or `until`, a
 * stop), the error ratio of the requests sent in the `windowMs` (3 s) up to it (when there
 * are at least 20) and the VUs they were sent at (k6's `vus` gauge at the middle of that
 * window: a fast ramp adds VUs every second); the breaking point is the VUs of the first
 * second from which every later one is over 1 %, and `t` the middle of its window.
 */
export async function breakOracle(samplesPaths: string | string[], peak: number, until = Infinity, windowMs = 3000): Promise<{ vus: number; t: number } | null> {
  const instances = await Promise.all([samplesPaths].flat().map((path) => readPoints(path)));
  const vus = mergedVus(instances);
  const lastAtPeak = Math.min(until, Math.max(...vus.filter((s) => s.v >= peak).map((s) => s.t)));
  const requests = instances.flat().filter((p) => p.metric === 'http_req_failed').map((p) => ({ t: Date.parse(p.data.time), failed: p.data.value }));
  const seconds: Array<{ vus: number; t: number; over: boolean }> = [];
  for (const { t, v } of vus) {
    if (t > lastAtPeak) break;
    const recent = requests.filter((r) => r.t > t - windowMs && r.t <= t);
    if (recent.length < 20) continue;
    const middle = vus.filter((s) => s.t <= t - windowMs / 2).at(-1)?.v ?? v;
    seconds.push({ vus: middle, t: t - windowMs / 2, over: recent.reduce((n, r) => n + r.failed, 0) / recent.length > 0.01 });
  }
  let breaking: { vus: number; t: number } | null = null;
  for (let i = seconds.length - 1; i >= 0 && seconds[i]!.over; i--) breaking = { vus: seconds[i]!.vus, t: seconds[i]!.t };
  return breaking;
}

/** The breaking point's VUs from k6's raw samples (see breakOracle). */
export async function errorsPassOnePercentAt(samplesPath: string, peak: number): Promise<number | null> {
  return (await breakOracle(samplesPath, peak))?.vus ?? null;
}
