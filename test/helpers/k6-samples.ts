// Reading k6's raw `--out json` samples: the oracle for tags and counts.
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

/** True when a p95 is within 5 % of a latency band edge, where two fair measurements may get different letters. */
export function nearBandEdge(p95Ms: number): boolean {
  return DEFAULT_BANDS.latency.some(([edge]) => edge > 0 && Math.abs(p95Ms - edge) <= 0.05 * edge);
}
