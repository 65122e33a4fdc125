// Tells the sink the run's thresholds through the run's own data, so it judges them on
// every instance's merged data even when no CLI registered the run (plain `k6 run`, a
// k6-operator TestRun). Each threshold is one series of the promo_thresholds gauge
// (k6_promo_thresholds in remote write), its metric and expression in tags; k6 pushes it
// with the run's tags, testid included.
import { Gauge } from 'k6/metrics';

/** A threshold as k6's options.thresholds hold it. */
type ThresholdEntry = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string };

/** The metric's name as k6 registers it; the remote-write output prefixes it with k6_. */
export const THRESHOLDS_GAUGE = 'promo_thresholds';

// k6 allows custom metrics only in the init context.
const gauge = new Gauge(THRESHOLDS_GAUGE);
let announced = false;

/** The tags of each threshold's series. */
export function thresholdTags(thresholds: Record<string, ThresholdEntry | ThresholdEntry[]> | undefined): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  // k6 swaps the exported options for objects of its own, whose entries are strings only
  // once written out: a JSON round trip gives plain values back.
  const plain = JSON.parse(JSON.stringify(thresholds ?? {})) as Record<string, ThresholdEntry | ThresholdEntry[]>;
  for (const [metric, list] of Object.entries(plain)) {
    for (const entry of Array.isArray(list) ? list : [list]) {
      const t = typeof entry === 'string' ? { threshold: entry } : entry;
      out.push({
        metric,
        threshold: t.threshold,
        abort_on_fail: String(t.abortOnFail === true),
        ...(t.delayAbortEval ? { delay_abort_eval: t.delayAbortEval } : {}),
      });
    }
  }
  return out;
}

/**
 * Announces the thresholds once per VU (call it at the top of the default function):
 * every instance of a distributed run announces them, and one sample per threshold
 * and VU costs nothing beside the requests.
 */
export function announceThresholds(thresholds: Record<string, ThresholdEntry | ThresholdEntry[]> | undefined): void {
  if (announced) return;
  announced = true;
  for (const tags of thresholdTags(thresholds)) gauge.add(1, tags);
}
