// Run control with real k6: the emergency stop, notifications, starting runs from
// the API, and a history that survives a restart. The breaking point is capacity.test.ts's.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIO_BUNDLE_DIR, ROOT } from '../../build/bundle.ts';
import { makeTestId } from '../../lib/tags.ts';
import { runProcess, printedGrade, printedTestId } from '../../fixtures/processes.ts';
import { startDemo } from '../helpers/demo.ts';
import { startSink, remoteWriteEnv } from '../helpers/sink.ts';
import { waitFor } from '../helpers/stores.ts';
import { buildApp } from '../../sink/app.ts';
import { cliMain } from '../../contract/dist-layout.ts';

const k6 = inject('k6Bin');
const TOKEN = 'control-token-0123456789';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pla-control-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A local webhook receiver that records every JSON body. */
async function startReceiver(behaviour: 'ok' | 'hang' = 'ok') {
  const bodies: any[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      if (behaviour === 'hang') return; // never answers
      bodies.push(JSON.parse(text));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, bodies, close: () => server.closeAllConnections?.() ?? server.close() };
}

function cli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [cliMain(), ...args, '--out-dir', dir], {
    cwd: ROOT,
    env: { ...process.env, K6_BIN: k6, K6_NO_USAGE_REPORT: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, out: () => stdout, err: () => stderr };
}

describe('the emergency stop', () => {
  it('refuses a stop without the token and lets the run go on; with the token k6 stops with 103 and the run is recorded', async () => {
    const shop = await startDemo();
    const sink = await startSink({ config: { token: TOKEN, historyFile: join(dir, 'stop-history.jsonl') } });
    try {
      const run = cli(['smoke', '--target', shop.url, '--sink', sink.url, '--duration', '60s'], { SINK_TOKEN: TOKEN });
      await waitFor('the run to register and report', () => /\[live /.test(run.out()), 30_000);
      const testid = printedTestId(run.out())!;
      const denied = await sink.app.inject({ method: 'POST', url: `/api/runs/${testid}/stop` });
      expect(denied.statusCode).toBe(401);
      expect(denied.json()).toEqual({ code: 'SINK_ERR_UNAUTHORIZED', message: 'Missing or wrong credentials for run control.' });
      const before = sink.app.sink.runs.run(testid)!.totalRequests();
      await waitFor('the run to go on', () => sink.app.sink.runs.run(testid)!.totalRequests() > before, 10_000);

      const stopped = await sink.app.inject({ method: 'POST', url: `/api/runs/${testid}/stop`, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(stopped.statusCode).toBe(202);
      expect(await run.exit).toBe(103);
      const summary = JSON.parse(readFileSync(join(dir, testid, 'summary.json'), 'utf8'));
      const entry = sink.app.sink.history!.find(testid)!;
      expect(entry).toMatchObject({ exitCode: 103, exitReason: 'stopped manually' });
      // Everything k6 counted before it stopped reached the sink.
      expect(sink.app.sink.runs.run(testid)!.totalRequests()).toBe(summary.metrics.http_reqs.count);
    } finally {
      await sink.close();
      await shop.close();
    }
  });
});

describe('notifications', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let shop: Awaited<ReturnType<typeof startDemo>>;
  let sink: Awaited<ReturnType<typeof startSink>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    shop = await startDemo();
    sink = await startSink({ config: { token: TOKEN, webhookUrl: receiver.url, windowMs: 5000 } });
  });
  afterAll(async () => {
    await sink.close();
    await shop.close();
    receiver.close();
  });

  const runAndCollect = async (faults: { errorRatio: number; extraLatencyMs: number }) => {
    await shop.admin('PUT', 'faults', faults);
    const run = cli(['smoke', '--target', shop.url, '--sink', sink.url, '--duration', '8s', '--min-grade', 'none'], { SINK_TOKEN: TOKEN });
    expect(await run.exit).toBe(0);
    const testid = printedTestId(run.out())!;
    await waitFor('the completion message', () => receiver.bodies.some((b) => b.testid === testid && b.event === 'completed'), 20_000);
    return { testid, grade: printedGrade(run.out()), messages: receiver.bodies.filter((b) => b.testid === testid) };
  };

  it('sends exactly one CRITICAL for a run with 10 % errors, and one completion with the CLI grade', async () => {
    const { messages, grade } = await runAndCollect({ errorRatio: 0.1, extraLatencyMs: 0 });
    expect(messages.map((m) => `${m.level} ${m.event}`).sort()).toEqual(['CRITICAL error_ratio', 'FAILURE completed']);
    expect(messages.find((m) => m.event === 'completed')!.grade).toBe(grade);
  });

  it('sends exactly one WARNING for a slow run, and one completion with the CLI grade', async () => {
    const { messages, grade } = await runAndCollect({ errorRatio: 0, extraLatencyMs: 3200 });
    expect(messages.filter((m) => m.event !== 'completed').map((m) => `${m.level} ${m.event}`)).toEqual(['WARNING p95']);
    expect(messages.filter((m) => m.event === 'completed').map((m) => m.grade)).toEqual([grade]);
  });

  it('sends one SUCCESS for a healthy run', async () => {
    const { messages, grade } = await runAndCollect({ errorRatio: 0, extraLatencyMs: 0 });
    expect(messages.map((m) => `${m.level} ${m.event} ${m.grade}`)).toEqual([`SUCCESS completed ${grade}`]);
  });

  it('keeps ingesting at full speed while the webhook hangs', async () => {
    const hanging = await startReceiver('hang');
    const slowSink = await startSink({ config: { webhookUrl: hanging.url, windowMs: 2000 } });
    try {
      await shop.admin('PUT', 'faults', { errorRatio: 0.2, extraLatencyMs: 0 });
      const testid = makeTestId('dead webhook');
      const res = await runProcess(k6, ['run', '-q', '-o', 'experimental-prometheus-rw', '-e', `TESTID=${testid}`, '-e', `BASE_URL=${shop.url}`, '-e', 'DURATION=6s', '-e', 'THINK_TIME_MS=20', '-e', 'MIN_GRADE=none', '--summary-export', join(dir, `${testid}.json`), join(SCENARIO_BUNDLE_DIR, 'smoke.js')], { env: remoteWriteEnv(slowSink.url, 'native') });
      // k6 gives each push 5 s and logs a failed one: none failed, and every request was counted.
      expect(res.stderr).not.toMatch(/level=(error|warning).*(remote write|prometheus)/i);
      const summary = JSON.parse(readFileSync(join(dir, `${testid}.json`), 'utf8'));
      expect(slowSink.app.sink.runs.run(testid)!.totalRequests()).toBe(summary.metrics.http_reqs.count);
      expect(slowSink.app.sink.notifier!.stats.queued).toBeGreaterThan(0);
    } finally {
      await shop.admin('DELETE', 'faults');
      await slowSink.close();
      hanging.close();
    }
  });
});

describe('starting a run from the API', () => {
  it('is off unless --allow-start, needs the token, refuses unknown fields, and runs a bundled scenario', async () => {
    const shop = await startDemo();
    const closed = buildApp({ config: { token: TOKEN } });
    const off = await closed.inject({ method: 'POST', url: '/api/runs/start', headers: { authorization: `Bearer ${TOKEN}` }, payload: { scenario: 'smoke', target: shop.url } });
    expect(off.json()).toEqual({ code: 'SINK_ERR_START_DISABLED', message: 'Starting runs from the API is off: start the sink with --allow-start.' });
    await closed.close();

    const sink = await startSink({ config: { token: TOKEN, allowStart: true, historyFile: join(dir, 'start-history.jsonl') } });
    try {
      const start = (payload: object, token = TOKEN) => sink.app.inject({ method: 'POST', url: '/api/runs/start', headers: { authorization: `Bearer ${token}` }, payload });
      expect((await start({ scenario: 'smoke', target: shop.url }, 'wrong-token-000')).statusCode).toBe(401);
      const unknown = await start({ scenario: 'smoke', target: shop.url, script: 'export default () => {}' });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().code).toBe('SINK_ERR_BAD_REQUEST');
      expect((await start({ scenario: '../etc/passwd', target: shop.url })).statusCode).toBe(400);
      expect((await start({ scenario: 'smoke', target: 'file:///etc/passwd' })).statusCode).toBe(400);

      const ok = await start({ scenario: 'smoke', target: shop.url, duration: '3s', vus: 1, tags: { environment: 'preprod', promo_name: 'api start' } });
      expect(ok.statusCode).toBe(202);
      const { testid } = ok.json();
      await waitFor('the started run to finish', () => sink.app.sink.history!.find(testid) !== undefined, 90_000, 500);
      expect(sink.app.sink.history!.find(testid)).toMatchObject({ scenario: 'smoke', exitCode: 0, exitReason: 'completed', tags: { promo_name: 'api start' } });
      expect((await sink.app.inject({ url: `/api/runs/${testid}` })).json().status).toBe('ended');
    } finally {
      await sink.close();
      await shop.close();
    }
  });
});

describe('the history', () => {
  it('survives a sink restart and a torn last line', async () => {
    const file = join(dir, 'restart-history.jsonl');
    const first = buildApp({ config: { token: TOKEN, historyFile: file } });
    await first.ready();
    const testid = makeTestId('history');
    await first.inject({ method: 'POST', url: '/api/runs', headers: { authorization: `Bearer ${TOKEN}` }, payload: { testid, scenario: 'smoke' } });
    const finished = await first.inject({ method: 'POST', url: `/api/runs/${testid}/finish`, headers: { authorization: `Bearer ${TOKEN}` }, payload: { exitCode: 0 } });
    expect(finished.statusCode).toBe(200);
    await first.close();
    appendFileSync(file, '{"testid":"torn_by_a_cr');
    const warnings: string[] = [];
    const second = buildApp({ config: { historyFile: file }, logger: { level: 'warn', stream: { write: (l: string) => warnings.push(l) } } });
    await second.ready();
    const history = (await second.inject({ url: '/api/history' })).json();
    expect(history.runs.map((r: { testid: string }) => r.testid)).toEqual([testid]);
    expect(warnings.filter((w) => w.includes('cut short'))).toHaveLength(1);
    const csv = (await second.inject({ url: '/api/runs.csv' })).body;
    expect(csv.split(/\r?\n/)[1]).toMatch(new RegExp(`^${testid},smoke,`));
    await second.close();
    expect(existsSync(file)).toBe(true);
  });
});
