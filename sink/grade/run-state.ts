// What the sink knows about one run (one testid): cumulative aggregates kept up to
// date per sample (durations.ts for the histograms), snapshots for the windows, a point
// per push (series.ts), and, derived from them on read, the figures and grade, the
// per-page figures, the thresholds' verdicts and the capacity (capacity.ts).
//
// Quantiles follow k6's definition (HistogramAccumulator.k6Percentile): the figures the
// status page, the history, the CLI and the grade series show are those k6's summary
// would, within the histogram's resolution.
import type { RunSeriesJson } from '../../contract/sink-api.ts';
import { HistogramAccumulator } from '../model/histogram-math.ts';
import { DurationIndex } from './durations.ts';
import { RunSeries, POINT_WINDOW_MS, type SeriesPoint } from './series.ts';
import { capacity, unmeasured, type Capacity } from './capacity.ts';
import { forecast } from './forecast.ts';
import { failureCauseOf, failureSide, failures } from './failures.ts';
import { brokenSentence, testIsBroken } from '../../report/sentences.ts';
import { holds, type ThresholdResult, type ThresholdSpec } from './thresholds.ts';
import { GUARD_WINDOW_MS, RunGuard } from './guard.ts';
import { grade, notApplicable, type Grade } from '../../lib/grade.ts';
import { RUN_TAG_NAMES } from '../../lib/tags.ts';
import type { EndingJson, ExpectRequest, FailureCause, FailureSide, FailuresJson, ForecastJson, GuardRuleJson, GuardTripJson, PageFiguresJson } from '../../contract/sink-api.ts';
import type { Figures, RunView } from '../model/run-events.ts';
import { label, matches, type SeriesLabels } from '../model/labels.ts';

/** The least sample time between two snapshots (and threshold judgements) of a run. */
const SNAPSHOT_GAP_MS = 250;
/** Thresholds a run keeps at most, from every source (a registration takes up to 200 metrics). */
export const MAX_THRESHOLDS_PER_RUN = 200;

export type P95Source = 'native_histogram' | 'trend_stats_per_series';

export const NO_P95_HINT =
  'start k6 with native histograms (--features native-histograms, or K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true) or add p(95) to K6_PROMETHEUS_RW_TREND_STATS';

/** The 10 slowest names (URL groups) get figures of their own. */
export const SLOWEST_NAMES = 10;

/** One group of request series sharing every label but the metric name. */
export interface RequestGroup {
  reqs: number;
  reqsCarry: number;
  failedRate: number;
  failedCarry: number;
  /** The labels of the group's first series (without meaning for the metric name). */
  readonly labels: SeriesLabels;
  /** Why its requests fail when they do, from its status and error_code (failures.ts), and whose failure that is. */
  readonly cause: FailureCause;
  readonly side: FailureSide;
}

const requestsOf = (g: RequestGroup) => g.reqsCarry + g.reqs;
const failedOf = (g: RequestGroup) => g.failedCarry + g.failedRate * g.reqs;

/** Requests and failed requests so far, over every group. */
interface Totals {
  requests: number;
  failed: number;
  testFailed: number;
  shopFailed: number;
}

interface Snapshot {
  t: number;
  requests: number;
  failed: number;
  /** Of them, the test's (FailureSide 'test'). */
  testFailed: number;
  iterations: number;
  /** The run's merged duration histogram then (a record), when it has one. */
  histogram: Float64Array | null;
}

/** Labels of the run, taken from its first series: the standard tags (lib/tags.ts), and k6's scenario and instance. */
export const RUN_TAGS = [...RUN_TAG_NAMES, 'scenario', 'instance'] as const;

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

  /** The values' sum, in the order the keys came (a loop over the holders: no generator, no array per call). */
  sum(): number {
    let sum = 0;
    for (const h of this.holders.values()) sum += h.value;
    return sum;
  }

  /** The largest value, NaN if any is (as Math.max); -Infinity when empty. */
  max(): number {
    let max = -Infinity;
    for (const h of this.holders.values()) max = Math.max(max, h.value);
    return max;
  }
}

/** What a window covers, for the figures over it. */
interface Window {
  /** The snapshot the window starts at; none: the whole run. */
  base: Snapshot | undefined;
  /** Where the rates start (the base, or the run's first snapshot). */
  rateBase: Snapshot | undefined;
}

const ms = (seconds: number) => (Number.isFinite(seconds) ? seconds * 1000 : null);

/**
 * The p95's 95 % confidence interval (ms), distribution-free: k6's estimator at the ranks
 * p ± 1.96·√(p(1−p)/n) of the merged histogram (the order statistics that bracket the true
 * p95 with 95 % probability). A comparison counts a change only outside it.
 */
export function p95Interval(merged: HistogramAccumulator | undefined | null): { p95LowMs: number | null; p95HighMs: number | null } {
  const n = merged?.count ?? 0;
  if (!merged || !(n > 0)) return { p95LowMs: null, p95HighMs: null };
  const half = 1.96 * Math.sqrt((0.95 * 0.05) / n);
  return { p95LowMs: ms(merged.k6Percentile(Math.max(0, 0.95 - half))), p95HighMs: ms(merged.k6Percentile(Math.min(1, 0.95 + half))) };
}

export class RunState implements RunView {
  readonly tags: Record<string, string> = {};
  firstSampleAt = Infinity;
  lastSampleAt = -Infinity;
  seriesCount = 0;
  staleSeries = 0;
  /** Set once every series of the run got a stale marker. */
  endedAt: number | null = null;
  naLogged = false;

  readonly durations = new DurationIndex();
  /** Latest trend-stat gauges per series, by stat (p50, p95, p99), in seconds. */
  readonly trendStats = { p50: new LatestValues(), p95: new LatestValues(), p99: new LatestValues() };
  readonly groups = new Map<string, RequestGroup>();
  iterations = 0;
  readonly vusBySeries = new LatestValues();
  maxVus = 0;
  readonly checksBySeries = new LatestValues();
  /** Each Rate metric's latest ratio per series (k6_<name>_rate), by the metric's name. */
  readonly rates = new Map<string, LatestValues>();
  /** The run's thresholds, by metric and expression. */
  readonly thresholds = new Map<string, ThresholdSpec>();
  /** The first abortOnFail threshold that failed on the merged data: the run is to stop. */
  abortedBy: ThresholdResult | null = null;
  /** Wall-clock ms when abortedBy was found. */
  abortedAt: number | null = null;
  /** The guard (guard.ts), when the run's registration asked for one. */
  guard: RunGuard | null = null;
  /** Wall-clock ms when run control sent the guard's stop to the run's k6 instances: its status is then `guard`. */
  guardStoppedAt: number | null = null;
  /** The sample time of the guard's last reading: one reading per push. */
  private guardReadAt = -Infinity;
  private readonly series = new RunSeries();
  /** Set when a push came in since the series' last point (between two snapshots). */
  private pointBehind = false;

  /** How the run ended, once its history entry is written (e.g. 'stopped manually'). */
  outcome: string | null = null;
  /** The expected peak the run was registered with (issue 22): its verdict says whether the shop holds it. */
  expect: ExpectRequest | null = null;
  /** How the run ended, in the form its sentence is worded from (report/sentences.ts), once its history entry is written. */
  ending: EndingJson | null = null;
  private snapshots: Snapshot[] = [];
  private cached: { live: Figures; run: Figures } | null = null;
  /** From the series alone, so only worked out when read (not for every batch's notifications). */
  private cachedCapacity: Capacity | null = null;
  private cachedFailures: FailuresJson | null = null;
  private cachedTotals: Totals | null = null;
  private cachedForecast: { key: string; value: ForecastJson | null } | null = null;

  constructor(
    readonly testid: string,
    private readonly windowMs: number,
  ) {}

  get ended(): boolean {
    return this.endedAt !== null;
  }

  get hasHistogram(): boolean {
    return !this.durations.empty;
  }

  /** running, ended, stopped (manually), aborted, or guard (stopped by the guard): what the status page and annotations show. */
  get status(): 'running' | 'ended' | 'stopped' | 'aborted' | 'guard' {
    if (this.guardStoppedAt !== null) return 'guard';
    if (this.outcome === 'stopped manually') return 'stopped';
    if (this.outcome?.startsWith('aborted') || this.abortedBy !== null) return 'aborted';
    return this.ended || this.outcome ? 'ended' : 'running';
  }

  group(key: string, labels: SeriesLabels): RequestGroup {
    let g = this.groups.get(key);
    if (!g) {
      const cause = failureCauseOf(labels);
      this.groups.set(key, (g = { reqs: 0, reqsCarry: 0, failedRate: 0, failedCarry: 0, labels, cause, side: failureSide(cause) }));
    }
    return g;
  }

  get p95Source(): P95Source | null {
    if (this.hasHistogram) return 'native_histogram';
    return this.trendStats.p95.size > 0 ? 'trend_stats_per_series' : null;
  }

  /**
   * The requests and failures over every group, in one pass, kept until the next batch
   * touches the run (as the failures are): a second's point and snapshot read them nine times.
   */
  private totals(): Totals {
    if (this.cachedTotals !== null) return this.cachedTotals;
    let requests = 0;
    let failed = 0;
    let testFailed = 0;
    let shopFailed = 0;
    for (const g of this.groups.values()) {
      requests += requestsOf(g);
      const f = failedOf(g);
      failed += f;
      if (g.side === 'test') testFailed += f;
      else shopFailed += f;
    }
    return (this.cachedTotals = { requests, failed, testFailed, shopFailed });
  }

  totalRequests(): number {
    return this.totals().requests;
  }

  totalFailed(): number {
    return this.totals().failed;
  }

  /** Failed requests so far on one side: the test's, or the shop's. */
  totalFailedOn(side: FailureSide): number {
    return side === 'test' ? this.totals().testFailed : this.totals().shopFailed;
  }

  /** The failed requests by cause (failures.ts): whether the test or the shop failed. */
  failures(): FailuresJson {
    return (this.cachedFailures ??= failures(this.groups.values(), requestsOf, failedOf));
  }

  /** The test is broken (report/sentences.ts's rule): no letter, no breaking point, no limit. */
  get testBroken(): boolean {
    return testIsBroken(this.failures());
  }

  currentVus(): number {
    return this.vusBySeries.sum();
  }

  /** The series of the Rate metric `name` (cache_hit_rate for k6_cache_hit_rate_rate). */
  rateSeries(name: string): LatestValues {
    let values = this.rates.get(name);
    if (values === undefined) this.rates.set(name, (values = new LatestValues()));
    return values;
  }

  get breakingPointVus(): number | null {
    return this.capacity().breakingPointVus;
  }

  /** The run's points so far, the last one up to the latest push. */
  seriesPoints(): { stepMs: number; points: readonly SeriesPoint[] } {
    if (this.pointBehind) {
      this.pointBehind = false;
      this.series.add(this.point());
    }
    return { stepMs: this.series.step, points: this.series.all() };
  }

  /** The run's points so far, as GET /api/runs/:testid/series answers them. */
  seriesJson(): RunSeriesJson {
    const { stepMs, points } = this.seriesPoints();
    return { testid: this.testid, stepMs, points: [...points] };
  }

  capacity(): Capacity {
    const points = this.seriesPoints().points;
    if (this.cachedCapacity) return this.cachedCapacity;
    if (this.testBroken) return (this.cachedCapacity = unmeasured(points));
    const found = capacity(points);
    return (this.cachedCapacity = { ...found, forecast: found.loadGrew ? this.forecast(points) : null });
  }

  /**
   * The ramp's capacity model (forecast.ts): a fit and its bootstrap, worked out again only
   * when the series has a new point or its last point changed, not on every batch.
   */
  private forecast(points: readonly SeriesPoint[]): ForecastJson | null {
    const last = points[points.length - 1];
    const key = `${points.length} ${last?.t} ${last?.requests}`;
    if (this.cachedForecast?.key !== key) this.cachedForecast = { key, value: forecast(points) };
    return this.cachedForecast.value;
  }

  /**
   * Thresholds learnt (registration, or the scenario library's series); one already known
   * is kept. Past MAX_THRESHOLDS_PER_RUN new ones are refused: each is judged on every
   * snapshot, and anyone who may write could announce any number. Returns how many.
   */
  addThresholds(specs: Iterable<ThresholdSpec>): number {
    let refused = 0;
    for (const spec of specs) {
      const key = `${spec.metric} ${spec.threshold}`;
      const known = this.thresholds.get(key);
      if (known) {
        if (spec.abortOnFail && !known.abortOnFail) this.thresholds.set(key, { ...known, abortOnFail: true });
        continue;
      }
      if (this.thresholds.size >= MAX_THRESHOLDS_PER_RUN) {
        refused++;
        continue;
      }
      this.thresholds.set(key, spec);
      // A tagged sub-metric of the durations gets a merge of its own, with what its series hold so far.
      if (!spec.unsupported && spec.base === 'http_req_duration' && spec.selectorKey !== '') this.durations.selected(spec.selectorKey, spec.selector);
      this.cached = null;
    }
    return refused;
  }

  /**
   * Called after each batch that touched the run: the data changed. Returns the
   * threshold that makes the run abort, the first time one does.
   */
  touched(): ThresholdResult | null {
    this.cached = null;
    this.cachedCapacity = null;
    this.cachedFailures = null;
    this.cachedTotals = null;
    const vus = this.currentVus();
    if (vus > this.maxVus) this.maxVus = vus;
    const last = this.snapshots[this.snapshots.length - 1];
    // A snapshot every SNAPSHOT_GAP_MS of sample time at most is plenty for windows of
    // seconds; the thresholds are judged as often, not on every batch (k6 judges every
    // 2 s). A push in between (another instance's, of the same second) is taken into the
    // series' last point when the series is read. Working a point out on every push instead
    // cost sink-ingest's 8 instances 37 % of their throughput on float pushes (1.33M
    // against 2.12M samples/s) and 8 % on native histograms.
    if (last && this.lastSampleAt < last.t + SNAPSHOT_GAP_MS) {
      this.pointBehind = true;
      return null;
    }
    this.pointBehind = false;
    this.snapshots.push({
      t: this.lastSampleAt,
      requests: this.totalRequests(),
      failed: this.totalFailed(),
      testFailed: this.totalFailedOn('test'),
      iterations: this.iterations,
      histogram: this.hasHistogram ? this.durations.total.toRecord() : null,
    });
    // Keep the snapshots of the longer window, the first one (the rates start there) and nothing else older.
    const horizon = this.lastSampleAt - Math.max(this.windowMs, POINT_WINDOW_MS);
    let drop = 1;
    while (drop + 1 < this.snapshots.length && this.snapshots[drop + 1]!.t <= horizon) drop++;
    if (drop > 1) this.snapshots.splice(1, drop - 1);
    // A point per second of sample time too: the pushes of all instances of that second.
    this.series.add(this.point());
    if (this.abortedBy !== null || this.thresholds.size === 0) return null;
    for (const result of this.thresholdResults()) {
      const spec = this.thresholds.get(`${result.metric} ${result.threshold}`)!;
      if (result.ok === false && spec.abortOnFail && !spec.approximate && this.lastSampleAt - this.firstSampleAt >= spec.delayAbortEvalMs) {
        this.abortedAt = Date.now();
        return (this.abortedBy = result);
      }
    }
    return null;
  }

  /** The guard's rules: the first registration's stand (every instance sends the same). */
  setGuard(rules: readonly GuardRuleJson[]): void {
    this.guard ??= new RunGuard(rules);
  }

  /**
   * The guard's reading of the latest push (the last GUARD_WINDOW_MS of sample time, every
   * instance merged): the trip, the first time one of its rules has held for its duration.
   * Read once per push, after touched().
   */
  guardTripped(): GuardTripJson | null {
    if (!this.guard || this.guard.tripped || !(this.lastSampleAt > this.guardReadAt)) return null;
    this.guardReadAt = this.lastSampleAt;
    const w = this.window(GUARD_WINDOW_MS);
    const base = w.base;
    let merged: HistogramAccumulator | null | undefined;
    return this.guard.read({
      from: base?.t ?? this.firstSampleAt,
      to: this.lastSampleAt,
      requests: this.totalRequests() - (base?.requests ?? 0),
      shopFailed: this.totalFailed() - this.totalFailedOn('test') - (base ? base.failed - base.testFailed : 0),
      percentileMs: (q) => {
        merged ??= this.durationsOf(w);
        return merged && merged.count > 0 ? ms(merged.k6Percentile(q)) : null;
      },
    });
  }

  figures(): { live: Figures; run: Figures } {
    this.cached ??= { live: this.compute(this.window(this.windowMs), false), run: this.compute(this.window(undefined), true) };
    return this.cached;
  }

  /** The window of the last `lengthMs` of sample time; the whole run when undefined (or the run is shorter). */
  private window(lengthMs: number | undefined): Window {
    const now = this.lastSampleAt;
    let base: Snapshot | undefined;
    if (lengthMs !== undefined) for (const s of this.snapshots) if (s.t <= now - lengthMs) base = s;
    const first = this.snapshots[0];
    return { base, rateBase: base ?? (first && first.t < now ? first : undefined) };
  }

  /** The merged durations of a window (null in trend-stats mode). */
  private durationsOf(w: Window): HistogramAccumulator | null {
    if (!this.hasHistogram) return null;
    if (!w.base?.histogram) return this.durations.total;
    const delta = new HistogramAccumulator();
    delta.addRecord(this.durations.total.toRecord(), 0, 1);
    delta.addRecord(w.base.histogram, 0, -1);
    return delta;
  }

  private compute(w: Window, wholeRun: boolean): Figures {
    return this.computeWithMean(w, wholeRun).figures;
  }

  /** The window's figures, and the mean duration of its requests (ms; null without a histogram). */
  private computeWithMean(w: Window, wholeRun: boolean, reasons = true): { figures: Figures; meanMs: number | null } {
    const now = this.lastSampleAt;
    const requests = this.totalRequests();
    const windowRequests = requests - (w.base?.requests ?? 0);
    const windowFailed = this.totalFailed() - (w.base?.failed ?? 0);
    const rps = w.rateBase ? ((requests - w.rateBase.requests) * 1000) / (now - w.rateBase.t) : null;
    const [p50, p95, p99, meanMs] = this.percentiles(w);
    const errorRatio = windowRequests > 0 ? windowFailed / windowRequests : null;
    const windowTestFailed = this.totalFailedOn('test') - (w.base?.testFailed ?? 0);
    let g: Grade;
    if (windowRequests <= 0) g = grade({ p95Ms: 0, errorRatio: 0, requests: 0 });
    // Failures mostly of the test's own making grade the test, not the shop: no letter, the reason in words.
    else if (testIsBroken({ requests: windowRequests, failed: windowFailed, testSide: windowTestFailed, shopSide: windowFailed - windowTestFailed, causes: [] }))
      // A point keeps only the letter: the sentence (a pass over every group) is for the figures shown.
      g = notApplicable((reasons ? brokenSentence(this.failures()) : null) ?? 'The test is broken: most of its failed requests were refused, unresolved or answered 4xx.');
    else if (p95 === null) g = { ...grade({ p95Ms: NaN, errorRatio: 0 }), reason: `no p95 of http_req_duration: ${NO_P95_HINT}` };
    else g = grade({ p95Ms: p95, errorRatio: errorRatio ?? 0, requests: windowRequests });
    const figures: Figures = {
      requests: windowRequests,
      p50Ms: p50,
      p95Ms: p95,
      p99Ms: p99,
      errorRatio,
      rps,
      vus: wholeRun ? this.maxVus : this.currentVus(),
      checksRate: this.checksRate(),
      iterations: this.iterations - (w.base?.iterations ?? 0),
      grade: g,
    };
    return { figures, meanMs };
  }

  /** p50, p95, p99 and the mean of a window in ms: k6's percentiles of the merged histograms, or the slowest series' trend stats (no mean then). */
  private percentiles(w: Window): [number | null, number | null, number | null, number | null] {
    const merged = this.durationsOf(w);
    if (merged) return [ms(merged.k6Percentile(0.5)), ms(merged.k6Percentile(0.95)), ms(merged.k6Percentile(0.99)), merged.count > 0 ? ms(merged.mean()) : null];
    // Trend stats are per series and cannot be merged: the slowest series stands for the run.
    const max = (m: LatestValues) => (m.size === 0 ? null : m.max() * 1000);
    return [max(this.trendStats.p50), max(this.trendStats.p95), max(this.trendStats.p99), null];
  }

  /** k6 sends only each check series' ratio, not its count: the series are averaged without weights. */
  private checksRate(): number | null {
    const checks = this.checksBySeries;
    return checks.size === 0 ? null : checks.sum() / checks.size;
  }

  /** The point of the latest push: the last POINT_WINDOW_MS. */
  private point(): SeriesPoint {
    const w = this.window(POINT_WINDOW_MS);
    const { figures: f, meanMs } = this.computeWithMean(w, false, false);
    const now = this.lastSampleAt;
    const failedRate = w.rateBase ? ((this.totalFailed() - w.rateBase.failed) * 1000) / (now - w.rateBase.t) : null;
    return {
      t: now,
      vus: f.vus,
      rps: f.rps,
      okRps: f.rps === null || failedRate === null ? null : Math.max(0, f.rps - failedRate),
      p50Ms: f.p50Ms,
      p95Ms: f.p95Ms,
      p99Ms: f.p99Ms,
      errorRatio: f.errorRatio,
      checksRate: f.checksRate,
      requests: this.totalRequests(),
      failed: this.totalFailed(),
      shopFailed: this.totalFailedOn('shop'),
      meanMs,
      // Cumulative, so any two points give the requests in flight between them (forecast.ts).
      ...(this.hasHistogram ? { durationSumMs: this.durations.total.sum * 1000, durationCount: this.durations.total.count } : {}),
      grade: f.grade.letter,
      score: f.grade.score,
    };
  }

  /** Requests, RPS, p50, p95, p99 and error ratio for each page_type, and for the SLOWEST_NAMES slowest names. */
  pages(): { pageTypes: PageFiguresJson[]; slowestNames: PageFiguresJson[] } {
    const run = this.figures().run;
    const byTag = (tag: 'page_type' | 'name') => {
      const totals = new Map<string, { requests: number; failed: number }>();
      for (const g of this.groups.values()) {
        const value = label(g.labels, tag);
        if (value === undefined) continue;
        const t = totals.get(value) ?? { requests: 0, failed: 0 };
        t.requests += requestsOf(g);
        t.failed += failedOf(g);
        totals.set(value, t);
      }
      return totals;
    };
    const figures = (key: string, totals: { requests: number; failed: number } | undefined, merged: HistogramAccumulator | undefined): PageFiguresJson => ({
      key,
      requests: totals?.requests ?? merged?.count ?? 0,
      rps: run.rps !== null && run.requests > 0 && totals ? (run.rps * totals.requests) / run.requests : null,
      p50Ms: merged ? ms(merged.k6Percentile(0.5)) : null,
      p95Ms: merged ? ms(merged.k6Percentile(0.95)) : null,
      p99Ms: merged ? ms(merged.k6Percentile(0.99)) : null,
      errorRatio: totals && totals.requests > 0 ? totals.failed / totals.requests : null,
      ...p95Interval(merged),
    });
    const pageTotals = byTag('page_type');
    const pageTypes = [...new Set([...pageTotals.keys(), ...this.durations.byPageType.keys()])].sort().map((k) => figures(k, pageTotals.get(k), this.durations.byPageType.get(k)));
    const nameTotals = byTag('name');
    const names = [...new Set([...nameTotals.keys(), ...this.durations.byName.keys()])].map((k) => figures(k, nameTotals.get(k), this.durations.byName.get(k)));
    names.sort((a, b) => (b.p95Ms ?? -1) - (a.p95Ms ?? -1) || a.key.localeCompare(b.key));
    return { pageTypes, slowestNames: names.slice(0, SLOWEST_NAMES) };
  }

  /** The whole run's p95 confidence interval (see p95Interval). */
  p95Interval(): { p95LowMs: number | null; p95HighMs: number | null } {
    return p95Interval(this.hasHistogram ? this.durations.total : null);
  }

  /** Each threshold's verdict on the merged data, now. */
  thresholdResults(): ThresholdResult[] {
    const out: ThresholdResult[] = [];
    for (const spec of this.thresholds.values()) out.push(this.judge(spec));
    return out;
  }

  private judge(spec: ThresholdSpec): ThresholdResult {
    const result: ThresholdResult = { metric: spec.metric, threshold: spec.threshold, ok: null, value: null, requests: 0, abortOnFail: spec.abortOnFail, supported: !spec.unsupported };
    if (spec.unsupported) return { ...result, reason: spec.unsupported };
    let value: number;
    if (spec.base === 'http_req_duration') {
      if (!this.hasHistogram) return { ...result, supported: false, reason: `http_req_duration thresholds are judged from native histograms: ${NO_P95_HINT}` };
      const merged = spec.selectorKey === '' ? this.durations.total : this.durations.selected(spec.selectorKey, spec.selector);
      result.requests = merged.count;
      if (!(merged.count > 0)) return result;
      const a = spec.aggregation!;
      const seconds =
        a.kind === 'percentile' ? merged.k6Percentile(a.pct)
        : a.kind === 'med' ? merged.k6Percentile(0.5)
        : a.kind === 'avg' ? merged.mean()
        : a.kind === 'min' ? merged.orderStatistic(0)
        : merged.orderStatistic(merged.count - 1);
      value = seconds * 1000;
    } else if (spec.base === 'http_req_failed') {
      let requests = 0;
      let failed = 0;
      for (const g of this.groups.values()) {
        if (!matches(g.labels, spec.selector)) continue;
        requests += requestsOf(g);
        failed += failedOf(g);
      }
      result.requests = requests;
      if (requests <= 0) return result;
      value = failed / requests;
    } else if (spec.base === 'checks') {
      const checks = this.checksRate();
      result.requests = this.totalRequests();
      if (checks === null) return result;
      value = checks;
    } else {
      // Another Rate metric: k6 sends its ratio per series, without counts (requests stays 0).
      const series = this.rates.get(spec.base);
      if (series === undefined || series.size === 0) return result;
      value = series.sum() / series.size;
      // One series (one instance, no tags of its own): the ratio is k6's own.
      if (series.size === 1) return { ...result, value, ok: holds(spec.operator!, value, spec.value) };
    }
    return { ...result, value, ok: holds(spec.operator!, value, spec.value), ...(spec.approximate ? { reason: spec.approximate } : {}) };
  }
}
