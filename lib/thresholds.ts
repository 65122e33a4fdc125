// Threshold presets derived from the grade bands, so "at least C" in k6 means
// the same as a C on the traffic light.
import { DEFAULT_BANDS, type GradeBands, type Letter, limitsFor } from './grade.ts';
import { type Env, k6Env, oneOf } from './env.ts';
import type { PageType } from './tags.ts';

export interface ThresholdOptions {
  /** Stop the test as soon as a threshold fails: for runs that could hurt the shop. */
  abortOnFail?: boolean;
  /** Let the first seconds pass before an abort can trigger. */
  delayAbortEval?: string;
}

export type Threshold = string | { threshold: string; abortOnFail: boolean; delayAbortEval?: string };

export function gradeThresholds(
  letter: Exclude<Letter, 'F'>,
  options: ThresholdOptions = {},
  bands: GradeBands = DEFAULT_BANDS,
): Record<string, Threshold[]> {
  const limits = limitsFor(letter, bands);
  const wrap = (threshold: string): Threshold =>
    options.abortOnFail
      ? { threshold, abortOnFail: true, delayAbortEval: options.delayAbortEval ?? '10s' }
      : threshold;
  return {
    http_req_duration: [wrap(`p(95)<${limits.p95Ms}`)],
    http_req_failed: [wrap(`rate<${limits.errorRatio}`)],
  };
}

export const MIN_GRADES = ['A', 'B', 'C', 'D', 'none'] as const;
export type MinGrade = (typeof MIN_GRADES)[number];

/** MIN_GRADE (default C) and ABORT_ON_FAIL=true|false from the environment. */
export function thresholdsFromEnv(env: Env = k6Env()): Record<string, Threshold[]> {
  const minGrade = oneOf(env, 'MIN_GRADE', MIN_GRADES, 'C');
  if (minGrade === 'none') return {};
  const abort = oneOf(env, 'ABORT_ON_FAIL', ['true', 'false'] as const, 'false') === 'true';
  return gradeThresholds(minGrade, { abortOnFail: abort });
}

/**
 * The grade's p95 limit for each page type on its own (k6 sub-metrics such as
 * `http_req_duration{page_type:product}`): a slow product page fails even when fast
 * homepages pull the whole run's p95 down. MIN_GRADE=none gives none.
 */
export function pageThresholdsFromEnv(pageTypes: readonly PageType[], env: Env = k6Env()): Record<string, Threshold[]> {
  const minGrade = oneOf(env, 'MIN_GRADE', MIN_GRADES, 'C');
  if (minGrade === 'none') return {};
  const abort = oneOf(env, 'ABORT_ON_FAIL', ['true', 'false'] as const, 'false') === 'true';
  const whole = gradeThresholds(minGrade, { abortOnFail: abort }).http_req_duration!;
  return Object.fromEntries(pageTypes.map((page) => [`http_req_duration{page_type:${page}}`, whole]));
}
