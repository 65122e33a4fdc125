// Two runs side by side: a baseline (usually the shop without the promo) and a
// candidate (with it), metric by metric, plus the promo's overhead on p95 and errors.
import type { HistoryEntry } from '../contract/sink-api.ts';

export interface ComparisonRow {
  metric: string;
  baseline: number | null;
  candidate: number | null;
  /** candidate − baseline, in the row's unit; null when either side is missing. */
  delta: number | null;
  /** delta / |baseline| × 100; null when either side is missing or the baseline is 0. */
  deltaPct: number | null;
  /** Which direction is an improvement. */
  better: 'lower' | 'higher';
}

export interface Comparison {
  baseline: HistoryEntry;
  candidate: HistoryEntry;
  rows: ComparisonRow[];
  /**
   * What the promo costs, relative to the baseline, in %: (candidate − baseline) /
   * baseline × 100, for p95 and for the error ratio. null when the baseline value is
   * missing or 0 (no relative change can be computed from 0), or the candidate's is
   * missing. The error-ratio figure is a relative change of the ratio itself (0.2 % →
   * 0.6 % errors is +200 %), not a difference in percentage points; the rows hold that.
   */
  promoOverheadPct: { p95: number | null; errorRatio: number | null };
}

/** Rows in the order they print. Error ratio and checks rate are in % (0.004 → 0.4). */
const METRICS: ReadonlyArray<{ metric: string; better: 'lower' | 'higher'; decimals: number; value: (e: HistoryEntry) => number | null }> = [
  { metric: 'p50 (ms)', better: 'lower', decimals: 1, value: (e) => e.p50Ms },
  { metric: 'p95 (ms)', better: 'lower', decimals: 1, value: (e) => e.p95Ms },
  { metric: 'p99 (ms)', better: 'lower', decimals: 1, value: (e) => e.p99Ms },
  { metric: 'errors (%)', better: 'lower', decimals: 2, value: (e) => percent(e.errorRatio) },
  { metric: 'rps', better: 'higher', decimals: 1, value: (e) => e.rps },
  // More VUs served means more load carried (ramp runs stop at the breaking point).
  { metric: 'max VUs', better: 'higher', decimals: 0, value: (e) => e.maxVus },
  { metric: 'checks (%)', better: 'higher', decimals: 2, value: (e) => percent(e.checksRate) },
  { metric: 'score', better: 'higher', decimals: 0, value: (e) => e.grade.score },
];

function percent(ratio: number | null | undefined): number | null {
  return isNumber(ratio) ? ratio * 100 : null;
}

function isNumber(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** (candidate − baseline) / |baseline| × 100; null when a side is missing or the baseline is 0. */
function relativePct(baseline: number | null | undefined, candidate: number | null | undefined): number | null {
  if (!isNumber(baseline) || !isNumber(candidate) || baseline === 0) return null;
  return ((candidate - baseline) / Math.abs(baseline)) * 100;
}

export function compareRuns(baseline: HistoryEntry, candidate: HistoryEntry): Comparison {
  const rows = METRICS.map(({ metric, better, value }): ComparisonRow => {
    const b = value(baseline);
    const c = value(candidate);
    const bv = isNumber(b) ? b : null;
    const cv = isNumber(c) ? c : null;
    return {
      metric,
      baseline: bv,
      candidate: cv,
      delta: bv !== null && cv !== null ? cv - bv : null,
      deltaPct: relativePct(bv, cv),
      better,
    };
  });
  return {
    baseline,
    candidate,
    rows,
    promoOverheadPct: {
      p95: relativePct(baseline.p95Ms, candidate.p95Ms),
      errorRatio: relativePct(baseline.errorRatio, candidate.errorRatio),
    },
  };
}

const ANSI = { green: '\x1b[32m', red: '\x1b[31m', orange: '\x1b[33m', grey: '\x1b[90m', bold: '\x1b[1m', reset: '\x1b[0m' } as const;

function paint(text: string, colour: keyof typeof ANSI | null, on: boolean): string {
  return on && colour ? `${ANSI[colour]}${text}${ANSI.reset}` : text;
}

/** Fixed decimals with an explicit sign: "+12.3", "-0.40", "0.0" for no change. */
function signed(x: number, decimals: number): string {
  const s = x.toFixed(decimals);
  if (Number(s) === 0) return (0).toFixed(decimals);
  return x > 0 ? `+${s}` : s;
}

const NONE = 'n/a';

/** 'green' when the change is an improvement, 'red' when it is a regression, null when unchanged or unknown. */
function verdict(row: ComparisonRow, decimals: number): 'green' | 'red' | null {
  if (row.delta === null || Number(row.delta.toFixed(decimals)) === 0) return null;
  const improved = row.better === 'lower' ? row.delta < 0 : row.delta > 0;
  return improved ? 'green' : 'red';
}

function gradeColour(colour: string): keyof typeof ANSI | null {
  return colour === 'green' || colour === 'orange' || colour === 'red' || colour === 'grey' ? colour : null;
}

/**
 * The last line. Exact wording:
 *   "Promo overhead: p95 +12.3 %, errors +0.40 pt (+50.0 %)"
 * - p95: the relative change of p95, 1 decimal, "p95 n/a" when it cannot be computed
 *   (a side missing or a baseline of 0 ms).
 * - errors: the change of the error rate in percentage points (2 decimals), then its
 *   relative change in brackets; the brackets say "(baseline had no errors)" when the
 *   baseline's error ratio is 0, and are left out when a side is missing ("errors n/a").
 */
export function overheadLine(c: Comparison): string {
  const p95 = c.promoOverheadPct.p95 === null ? `p95 ${NONE}` : `p95 ${signed(c.promoOverheadPct.p95, 1)} %`;
  const b = c.baseline.errorRatio;
  const k = c.candidate.errorRatio;
  let errors: string;
  if (!isNumber(b) || !isNumber(k)) errors = `errors ${NONE}`;
  else {
    const pt = `errors ${signed((k - b) * 100, 2)} pt`;
    errors = c.promoOverheadPct.errorRatio === null ? `${pt} (baseline had no errors)` : `${pt} (${signed(c.promoOverheadPct.errorRatio, 1)} %)`;
  }
  return `Promo overhead: ${p95}, ${errors}`;
}

/**
 * A side-by-side table:
 *
 *   Baseline:  <testid>  <grade>  <exit reason>
 *   Candidate: <testid>  <grade>  <exit reason>
 *
 *   metric       baseline  candidate    delta  delta %
 *   p95 (ms)        420.0      510.0    +90.0  +21.4 %
 *   …
 *   Promo overhead: …   (see overheadLine)
 *
 * Deltas are candidate − baseline. With colour, the delta cells are green when the
 * change is an improvement and red when it is a regression (unchanged or unknown: no
 * colour), and grades take their traffic-light colour. Without colour: no escape codes.
 */
export function formatComparison(c: Comparison, options: { colour: boolean }): string {
  const on = options.colour;
  const lines: string[] = [];
  const idWidth = Math.max(c.baseline.testid.length, c.candidate.testid.length);
  const who = (label: string, e: HistoryEntry) =>
    `${label.padEnd(11)}${e.testid.padEnd(idWidth)}  ${paint(e.grade.text, gradeColour(e.grade.colour), on)}  ${e.exitReason}`;
  lines.push(who('Baseline:', c.baseline), who('Candidate:', c.candidate), '');

  const header = ['metric', 'baseline', 'candidate', 'delta', 'delta %'];
  const cells = c.rows.map((row, i) => {
    const decimals = METRICS[i]?.metric === row.metric ? METRICS[i]!.decimals : 2;
    const colour = verdict(row, decimals);
    return {
      colour,
      text: [
        row.metric,
        row.baseline === null ? NONE : row.baseline.toFixed(decimals),
        row.candidate === null ? NONE : row.candidate.toFixed(decimals),
        row.delta === null ? NONE : signed(row.delta, decimals),
        row.deltaPct === null ? NONE : `${signed(row.deltaPct, 1)} %`,
      ],
    };
  });
  const widths = header.map((h, col) => Math.max(h.length, ...cells.map((r) => r.text[col]!.length)));
  const pad = (text: string, col: number) => (col === 0 ? text.padEnd(widths[col]!) : text.padStart(widths[col]!));
  lines.push(header.map(pad).join('  '));
  for (const row of cells) {
    lines.push(row.text.map((t, col) => (col >= 3 ? ' '.repeat(widths[col]! - t.length) + paint(t, row.colour, on) : pad(t, col))).join('  '));
  }
  lines.push('', overheadLine(c));
  return lines.join('\n') + '\n';
}
