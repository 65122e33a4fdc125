// The guard: it stops a run before the test harms the shop (docs/capacity.md). Each rule
// says a measure must not stay above its limit for so long: the share of requests that
// failed on the shop's side (failures.ts: 5xx, 429, timeouts, dropped connections; never
// refused connections or 4xx, which are the test's), or a percentile of the durations.
//
// The measure is read on every push (RunState.guardReading), over the last push interval of
// sample time (GUARD_WINDOW_MS, k6's 1 s under the CLI), on the data of every instance
// merged. A rule holds when every reading since the start of its first window over the
// limit was over it; a reading under the limit starts it again; a window without a request
// says nothing either way (a percentile needs native histograms). The guard trips once, on
// the first rule that has held for its duration: on the push that completes it, so the stop
// goes out within a push interval or two of the breach.
import type { GuardMeasure, GuardRuleJson, GuardTripJson } from '../../contract/sink-api.ts';

/** The window of a reading: the last push interval (at least this long; since the push before it). */
export const GUARD_WINDOW_MS = 1000;

/** What the guard reads of a run at one moment. */
export interface GuardReading {
  /** Sample time (ms) where the window starts, and where it ends (the latest push). */
  from: number;
  to: number;
  requests: number;
  /** Of them, the requests that failed on the shop's side. */
  shopFailed: number;
  /** k6's percentile (0–1) of the window's durations in ms; null without a native histogram or a request. */
  percentileMs(q: number): number | null;
}

const PERCENTILES: Record<Exclude<GuardMeasure, 'errors'>, number> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

/** The rule's measure over the reading's window: a ratio for errors, ms for a percentile; null when it has nothing to say. */
function measure(rule: GuardRuleJson, r: GuardReading): number | null {
  if (r.requests <= 0) return null;
  return rule.measure === 'errors' ? r.shopFailed / r.requests : r.percentileMs(PERCENTILES[rule.measure]);
}

/** Where each rule stands; trips once. */
export class RunGuard {
  /** Per rule: the start of its unbroken stretch over the limit (null: not over), and the least it measured since. */
  private readonly stretches: Array<{ since: number | null; lowest: number }>;
  tripped: GuardTripJson | null = null;

  constructor(readonly rules: readonly GuardRuleJson[]) {
    this.stretches = rules.map(() => ({ since: null, lowest: Infinity }));
  }

  /** Takes a reading; returns the trip the first time a rule has held for its duration, else null. */
  read(r: GuardReading): GuardTripJson | null {
    if (this.tripped) return null;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      const value = measure(rule, r);
      if (value === null) continue;
      const stretch = this.stretches[i]!;
      if (!(value > rule.above)) {
        stretch.since = null;
        stretch.lowest = Infinity;
        continue;
      }
      stretch.since ??= r.from;
      stretch.lowest = Math.min(stretch.lowest, value);
      if (r.to - stretch.since >= rule.forMs) return (this.tripped = { rule, since: stretch.since, at: r.to, lowest: stretch.lowest });
    }
    return null;
  }
}
