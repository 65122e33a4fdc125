// grafana/queries.ts: the walker that lists a dashboard's queries with their datasource,
// and the expander that turns Grafana's macros and variables into runnable queries.
import { describe, expect, it } from 'vitest';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS } from '../../grafana/dashboards.ts';
import { allQueries, durationMs, expandQuery, panelQueries, referencedVariables, type ExpandContext } from '../../grafana/queries.ts';

const byFile = (file: string) => DASHBOARDS.find((d) => d.file === file)!.build();

/** A minimal dashboard: a datasource variable, a collapsed row holding a panel, panel-level datasources. */
function sample(overrides: Partial<dashboard.Dashboard> = {}): dashboard.Dashboard {
  return {
    schemaVersion: 42,
    title: 'sample',
    annotations: {
      list: [
        { name: 'Annotations & Alerts', builtIn: 1, enable: true, iconColor: 'blue', datasource: { type: 'grafana', uid: '-- Grafana --' } },
        { name: 'Deploys', enable: true, iconColor: 'red', datasource: { type: 'prometheus', uid: '${datasource}' }, expr: 'changes(deploy_total[1m]) > 0' },
      ],
    },
    templating: {
      list: [
        { type: 'datasource' as dashboard.VariableType, name: 'datasource', query: 'prometheus' },
        { type: 'query' as dashboard.VariableType, name: 'testid', query: 'label_values(k6_vus, testid)', datasource: { type: 'prometheus', uid: '${datasource}' } },
      ],
    },
    panels: [
      { type: 'timeseries', id: 1, title: 'Top', datasource: { type: 'prometheus', uid: '${datasource}' }, targets: [{ refId: 'A', expr: 'up', _implementsDataqueryVariant() {} } as never] },
      {
        type: 'row',
        id: 2,
        title: 'Collapsed',
        collapsed: true,
        panels: [
          {
            type: 'table',
            id: 3,
            title: 'Inside',
            datasource: { uid: 'influxdb' },
            targets: [{ refId: 'A', query: 'SELECT last("value") FROM "vus" WHERE $timeFilter', resultFormat: 'table' } as never],
          },
        ],
      },
    ],
    ...overrides,
  };
}

const ctx = (over: Partial<ExpandContext> = {}): ExpandContext => ({
  datasourceType: 'prometheus',
  variables: {},
  from: new Date('2026-01-01T00:00:00Z'),
  to: new Date('2026-01-01T00:30:00Z'),
  ...over,
});

describe('panelQueries', () => {
  it('lists every panel target with its datasource type, rows and panel-level datasources included', () => {
    expect(panelQueries(sample())).toEqual([
      { source: 'panel', title: 'Top', panelId: 1, refId: 'A', datasourceType: 'prometheus', datasourceUid: '${datasource}', query: 'up', instant: false, format: 'time_series' },
      { source: 'panel', title: 'Inside', panelId: 3, refId: 'A', datasourceType: 'influxdb', datasourceUid: 'influxdb', query: 'SELECT last("value") FROM "vus" WHERE $timeFilter', instant: false, format: 'table' },
    ]);
  });

  it('refuses a datasource variable the dashboard does not define', () => {
    const d = sample({ templating: { list: [] } });
    expect(() => panelQueries(d)).toThrow(/\$datasource, which the dashboard does not define/);
  });

  it('refuses datasources other than Prometheus and InfluxDB', () => {
    const d = sample({ panels: [{ type: 'timeseries', id: 1, title: 'Loki', datasource: { type: 'loki', uid: 'loki' }, targets: [{ refId: 'A', expr: '{job="x"}' } as never] }] });
    expect(() => panelQueries(d)).toThrow(/neither prometheus nor influxdb/);
  });

  it('finds every query of the generated dashboards: Prometheus through $datasource, InfluxDB by uid', () => {
    const prom = panelQueries(byFile('k6-prometheus.json'));
    const influx = panelQueries(byFile('k6-influxdb.json'));
    expect(prom.length).toBeGreaterThan(25);
    expect(new Set(prom.map((q) => `${q.datasourceType} ${q.datasourceUid}`))).toEqual(new Set(['prometheus ${datasource}']));
    expect(new Set(influx.map((q) => `${q.datasourceType} ${q.datasourceUid}`))).toEqual(new Set(['influxdb influxdb']));
    expect(prom.filter((q) => q.format === 'table').every((q) => q.instant)).toBe(true);
  });
});

describe('allQueries', () => {
  it('adds annotation and variable queries after the panels, skipping the built-in annotation', () => {
    const all = allQueries(sample());
    expect(all.map((q) => `${q.source}:${q.title}`)).toEqual(['panel:Top', 'panel:Inside', 'annotation:Deploys', 'variable:testid']);
    expect(all[2]).toMatchObject({ datasourceType: 'prometheus', query: 'changes(deploy_total[1m]) > 0' });
  });

  it("includes the marketing view's start, stop, abort and guard annotations", () => {
    const annotations = allQueries(byFile('promo-marketing.json')).filter((q) => q.source === 'annotation');
    expect(annotations.map((q) => q.title)).toEqual(['Test started', 'Test stopped', 'Test aborted', 'Stopped by the guard']);
    expect(annotations.every((q) => q.query.includes('promo_run_info'))).toBe(true);
  });
});

describe('expandQuery', () => {
  it('replaces $__rate_interval, $__interval and $__range the way Grafana does', () => {
    expect(expandQuery('rate(x[$__rate_interval]) + rate(x[$__interval]) + increase(x[$__range])', ctx({ interval: '30s', rateInterval: '2m' }))).toBe('rate(x[2m]) + rate(x[30s]) + increase(x[1800s])');
    expect(expandQuery('$__interval_ms $__range_s $__range_ms', ctx())).toBe('15000 1800 1800000');
  });

  it('turns $timeFilter into an InfluxQL time range in milliseconds', () => {
    const from = Date.parse('2026-01-01T00:00:00Z');
    const q = expandQuery('SELECT * FROM "vus" WHERE $timeFilter GROUP BY time($__interval)', ctx({ datasourceType: 'influxdb', interval: '10s' }));
    expect(q).toBe(`SELECT * FROM "vus" WHERE time >= ${from}ms and time <= ${from + 1_800_000}ms GROUP BY time(10s)`);
  });

  it('refuses $timeFilter in PromQL', () => {
    expect(() => expandQuery('x and $timeFilter', ctx())).toThrow(/InfluxQL macro/);
  });

  it('writes a list of values as a regex alternation, escaped for the query language', () => {
    const values = { testid: ['run_1', 'a.b'] };
    expect(expandQuery('k6_vus{testid=~"$testid"}', ctx({ variables: values }))).toBe('k6_vus{testid=~"(run_1|a\\\\.b)"}');
    expect(expandQuery('"testid" =~ /^$testid$/', ctx({ datasourceType: 'influxdb', variables: values }))).toBe('"testid" =~ /^(run_1|a\\.b)$/');
    expect(expandQuery('"testid" =~ /^$testid$/', ctx({ datasourceType: 'influxdb', variables: { testid: ['one'] } }))).toBe('"testid" =~ /^one$/');
  });

  it('inserts a single string as it is, so ".*" stands for All', () => {
    expect(expandQuery('x{environment=~"$environment"}', ctx({ variables: { environment: '.*' } }))).toBe('x{environment=~".*"}');
  });

  it('understands $var, ${var}, ${var:format} and [[var]], and tells $promo from $promo_type', () => {
    const variables = { promo: 'P', promo_type: 'T' };
    expect(expandQuery('$promo ${promo} ${promo:regex} [[promo]] $promo_type', ctx({ variables }))).toBe('P P P P T');
  });

  it('refuses a variable it has no value for, naming it', () => {
    expect(() => expandQuery('x{testid=~"$testid"}', ctx())).toThrow(/\$testid, which has no value/);
  });

  it('expands every query of every generated dashboard given the variables each defines', () => {
    for (const { file, build } of DASHBOARDS) {
      const d = build();
      const names = (d.templating.list ?? []).map((v) => v.name);
      const variables = Object.fromEntries(names.map((n) => [n, n === 'datasource' ? 'prometheus' : ['x']]));
      for (const q of allQueries(d)) {
        const text = expandQuery(q.query, ctx({ datasourceType: q.datasourceType, variables }));
        expect(text, `${file} ${q.title}`).not.toMatch(/\$\w|\[\[/);
      }
    }
  });
});

describe('referencedVariables and durationMs', () => {
  it('names dashboard variables and leaves out Grafana built-ins', () => {
    expect(referencedVariables('x{a=~"$testid", b="${env}"}[$__rate_interval] $timeFilter [[job]] $__interval')).toEqual(['env', 'job', 'testid']);
  });

  it('reads Grafana durations and rejects anything else', () => {
    expect([durationMs('500ms'), durationMs('15s'), durationMs('2m'), durationMs('1h'), durationMs('1d')]).toEqual([500, 15_000, 120_000, 3_600_000, 86_400_000]);
    expect(() => durationMs('15')).toThrow(/not a duration/);
  });
});
