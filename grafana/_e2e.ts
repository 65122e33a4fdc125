// AD HOC (not committed): k6 → sink → Prometheus + InfluxDB, then every dashboard query.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxDB } from '../test/helpers/influxdb.ts';
import { startDemo } from '../test/helpers/demo.ts';
import { runProcess } from '../test/helpers/processes.ts';
import { makeTestId } from '../lib/tags.ts';
import { DASHBOARDS } from './dashboards.ts';
import { allQueries, expandQuery } from './queries.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const procs: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'pla-e2e-'));
const influx = await startInfluxDB();
const shop = await startDemo();
await shop.admin('PUT', 'faults', { errorRatio: 0.03, extraLatencyMs: 0 });
const shopHostPort = new URL(shop.url).host;
try {
  await influx.query('CREATE DATABASE k6');
  writeFileSync(join(dir, 'prom.yml'), `global: {scrape_interval: 2s, evaluation_interval: 2s}
scrape_configs:
  - job_name: sink
    static_configs: [{targets: ['127.0.0.1:19391']}]
  - job_name: demo
    static_configs: [{targets: ['${shopHostPort}']}]
`);
  const prom = spawn('/usr/bin/prometheus', ['--config.file', join(dir, 'prom.yml'), '--storage.tsdb.path', join(dir, 'data'), '--web.listen-address', '127.0.0.1:19390', '--web.enable-remote-write-receiver', '--enable-feature=native-histograms'], { stdio: 'ignore' });
  procs.push(prom);
  const sink = spawn(process.execPath, ['--import', 'tsx', 'sink/server.ts', '--port', '19391'], {
    env: { ...process.env, SINK_PROMETHEUS_URL: 'http://127.0.0.1:19390/api/v1/write', SINK_INFLUX_URL: influx.url, SINK_INFLUX_DB: 'k6', SINK_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  procs.push(sink);
  await sleep(4000);
  const start = new Date();
  const runs: Record<string, string> = {};
  for (const mode of ['native', 'trend']) {
    const testid = makeTestId(`e2e ${mode}`);
    runs[mode] = testid;
    const env: Record<string, string> = { K6_PROMETHEUS_RW_SERVER_URL: 'http://127.0.0.1:19391/api/v1/write', K6_PROMETHEUS_RW_PUSH_INTERVAL: '1s', K6_PROMETHEUS_RW_STALE_MARKERS: 'true', K6_NO_USAGE_REPORT: 'true' };
    if (mode === 'native') env.K6_FEATURES = 'native-histograms';
    else env.K6_PROMETHEUS_RW_TREND_STATS = 'p(50),p(95),p(99)';
    const res = await runProcess('.tools/bin/k6', ['run', '-q', '-o', 'experimental-prometheus-rw', '-e', `TESTID=${testid}`, '-e', `BASE_URL=${shop.url}`, '-e', 'TARGET_VUS=4', '-e', 'DURATION=15s', '-e', 'MIN_GRADE=none', '-e', 'PROMO_TYPE=auto_cart', 'dist/promo.js'], { env });
    console.log(mode, testid, 'k6 exit', res.code, res.stderr.match(/level=error.*/g)?.slice(0, 3));
  }
  await sleep(8000);
  const end = new Date();
  const from = new Date(start.getTime() - 10_000);
  for (const { file, build } of DASHBOARDS) {
    const d = build();
    for (const mode of ['native', 'trend']) {
      const variables: Record<string, string | string[]> = { testid: [runs[mode]!], environment: '.*', promo_type: '.*', scenario: '.*', app_job: 'demo', baseline: runs.trend!, promo: runs.native!, datasource: 'prometheus' };
      for (const q of allQueries(d)) {
        if (q.source === 'variable' && q.datasourceType === 'prometheus') continue;
        const text = expandQuery(q.query, { datasourceType: q.datasourceType, variables, from, to: end, interval: '5s', rateInterval: '10s' });
        let summary: string;
        if (q.datasourceType === 'prometheus') {
          const url = q.instant ? `http://127.0.0.1:19390/api/v1/query?query=${encodeURIComponent(text)}&time=${end.getTime() / 1000}` : `http://127.0.0.1:19390/api/v1/query_range?query=${encodeURIComponent(text)}&start=${from.getTime() / 1000}&end=${end.getTime() / 1000}&step=5`;
          const body = (await (await fetch(url)).json()) as any;
          if (body.status !== 'success') summary = `ERROR ${body.error}`;
          else summary = `${body.data.result.length} series` + (body.data.result[0] ? ` e.g. ${JSON.stringify(body.data.result[0].metric)} ${JSON.stringify(body.data.result[0].value ?? body.data.result[0].values?.at(-1))}` : '');
        } else {
          const r = (await influx.query(text, 'k6')).results[0];
          summary = r.error ? `ERROR ${r.error}` : `${(r.series ?? []).length} series` + (r.series?.[0] ? ` e.g. ${JSON.stringify(r.series[0].tags ?? {})} ${JSON.stringify(r.series[0].values.filter((v: unknown[]) => v[1] !== null).at(-1))}` : '');
        }
        console.log(`${file} [${mode}] ${q.source}:${q.title}/${q.refId}: ${summary}`.slice(0, 260));
      }
    }
  }
} finally {
  for (const p of procs) p.kill('SIGTERM');
  await shop.close();
  await influx.stop();
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}
