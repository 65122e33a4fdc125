// The Grafana dashboards: the committed JSON is exactly what grafana/generate.ts makes, and
// each dashboard is structurally sound (ids, layout, datasources, variables). PromQL is
// parsed by the real promtool; InfluxQL runs for real in the later end-to-end test.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS } from '../../grafana/dashboards.ts';
import { DASHBOARD_DIR, renderDashboards } from '../../grafana/generate.ts';
import { allQueries, expandQuery, panelQueries, referencedVariables } from '../../grafana/queries.ts';

const PROMTOOL = '/usr/bin/promtool';
const built = Object.fromEntries(DASHBOARDS.map((d) => [d.file.replace(/\.json$/, ''), d.build()])) as Record<string, dashboard.Dashboard>;
type Json = Record<string, unknown>;

function allPanels(d: dashboard.Dashboard): Json[] {
  const flat = (ps: Json[]): Json[] => ps.flatMap((p) => [p, ...flat((p.panels as Json[] | undefined) ?? [])]);
  return flat((d.panels ?? []) as unknown as Json[]);
}

/** Every `datasource` value anywhere in the dashboard. */
function datasourceRefs(value: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) value.forEach((v) => datasourceRefs(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'datasource') out.push(v);
      else datasourceRefs(v, out);
    }
  }
  return out;
}

describe('generated dashboards', () => {
  it('are committed exactly as grafana/generate.ts writes them (run `npm run dashboards` after a change)', () => {
    const rendered = renderDashboards();
    const committed = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).sort();
    expect(committed).toEqual([...rendered.keys()].sort());
    for (const [file, content] of rendered) {
      const onDisk = readFileSync(join(DASHBOARD_DIR, file), 'utf8');
      expect(onDisk === content, `grafana/dashboards/${file} differs from what grafana/generate.ts makes: run npm run dashboards`).toBe(true);
    }
  });

  it('render the same bytes twice, with sorted keys and a final newline', () => {
    const a = renderDashboards();
    const b = renderDashboards();
    for (const [file, content] of a) {
      expect(b.get(file)).toBe(content);
      expect(content.endsWith('}\n')).toBe(true);
      const keys = Object.keys(JSON.parse(content));
      expect(keys).toEqual([...keys].sort());
    }
  });

  it('have the agreed stable uids and titles', () => {
    expect(Object.fromEntries(Object.values(built).map((d) => [d.uid, d.title]))).toEqual({
      'k6-prometheus': 'k6 / Prometheus',
      'k6-influxdb': 'k6 / InfluxDB',
      'promo-marketing': 'Promo / Marketing view',
    });
  });
});

describe.each(Object.keys(built))('dashboard %s', (name) => {
  const d = built[name]!;
  const panels = allPanels(d);
  const variables = d.templating.list ?? [];

  it('gives every panel and row a unique id', () => {
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && (id as number) > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('places every panel on the 24-column grid without overlaps', () => {
    const boxes = panels.map((p) => ({ title: p.title, ...(p.gridPos as dashboard.GridPos) }));
    for (const b of boxes) {
      expect([b.x, b.y, b.w, b.h].every((n) => Number.isInteger(n)), `${String(b.title)} gridPos`).toBe(true);
      expect(b.x + b.w, `${String(b.title)} is wider than the grid`).toBeLessThanOrEqual(24);
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${String(a.title)} overlaps ${String(b.title)}`).toBe(false);
      }
    }
  });

  it('uses only the prometheus and influxdb datasources, directly or through $datasource', () => {
    const refs = datasourceRefs({ panels: d.panels, annotations: d.annotations, templating: variables.filter((v) => v.type !== 'datasource') });
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toEqual(expect.objectContaining({ uid: expect.stringMatching(/^(prometheus|influxdb|\$\{datasource\})$/) }));
      const { type, uid } = ref as { type: string; uid: string };
      expect(type).toBe(uid === 'influxdb' ? 'influxdb' : 'prometheus');
    }
    const dsVariable = variables.find((v) => v.type === 'datasource');
    if (dsVariable) expect(dsVariable).toMatchObject({ name: 'datasource', query: 'prometheus' });
  });

  it('defines every variable its queries, annotations and links refer to, and uses every variable it defines', () => {
    const defined = new Set(variables.map((v) => v.name));
    const used = new Set<string>();
    for (const q of allQueries(d)) for (const v of referencedVariables(q.query)) used.add(v);
    for (const ref of datasourceRefs({ panels: d.panels, annotations: d.annotations, templating: variables })) for (const v of referencedVariables(JSON.stringify(ref))) used.add(v);
    for (const link of d.links ?? []) for (const v of referencedVariables(link.url ?? '')) used.add(v);
    for (const v of used) expect(defined.has(v), `$${v} is used but not defined`).toBe(true);
    for (const v of defined) expect(used.has(v), `$${v} is defined but never used`).toBe(true);
  });

  it('has at least one query in every panel, with unique refIds', () => {
    for (const p of panels.filter((x) => x.type !== 'row')) {
      const refIds = ((p.targets as Json[] | undefined) ?? []).map((t) => t.refId);
      expect(refIds.length, String(p.title)).toBeGreaterThan(0);
      expect(new Set(refIds).size, String(p.title)).toBe(refIds.length);
      expect(['timeseries', 'stat', 'gauge', 'table']).toContain(p.type);
    }
  });
});

describe('the k6 dashboards', () => {
  const filters = 'testid=~"$testid", environment=~"$environment", promo_type=~"$promo_type", scenario=~"$scenario"';
  const prom = panelQueries(built['k6-prometheus']!);
  const influx = panelQueries(built['k6-influxdb']!);

  it('read latency from native histograms and from trend stats in k6 / Prometheus', () => {
    const exprs = prom.map((q) => q.query);
    expect(exprs).toContain(`histogram_quantile(0.95, sum(rate(k6_http_req_duration_seconds{${filters}}[$__rate_interval])))`);
    expect(exprs).toContain(`max(k6_http_req_duration_p95{${filters}})`);
    for (const p of ['p50', 'p99']) expect(exprs).toContain(`max(k6_http_req_duration_${p}{${filters}})`);
  });

  it('filter every k6 query on the dashboard variables, leaving scenario out only for VUs', () => {
    for (const q of prom.filter((x) => /\bk6_/.test(x.query))) {
      for (const m of q.query.matchAll(/(k6_\w+)\{([^}]*)\}/g)) {
        const expected = /^k6_vus(_max)?$/.test(m[1]!) ? filters.replace(', scenario=~"$scenario"', '') : filters;
        expect(m[2]!.startsWith(expected), `${q.title}: ${m[0]}`).toBe(true);
      }
    }
  });

  it('query InfluxDB with $timeFilter, $__interval where time-bucketed, and regex tag filters', () => {
    expect(influx.every((q) => q.datasourceType === 'influxdb' && q.datasourceUid === 'influxdb')).toBe(true);
    for (const q of influx) {
      expect(q.query, q.title).toContain('$timeFilter');
      expect(q.query, q.title).toContain('"testid" =~ /^$testid$/');
      if (q.format === 'time_series') expect(q.query, q.title).toContain('GROUP BY time($__interval)');
    }
  });

  it('show the same panels from Prometheus and from InfluxDB, plus the server-side row in Prometheus', () => {
    const titles = (d: dashboard.Dashboard) => allPanels(d).map((p) => p.title as string);
    const promTitles = titles(built['k6-prometheus']!);
    const serverRow = promTitles.indexOf('Server side (application metrics)');
    expect(serverRow).toBeGreaterThan(0);
    expect(promTitles.slice(0, serverRow)).toEqual(titles(built['k6-influxdb']!));
    expect(promTitles).toEqual(
      expect.arrayContaining(['Virtual users', 'Requests per second', 'Failure rate', 'Response time percentiles', 'By URL', 'By status', 'Checks passed', 'Data sent and received', 'Iterations per second', 'Dropped iterations']),
    );
  });

  it("take the server-side row from the demo shop's metrics", () => {
    const server = prom.filter((q) => !/\bk6_/.test(q.query)).map((q) => q.query).join('\n');
    for (const metric of ['demo_http_requests_total', 'demo_http_request_duration_seconds_bucket', 'demo_http_in_flight_requests', 'nodejs_eventloop_lag_p99_seconds', 'process_cpu_seconds_total', 'process_resident_memory_bytes']) {
      expect(server).toContain(`${metric}{job=~"$app_job"}`);
    }
  });
});

describe('the marketing view', () => {
  const d = built['promo-marketing']!;
  const panels = allPanels(d);
  const byTitle = (t: string) => panels.find((p) => p.title === t) as Json & { fieldConfig: { defaults: Json } };

  it('shows the live grade as a letter mapped from the score, green, orange or red', () => {
    const gauge = byTitle('Grade');
    expect(gauge.type).toBe('gauge');
    expect((gauge.targets as Json[])[0]!.expr).toBe('max(promo_grade_score{testid=~"$testid", window="live"})');
    const mappings = gauge.fieldConfig.defaults.mappings as { options: { from: number; to: number; result: { text: string; color: string } } }[];
    const letterOf = (score: number) => mappings.find((m) => score >= m.options.from && score <= m.options.to)?.options.result;
    expect([95, 90, 89, 80, 79, 70, 69, 50, 49, 0].map((s) => letterOf(s)?.text).join('')).toBe('AABBCCDDFF');
    expect([90, 85, 72, 60, 10].map((s) => letterOf(s)?.color)).toEqual(['green', 'orange', 'orange', 'red', 'red']);
  });

  it('draws the breaking point and a 2 s response-time line', () => {
    expect(JSON.stringify(byTitle('Simultaneous users').targets)).toContain('promo_breaking_point_vus');
    const steps = (byTitle('Response time').fieldConfig.defaults.thresholds as { steps: { value: number | null }[] }).steps;
    expect(steps.map((s) => s.value)).toEqual([null, 2]);
    expect(byTitle('Response time').fieldConfig.defaults.unit).toBe('s');
  });

  it('splits errors into 4xx and 5xx from k6_http_reqs_total by status', () => {
    const exprs = (byTitle('Errors').targets as Json[]).map((t) => String(t.expr));
    expect(exprs[0]).toContain('k6_http_reqs_total{testid=~"$testid", status=~"4.."}');
    expect(exprs[1]).toContain('k6_http_reqs_total{testid=~"$testid", status=~"5.."}');
  });

  it('compares the promo run with the baseline run in %', () => {
    const change = JSON.stringify(byTitle('Change in response time').targets);
    expect(change).toContain('testid=~\\"$promo\\"');
    expect(change).toContain('testid=~\\"$baseline\\"');
    expect(byTitle('Change in errors').fieldConfig.defaults.unit).toBe('percent');
  });

  it('marks start, stop, abort and guard stops with PromQL annotations, and links to the sink', () => {
    expect((d.annotations.list ?? []).map((a) => a.name)).toEqual(['Test started', 'Test stopped', 'Test aborted', 'Stopped by the guard']);
    expect(d.links?.[0]).toMatchObject({ url: '${sink_url}', targetBlank: true });
    expect(d.templating.list?.find((v) => v.name === 'sink_url')?.query).toBe('http://localhost:9091/');
  });
});

describe('PromQL of the dashboards', () => {
  it('names the step of every subquery (without one, Prometheus steps by its evaluation interval on the 15 s marks)', () => {
    const queries = Object.values(built)
      .flatMap((d) => allQueries(d))
      .filter((q) => q.datasourceType === 'prometheus');
    const defaultStep = queries.filter((q) => /\[[^\]]*:\s*\]/.test(q.query)).map((q) => `${q.title}: ${q.query}`);
    expect(defaultStep).toEqual([]);
  });

  it('shows the peak of a run shorter than the evaluation interval that falls between two 15 s marks, summed over its instances', () => {
    if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: install it with "apt-get install prometheus".`);
    const d = built['k6-prometheus']!;
    const panel = allPanels(d).find((p) => p.title === 'Peak virtual users')!;
    const target = (panel.targets as Json[])[0]!;
    const [query] = panelQueries(d).filter((q) => q.panelId === panel.id);
    // Grafana's $__interval for a 36 s range on a stat panel: the target's min interval, or
    // the datasource's scrape interval (15 s) without one.
    const interval = typeof target.interval === 'string' && target.interval ? target.interval : '15s';
    const expand = (text: string) =>
      expandQuery(text, { datasourceType: 'prometheus', variables: { testid: 'run_1', environment: '.*', promo_type: '.*' }, from: new Date(8_000), to: new Date(44_000), interval });
    const withDefaultStep = query!.query.replace(':$__interval]', ':]');
    expect(withDefaultStep).not.toBe(query!.query);
    // Two instances pushing every second from 16 s to 28 s, then k6's stale markers: no 15 s mark
    // (15 s, 30 s) falls inside the run. Their sum peaks at 8 VUs.
    const tests = [
      'evaluation_interval: 15s',
      'tests:',
      '  - interval: 1s',
      '    input_series:',
      `      - series: 'k6_vus{testid="run_1", environment="prod", promo_type="none", instance="0"}'`,
      `        values: '_x16 1 2 3 4 5 5 5 5 4 3 2 1 1 stale'`,
      `      - series: 'k6_vus{testid="run_1", environment="prod", promo_type="none", instance="1"}'`,
      `        values: '_x16 1 1 2 2 3 3 3 3 2 2 1 1 1 stale'`,
      '    promql_expr_test:',
      `      - expr: ${JSON.stringify(expand(query!.query))}`,
      '        eval_time: 44s',
      '        exp_samples:',
      "          - labels: '{}'",
      '            value: 8',
      `      - expr: ${JSON.stringify(expand(withDefaultStep))}`,
      '        eval_time: 44s',
      '        exp_samples: []',
      '',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'pla-promql-'));
    try {
      const file = join(dir, 'peak.test.yml');
      writeFileSync(file, tests);
      const res = spawnSync(PROMTOOL, ['test', 'rules', file], { encoding: 'utf8' });
      expect(res.status, `${res.stdout}${res.stderr}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses with promtool once Grafana has expanded its variables', () => {
    if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: install it with "apt-get install prometheus".`);
    const queries = Object.values(built)
      .flatMap((d) => allQueries(d))
      .filter((q) => q.datasourceType === 'prometheus' && q.source !== 'variable');
    expect(queries.length).toBeGreaterThan(30);
    const values = { testid: ['run_20260101_000000_0123abcd', 'other_20260101_000000_4567ef01'], environment: '.*', promo_type: '.*', scenario: '.*', app_job: 'demo', baseline: 'a_20260101_000000_00000000', promo: 'b_20260101_000000_00000000' };
    const rules = queries.map((q, i) => {
      const expr = expandQuery(q.query, { datasourceType: 'prometheus', variables: values, from: new Date(0), to: new Date(1_800_000) });
      return `      - record: dashboard_query_${i}\n        expr: ${JSON.stringify(expr)}`;
    });
    const dir = mkdtempSync(join(tmpdir(), 'pla-promql-'));
    try {
      const file = join(dir, 'queries.yml');
      writeFileSync(file, `groups:\n  - name: dashboards\n    rules:\n${rules.join('\n')}\n`);
      const res = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
      expect(res.status, `${res.stdout}${res.stderr}`).toBe(0);
      expect(res.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
