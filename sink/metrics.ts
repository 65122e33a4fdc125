// The sink's own /metrics, on a Registry passed in: per-run grade figures (computed
// at scrape time, never on the write path) and the sink's health.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RunRegistry } from './grade/runs.ts';
import { forecastBounds, withheldWhy, type Figures } from './model/run-events.ts';
import type { Capacity } from './grade/capacity.ts';
import type { FanOut } from './fanout/fanout.ts';
import type { PipelineCounters } from './fanout/pipeline.ts';
import type { Notifier } from './control/notify/notifier.ts';
import type { RunControl } from './control/run-control.ts';
import type { DeliveryCounts } from './control/notify/delivery.ts';
import { RUN_TAG_NAMES, runTagLabels } from '../lib/tags.ts';

export interface SinkMetrics {
  requests: Counter<'version'>;
  rejected: Counter<'reason'>;
  connectionErrors: Counter<'reason'>;
  samples: Counter;
  histograms: Counter;
  decodeSeconds: Histogram;
}

const WINDOWS = ['live', 'run'] as const;

export function registerSinkMetrics(register: Registry, runs: RunRegistry): SinkMetrics {
  const perRun = (name: string, help: string, labelNames: string[], value: (f: Figures) => number | null, extra?: (testid: string) => Record<string, string>) =>
    new Gauge({
      name,
      help,
      labelNames: ['testid', 'window', ...labelNames],
      registers: [register],
      collect() {
        this.reset();
        for (const [testid, run] of runs.runs) {
          const figures = run.figures();
          for (const window of WINDOWS) {
            const v = value(figures[window]);
            if (v !== null && Number.isFinite(v)) this.set({ testid, window, ...(extra?.(testid) ?? {}) }, v);
          }
        }
      },
    });
  const source = (testid: string) => ({ p95_source: runs.run(testid)?.p95Source ?? 'none' });

  perRun('promo_grade_score', 'Grade score 0–100 per run and window (absent while N/A).', [], (f) => f.grade.score);
  new Gauge({
    name: 'promo_grade_info',
    help: 'Always 1; the grade letter and colour per run and window are labels (N/A included), and why a grade is withheld ("The test could not reach the shop", "The journey is broken", "no requests", …; empty with a letter).',
    labelNames: ['testid', 'window', 'grade', 'colour', 'why'],
    registers: [register],
    collect() {
      this.reset();
      for (const [testid, run] of runs.runs) {
        const figures = run.figures();
        for (const window of WINDOWS) this.set({ testid, window, grade: figures[window].grade.letter, colour: figures[window].grade.colour, why: withheldWhy(figures[window].grade) }, 1);
      }
    },
  });
  perRun('promo_p95_ms', 'p95 of http_req_duration in ms. p95_source="trend_stats_per_series": the largest per-series p95, which cannot be merged across series.', ['p95_source'], (f) => f.p95Ms, source);
  perRun('promo_p99_ms', 'p99 of http_req_duration in ms; p95_source says where it comes from, as for promo_p95_ms.', ['p95_source'], (f) => f.p99Ms, source);
  perRun('promo_error_ratio', 'Failed / total HTTP requests, weighted by each series\' request count.', [], (f) => f.errorRatio);
  perRun('promo_rps', 'HTTP requests per second.', [], (f) => f.rps);
  perRun('promo_vus', 'Virtual users: now for window="live", the peak for window="run".', [], (f) => f.vus);
  const perRunCapacity = (name: string, help: string, read: (c: Capacity) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['testid'],
      registers: [register],
      collect() {
        this.reset();
        for (const [testid, run] of runs.runs) {
          const value = read(run.capacity());
          if (value !== null) this.set({ testid }, value);
        }
      },
    });
  perRunCapacity('promo_breaking_point_vus', 'VUs at which the run broke: errors over 1 % or p95 over 2000 ms in a 5 s window, and staying there.', (c) => c.breakingPointVus);
  perRunCapacity('promo_throughput_limit_rps', 'Requests/s at which throughput stopped growing while VUs still grew (the capacity).', (c) => c.throughputLimitRps);
  perRunCapacity('promo_throughput_limit_vus', 'VUs at the knee, where requests/s stopped growing.', (c) => c.throughputLimitVus);
  new Gauge({
    name: 'promo_capacity_forecast_rps',
    help: 'A ramp\'s capacity forecast (the Universal Scalability Law fitted to its seconds): bound="peak" the predicted peak of ok requests/s, "low" and "high" its 95 % band; a ramp that never left the shop\'s linear part has "low" alone, the floor it showed.',
    labelNames: ['testid', 'bound'],
    registers: [register],
    collect() {
      this.reset();
      for (const [testid, run] of runs.runs) for (const [bound, value] of forecastBounds(run.capacity().forecast)) this.set({ testid, bound }, value);
    },
  });
  new Gauge({
    name: 'promo_run_info',
    help: 'Always 1; a run\'s standard tags and status as labels.',
    labelNames: ['testid', ...RUN_TAG_NAMES, 'status'],
    registers: [register],
    collect() {
      this.reset();
      for (const [testid, run] of runs.runs) this.set({ testid, ...runTagLabels(run.tags), status: run.status }, 1);
    },
  });

  const fromCounters = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [register], collect() { this.set(read()); } });
  fromCounters('sink_active_series', 'Series the sink keeps state for.', () => runs.activeSeries);
  fromCounters('sink_runs', 'Runs (testids) the sink keeps.', () => runs.runs.size);
  new Counter({
    name: 'sink_refused_series_total',
    help: 'New series refused because a series limit was reached, by limit.',
    labelNames: ['reason'],
    registers: [register],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(runs.counters.refusedSeries)) this.inc({ reason }, n);
    },
  });
  const counterFrom = (name: string, help: string, read: () => number) =>
    new Counter({ name, help, registers: [register], collect() { this.reset(); this.inc(read()); } });
  counterFrom('sink_refused_samples_total', 'Samples of refused series, not aggregated (the series limit was reached).', () => runs.counters.refusedSamples);
  counterFrom('sink_refused_thresholds_total', 'Thresholds not judged because their run already had the most a run keeps (200).', () => runs.counters.refusedThresholds);
  counterFrom('sink_out_of_order_samples_total', 'Samples not newer than the series\' latest (late or repeated), skipped by grading: cumulative values carry nothing newer.', () => runs.counters.outOfOrder);
  counterFrom('sink_stale_markers_total', 'Stale markers received.', () => runs.counters.staleMarkers);
  counterFrom('sink_counter_resets_total', 'Counter or histogram resets seen (k6 restarted).', () => runs.counters.counterResets);
  counterFrom('sink_evicted_runs_total', 'Runs forgotten past --max-runs, open or ended, the least recently touched first, with their series.', () => runs.counters.evictedRuns);

  return {
    requests: new Counter({ name: 'sink_write_requests_total', help: 'Accepted remote-write requests, by protocol version.', labelNames: ['version'], registers: [register] }),
    rejected: new Counter({ name: 'sink_rejected_requests_total', help: 'Rejected remote-write requests, by error code.', labelNames: ['reason'], registers: [register] }),
    connectionErrors: new Counter({
      name: 'sink_connection_errors_total',
      help: 'Connections closed before any route ran, by error code: not valid HTTP, headers too large, or a request that did not arrive whole within --request-timeout.',
      labelNames: ['reason'],
      registers: [register],
    }),
    samples: new Counter({ name: 'sink_samples_received_total', help: 'Float samples accepted.', registers: [register] }),
    histograms: new Counter({ name: 'sink_histograms_received_total', help: 'Native histogram samples accepted.', registers: [register] }),
    decodeSeconds: new Histogram({
      name: 'sink_decode_seconds',
      help: 'Time to decompress, decode and grade one request.',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [register],
    }),
  };
}

/** What run control refused or forgot: registrations past --max-registrations, k6 addresses past a run's 1,024. */
export function registerControlMetrics(register: Registry, control: RunControl): void {
  new Counter({
    name: 'sink_evicted_registrations_total',
    help: 'Run registrations forgotten past --max-registrations, the least recently registered or finished first.',
    registers: [register],
    collect() {
      this.reset();
      this.inc(control.counters.evictedRegistrations);
    },
  });
  new Counter({
    name: 'sink_refused_k6_addresses_total',
    help: 'k6 REST API addresses not registered because their run already had 1,024 (409 SINK_ERR_TOO_MANY_K6_ADDRESSES).',
    registers: [register],
    collect() {
      this.reset();
      this.inc(control.counters.refusedK6Addresses);
    },
  });
}

/** Per destination: samples sent, failed, retried and dropped; queue depth; spool bytes; last success. */
export function registerFanOutMetrics(register: Registry, fanOut: FanOut): void {
  const perDestination = (name: string, help: string, read: (c: PipelineCounters, destination: string) => number, type: 'counter' | 'gauge') =>
    byDestination(register, name, help, type, () => fanOut.names.map((destination) => [destination, read(fanOut.counters[destination]!, destination)]));
  perDestination('sink_destination_samples_sent_total', 'Samples delivered to the destination.', (c) => c.sent, 'counter');
  perDestination('sink_destination_samples_failed_total', 'Samples the destination refused with a 4xx that a retry cannot fix (logged).', (c) => c.failed, 'counter');
  perDestination('sink_destination_samples_retried_total', 'Samples sent again after a network error, a 5xx or a 429.', (c) => c.retried, 'counter');
  perDestination('sink_destination_samples_dropped_total', 'Samples dropped before delivery: the spool bound was reached, or shutdown without a spool dir.', (c) => c.dropped, 'counter');
  perDestination('sink_destination_queue_records', 'Records waiting for the destination.', (_c, d) => fanOut.spool.lag(d).records, 'gauge');
  perDestination('sink_destination_queue_samples', 'Samples waiting for the destination.', (_c, d) => fanOut.spool.lag(d).weight, 'gauge');
  perDestination('sink_destination_requests_in_flight', 'Requests sent to the destination and not answered yet (at most --max-in-flight).', (c) => c.inFlight, 'gauge');
  perDestination('sink_destination_last_success_timestamp_seconds', 'When the destination last accepted a request (0: never).', (c) => c.lastSuccessMs / 1000, 'gauge');
  new Gauge({ name: 'sink_spool_bytes', help: 'Bytes in the spool (disk with --spool-dir, memory without).', registers: [register], collect() { this.set(fanOut.spool.stats().bytes); } });
  new Gauge({
    name: 'sink_destination_info',
    help: 'Always 1: what each destination name stands for (kind, URL, database or bucket; no credentials).',
    labelNames: ['destination', 'key'],
    registers: [register],
    collect() {
      fanOut.names.forEach((destination, i) => this.set({ destination, key: fanOut.keys[i]! }, 1));
    },
  });
  new Counter({
    name: 'sink_spool_corrupt_records_total',
    help: 'Acknowledged records set aside as *.corrupt when the spool was opened (a damaged record and every record after it): logged, never replayed.',
    registers: [register],
    collect() {
      this.reset();
      this.inc(fanOut.spool.stats().setAsideRecords);
    },
  });
  new Counter({
    name: 'sink_spool_released_samples_total',
    help: 'Samples that spooled destinations no longer configured had not taken: reported and released when the spool was opened.',
    registers: [register],
    collect() {
      this.reset();
      this.inc(fanOut.released.samples);
    },
  });
}

/** Per notification destination (slack, webhook): notifications sent, given up, retried and dropped, and waiting. */
export function registerNotifierMetrics(register: Registry, notifier: Notifier): void {
  const perDestination = (name: string, help: string, read: (c: DeliveryCounts) => number, type: 'counter' | 'gauge') =>
    byDestination(register, name, help, type, () => notifier.delivery.byDestination().map((counts) => [counts.destination, read(counts)]));
  perDestination('sink_notifications_sent_total', 'Notifications the destination took (2xx).', (c) => c.sent, 'counter');
  perDestination('sink_notifications_failed_total', 'Notifications given up: attempts exhausted, or refused for good (a 4xx other than 408 and 429); logged.', (c) => c.failed, 'counter');
  perDestination('sink_notifications_retried_total', 'Attempts after the first, after a network error, a timeout, a 5xx, a 408 or a 429.', (c) => c.retried, 'counter');
  perDestination('sink_notifications_dropped_total', 'Notifications dropped, oldest first, from a full queue (it holds 1000 per destination).', (c) => c.dropped, 'counter');
  perDestination('sink_notifications_queued', 'Notifications waiting for the destination or in flight.', (c) => c.queued, 'gauge');
}

/** A counter or gauge with a `destination` label, its values read at scrape time. */
function byDestination(register: Registry, name: string, help: string, type: 'counter' | 'gauge', rows: () => Array<[string, number]>): void {
  const Metric = type === 'counter' ? Counter : Gauge;
  new Metric({
    name,
    help,
    labelNames: ['destination'],
    registers: [register],
    collect(this: Counter<'destination'> | Gauge<'destination'>) {
      this.reset();
      for (const [destination, value] of rows()) {
        if (this instanceof Counter) this.inc({ destination }, value);
        else this.set({ destination }, value);
      }
    },
  } as never);
}
