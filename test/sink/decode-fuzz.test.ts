import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { DecodedBatch, type RemoteWriteVersion } from '../../sink/model/batch.ts';
import { isDecodeError, type DecodeErrorReason } from '../../sink/codec/decode-errors.ts';
import { checkSnappyLength, snappyCompress, snappyUncompress } from '../../sink/codec/snappy.ts';
import { MUTATION_KINDS, mulberry32, mutate, type MutationKind } from './fixtures/mutations.ts';
import { encodeV1, encodeV1Noisy, encodeV1Unpacked, encodeV2, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';
import { k6SeriesLabels } from '../../fixtures/k6-payloads.ts';

const MAX_BYTES = 1 << 20;

function seedSeries(): TimeSeriesObj[] {
  const series: TimeSeriesObj[] = [];
  for (let i = 0; i < 12; i++) series.push({ labels: k6SeriesLabels(i * 37), samples: [{ value: i * 1.5, timestamp: 1_732_870_000_000 + i }] });
  series.push({
    labels: [{ name: '__name__', value: 'k6_http_req_duration' }, { name: 'testid', value: 'fuzz' }],
    histograms: [
      {
        count_int: 20, sum: 12.5, schema: 2, zero_threshold: 1e-9, zero_count_int: 1,
        negative_spans: [{ offset: -3, length: 2 }], negative_deltas: [1, 2],
        positive_spans: [{ offset: 1, length: 2 }, { offset: 4, length: 1 }], positive_deltas: [3, -1, 5],
        reset_hint: 1, timestamp: 1_732_870_000_500,
      },
      {
        count_float: 7.5, sum: 2, schema: 0, zero_count_float: 0.5,
        positive_spans: [{ offset: 0, length: 3 }], positive_counts: [1, 2, 4],
        timestamp: 1_732_870_000_600,
      },
    ],
  });
  return series;
}

/** Valid bodies to mutate: [version, uncompressed protobuf]. */
function corpus(): [RemoteWriteVersion, Uint8Array][] {
  const series = seedSeries();
  const symbols = [''];
  const ref = (s: string) => {
    let i = symbols.indexOf(s);
    if (i < 0) i = symbols.push(s) - 1;
    return i;
  };
  const v2 = {
    symbols,
    timeseries: series.map((ts) => ({
      labels_refs: ts.labels.flatMap((l) => [ref(l.name), ref(l.value)]),
      samples: ts.samples ?? [],
      histograms: ts.histograms ?? [],
      created_timestamp: 1_732_869_000_000,
    })),
  };
  return [
    [1, encodeV1({ timeseries: series })],
    [1, encodeV1Unpacked({ timeseries: series })],
    [1, encodeV1Noisy({ timeseries: series })],
    [2, encodeV2(v2)],
  ];
}

type Outcome = 'ok' | DecodeErrorReason;

/** The handler's full path: preamble check, then decompress + decode + validate. */
function fullPath(decoder: RemoteWriteDecoder, batch: DecodedBatch, body: Uint8Array, version: RemoteWriteVersion): Outcome {
  let stage = 'preamble';
  try {
    checkSnappyLength(body, MAX_BYTES);
    stage = 'decode';
    decoder.decodeSnappy(body, version, batch);
  } catch (err) {
    if (isDecodeError(err)) {
      // Nothing partial: a failed decode leaves the batch empty.
      if (stage === 'decode') expect(batch.seriesCount).toBe(0);
      return err.reason;
    }
    throw new Error(`a mutated body caused a non-DecodeError: ${(err as Error)?.stack ?? String(err)}`);
  }
  // A success must be a consistent batch.
  expect(batch.sampleStart[batch.seriesCount]).toBe(batch.sampleCount);
  expect(batch.histogramStart[batch.seriesCount]).toBe(batch.histogramCount);
  for (let i = 0; i < batch.seriesCount; i++) {
    expect(batch.sampleStart[i + 1]).toBeGreaterThanOrEqual(batch.sampleStart[i]);
    expect(typeof batch.series[i].id).toBe('string');
  }
  return 'ok';
}

function gcFunction(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

describe('decoding mutated bodies', () => {
  it('ends every one of thousands of seeded mutations in success or a DecodeError, never another exception', () => {
    const rnd = mulberry32(0x5eed);
    const decoder = new RemoteWriteDecoder({ maxUncompressedBytes: MAX_BYTES });
    const batch = new DecodedBatch();
    const outcomes = new Map<string, number>();
    const byKind = new Map<MutationKind, Set<Outcome>>();
    let runs = 0;
    for (const [version, raw] of corpus()) {
      const compressed = snappyCompress(raw);
      expect(fullPath(decoder, batch, compressed, version)).toBe('ok');
      for (const kind of MUTATION_KINDS) {
        for (let i = 0; i < 60; i++) {
          // Mutate the compressed body (mostly exercises snappy) ...
          const a = fullPath(decoder, batch, mutate(compressed, kind, rnd), version);
          // ... and the protobuf before compressing (exercises the protobuf decoder and validation).
          const b = fullPath(decoder, batch, snappyCompress(mutate(raw, kind, rnd)), version);
          for (const o of [a, b]) {
            outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
            if (!byKind.has(kind)) byKind.set(kind, new Set());
            byKind.get(kind)!.add(o);
          }
          runs += 2;
        }
      }
    }
    expect(runs).toBeGreaterThanOrEqual(5000);
    // The corpus reaches the snappy checks, the protobuf checks and label validation.
    for (const reason of ['ok', 'bad_snappy', 'bad_protobuf', 'too_large'] as const) expect(outcomes.get(reason) ?? 0).toBeGreaterThan(0);
    expect([...outcomes.keys()].filter((k) => !['ok', 'bad_snappy', 'bad_protobuf', 'too_large'].includes(k)).length).toBeGreaterThan(0);
  });

  it('rejects structured garbage in the protobuf layer, whatever the snappy layer says', () => {
    const rnd = mulberry32(99);
    const decoder = new RemoteWriteDecoder();
    const batch = new DecodedBatch();
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rnd() * 64);
      // Bytes biased towards tags and lengths of the known fields.
      const bytes = Uint8Array.from({ length: len }, () => (rnd() < 0.5 ? [0x0a, 0x12, 0x22, 0x2a, 0x08, 0x10, 0x09, 0x0b, 0x0c, 0x80, 0xff, 0x01, 0x00][Math.floor(rnd() * 13)] : Math.floor(rnd() * 256)));
      for (const version of [1, 2] as const) fullPath(decoder, batch, snappyCompress(bytes), version);
    }
  });

  it('does not grow the heap while decoding mutated bodies over and over', () => {
    const gc = gcFunction();
    const rnd = mulberry32(1234);
    const decoder = new RemoteWriteDecoder({ maxUncompressedBytes: MAX_BYTES, seriesCacheSize: 1000 });
    const batch = new DecodedBatch();
    const bodies = corpus().flatMap(([version, raw]) =>
      MUTATION_KINDS.flatMap((kind) => Array.from({ length: 10 }, () => [version, snappyCompress(mutate(raw, kind, rnd))] as const)),
    );
    const pass = () => {
      for (const [version, body] of bodies) fullPath(decoder, batch, body, version);
    };
    pass();
    gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20; i++) pass();
    gc?.();
    const after = process.memoryUsage().heapUsed;
    if (gc) expect(after - before).toBeLessThan(8 * 1024 * 1024);
  });

  it('never allocates more than the body limit, whatever the preamble claims', () => {
    // Preambles announce up to 4 GiB; the limit and the expansion bound stop them before allocation.
    for (const claimed of [MAX_BYTES + 1, 2 ** 31, 2 ** 32 - 1]) {
      const body = Uint8Array.from([...Buffer.from(varintBytes(claimed)), 0x00, 0x61]);
      expect(() => snappyUncompress(body, MAX_BYTES)).toThrow(/more than the limit/);
      expect(() => snappyUncompress(body, 2 ** 32)).toThrow(/compressed bytes can hold/);
    }
  });
});

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}
