// The k6 panels in InfluxQL over the sink's InfluxDB mapping (see shared/influxql.ts):
// counters are cumulative, so rates are non_negative_derivative per series, then summed.
import { influx, type Target } from '../shared/panels.ts';
import { INFLUX, influxSumIncrease, influxSumLastPerInterval, influxSumRate, influxTotalsBy, k6Where } from '../shared/influxql.ts';
import { mergeTable, type K6Queries } from './panels.ts';

const M = INFLUX.measurements;
const P = INFLUX.percentiles;
const FAILED = `"expected_response" = 'false'`;
const noScenario = k6Where({ omit: ['scenario'] });

const table = (query: string): Target => influx(query, undefined, { table: true });

/** left / right as a Grafana "calculate field" (InfluxQL cannot divide one series by another). */
const ratio = (left: string, right: string, alias: string, replaceFields: boolean) => ({
  id: 'calculateField',
  options: {
    mode: 'binary',
    binary: { left: { matcher: { id: 'byName', options: left } }, operator: '/', right: { matcher: { id: 'byName', options: right } } },
    alias,
    replaceFields,
  },
});

export const influxK6Queries: K6Queries = {
  latencyUnit: 'ms',
  vus: [influx(influxSumLastPerInterval(M.vus, noScenario), 'VUs'), influx(influxSumLastPerInterval(M.vusMax, noScenario), 'max VUs')],
  // No time filter on the outermost query: InfluxDB 1.x returns nothing for a time-filtered
  // query over two levels of subqueries. The inner ones are filtered.
  peakVus: [influx(`SELECT max("sum") FROM (${influxSumLastPerInterval(M.vus, noScenario)})`, 'peak VUs')],
  requestsPerSecond: [influx(influxSumRate(M.httpReqs, k6Where()), 'requests/s')],
  // Failed requests per second over all requests per second, divided by Grafana.
  failureRate: [influx(influxSumRate(M.httpReqs, k6Where({ extra: [FAILED] })), 'failed'), influx(influxSumRate(M.httpReqs, k6Where()), 'total')],
  failureRateTransformations: [{ id: 'joinByField', options: { byField: 'Time', mode: 'outer' } }, ratio('failed', 'total', 'failed (per interval)', true)],
  latency: (['p50', 'p95', 'p99'] as const).map((p) =>
    influx(`SELECT max("${P[p]}") FROM "${M.httpReqDuration}" WHERE ${k6Where()} GROUP BY time($__interval) fill(null)`, `${p} (slowest series)`),
  ),
  checks: [influx(`SELECT mean("${INFLUX.value}") FROM "${M.checks}" WHERE ${k6Where()} GROUP BY time($__interval), "check" fill(null)`, '$tag_check')],
  data: [influx(influxSumRate(M.dataSent, k6Where()), 'sent'), influx(influxSumRate(M.dataReceived, k6Where()), 'received')],
  iterations: [influx(influxSumRate(M.iterations, k6Where()), 'iterations/s')],
  droppedIterations: [influx(influxSumIncrease(M.droppedIterations, k6Where()), 'dropped per interval')],
  // The sink's forecast lines carry the run's tags (no scenario), as its grade lines do.
  capacityForecast: [influx(`SELECT last("rps") FROM "${M.capacityForecast}" WHERE ${noScenario} GROUP BY time($__interval), "bound" fill(null)`, '$tag_bound')],
  byUrl: {
    targets: [
      table(influxTotalsBy(M.httpReqs, k6Where(), ['name', 'method'], 'requests')),
      table(influxTotalsBy(M.httpReqs, k6Where({ extra: [FAILED] }), ['name', 'method'], 'failed')),
      table(`SELECT max("${P.p95}") AS "p95" FROM "${M.httpReqDuration}" WHERE ${k6Where()} GROUP BY "name", "method"`),
    ],
    transformations: [
      ...mergeTable({}),
      ratio('failed', 'requests', 'Failed', false),
      { id: 'organize', options: { excludeByName: { failed: true }, indexByName: {}, renameByName: { name: 'URL', method: 'Method', requests: 'Requests' } } },
    ],
    columnUnits: { Requests: 'short', Failed: 'percentunit', p95: 'ms' },
    sortBy: 'Requests',
  },
  byStatus: {
    targets: [
      table(influxTotalsBy(M.httpReqs, k6Where(), ['status'], 'requests')),
      table(`SELECT max("${P.p95}") AS "p95" FROM "${M.httpReqDuration}" WHERE ${k6Where()} GROUP BY "status"`),
    ],
    transformations: mergeTable({ status: 'Status', requests: 'Requests' }),
    columnUnits: { Requests: 'short', p95: 'ms' },
    sortBy: 'Requests',
  },
};
