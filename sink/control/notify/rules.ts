// When the sink notifies, run by run. The callers sit on the ingest path: nothing here
// waits or sends (message.ts words it, delivery.ts sends it).
//
// - CRITICAL (error_ratio): the live window's error ratio is over errorRatioCritical.
// - WARNING (p95): the live window's p95 is over p95WarningMs.
//   Each fires once when its condition starts to hold, and again only after the
//   condition cleared (the value at or under the limit) and came back. A missing
//   value (null: no requests, no p95) neither fires nor clears.
// - WARNING (aborted): the run was aborted (thresholds or a manual stop); once per run.
// - SUCCESS / FAILURE (completed): once per run. SUCCESS when k6's exit code is 0, or
//   null (the run ended on its stale markers without a finish call), AND the grade is
//   A, B or C. FAILURE otherwise: any other exit code (99 thresholds, 103 stopped,
//   105, 108, …), a grade of D or F, or no grade at all (N/A).
//   After its completion, a run's live figures are no longer looked at.
import type { HistoryEntry } from '../../../contract/sink-api.ts';
import type { RunView } from '../../model/run-events.ts';

export const PASSING_LETTERS: ReadonlySet<string> = new Set(['A', 'B', 'C']);

/** SUCCESS or FAILURE for a finished run (see the rules above). */
export function completionLevel(entry: Pick<HistoryEntry, 'exitCode' | 'grade'>): 'SUCCESS' | 'FAILURE' {
  return (entry.exitCode === 0 || entry.exitCode === null) && PASSING_LETTERS.has(entry.grade.letter) ? 'SUCCESS' : 'FAILURE';
}

export interface RuleLimits {
  errorRatioCritical: number;
  p95WarningMs: number;
}

export type LiveEvent = 'error_ratio' | 'p95';

/** A live condition that has just started to hold, and its value. */
export interface LiveAlert {
  event: LiveEvent;
  value: number;
}

interface RunWatch {
  errorActive: boolean;
  p95Active: boolean;
  /** The live figures last looked at: the same object again means nothing changed. */
  lastLive: object | null;
  aborted: boolean;
  completed: boolean;
}

const MAX_TRACKED_RUNS = 10_000;

export class NotifyRules {
  private readonly watches = new Map<string, RunWatch>();

  constructor(private readonly limits: RuleLimits) {}

  /** The live conditions that start to hold with the run's current figures. */
  live(run: RunView): LiveAlert[] {
    const watch = this.watch(run.testid);
    if (watch.completed) return [];
    const live = run.figures().live;
    if (watch.lastLive === live) return [];
    watch.lastLive = live;
    const alerts: LiveAlert[] = [];
    const { errorRatio, p95Ms } = live;
    if (errorRatio !== null && Number.isFinite(errorRatio)) {
      const over = errorRatio > this.limits.errorRatioCritical;
      if (over && !watch.errorActive) alerts.push({ event: 'error_ratio', value: errorRatio });
      watch.errorActive = over;
    }
    if (p95Ms !== null && Number.isFinite(p95Ms)) {
      const over = p95Ms > this.limits.p95WarningMs;
      if (over && !watch.p95Active) alerts.push({ event: 'p95', value: p95Ms });
      watch.p95Active = over;
    }
    return alerts;
  }

  /** True the first time the run is aborted. */
  firstAbort(testid: string): boolean {
    const watch = this.watch(testid);
    if (watch.aborted) return false;
    return (watch.aborted = true);
  }

  /** True the first time the run completes; its live figures are not looked at after that. */
  firstCompletion(testid: string): boolean {
    const watch = this.watch(testid);
    if (watch.completed) return false;
    return (watch.completed = true);
  }

  private watch(testid: string): RunWatch {
    let w = this.watches.get(testid);
    if (!w) {
      if (this.watches.size >= MAX_TRACKED_RUNS) this.watches.delete(this.watches.keys().next().value!);
      this.watches.set(testid, (w = { errorActive: false, p95Active: false, lastLive: null, aborted: false, completed: false }));
    }
    return w;
  }
}
