// A destination's pipeline with several requests in flight, against a loopback server
// that decodes what it gets, answers slowly, and records which requests overlapped.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { buildApp } from '../../sink/app.ts';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { snappyCompress } from '../../sink/codec/snappy.ts';
import { encodeV1 } from '../../fixtures/remote-write-proto.ts';
import { T0, series } from './fixtures/series.ts';
import { drained } from '../helpers/stores.ts';

interface Received {
  start: number;
  end: number;
  /** "series@timestamp" of every sample. */
  samples: string[];
  series: Set<string>;
}

/** A remote-write receiver that takes `delayMs` per request and remembers what overlapped. */
async function slowReceiver(delayMs: number) {
  const decoder = new RemoteWriteDecoder();
  const received: Received[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let clock = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const start = ++clock;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const batch = decoder.decodeSnappy(Buffer.concat(chunks), 1);
      const entry: Received = { start, end: Infinity, samples: [], series: new Set() };
      for (let i = 0; i < batch.seriesCount; i++) {
        const id = batch.seriesId(i);
        entry.series.add(id);
        for (let s = batch.sampleStart[i]!; s < batch.sampleStart[i + 1]!; s++) entry.samples.push(`${id}@${batch.sampleTimestamps[s]}`);
      }
      received.push(entry);
      setTimeout(() => {
        inFlight--;
        entry.end = ++clock;
        res.writeHead(204).end();
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/api/v1/write`,
    received,
    maxInFlight: () => maxInFlight,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Push `n` of k6 instance `instance`: `count` series of its own, one sample each. */
function push(instance: number, n: number, count: number): Buffer {
  return snappyCompress(
    encodeV1({ timeseries: Array.from({ length: count }, (_, i) => series('k6_http_reqs_total', { testid: 'ordered', instance: String(instance), url: `/p${i}` }, [[T0 + n * 1000, n]])) }),
  );
}

/** Each k6 instance pushes in order, as k6 does; the instances at the same time. */
async function pushAll(app: ReturnType<typeof buildApp>, instances: number, pushes: number, perPush: number): Promise<void> {
  await Promise.all(
    Array.from({ length: instances }, async (_, instance) => {
      for (let n = 1; n <= pushes; n++) {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/write',
          headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
          payload: push(instance, n, perPush),
        });
        expect(res.statusCode).toBe(204);
      }
    }),
  );
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A receiver taking delayMs per request, and a sink forwarding to it with maxInFlight. */
async function sinkWithReceiver(delayMs: number, maxInFlight: number) {
  const receiver = await slowReceiver(delayMs);
  cleanup.push(receiver.close);
  const app = buildApp({ config: { prometheusUrls: [receiver.url], gradeIntervalMs: 3_600_000, maxInFlight } });
  await app.ready();
  cleanup.push(() => app.close());
  return { receiver, app };
}

describe('a pipeline with several requests in flight', () => {
  it('keeps requests that share a series apart, overlaps the others, and delivers every sample once', async () => {
    const { receiver, app } = await sinkWithReceiver(40, 4);
    // ~0.5 MB of protobuf per push: a request (2 MiB at most) holds a few of them.
    const instances = 4;
    const pushes = 8;
    const perPush = 1500;
    await pushAll(app, instances, pushes, perPush);
    await drained(app, 30_000);

    const all = receiver.received.flatMap((r) => r.samples);
    expect(all.length).toBe(instances * pushes * perPush);
    expect(new Set(all).size).toBe(all.length);
    // No two requests that were in flight at the same time carry the same series...
    const { received } = receiver;
    for (let i = 0; i < received.length; i++) {
      for (let j = i + 1; j < received.length; j++) {
        const [a, b] = [received[i]!, received[j]!];
        if (a.start < b.end && b.start < a.end) for (const id of a.series) expect(b.series.has(id), `${id} in two requests at once`).toBe(false);
      }
    }
    // ...so each series arrives in time order.
    const last = new Map<string, number>();
    for (const sample of received.sort((a, b) => a.start - b.start).flatMap((r) => r.samples)) {
      const [id, t] = sample.split('@') as [string, string];
      expect(Number(t)).toBeGreaterThan(last.get(id) ?? -Infinity);
      last.set(id, Number(t));
    }
    // Four instances' pushes share no series: they did overlap.
    expect(receiver.maxInFlight()).toBeGreaterThan(1);
    expect(receiver.maxInFlight()).toBeLessThanOrEqual(4);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    // Named after what it is (kind, host and port, a hash of its URL), not its place among the flags.
    expect(metrics).toMatch(/^sink_destination_requests_in_flight\{destination="prometheus-127\.0\.0\.1-\d+-[0-9a-f]{6}"\} 0$/m);
  });

  it('sends one request at a time with --max-in-flight 1', async () => {
    const { receiver, app } = await sinkWithReceiver(20, 1);
    await pushAll(app, 3, 6, 20);
    await drained(app, 30_000);
    expect(receiver.received.flatMap((r) => r.samples).length).toBe(3 * 6 * 20);
    expect(receiver.maxInFlight()).toBe(1);
  });
});
