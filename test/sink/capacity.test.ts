import { describe, expect, it } from 'vitest';
import { breakingPoint, capacity, throughputLimit } from '../../sink/grade/capacity.ts';
import type { SeriesPoint } from '../../sink/grade/series.ts';

/**
 * A synthetic ramp, one point per second: VUs rise by one a second; the shop serves
 * `rps(vus)` requests/s and fails the share `errors(vus)` of them. Each point's figures
 * are over the 5 s before it, as series.ts makes them.
 */
function ramp(seconds: number, rps: (vus: number) => number, errors: (vus: number) => number, p95 = () => 100): SeriesPoint[] {
  const perSecond = Array.from({ length: seconds }, (_, i) => {
    const vus = i + 1;
    return { vus, requests: rps(vus), failed: rps(vus) * errors(vus) };
  });
  let requests = 0;
  let failed = 0;
  return perSecond.map((s, i) => {
    requests += s.requests;
    failed += s.failed;
    const window = perSecond.slice(Math.max(0, i - 4), i + 1);
    const windowRequests = window.reduce((n, w) => n + w.requests, 0);
    const windowFailed = window.reduce((n, w) => n + w.failed, 0);
    return {
      t: 1_000_000 + i * 1000,
      vus: s.vus,
      rps: windowRequests / window.length,
      okRps: (windowRequests - windowFailed) / window.length,
      p50Ms: 50,
      p95Ms: p95(),
      p99Ms: 200,
      errorRatio: windowFailed / windowRequests,
      checksRate: 1,
      requests,
      failed,
      grade: 'A',
      score: 100,
    };
  });
}

describe('the breaking point', () => {
  it('is the VUs where the errors began, not where the lagging 5 s window noticed them', () => {
    const points = ramp(100, (v) => Math.min(v, 80), (v) => (v >= 90 ? 0.05 : 0));
    expect(breakingPoint(points)).toBe(90);
  });

  it('is found when the break comes in the last seconds of the ramp', () => {
    const points = ramp(100, (v) => Math.min(v, 80), (v) => (v >= 97 ? 0.05 : 0));
    expect(breakingPoint(points)).toBe(97);
  });

  it('ignores a burst of errors the shop recovers from', () => {
    const points = ramp(100, (v) => v, (v) => (v >= 30 && v < 33 ? 0.2 : 0));
    expect(breakingPoint(points)).toBeNull();
  });

  it('counts a p95 over 2 s as a break at the VUs of the first slow window', () => {
    let second = 0;
    const points = ramp(60, (v) => v, () => 0, () => (++second >= 40 ? 2500 : 300));
    expect(breakingPoint(points)).toBe(40);
  });
});

describe('the throughput limit', () => {
  it('is the rate the shop tops out at, with the VUs at the knee', () => {
    const points = ramp(100, (v) => Math.min(v, 80), () => 0);
    const limit = throughputLimit(points);
    expect(limit?.rps).toBe(80);
    // The knee is placed from 5 s windows: within 5 % of the 80 VUs where the rate tops out.
    expect(Math.abs(limit!.vus - 80) / 80).toBeLessThanOrEqual(0.05);
  });

  it('counts only requests that did not fail', () => {
    const points = ramp(100, (v) => v, (v) => (v > 50 ? 1 - 50 / v : 0));
    expect(throughputLimit(points)?.rps).toBeCloseTo(50, 6);
  });

  it('is not reported while requests/s still grow with the VUs', () => {
    const points = ramp(60, (v) => 2 * v, () => 0);
    expect(capacity(points)).toEqual({ breakingPointVus: null, throughputLimitRps: null, throughputLimitVus: null, maxVus: 60 });
  });
  it('is not reported for a constant load whose first point came before the VUs started', () => {
    const steady = ramp(30, () => 100, () => 0).map((p, i) => ({ ...p, vus: i === 0 ? 0 : 10, rps: 100, okRps: 100 }));
    expect(throughputLimit(steady)).toBeNull();
  });
});
