// InfluxQL over the sink's InfluxDB mapping (docs/influx-mapping.md): one measurement per
// k6 metric, named without the k6_ prefix and the _total/_rate/_seconds suffixes, k6's
// labels as tags (url is a field, so tables group on k6's `name` tag, which is the URL
// unless a script names its requests), and the grade in `promo_grade`.
// The SDK has no InfluxDB query type, so InfluxQuery implements the SDK's Dataquery here.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { K6_FILTER_VARIABLES, type K6FilterVariable } from './promql.ts';

/** Measurements and fields written by the sink, in one place should the mapping change. */
export const INFLUX = {
  measurements: {
    httpReqs: 'http_reqs',
    httpReqDuration: 'http_req_duration',
    httpReqFailed: 'http_req_failed',
    vus: 'vus',
    vusMax: 'vus_max',
    checks: 'checks',
    dataSent: 'data_sent',
    dataReceived: 'data_received',
    iterations: 'iterations',
    droppedIterations: 'dropped_iterations',
    grade: 'promo_grade',
    capacityForecast: 'promo_capacity_forecast',
  },
  /** Counters, rates and gauges: the value as k6 sent it (cumulative for counters). */
  value: 'value',
  /** http_req_duration percentiles, in milliseconds (p50 only with native histograms). */
  percentiles: { p50: 'p50', p95: 'p95', p99: 'p99' },
} as const;

export const INFLUX_DATASOURCE: DataSourceRef = { type: 'influxdb', uid: 'influxdb' };

export interface InfluxQuery extends cog.Dataquery {
  refId: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  alias?: string;
}

/** A raw InfluxQL target, typed as the SDK's Dataquery so panel builders accept it. */
export class InfluxQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: InfluxQuery;

  constructor(query: string) {
    this.internal = { refId: 'A', datasource: INFLUX_DATASOURCE, query, rawQuery: true, resultFormat: 'time_series', _implementsDataqueryVariant: () => {} };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  alias(alias: string): this {
    this.internal.alias = alias;
    return this;
  }

  table(): this {
    this.internal.resultFormat = 'table';
    return this;
  }

  build(): InfluxQuery {
    return this.internal;
  }
}

/** `"tag" =~ /^$var$/`: Grafana formats a multi-value or All selection as (a|b), regex-escaped. */
export function tagMatches(tag: string, variable: string = tag): string {
  return `"${tag}" =~ /^$${variable}$/`;
}

export interface InfluxWhereOptions {
  omit?: readonly K6FilterVariable[];
  /** Extra conditions, ANDed after the filters, e.g. `"expected_response" = 'false'`. */
  extra?: readonly string[];
}

/** `$timeFilter AND "testid" =~ /^$testid$/ AND ...` for the k6 filter variables. */
export function k6Where(options: InfluxWhereOptions = {}): string {
  const omit = new Set(options.omit ?? []);
  return ['$timeFilter', ...K6_FILTER_VARIABLES.filter((v) => !omit.has(v)).map((v) => tagMatches(v)), ...(options.extra ?? [])].join(' AND ');
}

/**
 * Per-second rate of a cumulative counter, summed over series:
 * the inner query differentiates each series (GROUP BY *), the outer one adds them up.
 */
export function influxSumRate(measurement: string, where: string, outerGroupBy: readonly string[] = []): string {
  const inner = `SELECT non_negative_derivative(last("${INFLUX.value}"), 1s) AS "rate" FROM "${measurement}" WHERE ${where} GROUP BY time($__interval), *`;
  return `SELECT sum("rate") FROM (${inner}) WHERE $timeFilter GROUP BY ${['time($__interval)', ...outerGroupBy.map((t) => `"${t}"`)].join(', ')} fill(null)`;
}

/** Growth of a cumulative counter per interval, summed over series. */
export function influxSumIncrease(measurement: string, where: string): string {
  const inner = `SELECT non_negative_difference(last("${INFLUX.value}")) AS "increase" FROM "${measurement}" WHERE ${where} GROUP BY time($__interval), *`;
  return `SELECT sum("increase") FROM (${inner}) WHERE $timeFilter GROUP BY time($__interval) fill(null)`;
}

/** Gauges (vus): the latest value of each series per interval, summed over series. */
export function influxSumLastPerInterval(measurement: string, where: string): string {
  const inner = `SELECT last("${INFLUX.value}") AS "last" FROM "${measurement}" WHERE ${where} GROUP BY time($__interval), *`;
  return `SELECT sum("last") FROM (${inner}) WHERE $timeFilter GROUP BY time($__interval) fill(null)`;
}

/** Counters: the latest value of each series (the count so far in the run), summed per group. */
export function influxTotalsBy(measurement: string, where: string, groupBy: readonly string[], alias: string): string {
  const inner = `SELECT last("${INFLUX.value}") AS "last" FROM "${measurement}" WHERE ${where} GROUP BY *`;
  return `SELECT sum("last") AS "${alias}" FROM (${inner}) WHERE $timeFilter GROUP BY ${groupBy.map((t) => `"${t}"`).join(', ')}`;
}
