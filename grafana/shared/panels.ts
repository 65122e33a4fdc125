// Panel factories: every panel of every dashboard is made here, so units, legends,
// datasources and sizes follow one style. Queries come in as plain descriptions and are
// turned into the SDK's typed query builders, refIds A, B, C… in order.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as gauge from '@grafana/grafana-foundation-sdk/gauge';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { INFLUX_DATASOURCE, InfluxQueryBuilder } from './influxql.ts';

/** Prometheus panels follow the dashboard's `datasource` variable. */
export const PROMETHEUS_DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

export interface PromTarget {
  kind: 'prometheus';
  expr: string;
  legend?: string;
  /** One value at the end of the range (tables, stats); a range query otherwise. */
  instant?: boolean;
  format?: 'time_series' | 'table';
  /**
   * Grafana's "Min interval": the floor of this query's $__interval, in place of the
   * datasource's scrape interval (15 s). For series pushed more often than they are scraped.
   */
  minInterval?: string;
}

export interface InfluxTarget {
  kind: 'influxdb';
  query: string;
  alias?: string;
  table?: boolean;
}

export type Target = PromTarget | InfluxTarget;

export const prom = (expr: string, legend?: string, extra: Partial<Omit<PromTarget, 'kind' | 'expr' | 'legend'>> = {}): PromTarget => ({ kind: 'prometheus', expr, legend, ...extra });
export const influx = (query: string, alias?: string, extra: Partial<Omit<InfluxTarget, 'kind' | 'query' | 'alias'>> = {}): InfluxTarget => ({ kind: 'influxdb', query, alias, ...extra });

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function datasourceOf(targets: readonly Target[]): common.DataSourceRef {
  const kinds = new Set(targets.map((t) => t.kind));
  if (kinds.size !== 1) throw new Error(`A panel's queries must all use one datasource, got ${[...kinds].join(' and ') || 'none'}.`);
  return kinds.has('influxdb') ? INFLUX_DATASOURCE : PROMETHEUS_DATASOURCE;
}

export function queryBuilders(targets: readonly Target[]): cog.Builder<cog.Dataquery>[] {
  return targets.map((t, i) => {
    const refId = REF_IDS[i]!;
    if (t.kind === 'influxdb') {
      const q = new InfluxQueryBuilder(t.query).refId(refId);
      if (t.alias) q.alias(t.alias);
      if (t.table) q.table();
      return q;
    }
    const q = new prometheus.DataqueryBuilder().refId(refId).datasource(PROMETHEUS_DATASOURCE).expr(t.expr).editorMode(prometheus.QueryEditorMode.Code);
    if (t.legend) q.legendFormat(t.legend);
    if (t.instant) q.instant();
    else q.range();
    if (t.format) q.format(t.format === 'table' ? prometheus.PromQueryFormat.Table : prometheus.PromQueryFormat.TimeSeries);
    if (t.minInterval) q.interval(t.minInterval);
    return q;
  });
}

export interface PanelSpec {
  title: string;
  /** Plain words for whoever hovers the (i). */
  description: string;
  targets: readonly Target[];
  unit?: string;
  /** Width in grid columns (24 is the full width); 8 by default. */
  w?: number;
  /** Height in grid rows; 8 by default. */
  h?: number;
  min?: number;
  max?: number;
  decimals?: number;
}

export interface Threshold {
  value: number | null;
  color: string;
}

export function thresholds(steps: readonly Threshold[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps.map((s) => ({ value: s.value, color: s.color })));
}

interface CommonSettable {
  title(t: string): unknown;
  description(d: string): unknown;
  datasource(d: common.DataSourceRef): unknown;
  targets(t: cog.Builder<cog.Dataquery>[]): unknown;
  height(h: number): unknown;
  span(w: number): unknown;
  unit(u: string): unknown;
  min(m: number): unknown;
  max(m: number): unknown;
  decimals(d: number): unknown;
}

function applyCommon<B extends CommonSettable>(builder: B, spec: PanelSpec): B {
  builder.title(spec.title);
  builder.description(spec.description);
  builder.datasource(datasourceOf(spec.targets));
  builder.targets(queryBuilders(spec.targets));
  builder.height(spec.h ?? 8);
  builder.span(spec.w ?? 8);
  if (spec.unit !== undefined) builder.unit(spec.unit);
  if (spec.min !== undefined) builder.min(spec.min);
  if (spec.max !== undefined) builder.max(spec.max);
  if (spec.decimals !== undefined) builder.decimals(spec.decimals);
  return builder;
}

export interface TimeseriesSpec extends PanelSpec {
  /** Horizontal lines drawn from these thresholds (e.g. a 2 s target). */
  thresholdLines?: readonly Threshold[];
  /** Series (by display name) drawn dashed in red: limits such as a breaking point. */
  limitSeries?: readonly string[];
  transformations?: dashboard.DataTransformerConfig[];
}

export function timeseriesPanel(spec: TimeseriesSpec): timeseries.PanelBuilder {
  const panel = applyCommon(new timeseries.PanelBuilder(), spec)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).calcs([]))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false);
  if (spec.transformations) panel.transformations(spec.transformations);
  if (spec.thresholdLines) {
    panel.thresholds(thresholds(spec.thresholdLines)).thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  }
  for (const name of spec.limitSeries ?? []) {
    panel.overrideByName(name, [
      { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
      { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      { id: 'custom.fillOpacity', value: 0 },
    ]);
  }
  return panel;
}

export interface StatSpec extends PanelSpec {
  steps?: readonly Threshold[];
  mappings?: dashboard.ValueMapping[];
  /** Show a sparkline under the value. */
  sparkline?: boolean;
}

const LAST_VALUE = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

export function statPanel(spec: StatSpec): stat.PanelBuilder {
  const panel = applyCommon(new stat.PanelBuilder(), spec)
    .reduceOptions(LAST_VALUE())
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(spec.sparkline ? common.BigValueGraphMode.Area : common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.Auto)
    .justifyMode(common.BigValueJustifyMode.Auto)
    .orientation(common.VizOrientation.Auto);
  if (spec.steps) panel.thresholds(thresholds(spec.steps));
  if (spec.mappings) panel.mappings(spec.mappings);
  return panel;
}

export function gaugePanel(spec: StatSpec): gauge.PanelBuilder {
  const panel = applyCommon(new gauge.PanelBuilder(), spec).reduceOptions(LAST_VALUE()).showThresholdMarkers(true).showThresholdLabels(false);
  if (spec.steps) panel.thresholds(thresholds(spec.steps));
  if (spec.mappings) panel.mappings(spec.mappings);
  return panel;
}

export interface TableSpec extends PanelSpec {
  transformations: dashboard.DataTransformerConfig[];
  /** Units per column, by display name after the transformations. */
  columnUnits?: Readonly<Record<string, string>>;
  sortBy?: string;
}

export function tablePanel(spec: TableSpec): table.PanelBuilder {
  const panel = applyCommon(new table.PanelBuilder(), spec).transformations(spec.transformations).cellHeight(common.TableCellHeight.Sm).showHeader(true);
  for (const [column, unit] of Object.entries(spec.columnUnits ?? {})) panel.overrideByName(column, [{ id: 'unit', value: unit }]);
  if (spec.sortBy) panel.sortBy([new common.TableSortByFieldStateBuilder().displayName(spec.sortBy).desc(true)]);
  return panel;
}

/** A full-width, expanded row header; the panels after it belong to it. */
export function row(title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title).collapsed(false);
}
