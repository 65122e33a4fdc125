// The promo's impact, for people who will not read a table: a run with the promo against
// a baseline without it (usually the same scenario on the shop as it is), in plain words
// first ("Pages were 18 % slower with the promo"), then the figures they come from.
//
// The words come from compare.ts's rows, so the report, `compare` and its JSON agree:
// - response time: p95's relative change (the response-time overhead in %);
// - errors: the change of the error rate in percentage points, and its relative change;
// - throughput: requests/s' relative change (what the shop served, not what it was sent).
// A change under NOTICEABLE_PCT (or 0.1 point of errors) reads as "about the same".
import { compareRuns, type Comparison } from './compare.ts';
import type { HistoryEntry } from '../contract/sink-api.ts';

/** Relative changes smaller than this read as "about the same": run-to-run noise. */
export const NOTICEABLE_PCT = 3;
/** Error-rate changes smaller than this (percentage points) read as "about the same". */
const NOTICEABLE_ERROR_POINTS = 0.1;

export interface PromoImpact {
  /** The sentences, most important first. */
  sentences: string[];
  /** p95: (promo − baseline) / baseline × 100; null without both. */
  responseTimeOverheadPct: number | null;
  /** p95 promo − baseline, in ms. */
  p95DeltaMs: number | null;
  /** Error rate promo − baseline, in percentage points (0.2 % → 0.6 % is +0.4). */
  errorRateDeltaPoints: number | null;
  /** requests/s: (promo − baseline) / baseline × 100. */
  rpsDeltaPct: number | null;
  comparison: Comparison;
}

const oneDecimal = (x: number) => (Math.abs(x) >= 10 ? Math.round(Math.abs(x)).toString() : Math.abs(x).toFixed(1));
const msText = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const pctText = (ratio: number) => `${(ratio * 100).toFixed(2)} %`;

export function promoImpact(baseline: HistoryEntry, promo: HistoryEntry): PromoImpact {
  const comparison = compareRuns(baseline, promo);
  const row = (metric: string) => comparison.rows.find((r) => r.metric === metric)!;
  const p95 = row('p95 (ms)');
  const errors = row('errors (%)');
  const rps = row('rps');
  const sentences: string[] = [];

  const overhead = comparison.promoOverheadPct.p95;
  if (overhead !== null && p95.baseline !== null && p95.candidate !== null) {
    const figures = `(95 % of pages within ${msText(p95.candidate)}, against ${msText(p95.baseline)} without it)`;
    if (Math.abs(overhead) < NOTICEABLE_PCT) sentences.push(`Pages were about as fast with the promo as without it ${figures}.`);
    else sentences.push(`Pages were ${oneDecimal(overhead)} % ${overhead > 0 ? 'slower' : 'faster'} with the promo ${figures}.`);
  } else sentences.push('The response times cannot be compared: one of the runs has no p95.');

  if (errors.delta !== null && baseline.errorRatio !== null && promo.errorRatio !== null) {
    const figures = `${pctText(promo.errorRatio)} of requests failed, against ${pctText(baseline.errorRatio)} without it`;
    if (Math.abs(errors.delta) < NOTICEABLE_ERROR_POINTS) sentences.push(`Errors stayed about the same (${figures}).`);
    else sentences.push(`There were ${errors.delta > 0 ? 'more' : 'fewer'} errors with the promo: ${figures}.`);
  }

  if (rps.deltaPct !== null && rps.baseline !== null && rps.candidate !== null) {
    const figures = `${rps.candidate.toFixed(1)} requests/s, against ${rps.baseline.toFixed(1)}`;
    if (Math.abs(rps.deltaPct) < NOTICEABLE_PCT) sentences.push(`The shop served about as many requests per second (${figures}).`);
    else sentences.push(`The shop served ${oneDecimal(rps.deltaPct)} % ${rps.deltaPct > 0 ? 'more' : 'fewer'} requests per second (${figures}).`);
  }

  return {
    sentences,
    responseTimeOverheadPct: overhead,
    p95DeltaMs: p95.delta,
    errorRateDeltaPoints: errors.delta,
    rpsDeltaPct: rps.deltaPct,
    comparison,
  };
}
