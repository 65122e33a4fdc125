// Reads generated dashboards back: every query with the datasource it goes to, and
// Grafana's macros and variables expanded, so a test can run each query against the real
// Prometheus or InfluxDB after a real k6 run.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

export type DatasourceType = 'prometheus' | 'influxdb';

export interface DashboardQuery {
  /** Where the query sits: a panel target, an annotation, or a variable's option query. */
  source: 'panel' | 'annotation' | 'variable';
  /** Panel title, annotation name or variable name. */
  title: string;
  panelId?: number;
  refId: string;
  datasourceType: DatasourceType;
  /** Datasource uid as written in the dashboard (`${datasource}` included). */
  datasourceUid: string;
  /** PromQL or InfluxQL, with Grafana's macros and variables still in it. */
  query: string;
  /** Prometheus: an instant query (one value at the end of the range) rather than a range query. */
  instant: boolean;
  /** `table` for table-shaped results (Prometheus format or InfluxDB resultFormat). */
  format: 'time_series' | 'table';
}

type Json = Record<string, unknown>;
type Ref = { type?: string; uid?: string } | string | null | undefined;

const KNOWN_TYPES: readonly DatasourceType[] = ['prometheus', 'influxdb'];

function variableName(uid: string): string | undefined {
  return /^\$\{(\w+)\}$/.exec(uid)?.[1] ?? /^\$(\w+)$/.exec(uid)?.[1];
}

/** The datasource type a reference resolves to: its type, a datasource variable's plugin type, or a known uid. */
function resolveDatasource(ref: Ref, variables: readonly dashboard.VariableModel[], where: string): { type: DatasourceType; uid: string } {
  if (ref === null || ref === undefined) throw new Error(`${where} has no datasource.`);
  const uid = typeof ref === 'string' ? ref : (ref.uid ?? '');
  const declared = typeof ref === 'string' ? undefined : ref.type;
  let type = declared;
  const name = variableName(uid);
  if (name !== undefined) {
    const v = variables.find((x) => x.name === name);
    if (!v || v.type !== 'datasource') throw new Error(`${where} uses datasource variable $${name}, which the dashboard does not define as a datasource variable.`);
    const pluginType = typeof v.query === 'string' ? v.query : undefined;
    if (declared !== undefined && pluginType !== declared) throw new Error(`${where} says ${declared} but $${name} picks ${pluginType} datasources.`);
    type = pluginType;
  }
  type ??= uid;
  if (!KNOWN_TYPES.includes(type as DatasourceType)) throw new Error(`${where} uses datasource "${uid}" of type "${type}", neither prometheus nor influxdb.`);
  return { type: type as DatasourceType, uid };
}

function queryText(target: Json, type: DatasourceType): string {
  const text = type === 'prometheus' ? target.expr : target.query;
  if (typeof text !== 'string' || text.trim() === '') throw new Error(`Target ${String(target.refId)} has no ${type === 'prometheus' ? 'expr' : 'query'}.`);
  return text;
}

function flattenPanels(panels: readonly Json[]): Json[] {
  return panels.flatMap((p) => (p.type === 'row' && Array.isArray(p.panels) ? [p, ...flattenPanels(p.panels as Json[])] : [p]));
}

/** Every panel target of a dashboard (rows' nested panels included), in panel order. */
export function panelQueries(d: dashboard.Dashboard): DashboardQuery[] {
  const variables = d.templating.list ?? [];
  const out: DashboardQuery[] = [];
  for (const panel of flattenPanels((d.panels ?? []) as unknown as Json[])) {
    if (panel.type === 'row') continue;
    for (const target of (panel.targets ?? []) as Json[]) {
      const where = `Panel "${String(panel.title)}" query ${String(target.refId)}`;
      const ds = resolveDatasource((target.datasource ?? panel.datasource) as Ref, variables, where);
      out.push({
        source: 'panel',
        title: String(panel.title),
        panelId: panel.id as number,
        refId: String(target.refId),
        datasourceType: ds.type,
        datasourceUid: ds.uid,
        query: queryText(target, ds.type),
        instant: target.instant === true,
        format: target.format === 'table' || target.resultFormat === 'table' ? 'table' : 'time_series',
      });
    }
  }
  return out;
}

/** Panel targets, then annotation queries, then query variables' option queries. */
export function allQueries(d: dashboard.Dashboard): DashboardQuery[] {
  const variables = d.templating.list ?? [];
  const annotations = (d.annotations.list ?? []).filter((a) => a.builtIn !== 1 && (a.target || a.expr));
  return [
    ...panelQueries(d),
    ...annotations.map((a): DashboardQuery => {
      const ds = resolveDatasource(a.datasource as Ref, variables, `Annotation "${a.name}"`);
      const target = (a.target ?? {}) as unknown as Json;
      return {
        source: 'annotation',
        title: a.name,
        refId: String(target.refId ?? 'Anno'),
        datasourceType: ds.type,
        datasourceUid: ds.uid,
        query: queryText({ expr: a.expr, ...target }, ds.type),
        instant: false,
        format: 'time_series',
      };
    }),
    ...variables
      .filter((v) => v.type === 'query')
      .map((v): DashboardQuery => {
        const ds = resolveDatasource(v.datasource as Ref, variables, `Variable $${v.name}`);
        const query = typeof v.query === 'string' ? v.query : String((v.query as Json | undefined)?.query ?? '');
        return { source: 'variable', title: v.name, refId: v.name, datasourceType: ds.type, datasourceUid: ds.uid, query, instant: false, format: 'table' };
      }),
  ];
}

const BUILTIN = /^__\w+$|^timeFilter$/;

/** Names of the dashboard variables a query refers to ($name, ${name}, ${name:fmt}, [[name]]), built-ins excluded. */
export function referencedVariables(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$\{(\w+)(?::[\w-]+)?\}|\$(\w+)|\[\[(\w+)(?::[\w-]+)?\]\]/g)) {
    const name = m[1] ?? m[2] ?? m[3]!;
    if (!BUILTIN.test(name)) names.add(name);
  }
  return [...names].sort();
}

export interface ExpandContext {
  /** Which query language the result is for: values are escaped accordingly. */
  datasourceType: DatasourceType;
  /**
   * Variable values. A string goes in as it is (".*" for All); an array is one
   * regex-escaped alternative per value, "(a|b)", as Grafana writes multi-value selections.
   */
  variables: Readonly<Record<string, string | readonly string[]>>;
  from: Date;
  to: Date;
  /** $__interval, e.g. "15s"; 15s by default. */
  interval?: string;
  /** $__rate_interval; 1m by default (4 × a 15 s scrape interval). */
  rateInterval?: string;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration such as 15s or 1m.`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

const REGEX_SPECIAL = /[\\^$.|?*+()[\]{}]/g;

function formatValue(value: string | readonly string[], type: DatasourceType): string {
  if (typeof value === 'string') return value;
  // In PromQL the regex sits in a double-quoted string, where a backslash is itself escaped.
  const escape = (v: string) => v.replace(REGEX_SPECIAL, (c) => (type === 'prometheus' ? `\\\\${c}` : `\\${c}`));
  return value.length === 1 ? escape(value[0]!) : `(${value.map(escape).join('|')})`;
}

/**
 * A query as Grafana would send it: $__rate_interval, $__interval(_ms), $__range(_s, _ms),
 * $timeFilter / $__timeFilter (InfluxQL) and the dashboard's variables replaced.
 * An unknown variable is an error, so a test never runs a query Grafana would leave broken.
 */
export function expandQuery(query: string, ctx: ExpandContext): string {
  const rangeMs = ctx.to.getTime() - ctx.from.getTime();
  if (!(rangeMs > 0)) throw new Error('The time range must end after it starts.');
  const interval = ctx.interval ?? '15s';
  const builtins: Record<string, string> = {
    __rate_interval: ctx.rateInterval ?? '1m',
    __interval: interval,
    __interval_ms: String(durationMs(interval)),
    __range: `${Math.round(rangeMs / 1000)}s`,
    __range_s: String(Math.round(rangeMs / 1000)),
    __range_ms: String(rangeMs),
  };
  const timeFilter = `time >= ${ctx.from.getTime()}ms and time <= ${ctx.to.getTime()}ms`;
  const lookup = (name: string): string => {
    if (name === 'timeFilter' || name === '__timeFilter') {
      if (ctx.datasourceType !== 'influxdb') throw new Error(`$${name} is an InfluxQL macro; this is a ${ctx.datasourceType} query.`);
      return timeFilter;
    }
    if (name in builtins) return builtins[name]!;
    const value = ctx.variables[name];
    if (value === undefined) throw new Error(`The query uses $${name}, which has no value: ${query}`);
    return formatValue(value, ctx.datasourceType);
  };
  return query.replace(/\$\{(\w+)(?::[\w-]+)?\}|\$(\w+)|\[\[(\w+)(?::[\w-]+)?\]\]/g, (_m, a?: string, b?: string, c?: string) => lookup((a ?? b ?? c)!));
}
