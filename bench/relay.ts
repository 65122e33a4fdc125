/**
 * Relay throughput: the sink accepting remote write and forwarding it to
 * VictoriaMetrics, against vmagent relaying the same bodies to the same kind of
 * fresh VictoriaMetrics, in the same run.
 *
 * The bodies are sink-ingest's (k6-shaped RW 1.0, 1,000 series × 10 labels, one
 * sample each), five times as many (RELAY_TIMED_PER_CLIENT says why), sent by 8 concurrent keep-alive clients, each over its own slice of
 * the series with increasing timestamps: like 8 k6 instances, whose pushes share no
 * series, so the sink may send them side by side (--max-in-flight, default 4) while
 * each client's pushes reach VictoriaMetrics in order.
 *
 * - sink: its own process (startSinkProcess) with `--prometheus-url <vm>/api/v1/write`
 *   and no --spool-dir, so the queue is the in-memory spool (the default bound,
 *   --spool-max-bytes 1 GiB, is well above the ~290 MB the bench sends). The grade
 *   series are emitted on a timer (and forwarded as well); --grade-interval is set
 *   to 1h so that VictoriaMetrics receives exactly the samples sent and the row
 *   count can prove nothing was lost. Everything else is at its defaults.
 * - vmagent: `-remoteWrite.url=<vm>/api/v1/write` with its file-backed queue in a
 *   temporary directory, everything else at its defaults.
 *
 * Each round starts a fresh VictoriaMetrics and a fresh relay, sends the untimed
 * warm-up bodies and waits until VictoriaMetrics holds them, then times from the
 * first timed send to "everything delivered": VictoriaMetrics' vm_rows_inserted_total
 * (polled every 20 ms; it moves about once a second) equals everything sent, and, for the sink,
 * sink_destination_queue_records is 0 and sink_destination_samples_dropped_total 0.
 * A row count that does not reach what was sent within DELIVERY_TIMEOUT_MS, or
 * goes past it (duplicates), is an error. Rounds alternate the relays; the figure is
 * the median.
 *
 * Then the InfluxDB relay: float bodies like sink-ingest's (INFLUX_TIMED_PER_CLIENT timed
 * requests a client: 400k samples, as InfluxDB 1.6 takes only some 30–40k a second here) through
 * the sink into a fresh InfluxDB 1.6 as line protocol, beside the same samples written to
 * the same kind of fresh InfluxDB directly, as line protocol made beforehand. InfluxDB's
 * own count of points written (/debug/vars, httpd pointsWrittenOK) says when everything is
 * in; InfluxDB is the slower of the two, so the relay can at best match the direct write.
 *
 *   npm run bench relay
 */
import { Agent, request } from 'node:http';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  CONCURRENCY,
  baselineSinkServer,
  Failures,
  SERIES_PER_REQUEST,
  WARMUP_PER_CLIENT,
  fmt,
  makeThroughputBodies,
  sendAll,
  withService,
} from './sink-ingest.ts';
import { metricSum, processCpuSeconds, scrape, startPrometheus, startSinkProcess, startVictoriaMetrics, startVmagent, type Service } from '../fixtures/services.ts';
import { NATIVE_WARMUP_PER_CLIENT, describeNative, nativeWorkload, type NativeWorkload } from './native-ingest.ts';
import { startInfluxDB, type InfluxDB } from '../fixtures/influxdb.ts';
import { RemoteWriteDecoder } from '../sink/remote-write/decode.ts';
import { batchToLines } from '../sink/fanout/influx-lines.ts';

const MAX_ROUNDS = 3;
/**
 * Timed requests per client in the float relay: 8 × 1,250 × 1,000 = 10M samples, about
 * 11 s a round. VictoriaMetrics' /metrics moves about once a second (a write shows up
 * 0.2–1 s later), so "delivered" is known to a second at best: over sink-ingest's 2M
 * samples (3 s) that second was a third of the round and pulled both relays to the same
 * count of ticks; over 11 s it is under a tenth, and both relays are past their warm-up.
 */
const RELAY_TIMED_PER_CLIENT = 1250;
const ROUNDS_BUDGET_MS = 150_000;
const DELIVERY_TIMEOUT_MS = 120_000;
const POLL_MS = 20;
/** Timed requests per client into InfluxDB: 8 × 50 × 1,000 = 400k samples, about 12 s a round. */
const INFLUX_TIMED_PER_CLIENT = 50;

interface Measured {
  samplesPerSecond: number;
  /** From the first timed send to everything delivered. */
  seconds: number;
  /** From the first timed send to the last 2xx answer of the relay. */
  acceptSeconds: number;
  relayCpuSeconds: number;
  vmCpuSeconds: number;
  delivered: number;
  sent: number;
  note: string;
}

/** Rows VictoriaMetrics inserted, over every protocol type. */
async function vmRows(vm: Service): Promise<number> {
  return metricSum(await scrape(vm.url), 'vm_rows_inserted_total') ?? 0;
}

async function waitForRows(vm: Service, expected: number, what: string): Promise<number> {
  const deadline = performance.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const rows = await vmRows(vm);
    if (rows > expected) throw new Error(`${what}: VictoriaMetrics inserted ${fmt(rows)} rows, more than the ${fmt(expected)} samples sent (duplicates)`);
    if (rows === expected) return rows;
    if (performance.now() > deadline) {
      throw new Error(`${what}: VictoriaMetrics inserted ${fmt(rows)} of the ${fmt(expected)} samples sent within ${DELIVERY_TIMEOUT_MS / 1000} s: lost ${fmt(expected - rows)}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function sinkQueueEmpty(sink: Service): Promise<{ queued: number; dropped: number; failed: number }> {
  const m = await scrape(sink.url);
  return {
    queued: metricSum(m, 'sink_destination_queue_records') ?? NaN,
    dropped: metricSum(m, 'sink_destination_samples_dropped_total') ?? NaN,
    failed: metricSum(m, 'sink_destination_samples_failed_total') ?? NaN,
  };
}

export async function measureRelay(relayName: string, startRelay: (vmWriteUrl: string) => Promise<Service>, clients: Buffer[][]): Promise<Measured> {
  const vm = await startVictoriaMetrics();
  let relay: Service | null = null;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    relay = await startRelay(vm.writeUrl);
    const failures = new Failures();
    const warmupSamples = CONCURRENCY * WARMUP_PER_CLIENT * SERIES_PER_REQUEST;
    const timedSamples = CONCURRENCY * RELAY_TIMED_PER_CLIENT * SERIES_PER_REQUEST;
    await sendAll(agent, relay.writeUrl, clients.map((b) => b.slice(0, WARMUP_PER_CLIENT)), failures);
    await waitForRows(vm, warmupSamples, `${relayName} warm-up`);

    const relayCpu0 = processCpuSeconds(relay.pid);
    const vmCpu0 = processCpuSeconds(vm.pid);
    const t0 = performance.now();
    await sendAll(agent, relay.writeUrl, clients.map((b) => b.slice(WARMUP_PER_CLIENT)), failures);
    const acceptSeconds = (performance.now() - t0) / 1000;
    if (failures.count > 0) throw new Error(`${relayName}: ${failures.count} requests were not accepted; the first: ${failures.first}`);
    const delivered = await waitForRows(vm, warmupSamples + timedSamples, relayName);
    const seconds = (performance.now() - t0) / 1000;
    const relayCpuSeconds = processCpuSeconds(relay.pid) - relayCpu0;
    const vmCpuSeconds = processCpuSeconds(vm.pid) - vmCpu0;

    let note = '';
    if (relayName.startsWith('sink')) {
      // The rows are in; the sink must also have acked them and dropped nothing.
      let q = await sinkQueueEmpty(relay);
      const deadline = performance.now() + 10_000;
      while (q.queued !== 0 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        q = await sinkQueueEmpty(relay);
      }
      if (q.queued !== 0 || q.dropped !== 0 || q.failed !== 0) {
        throw new Error(`sink: after delivery sink_destination_queue_records ${q.queued}, samples_dropped_total ${q.dropped}, samples_failed_total ${q.failed} (expected 0, 0, 0)`);
      }
      note = 'queue_records 0, dropped 0';
    }
    return {
      samplesPerSecond: timedSamples / seconds,
      seconds,
      acceptSeconds,
      relayCpuSeconds,
      vmCpuSeconds,
      delivered: delivered - warmupSamples,
      sent: timedSamples,
      note,
    };
  } finally {
    agent.destroy();
    await relay?.stop();
    await vm.stop();
  }
}

/** The float-only relay: the sink against vmagent, each into a fresh VictoriaMetrics. */
export async function benchFloatRelay(): Promise<void> {
  const benchStart = performance.now();
  console.log('\n-- float-only (trend stats) relay into VictoriaMetrics, the sink against vmagent');
  const startMs = Date.now();
  const { clients, compressedBytes, rawBytes } = makeThroughputBodies(startMs, RELAY_TIMED_PER_CLIENT);
  const requests = CONCURRENCY * (WARMUP_PER_CLIENT + RELAY_TIMED_PER_CLIENT);
  const timedSamples = CONCURRENCY * RELAY_TIMED_PER_CLIENT * SERIES_PER_REQUEST;
  console.log(
    `${requests} k6-shaped remote-write 1.0 requests (${(compressedBytes / requests / 1024).toFixed(1)} KiB snappy, ` +
      `${(rawBytes / requests / 1024).toFixed(1)} KiB protobuf each), ${CONCURRENCY} keep-alive clients, ` +
      `${WARMUP_PER_CLIENT} untimed + ${RELAY_TIMED_PER_CLIENT} timed requests each: ${fmt(timedSamples)} timed samples per relay`,
  );
  console.log('sink: --prometheus-url <vm>/api/v1/write, in-memory spool (no --spool-dir), --grade-interval 1h, --max-in-flight at its default (4); vmagent: -remoteWrite.url=<vm>/api/v1/write, defaults');

  const baseline = baselineSinkServer();
  const relays: [string, (vmWriteUrl: string) => Promise<Service>][] = [
    ['sink', (url) => startSinkProcess({ args: ['--prometheus-url', url, '--grade-interval', '1h'] })],
    ...(baseline ? [['sink (baseline)', (url: string) => startSinkProcess({ args: ['--prometheus-url', url, '--grade-interval', '1h'], server: baseline })] as [string, (vmWriteUrl: string) => Promise<Service>]] : []),
    ['vmagent', (url) => startVmagent(url)],
  ];
  const results = new Map<string, Measured[]>(relays.map(([name]) => [name, []]));
  let rounds = 0;
  while (rounds < MAX_ROUNDS && (rounds === 0 || performance.now() - benchStart < ROUNDS_BUDGET_MS)) {
    for (const [name, start] of relays) results.get(name)!.push(await measureRelay(name, start, clients));
    rounds++;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const rate = (name: string) => median(results.get(name)!.map((m) => m.samplesPerSecond));
  console.log(
    `\nsamples/s from the first timed send to everything delivered into a fresh VictoriaMetrics, median of ${rounds} alternating ` +
      `round${rounds === 1 ? '' : 's'} [each round]; cores = user+system CPU over that time, on ${availableParallelism()} cores:`,
  );
  for (const [name] of relays) {
    const ms = results.get(name)!;
    const m = ms.find((x) => x.samplesPerSecond === rate(name))!;
    console.log(
      `  ${name} relay ${fmt(rate(name))} samples/s   [${ms.map((x) => fmt(x.samplesPerSecond)).join(', ')}]   ` +
        `(all accepted after ${m.acceptSeconds.toFixed(2)} s, delivered after ${m.seconds.toFixed(2)} s; ` +
        `relay ${(m.relayCpuSeconds / m.seconds).toFixed(2)} cores = ${((m.relayCpuSeconds / timedSamples) * 1e6).toFixed(2)} µs CPU/sample, ` +
        `victoria-metrics ${(m.vmCpuSeconds / m.seconds).toFixed(2)} cores${m.note ? `; ${m.note}` : ''})`,
    );
  }
  const lost = [...results.values()].flat().reduce((n, m) => n + (m.sent - m.delivered), 0);
  console.log(`  ratio ${(rate('sink') / rate('vmagent')).toFixed(2)} sink/vmagent (goal ≥ 1.0)${baseline ? `   sink / sink (baseline) = ${(rate('sink') / rate('sink (baseline)')).toFixed(2)}` : ''}`);
  console.log(`  lost: ${lost} (VictoriaMetrics row counts equal the samples sent, every round, both relays)`);
  console.log(`(bench took ${((performance.now() - benchStart) / 1000).toFixed(0)} s)`);
}

const PROM_DELIVERY_TIMEOUT_MS = 180_000;

async function promAppended(prom: Service): Promise<number> {
  return metricSum(await scrape(prom.url), 'prometheus_tsdb_head_samples_appended_total') ?? 0;
}

/**
 * The native-histogram relay: k6's recorded pushes (native-ingest.ts) through the sink
 * into a fresh Prometheus 2.42, timed until Prometheus has appended every sample and
 * histogram sent, beside the same bodies written to Prometheus directly in the same
 * run. Prometheus is the slower of the two, so the relay can at best match it.
 */
export async function benchNativeRelay(w: NativeWorkload): Promise<void> {
  console.log(`\n-- native-histogram relay into Prometheus 2.42: ${describeNative(w)}`);
  console.log('sink: --prometheus-url <prometheus>/api/v1/write, in-memory spool, --grade-interval 1h; direct: the same bodies to the same kind of fresh Prometheus');
  const warmup = w.totalSamples - w.timedSamples;
  const baseline = baselineSinkServer();
  const rounds: { direct: number; relay: number; relayCpu: number; baseline: number; baselineCpu: number }[] = [];
  const started = performance.now();
  for (let round = 0; round < MAX_ROUNDS && (round === 0 || performance.now() - started < ROUNDS_BUDGET_MS); round++) {
    const direct = await withService(() => startPrometheus(), async (prom) => {
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const failures = new Failures();
      try {
        await sendAll(agent, prom.writeUrl, w.clients.map((b) => b.slice(0, NATIVE_WARMUP_PER_CLIENT)), failures);
        const t0 = performance.now();
        await sendAll(agent, prom.writeUrl, w.clients.map((b) => b.slice(NATIVE_WARMUP_PER_CLIENT)), failures);
        if (failures.count > 0) throw new Error(`prometheus: ${failures.count} requests refused; the first: ${failures.first}`);
        return w.timedSamples / ((performance.now() - t0) / 1000);
      } finally {
        agent.destroy();
      }
    });
    const relayed = await relayNative(w, warmup);
    const baselined = baseline ? await relayNative(w, warmup, baseline) : null;
    rounds.push({ direct, relay: relayed.rate, relayCpu: relayed.cpu, baseline: baselined?.rate ?? NaN, baselineCpu: baselined?.cpu ?? NaN });
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const direct = med(rounds.map((r) => r.direct));
  const relay = med(rounds.map((r) => r.relay));
  console.log(`samples/s, median of ${rounds.length} alternating rounds [each round], on ${availableParallelism()} cores:`);
  console.log(`  prometheus direct   ${fmt(direct).padStart(10)} samples/s   [${rounds.map((r) => fmt(r.direct)).join(', ')}]`);
  const relayLine = (name: string, rate: (r: (typeof rounds)[number]) => number, cpu: (r: (typeof rounds)[number]) => number) =>
    console.log(
      `  ${name.padEnd(19)} ${fmt(med(rounds.map(rate))).padStart(10)} samples/s   [${rounds.map((r) => fmt(rate(r))).join(', ')}]   ` +
        `(from the first timed send to everything appended by Prometheus; sink ${med(rounds.map(cpu)).toFixed(2)} µs CPU/sample; nothing dropped or failed)`,
    );
  relayLine('sink → prometheus', (r) => r.relay, (r) => r.relayCpu);
  if (baseline) relayLine('baseline → prom.', (r) => r.baseline, (r) => r.baselineCpu);
  console.log(
    `  relay / direct = ${(relay / direct).toFixed(2)} (Prometheus is the bottleneck of both)` +
      (baseline ? `   sink / sink (baseline) = ${(relay / med(rounds.map((r) => r.baseline))).toFixed(2)}` : ''),
  );
}

/** One round of the native relay through a fresh sink (this build, or `server`) into a fresh Prometheus. */
function relayNative(w: NativeWorkload, warmup: number, server?: string): Promise<{ rate: number; cpu: number }> {
  return withService(() => startPrometheus(), async (prom) => {
    const sink = await startSinkProcess({ args: ['--prometheus-url', prom.writeUrl, '--grade-interval', '1h'], server });
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const failures = new Failures();
    try {
      await sendAll(agent, sink.writeUrl, w.clients.map((b) => b.slice(0, NATIVE_WARMUP_PER_CLIENT)), failures);
      const deadline = performance.now() + PROM_DELIVERY_TIMEOUT_MS;
      while ((await promAppended(prom)) < warmup && performance.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
      const cpu0 = processCpuSeconds(sink.pid);
      const t0 = performance.now();
      await sendAll(agent, sink.writeUrl, w.clients.map((b) => b.slice(NATIVE_WARMUP_PER_CLIENT)), failures);
      if (failures.count > 0) throw new Error(`sink: ${failures.count} requests refused; the first: ${failures.first}`);
      let appended = await promAppended(prom);
      while (appended < w.totalSamples && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        appended = await promAppended(prom);
      }
      const seconds = (performance.now() - t0) / 1000;
      const cpu = processCpuSeconds(sink.pid) - cpu0;
      if (appended !== w.totalSamples) throw new Error(`sink relay: Prometheus appended ${fmt(appended)} of the ${fmt(w.totalSamples)} samples and histograms sent`);
      const q = await sinkQueueEmpty(sink);
      if (q.dropped !== 0 || q.failed !== 0) throw new Error(`sink relay: ${q.dropped} samples dropped, ${q.failed} failed`);
      return { rate: w.timedSamples / seconds, cpu: (cpu / w.timedSamples) * 1e6 };
    } finally {
      agent.destroy();
      await sink.stop();
    }
  });
}

/** Points InfluxDB has written since it started (every database). */
async function influxPoints(influx: InfluxDB): Promise<number> {
  const vars = (await (await fetch(`${influx.url}/debug/vars`, { signal: AbortSignal.timeout(10_000) })).json()) as Record<string, { name?: string; values?: Record<string, number> }>;
  let n = 0;
  for (const entry of Object.values(vars)) if (entry?.name === 'httpd') n += entry.values?.pointsWrittenOK ?? 0;
  return n;
}

async function waitForPoints(influx: InfluxDB, expected: number, what: string): Promise<void> {
  const deadline = performance.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const points = await influxPoints(influx);
    if (points > expected) throw new Error(`${what}: InfluxDB wrote ${fmt(points)} points, more than the ${fmt(expected)} samples sent`);
    if (points === expected) return;
    if (performance.now() > deadline) throw new Error(`${what}: InfluxDB wrote ${fmt(points)} of the ${fmt(expected)} samples sent within ${DELIVERY_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Each client's line-protocol bodies, one after the other (8 clients side by side). */
async function writeLines(agent: Agent, influx: InfluxDB, clients: string[][]): Promise<void> {
  const url = new URL(`${influx.url}/write?db=k6&precision=ms`);
  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ agent, hostname: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`InfluxDB answered ${res.statusCode}: ${text.slice(0, 300)}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(clients.map(async (bodies) => {
    for (const body of bodies) await post(body);
  }));
}

/** The float relay into InfluxDB: the sink against writing the same lines to InfluxDB directly. */
export async function benchInfluxRelay(): Promise<void> {
  console.log('\n-- float-only relay into InfluxDB 1.6 as line protocol, the sink against the same lines written directly');
  const { clients } = makeThroughputBodies(Date.now(), INFLUX_TIMED_PER_CLIENT);
  const decoder = new RemoteWriteDecoder();
  const lines = clients.map((bodies) => bodies.map((b) => batchToLines(decoder.decodeSnappy(b, 1)).lines + '\n'));
  const timedPerClient = clients[0]!.length - WARMUP_PER_CLIENT;
  const warmup = CONCURRENCY * WARMUP_PER_CLIENT * SERIES_PER_REQUEST;
  const timed = CONCURRENCY * timedPerClient * SERIES_PER_REQUEST;
  console.log(`${fmt(timed)} timed samples (after ${fmt(warmup)} untimed) by ${CONCURRENCY} keep-alive clients; sink: --influx-url <influxdb> --influx-db k6, in-memory spool, --grade-interval 1h`);
  const rounds: { direct: number; relay: number; relayCpu: number }[] = [];
  const started = performance.now();
  for (let round = 0; round < MAX_ROUNDS && (round === 0 || performance.now() - started < ROUNDS_BUDGET_MS); round++) {
    const direct = await withInflux(async (influx) => {
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      try {
        await writeLines(agent, influx, lines.map((b) => b.slice(0, WARMUP_PER_CLIENT)));
        await waitForPoints(influx, warmup, 'direct warm-up');
        const t0 = performance.now();
        await writeLines(agent, influx, lines.map((b) => b.slice(WARMUP_PER_CLIENT)));
        await waitForPoints(influx, warmup + timed, 'direct');
        return timed / ((performance.now() - t0) / 1000);
      } finally {
        agent.destroy();
      }
    });
    const relayed = await withInflux(async (influx) => {
      const sink = await startSinkProcess({ args: ['--influx-url', influx.url, '--influx-db', 'k6', '--grade-interval', '1h'] });
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const failures = new Failures();
      try {
        await sendAll(agent, sink.writeUrl, clients.map((b) => b.slice(0, WARMUP_PER_CLIENT)), failures);
        await waitForPoints(influx, warmup, 'sink warm-up');
        const cpu0 = processCpuSeconds(sink.pid);
        const t0 = performance.now();
        await sendAll(agent, sink.writeUrl, clients.map((b) => b.slice(WARMUP_PER_CLIENT)), failures);
        if (failures.count > 0) throw new Error(`sink: ${failures.count} requests refused; the first: ${failures.first}`);
        await waitForPoints(influx, warmup + timed, 'sink relay');
        const seconds = (performance.now() - t0) / 1000;
        const cpu = processCpuSeconds(sink.pid) - cpu0;
        const q = await sinkQueueEmpty(sink);
        if (q.dropped !== 0 || q.failed !== 0) throw new Error(`sink relay: ${q.dropped} samples dropped, ${q.failed} failed`);
        return { rate: timed / seconds, cpu: (cpu / timed) * 1e6 };
      } finally {
        agent.destroy();
        await sink.stop();
      }
    });
    rounds.push({ direct, relay: relayed.rate, relayCpu: relayed.cpu });
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const direct = med(rounds.map((r) => r.direct));
  const relay = med(rounds.map((r) => r.relay));
  console.log(`samples/s, median of ${rounds.length} alternating rounds [each round], on ${availableParallelism()} cores:`);
  console.log(`  influxdb direct     ${fmt(direct).padStart(10)} samples/s   [${rounds.map((r) => fmt(r.direct)).join(', ')}]`);
  console.log(
    `  sink → influxdb     ${fmt(relay).padStart(10)} samples/s   [${rounds.map((r) => fmt(r.relay)).join(', ')}]   ` +
      `(from the first timed send to every point written; sink ${med(rounds.map((r) => r.relayCpu)).toFixed(2)} µs CPU/sample; nothing dropped or failed)`,
  );
  console.log(`  relay / direct = ${(relay / direct).toFixed(2)}`);
}

async function withInflux<T>(use: (influx: InfluxDB) => Promise<T>): Promise<T> {
  const influx = await startInfluxDB();
  try {
    await influx.query('CREATE DATABASE k6');
    return await use(influx);
  } finally {
    await influx.stop();
  }
}

export async function benchRelay(): Promise<void> {
  const started = performance.now();
  await benchNativeRelay(nativeWorkload());
  await benchFloatRelay();
  await benchInfluxRelay();
  console.log(`(bench took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
