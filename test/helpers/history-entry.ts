// A finished run as the history records it: the baseline (no promo) the comparison and
// report tests start from.
import type { HistoryEntry } from '../../contract/sink-api.ts';

export const BASELINE: HistoryEntry = {
  testid: 'baseline_20261127_080000_1a2b3c4d',
  scenario: 'promo',
  tags: { environment: 'preprod', promo_type: 'none', promo_name: 'none', intensity: 'medium' },
  target: 'http://shop.test',
  startedAt: '2026-11-27T08:00:00.000Z',
  endedAt: '2026-11-27T08:05:00.000Z',
  exitCode: 0,
  exitReason: 'completed',
  requests: 15000,
  p50Ms: 120,
  p95Ms: 400,
  p99Ms: 800,
  errorRatio: 0.002,
  rps: 50,
  maxVus: 20,
  checksRate: 0.998,
  iterations: 3000,
  grade: { letter: 'A', score: 95, colour: 'green', text: 'A (95/100)' },
  breakingPointVus: null,
};
