// Finished runs as CSV: `history --csv` in the CLI and GET /api/runs.csv on the sink.
import type { HistoryEntry } from '../contract/sink-api.ts';

export const HISTORY_CSV_COLUMNS = [
  'testid',
  'scenario',
  'environment',
  'promo_type',
  'promo_name',
  'intensity',
  'target',
  'started_at',
  'ended_at',
  'exit_code',
  'exit_reason',
  'requests',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'error_ratio',
  'rps',
  'max_vus',
  'checks_rate',
  'grade',
  'score',
  'breaking_point_vus',
] as const;

/** RFC 4180: quote a field that holds a comma, a quote or a line break; double the quotes. */
function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The history as CSV (RFC 4180: CRLF between records, fields quoted when needed).
 * Ratios stay ratios (0.004, not 0.4 %); a missing value is an empty field.
 */
export function historyCsv(entries: HistoryEntry[]): string {
  const rows = [HISTORY_CSV_COLUMNS.join(',')];
  for (const e of entries) {
    const t = e.tags ?? {};
    rows.push(
      [
        e.testid,
        e.scenario,
        t.environment,
        t.promo_type,
        t.promo_name,
        t.intensity,
        e.target,
        e.startedAt,
        e.endedAt,
        e.exitCode,
        e.exitReason,
        e.requests,
        e.p50Ms,
        e.p95Ms,
        e.p99Ms,
        e.errorRatio,
        e.rps,
        e.maxVus,
        e.checksRate,
        e.grade?.letter,
        e.grade?.score,
        e.breakingPointVus,
      ]
        .map(csvField)
        .join(','),
    );
  }
  return rows.join('\r\n') + '\r\n';
}
