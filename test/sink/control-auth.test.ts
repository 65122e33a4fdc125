// One authority for control (issue 23, item 2): every route that changes state needs the
// token when one is set; without a token the sink stops and starts nothing, whatever it is
// told; it stops only what an authenticated caller registered and asked it to abort on; and
// k6's REST addresses (k6's REST API has no auth of its own) are never shown without the
// token. A listener stands in for k6's REST API and records what reaches it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type SinkApp } from '../../sink/app.ts';
import type { SinkConfig } from '../../sink/config.ts';
import { compress, encodeV1, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';

const TOKEN = 'control-token-0001';
const BASIC = 'k6:basic-password-01';
const T = Date.UTC(2026, 10, 27, 8, 0, 0);
const bearer = { authorization: `Bearer ${TOKEN}` };
const basic = { authorization: `Basic ${Buffer.from(BASIC).toString('base64')}` };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Stands in for k6's REST API: records every request, answers 200 as k6 does to a stop. */
async function k6RestApi() {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    res.setHeader('Content-Type', 'application/json');
    res.end('{"data":{"type":"status","id":"default","attributes":{"stopped":true}}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function sinkWith(config: Partial<SinkConfig>) {
  const lines: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'pla-control-auth-'));
  const app: SinkApp = buildApp({
    config: { historyFile: join(dir, 'history.jsonl'), ...config },
    decodeWorker: false,
    logger: { level: 'info', stream: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) },
  });
  await app.ready();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => app.close());
  const messages = () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  return { app, messages, historyFile: join(dir, 'history.jsonl') };
}

function series(name: string, labels: Record<string, string>, value: number, t: number): TimeSeriesObj {
  const all: Record<string, string> = { __name__: name, ...labels };
  return { labels: Object.keys(all).sort().map((k) => ({ name: k, value: all[k]! })), samples: [{ value, timestamp: t }] };
}

/** A push of a run where half of 100 requests failed (and, optionally, its announced thresholds). */
function failingPush(testid: string, extra: TimeSeriesObj[] = []): Buffer {
  return compress(
    encodeV1({
      timeseries: [series('k6_http_reqs_total', { testid, url: '/' }, 100, T), series('k6_http_req_failed_rate', { testid, url: '/' }, 0.5, T), ...extra],
    }),
  );
}

const write = (app: SinkApp, body: Buffer, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/api/v1/write', payload: body, headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', ...headers } });

const ABORT_ON_ERRORS = { http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true }] };

/** The first message of the run's event stream, as a client that sends `headers` sees it. */
const listening = new WeakMap<SinkApp, Promise<string>>();
async function firstEvent(app: SinkApp, testid: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  if (!listening.has(app)) listening.set(app, app.listen({ host: '127.0.0.1', port: 0 }));
  const base = await listening.get(app)!;
  return new Promise((resolve, reject) => {
    const req = get(`${base}/api/runs/${testid}/events`, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        const end = text.indexOf('\n\n');
        if (end < 0) return;
        req.destroy();
        resolve(JSON.parse(text.slice('data: '.length, end)) as Record<string, unknown>);
      });
    });
    req.on('error', reject);
  });
}

const GUARD = { rules: [{ measure: 'errors', above: 0.05, forMs: 10_000 }] };

/** Pushes of a run whose shop answers half its requests with a 503, one a second for `seconds` s: the guard's default errors rule holds after 10. */
async function shopFailing(app: SinkApp, testid: string, seconds: number, headers: Record<string, string> = {}): Promise<void> {
  const page = { testid, scenario: 'ramp', method: 'GET', name: 'http://127.0.0.1:8/product/1', page_type: 'product' };
  const served = { ...page, status: '200', expected_response: 'true' };
  const busy = { ...page, status: '503', error_code: '1503', expected_response: 'false' };
  for (let s = 1; s <= seconds; s++) {
    const t = T + s * 1000;
    const body = compress(encodeV1({ timeseries: [series('k6_vus', { testid }, 20, t), series('k6_http_reqs_total', served, 50 * s, t), series('k6_http_req_failed_rate', served, 0, t), series('k6_http_reqs_total', busy, 50 * s, t), series('k6_http_req_failed_rate', busy, 1, t)] }));
    expect((await write(app, body, headers)).statusCode).toBe(204);
  }
}

describe('a sink without a token', () => {
  it('stops no k6 instance when a registered abortOnFail threshold fails: the verdict is kept, k6 sees no PATCH /v1/status, and the log says why', async () => {
    const k6 = await k6RestApi();
    const { app, messages } = await sinkWith({});
    const registered = await app.inject({ method: 'POST', url: '/api/runs', payload: { testid: 'anon_abort_20261127_080000_00000001', k6Address: k6.address, abortOnFail: true, thresholds: ABORT_ON_ERRORS } });
    expect(registered.statusCode).toBe(201);
    expect(registered.json()).toEqual({ testid: 'anon_abort_20261127_080000_00000001', k6Instances: 0, sinkStops: false });
    expect((await write(app, failingPush('anon_abort_20261127_080000_00000001'))).statusCode).toBe(204);
    expect(app.sink.runs.run('anon_abort_20261127_080000_00000001')!.abortedBy).toMatchObject({ metric: 'http_req_failed', threshold: 'rate<0.01', ok: false });
    await vi.waitFor(() => expect(messages()).toContain('run anon_abort_20261127_080000_00000001: aborted by merged threshold http_req_failed rate<0.01: 50.00 % over 100 requests; the sink has no token, so it stops no k6 instance'));
    // The stop would have been sent at once; give it time to arrive all the same.
    await new Promise((r) => setTimeout(r, 300));
    expect(k6.seen).toEqual([]);
  });

  it("stops no k6 instance when the run's guard trips: the log says why, and the run is not recorded as stopped by the guard", async () => {
    const k6 = await k6RestApi();
    const { app, messages } = await sinkWith({});
    const testid = 'anon_guard_20261127_080000_00000001';
    expect((await app.inject({ method: 'POST', url: '/api/runs', payload: { testid, k6Address: k6.address, guard: GUARD } })).json()).toEqual({ testid, k6Instances: 0, sinkStops: false });
    await shopFailing(app, testid, 13);
    await vi.waitFor(() => expect(messages()).toContain(`run ${testid}: the guard tripped (errors>5%:10s: the shop's errors stayed above 5 % for 10 s (never under 50 %)); the sink has no token, so it stops no k6 instance`));
    await new Promise((r) => setTimeout(r, 300));
    expect(k6.seen).toEqual([]);
    expect(app.sink.control.registrations.get(testid)!.guardStop).toBeNull();
    expect(app.sink.runs.run(testid)!.status).not.toBe('guard');
  });

  it('says at start that it stops and starts nothing, and refuses a stop and a start whatever it is told', async () => {
    const k6 = await k6RestApi();
    const { app, messages } = await sinkWith({ allowStart: true });
    expect(messages()).toContain('no --token: run control is off; the sink stops and starts no k6 instance, whatever it is told (a failed merged threshold is recorded, not enforced), and keeps no k6 address');
    await app.inject({ method: 'POST', url: '/api/runs', payload: { testid: 'anon_stop_20261127_080000_00000002', k6Address: k6.address } });
    const stop = await app.inject({ method: 'POST', url: '/api/runs/anon_stop_20261127_080000_00000002/stop', headers: bearer });
    expect({ status: stop.statusCode, body: stop.json() }).toEqual({
      status: 403,
      body: { code: 'SINK_ERR_CONTROL_NEEDS_TOKEN', message: 'Stopping and starting runs needs a token: start the sink with --token.' },
    });
    const start = await app.inject({ method: 'POST', url: '/api/runs/start', payload: { scenario: 'smoke', target: 'http://127.0.0.1:1/' } });
    expect(start.statusCode).toBe(403);
    expect(start.json().code).toBe('SINK_ERR_CONTROL_NEEDS_TOKEN');
    expect(k6.seen).toEqual([]);
  });

  it('never shows a k6 address: not on registering, not on the event stream, not in /api/runs', async () => {
    const k6 = await k6RestApi();
    const { app } = await sinkWith({});
    const registered = await app.inject({ method: 'POST', url: '/api/runs', payload: { testid: 'anon_events_20261127_080000_00000003', k6Address: k6.address } });
    expect(registered.body).not.toContain(k6.address);
    await write(app, failingPush('anon_events_20261127_080000_00000003'));
    const event = await firstEvent(app, 'anon_events_20261127_080000_00000003', bearer);
    expect(event.registration).toMatchObject({ testid: 'anon_events_20261127_080000_00000003', k6Instances: 0, sinkStops: false });
    expect(JSON.stringify(event)).not.toContain(k6.address);
    expect((await app.inject({ method: 'GET', url: '/api/runs' })).body).not.toContain(k6.address);
  });
});

describe('a sink with a token', () => {
  it('stops the k6 instances an authenticated registration asked it to abort on, once their merged threshold fails', async () => {
    const k6 = await k6RestApi();
    const { app } = await sinkWith({ token: TOKEN });
    const registered = await app.inject({ method: 'POST', url: '/api/runs', headers: bearer, payload: { testid: 'owned_abort_20261127_080000_00000004', k6Address: k6.address, thresholds: ABORT_ON_ERRORS } });
    expect(registered.json()).toEqual({ testid: 'owned_abort_20261127_080000_00000004', k6Instances: 1, sinkStops: true, k6Addresses: [k6.address] });
    expect((await write(app, failingPush('owned_abort_20261127_080000_00000004'), bearer)).statusCode).toBe(204);
    await vi.waitFor(() => expect(k6.seen).toEqual(['PATCH /v1/status']));
  });

  it("stops every instance an authenticated caller registered when the run's guard trips, and records the run as stopped by the guard", async () => {
    const [k6a, k6b] = [await k6RestApi(), await k6RestApi()];
    const { app } = await sinkWith({ token: TOKEN });
    const testid = 'auth_guard_20261127_080000_00000001';
    for (const k6 of [k6a, k6b]) expect((await app.inject({ method: 'POST', url: '/api/runs', headers: bearer, payload: { testid, k6Address: k6.address, guard: GUARD } })).statusCode).toBe(201);
    await shopFailing(app, testid, 13, bearer);
    await vi.waitFor(() => expect(app.sink.control.registrations.get(testid)!.guardStop).not.toBeNull());
    expect([k6a.seen, k6b.seen]).toEqual([['PATCH /v1/status'], ['PATCH /v1/status']]);
    expect(app.sink.runs.run(testid)!.status).toBe('guard');
  });

  it('stops nothing on a threshold the registration did not ask to abort on, even when the data announces it with abort_on_fail', async () => {
    const k6 = await k6RestApi();
    const { app, messages } = await sinkWith({ token: TOKEN });
    await app.inject({ method: 'POST', url: '/api/runs', headers: bearer, payload: { testid: 'announced_20261127_080000_00000005', k6Address: k6.address, thresholds: { http_req_failed: ['rate<0.01'] } } });
    const announced = series('k6_promo_thresholds', { testid: 'announced_20261127_080000_00000005', metric: 'http_req_failed', threshold: 'rate<0.01', abort_on_fail: 'true' }, 1, T);
    expect((await write(app, failingPush('announced_20261127_080000_00000005', [announced]), bearer)).statusCode).toBe(204);
    expect(app.sink.runs.run('announced_20261127_080000_00000005')!.abortedBy).not.toBeNull();
    await vi.waitFor(() => expect(messages().some((m) => m.startsWith('run announced_20261127_080000_00000005: aborted by merged threshold') && m.endsWith('its registration did not ask to abort on it, so no k6 instance is stopped'))).toBe(true));
    await new Promise((r) => setTimeout(r, 300));
    expect(k6.seen).toEqual([]);
  });

  it('needs the bearer token to register, finish, stop and start: none, a wrong one or the write credentials (basic auth) get 401 and change nothing', async () => {
    const k6 = await k6RestApi();
    const { app, historyFile } = await sinkWith({ token: TOKEN, basicAuth: BASIC, allowStart: true });
    const summary = { requests: 1000, p50Ms: 10, p95Ms: 20, p99Ms: 30, errorRatio: 0, rps: 100, checksRate: 1, iterations: 1000 };
    const calls = [
      { method: 'POST' as const, url: '/api/runs', payload: { testid: 'made_up_20261127_080000_00000006', k6Address: k6.address } },
      { method: 'POST' as const, url: '/api/runs/made_up_20261127_080000_00000006/finish', payload: { exitCode: 0, k6Summary: summary } },
      { method: 'POST' as const, url: '/api/runs/made_up_20261127_080000_00000006/stop' },
      { method: 'POST' as const, url: '/api/runs/start', payload: { scenario: 'smoke', target: 'http://127.0.0.1:1/' } },
    ];
    for (const headers of [{}, { authorization: 'Bearer not-the-token' }, basic]) {
      for (const call of calls) {
        const res = await app.inject({ ...call, headers });
        expect({ call: call.url, status: res.statusCode, body: res.json() }).toEqual({
          call: call.url,
          status: 401,
          body: { code: 'SINK_ERR_UNAUTHORIZED', message: 'Missing or wrong credentials for run control.' },
        });
      }
    }
    expect(app.sink.control.registrations.size).toBe(0);
    expect(existsSync(historyFile) ? readFileSync(historyFile, 'utf8') : '').toBe('');
    expect(k6.seen).toEqual([]);
    // The write credentials still write.
    expect((await write(app, failingPush('made_up_20261127_080000_00000006'), basic)).statusCode).toBe(204);
  });

  it('shows k6 addresses only to a caller with the token: not to the anonymous event stream, nor in /api/runs', async () => {
    const k6 = await k6RestApi();
    const { app } = await sinkWith({ token: TOKEN });
    await app.inject({ method: 'POST', url: '/api/runs', headers: bearer, payload: { testid: 'owned_events_20261127_080000_00000007', k6Address: k6.address } });
    await write(app, failingPush('owned_events_20261127_080000_00000007'), bearer);
    const anonymous = await firstEvent(app, 'owned_events_20261127_080000_00000007');
    expect(anonymous.registration).toMatchObject({ testid: 'owned_events_20261127_080000_00000007', k6Instances: 1, sinkStops: true });
    expect(JSON.stringify(anonymous)).not.toContain(k6.address);
    expect((await app.inject({ method: 'GET', url: '/api/runs' })).body).not.toContain(k6.address);
    expect((await app.inject({ method: 'GET', url: '/api/runs/owned_events_20261127_080000_00000007' })).body).not.toContain(k6.address);
    const owner = await firstEvent(app, 'owned_events_20261127_080000_00000007', bearer);
    expect(owner.registration).toMatchObject({ k6Addresses: [k6.address] });
  });
});
