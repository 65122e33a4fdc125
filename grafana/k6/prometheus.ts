// The k6 panels in PromQL, over k6's experimental-prometheus-rw series as the sink forwards
// them to Prometheus. Latency has one query per k6 mode: native histograms
// (k6_http_req_duration_seconds) and trend stats (k6_http_req_duration_p50/_p95/_p99).
import { eq, k6, nativeQuantile, re, selector, sumIncrease, sumRate, type Matcher } from '../shared/promql.ts';
import { prom, type Target } from '../shared/panels.ts';
import { mergeTable, type K6Queries } from './panels.ts';

const DURATION = 'k6_http_req_duration_seconds';
const reqs = (extra: readonly Matcher[] = []) => k6('k6_http_reqs_total', { extra });
const FAILED = [eq('expected_response', 'false')];

const percentiles = (['p50', 'p95', 'p99'] as const).map((p) => ({ p, q: Number(p.slice(1)) / 100 }));

/**
 * Native-histogram quantile over the range `or` the trend-stats value: whichever mode the
 * run used. The trend stat is cumulative, so its last value in the range is the run's; a
 * plain selector would find nothing once k6's stale markers have ended the series.
 */
function p95Either(by: readonly string[]): string {
  return `${nativeQuantile(0.95, k6(DURATION), by, '$__range')} or max by (${by.join(', ')}) (last_over_time(${k6('k6_http_req_duration_p95')}[$__range]))`;
}

/** Failed share per group over the range, 0 (not blank) for groups without failures. */
function failedShare(by: readonly string[]): string {
  const all = sumIncrease(reqs(), by, '$__range');
  return `(${sumIncrease(reqs(FAILED), by, '$__range')} or 0 * ${all}) / ${all}`;
}

const instantTable = (expr: string): Target => prom(expr, undefined, { instant: true, format: 'table' });

export const prometheusK6Queries: K6Queries = {
  latencyUnit: 's',
  vus: [prom(`sum(${k6('k6_vus', { omit: ['scenario'] })})`, 'VUs'), prom(`sum(${k6('k6_vus_max', { omit: ['scenario'] })})`, 'max VUs')],
  // The sum over instances needs a subquery, and its step is named: a subquery without one
  // steps by Prometheus's evaluation interval (15 s), on the clock's 15 s marks, and a run
  // shorter than that can fall between two of them: before it starts and after its stale
  // markers, so the panel is empty. k6 pushes every second (the CLI's
  // K6_PROMETHEUS_RW_PUSH_INTERVAL), so the floor is 1 s.
  peakVus: [prom(`max_over_time(sum(${k6('k6_vus', { omit: ['scenario'] })})[$__range:$__interval])`, 'peak VUs', { instant: true, minInterval: '1s' })],
  requestsPerSecond: [prom(sumRate(reqs()), 'requests/s')],
  failureRate: [
    prom(`${sumRate(reqs(FAILED))} / ${sumRate(reqs())}`, 'failed (per interval)'),
    prom(`sum(${k6('k6_http_req_failed_rate')} * ${reqs()}) / sum(${reqs()})`, 'failed (since start)'),
  ],
  latency: [
    ...percentiles.map(({ p, q }) => prom(nativeQuantile(q, k6(DURATION)), p)),
    ...percentiles.map(({ p }) => prom(`max(${k6(`k6_http_req_duration_${p}`)})`, `${p} (trend stats, slowest series)`)),
  ],
  checks: [prom(`avg by (check) (${k6('k6_checks_rate')})`, '{{check}}')],
  data: [prom(sumRate(k6('k6_data_sent_total')), 'sent'), prom(sumRate(k6('k6_data_received_total')), 'received')],
  iterations: [prom(sumRate(k6('k6_iterations_total')), 'iterations/s')],
  droppedIterations: [prom(sumIncrease(k6('k6_dropped_iterations_total')), 'dropped per interval')],
  // The sink's series carry only testid (and bound), not k6's other labels.
  capacityForecast: [prom(`max by (bound) (promo_capacity_forecast_rps${selector([re('testid', '$testid')])})`, '{{bound}}')],
  byUrl: {
    targets: [
      instantTable(sumIncrease(reqs(), ['name', 'method'], '$__range')),
      instantTable(failedShare(['name', 'method'])),
      instantTable(p95Either(['name', 'method'])),
    ],
    transformations: mergeTable({ name: 'URL', method: 'Method', 'Value #A': 'Requests', 'Value #B': 'Failed', 'Value #C': 'p95' }),
    columnUnits: { Requests: 'short', Failed: 'percentunit', p95: 's' },
    sortBy: 'Requests',
  },
  byStatus: {
    targets: [
      instantTable(sumIncrease(reqs(), ['status'], '$__range')),
      instantTable(`${sumIncrease(reqs(), ['status'], '$__range')} / scalar(${sumIncrease(reqs(), [], '$__range')})`),
      instantTable(p95Either(['status'])),
    ],
    transformations: mergeTable({ status: 'Status', 'Value #A': 'Requests', 'Value #B': 'Share', 'Value #C': 'p95' }),
    columnUnits: { Requests: 'short', Share: 'percentunit', p95: 's' },
    sortBy: 'Requests',
  },
};
