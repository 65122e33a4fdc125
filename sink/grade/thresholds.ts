// k6 thresholds, judged on a run's merged data: one verdict for all its instances.
// The sink learns them from the CLI's registration (k6 inspect of the bundle) and from the
// scenario library's k6_promo_thresholds series (lib/threshold-announce.ts), so plain
// `k6 run` and k6-operator TestRuns have them too.
//
// Supported, as k6 computes them: http_req_duration (and its tagged sub-metrics) with
// p(N), avg, med, min, max in ms; http_req_failed, checks and the scenarios' own Rate
// metrics (cache_hit_rate, promo_applied_rate) with rate. Anything else is listed with
// `supported: false` and never fails.
import { parseDurationMs } from '../../lib/env.ts';
import type { Selector } from '../model/labels.ts';
import type { ThresholdResultJson } from '../../contract/sink-api.ts';

/** A threshold as k6's options.thresholds hold it. */
export type ThresholdInput = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string };

export type Aggregation = { kind: 'percentile'; pct: number } | { kind: 'avg' | 'med' | 'min' | 'max' | 'rate' };
type Operator = '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';

export interface ThresholdSpec {
  /** The metric key as written: `http_req_duration{page_type:product}`. */
  metric: string;
  /** The expression as written: `p(95)<800`. */
  threshold: string;
  /** The metric without its tags, and the tags it selects. */
  base: string;
  selector: Selector;
  /** Its text, for the selected merge: `page_type:product`. */
  selectorKey: string;
  aggregation: Aggregation | null;
  operator: Operator | null;
  value: number;
  abortOnFail: boolean;
  delayAbortEvalMs: number;
  /** Why it cannot be judged here, when it cannot. */
  unsupported?: string;
  /**
   * Why the merged value may differ from k6's, when it may: such a threshold is judged
   * and shown with this reason, but never stops the run from the sink.
   */
  approximate?: string;
}

/** k6's remote write sends a check's ratio, not its counts. */
export const CHECKS_APPROXIMATE =
  "k6 sends each check's pass ratio, not its count: the merged rate weighs every check alike, k6's own when each check runs as often as the others; k6 alone aborts on it";

/** Said of a Rate metric sent by several series (instances): one alone is k6's own ratio. */
export const RATE_APPROXIMATE =
  "k6 sends each series' ratio of a Rate metric, not its counts: the merged rate weighs every instance alike, k6's own when each instance counts as often as the others; k6 alone aborts on it";

/** A verdict on the merged data, as /api/runs/:testid and the history give it. */
export type ThresholdResult = ThresholdResultJson;

const EXPRESSION = /^\s*(p\(\s*(\d+(?:\.\d+)?)\s*\)|avg|med|min|max|rate|count)\s*(===|==|!=|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/;
const TREND_AGGREGATIONS = new Set(['percentile', 'avg', 'med', 'min', 'max']);
export const JUDGED_METRICS: Record<string, 'trend' | 'rate'> = { http_req_duration: 'trend', http_req_failed: 'rate', checks: 'rate' };

/** `http_req_duration{page_type:product, status:200}` → base and tags. */
export function parseMetricKey(key: string): { base: string; selector: Selector; selectorKey: string } | null {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\{(.*)\})?\s*$/.exec(key);
  if (!m) return null;
  const selector: Record<string, string> = {};
  if (m[2] !== undefined && m[2].trim() !== '') {
    for (const part of m[2].split(',')) {
      const colon = part.indexOf(':');
      if (colon <= 0) return null;
      selector[part.slice(0, colon).trim()] = part.slice(colon + 1).trim().replace(/^"(.*)"$/, '$1');
    }
  }
  const selectorKey = Object.keys(selector).sort().map((k) => `${k}:${selector[k]}`).join(',');
  return { base: m[1]!, selector, selectorKey };
}

export function parseThreshold(metric: string, input: ThresholdInput, abortAll = false): ThresholdSpec {
  const threshold = typeof input === 'string' ? input : input.threshold;
  const abortOnFail = abortAll || (typeof input === 'object' && input.abortOnFail === true);
  const delay = typeof input === 'object' && input.delayAbortEval ? parseDurationMs(input.delayAbortEval) ?? 0 : 0;
  const key = parseMetricKey(metric);
  const spec: ThresholdSpec = {
    metric,
    threshold,
    base: key?.base ?? metric,
    selector: key?.selector ?? {},
    selectorKey: key?.selectorKey ?? '',
    aggregation: null,
    operator: null,
    value: NaN,
    abortOnFail,
    delayAbortEvalMs: delay,
  };
  const m = EXPRESSION.exec(threshold);
  if (!key) return { ...spec, unsupported: `the metric ${JSON.stringify(metric)} is not a k6 metric name with {tag:value} filters` };
  if (!m) return { ...spec, unsupported: `the expression ${JSON.stringify(threshold)} is not aggregation, operator and number` };
  const aggregation: Aggregation = m[2] !== undefined ? { kind: 'percentile', pct: Number(m[2]) / 100 } : { kind: m[1] as 'avg' };
  const judged = { ...spec, aggregation, operator: m[3] as Operator, value: Number(m[4]) };
  // Any other metric judged by its rate is a Rate metric (k6 accepts rate on Rates alone).
  const type = JUDGED_METRICS[key.base] ?? (aggregation.kind === 'rate' ? 'rate' : undefined);
  if (type === undefined) return { ...judged, unsupported: `only http_req_duration, http_req_failed, checks and Rate metrics are judged on merged data, not ${key.base}` };
  if (type === 'trend' ? !TREND_AGGREGATIONS.has(aggregation.kind) : aggregation.kind !== 'rate') {
    return { ...judged, unsupported: `${key.base} is a ${type}: ${m[1]} is not one of its aggregations here` };
  }
  if (key.base === 'checks' && Object.keys(key.selector).length > 0) return { ...judged, unsupported: 'checks are judged for the whole run only, not per tag' };
  if (key.base === 'checks') return { ...judged, approximate: CHECKS_APPROXIMATE };
  if (JUDGED_METRICS[key.base] === undefined) {
    if (Object.keys(key.selector).length > 0) return { ...judged, unsupported: `${key.base} is judged for the whole run only, not per tag` };
    return { ...judged, approximate: RATE_APPROXIMATE };
  }
  return judged;
}

/** Every threshold of k6's options.thresholds. `abortAll`: --abort-on-fail makes each of them abort. */
export function parseThresholds(options: Record<string, ThresholdInput[] | ThresholdInput>, abortAll = false): ThresholdSpec[] {
  const out: ThresholdSpec[] = [];
  for (const [metric, list] of Object.entries(options)) for (const input of Array.isArray(list) ? list : [list]) out.push(parseThreshold(metric, input, abortAll));
  return out;
}

export function holds(operator: Operator, actual: number, limit: number): boolean {
  switch (operator) {
    case '<':
      return actual < limit;
    case '<=':
      return actual <= limit;
    case '>':
      return actual > limit;
    case '>=':
      return actual >= limit;
    case '!=':
      return actual !== limit;
    default:
      return actual === limit;
  }
}
