// The k6 panels, once: the Prometheus and the InfluxDB dashboards lay out the very same
// panels and differ only in the queries a backend (prometheus.ts, influxdb.ts) supplies.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { Section } from '../shared/layout.ts';
import { statPanel, tablePanel, timeseriesPanel, type Target } from '../shared/panels.ts';

export interface K6Table {
  targets: readonly Target[];
  transformations: dashboard.DataTransformerConfig[];
  columnUnits: Readonly<Record<string, string>>;
  sortBy: string;
}

/** What a backend answers for each panel. */
export interface K6Queries {
  /** Unit of http_req_duration as the backend stores it: `s` (Prometheus) or `ms` (InfluxDB). */
  latencyUnit: 's' | 'ms';
  vus: readonly Target[];
  peakVus: readonly Target[];
  requestsPerSecond: readonly Target[];
  failureRate: readonly Target[];
  /** Grafana-side arithmetic on the failure-rate queries, where the query language has none. */
  failureRateTransformations?: dashboard.DataTransformerConfig[];
  latency: readonly Target[];
  checks: readonly Target[];
  data: readonly Target[];
  iterations: readonly Target[];
  droppedIterations: readonly Target[];
  byUrl: K6Table;
  byStatus: K6Table;
  /** The sink's capacity forecast of a ramp (promo_capacity_forecast_rps / promo_capacity_forecast), by bound. */
  capacityForecast: readonly Target[];
}

export function k6Sections(q: K6Queries): Section[] {
  return [
    {
      row: 'Load',
      panels: [
        timeseriesPanel({ title: 'Virtual users', description: 'Active virtual users (k6 vus) and the most allowed (vus_max), summed over k6 instances.', targets: q.vus, unit: 'none', min: 0, w: 9 }),
        statPanel({ title: 'Peak virtual users', description: 'Highest number of active virtual users in the time range.', targets: q.peakVus, unit: 'none', w: 3, sparkline: false }),
        timeseriesPanel({ title: 'Requests per second', description: 'HTTP requests completed per second (k6 http_reqs).', targets: q.requestsPerSecond, unit: 'reqps', min: 0, w: 6 }),
        timeseriesPanel({
          title: 'Failure rate',
          description: 'Share of HTTP requests k6 counted as failed (http_req_failed: status outside expected_response, or no response).',
          targets: q.failureRate,
          transformations: q.failureRateTransformations,
          unit: 'percentunit',
          min: 0,
          w: 6,
          thresholdLines: [
            { value: null, color: 'green' },
            { value: 0.05, color: 'red' },
          ],
        }),
      ],
    },
    {
      row: 'Response time and checks',
      panels: [
        timeseriesPanel({
          title: 'Response time percentiles',
          description: 'p50, p95 and p99 of http_req_duration: from native histograms (merged across all series) or, with trend stats, the largest per-series value. Only the mode k6 was run with has data.',
          targets: q.latency,
          unit: q.latencyUnit,
          min: 0,
          w: 16,
          h: 9,
        }),
        timeseriesPanel({ title: 'Checks passed', description: 'Share of k6 checks that passed, per check.', targets: q.checks, unit: 'percentunit', min: 0, max: 1, w: 8, h: 9 }),
      ],
    },
    {
      row: 'Throughput',
      panels: [
        timeseriesPanel({ title: 'Data sent and received', description: 'Bytes per second k6 sent and received.', targets: q.data, unit: 'Bps', min: 0, w: 8 }),
        timeseriesPanel({ title: 'Iterations per second', description: 'Completed iterations of the scenario function per second.', targets: q.iterations, unit: 'ops', min: 0, w: 8 }),
        timeseriesPanel({
          title: 'Dropped iterations',
          description: 'Iterations k6 could not start (arrival-rate executors short of VUs): any is a sign the load generator, not the shop, is the limit.',
          targets: q.droppedIterations,
          unit: 'none',
          min: 0,
          w: 8,
          thresholdLines: [
            { value: null, color: 'green' },
            { value: 1, color: 'red' },
          ],
        }),
      ],
    },
    {
      row: 'Capacity forecast',
      panels: [
        timeseriesPanel({
          title: 'Capacity forecast',
          description:
            'The sink\'s capacity model of a ramp: the Universal Scalability Law fitted to requests/s against requests in flight, second by second. peak: the predicted most ok requests/s; low and high: its 95 % band. A ramp that never left the shop\'s linear part has only low, the floor it showed.',
          targets: q.capacityForecast,
          unit: 'reqps',
          min: 0,
          w: 24,
          h: 7,
        }),
      ],
    },
    {
      row: 'Requests by URL and status',
      panels: [
        tablePanel({ title: 'By URL', description: "Requests, failures and p95 per request name (k6's name tag: the URL unless the script names the request) and method, over the time range.", ...q.byUrl, w: 14, h: 10 }),
        tablePanel({ title: 'By status', description: 'Requests per HTTP status over the time range (0: no response).', ...q.byStatus, w: 10, h: 10 }),
      ],
    },
  ];
}

/**
 * Transformations that merge one-row-per-group query results into one table: the Time
 * column goes first (queries may stamp their rows differently, and merge would then keep
 * them apart), then rows merge on the group labels, then columns are renamed.
 */
export function mergeTable(rename: Readonly<Record<string, string>>): dashboard.DataTransformerConfig[] {
  return [
    { id: 'organize', options: { excludeByName: { Time: true }, indexByName: {}, renameByName: {} } },
    { id: 'merge', options: {} },
    { id: 'organize', options: { excludeByName: {}, indexByName: {}, renameByName: { ...rename } } },
  ];
}
