// The runs' grades as a record, every --grade-interval: the graded event, which the
// fan-out sends on to Prometheus and InfluxDB (model/run-events.ts). Only the runs
// whose figures or status changed since the last record are in it.
import type { RunRegistry } from './runs.ts';
import type { GradeRecord } from '../model/run-events.ts';

export class GradeEmitter {
  /** What each run looked like when its grades were last published. */
  private readonly graded = new Map<string, string>();

  constructor(private readonly runs: RunRegistry) {}

  /** Publishes the grades of the runs that changed; resolves once the listeners have them (the fan-out: in its spool). */
  emit(now = Date.now()): Promise<void> {
    const record: GradeRecord = { t: now, runs: [] };
    for (const [testid, run] of this.runs.runs) {
      const state = `${run.lastSampleAt} ${run.status} ${run.breakingPointVus}`;
      if (this.graded.get(testid) === state) continue;
      this.graded.set(testid, state);
      const { live, run: whole } = run.figures();
      const thresholds = run.thresholdResults().map(({ metric, threshold, ok, value, requests }) => ({ metric, threshold, ok, value, requests }));
      record.runs.push({ testid, tags: run.tags, p95Source: run.p95Source, status: run.status, breakingPointVus: run.breakingPointVus, live, run: whole, capacity: run.capacity(), thresholds });
    }
    for (const testid of this.graded.keys()) if (!this.runs.runs.has(testid)) this.graded.delete(testid);
    if (record.runs.length === 0) return Promise.resolve();
    return this.runs.events.emit('graded', record);
  }
}
