// The parts of the CLI's final report that come from the sink's merged view of a run: the
// grade block and the run's sentences, the scenario's own results, each threshold's merged
// verdict (and where an instance's own k6 verdict differs), the per-page figures and the capacity.
import type { HistoryEntry, PagesJson, PageFiguresJson, ThresholdResultJson } from '../contract/sink-api.ts';
import { judgedOnRequests, thresholdValue } from '../report/threshold-value.ts';
import { entryVerdict } from '../report/sentences.ts';
import { scenarioResults } from '../report/scenario-results.ts';
import { count } from '../report/words.ts';

/** One instance's own verdicts, from k6's --summary-export: `metric` → expression → failed. */
export type InstanceVerdicts = Record<string, Record<string, boolean>>;

/** The `thresholds` of each metric in a k6 summary export (true: the threshold failed). */
export function instanceVerdicts(summary: { metrics?: Record<string, { thresholds?: Record<string, boolean> }> }): InstanceVerdicts {
  const out: InstanceVerdicts = {};
  for (const [metric, m] of Object.entries(summary.metrics ?? {})) if (m.thresholds) out[metric] = { ...m.thresholds };
  return out;
}

const pct = (ratio: number | null) => (ratio === null ? 'n/a' : `${(ratio * 100).toFixed(2)} %`);
const msText = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(1)} ms`);

/**
 * The line the CLI prints when a merged threshold with abortOnFail failed: the sink stopped
 * every instance, or `notStopped` says why it stopped nothing.
 */
export function abortLine(t: ThresholdResultJson, notStopped: string | null = null): string {
  const failed = `the merged threshold ${t.metric} ${t.threshold} failed at ${thresholdValue(t)} over ${count(t.requests, 'request')}`;
  return notStopped === null ? `aborted: ${failed}; the sink stopped every instance` : `failed: ${failed}; ${notStopped}`;
}

/**
 * The merged verdicts, then one line per threshold where k6 on some instance judged
 * its own share differently.
 */
export function thresholdLines(results: ThresholdResultJson[], perInstance: Array<InstanceVerdicts | null>): string[] {
  if (results.length === 0) return [];
  const lines = ['  thresholds, merged over every instance:'];
  for (const t of results) {
    const verdict = !t.supported ? 'not judged' : t.ok === null ? 'no data yet' : t.ok ? 'ok' : 'FAILED';
    const detail = !t.supported ? (t.reason ?? '') : judgedOnRequests(t) ? `${thresholdValue(t)} over ${count(t.requests, 'request')}` : thresholdValue(t);
    lines.push(`    ${verdict.padEnd(11)} ${t.metric} ${t.threshold}   ${detail}`);
  }
  for (const t of results) {
    if (t.ok === null) continue;
    const differing = perInstance.flatMap((v, i) => {
      const failed = v?.[t.metric]?.[t.threshold];
      return failed === undefined || !failed === t.ok ? [] : [i];
    });
    if (differing.length === 0) continue;
    const who = perInstance.length === 1 ? 'k6 alone' : `k6 on instance${differing.length > 1 ? 's' : ''} ${differing.join(', ')} alone`;
    lines.push(`  note: ${t.metric} ${t.threshold} ${t.ok ? 'holds' : 'fails'} merged (${thresholdValue(t)}), but ${who} judged it ${t.ok ? 'failed' : 'ok'}`);
  }
  return lines;
}

/**
 * The Rate thresholds of one instance's k6 summary export as verdicts (its own figures):
 * the scenario's results when no sink merged them.
 */
export function summaryRateThresholds(summary: { metrics?: Record<string, { value?: number; passes?: number; fails?: number; thresholds?: Record<string, boolean> }> }): ThresholdResultJson[] {
  const out: ThresholdResultJson[] = [];
  for (const [metric, m] of Object.entries(summary.metrics ?? {})) {
    if (!m.thresholds || typeof m.value !== 'number' || m.passes === undefined) continue;
    for (const [threshold, failed] of Object.entries(m.thresholds)) {
      out.push({ metric, threshold, ok: !failed, value: m.value, requests: 0, abortOnFail: false, supported: true });
    }
  }
  return out;
}

/** The scenario's own results (cache hits, 304s, promos applied), one sentence each. */
export function scenarioLines(thresholds: readonly ThresholdResultJson[]): string[] {
  const results = scenarioResults(thresholds);
  return results.length === 0 ? [] : ['  results of the scenario:', ...results.map((r) => `    ${r.sentence}`)];
}

function pageRow(p: PageFiguresJson, width: number): string {
  const rps = p.rps === null ? 'n/a' : p.rps.toFixed(1);
  return `    ${p.key.padEnd(width)}  ${String(p.requests).padStart(8)}  ${rps.padStart(7)}  ${msText(p.p50Ms).padStart(10)}  ${msText(p.p95Ms).padStart(10)}  ${msText(p.p99Ms).padStart(10)}  ${pct(p.errorRatio).padStart(8)}`;
}

/** The per-page_type table and the slowest names. */
export function pageLines(pages: PagesJson): string[] {
  const lines: string[] = [];
  const table = (title: string, rows: PageFiguresJson[]) => {
    if (rows.length === 0) return;
    const width = Math.max(9, ...rows.map((r) => r.key.length));
    lines.push(`  ${title}`, `    ${''.padEnd(width)}  ${'requests'.padStart(8)}  ${'req/s'.padStart(7)}  ${'p50'.padStart(10)}  ${'p95'.padStart(10)}  ${'p99'.padStart(10)}  ${'errors'.padStart(8)}`);
    for (const r of rows) lines.push(pageRow(r, width));
  };
  table('per page_type:', pages.pageTypes);
  table(`slowest names (by p95):`, pages.slowestNames);
  return lines;
}

/**
 * The grade block of a run the sink recorded, one source for every figure (its history
 * entry): the grade, the run's sentences as every surface shows them (report/sentences.ts),
 * then the figures.
 *
 *   (Will not hold: the shop tops out near 30 users, fewer than the expected 60 (…).)  with --expect-users
 *   Grade: N/A [grey]  testid=…
 *     The test could not reach the shop: 100 % of requests were refused (connection refused at http://127.0.0.1:9).
 *     p95 0.4 ms   p99 0.9 ms   errors 100.00 %
 *     …
 */
export function gradeBlock(e: HistoryEntry, note = ''): string[] {
  const v = entryVerdict(e);
  const fixed = (x: number | null, d: number) => (x === null ? 'n/a' : x.toFixed(d));
  const lines = [
    // Will it hold the promo (--expect-users, --expect-rps): the answer comes first.
    ...(v.expectation ? [v.expectation] : []),
    `Grade: ${e.grade.text} [${e.grade.colour}]  testid=${e.testid}${note}`,
    `  ${v.headline}`,
    `  p95 ${fixed(e.p95Ms, 1)} ms   p99 ${fixed(e.p99Ms, 1)} ms   errors ${e.errorRatio === null ? 'n/a' : (e.errorRatio * 100).toFixed(2)} %`,
    `  ${fixed(e.rps, 1)} req/s   ${count(e.requests, 'request')}   ${count(e.iterations, 'iteration')}   checks ${e.checksRate === null ? 'n/a' : `${(e.checksRate * 100).toFixed(2)} %`}`,
  ];
  return lines;
}

/** The sentences the headline did not already say: the capacity and its forecast, and the ending when the breakage took the headline. */
export function verdictLines(e: HistoryEntry): string[] {
  const v = entryVerdict(e);
  return [v.capacity, v.forecast ?? null, v.ending !== v.headline ? v.ending : null].filter((s): s is string => s !== null).map((s) => `  ${s}`);
}
