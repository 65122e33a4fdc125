// Every sentence the product says about a run, a comparison or a trend, worded here and
// nowhere else (issue 21: "every sentence marketing reads is true"). Pure: no Node and no
// DOM, so the sink, the CLI, the report and the status page's script all run this code.
//
// What carries the words (contract/sink-api.ts):
// - `RunJson.verdict` and `HistoryEntry.verdict` (VerdictJson): the sink calls verdictOf()
//   with the run's grade, `failures` (FailuresJson), `capacity` (CapacityJson) and `ending`
//   (EndingJson), and every surface shows `verdict.headline`, `.broken`, `.capacity` and
//   `.ending` as they are. entryVerdict() words an entry written before issue 21.
// - Comparisons (report/compare.ts) and trends (report/trend.ts) decide what changed; the
//   words of each change come from the functions below.
//
// The kinds of sentence, each with a real k6 run where it must appear and one where it must
// not (test/integration/sentences.test.ts):
//   "broke at", "tops out at", "no limit found" (capacitySentence);
//   "could not reach" and "the journey is broken" (brokenSentence);
//   "stopped …" (endingSentence), "Stopped by the guard …" (endingSentence, guardTripDetail);
//   "x % slower with the promo" and "no measurable change" (pageChangeSentence, …);
//   "got slower" / "got faster" / "held" (trendSentence);
//   "Forecast: … tops out near …" and "Forecast: at least …" (forecastSentence, issue 22);
//   "Holds", "At risk", "Will not hold", "Cannot tell" (expectationSentence, issue 22;
//   test/integration/forecast.test.ts).
import type { CapacityJson, CapacityKind, EndingJson, ExpectationJson, FailureCauseJson, FailuresJson, ForecastJson, GuardRuleJson, HistoryEntry, VerdictJson } from '../contract/sink-api.ts';

// ---------------------------------------------------------------- numbers in words

/** "1 user", "12 users"; "12 of 20 users" when the planned peak is known. */
export function users(n: number, of: number | null = null): string {
  const count = Math.round(n).toLocaleString('en-US');
  if (of !== null && of > 0) return `${count} of ${Math.round(of).toLocaleString('en-US')} user${of === 1 ? '' : 's'}`;
  return `${count} user${Math.round(n) === 1 ? '' : 's'}`;
}

/** "1 simultaneous user", "94 simultaneous users". */
function simultaneous(n: number): string {
  return `${Math.round(n).toLocaleString('en-US')} simultaneous user${Math.round(n) === 1 ? '' : 's'}`;
}

/** A share of a whole: "100 %" only when it is all of it, "63 %", "2.5 %", "99.9 %", "under 0.1 %". */
export function share(part: number, whole: number): string {
  if (whole <= 0 || part <= 0) return '0 %';
  if (part >= whole) return '100 %';
  const pct = (part / whole) * 100;
  if (pct < 0.1) return 'under 0.1 %';
  if (pct >= 10 && Math.round(pct) < 100) return `${Math.round(pct)} %`;
  return `${Math.min(99.9, Number(pct.toFixed(1)))} %`;
}

/** Requests/s: one decimal below 100, whole above. */
export function rate(rps: number): string {
  return rps >= 100 ? Math.round(rps).toLocaleString('en-US') : rps.toFixed(1);
}

/** A relative change in %, as printed: whole from 10 % up, one decimal below. */
function pctText(pct: number): string {
  const a = Math.abs(pct);
  return a >= 10 ? `${Math.round(a)}` : `${Number(a.toFixed(1))}`;
}

/**
 * Two durations and their relative change in words that agree: both in the unit of the
 * larger (ms, or s from 1 s up), with as many decimals as it takes for the change worked out
 * from the printed figures to print as the same percentage (1.4 → 1.9 ms is "+36 %", never
 * "1 ms to 2 ms (+36 %)").
 */
export function durationPair(baselineMs: number, candidateMs: number, withChange = true): { baseline: string; candidate: string; pct: string } {
  const pct = baselineMs > 0 ? ((candidateMs - baselineMs) / baselineMs) * 100 : 0;
  const printed = pctText(pct);
  const largest = Math.max(baselineMs, candidateMs);
  const [scale, unit, least] = largest >= 1000 ? [1000, 's', 2] : [1, 'ms', largest >= 10 ? 0 : 1];
  // Without a change printed beside them, the figures need no more decimals than their size asks.
  if (!withChange) return { baseline: `${(baselineMs / scale).toFixed(least)} ${unit}`, candidate: `${(candidateMs / scale).toFixed(least)} ${unit}`, pct: printed };
  for (let d = least; ; d++) {
    const b = (baselineMs / scale).toFixed(d);
    const c = (candidateMs / scale).toFixed(d);
    if (d >= least + 3 || (Number(b) > 0 && pctText(((Number(c) - Number(b)) / Number(b)) * 100) === printed)) return { baseline: `${b} ${unit}`, candidate: `${c} ${unit}`, pct: printed };
  }
}

const firstUpper = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const withoutStop = (s: string) => s.replace(/\.$/, '');

// ---------------------------------------------------------------- the test is broken

/**
 * The rule for "the test is broken" (docs/capacity.md): the failures the test itself caused
 * (refused, DNS, TLS, 4xx on the journey's pages) are most of the failures (more than half)
 * and at least 1 % of every request. Below that the shop's grade stands, the test's
 * failures counted in it.
 */
export const TEST_BROKEN_MIN_SHARE = 0.01;

export function testIsBroken(f: FailuresJson | null | undefined): boolean {
  if (!f || f.requests <= 0 || f.testSide <= 0) return false;
  return f.testSide > f.failed / 2 && f.testSide >= TEST_BROKEN_MIN_SHARE * f.requests;
}

/** "every product page", "63 % of product pages", "every request for the homepage", "every request". */
function pagesWord(cause: FailureCauseJson): string {
  const all = cause.failed >= cause.pageRequests;
  const part = share(cause.failed, cause.pageRequests);
  if (cause.pageType === null) return all ? 'every request' : `${part} of requests`;
  if (cause.pageType === 'homepage') return all ? 'every request for the homepage' : `${part} of requests for the homepage`;
  return all ? `every ${cause.pageType} page` : `${part} of ${cause.pageType} pages`;
}

/**
 * Why the test is broken, in one sentence naming the largest cause of its failures; null
 * when the test is not broken (testIsBroken). Examples:
 *   "The test could not reach the shop: 100 % of requests were refused (connection refused at http://127.0.0.1:9)."
 *   "The journey is broken: every product page answered 404 (http://shop.test/product/1)."
 */
export function brokenSentence(f: FailuresJson | null | undefined): string | null {
  if (!f || !testIsBroken(f)) return null;
  const test = f.causes.filter((c) => c.side === 'test');
  const top = test[0];
  if (!top) return null;
  const where = top.origin ?? top.url ?? 'the target';
  // Every cause of the same kind counts for the share of requests that failed so.
  const sameKind = test.filter((c) => c.cause === top.cause).reduce((n, c) => n + c.failed, 0);
  const part = share(sameKind, f.requests);
  switch (top.cause) {
    case 'refused':
      return `The test could not reach the shop: ${part} of requests were refused (connection refused at ${where}).`;
    case 'dns':
      return `The test could not reach the shop: ${part} of requests could not find its host name (${top.error ?? 'no such host'} at ${where}).`;
    case 'tls':
      return `The test could not reach the shop: ${part} of requests failed the TLS handshake (${top.error ?? 'TLS error'} at ${where}).`;
    default:
      return `The journey is broken: ${pagesWord(top)} answered ${top.status} (${top.url ?? where}).`;
  }
}

// ---------------------------------------------------------------- capacity

/** Which capacity sentence a run gets (see capacitySentence). */
export function capacityKind(c: CapacityJson): CapacityKind {
  if (c.breakingPointVus !== null) return 'broke';
  if (c.throughputLimitRps !== null) return 'limit';
  return c.strained ? 'not_measured' : 'no_limit';
}

/**
 * The capacity in one sentence. A limit and a break come only from the shop (CapacityJson):
 *   broke:        "The shop broke at 94 simultaneous users; it tops out at 80.0 requests/s (reached at 85 users)."
 *   limit:        "No break up to 100 simultaneous users; it tops out at 80.0 requests/s (reached at 85 users)."
 *   no_limit:     "No limit found up to 24.6 req/s at 20 users: the load, not the shop, set the pace."
 *   not_measured: the shop strained without a limit found, on a growing load or a steady one.
 */
export function capacitySentence(c: CapacityJson): { kind: CapacityKind; text: string } {
  const kind = capacityKind(c);
  const limit = c.throughputLimitRps !== null ? `; it tops out at ${rate(c.throughputLimitRps)} requests/s (reached at ${users(c.throughputLimitVus ?? 0)})` : '';
  const peak = rate(c.peakOkRps ?? 0);
  switch (kind) {
    case 'broke':
      return { kind, text: `The shop broke at ${simultaneous(c.breakingPointVus!)}${limit}.` };
    case 'limit':
      return { kind, text: `No break up to ${simultaneous(c.maxVus)}${limit}.` };
    case 'no_limit':
      return { kind, text: `No limit found ${c.peakOkRps ? `up to ${peak} req/s ` : ''}at ${users(c.maxVus)}: the load, not the shop, set the pace.` };
    case 'not_measured':
      return {
        kind,
        text:
          c.loadGrew === false
            ? `No limit measured at ${users(c.maxVus)}: the load did not grow, and the shop was struggling under it; a ramp finds where it tops out.`
            : `No limit measured ${c.peakOkRps ? `up to ${peak} req/s ` : ''}at ${users(c.maxVus)}: the shop slowed down as the load grew, but the test ended before its throughput levelled off.`,
      };
  }
}

// ---------------------------------------------------------------- the capacity model

/** Whole users, at least one: "about 30 users" of a forecast. */
const forecastUsers = (n: number | null) => users(Math.max(1, Math.round(n ?? 0)));

/**
 * A ramp's capacity model in words (docs/capacity.md, "What a marketer should read"):
 *   peak:  "Forecast: the shop tops out near 120 requests/s, the pace of about 30 users of this test (95 % likely between 112 and 127 requests/s)."
 *   floor: "Forecast: at least 24.6 requests/s, the pace of about 10 users of this test: the shop kept up with all the load, so its limit lies further."
 *   a floor of a ramp that found the shop's limit (`limitFound`: it broke or topped out, capacitySentence), whose seconds the law could not fit:
 *          "Forecast: no model of the shop's limit from this ramp; it served at least 24.6 requests/s, the pace of about 10 users of this test."
 */
export function forecastSentence(f: ForecastJson, limitFound = false): string {
  if (f.kind === 'floor' && limitFound) return `Forecast: no model of the shop's limit from this ramp; it served at least ${rate(f.lowRps!)} requests/s, the pace of about ${forecastUsers(f.lowVus)} of this test.`;
  if (f.kind === 'floor') return `Forecast: at least ${rate(f.lowRps!)} requests/s, the pace of about ${forecastUsers(f.lowVus)} of this test: the shop kept up with all the load, so its limit lies further.`;
  return `Forecast: the shop tops out near ${rate(f.peakRps!)} requests/s, the pace of about ${forecastUsers(f.peakVus)} of this test (95 % likely between ${rate(f.lowRps!)} and ${rate(f.highRps!)} requests/s).`;
}

/**
 * Will the shop hold the expected peak (report/forecast.ts's verdict), in words that say the
 * verdict first:
 *   holds:         "Holds: the shop should take the expected 20 users, with 50 % headroom (it tops out near 30 users)."
 *   at-risk:       "At risk: the expected 30 users are within the forecast's margin: the shop tops out near 31 users (95 % likely between 28 and 35)."
 *                  "At risk: not proven for the expected 50 users: the test reached 20 users (at least 80.0 requests/s) without finding the shop's limit; a ramp past 50 users would tell."
 *   will-not-hold: "Will not hold: the shop tops out near 30 users, fewer than the expected 60 (95 % likely at most 35)."
 *   unknown:       "Cannot tell whether the shop holds the expected 60 users: this test gave no capacity forecast; a ramp past them gives one."
 *                  past a floor when the ramp found the limit but the law could not fit it (`limitFound`):
 *                  "At risk: not proven for the expected 50 users: the test found the shop's limit, but no model of it (at least 80.0 requests/s); a longer ramp past 50 users would tell."
 * `reachedVus`: the most users the test reached (a floor's "the test reached …").
 */
export function expectationSentence(e: ExpectationJson, f: ForecastJson | null | undefined, reachedVus: number | null = null, limitFound = false): string {
  const byUsers = e.users !== undefined;
  const expected = byUsers ? users(e.users!) : `${rate(e.rps!)} requests/s`;
  const headroom = e.headroomPct === null ? '' : `${Math.round(Math.abs(e.headroomPct))} %`;
  if (e.verdict === 'unknown' || !f) return `Cannot tell whether the shop holds the expected ${expected}: this test gave no capacity forecast; a ramp past ${byUsers ? 'them' : 'that pace'} gives one.`;
  const tops = byUsers ? forecastUsers(f.peakVus) : `${rate(f.peakRps!)} requests/s (about ${forecastUsers(f.peakVus)})`;
  const whole = (n: number | null) => Math.max(1, Math.round(n ?? 0)).toLocaleString('en-US');
  // The band in the unit of the expectation: "28 and 35 users", "112 and 127 requests/s".
  const [low, high] = byUsers ? [whole(f.lowVus), forecastUsers(f.highVus)] : [rate(f.lowRps!), `${rate(f.highRps!)} requests/s`];
  if (f.kind === 'floor') {
    const floor = `at least ${rate(f.lowRps!)} requests/s`;
    if (e.verdict === 'holds') return `Holds: the shop took the pace of the expected ${expected} in this test, with at least ${headroom} headroom (${floor}).`;
    if (limitFound) return `At risk: not proven for the expected ${expected}: the test found the shop's limit, but no model of it (${floor}); a longer ramp past ${expected} would tell.`;
    return `At risk: not proven for the expected ${expected}: the test reached ${users(reachedVus ?? f.lowVus ?? 0)} (${floor}) without finding the shop's limit; a ramp past ${expected} would tell.`;
  }
  switch (e.verdict) {
    case 'holds':
      return `Holds: the shop should take the expected ${expected}, with ${headroom} headroom (it tops out near ${tops}).`;
    case 'at-risk':
      return `At risk: the expected ${expected} are within the forecast's margin: the shop tops out near ${tops} (95 % likely between ${low} and ${high}).`;
    case 'will-not-hold':
      return `Will not hold: the shop tops out near ${tops}, ${byUsers ? 'fewer' : 'less'} than the expected ${byUsers ? whole(e.users!) : expected} (95 % likely at most ${high}).`;
  }
}

// ---------------------------------------------------------------- how the run ended

/** Whether the shop held until the run ended: no break, no strain. */
function held(c: CapacityJson | null): boolean {
  return c === null || (c.breakingPointVus === null && !c.strained);
}

/**
 * How the run ended, when not by running to its end; null for 'completed'. Examples:
 *   "Stopped by hand at 12 of 20 users; the shop held until then."
 *   "Stopped by hand at 12 of 20 users, after the shop broke at 9 users."
 *   "Stopped by hand at 3 of 20 users." (the test never reached the shop)
 *   "Stopped by a threshold at 14 of 20 users: http_req_duration p(95)<300 failed at 651.2 ms."
 *   "Stopped by the guard at 52 of 72 users, 11 s after the breaking point: the shop's errors stayed above 5 % for 10 s (never under 12 %)."
 *   "Aborted at 3 of 20 users: k6 exited with 108 (aborted by the script)."
 */
export function endingSentence(e: EndingJson | null | undefined, c: CapacityJson | null = null, shopReached = true): string | null {
  if (!e || e.kind === 'completed') return null;
  const at = users(e.atVus, e.plannedVus);
  const detail = e.detail ? `: ${withoutStop(e.detail)}` : '';
  switch (e.kind) {
    case 'stopped':
      // A test that never reached the shop says nothing of how the shop held.
      if (!shopReached) return `Stopped by hand at ${at}.`;
      if (c?.breakingPointVus != null) return `Stopped by hand at ${at}, after the shop broke at ${users(c.breakingPointVus)}.`;
      return held(c) ? `Stopped by hand at ${at}; the shop held until then.` : `Stopped by hand at ${at}; the shop was struggling by then.`;
    case 'threshold':
      return `Stopped by a threshold at ${at}${detail}.`;
    case 'guard': {
      const after = typeof e.sinceBreakS === 'number' && e.sinceBreakS >= 0 ? `, ${Math.round(e.sinceBreakS)} s after the breaking point` : '';
      return `Stopped by the guard at ${at}${after}${detail}.`;
    }
    case 'aborted':
      return `Aborted at ${at}${detail}.`;
  }
}

// ---------------------------------------------------------------- the guard

/** A limit as a percentage with no more decimals than it has: 0.05 → "5 %", 0.025 → "2.5 %"; a measure rounded: whole from 10 %, one decimal below. */
function percent(ratio: number, limit = true): string {
  const pct = ratio * 100;
  return `${limit ? Number(pct.toFixed(2)) : pct >= 10 ? Math.round(pct) : Number(pct.toFixed(1))} %`;
}

/** A duration in ms as a person says it: "800 ms", "3 s", "2.5 s"; a measure with one decimal of seconds at most. */
function duration(ms: number, limit = true): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(limit ? 2 : 1))} s`;
}

/** A guard rule as `--guard` takes it: "errors>5%:10s", "p95>3s:10s", "p95>800ms:10s". */
export function guardRuleText(rule: GuardRuleJson): string {
  const unit = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
  const above = rule.measure === 'errors' ? `${Number((rule.above * 100).toFixed(4))}%` : unit(rule.above);
  return `${rule.measure}>${above}:${unit(rule.forMs)}`;
}

/** "the shop's errors stay above 5 % for 10 s", "p95 stays above 3 s for 10 s" (past: "stayed"). */
function guardRuleWords(rule: GuardRuleJson, past: boolean): string {
  const verb = past ? 'stayed' : rule.measure === 'errors' ? 'stay' : 'stays';
  const what = rule.measure === 'errors' ? `the shop's errors ${verb} above ${percent(rule.above)}` : `${rule.measure} ${verb} above ${duration(rule.above)}`;
  return `${what} for ${duration(rule.forMs)}`;
}

/**
 * What the guard will do, for the CLI's line before the run:
 *   "The guard stops the run when the shop's errors stay above 5 % for 10 s, or p95 stays above 3 s for 10 s."
 */
export function guardSentence(rules: readonly GuardRuleJson[]): string {
  return `The guard stops the run when ${rules.map((r) => guardRuleWords(r, false)).join(', or ')}.`;
}

/**
 * What tripped the guard, the ending's detail: the rule, and the least the measure was
 * during those seconds (it stayed above the limit every second):
 *   "the shop's errors stayed above 5 % for 10 s (never under 12 %)"
 *   "p95 stayed above 3 s for 10 s (never under 3.4 s)"
 */
export function guardTripDetail(rule: GuardRuleJson, lowest: number): string {
  return `${guardRuleWords(rule, true)} (never under ${rule.measure === 'errors' ? percent(lowest, false) : duration(lowest, false)})`;
}

// ---------------------------------------------------------------- the grade in words

/** The light's words while a run goes on (the live window). */
export const LIVE_GRADE_WORDS: Readonly<Record<string, string>> = {
  green: 'All good: the shop is coping well.',
  orange: 'Under strain: pages are slowing down or some requests fail.',
  red: 'In trouble: the shop is too slow or failing.',
  grey: 'No grade yet: not enough figures.',
};

/** The light's words once a run is over (the whole run). */
export const FINAL_GRADE_WORDS: Readonly<Record<string, string>> = {
  green: 'The site holds: it coped well with the load.',
  orange: 'The site holds, but under strain: pages slowed down or some requests failed.',
  red: 'The site does not hold: it was too slow or failing under the load.',
  grey: 'No verdict: the test did not give enough figures.',
};

export function gradeWords(colour: string, finished: boolean): string {
  const words = finished ? FINAL_GRADE_WORDS : LIVE_GRADE_WORDS;
  return words[colour] ?? words.grey!;
}

// ---------------------------------------------------------------- the run's verdict

export interface VerdictInput {
  grade: { letter: string; colour: string };
  requests: number;
  failures: FailuresJson | null | undefined;
  capacity: CapacityJson | null | undefined;
  ending: EndingJson | null | undefined;
  /** The run is over: the whole run's words, not the live window's. */
  finished: boolean;
  /** Will the shop hold the expected peak (report/forecast.ts), when the run was given one. */
  expectation?: ExpectationJson | null;
}

/**
 * A run's sentences. The headline, under the light, is the first that applies: the test is
 * broken, the run ended early, the grade in words. A broken test has no capacity sentence:
 * nothing it measured was the shop's.
 */
export function verdictOf(input: VerdictInput): VerdictJson {
  const broken = brokenSentence(input.failures);
  const measured = broken === null && input.requests > 0 && input.capacity != null;
  const capacity = measured ? capacitySentence(input.capacity!) : null;
  const ending = endingSentence(input.ending, input.capacity ?? null, broken === null);
  const kind = broken !== null ? 'test_broken' : input.requests > 0 && input.grade.letter !== 'N/A' ? 'graded' : 'no_data';
  const colour = broken !== null ? 'grey' : input.grade.colour;
  const forecast = measured ? input.capacity!.forecast : null;
  // A floor's "the shop kept up with all the load" is not true of a ramp that broke or topped out.
  const limitFound = capacity?.kind === 'broke' || capacity?.kind === 'limit';
  return {
    kind,
    headline: broken ?? ending ?? gradeWords(colour, input.finished),
    broken,
    capacity: capacity?.text ?? null,
    capacityKind: capacity?.kind ?? null,
    ending,
    endingKind: input.ending?.kind ?? null,
    // Issue 22's sentences are there only when there is something to say (entries and runs before it have neither).
    ...(forecast ? { forecast: forecastSentence(forecast, limitFound) } : {}),
    ...(input.expectation ? { expectation: expectationSentence(input.expectation, forecast, input.capacity?.maxVus ?? null, limitFound), expectationKind: input.expectation.verdict } : {}),
  };
}

/**
 * A grade as a table cell shows it: "A (97/100)", or for a run whose test was broken "N/A:
 * the test could not reach the shop" (the first clause of its sentence), never a bare N/A
 * that reads like the shop's fault.
 */
export function gradeText(e: HistoryEntry): string {
  const broken = entryVerdict(e).broken;
  if (!broken) return e.grade?.text ?? '-';
  const clause = broken.split(':')[0]!;
  return `N/A: ${clause.charAt(0).toLowerCase()}${clause.slice(1)}`;
}

/** The sentences of a history entry: its own, or, for one written before issue 21, worded from what it holds. */
export function entryVerdict(e: HistoryEntry): VerdictJson {
  if (e.verdict) return e.verdict;
  const capacity: CapacityJson | null = e.capacity ? { ...e.capacity, peakOkRps: e.capacity.peakOkRps ?? e.rps } : null;
  return verdictOf({ grade: e.grade, requests: e.requests, failures: e.failures, capacity, ending: e.ending, finished: true });
}

// ---------------------------------------------------------------- comparisons

/** How a comparison speaks: of a promo against the shop without it, or of two runs. */
export type CompareVoice = 'promo' | 'runs';

const VOICE = {
  promo: { changed: 'with the promo', before: 'without it' },
  runs: { changed: 'in the candidate run', before: 'in the baseline' },
} as const;

/** "Cart pages were", "The homepage was", "Requests without a page type were". */
function pageSubject(pageType: string): { subject: string; verb: string } {
  if (pageType === 'homepage') return { subject: 'The homepage', verb: 'was' };
  if (pageType === '') return { subject: 'Requests without a page type', verb: 'were' };
  return { subject: `${firstUpper(pageType)} pages`, verb: 'were' };
}

/** Why two runs cannot be compared, in one sentence. */
export const refusal = {
  scenario: (baseline: string | null, candidate: string | null) =>
    `These runs cannot be compared: the baseline ran scenario ${baseline ?? '(none)'} and the candidate ${candidate ?? '(none)'}; compare runs of the same scenario.`,
  journey: (baseline: readonly string[], candidate: readonly string[]) =>
    `These runs cannot be compared: their journeys differ (the baseline visits ${listed(baseline)}, the candidate ${listed(candidate)}); compare runs of the same journey.`,
  broken: (side: 'baseline' | 'candidate', broken: string) =>
    `These runs cannot be compared: the ${side} did not measure the shop (${withoutStop(broken.charAt(0).toLowerCase() + broken.slice(1))}).`,
  noFigures: (side: 'baseline' | 'candidate') => `These runs cannot be compared: the ${side} has no per-page figures (it was recorded before the sink kept them).`,
} as const;

function listed(items: readonly string[]): string {
  if (items.length === 0) return 'no page';
  if (items.length === 1) return items[0]!;
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * One page type's p95 against the baseline's. A measurable change (report/compare.ts: past
 * both floors and outside the estimates' error bounds) gets its size; anything else is "no
 * measurable change", whatever the figures' ratio:
 *   "Cart pages were 96 % slower with the promo (95 % within 118 ms, against 60 ms without it)."
 *   "Product pages: no measurable change (95 % within 21 ms, against 20 ms without it)."
 */
export function pageChangeSentence(pageType: string, baselineMs: number, candidateMs: number, measurable: boolean, voice: CompareVoice): string {
  const { subject, verb } = pageSubject(pageType);
  const v = VOICE[voice];
  const figures = durationPair(baselineMs, candidateMs, measurable);
  const within = `95 % within ${figures.candidate}, against ${figures.baseline} ${v.before}`;
  if (!measurable) return `${subject}: no measurable change (${within}).`;
  return `${subject} ${verb} ${figures.pct} % ${candidateMs > baselineMs ? 'slower' : 'faster'} ${v.changed} (${within}).`;
}

/** The error rate against the baseline's, in percentage points. */
export function errorsSentence(baselineRatio: number, candidateRatio: number, measurable: boolean, voice: CompareVoice): string {
  const v = VOICE[voice];
  const pct = (r: number) => `${(r * 100).toFixed(2)} %`;
  const figures = `${pct(candidateRatio)} of requests failed, against ${pct(baselineRatio)} ${v.before}`;
  if (!measurable) return `Errors: no measurable change (${figures}).`;
  return `There were ${candidateRatio > baselineRatio ? 'more' : 'fewer'} errors ${v.changed}: ${figures}.`;
}

/** Journeys (iterations) per second against the baseline's: the throughput whatever the page mix. */
export function journeysSentence(baselinePerS: number, candidatePerS: number, measurable: boolean, voice: CompareVoice): string {
  const v = VOICE[voice];
  const figures = `${rate(candidatePerS)} journeys/s, against ${rate(baselinePerS)} ${v.before}`;
  if (!measurable) return `Journeys per second: no measurable change (${figures}).`;
  const pct = baselinePerS > 0 ? ((candidatePerS - baselinePerS) / baselinePerS) * 100 : 0;
  return `The shop completed ${pctText(pct)} % ${candidatePerS > baselinePerS ? 'more' : 'fewer'} journeys per second ${v.changed} (${figures}).`;
}

// ---------------------------------------------------------------- trends

export type TrendKind = 'slower' | 'faster' | 'held';

/**
 * Where p95 went from the first run of a trend to the last (report/trend.ts decides whether
 * the change is measurable: past the same floors as a comparison):
 *   "p95 went from 21 ms to 64 ms over the last 4 runs (+205 %): the shop got slower."
 *   "p95 held at about 21 ms over the last 4 runs: no measurable change."
 */
export function trendSentence(firstMs: number, lastMs: number, runs: number, measurable: boolean): { kind: TrendKind; text: string } {
  const over = `over the last ${runs} runs`;
  if (!measurable || firstMs <= 0) return { kind: 'held', text: `p95 held at about ${durationPair(lastMs, lastMs, false).candidate} ${over}: no measurable change.` };
  const f = durationPair(firstMs, lastMs);
  const slower = lastMs > firstMs;
  return { kind: slower ? 'slower' : 'faster', text: `p95 went from ${f.baseline} to ${f.candidate} ${over} (${slower ? '+' : '-'}${f.pct} %): the shop got ${slower ? 'slower' : 'faster'}.` };
}
