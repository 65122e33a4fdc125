// The charts' arithmetic without a browser: requests/s per push interval, where a line's
// label may go, and what a chart says under itself. test/integration/chart-pixels.test.ts
// checks the drawn result in Chromium.
import { describe, expect, it } from 'vitest';
import { chartColumns, chartNote, ratePerPush } from '../../report/charts.ts';
import { freePlace, labelCandidates, segmentHitsBox, seriesSegments, type Box } from '../../report/chart-labels.ts';
import type { SeriesPointJson } from '../../contract/sink-api.ts';

const point = (t: number, requests: number, rps: number | null = null): SeriesPointJson => ({
  t, vus: 1, rps, okRps: rps, p50Ms: 1, p95Ms: 2, p99Ms: 3, errorRatio: 0, checksRate: null, requests, failed: 0, grade: 'A', score: 100,
});

describe('requests/s on the chart', () => {
  it('is the requests between two pushes over the time between them, with no rate on the first point', () => {
    // The sink's first points: its rolling window barely begun (260 req/s on a run of about 25).
    const points = [point(0, 3, null), point(1000, 28, 260), point(2000, 52, 48.5), point(3010, 77, 33), point(4000, 101, 25)];
    expect(ratePerPush(points)).toEqual([null, 25, 24, (25 * 1000) / 1010, (24 * 1000) / 990]);
    expect(chartColumns(points).rps).toEqual([[0, 1, 2, 3.01, 4], ratePerPush(points)]);
  });

  it('never goes below 0 when a push counts fewer requests (an instance restarted), nor divides by no time', () => {
    expect(ratePerPush([point(0, 10), point(1000, 4), point(1000, 9)])).toEqual([null, 0, null]);
  });

  it('beside a baseline, is each run’s own rate at its own seconds', () => {
    const run = [point(5000, 0), point(6000, 10), point(7000, 30)];
    const baseline = [point(0, 0), point(1500, 15)];
    expect(chartColumns(run, baseline).rps).toEqual([[0, 1, 1.5, 2], [null, 10, null, 20], [null, null, 10, null]]);
  });
});

describe('a label beside a line', () => {
  const box: Box = { left: 10, top: 10, right: 30, bottom: 20 };

  it('is hit by a segment that crosses it, ends in it or lies along it, and not by one that passes by', () => {
    expect(segmentHitsBox([0, 0, 40, 30], box)).toBe(true); // crosses
    expect(segmentHitsBox([15, 15, 100, 100], box)).toBe(true); // starts inside
    expect(segmentHitsBox([0, 15, 40, 15], box)).toBe(true); // horizontal through it
    expect(segmentHitsBox([20, 0, 20, 40], box)).toBe(true); // vertical through it
    expect(segmentHitsBox([0, 25, 40, 25], box)).toBe(false); // under it
    expect(segmentHitsBox([0, 0, 9, 40], box)).toBe(false); // left of it
    expect(segmentHitsBox([0, 5, 40, 0], box)).toBe(false); // above it
    expect(segmentHitsBox([35, 0, 45, 40], box)).toBe(false); // right of it
  });

  it('joins each point to the next one with a value, a lone point standing for itself', () => {
    expect(seriesSegments([0, 1, 2, 3], [5, null, 7, 8])).toEqual([[0, 5, 0, 5], [0, 5, 2, 7], [2, 7, 3, 8]]);
  });

  it('goes to the first place clear of every line and label, and nowhere when none is', () => {
    const area: Box = { left: 0, top: 0, right: 200, bottom: 100 };
    const candidates = labelCandidates(area, 50, 40, 10, 4);
    expect(candidates[0]).toEqual({ left: 156, right: 196, top: 36, bottom: 46 }); // right end, above
    expect(candidates[1]).toEqual({ left: 156, right: 196, top: 54, bottom: 64 }); // right end, below
    const ownLine = [0, 50, 200, 50] as const;
    expect(freePlace(candidates, area, [ownLine], [], 2)).toEqual(candidates[0]);
    // A series rising through the right end above the line: the label goes below it.
    const rising = [150, 60, 200, 30] as const;
    expect(segmentHitsBox(rising, candidates[0]!)).toBe(true);
    expect(freePlace(candidates, area, [ownLine, [180, 0, 180, 48]], [], 2)).toEqual(candidates[1]);
    // A label already there takes its place too.
    expect(freePlace(candidates, area, [ownLine], [candidates[0]!], 2)).toEqual(candidates[1]);
    // Lines everywhere around it: no place.
    const crowded = [ownLine, ...Array.from({ length: 21 }, (_, i) => [i * 10, 30, i * 10, 70] as const)];
    expect(freePlace(candidates, area, crowded, [], 2)).toBeNull();
  });

  it('stays inside the plot', () => {
    const area: Box = { left: 0, top: 0, right: 200, bottom: 100 };
    // A line at the very top: above it is off the plot, below it is the place.
    expect(freePlace(labelCandidates(area, 2, 40, 10, 4), area, [], [], 2)).toEqual({ left: 156, right: 196, top: 6, bottom: 16 });
  });
});

describe('the note under a chart', () => {
  const limit = (name: string, label: string) => ({ value: 1000, label, colour: '#000', name });

  it('says which limits are above its top, and lists the labels it could not place', () => {
    expect(chartNote([limit('the 1 s limit (grade A)', '')], [])).toBe('The 1 s limit (grade A) is above the top of this chart: every point shown is below it.');
    expect(chartNote([limit('the 1 s limit (grade A)', ''), limit('the 2 s limit (grade C)', '')], [])).toBe(
      'The 1 s limit (grade A) and the 2 s limit (grade C) are above the top of this chart: every point shown is below them.',
    );
    expect(chartNote([], [limit('', 'capacity: 19.9 requests/s')])).toBe('Dashed line: capacity: 19.9 requests/s.');
    expect(chartNote([], [])).toBe('');
  });
});
