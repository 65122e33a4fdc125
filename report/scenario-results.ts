// Each scenario's own result, in words, beside the grade: what cache-hit and promo measure
// besides response times and errors (their Rate metrics), with each value and its goal's
// verdict. The CLI, the status page and the report all print these lines.
import type { ThresholdResultJson } from '../contract/sink-api.ts';
import { judgedOnRequests } from './threshold-value.ts';

/** What each of the scenarios' Rate metrics measures, for marketing. */
const WORDS: Record<string, string> = {
  cache_hit_rate: 'Pages served from the cache',
  cache_304_rate: 'Repeat visits answered "not modified" (304)',
  promo_applied_rate: 'Visits where the shop applied the promo',
};

const OPERATOR_WORDS: Record<string, string> = { '>': 'above', '>=': 'at least', '<': 'below', '<=': 'at most', '==': 'exactly', '===': 'exactly', '!=': 'not' };

export interface ScenarioResult {
  metric: string;
  /** "Pages served from the cache: 93.3 % (goal: above 50 %, met)." */
  sentence: string;
  /** met, missed, or none while nothing was measured. */
  verdict: 'met' | 'missed' | 'none';
}

const pct = (ratio: number) => `${Number((ratio * 100).toFixed(1)).toLocaleString('en-US')} %`;

/** "rate>0.5" → "above 50 %"; null when the expression is not a rate against a number. */
export function goalWords(threshold: string): string | null {
  const m = /^\s*rate\s*(===|==|!=|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(threshold);
  if (!m) return null;
  return `${OPERATOR_WORDS[m[1]!]} ${Number((Number(m[2]) * 100).toFixed(2)).toLocaleString('en-US')} %`;
}

/**
 * One sentence per judged Rate threshold of the scenario's own metrics (not http_req_failed
 * nor checks, which the grade and the thresholds table already say).
 */
export function scenarioResults(thresholds: readonly ThresholdResultJson[] | undefined): ScenarioResult[] {
  const out: ScenarioResult[] = [];
  // The known metrics in the order of WORDS, then the others by name: the same order everywhere.
  const known = Object.keys(WORDS);
  const rank = (metric: string) => (known.includes(metric) ? known.indexOf(metric) : known.length);
  const sorted = [...(thresholds ?? [])].sort((a, b) => rank(a.metric) - rank(b.metric) || a.metric.localeCompare(b.metric));
  for (const t of sorted) {
    if (!t.supported || judgedOnRequests(t)) continue;
    const goal = goalWords(t.threshold);
    if (goal === null) continue;
    const words = WORDS[t.metric] ?? t.metric;
    const verdict = t.ok === null || t.value === null ? 'none' : t.ok ? 'met' : 'missed';
    const value = t.value === null ? 'not measured yet' : pct(t.value);
    out.push({ metric: t.metric, verdict, sentence: `${words}: ${value} (goal: ${goal}${verdict === 'none' ? '' : `, ${verdict}`}).` });
  }
  return out;
}
