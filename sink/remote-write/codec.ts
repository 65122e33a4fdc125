// The decoder's WebAssembly part (wasm/codec.as.ts, built by `npm run build` into
// dist/sink/codec.wasm): snappy decompression and the label-bytes hash, about twice
// as fast as in JavaScript on k6's pushes (docs/sink.md says how much). Each decoder
// has an instance with its own memory: the compressed body is copied in, decompressed
// next to it, and the protobuf decoder reads the result in place, as a Buffer over
// that memory, until the next body.
//
// Bodies that decompress to more than WASM_MAX_BYTES go through snappy.ts instead,
// so that one outsized request does not leave the memory grown for good; the hash
// is the same either way (see ProtoReader.hash).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sinkDistDir } from '../../contract/dist-layout.ts';

/** The largest decompressed body the codec takes; bigger ones are decompressed in JavaScript. */
export const WASM_MAX_BYTES = 8 * 1024 * 1024;
const PAGE = 65536;

interface CodecExports {
  memory: WebAssembly.Memory;
  uncompress(src: number, srcEnd: number, dst: number, dLen: number): number;
  hash(p: number, n: number): number;
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
  /** Where the decompressed body of the last uncompress() starts in memory. */
  outputOffset = 0;

  constructor() {
    this.exports = new WebAssembly.Instance(codecModule(), {}).exports as unknown as CodecExports;
  }

  /**
   * Decompresses the snappy body whose elements start at `elementsAt` (after the
   * preamble) and whose preamble announced `length` bytes. Returns a Buffer over the
   * codec's memory (valid until the next call), or null when the body is corrupt.
   */
  uncompress(body: Uint8Array, elementsAt: number, length: number): Buffer | null {
    const input = body.length;
    const output = (input + 7) & ~7;
    const needed = output + length;
    const memory = this.exports.memory;
    if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE));
    new Uint8Array(memory.buffer, 0, input).set(body);
    const written = this.exports.uncompress(elementsAt, input, output, length);
    if (written !== length) return null;
    this.outputOffset = output;
    return Buffer.from(memory.buffer, output, length);
  }

  /** Bytes of memory the instance holds (it grows, never shrinks). */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** The hash of `n` bytes at `offset` of the codec's memory (ProtoReader.hash). */
  hash(offset: number, n: number): number {
    return this.exports.hash(offset, n);
  }
}
