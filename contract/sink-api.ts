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

/** Where a ramp found the shop's limits. */
export interface CapacityJson {
  breakingPointVus: number | null;
  /** Requests/s (not failed) the shop tops out at, and the VUs where it does. */
  throughputLimitRps: number | null;
  throughputLimitVus: number | null;
  maxVus: number;
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
  status: 'running' | 'ended' | 'stopped' | 'aborted';
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
}

/** k6's REST API stops a run with a JSON:API PATCH of its status (PATCH /v1/status). */
export const K6_STOP_BODY = { data: { type: 'status', id: 'default', attributes: { stopped: true } } };
