// The JSON between the CLI and the sink (and anyone else on the sink's API): the one
// module cli/ and sink/ both import. Types only, plus k6's own stop body, which both
// send to k6's REST API.
import type { Colour, GradeLetter } from '../lib/grade.ts';

/** A grade as the API carries it: `text` is formatGrade()'s "A (97/100)" or "N/A". */
export interface GradeJson {
  letter: GradeLetter;
  score: number | null;
  colour: Colour;
  text: string;
  reason?: string;
}

/** One window's figures (the live window, or the whole run). */
export interface FiguresJson {
  requests: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  errorRatio: number | null;
  rps: number | null;
  vus: number;
  checksRate: number | null;
  iterations: number;
  grade: GradeJson;
}

/** One page_type's, or one name's, figures over the whole run. */
export interface PageFiguresJson {
  /** The page_type, or the name (URL group). */
  key: string;
  requests: number;
  rps: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  errorRatio: number | null;
  /**
   * The p95's 95 % confidence interval (ms): k6's estimator at the ranks p ± 1.96·√(p(1−p)/n)
   * of the merged histogram. A comparison counts a change only outside it (report/compare.ts).
   * Absent from entries written before issue 21, and without a histogram.
   */
  p95LowMs?: number | null;
  p95HighMs?: number | null;
}

export interface PagesJson {
  pageTypes: PageFiguresJson[];
  /** The 10 names with the highest p95, slowest first. */
  slowestNames: PageFiguresJson[];
}

/** A threshold's verdict on the merged data of every instance. */
export interface ThresholdResultJson {
  /** As in k6's options.thresholds: `http_req_duration{page_type:product}`. */
  metric: string;
  /** `p(95)<800`. */
  threshold: string;
  /** null while there is nothing to judge, or when it is not judged here (supported false). */
  ok: boolean | null;
  /** The aggregation's value: ms for durations, a ratio for rates. */
  value: number | null;
  /** The requests it was judged on. */
  requests: number;
  abortOnFail: boolean;
  supported: boolean;
  /** Why it is not judged (supported false), or why its value may differ from k6's (checks). */
  reason?: string;
}

/**
 * Where a ramp found the shop's limits (sink/grade/capacity.ts, docs/capacity.md). A
 * breaking point and a throughput limit come only from a growing load and only from the
 * shop: failures of the shop's kind (FailureSide 'shop'), and a saturation of the requests
 * in flight. The fields after maxVus are absent from entries written before issue 21.
 */
export interface CapacityJson {
  breakingPointVus: number | null;
  /** Requests/s (not failed) the shop tops out at, and the VUs where it does. */
  throughputLimitRps: number | null;
  throughputLimitVus: number | null;
  maxVus: number;
  /** Completed requests/s (not failed) at the run's peak load: the "up to X req/s" of "no limit found". */
  peakOkRps?: number | null;
  /** Whether the load grew during the run (a ramp): limits are looked for only then. */
  loadGrew?: boolean;
  /** The shop showed strain without a limit found: latency rose by half or more as the load grew, or its failures passed 1 %, or p95 2 s. */
  strained?: boolean;
  /** The capacity model of a ramp (issue 22); null without a growing load or for a broken test; absent before issue 22. */
  forecast?: ForecastJson | null;
}

/**
 * The capacity model of a ramp (sink/grade/forecast.ts, docs/capacity.md): the Universal
 * Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)) fitted to completed ok requests/s (X)
 * against requests in flight by Little's law (N), each second of the ramp a point, with a
 * 95 % band from a seeded bootstrap over the points. `kind` 'floor': the ramp never left
 * the shop's linear part, so there is no peak to give, only "at least lowRps".
 */
export interface ForecastJson {
  kind: 'peak' | 'floor';
  /** The predicted peak of completed ok requests/s; null for a floor. */
  peakRps: number | null;
  /** The users (VUs of the ramp's journey) whose pace at low load asks the shop for peakRps: more only queue. Null for a floor. */
  peakVus: number | null;
  /** The band's low end (2.5th percentile of the bootstrap's peaks), or for a floor the floor itself: at least this many requests/s. */
  lowRps: number | null;
  /** The band's high end (97.5th percentile); null for a floor. */
  highRps: number | null;
  /** The band in users (lowRps and highRps × usersPerRps). */
  lowVus: number | null;
  highVus: number | null;
  /** N*: the requests in flight at the peak, √((1−σ)/κ); null for a floor. */
  peakConcurrency: number | null;
  lambda: number;
  sigma: number;
  kappa: number;
  r2: number;
  /** The seconds of the ramp the fit rests on. */
  points: number;
  /** Users per request/s at the ramp's pace with the shop unloaded (its unloaded latency plus the journey's time between requests). */
  usersPerRps: number;
}

/** The expected Black Friday peak (`--expect-users N` or `--expect-rps R`): one of the two. */
export interface ExpectRequest {
  users?: number;
  rps?: number;
}

/**
 * Will the shop hold the expected peak? `holds` when the expected load is below the
 * forecast's band, `at-risk` inside it (or past a floor the ramp never went beyond),
 * `will-not-hold` above it; `unknown` when the run gave no forecast (a broken test, a
 * steady load). headroomPct: how much more load than expected the shop's predicted peak
 * (or floor) serves, in % of the expected load; negative when it serves less.
 */
export type ExpectationVerdict = 'holds' | 'at-risk' | 'will-not-hold' | 'unknown';

export interface ExpectationJson {
  users?: number;
  rps?: number;
  verdict: ExpectationVerdict;
  headroomPct: number | null;
}

/**
 * Why a failed request failed, from the status and error_code labels k6 puts on
 * http_reqs (sink/grade/failures.ts): k6's error codes 1100–1199 (DNS), 1212 (refused),
 * 1300–1399 (TLS), 1000 + the HTTP status for answers it counts as failed, 1050 (request
 * timeout), 1211 (dial timeout), 1220 (reset by peer), 1000 (EOF and the like).
 */
export type FailureCause =
  /** Nothing listened: connection refused. The test is broken. */
  | 'refused'
  /** The host name did not resolve. The test is broken. */
  | 'dns'
  /** The TLS handshake or the certificate failed. The test is broken. */
  | 'tls'
  /** A 4xx (but 408 and 429) on a page of the journey: the journey asks for what is not there. The test is broken. */
  | 'client_error'
  /** 5xx: the shop is failing. */
  | 'server_error'
  /** 429: the shop refuses the load. */
  | 'rate_limited'
  /** No answer in time (k6's timeout, a dial timeout, 408): the shop is failing. */
  | 'timeout'
  /** The connection dropped before a whole answer (reset by peer, EOF): the shop is failing. */
  | 'dropped'
  /** Anything else k6 counted as failed (counted against the shop). */
  | 'other';

/** Whose failure: the test's (it could not reach the shop, or its journey is broken) or the shop's. */
export type FailureSide = 'test' | 'shop';

/** Failed requests of one cause, on one page type, to one origin. */
export interface FailureCauseJson {
  cause: FailureCause;
  side: FailureSide;
  /** The HTTP status (0: no answer). */
  status: number;
  /** k6's error_code; null when k6 gave none. */
  errorCode: number | null;
  /** k6's error text ("dial: connection refused"); null when k6 gave none. */
  error: string | null;
  /** The page_type tag; null when the requests had none. */
  pageType: string | null;
  /** scheme://host[:port] the requests went to. */
  origin: string | null;
  /** One URL of them (k6's name label). */
  url: string | null;
  failed: number;
  /** The requests of the same page type (all requests without one): "every product page answered 404". */
  pageRequests: number;
}

/** The run's failed requests by cause (sink/grade/failures.ts). */
export interface FailuresJson {
  requests: number;
  failed: number;
  /** Failed requests the test itself caused (FailureSide 'test'). */
  testSide: number;
  /** Failed requests the shop caused (FailureSide 'shop'). */
  shopSide: number;
  /** The largest causes, most failures first; at most 10. */
  causes: FailureCauseJson[];
}

/**
 * How a run ended. `guard` is the sink's own stop before the test harms the shop (its
 * `detail` then says what tripped it).
 */
export type EndingKind = 'completed' | 'stopped' | 'threshold' | 'guard' | 'aborted';

export interface EndingJson {
  kind: EndingKind;
  /** The VUs when it ended: at the stop, or the most the run reached. */
  atVus: number;
  /** The most VUs the run was to reach (its scenarios' peak, from the registration); null when unknown. */
  plannedVus: number | null;
  /** threshold: "http_req_duration p(95)<300 failed at 651.2 ms"; aborted: "k6 exited with 108 (aborted by the script)"; null otherwise. */
  detail: string | null;
  /** guard: the seconds from the breaking point to the guard's stop; null (or absent) when the run had no breaking point before it. */
  sinceBreakS?: number | null;
}

/** What a run says about the shop: 'graded' (a letter), 'test_broken' (no letter: the test could not reach the shop or its journey is broken), 'no_data'. */
export type VerdictKind = 'graded' | 'test_broken' | 'no_data';
/** Which capacity sentence: "broke at", "tops out at", "no limit found", or a limit not measured. */
export type CapacityKind = 'broke' | 'limit' | 'no_limit' | 'not_measured';

/**
 * The sentences of a run, worded once by report/sentences.ts (verdictOf) and carried as
 * they are in the run's JSON, its history entry and every message: the CLI, the status
 * page, the report and the notifications show these strings, never their own.
 */
export interface VerdictJson {
  kind: VerdictKind;
  /** The sentence under the light: the test's breakage, else how the run ended early, else the grade in words. */
  headline: string;
  /** "The test could not reach the shop: …" or "The journey is broken: …"; null when the shop was reached. */
  broken: string | null;
  /** "The shop broke at …", "… it tops out at …", "No limit found up to …"; null when the test is broken or nothing was sent. */
  capacity: string | null;
  capacityKind: CapacityKind | null;
  /** "Stopped by hand at 12 of 20 users; the shop held until then."; null while running and when the run ran to its end. */
  ending: string | null;
  endingKind: EndingKind | null;
  /** The capacity model in words: "Forecast: the shop peaks near …"; absent without a forecast (issue 22). */
  forecast?: string;
  /** Will it hold the promo, in words; the headline when the test is not broken. Absent without an expectation (issue 22). */
  expectation?: string;
  expectationKind?: ExpectationVerdict;
}

/** A run's figures at one moment: a point of GET /api/runs/:testid/series. */
export interface SeriesPointJson {
  /** Sample time, ms since the epoch. */
  t: number;
  vus: number;
  /** All requests per second, and those that did not fail, over the point's 5 s window. */
  rps: number | null;
  okRps: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  errorRatio: number | null;
  checksRate: number | null;
  /** The run's requests and failed requests so far (every instance), for windows of any length. */
  requests: number;
  failed: number;
  /** Of the failed requests so far, those of the shop's kind (FailureSide 'shop'); absent from series kept before issue 21. */
  shopFailed?: number;
  /** Mean duration of the window's requests (ms): with rps, the requests in flight by Little's law. Absent before issue 21. */
  meanMs?: number | null;
  /**
   * The run's request durations so far, summed (ms), and their count (every instance; from
   * the native histograms, absent without them and before issue 22): between two points,
   * the requests in flight by Little's law are Δsum / Δt, exactly.
   */
  durationSumMs?: number;
  durationCount?: number;
  /** The grade of the window: letter and score (null while N/A). */
  grade: string;
  score: number | null;
}

/** GET /api/runs/:testid/series: a point per second of sample time, at most 1,200 (then every `stepMs`). */
export interface RunSeriesJson {
  testid: string;
  /** Sample time between two points: 1000, doubled each time a long run outgrew the bound. */
  stepMs: number;
  points: SeriesPointJson[];
}

/** GET /api/runs/:testid (and each of GET /api/runs). */
export interface RunJson {
  testid: string;
  /** `guard`: the sink's guard stopped the run (it sent the stop to every instance). */
  status: 'running' | 'ended' | 'stopped' | 'aborted' | 'guard';
  tags: Record<string, string>;
  firstSampleAt: string | null;
  lastSampleAt: string | null;
  endedAt: string | null;
  series: number;
  p95Source: 'native_histogram' | 'trend_stats_per_series' | null;
  breakingPointVus: number | null;
  capacity: CapacityJson;
  naReason: string | null;
  live: FiguresJson;
  final: FiguresJson;
  pages: PagesJson;
  thresholds: ThresholdResultJson[];
  /** The abortOnFail threshold that failed on the merged data and stopped the run. */
  abortedBy: ThresholdResultJson | null;
  /** When the sink found that breach and began stopping the instances. */
  abortedAt: string | null;
  /** The failed requests by cause: whether the test or the shop failed. */
  failures: FailuresJson;
  /** How the run ended, once its history entry is written; null before. */
  ending: EndingJson | null;
  /** The run's sentences (report/sentences.ts). */
  verdict: VerdictJson;
  /** Will the shop hold the expected peak (from the registration's `expect`); absent without one. */
  expectation?: ExpectationJson;
}

/** POST /api/runs: the CLI registers each k6 instance of a run. */
export interface RegistrationRequest {
  testid: string;
  scenario?: string;
  tags?: Record<string, string>;
  target?: string;
  k6Address?: string;
  abortOnFail?: boolean;
  /** The bundle's options.thresholds (k6 inspect), to judge on the data of every instance. */
  thresholds?: Record<string, Array<string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string }>>;
  /** The most VUs the run is to reach (its scenarios' peak, from k6 inspect): "stopped at 12 of 20 users". */
  plannedVus?: number;
  /** The expected Black Friday peak (`--expect-users`, `--expect-rps`): the run says whether the shop will hold it. */
  expect?: ExpectRequest;
  /** The guard's rules: the sink stops every instance when one of them holds (docs/capacity.md). Absent: no guard. */
  guard?: GuardJson;
}

/**
 * One rule of the guard: the measure stayed above `above` for `forMs`, every second of it.
 * `errors` is the share of requests that failed on the shop's side (a ratio, 0.05 for 5 %);
 * `p50`…`p99` a percentile of http_req_duration, in ms. `--guard 'errors>5%:10s,p95>3s:10s'`
 * is `[{measure: 'errors', above: 0.05, forMs: 10000}, {measure: 'p95', above: 3000, forMs: 10000}]`.
 */
export interface GuardRuleJson {
  measure: GuardMeasure;
  above: number;
  forMs: number;
}

export type GuardMeasure = 'errors' | 'p50' | 'p90' | 'p95' | 'p99';

/** The guard of a run: it trips on the first rule that holds. */
export interface GuardJson {
  rules: GuardRuleJson[];
}

/** The guard tripped: which rule held, from when until when (sample time, ms), and the least its measure was meanwhile. */
export interface GuardTripJson {
  rule: GuardRuleJson;
  since: number;
  at: number;
  /** A ratio for errors, ms for a percentile: "never under 12 %". */
  lowest: number;
}

/** POST /api/runs answers with what the sink keeps of the run's registration. */
export interface RegistrationReply {
  testid: string;
  /** k6 instances registered with a REST API address the sink may stop. */
  k6Instances: number;
  /** Whether this sink stops runs at all (it has a token): false, it stops nothing, whatever it is told. */
  sinkStops: boolean;
  /** The addresses themselves, only to a caller with the token (k6's REST API has no auth of its own). */
  k6Addresses?: string[];
}

/** A run's registration as the event stream shows it (GET /api/runs/:testid/events). */
export interface RegistrationJson extends RegistrationReply {
  scenario: string | null;
  tags: Record<string, string>;
  target: string | null;
  registeredAt: number;
  stopRequestedAt: number | null;
  finishedAt: number | null;
  exitCode: number | null;
  abortOnFail: boolean;
  k6Summary: K6SummaryFigures | null;
  abortedBy: ThresholdResultJson | null;
  /** When the sink's guard sent its stop (wall clock, ms) and what tripped it, in words; null unless the guard stopped the run. */
  guardStop: { at: number; detail: string } | null;
}

/** What the CLI reads from k6's --summary-export: the exact figures the CLI grades. */
export interface K6SummaryFigures {
  requests: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  errorRatio: number;
  rps: number;
  checksRate: number | null;
  iterations: number;
}

/** POST /api/runs/:testid/finish. */
export interface FinishRequest {
  exitCode: number | null;
  k6Summary?: K6SummaryFigures;
}

/** One finished run: a line of the history file, and an entry of GET /api/history. */
export interface HistoryEntry {
  testid: string;
  scenario: string | null;
  /** The run's labels: environment, promo_type, promo_name, intensity, … */
  tags: Record<string, string>;
  target: string | null;
  /** ISO 8601. */
  startedAt: string | null;
  /** ISO 8601. */
  endedAt: string;
  /** k6's exit code; null when the run ended without one (stale markers only). */
  exitCode: number | null;
  /** Why the run ended, in words (see the sink's exitReason()). */
  exitReason: string;
  requests: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** failed / total, between 0 and 1. */
  errorRatio: number | null;
  rps: number | null;
  maxVus: number;
  /** passed / total checks, between 0 and 1. */
  checksRate: number | null;
  iterations: number;
  /** text is formatGrade()'s "A (97/100)" or "N/A"; colour is colourFor()'s. */
  grade: { letter: string; score: number | null; colour: string; text: string };
  breakingPointVus: number | null;
  /** Entries written before these were kept lack them. */
  capacity?: CapacityJson;
  pages?: PagesJson;
  thresholds?: ThresholdResultJson[];
  abortedBy?: ThresholdResultJson | null;
  /** The whole run's p95 95 % confidence interval (see PageFiguresJson); absent before issue 21. */
  p95LowMs?: number | null;
  p95HighMs?: number | null;
  /** The failed requests by cause; absent before issue 21. */
  failures?: FailuresJson;
  /** How the run ended; absent before issue 21. */
  ending?: EndingJson;
  /** The run's sentences (report/sentences.ts), as every surface shows them; absent before issue 21 (entryVerdict() words them then). */
  verdict?: VerdictJson;
  /** Will the shop hold the expected peak the run was given (`--expect-users`, `--expect-rps`); absent without one. */
  expectation?: ExpectationJson;
}

/** k6's REST API stops a run with a JSON:API PATCH of its status (PATCH /v1/status). */
export const K6_STOP_BODY = { data: { type: 'status', id: 'default', attributes: { stopped: true } } };
