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

/** What a spreadsheet reads as the start of a formula (OWASP, CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell. Text that a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+…`,
 * `-…`, `@…`, or a leading tab or carriage return) gets a leading `'`, as OWASP
 * recommends: Excel, LibreOffice and Google Sheets then show it as text. Numbers are
 * written as numbers, negative ones too. RFC 4180 quoting for a comma, a quote or a
 * line break (quotes doubled), and for a semicolon, the separator of spreadsheets in
 * many locales, so that no text starts a cell of its own there.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'number' ? String(value) : FORMULA_START.test(value) ? `'${value}` : value;
  return /[",;\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The history as CSV (RFC 4180: CRLF between records, fields quoted when needed, formulas
 * neutralised: see `csvCell`).
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
        .map(csvCell)
        .join(','),
    );
  }
  return rows.join('\r\n') + '\r\n';
}
