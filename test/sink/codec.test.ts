// The decoder's WebAssembly part (dist/sink/codec.wasm, from sink/codec/wasm/
// codec.as.ts) against independent references: the same decompressed bytes as
// snappy.ts, a refusal exactly where snappy.ts refuses, and MurmurHash3 x64_128 as a
// BigInt implementation of the reference computes it.
import { describe, expect, it } from 'vitest';
import { WASM_MAX_BYTES, WasmCodec } from '../../sink/codec/wasm-codec.ts';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { encodeV1 } from '../../fixtures/remote-write-proto.ts';
import { checkSnappyLength, snappyCompress, snappyElementsStart, snappyUncompress } from '../../sink/codec/snappy.ts';
import { MUTATION_KINDS, mulberry32, mutate } from './fixtures/mutations.ts';
import { K6_NATIVE_FIXTURES } from '../../fixtures/k6-native-replay.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const rnd = mulberry32(11);
const random = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
const recorded = readdirSync(K6_NATIVE_FIXTURES).map((f) => readFileSync(join(K6_NATIVE_FIXTURES, f)));

/** What snappy.ts makes of a body: its bytes, or the error it throws. */
function javascript(body: Uint8Array): Buffer | Error {
  try {
    return snappyUncompress(body, 64 * 1024 * 1024);
  } catch (err) {
    return err as Error;
  }
}

function wasm(codec: WasmCodec, body: Uint8Array): Buffer | null | Error {
  try {
    const length = checkSnappyLength(body, 64 * 1024 * 1024);
    return codec.uncompress(body, snappyElementsStart(body), length);
  } catch (err) {
    return err as Error;
  }
}

describe('the WebAssembly codec', () => {
  it('decompresses real k6 pushes and bodies of every shape to the bytes snappy.ts gives', () => {
    const codec = new WasmCodec();
    const bodies = [...recorded, ...[0, 1, 60, 61, 5000, 70_000].map((n) => snappyCompress(random(n))), snappyCompress(new Uint8Array(100_000).fill(7)), snappyCompress(Uint8Array.from({ length: 9000 }, (_, i) => i % 3))];
    for (const body of bodies) {
      const expected = javascript(body) as Buffer;
      expect(Buffer.compare(wasm(codec, body) as Buffer, expected)).toBe(0);
    }
  });

  it('refuses exactly the mutated bodies snappy.ts refuses, and agrees on the others byte for byte', () => {
    const codec = new WasmCodec();
    const mrnd = mulberry32(99);
    let refused = 0;
    for (let i = 0; i < 1500; i++) {
      const body = mutate(recorded[i % recorded.length]!, MUTATION_KINDS[i % MUTATION_KINDS.length]!, mrnd);
      const js = javascript(body);
      const w = wasm(codec, body);
      if (js instanceof Error) {
        // The preamble's own errors come from the shared check; a corrupt body is null, and snappy.ts says why.
        expect(w === null || w instanceof Error, `mutation ${i}`).toBe(true);
        refused++;
      } else {
        expect(w, `mutation ${i}`).not.toBeNull();
        expect(Buffer.compare(w as Buffer, js), `mutation ${i}`).toBe(0);
      }
    }
    expect(refused).toBeGreaterThan(100);
  });

  it('fingerprints byte ranges with MurmurHash3 x64_128 of its seed, the same in its memory and elsewhere', () => {
    const seed = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const codec = new WasmCodec(seed);
    const body = snappyCompress(random(4096));
    const inMemory = codec.uncompress(body, snappyElementsStart(body), 4096)!;
    const elsewhere = Buffer.from(inMemory);
    const a = new Int32Array(4);
    const b = new Int32Array(4);
    for (let i = 0; i < 2000; i++) {
      const start = Math.floor(rnd() * 4000);
      const end = Math.min(4096, start + (i % 50 === 0 ? 0 : Math.floor(rnd() * 600)));
      codec.fingerprint(inMemory, codec.outputOffset, start, end, a);
      codec.fingerprint(elsewhere, -1, start, end, b);
      expect([...b], `${start}..${end}`).toEqual([...a]);
      expect([...a], `${start}..${end}`).toEqual(murmur3x64x128(elsewhere.subarray(start, end), seed));
      // The fingerprint overwrote the copy area, not the body it reads in place.
      if (i % 100 === 0) expect(Buffer.compare(inMemory, elsewhere)).toBe(0);
    }
  });

  it('gets k6 pushes from the decoder, and leaves bodies that decompress to more than WASM_MAX_BYTES to snappy.ts, so its memory stays small', () => {
    const decoder = new RemoteWriteDecoder({ maxUncompressedBytes: 64 * 1024 * 1024 });
    const batch = decoder.decodeSnappy(recorded[0]!, 1);
    expect(batch.seriesCount).toBeGreaterThan(1000);
    const afterPush = decoder.stats.codecMemoryBytes;
    expect(afterPush).toBeGreaterThan(recorded[0]!.length);
    // 20,000 series of ~500 label bytes each: a body of more than WASM_MAX_BYTES.
    const pad = 'p'.repeat(450);
    const timeseries = Array.from({ length: 20_000 }, (_, i) => ({ labels: [{ name: '__name__', value: 'x' }, { name: 'i', value: `${i}` }, { name: 'pad', value: pad }], samples: [{ value: i, timestamp: 1 }] }));
    const raw = encodeV1({ timeseries });
    expect(raw.length).toBeGreaterThan(WASM_MAX_BYTES);
    const big = decoder.decodeSnappy(snappyCompress(raw), 1);
    expect(big.seriesCount).toBe(20_000);
    expect(big.series[19_999]!.values[1]).toBe('19999');
    expect(decoder.stats.codecMemoryBytes).toBe(afterPush);
  });
});

/**
 * The reference: MurmurHash3_x64_128 (Austin Appleby's MurmurHash3.cpp) with h1 and h2
 * seeded by the seed's two little-endian halves... as codec.as.ts takes them: seed1 =
 * words 0 and 1 (high, low), seed2 = words 2 and 3. Written with BigInt, independently.
 */
function murmur3x64x128(data: Uint8Array, seed: Buffer): number[] {
  const M = (1n << 64n) - 1n;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M;
  const fmix = (k: bigint) => {
    k ^= k >> 33n;
    k = (k * 0xff51afd7ed558ccdn) & M;
    k ^= k >> 33n;
    k = (k * 0xc4ceb9fe1a85ec53n) & M;
    return k ^ (k >> 33n);
  };
  const c1 = 0x87c37b91114253d5n;
  const c2 = 0x4cf5ad432745937fn;
  let h1 = (BigInt(seed.readUInt32LE(0)) << 32n) | BigInt(seed.readUInt32LE(4));
  let h2 = (BigInt(seed.readUInt32LE(8)) << 32n) | BigInt(seed.readUInt32LE(12));
  const u64 = (at: number, n: number) => {
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i]!);
    return v;
  };
  const blocks = Math.floor(data.length / 16);
  for (let i = 0; i < blocks; i++) {
    let k1 = u64(16 * i, 8);
    let k2 = u64(16 * i + 8, 8);
    k1 = (rotl((k1 * c1) & M, 31n) * c2) & M;
    h1 = (((rotl(h1 ^ k1, 27n) + h2) & M) * 5n + 0x52dce729n) & M;
    k2 = (rotl((k2 * c2) & M, 33n) * c1) & M;
    h2 = (((rotl(h2 ^ k2, 31n) + h1) & M) * 5n + 0x38495ab5n) & M;
  }
  const rest = data.length % 16;
  const tail = 16 * blocks;
  if (rest > 8) h2 ^= (rotl((u64(tail + 8, rest - 8) * c2) & M, 33n) * c1) & M;
  if (rest > 0) h1 ^= (rotl((u64(tail, Math.min(rest, 8)) * c1) & M, 31n) * c2) & M;
  h1 ^= BigInt(data.length);
  h2 ^= BigInt(data.length);
  h1 = (h1 + h2) & M;
  h2 = (h2 + h1) & M;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = (h1 + h2) & M;
  h2 = (h2 + h1) & M;
  const words = (x: bigint) => [Number(BigInt.asIntN(32, x & 0xffffffffn)), Number(BigInt.asIntN(32, x >> 32n))];
  return [...words(h1), ...words(h2)];
}
