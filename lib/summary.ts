// The end of a run: the grade from k6's own summary values, printed and saved.
// No k6 imports, so the CLI reads summaries with the same code.
import { grade, formatGrade, type Grade } from './grade.ts';

/** handleSummary nests stats under `values`; `--summary-export` files keep them flat. */
type MetricStats = { values?: Record<string, number> } & Record<string, unknown>;
export interface SummaryData {
  metrics: Record<string, MetricStats | undefined>;
  state?: { testRunDurationMs?: number };
  [key: string]: unknown;
}

export interface RunFigures {
  requests: number;
  p95Ms: number;
  p99Ms: number | null;
  errorRatio: number;
  rps: number;
  checksRate: number | null;
  iterations: number;
}

/** The figures the grade report needs, straight from k6's summary data or export file. */
export function figuresFromSummary(data: SummaryData): RunFigures {
  const value = (metric: string, stat: string): number | null => {
    const m = data.metrics[metric];
    // The export file calls a rate's ratio `value`.
    const v = m?.values?.[stat] ?? m?.[stat] ?? (stat === 'rate' ? m?.value : undefined);
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  return {
    requests: value('http_reqs', 'count') ?? 0,
    p95Ms: value('http_req_duration', 'p(95)') ?? NaN,
    p99Ms: value('http_req_duration', 'p(99)'),
    errorRatio: value('http_req_failed', 'rate') ?? 0,
    rps: value('http_reqs', 'rate') ?? 0,
    checksRate: value('checks', 'rate'),
    iterations: value('iterations', 'count') ?? 0,
  };
}

export function gradeFromSummary(data: SummaryData): Grade {
  const f = figuresFromSummary(data);
  return grade({ p95Ms: f.p95Ms, errorRatio: f.errorRatio, requests: f.requests });
}

const fixed = (n: number | null, digits: number) => (n === null || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
/** "1 request", "3 requests" (lib/ runs in k6: report/words.ts is not imported here). */
const counted = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line per figure, the grade first: what marketing reads. */
export function gradeReport(figures: RunFigures, g: Grade, testid?: string): string {
  const lines = [
    `Grade: ${formatGrade(g)} [${g.colour}]${testid ? `  testid=${testid}` : ''}`,
    `  p95 ${fixed(figures.p95Ms, 1)} ms   p99 ${fixed(figures.p99Ms, 1)} ms   errors ${fixed(figures.errorRatio * 100, 2)} %`,
    `  ${fixed(figures.rps, 1)} req/s   ${counted(figures.requests, 'request')}   ${counted(figures.iterations, 'iteration')}   checks ${figures.checksRate === null ? 'n/a' : `${fixed(figures.checksRate * 100, 2)} %`}`,
  ];
  if (g.reason) lines.push(`  (N/A: ${g.reason})`);
  return lines.join('\n') + '\n';
}

export interface SummaryOptions {
  /** Where to write the summary JSON; SUMMARY_PATH by default, none when empty. */
  path?: string;
  testid?: string;
}

/**
 * A ready-made `handleSummary`: prints the grade and writes the JSON that k6 hands over,
 * with the grade added under `promo`.
 */
export function promoSummary(data: SummaryData, options: SummaryOptions = {}): Record<string, string> {
  const env = typeof __ENV === 'undefined' ? {} : (__ENV as Record<string, string | undefined>);
  const path = options.path ?? env.SUMMARY_PATH ?? '';
  const testid = options.testid ?? env.TESTID;
  const figures = figuresFromSummary(data);
  const g = gradeFromSummary(data);
  // The CLI prints the report itself, from k6's export file.
  const quiet = env.PROMO_SUMMARY_STDOUT === 'false';
  const out: Record<string, string> = quiet ? {} : { stdout: '\n' + gradeReport(figures, g, testid) };
  if (path) out[path] = JSON.stringify({ ...data, promo: { testid, grade: g, figures } }, null, 2);
  return out;
}
