// Build once, run the output: dist/, package.json and a production-only node_modules
// (npm ci --omit=dev) in a directory of their own, on a PATH that holds nothing but
// node (so no C compiler, no tsx, no esbuild CLI), run the sink and the CLI, with a
// real k6 run against a target whose latency has a long tail.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../build/bundle.ts';
import { freePort } from '../../cli/free-port.ts';
import { SINK_NODE_FLAGS } from '../../contract/dist-layout.ts';
import type { RunJson } from '../../contract/sink-api.ts';
import { runProcess, printedTestId } from '../../fixtures/processes.ts';
import { startLatencyTarget, type LatencyTarget } from '../helpers/latency-target.ts';

const k6 = inject('k6Bin');
const TOKEN = 'dist-alone-token-0123';
let dir: string;
let bin: string;
let target: LatencyTarget;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pla-dist-'));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  cpSync(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
  const install = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  if (install.status !== 0) throw new Error(`npm ci --omit=dev failed: ${install.stderr}`);
  // Only node on the PATH: whatever the sink or the CLI would compile or spawn besides k6 (K6_BIN) fails.
  bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  target = await startLatencyTarget({ kind: 'exponential', meanMs: 60 });
}, 320_000);
afterAll(async () => {
  await target?.close();
  rmSync(dir, { recursive: true, force: true });
});

const onlyNode = () => ({ PATH: bin, HOME: dir, K6_BIN: k6, K6_NO_USAGE_REPORT: 'true' });

describe('the build output with production dependencies only', () => {
  it('has no dev dependency installed, and no C compiler on its PATH', () => {
    for (const dev of ['tsx', 'typescript', 'vitest', '@grafana/grafana-foundation-sdk']) expect(existsSync(join(dir, 'node_modules', dev)), dev).toBe(false);
    expect(spawnSync('/bin/sh', ['-c', 'command -v cc || command -v gcc || command -v tsx'], { env: onlyNode() }).status).not.toBe(0);
  });

  it('runs the sink from dist/sink/server.js, takes a real k6 run from the CLI in dist/cli/, and grades it as k6 does', async () => {
    const port = await freePort();
    const sinkUrl = `http://127.0.0.1:${port}`;
    const sink: ChildProcess = spawn('node', [...SINK_NODE_FLAGS, 'dist/sink/server.js', '--port', String(port), '--token', TOKEN, '--history-file', join(dir, 'data', 'history.jsonl')], {
      cwd: dir,
      env: onlyNode(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let sinkErr = '';
    sink.stderr!.on('data', (c) => (sinkErr += c));
    try {
      for (let i = 0; i < 200 && !(await fetch(`${sinkUrl}/-/ready`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
      const res = await runProcess('node', ['dist/cli/cli.js', 'smoke', '--target', target.url, '--sink', sinkUrl, '--duration', '6s', '--min-grade', 'none', '--out-dir', join(dir, 'results')], {
        cwd: dir,
        env: { ...onlyNode(), SINK_TOKEN: TOKEN },
      });
      expect(res.code, res.stderr + sinkErr).toBe(0);
      const testid = printedTestId(res.stdout)!;
      const run = (await (await fetch(`${sinkUrl}/api/runs/${testid}`)).json()) as RunJson;
      const summary = JSON.parse(readFileSync(join(dir, 'results', testid, 'summary.json'), 'utf8')) as { metrics: Record<string, Record<string, number>> };
      expect(run.final.requests).toBe(summary.metrics.http_reqs!.count);
      expect(run.final.grade.letter).toMatch(/^[A-F]$/);
      expect(res.stdout).toContain(`Grade: ${run.final.grade.letter}`);
      const page = await fetch(`${sinkUrl}/`);
      expect(page.status).toBe(200);
      expect(await (await fetch(`${sinkUrl}/status-page/page.js`)).text()).toContain('EventSource');
    } finally {
      sink.kill('SIGTERM');
      await new Promise((r) => sink.once('exit', r));
    }
  });

  it('runs the CLI alone: its embedded sink starts from dist/ too', async () => {
    const res = await runProcess('node', ['dist/cli/cli.js', 'smoke', '--target', target.url, '--duration', '4s', '--min-grade', 'none', '--out-dir', join(dir, 'embedded')], { cwd: dir, env: onlyNode() });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Grade: [A-F] \(\d+\/100\)/);
    expect(res.stdout).toMatch(/status page http:\/\/127\.0\.0\.1:\d+\/\?testid=/);
  });
});
