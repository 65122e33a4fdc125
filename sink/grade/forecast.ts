// The capacity model of a ramp (issue 22, docs/capacity.md): the Universal Scalability Law
// (usl.ts) fitted to the run's seconds, a 95 % band from a bootstrap over them, and a floor
// instead of a number when the ramp never left the shop's linear part.
//
// The points. N is the concurrency the shop sees: requests in flight, by Little's law. Not
// the VUs: a VU spends most of a journey thinking, not in the shop, and how long depends on
// the scenario, so the same shop gives another curve of VUs for every journey; requests in
// flight are the shop's own load (and the law's N). With native histograms every point of
// the series carries the run's summed request durations so far (durationSumMs), so between
// two points N = Δsum / Δt exactly, and X = Δ(requests that did not fail) / Δt: a point a
// second, no smoothing. Without them (trend stats) each point's 5 s window stands in: N by
// Little's law from its rate and median, X its rate of requests that did not fail.
//
// The users. "Will it hold 5,000 users?" asks for users, so the forecast maps requests/s to
// users at the ramp's own pace with the shop unloaded: u = R₀ + z seconds per request per
// user, R₀ the shop's unloaded latency (the 10th percentile of the seconds' N / X), z the
// journey's time between requests (the median over the seconds of (VUs − N) / X). peakVus =
// peakRps × u: the users whose pace asks the shop for its peak; more users only queue.
//
// Worked out when read (RunState.capacity(), cached per batch), never on the ingest path.
import type { ForecastJson } from '../../contract/sink-api.ts';
import { inFlight, upToPeak } from './capacity.ts';
import { POINT_WINDOW_MS, type SeriesPoint } from './series.ts';
import { fitUsl, usl, uslPeak, type UslFit, type UslParams, type UslPoint } from './usl.ts';

/** One second of the ramp, as the fit and the users' mapping take it. */
export interface ForecastPoint extends UslPoint {
  /** All completed requests/s, failed ones too: the pace the VUs kept. */
  xAll: number;
  /** The VUs over the second. */
  vus: number;
  /** The VUs held steady over it and the second before: k6 counts VUs once a second, so on a ramp they lag the requests. */
  steady: boolean;
}

/** The bootstrap: resamples, and the seed of its generator (the same points always give the same band). */
export const BOOTSTRAP_RESAMPLES = 200;
export const BOOTSTRAP_SEED = 22;
/** A peak no further than this many times the most requests in flight measured, or one whose throughput the ramp came within NEAR_PEAK of: the ramp reached it. Past it, a floor. */
const PEAK_REACH = 1.25;
const NEAR_PEAK = 0.9;
/** A band whose low end is under this share of its peak, or whose high end is over its peak over it (twice), is too wide to plan with: a floor instead. */
const TRUSTED_BAND = 0.5;
/** Fewer seconds than this on a ramp: no model. */
const MIN_POINTS = 5;
/**
 * At the end of the ramp the users kept at least this share of their own pace (their
 * requests/s with the shop unloaded): the shop held none of them back, so the ramp never
 * left its linear part as the users see it, and a floor is all it shows.
 */
const PACE_KEPT = 0.9;

/** The VUs at time t: those of the last point at or before it. */
function vusAt(points: readonly SeriesPoint[], t: number): number {
  let vus = 0;
  for (const p of points) {
    if (p.t > t) break;
    vus = p.vus;
  }
  return vus;
}

/**
 * The ramp's seconds, up to the end of its peak (not the ramp down): from the summed
 * durations between points when the series has them, else from each point's window.
 */
export function forecastPoints(series: readonly SeriesPoint[]): ForecastPoint[] {
  const points = upToPeak(series);
  const out: ForecastPoint[] = [];
  const exact = points.length > 1 && points.every((p) => p.durationSumMs !== undefined && p.durationCount !== undefined);
  if (exact) {
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1]!;
      const b = points[i]!;
      const dt = (b.t - a.t) / 1000;
      const count = b.durationCount! - a.durationCount!;
      if (!(dt > 0) || !(count > 0)) continue;
      const xAll = (b.requests - a.requests) / dt;
      const x = Math.max(0, xAll - (b.failed - a.failed) / dt);
      const n = (b.durationSumMs! - a.durationSumMs!) / 1000 / dt;
      const vus = (a.vus + b.vus) / 2;
      const steady = i >= 2 && points[i - 2]!.vus === a.vus && a.vus === b.vus;
      if (n > 0 && xAll > 0 && vus > 0) out.push({ n, x, xAll, vus, steady });
    }
    return out;
  }
  for (const p of points) {
    const n = inFlight(p);
    // The window's rate answers the load of its middle.
    const vus = vusAt(points, p.t - POINT_WINDOW_MS / 2) || p.vus;
    const steady = vusAt(points, p.t - POINT_WINDOW_MS) === p.vus;
    if (n !== null && n > 0 && p.rps !== null && p.rps > 0 && p.okRps !== null && vus > 0) out.push({ n, x: p.okRps, xAll: p.rps, vus, steady });
  }
  return out;
}

/** A small seeded generator (mulberry32): the bootstrap draws the same resamples every time. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The q-quantile of sorted values (linear between ranks). */
function quantile(sorted: readonly number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

const median = (values: number[]) => quantile([...values].sort((a, b) => a - b), 0.5);

/**
 * Users per request/s at the ramp's pace with the shop unloaded: its unloaded latency (the
 * 10th percentile of the seconds' N / X) plus the journey's time between requests (each VU
 * is in the shop or between requests: (VUs − N) / X, the median over the seconds whose VUs
 * held steady, as they do at a ramp's peak, else over every second).
 */
function usersPerRps(points: readonly ForecastPoint[]): number {
  const latency = points.map((p) => p.n / p.xAll).sort((a, b) => a - b);
  const unloaded = quantile(latency, 0.1);
  const steady = points.filter((p) => p.steady);
  const between = Math.max(0, median((steady.length >= 2 ? steady : points).map((p) => (p.vus - p.n) / p.xAll)));
  return unloaded + between;
}

/**
 * The share of their own pace the users kept over the last quarter of the ramp: the
 * requests/s served (that did not fail: a shop that fails fast holds the users back too)
 * against those the VUs ask for at u seconds per request per user (the shop unloaded). A
 * shop that saturates holds the users back (0.5 at twice its capacity);
 * one that only got a little slower keeps nearly all of it, whatever the law's curve of
 * requests in flight says: on a real ramp against django-oscar, 30 ms pages becoming 50 ms
 * on a busy machine bent that curve into a peak at 1.1 requests in flight, while every user
 * was served at a second's think time.
 */
function paceKept(points: readonly ForecastPoint[], u: number): number {
  const tail = points.slice(-Math.max(1, Math.ceil(points.length / 4)));
  let served = 0;
  let users = 0;
  for (const p of tail) {
    served += p.x;
    users += p.vus;
  }
  return (served * u) / users;
}

/** Whether a fit's peak lies within the ramp's reach: at most 1.25 × the most requests in flight it measured, or a throughput it came within 10 % of. */
function reached(fit: UslParams, maxN: number): boolean {
  const peak = uslPeak(fit);
  if (!Number.isFinite(peak.x)) return false;
  return peak.n <= PEAK_REACH * maxN || usl(fit, maxN) >= NEAR_PEAK * peak.x;
}

/** The 2.5th and 97.5th percentiles of the peaks of fits to resamples of the points (Infinity for a resample whose throughput never levels off). */
function bootstrap(points: readonly ForecastPoint[], fit: UslFit): { low: number; high: number } {
  const next = random(BOOTSTRAP_SEED);
  const peaks: number[] = [];
  const sample: UslPoint[] = new Array(points.length);
  for (let b = 0; b < BOOTSTRAP_RESAMPLES; b++) {
    for (let i = 0; i < points.length; i++) sample[i] = points[Math.floor(next() * points.length)]!;
    const f = fitUsl(sample, fit);
    if (f) peaks.push(uslPeak(f).x);
  }
  peaks.sort((a, b) => a - b);
  return { low: quantile(peaks, 0.025), high: quantile(peaks, 0.975) };
}

/** Seconds a floor's throughput is held over: one second's count swings with k6's push timing, three seldom claim more than the shop served. */
const SUSTAINED_POINTS = 3;

/** The ok requests/s of each run of SUSTAINED_POINTS seconds (their mean): what the shop kept up, not a second's swing. */
function sustained(points: readonly ForecastPoint[]): number[] {
  const out: number[] = [];
  for (let i = SUSTAINED_POINTS - 1; i < points.length; i++) {
    let sum = 0;
    for (let j = i - SUSTAINED_POINTS + 1; j <= i; j++) sum += points[j]!.x;
    out.push(sum / SUSTAINED_POINTS);
  }
  return out;
}

/** At most this many points go into a fit: a long run's seconds are taken a few at a time. */
const MAX_FIT_POINTS = 120;

/**
 * The capacity model of the ramp whose points these are; null with fewer than five seconds
 * of it. A peak when the fit's peak is within the ramp's reach (reached()) and the
 * bootstrap bounds it; its band is the bootstrap's 95 % interval of the peak widened by the
 * seconds' scatter around the curve (1.96 × their RMS residual), so it holds the model's
 * misfit as well as the fit's uncertainty (a hard limit's sharp knee is not the law's
 * smooth curve). Otherwise a floor: the ramp never left the shop's linear part (or the fit
 * is no better than that: its peak below what the ramp kept up, or its band from under half
 * its peak or to over twice it, or the users kept 90 % of their pace to the end), and the
 * most it kept up (the 90th percentile of its ok requests/s over three seconds running) is
 * all it shows.
 */
export function forecast(series: readonly SeriesPoint[]): ForecastJson | null {
  const all = forecastPoints(series);
  const step = Math.ceil(all.length / MAX_FIT_POINTS);
  const points = step > 1 ? forecastPoints(series.filter((_, i) => i % step === 0)) : all;
  if (points.length < MIN_POINTS) return null;
  const fit = fitUsl(points);
  if (!fit) return null;
  const u = usersPerRps(points);
  const maxN = Math.max(...points.map((p) => p.n));
  const peak = uslPeak(fit);
  const model = { lambda: fit.lambda, sigma: fit.sigma, kappa: fit.kappa, r2: fit.r2, points: points.length, usersPerRps: u };
  const floor = quantile(sustained(points).sort((a, b) => a - b), 0.9);
  const band = reached(fit, maxN) ? bootstrap(points, fit) : null;
  const scatter = 1.96 * Math.sqrt(fit.sse / Math.max(1, points.length - 3));
  const low = band ? Math.max(0, peak.x - Math.hypot(Math.max(0, peak.x - band.low), scatter)) : 0;
  const high = band ? peak.x + Math.hypot(Math.max(0, band.high - peak.x), scatter) : Infinity;
  // A peak the ramp itself served more than, or one whose band reaches down to half of it or up to twice it, says nothing the floor does not;
  // nor does one of a ramp whose users all kept their pace.
  if (band === null || !Number.isFinite(high) || peak.x < NEAR_PEAK * floor || low < TRUSTED_BAND * peak.x || high > peak.x / TRUSTED_BAND || paceKept(points, u) >= PACE_KEPT) {
    return { kind: 'floor', peakRps: null, peakVus: null, lowRps: floor, highRps: null, lowVus: floor * u, highVus: null, peakConcurrency: null, ...model };
  }
  return {
    kind: 'peak',
    peakRps: peak.x,
    peakVus: peak.x * u,
    lowRps: low,
    highRps: high,
    lowVus: low * u,
    highVus: high * u,
    peakConcurrency: Number.isFinite(peak.n) ? peak.n : null,
    ...model,
  };
}
