// Distributed runs: N local k6 instances with execution segments and one merged grade,
// a stop that reaches every instance, and the k6-operator manifests from the CLI.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SCENARIO_BUNDLE_DIR, ROOT } from '../../build/bundle.ts';
import { runCli, runProcess, printedTestId } from '../../fixtures/processes.ts';
import { readPoints, k6Percentile, nearBandEdge, expectWithinBuckets } from '../helpers/k6-samples.ts';
import { startDemo } from '../helpers/demo.ts';
import { startSink } from '../helpers/sink.ts';
import { waitFor } from '../helpers/stores.ts';
import { cliMain } from '../../contract/dist-layout.ts';

const k6 = inject('k6Bin');
const TOKEN = 'distributed-token-0123';
let dir: string;
let shop: Awaited<ReturnType<typeof startDemo>>;
let sink: Awaited<ReturnType<typeof startSink>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pla-dist-'));
  shop = await startDemo();
  sink = await startSink({ config: { token: TOKEN } });
});
afterAll(async () => {
  await sink.close();
  await shop.close();
  rmSync(dir, { recursive: true, force: true });
});

const profile = ['ramp', '--vus', '8', '--duration', '8s', '--min-grade', 'none', '--', '-e', 'RAMP_MAX_VUS=12', '-e', 'THINK_TIME_MS=30'];

describe('four local instances of ramp against the demo shop', () => {
  let testid: string;
  let samples: number[];

  beforeAll(async () => {
    const res = await runCli([...profile.slice(0, 7), '--instances', '4', '--target', shop.url, '--sink', sink.url, '--out-dir', dir, ...profile.slice(7)], k6, { SINK_TOKEN: TOKEN });
    expect(res.code, res.stderr).toBe(0);
    testid = printedTestId(res.stdout)!;
    samples = [];
    for (let i = 0; i < 4; i++) {
      for (const p of await readPoints(join(dir, testid, `samples-${i}.json.gz`), 'http_req_duration')) {
        expect(p.data.tags).toMatchObject({ testid, instance: String(i) });
        samples.push(p.data.value);
      }
    }
  });

  it('counts exactly the requests of all instances together', () => {
    expect(sink.app.sink.runs.run(testid)!.figures().run.requests).toBe(samples.length);
  });

  it('merges their p95 to inside the buckets of the exact p95 of all their raw samples', () => {
    const merged = sink.app.sink.runs.run(testid)!.figures().run.p95Ms!;
    expectWithinBuckets(merged, samples, 95, `merged p95 ${merged}, exact ${k6Percentile(samples, 95)}`);
  });

  it('gets the grade letter a single instance of the same profile gets', async () => {
    const single = await runCli([...profile.slice(0, 7), '--target', shop.url, '--sink', sink.url, '--out-dir', dir, ...profile.slice(7)], k6, { SINK_TOKEN: TOKEN });
    const singleRun = sink.app.sink.runs.run(printedTestId(single.stdout)!)!.figures().run;
    const merged = sink.app.sink.runs.run(testid)!.figures().run;
    if (!nearBandEdge(singleRun.p95Ms!) && !nearBandEdge(merged.p95Ms!)) expect(merged.grade.letter).toBe(singleRun.grade.letter);
  });
});

describe('a stop of a distributed run', () => {
  it('reaches every instance: all of them exit 103', async () => {
    const child = spawn(process.execPath, [cliMain(), 'promo', '--vus', '4', '--instances', '2', '--duration', '60s', '--target', shop.url, '--sink', sink.url, '--out-dir', dir], {
      cwd: ROOT,
      env: { ...process.env, K6_BIN: k6, SINK_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    const exit = new Promise<number | null>((r) => child.on('exit', r));
    await waitFor('both instances to register', () => {
      const id = printedTestId(out);
      return id !== null && (sink.app.sink.control!.registrations.get(id)?.k6Addresses.length ?? 0) === 2;
    }, 30_000);
    const testid = printedTestId(out)!;
    const stop = await sink.app.inject({ method: 'POST', url: `/api/runs/${testid}/stop`, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(stop.json().reached).toHaveLength(2);
    expect(await exit).toBe(103);
    expect(sink.app.sink.history?.find(testid) ?? sink.app.sink.runs.run(testid)!.outcome).toBeTruthy();
  });
});

describe('--k8s', () => {
  it('prints only YAML: a ConfigMap with the bundle byte for byte, and a TestRun for the operator', async () => {
    const res = await runProcess(process.execPath, [cliMain(), 'ramp', '--k8s', '--parallelism', '3', '--namespace', 'loadtest', '--sink-url', 'http://promo-sink.monitoring:9091', '--target', 'http://shop.example.com'], {});
    expect(res.code, res.stderr).toBe(0);
    const [configMap, testRun] = parseAllDocuments(res.stdout).map((d) => d.toJS());
    expect(configMap.kind).toBe('ConfigMap');
    expect(configMap.data['ramp.js']).toBe(readFileSync(join(SCENARIO_BUNDLE_DIR, 'ramp.js'), 'utf8'));
    expect(testRun).toMatchObject({ apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', spec: { parallelism: 3, script: { configMap: { name: configMap.metadata.name, file: 'ramp.js' } } } });
  });
});
