// The decoder's WebAssembly part (dist/sink/codec.wasm, from sink/remote-write/wasm/
// codec.as.ts) against the JavaScript it stands in for: the same decompressed bytes,
// a refusal exactly where snappy.ts refuses, and the same label hash.
import { describe, expect, it } from 'vitest';
import { WASM_MAX_BYTES, WasmCodec } from '../../sink/remote-write/codec.ts';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { encodeV1 } from './fixtures/remote-write-proto.ts';
import { ProtoReader } from '../../sink/remote-write/wire.ts';
import { checkSnappyLength, snappyCompress, snappyElementsStart, snappyUncompress } from '../../sink/remote-write/snappy.ts';
import { MUTATION_KINDS, mulberry32, mutate } from './fixtures/mutations.ts';
import { K6_NATIVE_FIXTURES } from '../../bench/k6-native-replay.ts';
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

  it('hashes byte ranges as ProtoReader does in JavaScript, at every alignment and up to the end of the buffer', () => {
    const codec = new WasmCodec();
    const body = snappyCompress(random(4096));
    const inMemory = codec.uncompress(body, snappyElementsStart(body), 4096)!;
    const copy = Buffer.from(inMemory); // the same bytes outside the codec's memory
    const js = new ProtoReader();
    js.setInput(copy);
    const viaCodec = new ProtoReader();
    viaCodec.setInput(inMemory, codec, codec.outputOffset);
    for (let i = 0; i < 3000; i++) {
      const start = Math.floor(rnd() * 4000);
      const end = i % 10 === 0 ? 4096 : Math.min(4096, start + Math.floor(rnd() * 600));
      expect(viaCodec.hash(start, end), `${start}..${end}`).toBe(js.hash(start, end));
    }
    // A sub-view whose buffer ends right after it: the JavaScript path's end-of-buffer case.
    const tail = Buffer.from(copy.subarray(3001));
    const short = new ProtoReader();
    short.setInput(tail);
    expect(short.hash(0, tail.length)).toBe(js.hash(3001, 4096));
  });

  it('gets k6 pushes from the decoder, and leaves bodies that decompress to more than WASM_MAX_BYTES to snappy.ts, so its memory stays small', () => {
    const decoder = new RemoteWriteDecoder({ maxUncompressedBytes: 64 * 1024 * 1024, maxLabelValueBytes: 1 << 24 });
    const batch = decoder.decodeSnappy(recorded[0]!, 1);
    expect(batch.seriesCount).toBeGreaterThan(1000);
    const afterPush = decoder.stats.codecMemoryBytes;
    expect(afterPush).toBeGreaterThan(recorded[0]!.length);
    // One series whose label value is 9 MiB: a body of more than WASM_MAX_BYTES.
    const big = snappyCompress(encodeV1({ timeseries: [{ labels: [{ name: '__name__', value: 'x' }, { name: 'v', value: 'a'.repeat(WASM_MAX_BYTES + (1 << 20)) }], samples: [{ value: 1, timestamp: 1 }] }] }));
    expect(decoder.decodeSnappy(big, 1).series[0]!.values[1]!.length).toBe(WASM_MAX_BYTES + (1 << 20));
    expect(decoder.stats.codecMemoryBytes).toBe(afterPush);
  });
});
