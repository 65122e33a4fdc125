// Where a ramp finds the shop's limits, from the run's points (series.ts: a point per
// second, each over a 5 s rolling window, with the run's request and failure totals). Only
// the shop sets a limit (docs/capacity.md):
//
// - a growing load: a point is on one when its VUs are above those of a window (5 s) before,
//   the run having already started then (so a constant load's start is not growth). A
//   breaking point and a throughput limit are looked for on a growing load only;
// - the breaking point: the VUs where the shop's own failures (FailureSide 'shop': 5xx, 429,
//   timeouts, dropped connections; not refused connections or 404s) over the rolling window
//   first pass 1 %, or its p95 passes 2 s (the grade's C limits: where the light would turn
//   red), on a growing load, and stay there: of the later points at that load or more, at
//   most one in five recovers. For an error breach the VUs are those of the middle of the
//   first second of the unbroken run of seconds over 1 % that ends the window (where the
//   errors began: the failing requests were sent during that second);
// - the throughput limit: the shop saturates. Requests in flight, by Little's law (completed
//   requests/s × their mean duration), keep rising while completed requests/s (those that
//   did not fail) stay flat and the latency rises. The limit is the 90th percentile of the
//   points' rates (one lucky second does not set it); its VUs are those of the knee, the
//   first point that reached 95 % of it, taken at the middle of its window (the load its
//   rate answers). See saturation().
//
// Plain functions over the points, named for what they find, so issue 22's capacity model
// can take the same signals: inFlight, shopErrorRatio, growingLoad, breakingPoint
// (breakingPointAt: and when), saturation, strained.
import { limitsFor } from '../../lib/grade.ts';
import type { ForecastJson } from '../../contract/sink-api.ts';
import { POINT_WINDOW_MS, type SeriesPoint } from './series.ts';

const BREAKING_LIMITS = limitsFor('C');
/** Of the later points at the same load or more, the share that may recover without cancelling a breach. */
const RECOVERIES_ALLOWED = 0.2;
/**
 * Past the knee, the VUs must go on to at least this many times the knee's. A load the shop
 * serves in full reaches 95 % of its peak rate at about 95 % of its peak VUs, and the 5 s
 * window's lag and a second's noise put that knee lower still: 18 of 20 VUs on a real ramp
 * against django-oscar that the shop kept up with. Only VUs well past that tell a limit from
 * the end of the ramp.
 */
const STILL_GROWING = 1.2;
/** Saturated: at the end of the stretch past the knee, requests in flight against what the shop holds at its capacity with its latency below the knee, and the mean latency against that latency. */
const IN_FLIGHT_RISE = 1.3;
const LATENCY_RISE = 1.3;
/** Strained (no limit found, but not "the load set the pace"): latency rose this much, and by at least STRAIN_MIN_MS. */
const STRAIN_RISE = 1.5;
const STRAIN_MIN_MS = 50;

export interface Capacity {
  /** VUs at the breaking point; null when the run never broke. */
  breakingPointVus: number | null;
  /** Requests/s (not failed) the shop tops out at, and the VUs where it does; null until seen. */
  throughputLimitRps: number | null;
  throughputLimitVus: number | null;
  /** The most VUs the run reached: "no break up to N VUs". */
  maxVus: number;
  /** Requests/s (not failed) at the peak: the 90th percentile of the points' rates. */
  peakOkRps: number | null;
  /** Whether the load grew during the run. */
  loadGrew: boolean;
  /** Signs of strain without a limit found (see strained()). */
  strained: boolean;
  /** The capacity model of a ramp (forecast.ts); null without a growing load or for a broken test. Set by the run (run-state.ts). */
  forecast?: ForecastJson | null;
}

/** Requests in flight at a point by Little's law: completed requests/s × mean duration; null without both. */
export function inFlight(p: SeriesPoint): number | null {
  const mean = p.meanMs ?? p.p50Ms;
  return p.rps === null || mean === null || mean === undefined ? null : (p.rps * mean) / 1000;
}

/** The last point at or before time t (index), or -1. */
function indexAt(points: readonly SeriesPoint[], t: number): number {
  let lo = 0;
  let hi = points.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.t <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The VUs at time t: those of the last point at or before it (0 before the first). */
function vusAt(points: readonly SeriesPoint[], t: number): number {
  const i = indexAt(points, t);
  return i < 0 ? 0 : points[i]!.vus;
}

/** Failures of the shop's kind so far at a point (all failures in series kept before issue 21). */
const shopFailed = (p: SeriesPoint) => p.shopFailed ?? p.failed;

/**
 * The share of the window's requests that failed on the shop's side (FailureSide 'shop'),
 * from the run's totals at the point and a window before it.
 */
export function shopErrorRatio(points: readonly SeriesPoint[], i: number): number | null {
  const p = points[i]!;
  if (p.shopFailed === undefined) return p.errorRatio;
  const b = indexAt(points, p.t - POINT_WINDOW_MS);
  const requests = p.requests - (b >= 0 ? points[b]!.requests : 0);
  return requests > 0 ? (p.shopFailed - (b >= 0 ? points[b]!.shopFailed ?? 0 : 0)) / requests : null;
}

/** The first point with VUs running: where the run's load starts. */
function startOf(points: readonly SeriesPoint[]): number {
  return points.findIndex((p) => p.vus > 0);
}

/** k6's push interval: the VUs of a run's first push may be only some of those starting. */
const PUSH_INTERVAL_MS = 1000;

/**
 * Whether the load was growing at point i: its VUs above those a window before, or those at
 * the end of the run's first second when that is nearer (a constant load's VUs all start in
 * its first second, which is not growth).
 */
export function growingLoad(points: readonly SeriesPoint[], i: number): boolean {
  const start = startOf(points);
  if (start < 0) return false;
  const p = points[i]!;
  // A window back, but never into the run's first second: a short ramp grows within less than a window.
  const before = Math.max(p.t - POINT_WINDOW_MS, points[start]!.t + PUSH_INTERVAL_MS);
  return before < p.t && p.vus > vusAt(points, before);
}

function shopBreached(points: readonly SeriesPoint[], i: number): 'errors' | 'latency' | null {
  const errors = shopErrorRatio(points, i);
  if (errors !== null && errors > BREAKING_LIMITS.errorRatio) return 'errors';
  const p95 = points[i]!.p95Ms;
  return p95 !== null && p95 > BREAKING_LIMITS.p95Ms ? 'latency' : null;
}

/**
 * For a window whose shop errors passed 1 %: where they began, the first second of the
 * unbroken run of seconds over 1 % that ends the window (an isolated bad second before it
 * is chance, not the break); the window's end when no second of it stands out.
 */
function errorOnset(points: readonly SeriesPoint[], i: number): number {
  const end = points[i]!;
  const over = (j: number) => {
    const a = points[j - 1]!;
    const b = points[j]!;
    const requests = b.requests - a.requests;
    return requests > 0 && (shopFailed(b) - shopFailed(a)) / requests > BREAKING_LIMITS.errorRatio;
  };
  let last = i;
  while (last >= 1 && points[last]!.t > end.t - POINT_WINDOW_MS && !over(last)) last--;
  if (last < 1 || points[last]!.t <= end.t - POINT_WINDOW_MS) return i;
  let first = last;
  while (first - 1 >= 1 && points[first - 1]!.t > end.t - POINT_WINDOW_MS && over(first - 1)) first--;
  return first;
}

/** The VUs where the shop broke on a growing load (see the top of this file); null when it held. */
export function breakingPoint(points: readonly SeriesPoint[]): number | null {
  return breakingPointAt(points)?.vus ?? null;
}

/**
 * The breaking point and when it was (sample time, ms): for an error breach the middle of
 * the second the errors began in, else the point where p95 passed 2 s; null when it held.
 */
export function breakingPointAt(points: readonly SeriesPoint[]): { vus: number; t: number } | null {
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const breach = shopBreached(points, i);
    if (breach === null || p.vus <= 0) continue;
    const onset = breach === 'errors' ? errorOnset(points, i) : i;
    // A steady load that fails from its start has no breaking point: it never grew into one.
    if (!growingLoad(points, onset) && !growingLoad(points, i)) continue;
    let later = 0;
    let recovered = 0;
    for (let j = i + 1; j < points.length; j++) {
      if (points[j]!.vus < p.vus) continue;
      later++;
      if (shopBreached(points, j) === null) recovered++;
    }
    if (recovered > RECOVERIES_ALLOWED * later) continue;
    // The failing requests of an error onset's second were sent during it: at the VUs of its middle.
    if (breach === 'errors' && onset > 0 && onset !== i) {
      const [a, b] = [points[onset - 1]!, points[onset]!];
      return { vus: Math.round((a.vus + b.vus) / 2), t: (a.t + b.t) / 2 };
    }
    return { vus: points[onset]!.vus, t: points[onset]!.t };
  }
  return null;
}

/** The points up to the end of the peak (before the ramp down): where the load was at its most. */
export function upToPeak(points: readonly SeriesPoint[]): readonly SeriesPoint[] {
  const max = Math.max(0, ...points.map((p) => p.vus));
  let end = points.length - 1;
  while (end > 0 && points[end]!.vus < max) end--;
  return points.slice(0, end + 1);
}

/** The 90th percentile of the points' rates of requests that did not fail; null without one. */
export function peakOkRps(points: readonly SeriesPoint[]): number | null {
  const rates = points.map((p) => p.okRps).filter((r): r is number => r !== null && r > 0);
  if (rates.length === 0) return null;
  const sorted = [...rates].sort((a, b) => a - b);
  return sorted[Math.floor(0.9 * (sorted.length - 1))]!;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Least-squares slope of y over x (0 when x does not vary). */
function slope(x: number[], y: number[]): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/**
 * Where the shop saturates, and the requests/s it tops out at; null when it did not. From
 * the knee (the first point at 95 % of the peak rate) to the end of the peak:
 * - the load went on growing: VUs to at least 1.2 × the knee's (STILL_GROWING says why);
 * - completed requests/s stayed flat: they grow with the VUs (taken at the middle of each
 *   point's window, the load its rate answers) at less than half the rate per VU below it;
 * - requests in flight (Little's law) at the end are at least 1.3 × what the shop holds at
 *   its capacity with the latency it had below the knee (capacity × that latency), and the
 *   mean latency there 1.3 × that latency: the shop queues the load it cannot serve, it does
 *   not merely get less.
 */
export function saturation(points: readonly SeriesPoint[]): { rps: number; vus: number; index: number } | null {
  const peak = upToPeak(points);
  const capacity = peakOkRps(peak);
  // Five seconds of rates at least: one lucky second must not set a limit.
  if (capacity === null || peak.filter((p) => p.okRps !== null && p.okRps > 0).length < 5) return null;
  const k = peak.findIndex((p) => p.okRps !== null && p.okRps >= 0.95 * capacity && p.vus > 0);
  if (k < 0) return null;
  const loadOf = (p: SeriesPoint) => Math.max(1, vusAt(peak, p.t - POINT_WINDOW_MS / 2) || p.vus);
  const knee = loadOf(peak[k]!);
  const maxVus = Math.max(...peak.map((p) => p.vus));
  if (maxVus < STILL_GROWING * knee) return null;
  const after = peak.slice(k + 1).filter((p) => p.okRps !== null && loadOf(p) > knee);
  if (after.length < 3) return null;
  const flat = slope(after.map(loadOf), after.map((p) => p.okRps!)) < (0.5 * peak[k]!.okRps!) / knee;
  if (!flat) return null;
  // The end of the stretch: its last third, so one second does not decide.
  const tail = after.slice(-Math.max(1, Math.floor(after.length / 3)));
  const latencyOf = (p: SeriesPoint) => p.meanMs ?? p.p50Ms ?? null;
  // The latency the shop had before it saturated: the 20th percentile of the points below
  // the knee (queueing has begun by the knee, at 95 % of the capacity; a stall of a busy
  // machine must not raise it).
  const below = peak.slice(0, k).map(latencyOf).filter((x): x is number => x !== null && x > 0).sort((a, b) => a - b);
  const unloaded = below.length > 0 ? below[Math.floor(0.2 * (below.length - 1))]! : latencyOf(peak[k]!);
  const endInFlight = tail.map(inFlight).filter((x): x is number => x !== null);
  const endLatency = tail.map(latencyOf).filter((x): x is number => x !== null);
  if (unloaded === null || endInFlight.length === 0 || endLatency.length === 0) return null;
  // Little's law: at its capacity with that latency the shop holds capacity × latency requests; more in flight wait in a queue.
  const served = (capacity * unloaded) / 1000;
  if (mean(endInFlight) < IN_FLIGHT_RISE * served || mean(endLatency) < LATENCY_RISE * unloaded) return null;
  return { rps: capacity, vus: knee, index: k };
}

/**
 * Signs of strain without a limit found, so the run does not say the load set the pace: on
 * a growing load, the shop breached the C limits at some point, or its mean latency at the
 * peak is 1.5 × and 50 ms over its latency early on; on a steady load, it breached them on
 * at least a fifth of the points.
 */
export function strained(points: readonly SeriesPoint[]): boolean {
  const start = startOf(points);
  if (start < 0) return false;
  const peak = upToPeak(points);
  const settled = peak.map((_, i) => i).filter((i) => peak[i]!.t - POINT_WINDOW_MS >= peak[start]!.t);
  if (settled.length === 0) return false;
  const breaches = settled.filter((i) => shopBreached(peak, i) !== null).length;
  if (!settled.some((i) => growingLoad(peak, i))) return breaches >= 0.2 * settled.length;
  if (breaches > 0) return true;
  const latency = settled.map((i) => peak[i]!.meanMs ?? peak[i]!.p50Ms).filter((x): x is number => x !== null && x !== undefined);
  if (latency.length < 5) return false;
  const fifth = Math.max(1, Math.floor(latency.length / 5));
  const early = mean(latency.slice(0, fifth));
  const late = mean(latency.slice(-fifth));
  return late >= STRAIN_RISE * early && late - early >= STRAIN_MIN_MS;
}

export function capacity(points: readonly SeriesPoint[]): Capacity {
  const limit = saturation(points);
  const breaking = breakingPoint(points);
  const loadGrew = points.some((_, i) => growingLoad(points, i));
  return {
    breakingPointVus: breaking,
    throughputLimitRps: limit?.rps ?? null,
    throughputLimitVus: limit?.vus ?? null,
    maxVus: points.reduce((m, p) => Math.max(m, p.vus), 0),
    peakOkRps: peakOkRps(upToPeak(points)),
    loadGrew,
    strained: breaking === null && limit === null && strained(points),
  };
}

/** A run whose test is broken measured nothing of the shop: no limit, no break. */
export function unmeasured(points: readonly SeriesPoint[]): Capacity {
  return { breakingPointVus: null, throughputLimitRps: null, throughputLimitVus: null, maxVus: points.reduce((m, p) => Math.max(m, p.vus), 0), peakOkRps: null, loadGrew: false, strained: false, forecast: null };
}
