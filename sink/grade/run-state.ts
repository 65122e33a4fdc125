// What the sink knows about one run (one testid): cumulative aggregates kept up to
// date per sample, snapshots for the live window, and the figures and grade derived
// from them on read.
import { HistogramAccumulator, type NativeHistogram } from './histogram.ts';
import { grade, limitsFor, type Grade } from '../../lib/grade.ts';
import type { FiguresJson } from '../../contract/sink-api.ts';

/** A window breaks the site when it would turn the traffic light red. */
const BREAKING_LIMITS = limitsFor('C');

export type P95Source = 'native_histogram' | 'trend_stats_per_series';

export const NO_P95_HINT =
  'start k6 with native histograms (--features native-histograms, or K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true) or add p(95) to K6_PROMETHEUS_RW_TREND_STATS';

/** One window's figures, as the API carries them (contract/sink-api.ts) but with the grade itself. */
export type Figures = Omit<FiguresJson, 'grade'> & { grade: Grade };

/** One group of request series sharing every label but the metric name. */
export interface RequestGroup {
  reqs: number;
  reqsCarry: number;
  failedRate: number;
  failedCarry: number;
}

interface Snapshot {
  t: number;
  requests: number;
  failed: number;
  iterations: number;
  histogram: NativeHistogram | null;
}

/** Labels of the run, taken from its first series. */
export const RUN_TAGS = ['environment', 'promo_type', 'promo_name', 'intensity', 'scenario', 'instance'] as const;

/**
 * The latest value per key. Not a Map<string, number>: a Map boxes every fractional
 * number it is given (a heap allocation per sample on the ingest path), while a
 * holder's number field is overwritten in place.
 */
export class LatestValues {
  private readonly holders = new Map<string, { value: number }>();

  get size(): number {
    return this.holders.size;
  }

  /**
   * The key's holder, created with `value` when it is new. Ingest keeps it per series
   * and writes `value` itself, once per sample.
   */
  holder(key: string, value: number): { value: number } {
    let holder = this.holders.get(key);
    if (holder === undefined) this.holders.set(key, (holder = { value }));
    return holder;
  }

  *values(): IterableIterator<number> {
    for (const h of this.holders.values()) yield h.value;
  }
}

export class RunState {
  readonly tags: Record<string, string> = {};
  firstSampleAt = Infinity;
  lastSampleAt = -Infinity;
  seriesCount = 0;
  staleSeries = 0;
  /** Set once every series of the run got a stale marker. */
  endedAt: number | null = null;
  naLogged = false;

  readonly durationHistogram = new HistogramAccumulator();
  hasHistogram = false;
  /** Latest trend-stat gauges per series, by stat (p50, p95, p99), in seconds. */
  readonly trendStats = { p50: new LatestValues(), p95: new LatestValues(), p99: new LatestValues() };
  readonly groups = new Map<string, RequestGroup>();
  iterations = 0;
  readonly vusBySeries = new LatestValues();
  maxVus = 0;
  readonly checksBySeries = new LatestValues();

  /** How the run ended, once its history entry is written (e.g. 'stopped manually'). */
  outcome: string | null = null;
  /** Lowest VU level at which the site broke; null until it does. */
  breakingPointVus: number | null = null;
  private breachCandidate: number | null = null;
  private lastWindowEvaluatedAt = -Infinity;
  private snapshots: Snapshot[] = [];
  private cached: { live: Figures; run: Figures } | null = null;

  constructor(
    readonly testid: string,
    private readonly windowMs: number,
  ) {}

  get ended(): boolean {
    return this.endedAt !== null;
  }

  /** running, ended, stopped (manually) or aborted: what the status page and annotations show. */
  get status(): 'running' | 'ended' | 'stopped' | 'aborted' {
    if (this.outcome === 'stopped manually') return 'stopped';
    if (this.outcome?.startsWith('aborted')) return 'aborted';
    return this.ended || this.outcome ? 'ended' : 'running';
  }

  group(key: string): RequestGroup {
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { reqs: 0, reqsCarry: 0, failedRate: 0, failedCarry: 0 }));
    return g;
  }

  get p95Source(): P95Source | null {
    if (this.hasHistogram) return 'native_histogram';
    return this.trendStats.p95.size > 0 ? 'trend_stats_per_series' : null;
  }

  totalRequests(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.reqsCarry + g.reqs;
    return n;
  }

  totalFailed(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.failedCarry + g.failedRate * g.reqs;
    return n;
  }

  currentVus(): number {
    let n = 0;
    for (const v of this.vusBySeries.values()) n += v;
    return n;
  }

  /** Called after each batch that touched the run: the data changed. */
  touched(): void {
    this.cached = null;
    const vus = this.currentVus();
    if (vus > this.maxVus) this.maxVus = vus;
    const last = this.snapshots[this.snapshots.length - 1];
    // One snapshot per second of sample time is plenty for a window of seconds.
    if (last && this.lastSampleAt < last.t + 1000) return;
    this.snapshots.push({
      t: this.lastSampleAt,
      requests: this.totalRequests(),
      failed: this.totalFailed(),
      iterations: this.iterations,
      histogram: this.hasHistogram ? this.durationHistogram.toNativeHistogram() : null,
    });
    // Keep the snapshot just before the window's start, and nothing older.
    const horizon = this.lastSampleAt - this.windowMs;
    let drop = 0;
    while (drop + 1 < this.snapshots.length && this.snapshots[drop + 1]!.t <= horizon) drop++;
    if (drop > 0) this.snapshots.splice(0, drop);
    this.watchForBreakingPoint();
  }

  /**
   * The breaking point: the VUs at the end of the first of two consecutive live
   * windows that breach (p95 over the C limit of 2000 ms, or errors over 1 %).
   * Windows are evaluated back to back, one per window length of sample time.
   */
  private watchForBreakingPoint(): void {
    if (this.breakingPointVus !== null || this.lastSampleAt - this.firstSampleAt < this.windowMs) return;
    if (this.lastSampleAt < this.lastWindowEvaluatedAt + this.windowMs) return;
    this.lastWindowEvaluatedAt = this.lastSampleAt;
    this.cached = null;
    const live = this.figures().live;
    const breach = (live.p95Ms !== null && live.p95Ms > BREAKING_LIMITS.p95Ms) || (live.errorRatio !== null && live.errorRatio > BREAKING_LIMITS.errorRatio);
    if (!breach) {
      this.breachCandidate = null;
      return;
    }
    if (this.breachCandidate === null) this.breachCandidate = live.vus;
    else this.breakingPointVus = this.breachCandidate;
  }

  figures(): { live: Figures; run: Figures } {
    this.cached ??= { live: this.compute(true), run: this.compute(false) };
    return this.cached;
  }

  private compute(live: boolean): Figures {
    const now = this.lastSampleAt;
    const requests = this.totalRequests();
    const failed = this.totalFailed();
    // The live window starts at the newest snapshot at least windowMs old; before
    // that much time has passed, the window is the whole run so far.
    const base = live ? this.snapshots.filter((s) => s.t <= now - this.windowMs).pop() : undefined;
    const windowRequests = requests - (base?.requests ?? 0);
    const windowFailed = failed - (base?.failed ?? 0);
    const rateBase = base ?? (this.snapshots[0] && this.snapshots[0].t < now ? this.snapshots[0] : undefined);
    const rps = rateBase ? ((requests - rateBase.requests) * 1000) / (now - rateBase.t) : null;

    let p50: number | null = null;
    let p95: number | null = null;
    let p99: number | null = null;
    if (this.hasHistogram) {
      const h = new HistogramAccumulator().add(this.durationHistogram.toNativeHistogram());
      if (base?.histogram) h.subtract(base.histogram);
      const q = (x: number) => {
        const v = h.quantile(x);
        return Number.isFinite(v) ? v * 1000 : null;
      };
      [p50, p95, p99] = [q(0.5), q(0.95), q(0.99)];
    } else {
      // Trend stats are per series and cannot be merged: the slowest series stands for the run.
      const max = (m: LatestValues) => (m.size === 0 ? null : Math.max(...m.values()) * 1000);
      [p50, p95, p99] = [max(this.trendStats.p50), max(this.trendStats.p95), max(this.trendStats.p99)];
    }
    const errorRatio = windowRequests > 0 ? windowFailed / windowRequests : null;
    const checks = [...this.checksBySeries.values()];
    let g: Grade;
    if (windowRequests <= 0) g = grade({ p95Ms: 0, errorRatio: 0, requests: 0 });
    else if (p95 === null) g = { ...grade({ p95Ms: NaN, errorRatio: 0 }), reason: `no p95 of http_req_duration: ${NO_P95_HINT}` };
    else g = grade({ p95Ms: p95, errorRatio: errorRatio ?? 0, requests: windowRequests });
    return {
      requests: windowRequests,
      p50Ms: p50,
      p95Ms: p95,
      p99Ms: p99,
      errorRatio,
      rps,
      vus: live ? this.currentVus() : this.maxVus,
      checksRate: checks.length === 0 ? null : checks.reduce((a, b) => a + b, 0) / checks.length,
      iterations: this.iterations - (base?.iterations ?? 0),
      grade: g,
    };
  }
}
