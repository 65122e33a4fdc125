// The hot path after decoding: every series of a batch updates its run. A series'
// role is worked out once, when it is first seen; after that a sample costs a look
// at its label set's own state field (see SeriesLabels.gradeState) and a few arithmetic operations.
//
// Series are identified by their label names and values. The index keys them by a
// hash of those and keeps no identity string (hundreds of bytes per series): the
// names and values it compares are the label set's own arrays and strings, which the
// decoder shares between label sets. The hash is keyed at random when the registry is
// made (model/keyed-hash.ts), so nobody can send label sets crafted to share a bucket.
//
// Bounded, at a cost linear in what comes in: past --max-runs the least recently touched
// run goes, open or ended, with its series (O(1) to find it, O(its series) to forget them,
// which its series cost to make), counted in sink_evicted_runs_total.
import type { DecodedBatch } from '../model/batch.ts';
import { label, labelsIdentity, type SeriesLabels } from '../model/labels.ts';
import { RunState, RUN_TAGS, NO_P95_HINT, MAX_THRESHOLDS_PER_RUN, type RequestGroup } from './run-state.ts';
import type { DurationSeries } from './durations.ts';
import { parseThreshold, type ThresholdSpec } from './thresholds.ts';
import { RunEvents } from '../model/run-events.ts';
import type { ExpectRequest, GuardRuleJson } from '../../contract/sink-api.ts';
import { KeyedHash } from '../model/keyed-hash.ts';

export const UNTAGGED = 'untagged';

type Role = 'reqs' | 'failed' | 'duration_histogram' | 'p50' | 'p95' | 'p99' | 'vus' | 'iterations' | 'checks' | 'rate' | 'thresholds' | 'other';

interface SeriesState {
  /** The registry that keeps it: a label set's state may be seen by another registry. */
  readonly owner: RunRegistry;
  /** Set when the sweep forgets the series: a label set's gradeState may still point here. */
  removed: boolean;
  readonly run: RunState;
  readonly role: Role;
  /**
   * The labels without the metric name (see labelsIdentity), one string per distinct
   * value in a run: joins a request series to its failure-rate twin. '' for roles
   * that need none.
   */
  readonly groupKey: string;
  /** The label set the series was created with: its names and values identify it. */
  readonly labels: SeriesLabels;
  /** Its key in the index. */
  readonly hash: number;
  /** The next series in the index with the same hash. */
  nextSameHash: SeriesState | null;
  /** The next series of the same run (the run's list, for forgetting them with it). */
  nextInRun: SeriesState | null;
  lastTimestamp: number;
  lastValue: number;
  /** A duration series' place in its run's merged histograms (durations.ts). */
  duration: DurationSeries | null;
  stale: boolean;
  /**
   * Where the series' samples go in its run, found on its first sample and kept (runs
   * never drop them): its request group (reqs, failed), or its value holder (trend
   * stats, vus, checks, Rate metrics). A map lookup per sample was about a tenth of the event loop's CPU.
   */
  group: RequestGroup | null;
  holder: { value: number } | null;
}

export interface IngestLimits {
  windowMs: number;
  maxSeries: number;
  maxSeriesPerRun: number;
  seriesTtlMs: number;
  maxRuns: number;
  /** Runs whose registration's thresholds wait for their first sample (as many as registrations are kept). */
  maxRegistrations: number;
}

/** Counters of what ingestion did, read by the sink's own metrics. */
export interface IngestCounters {
  samples: number;
  histograms: number;
  staleMarkers: number;
  outOfOrder: number;
  refusedSeries: Record<'total_limit' | 'run_limit', number>;
  refusedSamples: number;
  /** Thresholds past a run's MAX_THRESHOLDS_PER_RUN, not judged. */
  refusedThresholds: number;
  counterResets: number;
  /** Runs forgotten past --max-runs (the least recently touched), open or ended. */
  evictedRuns: number;
}

function roleOf(metricName: string): Role {
  switch (metricName) {
    case 'k6_http_reqs_total':
      return 'reqs';
    case 'k6_http_req_failed_rate':
      return 'failed';
    case 'k6_http_req_duration_seconds':
      return 'duration_histogram';
    case 'k6_http_req_duration_p50':
    case 'k6_http_req_duration_med':
      return 'p50';
    case 'k6_http_req_duration_p95':
      return 'p95';
    case 'k6_http_req_duration_p99':
      return 'p99';
    case 'k6_vus':
      return 'vus';
    case 'k6_iterations_total':
      return 'iterations';
    case 'k6_checks_rate':
      return 'checks';
    case THRESHOLDS_METRIC:
      return 'thresholds';
    default:
      // k6 sends a Rate metric (cache_hit_rate, promo_applied_rate) as the gauge k6_<name>_rate.
      return metricName.startsWith('k6_') && metricName.endsWith('_rate') ? 'rate' : 'other';
  }
}

/** The scenario library's announcement of the run's thresholds (lib/threshold-announce.ts), one series per threshold. */
export const THRESHOLDS_METRIC = 'k6_promo_thresholds';

/** A threshold as the announcing series' labels carry it. */
function announcedThreshold(labels: SeriesLabels): ThresholdSpec | null {
  const metric = label(labels, 'metric');
  const threshold = label(labels, 'threshold');
  if (metric === undefined || threshold === undefined) return null;
  const delay = label(labels, 'delay_abort_eval');
  return parseThreshold(metric, { threshold, abortOnFail: label(labels, 'abort_on_fail') === 'true', ...(delay ? { delayAbortEval: delay } : {}) });
}

/** Roles whose series are grouped by their labels without the metric name. */
const GROUPED: ReadonlySet<Role> = new Set<Role>(['reqs', 'failed', 'p50', 'p95', 'p99', 'vus', 'checks', 'rate']);

/** Series graded between two looks at the clock, in ingestInSlices(). */
const SLICE_SERIES = 64;
/** How long ingestInSlices() grades before it lets the event loop answer others. */
const SLICE_BUDGET_MS = 10;

/** Lines about single runs (refusals, an N/A grade) logged between two sweeps: a flood of testids must not flood the log too. */
const RUN_LOG_LINES = 100;

function sameLabels(state: SeriesState, names: readonly string[], values: readonly string[]): boolean {
  const own = state.labels;
  if (own.names.length !== names.length) return false;
  for (let k = 0; k < names.length; k++) if (own.names[k] !== names[k] || own.values[k] !== values[k]) return false;
  return true;
}

export class RunRegistry {
  readonly runs = new Map<string, RunState>();
  /** Every run, least recently touched first: the next one to go past --max-runs. */
  private readonly recency = new Set<RunState>();
  /** Each run's series, most recent first, linked through nextInRun. */
  private readonly runSeries = new Map<RunState, SeriesState>();
  /** Every series by the keyed hash of its labels, colliding ones chained through nextSameHash. */
  private readonly series = new Map<number, SeriesState>();
  private readonly hasher = new KeyedHash();
  private seriesCount = 0;
  private evictionsLogged = 0;
  private runLines = 0;
  /** The hash of the label set stateOf() last looked for and did not find. */
  private lastMissHash = 0;
  private runLinesHeld = 0;
  /** Per run, one string per distinct group key. */
  private readonly groupKeys = new Map<RunState, Map<string, string>>();
  readonly counters: IngestCounters = {
    samples: 0,
    histograms: 0,
    staleMarkers: 0,
    outOfOrder: 0,
    refusedSeries: { total_limit: 0, run_limit: 0 },
    refusedSamples: 0,
    refusedThresholds: 0,
    counterResets: 0,
    evictedRuns: 0,
  };
  private readonly refusalLogged = new Set<string>();
  /** Thresholds registered for runs whose first sample has not come yet. */
  private readonly expectedThresholds = new Map<string, ThresholdSpec[]>();
  /** Expected peaks (issue 22) registered for runs whose first sample has not come yet. */
  private readonly expectedPeaks = new Map<string, ExpectRequest>();
  /** Guards registered for runs whose first sample has not come yet. */
  private readonly expectedGuards = new Map<string, readonly GuardRuleJson[]>();
  private readonly touchedRuns = new Set<RunState>();

  constructor(
    private readonly limits: IngestLimits,
    private readonly log: (line: string) => void = () => {},
    /** Where grading publishes touched and thresholdBreached (model/run-events.ts). */
    readonly events: RunEvents = new RunEvents(log),
  ) {}

  get activeSeries(): number {
    return this.seriesCount;
  }

  run(testid: string): RunState | undefined {
    return this.runs.get(testid);
  }

  /** The run's thresholds (from its registration): applied now, or when its first sample comes. */
  expectThresholds(testid: string, specs: ThresholdSpec[]): void {
    const run = this.runs.get(testid);
    if (run) return this.addThresholds(run, specs);
    // Each instance registers the same thresholds: one copy each, and no more than a run keeps.
    const expected = this.expectedThresholds.get(testid) ?? [];
    for (const spec of specs) {
      const key = `${spec.metric} ${spec.threshold}`;
      const known = expected.find((e) => `${e.metric} ${e.threshold}` === key);
      if (known) {
        if (spec.abortOnFail && !known.abortOnFail) expected[expected.indexOf(known)] = { ...known, abortOnFail: true };
      } else if (expected.length < MAX_THRESHOLDS_PER_RUN) expected.push(spec);
      else this.counters.refusedThresholds++;
    }
    // Most recent last; registrations of runs that never send anything must not pile up.
    this.expectedThresholds.delete(testid);
    this.expectedThresholds.set(testid, expected);
    while (this.expectedThresholds.size > this.limits.maxRegistrations) this.expectedThresholds.delete(this.expectedThresholds.keys().next().value!);
  }

  /** The run's expected peak (from its registration): the run says whether the shop will hold it. Set now, or when its first sample comes. */
  expectPeak(testid: string, expect: ExpectRequest): void {
    const run = this.runs.get(testid);
    if (run) {
      run.expect = expect;
      return;
    }
    this.expectedPeaks.set(testid, expect);
    while (this.expectedPeaks.size > this.limits.maxRegistrations) this.expectedPeaks.delete(this.expectedPeaks.keys().next().value!);
  }

  /** The run's guard (from its registration): set now, or when its first sample comes. */
  expectGuard(testid: string, rules: readonly GuardRuleJson[]): void {
    const run = this.runs.get(testid);
    if (run) return run.setGuard(rules);
    if (!this.expectedGuards.has(testid)) this.expectedGuards.set(testid, rules);
    while (this.expectedGuards.size > this.limits.maxRegistrations) this.expectedGuards.delete(this.expectedGuards.keys().next().value!);
  }

  private addThresholds(run: RunState, specs: ThresholdSpec[]): void {
    const refused = run.addThresholds(specs);
    if (refused === 0) return;
    this.counters.refusedThresholds += refused;
    if (!this.firstRefusal(`thresholds:${run.testid}`)) return;
    this.runLog(`run ${run.testid} has ${MAX_THRESHOLDS_PER_RUN} thresholds: further ones are not judged (counted in sink_refused_thresholds_total)`);
  }

  /** Grades the batch. */
  ingest(batch: DecodedBatch): void {
    this.grade(batch, 0, batch.seriesCount, this.touchedRuns);
    this.publish(batch, this.touchedRuns);
  }

  /**
   * Grades the batch as ingest() does, but a large one in slices, letting the event loop
   * answer other requests (/-/ready, the status page) whenever a slice made it wait more
   * than SLICE_BUDGET_MS: a push of thousands of new series or runs does not hold the
   * sink for its whole length. A k6 push takes a few ms and never waits. Another batch
   * may be graded in between; the runs touched are heard of once this one is whole.
   */
  async ingestInSlices(batch: DecodedBatch): Promise<void> {
    const n = batch.seriesCount;
    if (n <= SLICE_SERIES) return this.ingest(batch);
    const touched = new Set<RunState>();
    let since = performance.now();
    const yieldWhenDue = async () => {
      if (performance.now() - since <= SLICE_BUDGET_MS) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
      since = performance.now();
    };
    for (let from = 0; from < n; from += SLICE_SERIES) {
      this.grade(batch, from, Math.min(n, from + SLICE_SERIES), touched);
      if (from + SLICE_SERIES < n) await yieldWhenDue();
    }
    // Thousands of new runs are heard of in slices too (each is graded for its listeners).
    this.count(batch);
    let k = 0;
    for (const run of touched) {
      this.publishRun(run);
      if (++k % SLICE_SERIES === 0) await yieldWhenDue();
    }
    touched.clear();
  }

  /** Grades series [from, to) of the batch; the runs they belong to go into `touched`. */
  private grade(batch: DecodedBatch, from: number, to: number, touched: Set<RunState>): void {
    const { sampleStart, sampleValues, sampleTimestamps, histogramStart } = batch;
    let lastRun: RunState | null = null;
    for (let i = from; i < to; i++) {
      const labels = batch.series[i]!;
      const state = this.stateOf(labels) ?? this.create(labels, sampleStart[i + 1]! - sampleStart[i]! + histogramStart[i + 1]! - histogramStart[i]!);
      if (!state) continue;
      if (state.run !== lastRun) {
        lastRun = state.run;
        if (!touched.has(lastRun)) {
          touched.add(lastRun);
          // Most recently touched last: O(1) whichever run it is (the next to go past --max-runs is first).
          this.recency.delete(lastRun);
          this.recency.add(lastRun);
        }
      }
      // Histograms first: k6's final push resends a histogram series' last histogram
      // together with a float stale marker, and the marker must have the last word.
      for (let h = histogramStart[i]!; h < histogramStart[i + 1]!; h++) this.histogram(state, batch, h);
      for (let s = sampleStart[i]!; s < sampleStart[i + 1]!; s++) {
        // The marker is a signalling NaN, which a JS number may quietly change: test the stored bits.
        if (batch.isStaleSample(s)) this.markStale(state, sampleTimestamps[s]!);
        else this.sample(state, sampleValues, sampleTimestamps, s);
      }
    }
  }

  /** The batch is graded: its counts, and the touched and thresholdBreached events of the runs it touched. */
  private publish(batch: DecodedBatch, touched: Set<RunState>): void {
    this.count(batch);
    for (const run of touched) this.publishRun(run);
    touched.clear();
  }

  private count(batch: DecodedBatch): void {
    this.counters.samples += batch.sampleCount;
    this.counters.histograms += batch.histogramCount;
  }

  /** A run the batch touched: its thresholds judged, and its listeners told. */
  private publishRun(run: RunState): void {
    // A run forgotten past --max-runs since (this very batch may have made it): nobody hears of it.
    if (this.runs.get(run.testid) !== run) return;
    const abort = run.touched();
    if (abort) void this.events.emit('thresholdBreached', { run, threshold: abort });
    const trip = run.guardTripped();
    if (trip) void this.events.emit('guardTripped', { run, trip });
    void this.events.emit('touched', run);
    if (!run.naLogged && run.p95Source === null && run.groups.size > 0) {
      run.naLogged = true;
      this.runLog(`run ${run.testid} has no p95 of http_req_duration, so its grade is N/A: ${NO_P95_HINT}`);
    }
  }

  /** The series' state: from the label set's gradeState when it holds ours, else by identity. */
  private stateOf(labels: SeriesLabels): SeriesState | undefined {
    const known = labels.gradeState as SeriesState | undefined;
    if (known !== undefined && known.owner === this && !known.removed) return known;
    this.lastMissHash = this.labelsHash(labels.names, labels.values);
    const state = this.find(labels.names, labels.values, this.lastMissHash);
    // Another object with the same labels (re-decoded, or sent as RW2): remember it here too.
    if (state !== undefined) labels.gradeState = state;
    return state;
  }

  /** The keyed hash of a label set's names and values (a bucket selector only: matches are compared). */
  private labelsHash(names: readonly string[], values: readonly string[]): number {
    const h = this.hasher.begin().word(names.length);
    for (let k = 0; k < names.length; k++) h.string(names[k]!).string(values[k]!);
    return h.finish();
  }

  private find(names: readonly string[], values: readonly string[], hash: number): SeriesState | undefined {
    for (let s: SeriesState | null = this.series.get(hash) ?? null; s !== null; s = s.nextSameHash) if (sameLabels(s, names, values)) return s;
    return undefined;
  }

  /** The run's one string for this group key. */
  private groupKey(run: RunState, labels: SeriesLabels): string {
    let keys = this.groupKeys.get(run);
    if (keys === undefined) this.groupKeys.set(run, (keys = new Map()));
    const key = labelsIdentity(labels.names, labels.values);
    const known = keys.get(key);
    if (known !== undefined) return known;
    keys.set(key, key);
    return key;
  }

  private create(labels: SeriesLabels, sampleCount: number): SeriesState | null {
    const testid = label(labels, 'testid') || UNTAGGED;
    let run = this.runs.get(testid);
    const refusal = this.seriesCount >= this.limits.maxSeries ? 'total_limit' : run && run.seriesCount >= this.limits.maxSeriesPerRun ? 'run_limit' : null;
    if (refusal) {
      this.counters.refusedSeries[refusal]++;
      this.counters.refusedSamples += sampleCount;
      if (this.firstRefusal(`${refusal}:${testid}`)) {
        const limit = refusal === 'total_limit' ? `--max-series ${this.limits.maxSeries}` : `--max-series-per-run ${this.limits.maxSeriesPerRun}`;
        this.runLog(`refusing new series for run ${testid}: the limit ${limit} is reached; raise it or cut label cardinality (url, name)`);
      }
      return null;
    }
    if (!run) {
      run = new RunState(testid, this.limits.windowMs);
      const expected = this.expectedThresholds.get(testid);
      if (expected) this.addThresholds(run, expected);
      this.expectedThresholds.delete(testid);
      run.expect = this.expectedPeaks.get(testid) ?? null;
      this.expectedPeaks.delete(testid);
      const guard = this.expectedGuards.get(testid);
      if (guard) run.setGuard(guard);
      this.expectedGuards.delete(testid);
      this.runs.set(testid, run);
      this.recency.add(run);
      this.evictRuns();
    }
    // The run's labels from every new series, not only its first: k6's vus series has no
    // scenario label, and it may come first.
    for (const tag of RUN_TAGS) {
      if (run.tags[tag] !== undefined) continue;
      const value = label(labels, tag);
      if (value !== undefined) run.tags[tag] = value;
    }
    run.seriesCount++;
    const role = roleOf(labels.metricName);
    if (role === 'thresholds') {
      const announced = announcedThreshold(labels);
      if (announced) this.addThresholds(run, [announced]);
    }
    // create() follows the stateOf() that found nothing: the hash is the one it worked out.
    const hash = this.lastMissHash;
    const state: SeriesState = {
      owner: this,
      removed: false,
      run,
      role,
      groupKey: GROUPED.has(role) ? this.groupKey(run, labels) : '',
      labels,
      hash,
      nextSameHash: this.series.get(hash) ?? null,
      nextInRun: this.runSeries.get(run) ?? null,
      lastTimestamp: -Infinity,
      lastValue: 0,
      duration: role === 'duration_histogram' ? run.durations.add(labels) : null,
      stale: false,
      group: null,
      holder: null,
    };
    this.series.set(hash, state);
    this.runSeries.set(run, state);
    this.seriesCount++;
    labels.gradeState = state;
    return state;
  }

  private markStale(state: SeriesState, timestamp: number): void {
    this.counters.staleMarkers++;
    if (state.stale) return;
    state.stale = true;
    const run = state.run;
    if (++run.staleSeries === run.seriesCount) run.endedAt = timestamp;
  }

  private revive(state: SeriesState): void {
    if (!state.stale) return;
    state.stale = false;
    state.run.staleSeries--;
    state.run.endedAt = null;
  }

  /**
   * Sample `s` of the batch. Takes the columns and an index, not the two numbers: a
   * fractional number passed to a call that is not inlined is boxed, a heap allocation
   * per number (half of what ingest allocated).
   */
  private sample(state: SeriesState, values: Float64Array, timestamps: Float64Array, s: number): void {
    const value = values[s]!;
    const timestamp = timestamps[s]!;
    // A late or repeated sample of a cumulative series says nothing newer: count it, skip it.
    if (timestamp <= state.lastTimestamp) {
      this.counters.outOfOrder++;
      return;
    }
    this.revive(state);
    const run = state.run;
    const previous = state.lastValue;
    state.lastTimestamp = timestamp;
    state.lastValue = value;
    if (timestamp > run.lastSampleAt) run.lastSampleAt = timestamp;
    if (timestamp < run.firstSampleAt) run.firstSampleAt = timestamp;
    switch (state.role) {
      case 'reqs': {
        const g = (state.group ??= run.group(state.groupKey, state.labels));
        if (value < g.reqs) {
          // k6 restarted: what was counted before stays counted.
          this.counters.counterResets++;
          g.reqsCarry += g.reqs;
          g.failedCarry += g.failedRate * g.reqs;
        }
        g.reqs = value;
        break;
      }
      case 'failed':
        (state.group ??= run.group(state.groupKey, state.labels)).failedRate = value;
        break;
      case 'iterations':
        if (value < previous) this.counters.counterResets++;
        run.iterations += value < previous ? value : value - previous;
        break;
      case 'p50':
      case 'p95':
      case 'p99':
        (state.holder ??= run.trendStats[state.role].holder(state.groupKey, value)).value = value;
        break;
      case 'vus':
        (state.holder ??= run.vusBySeries.holder(state.groupKey, value)).value = value;
        break;
      case 'checks':
        (state.holder ??= run.checksBySeries.holder(state.groupKey, value)).value = value;
        break;
      case 'rate':
        (state.holder ??= run.rateSeries(state.labels.metricName.slice(3, -5)).holder(state.groupKey, value)).value = value;
        break;
      default:
        break;
    }
  }

  /** Histogram `k` of the batch: its record, read in place. */
  private histogram(state: SeriesState, batch: DecodedBatch, k: number): void {
    const timestamp = batch.histogramTimestamp(k);
    if (batch.isStaleHistogram(k)) return this.markStale(state, timestamp);
    if (timestamp <= state.lastTimestamp) {
      this.counters.outOfOrder++;
      return;
    }
    this.revive(state);
    const run = state.run;
    // The run's merged histograms are the sums of their series' latest cumulative ones (durations.ts).
    if (state.duration && run.durations.update(state.duration, batch.histogramRecords, batch.histogramAt[k]!)) this.counters.counterResets++;
    state.lastTimestamp = timestamp;
    if (timestamp > run.lastSampleAt) run.lastSampleAt = timestamp;
    if (timestamp < run.firstSampleAt) run.firstSampleAt = timestamp;
  }

  /** Forgets series not seen for seriesTtlMs (by wall clock) so memory stays bounded. */
  sweep(nowMs: number): void {
    // The runs' lists are made again from the series that stay.
    this.runSeries.clear();
    for (const [hash, first] of this.series) {
      let head: SeriesState | null = null;
      let tail: SeriesState | null = null;
      for (let state: SeriesState | null = first; state !== null; ) {
        const next: SeriesState | null = state.nextSameHash;
        if (nowMs - state.lastTimestamp > this.limits.seriesTtlMs || (state.stale && state.run.ended)) {
          state.removed = true;
          state.nextSameHash = null;
          this.seriesCount--;
          state.run.seriesCount--;
          if (state.stale) state.run.staleSeries--;
        } else {
          if (tail === null) head = state;
          else tail.nextSameHash = state;
          tail = state;
          state.nextSameHash = null;
          state.nextInRun = this.runSeries.get(state.run) ?? null;
          this.runSeries.set(state.run, state);
        }
        state = next;
      }
      if (head === null) this.series.delete(hash);
      else if (head !== first) this.series.set(hash, head);
    }
    // A run whose series all went quiet without stale markers is over too.
    for (const run of this.runs.values()) if (run.seriesCount === 0 && !run.ended) run.endedAt = run.lastSampleAt;
    this.evictRuns();
    this.refusalLogged.clear();
    if (this.runLinesHeld > 0) this.log(`${this.runLinesHeld} more lines about single runs (N/A grades, refusals) were not logged since the last sweep: at most ${RUN_LOG_LINES} a minute`);
    this.runLines = 0;
    this.runLinesHeld = 0;
    if (this.counters.evictedRuns > this.evictionsLogged) {
      this.log(`forgot ${this.counters.evictedRuns - this.evictionsLogged} runs past --max-runs ${this.limits.maxRuns} since the last such line, the least recently touched first (sink_evicted_runs_total)`);
      this.evictionsLogged = this.counters.evictedRuns;
    }
  }

  /** True the first time a refusal is seen since the last sweep. */
  private firstRefusal(key: string): boolean {
    if (this.refusalLogged.has(key) || this.refusalLogged.size >= RUN_LOG_LINES) return false;
    this.refusalLogged.add(key);
    return true;
  }

  /** A line about one run, while fewer than RUN_LOG_LINES were logged since the last sweep; the rest are counted. */
  private runLog(line: string): void {
    if (this.runLines++ < RUN_LOG_LINES) this.log(line);
    else this.runLinesHeld++;
  }

  /** Past --max-runs, the least recently touched run goes, with its series: O(1) to find, O(its series) to forget. */
  private evictRuns(): void {
    while (this.runs.size > this.limits.maxRuns) {
      const run: RunState = this.recency.values().next().value!;
      this.recency.delete(run);
      this.runs.delete(run.testid);
      for (let state = this.runSeries.get(run) ?? null; state !== null; state = state.nextInRun) this.forget(state);
      this.runSeries.delete(run);
      this.expectedThresholds.delete(run.testid);
      this.expectedPeaks.delete(run.testid);
      this.groupKeys.delete(run);
      this.counters.evictedRuns++;
      if (this.counters.evictedRuns === 1) {
        this.log(`more than --max-runs ${this.limits.maxRuns} runs: the least recently touched goes, open or ended, with its series (counted in sink_evicted_runs_total)`);
        this.evictionsLogged = 1;
      }
    }
  }

  /** Takes a series out of the index (its chain is a few entries long: the hash is keyed). */
  private forget(state: SeriesState): void {
    if (state.removed) return;
    state.removed = true;
    this.seriesCount--;
    state.run.seriesCount--;
    if (state.stale) state.run.staleSeries--;
    const first = this.series.get(state.hash);
    if (first === state) {
      if (state.nextSameHash === null) this.series.delete(state.hash);
      else this.series.set(state.hash, state.nextSameHash);
    } else {
      for (let s = first ?? null; s !== null; s = s.nextSameHash) {
        if (s.nextSameHash === state) {
          s.nextSameHash = state.nextSameHash;
          break;
        }
      }
    }
    state.nextSameHash = null;
  }
}
