// The capacity model's arithmetic and its verdict's words, against figures whose answer is
// known: the law's fit on points drawn from the law itself, and the expected peak against a
// forecast on each side of its band. Whether real ramps give the right model and the right
// sentence is test/integration/forecast.test.ts.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fitUsl, usl, uslPeak } from '../../sink/grade/usl.ts';
import { forecast } from '../../sink/grade/forecast.ts';
import { expectationOf } from '../../report/forecast.ts';
import { expectationSentence, forecastSentence, verdictOf } from '../../report/sentences.ts';
import type { CapacityJson, ForecastJson, SeriesPointJson } from '../../contract/sink-api.ts';

const LAW = { lambda: 10, sigma: 0.05, kappa: 0.02 };

/** A small seeded generator: the same scatter every run. */
function scatter(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return a / 2 ** 31 - 0.5;
  };
}

describe('the Universal Scalability Law fit', () => {
  it('recovers the law\'s peak from points drawn from it with 5 % scatter, past the peak', () => {
    const next = scatter(7);
    const points = Array.from({ length: 30 }, (_, i) => {
      const n = 0.5 + i * 0.5;
      return { n, x: usl(LAW, n) * (1 + 0.1 * next()) };
    });
    const fit = fitUsl(points)!;
    const truth = uslPeak(LAW);
    expect(Math.abs(uslPeak(fit).n - truth.n) / truth.n).toBeLessThan(0.1);
    expect(Math.abs(uslPeak(fit).x - truth.x) / truth.x).toBeLessThan(0.05);
    expect(fit.r2).toBeGreaterThan(0.9);
  });

  it('keeps σ and κ at zero or more for a shop that scales linearly, and has no peak then', () => {
    const fit = fitUsl(Array.from({ length: 10 }, (_, i) => ({ n: i + 1, x: 8 * (i + 1) })))!;
    expect(fit.sigma).toBeGreaterThanOrEqual(0);
    expect(fit.kappa).toBeGreaterThanOrEqual(0);
    expect(uslPeak(fit).n).toBeGreaterThan(10);
  });
});

/**
 * A ramp's series against a shop of C/S = 100 requests/s (S 50 ms a request, VUs thinking
 * 200 ms between requests: saturated from 25 VUs), VUs from 2 to `topVus` over 15 s, as the
 * sink keeps it with native histograms (summed durations at every point). `noise` scatters
 * each second's throughput and requests in flight apart (seeded), as a busy machine's
 * pushes do.
 */
function rampSeries(topVus: number, noise = 0, seed = 3): SeriesPointJson[] {
  const next = scatter(seed);
  const points: SeriesPointJson[] = [];
  let requests = 0;
  let sumMs = 0;
  for (let i = 0; i <= 15; i++) {
    const vus = Math.round(2 + ((topVus - 2) * Math.min(i, 12)) / 12);
    const x = Math.min(vus / 0.25, 100) * (1 + noise * next());
    const n = (vus / 0.25 <= 100 ? (vus / 0.25) * 0.05 : vus - 100 * 0.2) * (1 + noise * next());
    if (i > 0) {
      requests += x;
      sumMs += n * 1000;
    }
    points.push({ t: i * 1000, vus, rps: x, okRps: x, p50Ms: null, p95Ms: null, p99Ms: null, errorRatio: 0, checksRate: null, requests, failed: 0, durationSumMs: sumMs, durationCount: requests, grade: 'A', score: 100 });
  }
  return points;
}

describe('the capacity model of a ramp', () => {
  it('predicts C/S within 10 % from a ramp past saturation, with a band that holds it, the same band every time', () => {
    const f = forecast(rampSeries(50))!;
    expect(f.kind).toBe('peak');
    expect(Math.abs(f.peakRps! - 100) / 100).toBeLessThanOrEqual(0.1);
    expect(f.lowRps!).toBeLessThanOrEqual(100);
    expect(f.highRps!).toBeGreaterThanOrEqual(100);
    expect(forecast(rampSeries(50))).toEqual(f);
  });

  it('gives a floor no higher than what the ramp served for a ramp that stays in the linear part', () => {
    const f = forecast(rampSeries(12))!;
    expect(f).toMatchObject({ kind: 'floor', peakRps: null, highRps: null });
    expect(f.lowRps!).toBeGreaterThan(0);
    expect(f.lowRps!).toBeLessThanOrEqual(48);
  });

  it('gives a floor, not a peak with a band to several times it, for a noisy ramp in the linear part', () => {
    // Unguarded, the law fits these seconds a peak near 52 requests/s "95 % likely between 31 and 427".
    const f = forecast(rampSeries(12, 0.6, 4))!;
    expect(f).toMatchObject({ kind: 'floor', peakRps: null, highRps: null });
    expect(f.lowRps!).toBeLessThanOrEqual(48 * 1.3);
  });

  it.each(['oscar-ramp-to-20-vus.json', 'oscar-ramp-to-20-vus-slower-pages.json'])("gives a floor for a real ramp against django-oscar whose pages got slower on a busy machine while every user kept a second's pace (%s)", (file) => {
    // The sink's own points of two such ramps (from their reports): pages of 26 and 30 ms at
    // first became 34 and 50 ms, which bends the curve of requests in flight into a peak near
    // one of them (1.1 in the second), while k6's raw samples have the requests/s equal to the
    // VUs all the way to 20.
    // Without the pace rule the second gave "Will not hold: the shop tops out near 21 users".
    const points = JSON.parse(readFileSync(new URL(`../fixtures/capacity/${file}`, import.meta.url), 'utf8')) as SeriesPointJson[];
    const f = forecast(points)!;
    expect(f).toMatchObject({ kind: 'floor', peakRps: null, highRps: null });
    expect(f.lowRps!).toBeGreaterThan(17);
    expect(f.lowRps!).toBeLessThanOrEqual(20);
    expect(forecastSentence(f)).not.toMatch(/tops out/);
  });
});

const PEAK: ForecastJson = {
  kind: 'peak', peakRps: 120, peakVus: 30, lowRps: 110, highRps: 130, lowVus: 27.5, highVus: 32.5, peakConcurrency: 6,
  lambda: 20, sigma: 0.05, kappa: 0.01, r2: 0.95, points: 14, usersPerRps: 0.25,
};
const FLOOR: ForecastJson = { ...PEAK, kind: 'floor', peakRps: null, peakVus: null, lowRps: 40, highRps: null, lowVus: 10, highVus: null, peakConcurrency: null };

describe('will it hold the promo', () => {
  it('holds below the band, is at risk inside it, will not hold above it', () => {
    expect(expectationOf(PEAK, { users: 20 })).toEqual({ users: 20, verdict: 'holds', headroomPct: 50 });
    expect(expectationOf(PEAK, { users: 30 }).verdict).toBe('at-risk');
    expect(expectationOf(PEAK, { rps: 125 }).verdict).toBe('at-risk');
    expect(expectationOf(PEAK, { users: 40 })).toEqual({ users: 40, verdict: 'will-not-hold', headroomPct: -25 });
  });

  it('says the shop holds up to a floor and is at risk past it: the ramp never went that far', () => {
    expect(expectationOf(FLOOR, { users: 8 }).verdict).toBe('holds');
    expect(expectationOf(FLOOR, { users: 20 }).verdict).toBe('at-risk');
  });

  it('says "Holds … took the pace" for a floor the expected peak is within, and not past it', () => {
    const within = expectationSentence(expectationOf(FLOOR, { users: 8 }), FLOOR, 10);
    expect(within).toBe('Holds: the shop took the pace of the expected 8 users in this test, with at least 25 % headroom (at least 40.0 requests/s).');
    expect(expectationSentence(expectationOf(FLOOR, { users: 20 }), FLOOR, 10)).not.toMatch(/^Holds/);
    expect(expectationSentence(expectationOf(PEAK, { users: 20 }), PEAK)).not.toContain('took the pace');
  });

  it('says "Cannot tell" when the run gave no model, and never when it gave one', () => {
    const none = expectationOf(null, { users: 60 });
    expect(none).toEqual({ users: 60, verdict: 'unknown', headroomPct: null });
    expect(expectationSentence(none, null)).toBe('Cannot tell whether the shop holds the expected 60 users: this test gave no capacity forecast; a ramp past them gives one.');
    for (const f of [PEAK, FLOOR]) for (const users of [8, 30, 60]) expect(expectationSentence(expectationOf(f, { users }), f, 10)).not.toMatch(/^Cannot tell/);
  });

  it('words a peak and a floor apart', () => {
    expect(forecastSentence(PEAK)).toBe('Forecast: the shop tops out near 120 requests/s, the pace of about 30 users of this test (95 % likely between 110 and 130 requests/s).');
    expect(forecastSentence(FLOOR)).toBe('Forecast: at least 40.0 requests/s, the pace of about 10 users of this test: the shop kept up with all the load, so its limit lies further.');
  });

  it('never says a floor "kept up with all the load" of a ramp that broke or topped out, and says it of one that did neither', () => {
    const capacity = (c: Partial<CapacityJson>): CapacityJson => ({ breakingPointVus: null, throughputLimitRps: null, throughputLimitVus: null, maxVus: 20, peakOkRps: 40, loadGrew: true, strained: false, forecast: FLOOR, ...c });
    const run = (c: CapacityJson) => verdictOf({ grade: { letter: 'B', colour: 'green' }, requests: 900, failures: null, capacity: c, ending: null, finished: true, expectation: expectationOf(FLOOR, { users: 50 }) });
    for (const c of [capacity({ breakingPointVus: 15 }), capacity({ throughputLimitRps: 40, throughputLimitVus: 12 })]) {
      const v = run(c);
      expect(v.forecast).toBe('Forecast: no model of the shop\'s limit from this ramp; it served at least 40.0 requests/s, the pace of about 10 users of this test.');
      expect(v.expectation).toBe('At risk: not proven for the expected 50 users: the test found the shop\'s limit, but no model of it (at least 40.0 requests/s); a longer ramp past 50 users would tell.');
    }
    const easy = run(capacity({}));
    expect(easy.forecast).toMatch(/the shop kept up with all the load/);
    expect(easy.expectation).toMatch(/without finding the shop's limit/);
    expect(easy.forecast).not.toMatch(/no model/);
  });
});
