// The report: one HTML file that a marketing lead can open, forward and print. Its
// script (report-page.ts, with uPlot, bundled by `npm run build`), its styles and the
// run's data are inline; a Content-Security-Policy in the file itself lets the browser
// load nothing from anywhere (default-src 'none'), so the report works offline and
// cannot call home. The text is written here, so it reads without the script too; the
// script only draws the charts.
//
// Marketing's words first (the traffic light, whether the site held, the promo's impact
// in sentences), the engineers' figures after (thresholds, pages, run details).
import { createHash } from 'node:crypto';
import type { HistoryEntry, PageFiguresJson, ThresholdResultJson } from '../contract/sink-api.ts';
import type { ReportData, ReportRun } from './report-data.ts';
import { judgedOnRequests, thresholdValue } from './threshold-value.ts';
import { entryVerdict } from './sentences.ts';
import { overheadLine } from './compare.ts';
import { scenarioResults } from './scenario-results.ts';

export interface ReportAssets {
  /** The page's script (dist/report/report-page.js). */
  script: string;
  /** Its stylesheet, uPlot's included (dist/report/report.css). */
  css: string;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
/** JSON inside <script type="application/json">: nothing in it may close the element. */
const jsonForScript = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
/** A script inside <script>: "</script" would end it early. */
const scriptText = (js: string) => js.replace(/<\/(script)/gi, '<\\/$1');

const whole = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const fixed = (x: number | null | undefined, d: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');
const percent = (ratio: number | null | undefined) => (typeof ratio === 'number' && Number.isFinite(ratio) ? `${(ratio * 100).toFixed(2)} %` : '—');
const ms = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? `${x.toFixed(1)} ms` : '—');
const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '—');
const signed = (x: number | null, d: number, unit: string) => (x === null ? '—' : `${x > 0 ? '+' : ''}${x.toFixed(d)}${unit}`);

function title(e: HistoryEntry): string {
  const promo = e.tags.promo_name && e.tags.promo_name !== 'none' ? e.tags.promo_name : null;
  return [promo, e.scenario].filter(Boolean).join(' · ') || e.testid;
}

function light(colour: string): string {
  const lamps = (['red', 'orange', 'green'] as const).map((lamp) => `<span class="lamp ${lamp}${lamp === colour ? ' on' : ''}"></span>`).join('');
  return `<div class="light" data-testid="light" data-colour="${escapeHtml(colour)}" role="img" aria-label="Traffic light: ${escapeHtml(colour)}">${lamps}</div>`;
}

function tile(label: string, value: string, hint: string, testid: string): string {
  return `<div class="tile"><p class="label">${label}</p><p class="value" data-testid="${testid}">${escapeHtml(value)}</p><p class="hint">${hint}</p></div>`;
}

/** A table; the cells of `numeric` columns (from 1) are figures, which never wrap. */
function table(head: string[], rows: string[][], testid: string, numeric: readonly number[] = []): string {
  const cls = (i: number) => (numeric.includes(i) ? ' class="num"' : '');
  const th = head.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<div class="table-wrap"><table data-testid="${testid}"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function thresholdRows(thresholds: ThresholdResultJson[]): string[][] {
  return thresholds.map((t) => [
    !t.supported ? 'not judged' : t.ok === null ? 'no data' : t.ok ? 'met' : 'missed',
    `${t.metric} ${t.threshold}`,
    t.supported ? thresholdValue(t) : (t.reason ?? ''),
    judgedOnRequests(t) ? whole(t.requests) : '—',
  ]);
}

function pageRows(pages: PageFiguresJson[], prefix: string): string[][] {
  return pages.map((p) => [`${prefix}${p.key}`, whole(p.requests), fixed(p.rps, 1), ms(p.p50Ms), ms(p.p95Ms), ms(p.p99Ms), percent(p.errorRatio)]);
}

function impactSection(data: ReportData): string {
  const impact = data.impact;
  const baseline = data.baseline;
  if (!impact || !baseline) return '';
  const c = impact.comparison;
  // Each change is judged (report/compare.ts): the table says which count, the rest are noise.
  const rows = c ? c.rows.map((r) => [r.metric, fixed(r.baseline, r.decimals), fixed(r.candidate, r.decimals), signed(r.delta, r.decimals, ''), r.measurable === false ? 'no measurable change' : signed(r.deltaPct, 1, ' %')]) : [];
  return `<section class="impact" data-testid="impact" aria-labelledby="impact-title">
<h2 id="impact-title">Promo impact</h2>
<p class="against">Against the baseline <code>${escapeHtml(baseline.entry.testid)}</code> (${escapeHtml(title(baseline.entry))}, ${escapeHtml(when(baseline.entry.startedAt))}).</p>
<ul class="sentences" data-testid="impact-sentences">${impact.sentences.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>
${c ? `<p class="overhead" data-testid="overhead">${escapeHtml(overheadLine(c))}</p>
${table(['', 'baseline', c.voice === 'promo' ? 'with the promo' : 'candidate', 'change', 'change %'], rows, 'impact-table', [1, 2, 3, 4])}` : ''}
</section>`;
}

/** The scenario's own results (cache hits, 304s, promos applied), in words. */
function scenarioSection(e: HistoryEntry): string {
  const results = scenarioResults(e.thresholds);
  if (results.length === 0) return '';
  const items = results.map((r) => `<li data-verdict="${r.verdict}">${escapeHtml(r.sentence)}</li>`).join('');
  return `<section class="scenario-results" aria-labelledby="scenario-results-title">
<h2 id="scenario-results-title">What this scenario checks</h2>
<ul data-testid="scenario-results">${items}</ul>
</section>`;
}

function runDetails(e: HistoryEntry): string[][] {
  const rows: string[][] = [
    ['testid', e.testid],
    ['scenario', e.scenario ?? '—'],
    ['target', e.target ?? '—'],
    ['started', when(e.startedAt)],
    ['ended', when(e.endedAt)],
    ['k6 exit code', e.exitCode === null ? '—' : String(e.exitCode)],
    ['how it ended', e.exitReason],
    ['iterations', whole(e.iterations)],
    ['checks passed', percent(e.checksRate)],
  ];
  for (const [k, v] of Object.entries(e.tags).sort()) rows.push([`tag ${k}`, v]);
  return rows;
}

/** The report's HTML, self-contained. */
export function renderReportHtml(data: ReportData, assets: ReportAssets): string {
  const e = data.run.entry;
  const colour = ['green', 'orange', 'red'].includes(e.grade.colour) ? e.grade.colour : 'grey';
  // The run's own sentences (report/sentences.ts), as the CLI, the status page and the notifications say them.
  const verdict = entryVerdict(e);
  const script = scriptText(assets.script);
  const hash = createHash('sha256').update(script).digest('base64');
  // Nothing may be fetched: no default source, images only as data: URLs (uPlot draws on canvas).
  const csp = `default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;
  const chartNote = (run: ReportRun) => (run.series && run.series.points.length > 0 ? '' : '<p class="empty">The sink kept no time series of this run, so there is nothing to chart.</p>');
  const pages = e.pages ? [...pageRows(e.pages.pageTypes, ''), ...pageRows(e.pages.slowestNames, 'URL ')] : [];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="promo-load-analyzer">
<title>${escapeHtml(`${e.grade.letter} · ${title(e)} · Load test report`)}</title>
<style>${assets.css}</style>
</head>
<body>
<header class="top">
<h1>Load test report: ${escapeHtml(title(e))}</h1>
<p class="run-id">Test <code data-testid="testid">${escapeHtml(e.testid)}</code>, ${escapeHtml(when(e.startedAt))} to ${escapeHtml(when(e.endedAt))}. Report made ${escapeHtml(when(data.generatedAt))}.</p>
</header>
<main>
<section class="now" aria-label="Verdict">
${light(colour)}
<div class="summary">
${verdict.expectation ? `<p class="expectation" data-testid="expectation">${escapeHtml(verdict.expectation)}</p>` : ''}
<p class="grade"><span data-testid="grade-letter">${escapeHtml(e.grade.letter)}</span><span class="dash"> — </span><span data-testid="grade-score">${typeof e.grade.score === 'number' ? `${whole(e.grade.score)}/100` : 'no grade'}</span></p>
<p class="verdict ${colour}" data-testid="verdict">${escapeHtml(verdict.headline)}</p>
${verdict.capacity ? `<p class="capacity" data-testid="capacity">${escapeHtml(verdict.capacity)}</p>` : ''}
${verdict.forecast ? `<p class="forecast" data-testid="forecast">${escapeHtml(verdict.forecast)}</p>` : ''}
${verdict.ending && verdict.ending !== verdict.headline ? `<p class="ending" data-testid="ending">${escapeHtml(verdict.ending)}</p>` : ''}
</div>
</section>
<section class="figures" aria-label="Figures of the whole test">
${tile('Response time', ms(e.p95Ms), '95 % of pages answered faster than this (p95)', 'p95')}
${tile('Errors', percent(e.errorRatio), 'share of requests that failed', 'errors')}
${tile('Requests', whole(e.requests), `${fixed(e.rps, 1)} per second`, 'requests')}
${tile('Simultaneous users', whole(e.maxVus), 'virtual shoppers (VUs) at the peak', 'vus')}
</section>
${scenarioSection(e)}
${impactSection(data)}
<section class="charts-area" aria-labelledby="charts-title">
<h2 id="charts-title">Over time</h2>
${data.baseline ? '<p class="legend-note">Dashed grey: the baseline run, from its own start.</p>' : ''}
${chartNote(data.run)}
<div class="charts" data-testid="charts"></div>
</section>
<section class="details" aria-labelledby="details-title">
<h2 id="details-title">For engineers</h2>
<h3>Thresholds</h3>
${e.thresholds && e.thresholds.length > 0 ? table(['verdict', 'threshold', 'value', 'requests'], thresholdRows(e.thresholds), 'thresholds', [2, 3]) : '<p class="empty">This test declares no thresholds.</p>'}
${e.abortedBy ? `<p class="aborted">Stopped early: ${escapeHtml(`${e.abortedBy.metric} ${e.abortedBy.threshold}`)} failed at ${escapeHtml(thresholdValue(e.abortedBy))}.</p>` : ''}
<h3>Per page</h3>
${pages.length > 0 ? table(['page', 'requests', 'req/s', 'p50', 'p95', 'p99', 'errors'], pages, 'pages', [1, 2, 3, 4, 5, 6]) : '<p class="empty">No per-page figures.</p>'}
<h3>The whole test</h3>
${table(['', 'value'], [['p50', ms(e.p50Ms)], ['p95', ms(e.p95Ms)], ['p99', ms(e.p99Ms)], ['errors', percent(e.errorRatio)], ['requests/s', fixed(e.rps, 1)], ['requests', whole(e.requests)], ['peak VUs', whole(e.maxVus)]], 'whole', [1])}
<h3>The run</h3>
${table(['', ''], runDetails(e), 'run')}
</section>
</main>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${script}</script>
</body>
</html>
`;
}
