// Two runs side by side: a baseline (usually the shop without the promo) and a candidate
// (with it). Only like with like (docs/report.md, "Comparing runs"):
// - the same scenario and the same journey (the page types they visited), else refused with
//   one sentence (comparability); a run whose test is broken is refused as either side;
// - p95 and errors per page type, never over the page mix (a promo that adds cart calls
//   changes the mix, not the shop), and throughput as journeys (iterations) per second, with
//   the requests per journey beside it;
// - a change counts only past a relative and an absolute floor (P95_FLOOR, ERRORS_FLOOR,
//   JOURNEYS_FLOOR) and outside the estimates' error bounds (the p95's confidence interval,
//   the error rate's and the journey count's); anything else is "no measurable change".
// The words come from report/sentences.ts; the status page's default picks
// (defaultComparison) are the same function for the page and its API.
import type { HistoryEntry, PageFiguresJson } from '../contract/sink-api.ts';
import { entryVerdict, errorsSentence, journeysSentence, pageChangeSentence, refusal, type CompareVoice } from './sentences.ts';

/** A p95 change counts from 10 % and 20 ms, outside both runs' confidence intervals. */
export const P95_FLOOR = { relative: 0.1, absoluteMs: 20 } as const;
/** An error-rate change counts from half a percentage point, outside both runs' 95 % (Wilson) intervals. */
export const ERRORS_FLOOR = { points: 0.5 } as const;
/** A change of journeys per second counts from 10 %, outside both runs' 95 % (Poisson) intervals. */
export const JOURNEYS_FLOOR = { relative: 0.1 } as const;
/**
 * Without a confidence interval (an entry written before issue 21): the estimator's own
 * documented bound (docs/sink.md), a bucket's width at k6's schema 3, either side.
 */
const ESTIMATOR_BOUND = 0.0905;
const Z = 1.96;

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
  /** Whether the change counts (past the floors, outside the error bounds); null for rows that are not judged. */
  measurable: boolean | null;
  /** Decimals the row prints with. */
  decimals: number;
}

/** One page type's p95 and errors, baseline against candidate. */
export interface PageChange {
  pageType: string;
  baselineMs: number | null;
  candidateMs: number | null;
  /** (candidate − baseline) / baseline × 100 of p95; null without both. */
  p95DeltaPct: number | null;
  p95Measurable: boolean;
  baselineErrorRatio: number | null;
  candidateErrorRatio: number | null;
  errorsMeasurable: boolean;
}

export interface Comparison {
  baseline: HistoryEntry;
  candidate: HistoryEntry;
  /** How the sentences speak: "with the promo" when the candidate has a promo (a type or a name) and the baseline none; else of two runs. */
  voice: CompareVoice;
  pages: PageChange[];
  /** Journeys (iterations) per second, and requests per journey. */
  journeys: { baselinePerS: number | null; candidatePerS: number | null; measurable: boolean; baselineRequests: number | null; candidateRequests: number | null };
  /** The whole run's error rate (for the words when no page's errors changed measurably). */
  errors: { baseline: number | null; candidate: number | null; measurable: boolean };
  rows: ComparisonRow[];
  /** The sentences, changes first (report/sentences.ts). */
  sentences: string[];
}

const isNumber = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** The page types a run visited: its journey. */
export function journeyOf(e: HistoryEntry): string[] {
  return (e.pages?.pageTypes ?? []).filter((p) => p.requests > 0).map((p) => p.key).sort();
}

const promoOf = (e: HistoryEntry) => e.tags?.promo_type ?? 'none';
/** A run with a promo: a promo type, or a promo's name. */
const hasPromo = (e: HistoryEntry) => promoOf(e) !== 'none' || (e.tags?.promo_name ?? 'none') !== 'none';

/** Why these two runs cannot be compared, in one sentence; null when they can. */
export function comparability(baseline: HistoryEntry, candidate: HistoryEntry): string | null {
  for (const [side, e] of [['baseline', baseline], ['candidate', candidate]] as const) {
    const v = entryVerdict(e);
    if (v.broken) return refusal.broken(side, v.broken);
  }
  if ((baseline.scenario ?? null) !== (candidate.scenario ?? null)) return refusal.scenario(baseline.scenario, candidate.scenario);
  for (const [side, e] of [['baseline', baseline], ['candidate', candidate]] as const) if (!e.pages || journeyOf(e).length === 0) return refusal.noFigures(side);
  const a = journeyOf(baseline);
  const b = journeyOf(candidate);
  if (a.join(' ') !== b.join(' ')) return refusal.journey(a, b);
  return null;
}

/** The p95's interval: its confidence interval when the entry has one, else the estimator's bound. */
function interval(p: { p95Ms: number | null; p95LowMs?: number | null; p95HighMs?: number | null }): [number, number] | null {
  if (!isNumber(p.p95Ms)) return null;
  if (isNumber(p.p95LowMs) && isNumber(p.p95HighMs)) return [Math.min(p.p95LowMs, p.p95Ms), Math.max(p.p95HighMs, p.p95Ms)];
  return [p.p95Ms * (1 - ESTIMATOR_BOUND), p.p95Ms * (1 + ESTIMATOR_BOUND)];
}

const apart = (a: [number, number], b: [number, number]) => a[1] < b[0] || b[1] < a[0];

/** Whether a p95 change counts: past both floors, and the two intervals apart. */
export function p95Measurable(baseline: Parameters<typeof interval>[0], candidate: Parameters<typeof interval>[0]): boolean {
  const a = interval(baseline);
  const b = interval(candidate);
  if (!a || !b) return false;
  const delta = Math.abs(candidate.p95Ms! - baseline.p95Ms!);
  return delta >= P95_FLOOR.relative * baseline.p95Ms! && delta >= P95_FLOOR.absoluteMs && apart(a, b);
}

/** Wilson's 95 % interval of a ratio of n trials. */
function wilson(ratio: number, n: number): [number, number] {
  if (n <= 0) return [0, 1];
  const denominator = 1 + (Z * Z) / n;
  const centre = (ratio + (Z * Z) / (2 * n)) / denominator;
  const half = (Z * Math.sqrt((ratio * (1 - ratio)) / n + (Z * Z) / (4 * n * n))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Whether an error-rate change counts: half a point or more, the Wilson intervals apart. */
export function errorsMeasurable(baseline: number | null, baselineRequests: number, candidate: number | null, candidateRequests: number): boolean {
  if (!isNumber(baseline) || !isNumber(candidate)) return false;
  return Math.abs(candidate - baseline) * 100 >= ERRORS_FLOOR.points && apart(wilson(baseline, baselineRequests), wilson(candidate, candidateRequests));
}

/** Journeys per second, and the run's length it is over (requests / requests per second). */
function journeysOf(e: HistoryEntry): { perS: number | null; seconds: number | null } {
  if (!isNumber(e.rps) || e.rps <= 0 || e.requests <= 0) return { perS: null, seconds: null };
  const seconds = e.requests / e.rps;
  return { perS: e.iterations / seconds, seconds };
}

/** Whether a change of journeys per second counts: 10 % or more, the Poisson intervals of the two counts apart. */
function journeysMeasurable(b: HistoryEntry, c: HistoryEntry): boolean {
  const jb = journeysOf(b);
  const jc = journeysOf(c);
  if (jb.perS === null || jc.perS === null || jb.seconds === null || jc.seconds === null || jb.perS === 0) return false;
  const range = (n: number, seconds: number): [number, number] => [Math.max(0, n - Z * Math.sqrt(n)) / seconds, (n + Z * Math.sqrt(n)) / seconds];
  return Math.abs(jc.perS - jb.perS) >= JOURNEYS_FLOOR.relative * jb.perS && apart(range(b.iterations, jb.seconds), range(c.iterations, jc.seconds));
}

function row(metric: string, better: 'lower' | 'higher', decimals: number, baseline: number | null, candidate: number | null, measurable: boolean | null): ComparisonRow {
  const b = isNumber(baseline) ? baseline : null;
  const c = isNumber(candidate) ? candidate : null;
  return {
    metric,
    baseline: b,
    candidate: c,
    delta: b !== null && c !== null ? c - b : null,
    deltaPct: b !== null && c !== null && b !== 0 ? ((c - b) / Math.abs(b)) * 100 : null,
    better,
    measurable,
    decimals,
  };
}

const percent = (ratio: number | null | undefined) => (isNumber(ratio) ? ratio * 100 : null);

/**
 * The comparison of two runs that comparability() accepts (the caller asks it first: it
 * throws otherwise, so a refused pair never gets figures).
 */
export function compareRuns(baseline: HistoryEntry, candidate: HistoryEntry): Comparison {
  const refused = comparability(baseline, candidate);
  if (refused !== null) throw new Error(refused);
  const voice: CompareVoice = hasPromo(candidate) && !hasPromo(baseline) ? 'promo' : 'runs';
  const byKey = (e: HistoryEntry) => new Map((e.pages?.pageTypes ?? []).map((p) => [p.key, p] as const));
  const bPages = byKey(baseline);
  const cPages = byKey(candidate);
  const pages: PageChange[] = journeyOf(baseline).map((key) => {
    const b = bPages.get(key)!;
    const c = cPages.get(key)!;
    return {
      pageType: key,
      baselineMs: b.p95Ms,
      candidateMs: c.p95Ms,
      p95DeltaPct: isNumber(b.p95Ms) && isNumber(c.p95Ms) && b.p95Ms > 0 ? ((c.p95Ms - b.p95Ms) / b.p95Ms) * 100 : null,
      p95Measurable: p95Measurable(b, c),
      baselineErrorRatio: b.errorRatio,
      candidateErrorRatio: c.errorRatio,
      errorsMeasurable: errorsMeasurable(b.errorRatio, b.requests, c.errorRatio, c.requests),
    };
  });
  const jb = journeysOf(baseline);
  const jc = journeysOf(candidate);
  const journeys = {
    baselinePerS: jb.perS,
    candidatePerS: jc.perS,
    measurable: journeysMeasurable(baseline, candidate),
    baselineRequests: baseline.iterations > 0 ? baseline.requests / baseline.iterations : null,
    candidateRequests: candidate.iterations > 0 ? candidate.requests / candidate.iterations : null,
  };
  const errors = { baseline: baseline.errorRatio, candidate: candidate.errorRatio, measurable: errorsMeasurable(baseline.errorRatio, baseline.requests, candidate.errorRatio, candidate.requests) };
  const pageOf = (map: Map<string, PageFiguresJson>, key: string) => map.get(key)!;
  const rows: ComparisonRow[] = [
    ...pages.map((p) => row(`p95 ${p.pageType} (ms)`, 'lower', 1, p.baselineMs, p.candidateMs, p.p95Measurable)),
    ...pages.map((p) => row(`errors ${p.pageType} (%)`, 'lower', 2, percent(pageOf(bPages, p.pageType).errorRatio), percent(pageOf(cPages, p.pageType).errorRatio), p.errorsMeasurable)),
    row('journeys/s', 'higher', 2, journeys.baselinePerS, journeys.candidatePerS, journeys.measurable),
    row('requests/journey', 'lower', 2, journeys.baselineRequests, journeys.candidateRequests, null),
    row('score', 'higher', 0, baseline.grade.score, candidate.grade.score, null),
  ];
  const comparison: Comparison = { baseline, candidate, voice, pages, journeys, errors, rows, sentences: [] };
  comparison.sentences = sentencesOf(comparison);
  return comparison;
}

/** The comparison in words: each page's p95, the errors, the journeys per second; changes first. */
function sentencesOf(c: Comparison): string[] {
  const changed: string[] = [];
  const unchanged: string[] = [];
  for (const p of c.pages) {
    if (!isNumber(p.baselineMs) || !isNumber(p.candidateMs)) continue;
    (p.p95Measurable ? changed : unchanged).push(pageChangeSentence(p.pageType, p.baselineMs, p.candidateMs, p.p95Measurable, c.voice));
  }
  const errorPages = c.pages.filter((p) => p.errorsMeasurable);
  if (errorPages.length > 0 || c.errors.measurable) {
    if (isNumber(c.errors.baseline) && isNumber(c.errors.candidate)) changed.push(errorsSentence(c.errors.baseline, c.errors.candidate, true, c.voice));
  } else if (isNumber(c.errors.baseline) && isNumber(c.errors.candidate) && (c.errors.baseline > 0 || c.errors.candidate > 0)) {
    // Neither run had an error: nothing to say of errors.
    unchanged.push(errorsSentence(c.errors.baseline, c.errors.candidate, false, c.voice));
  }
  const j = c.journeys;
  if (j.baselinePerS !== null && j.candidatePerS !== null) (j.measurable ? changed : unchanged).push(journeysSentence(j.baselinePerS, j.candidatePerS, j.measurable, c.voice));
  return [...changed, ...unchanged];
}

/**
 * The refusal or the comparison, for the CLI, `report --baseline`, the status page and its
 * API alike.
 */
export function tryCompare(baseline: HistoryEntry, candidate: HistoryEntry): { comparison: Comparison; refused: null } | { comparison: null; refused: string } {
  const refused = comparability(baseline, candidate);
  return refused === null ? { comparison: compareRuns(baseline, candidate), refused: null } : { comparison: null, refused };
}

/** The runs the status page compares by default, and why there is no comparison when there is none. */
export interface DefaultPicks {
  candidate: HistoryEntry | null;
  baseline: HistoryEntry | null;
  /** Why nothing is compared (the candidate's test is broken, no comparable run before it); null with a baseline. */
  reason: string | null;
}

/**
 * The status page's default picks (and GET /api/compare's without a baseline): the viewed
 * run is the candidate (the newest run without one); the baseline is the latest comparable
 * run before it with promo type `none` (and no promo name), else the latest comparable run
 * before it.
 * `entries` in any order; "before" is by end time.
 */
export function defaultComparison(entries: readonly HistoryEntry[], viewedTestid: string | null): DefaultPicks {
  const sorted = [...entries].sort((a, b) => Date.parse(a.endedAt) - Date.parse(b.endedAt));
  const candidate = (viewedTestid === null ? sorted.at(-1) : sorted.filter((e) => e.testid === viewedTestid).at(-1)) ?? null;
  if (!candidate) return { candidate: null, baseline: null, reason: viewedTestid === null ? 'No run has finished yet.' : `The run ${viewedTestid} has not finished yet, so there is nothing to compare.` };
  const broken = entryVerdict(candidate).broken;
  if (broken) return { candidate, baseline: null, reason: refusal.broken('candidate', broken) };
  const before = sorted.filter((e) => e !== candidate && Date.parse(e.endedAt) <= Date.parse(candidate.endedAt) && comparability(e, candidate) === null);
  const baseline = before.filter((e) => !hasPromo(e)).at(-1) ?? before.at(-1) ?? null;
  return { candidate, baseline, reason: baseline ? null : 'No earlier run of the same scenario and journey to compare with.' };
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

/** 'green' when a measurable change is an improvement, 'red' when it is a regression, null otherwise. */
export function verdict(row: ComparisonRow): 'green' | 'red' | null {
  if (row.delta === null || row.measurable !== true || Number(row.delta.toFixed(row.decimals)) === 0) return null;
  const improved = row.better === 'lower' ? row.delta < 0 : row.delta > 0;
  return improved ? 'green' : 'red';
}

function gradeColour(colour: string): keyof typeof ANSI | null {
  return colour === 'green' || colour === 'orange' || colour === 'red' || colour === 'grey' ? colour : null;
}

/**
 * The last line: the measurable changes, or that there is none.
 *   "Promo overhead: p95 cart +97 %"
 *   "Promo overhead: no measurable change"
 */
export function overheadLine(c: Comparison): string {
  const parts = c.pages.filter((p) => p.p95Measurable && p.p95DeltaPct !== null).map((p) => `p95 ${p.pageType} ${signed(p.p95DeltaPct!, 0)} %`);
  if (c.errors.measurable && isNumber(c.errors.baseline) && isNumber(c.errors.candidate)) parts.push(`errors ${signed((c.errors.candidate - c.errors.baseline) * 100, 2)} pt`);
  if (c.journeys.measurable && c.journeys.baselinePerS && c.journeys.candidatePerS !== null) parts.push(`journeys/s ${signed(((c.journeys.candidatePerS - c.journeys.baselinePerS) / c.journeys.baselinePerS) * 100, 0)} %`);
  const label = c.voice === 'promo' ? 'Promo overhead' : 'Change';
  return `${label}: ${parts.length > 0 ? parts.join(', ') : 'no measurable change'}`;
}

/**
 * A side-by-side table:
 *
 *   Baseline:  <testid>  <grade>  <exit reason>
 *   Candidate: <testid>  <grade>  <exit reason>
 *
 *   metric              baseline  candidate    delta  delta %
 *   p95 cart (ms)           60.0      118.0    +58.0  +96.7 %
 *   …
 *   <the sentences>
 *   Promo overhead: …   (see overheadLine)
 *
 * Deltas are candidate − baseline. With colour, the delta cells of a measurable change are
 * green when it is an improvement and red when it is a regression (no measurable change or
 * unknown: no colour), and grades take their traffic-light colour. Without colour: no
 * escape codes.
 */
export function formatComparison(c: Comparison, options: { colour: boolean }): string {
  const on = options.colour;
  const lines: string[] = [];
  const idWidth = Math.max(c.baseline.testid.length, c.candidate.testid.length);
  const who = (label: string, e: HistoryEntry) =>
    `${label.padEnd(11)}${e.testid.padEnd(idWidth)}  ${paint(e.grade.text, gradeColour(e.grade.colour), on)}  ${e.exitReason}`;
  lines.push(who('Baseline:', c.baseline), who('Candidate:', c.candidate), '');

  const header = ['metric', 'baseline', 'candidate', 'delta', 'delta %'];
  const cells = c.rows.map((row) => ({
    colour: verdict(row),
    text: [
      row.metric,
      row.baseline === null ? NONE : row.baseline.toFixed(row.decimals),
      row.candidate === null ? NONE : row.candidate.toFixed(row.decimals),
      row.delta === null ? NONE : signed(row.delta, row.decimals),
      row.deltaPct === null ? NONE : `${signed(row.deltaPct, 1)} %`,
    ],
  }));
  const widths = header.map((h, col) => Math.max(h.length, ...cells.map((r) => r.text[col]!.length)));
  const pad = (text: string, col: number) => (col === 0 ? text.padEnd(widths[col]!) : text.padStart(widths[col]!));
  lines.push(header.map(pad).join('  '));
  for (const row of cells) {
    lines.push(row.text.map((t, col) => (col >= 3 ? ' '.repeat(widths[col]! - t.length) + paint(t, row.colour, on) : pad(t, col))).join('  '));
  }
  lines.push('', ...c.sentences, '', overheadLine(c));
  return lines.join('\n') + '\n';
}
