// The trend of past tests: the last runs of one scenario, promo type and promo name, oldest
// first, with their grade, p95 and errors, and one sentence on where p95 went (a change only
// past the noise floor, report/compare.ts; the words from report/sentences.ts). `history --trend`
// prints it; the status page's "Past tests" draws it for the run it shows.
import type { HistoryEntry } from '../contract/sink-api.ts';
import { p95Measurable } from './compare.ts';
import { entryVerdict, trendSentence, type TrendKind } from './sentences.ts';

/** Runs a trend shows at most: the latest ones. */
export const TREND_RUNS = 20;

export interface TrendFilter {
  scenario?: string;
  promoType?: string;
  promoName?: string;
}

export interface Trend {
  /** What the runs share, in words: `scenario promo, promo type striked price, promo Black Friday`. */
  scope: string;
  /** Oldest first; at most TREND_RUNS. */
  runs: HistoryEntry[];
  /** One sentence on p95 from the first run shown to the last; null with fewer than two p95s. */
  summary: string | null;
  /** Which sentence: the shop got slower or faster, or held (no measurable change). */
  kind: TrendKind | null;
}

const promoTypeOf = (e: HistoryEntry) => e.tags?.promo_type ?? 'none';
const promoNameOf = (e: HistoryEntry) => e.tags?.promo_name ?? 'none';

/**
 * The trend of `entries` (in any order; sorted by end time here): the runs of one scenario,
 * one promo type and one promo name, so a trend never mixes a promo's runs with the shop's
 * without it. What the filter leaves open is the newest matching run's. Runs whose test was
 * broken measured nothing of the shop and are left out.
 */
export function trendOf(entries: readonly HistoryEntry[], filter: TrendFilter = {}, limit = TREND_RUNS): Trend {
  const sorted = [...entries].filter((e) => entryVerdict(e).kind !== 'test_broken').sort((a, b) => Date.parse(a.endedAt) - Date.parse(b.endedAt));
  const fits = (e: HistoryEntry) =>
    (filter.scenario === undefined || e.scenario === filter.scenario) &&
    (filter.promoType === undefined || promoTypeOf(e) === filter.promoType) &&
    (filter.promoName === undefined || promoNameOf(e) === filter.promoName);
  const newest = sorted.filter(fits).at(-1);
  const scenario = filter.scenario ?? newest?.scenario ?? undefined;
  const promoType = filter.promoType ?? (newest ? promoTypeOf(newest) : undefined);
  const promoName = filter.promoName ?? (newest ? promoNameOf(newest) : undefined);
  const matching = sorted.filter(
    (e) => (scenario === undefined || e.scenario === scenario) && (promoType === undefined || promoTypeOf(e) === promoType) && (promoName === undefined || promoNameOf(e) === promoName),
  );
  const runs = matching.slice(-limit);
  const scope =
    [
      scenario !== undefined ? `scenario ${scenario}` : null,
      promoType !== undefined ? `promo type ${promoType.replace(/_/g, ' ')}` : null,
      promoName !== undefined && promoName !== 'none' ? `promo ${promoName}` : null,
    ]
      .filter(Boolean)
      .join(', ') || 'all runs';
  const summary = p95Summary(runs);
  return { scope, runs, summary: summary?.text ?? null, kind: summary?.kind ?? null };
}

/** Where p95 went from the first run to the last: a change only past the comparison's floors and outside the error bounds. */
function p95Summary(runs: HistoryEntry[]): { kind: TrendKind; text: string } | null {
  const withP95 = runs.filter((r) => typeof r.p95Ms === 'number' && Number.isFinite(r.p95Ms));
  if (withP95.length < 2) return null;
  const first = withP95[0]!;
  const last = withP95.at(-1)!;
  return trendSentence(first.p95Ms!, last.p95Ms!, withP95.length, p95Measurable(first, last));
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
