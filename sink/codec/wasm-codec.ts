// The decoder's WebAssembly part (wasm/codec.as.ts, built by `npm run build` into
// dist/sink/codec.wasm): snappy decompression, about twice as fast as snappy.ts on
// k6's pushes, and the 128-bit fingerprint a label set is known by (MurmurHash3
// x64_128, seeded at random per instance: JavaScript has no 64-bit multiplication).
// Each decoder has an instance with its own memory:
//
//   [0, 16)          the last fingerprint
//   [64, …)          the compressed body, then the decompressed one next to it, which
//                    the protobuf decoder reads in place (a Buffer over this memory,
//                    valid until the next body); or, for a body decoded elsewhere, the
//                    label bytes being fingerprinted.
//
// Bodies that decompress to more than WASM_MAX_BYTES go through snappy.ts instead, so
// that one outsized request does not leave the memory grown for good.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sinkDistDir } from '../../contract/dist-layout.ts';

/** The largest decompressed body the codec takes; bigger ones are decompressed in JavaScript. */
export const WASM_MAX_BYTES = 8 * 1024 * 1024;
const PAGE = 65536;
const FINGERPRINT_AT = 0;
const DATA_AT = 64;

interface CodecExports {
  memory: WebAssembly.Memory;
  uncompress(src: number, srcEnd: number, dst: number, dLen: number): number;
  seed(a: number, b: number, c: number, d: number): void;
  fingerprint(p: number, n: number, out: number): void;
}

let compiled: WebAssembly.Module | null = null;

/** Compiled once per thread. */
function codecModule(): WebAssembly.Module {
  if (compiled) return compiled;
  const path = join(sinkDistDir(), 'codec.wasm');
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new Error(`The sink's decoder is not built (${(err as Error).message}): run npm run build.`);
  }
  return (compiled = new WebAssembly.Module(bytes));
}

export class WasmCodec {
  private readonly exports: CodecExports;
  /** The last fingerprint, as four 32-bit words (a view, renewed when the memory grows). */
  private words: Int32Array;
  private bytes: Uint8Array;
  /** Where the decompressed body of the last uncompress() starts in memory. */
  outputOffset = 0;

  constructor(seed: Buffer = randomBytes(16)) {
    this.exports = new WebAssembly.Instance(codecModule(), {}).exports as unknown as CodecExports;
    this.exports.seed(seed.readUInt32LE(0), seed.readUInt32LE(4), seed.readUInt32LE(8), seed.readUInt32LE(12));
    const memory = this.exports.memory;
    if (memory.buffer.byteLength === 0) memory.grow(1);
    this.words = new Int32Array(memory.buffer, FINGERPRINT_AT, 4);
    this.bytes = new Uint8Array(memory.buffer);
  }

  private reserve(bytes: number): void {
    const memory = this.exports.memory;
    if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
    if (this.bytes.buffer !== memory.buffer) {
      this.words = new Int32Array(memory.buffer, FINGERPRINT_AT, 4);
      this.bytes = new Uint8Array(memory.buffer);
    }
  }

  /**
   * Decompresses the snappy body whose elements start at `elementsAt` (after the
   * preamble) and whose preamble announced `length` bytes. Returns a Buffer over the
   * codec's memory (valid until the next call), or null when the body is corrupt.
   */
  uncompress(body: Uint8Array, elementsAt: number, length: number): Buffer | null {
    const input = DATA_AT;
    const output = (input + body.length + 7) & ~7;
    this.reserve(output + length);
    this.bytes.set(body, input);
    const written = this.exports.uncompress(input + elementsAt, input + body.length, output, length);
    if (written !== length) return null;
    this.outputOffset = output;
    return Buffer.from(this.exports.memory.buffer, output, length);
  }

  /**
   * The fingerprint of `bytes[start..end)`, left in `into` (four 32-bit words); its
   * first word is returned, for a table slot. `offset`: where bytes[0] is in the
   * codec's memory, or -1 when the bytes are elsewhere (they are copied in first).
   */
  fingerprint(bytes: Uint8Array, offset: number, start: number, end: number, into: Int32Array): number {
    let at = offset + start;
    if (offset < 0) {
      this.reserve(DATA_AT + end - start);
      this.bytes.set(bytes.subarray(start, end), DATA_AT);
      at = DATA_AT;
    }
    this.exports.fingerprint(at, end - start, FINGERPRINT_AT);
    const w = this.words;
    into[0] = w[0]!;
    into[1] = w[1]!;
    into[2] = w[2]!;
    into[3] = w[3]!;
    return into[0]!;
  }

  /** Bytes of memory the instance holds (it grows, never shrinks). */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }
}
