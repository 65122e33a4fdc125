// The hot path after decoding: every series of a batch updates its run. A series'
// role is worked out once, when it is first seen; after that a sample costs one
// Map lookup and a few arithmetic operations.
import type { DecodedBatch, NativeHistogram, SeriesLabels } from './decode.ts';
import { isStaleNaN } from './decode.ts';
import { RunState, RUN_TAGS, NO_P95_HINT } from './run-state.ts';

export const UNTAGGED = 'untagged';

type Role = 'reqs' | 'failed' | 'duration_histogram' | 'p50' | 'p95' | 'p99' | 'vus' | 'iterations' | 'checks' | 'other';

interface SeriesState {
  readonly run: RunState;
  readonly role: Role;
  /** The labels without the metric name: joins a request series to its failure-rate twin. */
  readonly groupKey: string;
  lastTimestamp: number;
  lastValue: number;
  lastHistogram: NativeHistogram | null;
  stale: boolean;
}

export interface IngestLimits {
  windowMs: number;
  maxSeries: number;
  maxSeriesPerRun: number;
  seriesTtlMs: number;
  maxRuns: number;
}

/** Counters of what ingestion did, read by the sink's own metrics. */
export interface IngestCounters {
  samples: number;
  histograms: number;
  staleMarkers: number;
  outOfOrder: number;
  refusedSeries: Record<'total_limit' | 'run_limit', number>;
  refusedSamples: number;
  counterResets: number;
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
    default:
      return 'other';
  }
}

function label(labels: SeriesLabels, name: string): string | undefined {
  const i = labels.names.indexOf(name);
  return i < 0 ? undefined : labels.values[i];
}

export class RunRegistry {
  readonly runs = new Map<string, RunState>();
  private readonly series = new Map<string, SeriesState>();
  readonly counters: IngestCounters = {
    samples: 0,
    histograms: 0,
    staleMarkers: 0,
    outOfOrder: 0,
    refusedSeries: { total_limit: 0, run_limit: 0 },
    refusedSamples: 0,
    counterResets: 0,
  };
  private readonly refusalLogged = new Set<string>();
  /** Called for each run a batch touched, after its figures changed (notifications hook in here). */
  onTouched: ((run: RunState) => void) | null = null;
  private readonly touchedRuns = new Set<RunState>();

  constructor(
    private readonly limits: IngestLimits,
    private readonly log: (line: string) => void = () => {},
  ) {}

  get activeSeries(): number {
    return this.series.size;
  }

  run(testid: string): RunState | undefined {
    return this.runs.get(testid);
  }

  ingest(batch: DecodedBatch): void {
    const { sampleStart, sampleValues, sampleTimestamps, histogramStart, histograms } = batch;
    for (let i = 0; i < batch.seriesCount; i++) {
      const labels = batch.series[i]!;
      const state = this.series.get(labels.id) ?? this.create(labels, sampleStart[i + 1]! - sampleStart[i]! + histogramStart[i + 1]! - histogramStart[i]!);
      if (!state) continue;
      this.touchedRuns.add(state.run);
      // Histograms first: k6's final push resends a histogram series' last histogram
      // together with a float stale marker, and the marker must have the last word.
      for (let h = histogramStart[i]!; h < histogramStart[i + 1]!; h++) this.histogram(state, histograms[h]!);
      for (let s = sampleStart[i]!; s < sampleStart[i + 1]!; s++) {
        // The marker is a signalling NaN, which a JS number may quietly change: test the stored bits.
        if (batch.isStaleSample(s)) this.markStale(state, sampleTimestamps[s]!);
        else this.sample(state, sampleValues[s]!, sampleTimestamps[s]!);
      }
    }
    this.counters.samples += batch.sampleCount;
    this.counters.histograms += batch.histogramCount;
    for (const run of this.touchedRuns) {
      run.touched();
      this.onTouched?.(run);
      if (!run.naLogged && run.p95Source === null && run.groups.size > 0) {
        run.naLogged = true;
        this.log(`run ${run.testid} has no p95 of http_req_duration, so its grade is N/A: ${NO_P95_HINT}`);
      }
    }
    this.touchedRuns.clear();
  }

  private create(labels: SeriesLabels, sampleCount: number): SeriesState | null {
    const testid = label(labels, 'testid') || UNTAGGED;
    let run = this.runs.get(testid);
    const refusal = this.series.size >= this.limits.maxSeries ? 'total_limit' : run && run.seriesCount >= this.limits.maxSeriesPerRun ? 'run_limit' : null;
    if (refusal) {
      this.counters.refusedSeries[refusal]++;
      this.counters.refusedSamples += sampleCount;
      const key = `${refusal}:${testid}`;
      if (!this.refusalLogged.has(key)) {
        this.refusalLogged.add(key);
        const limit = refusal === 'total_limit' ? `--max-series ${this.limits.maxSeries}` : `--max-series-per-run ${this.limits.maxSeriesPerRun}`;
        this.log(`refusing new series for run ${testid}: the limit ${limit} is reached; raise it or cut label cardinality (url, name)`);
      }
      return null;
    }
    if (!run) {
      run = new RunState(testid, this.limits.windowMs);
      for (const tag of RUN_TAGS) {
        const value = label(labels, tag);
        if (value !== undefined) run.tags[tag] = value;
      }
      this.runs.set(testid, run);
      this.evictRuns();
    }
    run.seriesCount++;
    const state: SeriesState = {
      run,
      role: roleOf(labels.metricName),
      groupKey: labels.id.slice(labels.metricName.length),
      lastTimestamp: -Infinity,
      lastValue: 0,
      lastHistogram: null,
      stale: false,
    };
    this.series.set(labels.id, state);
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

  private sample(state: SeriesState, value: number, timestamp: number): void {
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
        const g = run.group(state.groupKey);
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
        run.group(state.groupKey).failedRate = value;
        break;
      case 'iterations':
        if (value < previous) this.counters.counterResets++;
        run.iterations += value < previous ? value : value - previous;
        break;
      case 'p50':
      case 'p95':
      case 'p99':
        run.trendStats[state.role].set(state.groupKey, value);
        break;
      case 'vus':
        run.vusBySeries.set(state.groupKey, value);
        break;
      case 'checks':
        run.checksBySeries.set(state.groupKey, value);
        break;
      default:
        break;
    }
  }

  private histogram(state: SeriesState, h: NativeHistogram): void {
    if (isStaleNaN(h.sum)) return this.markStale(state, h.timestamp);
    if (h.timestamp <= state.lastTimestamp) {
      this.counters.outOfOrder++;
      return;
    }
    this.revive(state);
    const run = state.run;
    if (state.role === 'duration_histogram') this.addDuration(state, h);
    state.lastTimestamp = h.timestamp;
    if (h.timestamp > run.lastSampleAt) run.lastSampleAt = h.timestamp;
    if (h.timestamp < run.firstSampleAt) run.firstSampleAt = h.timestamp;
  }

  private addDuration(state: SeriesState, h: NativeHistogram): void {
    const run = state.run;
    // The run's histogram is the sum over series of each series' latest cumulative
    // histogram (plus what a series had before a reset): add the new one, take the old one out.
    const previous = state.lastHistogram;
    run.durationHistogram.add(h);
    if (previous) {
      if (h.count < previous.count || h.resetHint === 1) this.counters.counterResets++;
      else run.durationHistogram.subtract(previous);
    }
    state.lastHistogram = h;
    run.hasHistogram = true;
  }

  /** Forgets series not seen for seriesTtlMs (by wall clock) so memory stays bounded. */
  sweep(nowMs: number): void {
    for (const [id, state] of this.series) {
      if (nowMs - state.lastTimestamp > this.limits.seriesTtlMs || (state.stale && state.run.ended)) {
        this.series.delete(id);
        state.run.seriesCount--;
        if (state.stale) state.run.staleSeries--;
      }
    }
    // A run whose series all went quiet without stale markers is over too.
    for (const run of this.runs.values()) if (run.seriesCount === 0 && !run.ended) run.endedAt = run.lastSampleAt;
    this.evictRuns();
    this.refusalLogged.clear();
  }

  private evictRuns(): void {
    if (this.runs.size <= this.limits.maxRuns) return;
    // Ended runs go first, oldest first; a running run is never evicted.
    for (const [testid, run] of this.runs) {
      if (run.ended) {
        this.runs.delete(testid);
        if (this.runs.size <= this.limits.maxRuns) return;
      }
    }
  }
}
