/**
 * The floods of issue 23, against a standalone sink as `npm run sink` starts it (its own
 * process, loopback, no token, default limits), a fresh one per flood:
 *
 *  1. 20,000 label values crafted to share one hash under the unkeyed label hash grading
 *     used before (fixtures/colliding-labels.ts), in 4 pushes of 5,000 new series of one
 *     run; beside it, the reference: 20,000 ordinary values the same way;
 *  2. 50,000 new testids, in 10 pushes of 5,000 (a series each), far past --max-runs;
 *     the reference is the first push;
 *  3. 20,000 registrations (POST /api/runs) as large as the schema lets a tag set and a
 *     target be, from 8 clients; the reference is the sink's RSS before them.
 *
 * Each flood starts after two untimed pushes of 5,000 ordinary series (what a fresh sink
 * does once is not the flood's). While it runs, a client in a thread of its own asks
 * GET /-/ready every 10 ms. Goals: no push over 1 s,
 * /-/ready always within 100 ms, and RSS growing by less than 50 MB over the registrations.
 *
 *   npm run bench -- sink-abuse
 *
 * With BENCH_BASELINE_SINK=<another checkout>/dist/sink/server.js each flood runs on that
 * build too, after this one's: the figures before and after a change. SINK_ABUSE_ONLY=
 * colliding|testids|registrations runs one flood.
 *
 * Prints figures only; throws on an answer that is not 2xx or a sink that does not start.
 */
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { collidingValues } from '../fixtures/colliding-labels.ts';
import { WriteRequest, type TimeSeriesObj } from '../fixtures/remote-write-proto.ts';
import { metricSum, processMemory, scrape, type Service } from '../fixtures/services.ts';
import { snappyCompress } from '../sink/codec/snappy.ts';
import { MB, fmt, send, sinkTargets, withService } from './sink-ingest.ts';

const PUSH_SERIES = 5_000;
const COLLIDING_VALUES = 20_000;
const FLOOD_TESTIDS = 50_000;
const REGISTRATIONS = 20_000;
const REGISTRATION_CLIENTS = 8;
const READY_EVERY_MS = 10;
/** How long the RSS may settle after the registrations (V8 collects an idle heap within about 10 s). */
const SETTLE_SECONDS = 15;
const GOALS = { pushSeconds: 1, readyMs: 100, registrationRssMb: 50 };

const T0 = Date.now() - 60_000;

function body(timeseries: TimeSeriesObj[]): Buffer {
  return snappyCompress(WriteRequest.encode(WriteRequest.create({ timeseries })).finish());
}

function reqsSeries(labels: Record<string, string>, t: number): TimeSeriesObj {
  const all: Record<string, string> = { __name__: 'k6_http_reqs_total', ...labels };
  return { labels: Object.keys(all).sort().map((name) => ({ name, value: all[name]! })), samples: [{ value: 1, timestamp: t }] };
}

/** Pushes of PUSH_SERIES series of run `testid`, one per value of its url label. */
function urlPushes(testid: string, urls: string[]): Buffer[] {
  const pushes: Buffer[] = [];
  for (let i = 0; i < urls.length; i += PUSH_SERIES) pushes.push(body(urls.slice(i, i + PUSH_SERIES).map((url) => reqsSeries({ testid, url }, T0))));
  return pushes;
}

/** Untimed pushes before each flood, of ordinary series of runs of their own. */
const WARMUP_PUSHES = 2;
const warmupPush = (i: number) => body(Array.from({ length: PUSH_SERIES }, (_, k) => reqsSeries({ testid: `warmup_${i}`, url: `/warmup/${k}` }, T0)));

function floodPushes(): Buffer[] {
  const pushes: Buffer[] = [];
  for (let i = 0; i < FLOOD_TESTIDS; i += PUSH_SERIES) {
    pushes.push(body(Array.from({ length: PUSH_SERIES }, (_, k) => reqsSeries({ testid: `flood_${i + k}`, url: '/' }, T0))));
  }
  return pushes;
}

/**
 * The probe's loop, in a worker thread of its own: the bench's main thread is busy making
 * and sending the flood, and its own delays must not count as the sink's.
 */
const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let running = true;
let maxMs = 0;
let count = 0;
parentPort.on('message', () => { running = false; });
const get = () => new Promise((resolve, reject) => {
  const req = http.get(workerData.url, { agent }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); res.on('error', reject); });
  req.on('error', reject);
});
(async () => {
  while (running) {
    const t = performance.now();
    const status = await get();
    if (status !== 200) throw new Error('GET /-/ready answered ' + status);
    maxMs = Math.max(maxMs, performance.now() - t);
    count++;
    await new Promise((r) => setTimeout(r, workerData.everyMs));
  }
  agent.destroy();
  parentPort.postMessage({ maxMs, count });
})();
`;

/** GET /-/ready every READY_EVERY_MS on a connection of its own, from a thread of its own, until stop(); the slowest answer. */
function readyProbe(service: Service): { stop: () => Promise<{ maxMs: number; count: number }> } {
  const worker = new Worker(PROBE_SOURCE, { eval: true, workerData: { url: `${service.url}/-/ready`, everyMs: READY_EVERY_MS } });
  const result = new Promise<{ maxMs: number; count: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const figures = await result;
      await worker.terminate();
      return figures;
    },
  };
}

interface PushFigures {
  seconds: number[];
  readyMaxMs: number;
  readyCount: number;
}

/** The pushes one after the other, timed, with the probe running. */
async function timedPushes(service: Service, pushes: Buffer[]): Promise<PushFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(service.writeUrl);
  const post = async (push: Buffer) => {
    const res = await send(agent, url, 'POST', push, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' });
    if (res.status !== 204) throw new Error(`a push got ${res.status}: ${res.text}`);
  };
  const seconds: number[] = [];
  let probe: ReturnType<typeof readyProbe> | null = null;
  try {
    // What a fresh sink does once (starting its decode worker, compiling the codec and the
    // grading code) is not the flood's: the same ordinary push, of a run of its own, goes first, untimed.
    for (let i = 0; i < WARMUP_PUSHES; i++) await post(warmupPush(i));
    probe = readyProbe(service);
    for (const push of pushes) {
      const t = performance.now();
      await post(push);
      seconds.push((performance.now() - t) / 1000);
    }
  } finally {
    agent.destroy();
  }
  const ready = await probe!.stop();
  return { seconds, readyMaxMs: ready.maxMs, readyCount: ready.count };
}

const secs = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
const verdict = (ok: boolean) => (ok ? 'goal met' : 'GOAL MISSED');

function pushLine(name: string, f: PushFigures): string {
  const worst = Math.max(...f.seconds);
  return (
    `  ${name.padEnd(30)} pushes [${secs(f.seconds)}] s, slowest ${worst.toFixed(2)} s (${verdict(worst <= GOALS.pushSeconds)}); ` +
    `/-/ready slowest ${f.readyMaxMs.toFixed(0)} ms of ${f.readyCount} (${verdict(f.readyMaxMs <= GOALS.readyMs)})`
  );
}

/** A metric of the sink's /metrics, 'absent', or why there is none (a sink before issue 23 took longer than 10 s to answer with 50,000 runs). */
async function metric(service: Service, name: string): Promise<string> {
  try {
    const value = metricSum(await scrape(service.url), name);
    return value === null ? 'absent' : fmt(value);
  } catch (err) {
    return `(no /metrics: ${(err as Error).message})`;
  }
}

async function collidingFlood(): Promise<void> {
  const names = ['__name__', 'testid', 'url'];
  const crafted = collidingValues(names, ['k6_http_reqs_total', 'collide', ''], 'url', COLLIDING_VALUES);
  const ordinary = Array.from({ length: COLLIDING_VALUES }, (_, i) => `/p/${i.toString(36).padStart(70, 'x')}`);
  console.log(
    `\n-- ${fmt(COLLIDING_VALUES)} label values crafted to share one hash under the unkeyed label hash (${crafted[0]!.length} characters each), ` +
      `in pushes of ${fmt(PUSH_SERIES)} new series; beside them ${fmt(COLLIDING_VALUES)} ordinary values of the same length`,
  );
  for (const [name, start] of sinkTargets([])) {
    const reference = await withService(start, (s) => timedPushes(s, urlPushes('ordinary', ordinary)));
    const attack = await withService(start, (s) => timedPushes(s, urlPushes('collide', crafted)));
    console.log(pushLine(`${name}: ordinary values (reference)`, reference));
    console.log(pushLine(`${name}: colliding values`, attack));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    console.log(`  ${name}: colliding / ordinary, all pushes: ${(sum(attack.seconds) / sum(reference.seconds)).toFixed(2)}`);
  }
}

async function testidFlood(): Promise<void> {
  console.log(`\n-- ${fmt(FLOOD_TESTIDS)} new testids (a series each) in pushes of ${fmt(PUSH_SERIES)}, past --max-runs (1,000); the first push is the reference`);
  for (const [name, start] of sinkTargets([])) {
    await withService(start, async (s) => {
      const f = await timedPushes(s, floodPushes());
      console.log(pushLine(`${name}: new testids`, f));
      console.log(`  ${name}: last / first push: ${(f.seconds[f.seconds.length - 1]! / f.seconds[0]!).toFixed(2)}; sink_runs ${await metric(s, 'sink_runs')}, sink_active_series ${await metric(s, 'sink_active_series')}, sink_evicted_runs_total ${await metric(s, 'sink_evicted_runs_total')}`);
    });
  }
}

/** As large as the schema lets the tags and the target be; a k6 address and a threshold list too. */
function registration(i: number): Buffer {
  const tags = Object.fromEntries(Array.from({ length: 32 }, (_, k) => [`tag_${k}`, `${i}-${k}-`.padEnd(256, 'v')]));
  const testid = `reg_20261127_080000_${i.toString(16).padStart(8, '0')}`;
  return Buffer.from(
    JSON.stringify({
      testid,
      scenario: 'promo'.padEnd(128, 'x'),
      tags,
      target: `http://shop.example/${'t'.repeat(2000)}/${i}`,
      k6Address: `127.0.0.1:${1024 + (i % 60_000)}`,
      abortOnFail: true,
      thresholds: { http_req_duration: Array.from({ length: 20 }, (_, k) => `p(95)<${1000 + k}`), http_req_failed: ['rate<0.01'] },
    }),
  );
}

async function registrationFlood(): Promise<void> {
  console.log(`\n-- ${fmt(REGISTRATIONS)} registrations of ~${(registration(0).length / 1024).toFixed(0)} KiB each (POST /api/runs) from ${REGISTRATION_CLIENTS} clients; the sink's RSS before them is the reference`);
  for (const [name, start] of sinkTargets([])) {
    await withService(start, async (s) => {
      // Warm the route up first, so that what it costs once (compiling, the first allocations) is not counted.
      const agent = new Agent({ keepAlive: true, maxSockets: REGISTRATION_CLIENTS });
      const url = new URL(`${s.url}/api/runs`);
      const headers = { 'Content-Type': 'application/json' };
      const post = async (i: number) => {
        const res = await send(agent, url, 'POST', registration(i), headers);
        if (res.status !== 201) throw new Error(`a registration got ${res.status}: ${res.text}`);
      };
      for (let i = 0; i < 100; i++) await post(REGISTRATIONS + i);
      await new Promise((r) => setTimeout(r, 1000));
      const before = processMemory(s.pid).rssBytes;
      const probe = readyProbe(s);
      const t = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: REGISTRATION_CLIENTS }, async () => {
        while (next < REGISTRATIONS) await post(next++);
      }));
      const seconds = (performance.now() - t) / 1000;
      const ready = await probe.stop();
      agent.destroy();
      await new Promise((r) => setTimeout(r, 1000));
      const right = processMemory(s.pid);
      // What the sink keeps, once V8 has collected what the requests left behind: it does
      // when the process goes idle (its memory reducer), within about 10 s.
      let settled = right.rssBytes;
      for (let i = 0; i < SETTLE_SECONDS; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        settled = Math.min(settled, processMemory(s.pid).rssBytes);
      }
      const grewMb = (settled - before) / MB;
      console.log(
        `  ${name}: RSS ${(before / MB).toFixed(0)} MB before (reference), ${(right.rssBytes / MB).toFixed(0)} MB 1 s after, ${(settled / MB).toFixed(0)} MB once idle for ${SETTLE_SECONDS} s: ` +
          `grew ${grewMb.toFixed(0)} MB (${verdict(grewMb < GOALS.registrationRssMb)}); peak ${(right.hwmBytes / MB).toFixed(0)} MB; ${fmt(REGISTRATIONS / seconds)} registrations/s; ` +
          `/-/ready slowest ${ready.maxMs.toFixed(0)} ms of ${ready.count} (${verdict(ready.maxMs <= GOALS.readyMs)})`,
      );
      console.log(`  ${name}: sink_evicted_registrations_total ${await metric(s, 'sink_evicted_registrations_total')}`);
    });
  }
}

export async function benchSinkAbuse(): Promise<void> {
  const only = process.env.SINK_ABUSE_ONLY;
  if (!only || only === 'colliding') await collidingFlood();
  if (!only || only === 'testids') await testidFlood();
  if (!only || only === 'registrations') await registrationFlood();
}
