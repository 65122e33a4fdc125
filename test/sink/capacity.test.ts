// Capacity from a run's points (sink/grade/capacity.ts) on synthetic runs whose truth is
// known: a closed loop of VUs (think time T) against a shop of C workers of S ms each that
// answers 503 after Q ms in its queue, worked out by mean-value analysis second by second.
// Real ramps against real targets are test/integration/capacity.test.ts and sentences.test.ts.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { breakingPoint, capacity, growingLoad, inFlight, saturation, shopErrorRatio } from '../../sink/grade/capacity.ts';
import type { SeriesPoint } from '../../sink/grade/series.ts';

interface Shop {
  /** Workers, service time and queue timeout (ms). */
  c: number;
  s: number;
  q: number;
}

/** One second of a closed loop of `vus` VUs thinking `thinkMs` against the shop: what it completes, fails, and how long requests take. */
function second(shop: Shop, vus: number, thinkMs: number): { requests: number; failed: number; meanMs: number; p95Ms: number } {
  const capacity = (shop.c * 1000) / shop.s;
  const free = (vus * 1000) / (shop.s + thinkMs);
  if (free <= capacity) return { requests: free, failed: 0, meanMs: shop.s, p95Ms: shop.s * 1.2 };
  // Queueing: the wait that makes the loop's rate the shop's.
  const wait = (vus * shop.s) / shop.c - shop.s - thinkMs;
  if (wait <= shop.q) return { requests: capacity, failed: 0, meanMs: shop.s + wait, p95Ms: (shop.s + wait) * 1.2 };
  // Past the queue's timeout: ok requests wait Q, the rest wait Q and fail.
  const failing = (vus * 1000 - capacity * (shop.s + shop.q + thinkMs)) / (shop.q + thinkMs);
  const requests = capacity + failing;
  return { requests, failed: failing, meanMs: (capacity * (shop.s + shop.q) + failing * shop.q) / requests, p95Ms: (shop.s + shop.q) * 1.1 };
}

interface RunShape {
  seconds: number;
  vus: (second: number) => number;
  /** Per second: what the shop did, and what of the failures was the test's (refused, 404). */
  shop: (vus: number, second: number) => { requests: number; failed: number; meanMs: number; p95Ms: number };
  testFailedShare?: number;
}

/** The points series.ts makes: one a second, rates and latencies over the 5 s before it, totals so far. */
function run(shape: RunShape): SeriesPoint[] {
  const seconds = Array.from({ length: shape.seconds }, (_, i) => {
    const vus = shape.vus(i);
    return { vus, ...shape.shop(vus, i) };
  });
  let requests = 0;
  let failed = 0;
  let shopFailed = 0;
  return seconds.map((s, i) => {
    requests += s.requests;
    failed += s.failed;
    shopFailed += s.failed * (1 - (shape.testFailedShare ?? 0));
    const window = seconds.slice(Math.max(0, i - 4), i + 1);
    const wRequests = window.reduce((n, w) => n + w.requests, 0);
    const wFailed = window.reduce((n, w) => n + w.failed, 0);
    const wMean = wRequests > 0 ? window.reduce((n, w) => n + w.meanMs * w.requests, 0) / wRequests : null;
    return {
      t: 1_000_000 + i * 1000,
      vus: s.vus,
      rps: wRequests / window.length,
      okRps: (wRequests - wFailed) / window.length,
      p50Ms: wMean,
      p95Ms: Math.max(...window.map((w) => w.p95Ms)),
      p99Ms: null,
      errorRatio: wRequests > 0 ? wFailed / wRequests : null,
      checksRate: 1,
      requests,
      failed,
      shopFailed,
      meanMs: wMean,
      grade: 'A',
      score: 100,
    };
  });
}

/** A ramp from 0 to `peak` VUs over `up` seconds, a hold of `hold` seconds, then down in 5. */
const rampVus = (peak: number, up: number, hold: number) => (i: number) =>
  i < up ? Math.ceil((peak * (i + 1)) / up) : i < up + hold ? peak : Math.max(0, Math.round(peak * (1 - (i - up - hold + 1) / 5)));

const SHOP: Shop = { c: 4, s: 50, q: 100 };
const THINK = 1000;
// Saturation at C·(S+T)/S = 84 VUs and 80 requests/s; errors from C/S·(S+Q+T) = 92 VUs.
const saturating = (peak = 120, up = 100, hold = 20) => run({ seconds: up + hold + 5, vus: rampVus(peak, up, hold), shop: (v) => second(SHOP, v, THINK) });

describe('the throughput limit', () => {
  it('is where requests/s stay flat while requests in flight and latency rise: the shop saturates', () => {
    const points = saturating();
    const limit = saturation(points);
    expect(limit?.rps).toBeCloseTo(80, 6);
    expect(Math.abs(limit!.vus - 84) / 84).toBeLessThanOrEqual(0.1);
    // Little's law: in flight at the end of the ramp is many times the knee's.
    expect(inFlight(points[110]!)! / inFlight(points[limit!.index]!)!).toBeGreaterThan(1.3);
  });

  it('is not claimed when requests/s are flat only because the load stopped growing', () => {
    // The demo shop's default ramp: 20 VUs, a second of think time, 2 ms pages; the ramp holds at its peak.
    const fast: Shop = { c: 64, s: 2, q: 1000 };
    const points = run({ seconds: 30, vus: rampVus(20, 18, 9), shop: (v) => second(fast, v, 1000) });
    expect(saturation(points)).toBeNull();
    expect(capacity(points)).toMatchObject({ breakingPointVus: null, throughputLimitRps: null, maxVus: 20, loadGrew: true, strained: false });
    expect(capacity(points).peakOkRps).toBeGreaterThan(19);
  });

  it('is not claimed for a real ramp against django-oscar that ended at 20 users while its rate still grew with them', () => {
    // The sink's own points of `ramp --url <oscar product> --vus 20 --duration 40s` (from its
    // report): a second of think time, 26 ms pages at first and 34 ms on the busy 2-core
    // machine at the end; k6's raw samples have the requests/s equal to the VUs all the way,
    // 18–20 a second at 20 VUs. Only the ramp stopped: the window's lag put the knee at 18.
    for (const file of ['oscar-ramp-to-20-vus.json', 'oscar-ramp-to-20-vus-slower-pages.json']) {
      const points = JSON.parse(readFileSync(new URL(`../fixtures/capacity/${file}`, import.meta.url), 'utf8')) as SeriesPoint[];
      expect(Math.max(...points.map((p) => p.vus)), file).toBe(20);
      expect(saturation(points), file).toBeNull();
      expect(capacity(points), file).toMatchObject({ breakingPointVus: null, throughputLimitRps: null, maxVus: 20, loadGrew: true });
    }
  });

  it('is not claimed for a hold on a fast shop whose latency jumps on a busy machine', () => {
    const fast: Shop = { c: 64, s: 2, q: 1000 };
    // Stalls of a busy machine: during the hold the mean latency triples.
    const points = run({ seconds: 30, vus: rampVus(20, 18, 9), shop: (v, i) => ({ ...second(fast, v, 100), ...(i >= 20 ? { meanMs: 6, p95Ms: 9 } : {}) }) });
    expect(saturation(points)).toBeNull();
  });

  it('takes the shop\'s latency below the knee from its quiet seconds, so a stall early on does not hide the queue', () => {
    const points = run({ seconds: 125, vus: rampVus(120, 100, 20), shop: (v, i) => (i >= 12 && i < 60 ? { ...second(SHOP, v, THINK), meanMs: 200 } : second(SHOP, v, THINK)) });
    expect(saturation(points)?.rps).toBeCloseTo(80, 6);
  });

  it('is not claimed while requests/s still grow with the VUs, however the latency jitters', () => {
    let i = 0;
    const jitter = () => (++i % 7 === 0 ? 40 : 5);
    const points = run({ seconds: 60, vus: rampVus(60, 60, 0), shop: (v) => ({ requests: 2 * v, failed: 0, meanMs: jitter(), p95Ms: 50 }) });
    expect(saturation(points)).toBeNull();
  });

  it('is not claimed for a constant load, whatever the shop does', () => {
    const points = run({ seconds: 30, vus: (i) => (i === 0 ? 0 : 120), shop: (v) => second(SHOP, v, THINK) });
    expect(saturation(points)).toBeNull();
    expect(points.some((_, k) => growingLoad(points, k))).toBe(false);
  });
});

describe('the breaking point', () => {
  it('is the VUs where the shop\'s errors began on a growing load, not where the lagging 5 s window noticed them', () => {
    expect(breakingPoint(saturating())).toBe(93);
  });

  it('is found when the break comes in the last seconds of the ramp', () => {
    expect(breakingPoint(saturating(96, 96, 10))).toBe(93);
  });

  it('ignores a burst of errors the shop recovers from', () => {
    const points = run({ seconds: 100, vus: rampVus(100, 100, 0), shop: (v) => ({ requests: v, failed: v >= 30 && v < 33 ? 0.2 * v : 0, meanMs: 20, p95Ms: 30 }) });
    expect(breakingPoint(points)).toBeNull();
  });

  it('counts a p95 over 2 s as a break at the VUs of the first slow window', () => {
    const points = run({ seconds: 60, vus: rampVus(60, 60, 0), shop: (v) => ({ requests: v, failed: 0, meanMs: 300, p95Ms: v >= 40 ? 2500 : 300 }) });
    expect(breakingPoint(points)).toBe(40);
  });

  it('is not found in failures of the test\'s own making: refused connections and 404s are not the shop breaking', () => {
    const points = run({ seconds: 60, vus: rampVus(60, 60, 0), shop: (v) => ({ requests: v, failed: v >= 20 ? v : 0, meanMs: 1, p95Ms: 2 }), testFailedShare: 1 });
    expect(points.at(-1)!.errorRatio).toBe(1);
    expect(shopErrorRatio(points, 59)).toBe(0);
    expect(breakingPoint(points)).toBeNull();
  });

  it('is not found on a constant load that fails from its start: the load never grew into a break', () => {
    const points = run({ seconds: 20, vus: (i) => (i === 0 ? 3 : 5), shop: (v) => ({ requests: 10 * v, failed: 5 * v, meanMs: 10, p95Ms: 20 }) });
    expect(breakingPoint(points)).toBeNull();
    expect(capacity(points)).toMatchObject({ breakingPointVus: null, throughputLimitRps: null, loadGrew: false, strained: true });
  });
});

describe('strain without a limit found', () => {
  it('is told apart from a load that set the pace when the latency climbed as the load grew', () => {
    const points = run({ seconds: 40, vus: rampVus(40, 40, 0), shop: (v) => ({ requests: 5 * v, failed: 0, meanMs: 20 + 10 * v, p95Ms: 40 + 12 * v }) });
    expect(capacity(points)).toMatchObject({ breakingPointVus: null, throughputLimitRps: null, strained: true });
  });
});
