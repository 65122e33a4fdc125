import { describe, expect, it } from 'vitest';
import { DEFAULT_BANDS, bandScore, colourFor, formatGrade, grade, latencyScore, errorScore, limitsFor } from '../../lib/grade.ts';

describe('the grade', () => {
  it('gives "A (97/100)" for a p95 of 650 ms with no errors', () => {
    expect(formatGrade(grade({ p95Ms: 650, errorRatio: 0 }))).toBe('A (97/100)');
  });

  it.each(DEFAULT_BANDS.latency.map(([x, y]) => [x, y]))('scores a p95 of exactly %d ms as %d', (p95, score) => {
    expect(latencyScore(p95)).toBe(score);
  });

  it.each(DEFAULT_BANDS.errors.map(([x, y]) => [x, y]))('scores an error ratio of exactly %d as %d', (ratio, score) => {
    expect(errorScore(ratio)).toBe(score);
  });

  it('interpolates linearly between band points', () => {
    expect(latencyScore(1500)).toBe(80);
    expect(latencyScore(4000)).toBe(35);
    expect(latencyScore(7500)).toBe(10);
    expect(errorScore(0.03)).toBeCloseTo(55, 10);
    expect(errorScore(0.075)).toBeCloseTo(20, 10);
  });

  it('scores 0 beyond the last band point', () => {
    expect(latencyScore(10_001)).toBe(0);
    expect(latencyScore(60_000)).toBe(0);
    expect(errorScore(0.5)).toBe(0);
    expect(errorScore(1)).toBe(0);
  });

  it('takes the floor of the lower of the two scores', () => {
    const g = grade({ p95Ms: 1234, errorRatio: 0.002 });
    expect(g.latencyScore).toBeCloseTo(85.32, 10);
    expect(g.errorScore).toBeCloseTo(87.777, 2);
    expect(g.score).toBe(85);
    expect(g.letter).toBe('B');
  });

  it.each([
    [90, 'A'], [89.999, 'B'], [80, 'B'], [79.5, 'C'], [70, 'C'], [69.99, 'D'], [50, 'D'], [49.9, 'F'], [0, 'F'],
  ] as const)('gives a score of %d the letter %s', (score, letter) => {
    // Pick the p95 that yields this latency score in the 1000–10000 ms range, no errors.
    let lo = 0;
    let hi = 10_000;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (latencyScore(mid) >= score) lo = mid;
      else hi = mid;
    }
    expect(grade({ p95Ms: lo, errorRatio: 0 }).letter).toBe(letter);
  });

  it('holds an A exactly when p95 ≤ 1000 ms and errors ≤ 0.1 %', () => {
    for (const p95 of [0, 500, 999.9, 1000, 1000.001, 1001, 1500]) {
      for (const ratio of [0, 0.0001, 0.00099, 0.001, 0.0010001, 0.002]) {
        expect(grade({ p95Ms: p95, errorRatio: ratio }).letter === 'A', `p95 ${p95} errors ${ratio}`).toBe(p95 <= 1000 && ratio <= 0.001);
      }
    }
  });

  it('turns red exactly when p95 > 2000 ms or errors > 1 %', () => {
    for (const p95 of [0, 1999, 2000, 2000.001, 2001, 5000]) {
      for (const ratio of [0, 0.005, 0.01, 0.0100001, 0.02]) {
        expect(grade({ p95Ms: p95, errorRatio: ratio }).colour === 'red', `p95 ${p95} errors ${ratio}`).toBe(p95 > 2000 || ratio > 0.01);
      }
    }
  });

  it('colours A green, B and C orange, D and F red', () => {
    expect(['A', 'B', 'C', 'D', 'F', 'N/A'].map((l) => colourFor(l as never))).toEqual(['green', 'orange', 'orange', 'red', 'red', 'grey']);
  });

  it('gives N/A without requests or without a p95', () => {
    expect(formatGrade(grade({ p95Ms: 100, errorRatio: 0, requests: 0 }))).toBe('N/A');
    expect(grade({ p95Ms: NaN, errorRatio: 0 })).toMatchObject({ letter: 'N/A', colour: 'grey', reason: 'no p95 of http_req_duration' });
  });

  it('accepts a configured band table', () => {
    const strict = { ...DEFAULT_BANDS, latency: [[0, 100], [200, 100], [400, 0]] as const };
    expect(grade({ p95Ms: 300, errorRatio: 0 }, strict).score).toBe(50);
  });

  it('derives the largest p95 and error ratio that still earn each letter', () => {
    expect(limitsFor('A')).toEqual({ p95Ms: 1000, errorRatio: 0.001 });
    expect(limitsFor('C')).toEqual({ p95Ms: 2000, errorRatio: 0.01 });
    expect(limitsFor('B')).toEqual({ p95Ms: 1500, errorRatio: expect.closeTo(0.0055, 10) });
    expect(limitsFor('D').p95Ms).toBe(3000);
    expect(limitsFor('D').errorRatio).toBeCloseTo(0.0366667, 6);
  });

  it('rejects an empty band', () => {
    expect(() => bandScore([], 1)).toThrow('A grade band needs at least one point.');
  });
});
