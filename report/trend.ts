// The trend of past tests: the last runs of one scenario (or one promo), oldest first,
// with their grade, p95 and errors, and one sentence on where p95 went. `history --trend`
// prints it; the status page's "Past tests" draws it for the run it shows.
import type { HistoryEntry } from '../contract/sink-api.ts';

/** Runs a trend shows at most: the latest ones. */
export const TREND_RUNS = 20;

export interface TrendFilter {
  scenario?: string;
  promoName?: string;
}

export interface Trend {
  /** What the runs share, in words: `scenario ramp`, `promo Black Friday`. */
  scope: string;
  /** Oldest first; at most TREND_RUNS. */
  runs: HistoryEntry[];
  /** One sentence on p95 from the first run shown to the last; null with fewer than two p95s. */
  summary: string | null;
}

/**
 * The trend of `entries` (in any order; sorted by end time here). Without a filter, the
 * newest run's scenario is the one followed.
 */
export function trendOf(entries: readonly HistoryEntry[], filter: TrendFilter = {}, limit = TREND_RUNS): Trend {
  const sorted = [...entries].sort((a, b) => Date.parse(a.endedAt) - Date.parse(b.endedAt));
  const scenario = filter.scenario ?? (filter.promoName === undefined ? (sorted.at(-1)?.scenario ?? undefined) : undefined);
  const matching = sorted.filter((e) => (scenario === undefined || e.scenario === scenario) && (filter.promoName === undefined || e.tags?.promo_name === filter.promoName));
  const runs = matching.slice(-limit);
  const scope = [scenario !== undefined ? `scenario ${scenario}` : null, filter.promoName !== undefined ? `promo ${filter.promoName}` : null].filter(Boolean).join(', ') || 'all runs';
  return { scope, runs, summary: p95Summary(runs) };
}

function p95Summary(runs: HistoryEntry[]): string | null {
  const withP95 = runs.filter((r) => typeof r.p95Ms === 'number' && Number.isFinite(r.p95Ms));
  if (withP95.length < 2) return null;
  const first = withP95[0]!.p95Ms!;
  const last = withP95.at(-1)!.p95Ms!;
  const over = `over the last ${withP95.length} runs`;
  if (first === 0) return `p95 went from 0 ms to ${Math.round(last)} ms ${over}.`;
  const change = ((last - first) / first) * 100;
  if (Math.abs(change) < 3) return `p95 held at about ${Math.round(last)} ms ${over}.`;
  return `p95 went from ${Math.round(first)} ms to ${Math.round(last)} ms ${over} (${change > 0 ? '+' : ''}${change.toFixed(0)} %): the shop got ${change > 0 ? 'slower' : 'faster'}.`;
}

const BARS = '▁▂▃▄▅▆▇█';

/** p95 of each run as a bar from ▁ (the fastest shown) to █ (the slowest); · without a p95. */
export function sparkline(runs: readonly HistoryEntry[]): string {
  const values = runs.map((r) => (typeof r.p95Ms === 'number' && Number.isFinite(r.p95Ms) ? r.p95Ms : null));
  const known = values.filter((v): v is number => v !== null);
  const min = Math.min(...known);
  const max = Math.max(...known);
  return values.map((v) => (v === null ? '·' : BARS[max === min ? 3 : Math.round(((v - min) / (max - min)) * (BARS.length - 1))])).join('');
}
