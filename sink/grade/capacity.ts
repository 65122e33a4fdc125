// Where a ramp finds the shop's limits, from the run's points (series.ts: a point per
// second, each over a 5 s rolling window, with the run's request and failure totals):
//
// - the breaking point: the VUs where errors over the rolling window first pass 1 %, or
//   its p95 passes 2 s (the grade's C limits: where the light would turn red), and stay
//   there: of the later points at that load or more, at most one in five recovers. The
//   window lags behind the ramp, so for an error breach the VUs are those of the first
//   second of the unbroken run of seconds over 1 % that ends the window (where the
//   errors began);
// - the throughput limit: where requests/s (those that did not fail) stop growing while
//   VUs still grow: the capacity in requests/s (the 90th percentile of the points' rates,
//   so one lucky second does not set it), and the VUs at the knee: at the first point
//   that reached 95 % of it, the VUs of the middle of its window, the load its rate is
//   the answer to. Reported once VUs went on growing by STILL_GROWING past the knee and
//   requests/s stayed flat there (see throughputLimit).
import { limitsFor } from '../../lib/grade.ts';
import { POINT_WINDOW_MS, type SeriesPoint } from './series.ts';

const BREAKING_LIMITS = limitsFor('C');
/** A knee counts only when the VUs went on to at least this many times its VUs. */
const STILL_GROWING = 1.05;
/** Of the later points at the same load or more, the share that may recover without cancelling a breach. */
const RECOVERIES_ALLOWED = 0.2;

export interface Capacity {
  /** VUs at the breaking point; null when the run never broke. */
  breakingPointVus: number | null;
  /** Requests/s (not failed) the shop tops out at, and the VUs where it does; null until seen. */
  throughputLimitRps: number | null;
  throughputLimitVus: number | null;
  /** The most VUs the run reached: "no break up to N VUs". */
  maxVus: number;
}

const erroring = (p: SeriesPoint) => p.errorRatio !== null && p.errorRatio > BREAKING_LIMITS.errorRatio;

export function breached(p: SeriesPoint): boolean {
  return erroring(p) || (p.p95Ms !== null && p.p95Ms > BREAKING_LIMITS.p95Ms);
}

/**
 * For a window whose errors passed 1 %: where the errors began, the first second of the
 * unbroken run of seconds over 1 % that ends the window (an isolated bad second before
 * it is chance, not the break); the window's end when no second of it stands out.
 */
function errorOnset(points: readonly SeriesPoint[], i: number): SeriesPoint {
  const end = points[i]!;
  const over = (j: number) => {
    const a = points[j - 1]!;
    const b = points[j]!;
    const requests = b.requests - a.requests;
    return requests > 0 && (b.failed - a.failed) / requests > BREAKING_LIMITS.errorRatio;
  };
  let last = i;
  while (last >= 1 && points[last]!.t > end.t - POINT_WINDOW_MS && !over(last)) last--;
  if (last < 1 || points[last]!.t <= end.t - POINT_WINDOW_MS) return end;
  let first = last;
  while (first - 1 >= 1 && points[first - 1]!.t > end.t - POINT_WINDOW_MS && over(first - 1)) first--;
  return points[first]!;
}

export function breakingPoint(points: readonly SeriesPoint[]): number | null {
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (!breached(p) || p.vus <= 0) continue;
    let later = 0;
    let recovered = 0;
    for (let j = i + 1; j < points.length; j++) {
      if (points[j]!.vus < p.vus) continue;
      later++;
      if (!breached(points[j]!)) recovered++;
    }
    if (recovered > RECOVERIES_ALLOWED * later) continue;
    return erroring(p) ? errorOnset(points, i).vus : p.vus;
  }
  return null;
}

export function throughputLimit(points: readonly SeriesPoint[]): { rps: number; vus: number } | null {
  const rates = points.map((p) => p.okRps).filter((r): r is number => r !== null && r > 0);
  if (rates.length < 5) return null;
  const sorted = [...rates].sort((a, b) => a - b);
  const capacity = sorted[Math.floor(0.9 * (sorted.length - 1))]!;
  const k = points.findIndex((p) => p.okRps !== null && p.okRps >= 0.95 * capacity && p.vus > 0);
  if (k < 0) return null;
  // The window's rate answers the load of its middle.
  const middle = points[k]!.t - POINT_WINDOW_MS / 2;
  let knee = points[k]!;
  // (A point before the first VU started says nothing of the load: it never stands for it.)
  for (let j = k; j >= 0 && points[j]!.t >= middle; j--) if (points[j]!.vus > 0) knee = points[j]!;
  const maxVus = Math.max(...points.map((p) => p.vus));
  if (maxVus < STILL_GROWING * knee.vus) return null;
  // Flat past the knee: requests/s grow with the VUs there at less than half the rate per
  // VU below it (a shop that still scales would keep its rate per VU).
  const after = points.slice(k + 1).filter((p) => p.vus > knee.vus && p.okRps !== null);
  if (after.length < 3) return null;
  const slopeAfter = slope(after.map((p) => p.vus), after.map((p) => p.okRps!));
  return slopeAfter < (0.5 * points[k]!.okRps!) / knee.vus ? { rps: capacity, vus: knee.vus } : null;
}

/** Least-squares slope of y over x (0 when x does not vary). */
function slope(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

export function capacity(points: readonly SeriesPoint[]): Capacity {
  const limit = throughputLimit(points);
  return {
    breakingPointVus: breakingPoint(points),
    throughputLimitRps: limit?.rps ?? null,
    throughputLimitVus: limit?.vus ?? null,
    maxVus: points.reduce((m, p) => Math.max(m, p.vus), 0),
  };
}
