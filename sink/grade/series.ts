// A run's figures over time: one point per push interval (a second of sample time),
// each over a short rolling window (POINT_WINDOW_MS), for the status page's charts, the
// report and the capacity figures.
//
// Pushes do not come exactly a second apart in sample time (the latest sample of a push is
// the last one k6 took before flushing), so a point opens a slot of its step less half a
// push interval: a later point within it (another k6 instance's push of the same moment)
// replaces it, and the first one past it opens the next. A slot of a whole step would drop
// every push that came 999 ms after the one before.
//
// Bounded: at most MAX_POINTS per run. When the run outgrows them, every two neighbouring
// points are merged into one (the later one's time, VUs and grade; the mean of the rates
// and latencies) and the step between points doubles, so a run of any length keeps an even
// series of at most MAX_POINTS, at most about 300 kB as JSON (about 250 bytes a point).

import type { SeriesPointJson } from '../../contract/sink-api.ts';

/** The rolling window each point's rates, latencies and error ratio are over. */
export const POINT_WINDOW_MS = 5_000;
export const MAX_POINTS = 1_200;
/** k6's push interval (K6_PROMETHEUS_RW_PUSH_INTERVAL's default), the first step; a push may come up to half of it early. */
const PUSH_INTERVAL_MS = 1000;

export type SeriesPoint = SeriesPointJson;

const mean = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : (a + b) / 2);

export class RunSeries {
  private readonly points: SeriesPoint[] = [];
  /** Seconds of sample time between two points; doubles when the series is compacted. */
  private stepMs = PUSH_INTERVAL_MS;
  /** Sample time at which the last point's slot began (the time of the first point in it). */
  private slotStart = -Infinity;

  constructor(private readonly maxPoints = MAX_POINTS) {}

  get step(): number {
    return this.stepMs;
  }

  /** The run's points, oldest first. */
  all(): readonly SeriesPoint[] {
    return this.points;
  }

  last(): SeriesPoint | undefined {
    return this.points[this.points.length - 1];
  }

  /**
   * Adds the point of a push: it replaces the last point while within a step, less half a
   * push interval, of where that one's slot began, and opens a new slot after that.
   */
  add(point: SeriesPoint): void {
    const last = this.points[this.points.length - 1];
    if (last && point.t < this.slotStart + this.stepMs - PUSH_INTERVAL_MS / 2) {
      if (point.t >= last.t) this.points[this.points.length - 1] = point;
      return;
    }
    this.slotStart = point.t;
    this.points.push(point);
    if (this.points.length > this.maxPoints) this.compact();
  }

  private compact(): void {
    const merged: SeriesPoint[] = [];
    for (let i = 0; i + 1 < this.points.length; i += 2) {
      const a = this.points[i]!;
      const b = this.points[i + 1]!;
      merged.push({
        ...b,
        rps: mean(a.rps, b.rps),
        okRps: mean(a.okRps, b.okRps),
        p50Ms: mean(a.p50Ms, b.p50Ms),
        p95Ms: mean(a.p95Ms, b.p95Ms),
        p99Ms: mean(a.p99Ms, b.p99Ms),
        errorRatio: mean(a.errorRatio, b.errorRatio),
        meanMs: mean(a.meanMs ?? null, b.meanMs ?? null),
        checksRate: mean(a.checksRate, b.checksRate),
      });
    }
    if (this.points.length % 2 === 1) merged.push(this.points[this.points.length - 1]!);
    this.points.length = 0;
    this.points.push(...merged);
    this.stepMs *= 2;
    this.slotStart = this.points[this.points.length - 1]!.t;
  }
}
