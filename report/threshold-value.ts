// A threshold verdict's value in its unit, as the CLI, the sink's history and the status
// page all write it: "351.3 ms" for durations, "0.42 %" for rates.
import type { ThresholdResultJson } from '../contract/sink-api.ts';

export function thresholdValue(t: Pick<ThresholdResultJson, 'metric' | 'value'>): string {
  if (t.value === null) return 'no data';
  return t.metric.startsWith('http_req_duration') ? `${t.value.toFixed(1)} ms` : `${(t.value * 100).toFixed(2)} %`;
}

/**
 * Whether a verdict's `requests` are the requests it was judged on: for the HTTP metrics and
 * checks. A scenario's own Rate metric (cache_hit_rate) comes without its counts.
 */
export function judgedOnRequests(t: Pick<ThresholdResultJson, 'metric'>): boolean {
  return t.metric.startsWith('http_req_') || t.metric === 'checks';
}
