// The decode worker's native fast path (sink/rw1-fast.c) against an independent oracle:
// a plain RemoteWriteDecoder on the event loop, without worker or native code, decoding
// the same bodies. Whatever path the worker takes, the batch (labels, sample bits,
// timestamps, series boundaries) or the error must be the oracle's. Each test also
// checks which decoder answered, so a fast path that never runs fails here.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DecodePool } from '../../sink/decode-pool.ts';
import { buildApp } from '../../sink/app.ts';
import { DecodedBatch, RemoteWriteDecoder, type RemoteWriteVersion } from '../../sink/decode.ts';
import { isDecodeError } from '../../sink/decode-errors.ts';
import { buildNativeDecoder, loadNativeDecoder, FALLBACK, FALLBACK_REMEMBER } from '../../sink/native-decoder.ts';
import { snappyCompress } from '../../sink/snappy.ts';
import { MUTATION_KINDS, mulberry32, mutate } from './fixtures/mutations.ts';
import { encodeV1, encodeV1Noisy, encodeV2, type TimeSeriesObj } from './fixtures/remote-write-proto.ts';
import { STALE, T0, series, withStaleMarkers } from './fixtures/series.ts';
import { k6SeriesLabels } from '../../bench/k6-payloads.ts';

const LIMITS = { maxLabels: 64, maxLabelValueBytes: 2048, maxUncompressedBytes: 1 << 20 };

let pools: DecodePool[] = [];
afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
});

async function nativePool(seriesCacheSize?: number): Promise<DecodePool> {
  const pool = await DecodePool.start({ ...LIMITS, seriesCacheSize }, (line) => {
    throw new Error(line);
  }, 'on');
  pools.push(pool!);
  return pool!;
}

type Outcome =
  | { ok: true; series: string[]; sampleStart: number[]; valueBits: string; timestamps: number[]; histograms: number; created: number[]; protobufByteLength: number }
  | { ok: false; reason: string; message: string };

function outcomeOf(batch: DecodedBatch): Outcome {
  const s = batch.seriesCount;
  const n = batch.sampleCount;
  const values = batch.sampleValues.subarray(0, n);
  return {
    ok: true,
    series: batch.series.slice(0, s).map((l) => `${l.metricName}{${l.names.map((name, k) => `${name}=${JSON.stringify(l.values[k])}`).join(',')}}`),
    sampleStart: [...batch.sampleStart.subarray(0, s + 1)],
    valueBits: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('hex'),
    timestamps: [...batch.sampleTimestamps.subarray(0, n)],
    histograms: batch.histogramCount,
    created: [...batch.createdTimestamps.subarray(0, s)],
    protobufByteLength: batch.protobufByteLength,
  };
}

function failure(err: unknown): Outcome {
  if (!isDecodeError(err)) throw err;
  return { ok: false, reason: err.reason, message: err.message };
}

const oracle = () => new RemoteWriteDecoder(LIMITS);

function expected(decoder: RemoteWriteDecoder, body: Uint8Array, version: RemoteWriteVersion = 1): Outcome {
  try {
    return outcomeOf(decoder.decodeSnappy(body, version, new DecodedBatch()));
  } catch (err) {
    return failure(err);
  }
}

async function actual(pool: DecodePool, body: Uint8Array, version: RemoteWriteVersion = 1): Promise<{ outcome: Outcome; decodedBy?: string }> {
  try {
    const batch = await pool.decode(Buffer.from(body), version);
    return { outcome: outcomeOf(batch), decodedBy: batch.decodedBy };
  } catch (err) {
    return { outcome: failure(err) };
  }
}

/** k6-shaped series `from..from+count`, one sample each, values and timestamps from `round`. */
function k6Series(from: number, count: number, round: number): TimeSeriesObj[] {
  return Array.from({ length: count }, (_, k) => ({
    labels: k6SeriesLabels(from + k),
    samples: [{ value: (from + k) * 0.25 + round, timestamp: T0 + round * 1000 }],
  }));
}
const k6Body = (from: number, count: number, round: number) => snappyCompress(encodeV1({ timeseries: k6Series(from, count, round) }));

describe('the native fast path of the decode worker', () => {
  it('decodes a body whose label sets it has seen natively, with the JavaScript decoder’s exact batch', async () => {
    const pool = await nativePool();
    const reference = oracle();
    const first = await actual(pool, k6Body(0, 200, 0));
    expect(first.decodedBy).toBe('javascript'); // new label sets: validated by the JavaScript decoder
    expect(first.outcome).toEqual(expected(reference, k6Body(0, 200, 0)));
    for (let round = 1; round <= 3; round++) {
      const body = k6Body(0, 200, round);
      const got = await actual(pool, body);
      expect(got.decodedBy).toBe('native');
      expect(got.outcome).toEqual(expected(reference, body));
    }
  });

  it('keeps stale markers, negative and 53-bit timestamps, several samples per series, and series without samples', async () => {
    const pool = await nativePool();
    const reference = oracle();
    const shape = (round: number) =>
      snappyCompress(
        withStaleMarkers(
          encodeV1({
            timeseries: [
              series('k6_http_reqs_total', { testid: 'edge' }, [[T0 + round, 1], [T0 + round + 1, 2], [T0 + round + 2, STALE]]),
              series('k6_vus', { testid: 'edge' }, [[-1 - round, -0], [Number.MAX_SAFE_INTEGER - round, Number.NaN], [-Number.MAX_SAFE_INTEGER + round, Infinity]]),
              series('k6_iterations_total', { testid: 'edge' }, []),
              series('k6_checks_rate', { testid: 'edge', page: 'ünïcode ✓' }, [[0, 0]]),
            ],
          }),
        ),
      );
    await actual(pool, shape(0));
    const got = await actual(pool, shape(1));
    expect(got.decodedBy).toBe('native');
    expect(got.outcome).toEqual(expected(reference, shape(1)));
    const bits = (got.outcome as { valueBits: string }).valueBits;
    expect(bits.slice(32, 48)).toBe('020000000000f07f'); // the third sample: the stale marker's own bits
  });

  it('leaves a new label set, histograms, exemplars, unknown fields and remote write 2.0 to the JavaScript decoder', async () => {
    const pool = await nativePool();
    const reference = oracle();
    const known = k6Series(0, 50, 0);
    await actual(pool, snappyCompress(encodeV1({ timeseries: known })));
    const histogram = { count_int: 3, sum: 1.5, schema: 0, zero_threshold: 0, zero_count_int: 0, positive_spans: [{ offset: 0, length: 1 }], positive_deltas: [3], timestamp: T0 };
    const bodies: [string, Uint8Array, RemoteWriteVersion][] = [
      ['one new label set', snappyCompress(encodeV1({ timeseries: [...k6Series(0, 50, 1), ...k6Series(50, 1, 1)] })), 1],
      ['a histogram', snappyCompress(encodeV1({ timeseries: [...k6Series(0, 49, 2), { ...k6Series(49, 1, 2)[0]!, histograms: [histogram] }] })), 1],
      ['an exemplar', snappyCompress(encodeV1({ timeseries: [{ ...k6Series(0, 1, 3)[0]!, exemplars: [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 1, timestamp: T0 }] }] })), 1],
      ['unknown fields', snappyCompress(encodeV1Noisy({ timeseries: k6Series(0, 50, 4) })), 1],
      ['remote write 2.0', snappyCompress(encodeV2({ symbols: ['', '__name__', 'k6_vus'], timeseries: [{ labels_refs: [1, 2], samples: [{ value: 1, timestamp: T0 }] }] })), 2],
    ];
    for (const [what, body, version] of bodies) {
      const got = await actual(pool, body, version);
      expect({ what, decodedBy: got.decodedBy }).toEqual({ what, decodedBy: 'javascript' });
      expect(got.outcome).toEqual(expected(reference, body, version));
    }
    // The new label set is known natively from now on.
    const again = snappyCompress(encodeV1({ timeseries: [...k6Series(0, 50, 5), ...k6Series(50, 1, 5)] }));
    expect(await actual(pool, again)).toEqual({ outcome: expected(reference, again), decodedBy: 'native' });
  });

  it('answers every mutated body as the JavaScript decoder does: the same batch or the same error', async () => {
    const pool = await nativePool();
    const reference = oracle();
    // 20 samples per series: most protobuf mutations then land in samples, not labels.
    const manySamples = (round: number) =>
      encodeV1({ timeseries: k6Series(0, 40, round).map((ts) => ({ ...ts, samples: Array.from({ length: 20 }, (_, k) => ({ value: k * 0.5 + round, timestamp: T0 + k * 1000 + round })) })) });
    const seed = snappyCompress(manySamples(0));
    await actual(pool, seed);
    const rnd = mulberry32(20261203);
    const by = { native: 0, javascript: 0, refused: 0 };
    for (let i = 0; i < 1500; i++) {
      const kind = MUTATION_KINDS[i % MUTATION_KINDS.length]!;
      // Mutate the protobuf as well as the snappy bytes: most snappy mutations end in bad snappy.
      const body = i % 2 === 0 ? mutate(seed, kind, rnd) : snappyCompress(mutate(manySamples(i), kind, rnd));
      const got = await actual(pool, body);
      const want = expected(reference, body);
      if (JSON.stringify(got.outcome) !== JSON.stringify(want)) {
        expect({ i, kind, ...got }).toEqual({ i, kind, outcome: want, decodedBy: got.decodedBy });
      }
      if (!got.outcome.ok) by.refused++;
      else by[got.decodedBy as 'native' | 'javascript']++;
    }
    // Both paths and refusals were exercised (the seeded mutations give 13, 46 and 1441).
    expect(by.native).toBeGreaterThan(5);
    expect(by.javascript).toBeGreaterThan(20);
    expect(by.refused).toBeGreaterThan(1000);
  });

  it('decodes random sample values and timestamps of known series bit for bit as the JavaScript decoder does', async () => {
    const pool = await nativePool();
    const reference = oracle();
    await actual(pool, k6Body(0, 30, 0));
    const rnd = mulberry32(7);
    const bits = new Uint32Array(2);
    const asDouble = new Float64Array(bits.buffer);
    const randomValue = () => {
      bits[0] = rnd() * 2 ** 32;
      bits[1] = rnd() * 2 ** 32;
      return asDouble[0]!;
    };
    const randomTimestamp = () => [0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER][Math.floor(rnd() * 8)]! + Math.floor((rnd() - 0.5) * 2 ** 20);
    for (let i = 0; i < 200; i++) {
      const timeseries = k6Series(0, 30, 0).map((ts) => ({ ...ts, samples: Array.from({ length: Math.floor(rnd() * 4) }, () => ({ value: randomValue(), timestamp: randomTimestamp() })) }));
      const body = snappyCompress(encodeV1({ timeseries }));
      expect(await actual(pool, body)).toEqual({ outcome: expected(reference, body), decodedBy: 'native' });
    }
  });

  it('forgets the label sets the JavaScript cache drops, so a reused handle never brings back old labels', async () => {
    // A cache of 8 label sets (two generations of 4) over 3 groups of 4, each group twice
    // in a row: the second time is native, and every new group drops an older one.
    const pool = await nativePool(8);
    const reference = oracle();
    let native = 0;
    for (let round = 0; round < 30; round++) {
      const group = Math.floor(round / 2) % 3;
      const body = k6Body(group * 4, 4, round);
      const got = await actual(pool, body);
      expect(got.outcome).toEqual(expected(reference, body));
      if (got.decodedBy === 'native') native++;
    }
    expect(native).toBe(15);
  });
});

describe('the sink with the native decoder', () => {
  it('counts each accepted body under the decoder that decoded it', async () => {
    const app = buildApp({ config: { nativeDecode: 'on' } });
    try {
      const headers = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };
      for (let round = 0; round < 3; round++) {
        const res = await app.inject({ method: 'POST', url: '/api/v1/write', headers, payload: k6Body(0, 20, round) });
        expect(res.statusCode).toBe(204);
      }
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toContain('sink_decoded_bodies_total{decoder="javascript"} 1\n');
      expect(metrics).toContain('sink_decoded_bodies_total{decoder="native"} 2\n');
      expect(metrics).toContain('sink_samples_received_total 60\n');
    } finally {
      await app.close();
    }
  });
});

describe('the native module on its own', () => {
  it('falls back with its body kept for remember() on an unknown label set, and without it on bad snappy', async () => {
    const fast = loadNativeDecoder(await buildNativeDecoder());
    const cache = fast.createCache();
    const counts = new Float64Array(3);
    const body = k6Body(0, 3, 0);
    expect(fast.decode(cache, body, LIMITS.maxUncompressedBytes, counts)).toBe(FALLBACK_REMEMBER);
    expect(fast.remember(cache, Int32Array.from([7, -1, 9]), 3)).toBe(2); // a negative handle is not kept
    expect(fast.size(cache)).toBe(2);
    expect(fast.decode(cache, k6Body(0, 3, 1), LIMITS.maxUncompressedBytes, counts)).toBe(FALLBACK_REMEMBER); // series 1 is unknown
    const twoKnown = snappyCompress(encodeV1({ timeseries: [k6Series(0, 1, 2)[0]!, k6Series(2, 1, 2)[0]!] }));
    const columns = fast.decode(cache, twoKnown, LIMITS.maxUncompressedBytes, counts);
    expect(columns).toBeInstanceOf(ArrayBuffer);
    expect([...counts]).toEqual([2, 2, expect.any(Number)]);
    expect([...new Int32Array(columns as ArrayBuffer, 8 * (2 * 2 + 2), 2)]).toEqual([7, 9]);
    fast.forget(cache, [9]);
    expect(fast.size(cache)).toBe(1);
    expect(fast.decode(cache, twoKnown, LIMITS.maxUncompressedBytes, counts)).toBe(FALLBACK_REMEMBER);
    expect(fast.decode(cache, Buffer.from([0x05, 0x00]), LIMITS.maxUncompressedBytes, counts)).toBe(FALLBACK);
    expect(fast.decode(cache, body, 10, counts)).toBe(FALLBACK); // the preamble announces more than the limit
  });
});

describe('the sink without a C compiler', () => {
  const start = fileURLToPath(new URL('../../sink/start.mjs', import.meta.url));
  const run = (mode: string) =>
    spawnSync(process.execPath, [start, '--port', '0', '--native-decode', mode], {
      env: { ...process.env, CC: '/nonexistent/cc' },
      encoding: 'utf8',
      timeout: 20_000,
      killSignal: 'SIGTERM',
    });

  it('does not start with --native-decode on, and says why in one sentence', () => {
    const result = run('on');
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe('--native-decode on, but the native decoder could not be built: there is no C compiler "/nonexistent/cc" (install gcc, or set CC).');
  });

  it('starts with --native-decode auto and logs that it decodes in JavaScript only', () => {
    const result = spawnSync(process.execPath, ['-e', `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, [${JSON.stringify(start)}, '--port', '0', '--native-decode', 'auto'], { env: { ...process.env, CC: '/nonexistent/cc' } });
      let out = '';
      child.stdout.on('data', (d) => { out += d; if (out.includes('Server listening')) child.kill('SIGTERM'); });
      child.on('exit', () => { process.stdout.write(out); });
    `], { encoding: 'utf8', timeout: 20_000 });
    expect(result.stdout).toContain('decoding in JavaScript only: the native decoder could not be built: there is no C compiler \\"/nonexistent/cc\\" (install gcc, or set CC)');
    expect(result.stdout).toContain('Server listening');
  });
});
