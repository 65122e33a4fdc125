// A threshold verdict's value in its unit, as the CLI, the sink's history and the status
// page all write it: "351.3 ms" for durations, "0.42 %" for rates.
import type { ThresholdResultJson } from '../contract/sink-api.ts';

export function thresholdValue(t: Pick<ThresholdResultJson, 'metric' | 'value'>): string {
  if (t.value === null) return 'no data';
  return t.metric.startsWith('http_req_duration') ? `${t.value.toFixed(1)} ms` : `${(t.value * 100).toFixed(2)} %`;
}
