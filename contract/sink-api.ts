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
  naReason: string | null;
  live: FiguresJson;
  final: FiguresJson;
}

/** POST /api/runs: the CLI registers each k6 instance of a run. */
export interface RegistrationRequest {
  testid: string;
  scenario?: string;
  tags?: Record<string, string>;
  target?: string;
  k6Address?: string;
  abortOnFail?: boolean;
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
}

/** k6's REST API stops a run with a JSON:API PATCH of its status (PATCH /v1/status). */
export const K6_STOP_BODY = { data: { type: 'status', id: 'default', attributes: { stopped: true } } };
