// What a report holds: the run as the history recorded it (k6's own summary figures when
// one instance ran, the sink's merge of every instance otherwise), its time series, and
// optionally a baseline run with the promo's impact. The HTML carries it inline as JSON;
// its script draws the charts from it.
import type { HistoryEntry, RunSeriesJson } from '../contract/sink-api.ts';
import { promoImpact, type PromoImpact } from './impact.ts';

export interface ReportRun {
  entry: HistoryEntry;
  /** null when the sink kept no series of the run (an older history, or a run without pushes). */
  series: RunSeriesJson | null;
}

export interface ReportData {
  /** ISO 8601. */
  generatedAt: string;
  run: ReportRun;
  baseline: ReportRun | null;
  impact: PromoImpact | null;
}

export function reportData(run: ReportRun, baseline: ReportRun | null, now = new Date()): ReportData {
  return { generatedAt: now.toISOString(), run, baseline, impact: baseline ? promoImpact(baseline.entry, run.entry) : null };
}
