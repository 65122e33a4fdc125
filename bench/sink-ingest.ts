/**
 * Remote-write ingestion throughput of the sink against Prometheus 2.42 and
 * VictoriaMetrics, measured in the same run on the same pre-encoded k6-shaped
 * bodies (1,000 series × 10 labels, one sample each, snappy + protobuf RW 1.0),
 * sent by 8 concurrent keep-alive HTTP clients. Each target runs in its own
 * process on a free loopback port (the sink as `npm run sink` starts it: `node sink/start.mjs`),
 * so the load generator does not share its event loop.
 *
 * Every client owns a disjoint slice of the series and sends its requests one
 * after the other with increasing timestamps, so every series' samples arrive
 * in order at every receiver, even with 8 requests in flight (Prometheus would
 * otherwise refuse whole requests as out of order).
 *
 * Up to 3 rounds alternate the targets (fresh servers each round); the figure is
 * the median. The server's CPU time per sample is printed too: on a shared
 * machine it moves much less than samples/s.
 *
 * Then the sink's RSS with 100k active series: a fresh sink gets 100 distinct
 * sets of 1,000 series, twice.
 *
 *   npm run bench sink-ingest
 *
 * Prints figures only; throws on a non-2xx answer or a server that does not start.
 */
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { k6SeriesLabels } from '../fixtures/k6-payloads.ts';
import { WriteRequest, type LabelObj, type TimeSeriesObj } from '../fixtures/remote-write-proto.ts';
import { snappyCompress } from '../sink/codec/snappy.ts';
import { DEFAULT_CONFIG } from '../sink/config.ts';
import {
  metricSum,
  processCpuSeconds,
  processMemory,
  scrape,
  startPrometheus,
  startSinkProcess,
  startVictoriaMetrics,
  type Service,
} from '../fixtures/services.ts';

export const CONCURRENCY = 8;
export const SERIES_PER_REQUEST = 1000;
export const LABELS_PER_SERIES = 10;
/** Distinct series each client slides its window over (like k6-payloads: 2 × per request). */
export const POOL_PER_CLIENT = 2 * SERIES_PER_REQUEST;
/** Timed requests per client: 8 × 250 × 1,000 = 2M samples per target. */
export const TIMED_PER_CLIENT = 250;
/** Untimed requests first: with the window sliding by a quarter, 5 touch every series of a client. */
export const WARMUP_PER_CLIENT = 8;
/** Sample time between two requests of a client (k6 with K6_PROMETHEUS_RW_PUSH_INTERVAL=1s). */
const INTERVAL_MS = 1000;
/** Series sets of the memory phase: 100 × 1,000 = 100k active series. */
export const RSS_SETS = 100;
const RSS_PASSES = 2;
/** Throughput rounds (each target once per round); no new round after ROUNDS_BUDGET_MS. */
const MAX_ROUNDS = 3;
export const ROUNDS_BUDGET_MS = 100_000;

const HEADERS = {
  'Content-Type': 'application/x-protobuf',
  'Content-Encoding': 'snappy',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
  'User-Agent': 'k6-bench/sink-ingest',
};

interface Encoded {
  body: Buffer;
  rawBytes: number;
}

/** Deterministic k6-like value of series `i` in request `r` (counters only grow). */
function valueFor(i: number, r: number, labels: LabelObj[]): number {
  const metric = labels[0]!.value;
  if (metric.endsWith('_total')) return (i % 97) * 10 + r * ((i % 13) + 1);
  if (metric.endsWith('_rate')) return ((i * 7 + r * 3) % 100) / 100;
  return 0.0125 + ((i * 31 + r * 17) % 4000) / 7000;
}

function encode(labelSets: LabelObj[][], indices: number[], timestampMs: number, r: number): Encoded {
  const timeseries: TimeSeriesObj[] = indices.map((i) => ({
    labels: labelSets[i]!,
    samples: [{ value: valueFor(i, r, labelSets[i]!), timestamp: timestampMs }],
  }));
  const raw = WriteRequest.encode(WriteRequest.create({ timeseries })).finish();
  return { body: snappyCompress(raw), rawBytes: raw.length };
}

/** Per client: WARMUP + `timedPerClient` bodies over its own POOL_PER_CLIENT series. */
export function makeThroughputBodies(
  startMs: number,
  timedPerClient = TIMED_PER_CLIENT,
): { clients: Buffer[][]; rawBytes: number; compressedBytes: number } {
  const total = CONCURRENCY * POOL_PER_CLIENT;
  const labelSets: LabelObj[][] = [];
  for (let i = 0; i < total; i++) labelSets.push(k6SeriesLabels(i, LABELS_PER_SERIES));
  const step = SERIES_PER_REQUEST / 4;
  const clients: Buffer[][] = [];
  let rawBytes = 0;
  let compressedBytes = 0;
  for (let c = 0; c < CONCURRENCY; c++) {
    const bodies: Buffer[] = [];
    for (let r = 0; r < WARMUP_PER_CLIENT + timedPerClient; r++) {
      const indices: number[] = [];
      for (let k = 0; k < SERIES_PER_REQUEST; k++) indices.push(c * POOL_PER_CLIENT + ((r * step + k) % POOL_PER_CLIENT));
      const e = encode(labelSets, indices, startMs + r * INTERVAL_MS, r);
      bodies.push(e.body);
      rawBytes += e.rawBytes;
      compressedBytes += e.body.length;
    }
    clients.push(bodies);
  }
  return { clients, rawBytes, compressedBytes };
}

/** RSS_PASSES passes over RSS_SETS disjoint sets of SERIES_PER_REQUEST series. */
export function makeRssBodies(startMs: number): Buffer[][] {
  const passes: Buffer[][] = [];
  const labelSets: LabelObj[][] = [];
  for (let i = 0; i < RSS_SETS * SERIES_PER_REQUEST; i++) labelSets.push(k6SeriesLabels(i, LABELS_PER_SERIES));
  for (let p = 0; p < RSS_PASSES; p++) {
    const bodies: Buffer[] = [];
    for (let s = 0; s < RSS_SETS; s++) {
      const indices = Array.from({ length: SERIES_PER_REQUEST }, (_, k) => s * SERIES_PER_REQUEST + k);
      bodies.push(encode(labelSets, indices, startMs + p * INTERVAL_MS, p).body);
    }
    passes.push(bodies);
  }
  return passes;
}

export class Failures {
  count = 0;
  first = '';
  add(what: string): void {
    if (this.count++ === 0) this.first = what;
  }
}

function post(agent: Agent, url: URL, body: Buffer): Promise<{ status: number; text: string }> {
  return send(agent, url, 'POST', body, HEADERS);
}

/** One request on the agent; the answer's status and the start of its text. */
export function send(agent: Agent, url: URL, method: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, hostname: url.hostname, port: url.port, path: url.pathname, method, headers: { ...headers, 'Content-Length': body.length } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < 1000) text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Each client sends its bodies one after the other; the clients run concurrently. */
export async function sendAll(agent: Agent, writeUrl: string, clients: Buffer[][], failures: Failures): Promise<void> {
  const url = new URL(writeUrl);
  await Promise.all(
    clients.map(async (bodies) => {
      for (const body of bodies) {
        const { status, text } = await post(agent, url, body);
        if (status !== 200 && status !== 204) failures.add(`${status} ${text.trim().slice(0, 300)}`);
      }
    }),
  );
}

/** Spread `items` over `n` lists round-robin (each list keeps the original order). */
export function spread<T>(items: T[], n: number): T[][] {
  const lists: T[][] = Array.from({ length: n }, () => []);
  items.forEach((item, i) => lists[i % n]!.push(item));
  return lists;
}

export interface Measured {
  samplesPerSecond: number;
  seconds: number;
  cpuSeconds: number;
  /** CPU time of this (the load generator's) process over the timed part. */
  clientCpuSeconds: number;
  /** What the target itself says it accepted, when it says so. */
  ownCount: number | null;
  note: string;
}

const OWN_COUNTERS: Record<string, { name: string; match?: Record<string, string> }> = {
  sink: { name: 'sink_samples_received_total' },
  prometheus: { name: 'prometheus_tsdb_head_samples_appended_total' },
  'victoria-metrics': { name: 'vm_rows_inserted_total', match: { type: 'promremotewrite' } },
};

/** Untimed warm-up bodies, then the timed ones, from CONCURRENCY clients; `timedSamples` is what the timed ones carry. */
export async function measure(service: Service, clients: Buffer[][], warmupPerClient: number, timedSamples: number): Promise<Measured> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const failures = new Failures();
    await sendAll(agent, service.writeUrl, clients.map((b) => b.slice(0, warmupPerClient)), failures);
    const cpu0 = processCpuSeconds(service.pid);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    await sendAll(agent, service.writeUrl, clients.map((b) => b.slice(warmupPerClient)), failures);
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = processCpuSeconds(service.pid) - cpu0;
    const client = process.cpuUsage(client0);
    const clientCpuSeconds = (client.user + client.system) / 1e6;
    const sent = clients.reduce((n, b) => n + b.length, 0);
    if (failures.count > 0) {
      throw new Error(`${service.name}: ${failures.count} of ${sent} requests were not accepted; the first: ${failures.first}`);
    }
    const own = OWN_COUNTERS[service.name];
    const metrics = own ? await scrape(service.url) : '';
    // The sink counts float samples and native histograms apart; Prometheus' counter has both.
    const ownCount = own ? (metricSum(metrics, own.name, own.match) ?? 0) + (service.name === 'sink' ? (metricSum(metrics, 'sink_histograms_received_total') ?? 0) : 0) : null;
    let note = '';
    if (service.name === 'sink') {
      const refused = metricSum(metrics, 'sink_refused_samples_total') ?? 0;
      const outOfOrder = metricSum(metrics, 'sink_out_of_order_samples_total') ?? 0;
      if (refused > 0) note += `, ${refused} samples of refused series (series limit)`;
      if (outOfOrder > 0) note += `, ${outOfOrder} out-of-order samples`;
    }
    return { samplesPerSecond: timedSamples / seconds, seconds, cpuSeconds, clientCpuSeconds, ownCount, note };
  } finally {
    agent.destroy();
  }
}

export async function withService<T>(start: () => Promise<Service>, use: (s: Service) => Promise<T>): Promise<T> {
  const service = await start();
  try {
    return await use(service);
  } finally {
    await service.stop();
  }
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export const MB = 1024 * 1024;

/** Rounds alternate the targets (fresh servers every time); returns each target's measurements, the median first. */
export async function compareTargets(
  targets: [string, () => Promise<Service>][],
  clients: Buffer[][],
  warmupPerClient: number,
  timedSamples: number,
  budgetMs: number,
): Promise<Map<string, Measured[]>> {
  const started = performance.now();
  const results = new Map<string, Measured[]>(targets.map(([name]) => [name, []]));
  for (let round = 0; round < MAX_ROUNDS && (round === 0 || performance.now() - started < budgetMs); round++) {
    for (const [name, start] of targets) results.get(name)!.push(await withService(start, (service) => measure(service, clients, warmupPerClient, timedSamples)));
  }
  return results;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
export const rateOf = (results: Map<string, Measured[]>, name: string) => median(results.get(name)!.map((m) => m.samplesPerSecond));

/** One line per target: median samples/s, each round, CPU per sample, what the target counted. */
export function printTable(results: Map<string, Measured[]>, timedSamples: number, totalSamples: number): void {
  const rounds = Math.max(...[...results.values()].map((ms) => ms.length));
  console.log(
    `samples/s accepted, median of ${rounds} alternating round${rounds === 1 ? '' : 's'} [each round]; cores = user+system CPU ` +
      `of the server and of this load generator over the timed part, on ${availableParallelism()} cores:`,
  );
  for (const [name, ms] of results) {
    const m = ms.find((x) => x.samplesPerSecond === rateOf(results, name))!;
    const counts = [...new Set(ms.map((x) => (x.ownCount === null ? 'n/a' : fmt(x.ownCount))))].join(', ');
    const notes = [...new Set(ms.map((x) => x.note))].join('');
    console.log(
      `  ${name.padEnd(17)} ${fmt(rateOf(results, name)).padStart(10)} samples/s   [${ms.map((x) => fmt(x.samplesPerSecond)).join(', ')}]   ` +
        `(server ${(m.cpuSeconds / m.seconds).toFixed(2)} cores = ${((m.cpuSeconds / timedSamples) * 1e6).toFixed(2)} µs CPU/sample, ` +
        `client ${(m.clientCpuSeconds / m.seconds).toFixed(2)} cores; ` +
        `accepted by its own count: ${counts} of ${fmt(totalSamples)} per round${notes})`,
    );
  }
}

/**
 * BENCH_BASELINE_SINK=<another checkout>/dist/sink/server.js adds that build as a target
 * beside this one, in the same alternating rounds: a change's before and after under the
 * same load (the machine's load moves figures between runs more than most changes do).
 */
export function baselineSinkServer(): string | null {
  const server = process.env.BENCH_BASELINE_SINK;
  if (!server) return null;
  if (!existsSync(server)) throw new Error(`BENCH_BASELINE_SINK is ${server}, which does not exist: build that checkout first (npm run build)`);
  return server;
}

/** The sink started with `args`, and the baseline build beside it when one is given. */
export function sinkTargets(args: string[]): [string, () => Promise<Service>][] {
  const baseline = baselineSinkServer();
  return [
    ['sink', () => startSinkProcess({ args })],
    ...(baseline ? [['sink (baseline)', () => startSinkProcess({ args, server: baseline })] as [string, () => Promise<Service>]] : []),
  ];
}

/** "sink / baseline = 1.02" when a baseline build ran beside this one. */
export function baselineRatio(results: Map<string, Measured[]>): string {
  return results.has('sink (baseline)') ? `   sink / sink (baseline) = ${(rateOf(results, 'sink') / rateOf(results, 'sink (baseline)')).toFixed(2)}` : '';
}

/** Series limits: raised by flag only where the defaults are below what a bench needs. */
export function sinkLimitArgs(needed: number): string[] {
  const args: string[] = [];
  if (DEFAULT_CONFIG.maxSeries < needed) args.push('--max-series', String(needed));
  if (DEFAULT_CONFIG.maxSeriesPerRun < needed) args.push('--max-series-per-run', String(needed));
  return args;
}

/** RSS of a fresh sink after `passes` over the bodies (spread over the clients), with the active series it reports. */
export async function sinkRss(args: string[], passes: Buffer[][], expectedSeries: number): Promise<{ rssBytes: number; hwmBytes: number; idleBytes: number; active: number }> {
  return withService(
    () => startSinkProcess({ args }),
    async (service) => {
      const idle = processMemory(service.pid);
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const failures = new Failures();
      try {
        for (const pass of passes) await sendAll(agent, service.writeUrl, spread(pass, CONCURRENCY), failures);
      } finally {
        agent.destroy();
      }
      if (failures.count > 0) throw new Error(`sink: ${failures.count} requests of the memory phase were not accepted; the first: ${failures.first}`);
      const active = metricSum(await scrape(service.url), 'sink_active_series');
      if (active === null || active < expectedSeries * 0.99 || active > expectedSeries * 1.01) {
        throw new Error(`the sink reports sink_active_series ${active}, not ~${expectedSeries}: the RSS figure would not be for that many series`);
      }
      const mem = processMemory(service.pid);
      return { rssBytes: mem.rssBytes, hwmBytes: mem.hwmBytes, idleBytes: idle.rssBytes, active };
    },
  );
}

/** The second table: float-only bodies (k6's trend stats), the sink against VictoriaMetrics and Prometheus. */
export async function benchFloatIngest(): Promise<{ sink: number; victoriaMetrics: number }> {
  const startMs = Date.now();
  const gen0 = performance.now();
  const { clients, rawBytes, compressedBytes } = makeThroughputBodies(startMs);
  const requests = CONCURRENCY * (WARMUP_PER_CLIENT + TIMED_PER_CLIENT);
  const timedSamples = CONCURRENCY * TIMED_PER_CLIENT * SERIES_PER_REQUEST;
  console.log(
    `\n-- float-only (k6's trend stats, no histograms): ${requests} k6-shaped remote-write 1.0 requests of ${SERIES_PER_REQUEST} series × ${LABELS_PER_SERIES} labels ` +
      `(${(compressedBytes / requests / 1024).toFixed(1)} KiB snappy, ${(rawBytes / requests / 1024).toFixed(1)} KiB protobuf each, encoded in ${((performance.now() - gen0) / 1000).toFixed(1)} s); ` +
      `${CONCURRENCY} keep-alive clients, each over its own ${POOL_PER_CLIENT} series, ${WARMUP_PER_CLIENT} untimed + ${TIMED_PER_CLIENT} timed requests each`,
  );
  const args = sinkLimitArgs(Math.max(CONCURRENCY * POOL_PER_CLIENT, RSS_SETS * SERIES_PER_REQUEST));
  const results = await compareTargets(
    [
      ...sinkTargets(args),
      ['prometheus', () => startPrometheus()],
      ['victoria-metrics', () => startVictoriaMetrics()],
    ],
    clients,
    WARMUP_PER_CLIENT,
    timedSamples,
    ROUNDS_BUDGET_MS,
  );
  printTable(results, timedSamples, requests * SERIES_PER_REQUEST);
  const sink = rateOf(results, 'sink');
  const victoriaMetrics = rateOf(results, 'victoria-metrics');
  console.log(`  sink / victoria-metrics = ${(sink / victoriaMetrics).toFixed(2)} (goal ≥ 1.0)   sink / prometheus = ${(sink / rateOf(results, 'prometheus')).toFixed(2)}${baselineRatio(results)}`);
  const rss = await sinkRss(args, makeRssBodies(Date.now()), RSS_SETS * SERIES_PER_REQUEST);
  console.log(`  RSS at ${fmt(rss.active)} active float series: ${(rss.rssBytes / MB).toFixed(0)} MB (idle ${(rss.idleBytes / MB).toFixed(0)} MB, peak ${(rss.hwmBytes / MB).toFixed(0)} MB)`);
  return { sink, victoriaMetrics };
}
