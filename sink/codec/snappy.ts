/**
 * Snappy *block* format (not the framed/streaming format), as used by
 * Prometheus remote write.
 *
 * Decompression is a small hand-written decoder rather than `snappyjs`:
 * - it validates everything `snappyjs` does not (offset 0, copies that would
 *   run past the announced length, output shorter than announced, a truncated
 *   literal-length field), so a corrupt body is always a `DecodeError`
 *   `bad_snappy` and never a silently zero-filled buffer;
 * - it refuses, before allocating, a preamble that announces more output than
 *   the input could possibly expand to (at most 64 bytes per 3 input bytes),
 *   so a 10-byte body cannot make the server allocate the full body limit;
 * - it copies long literals and non-overlapping copies natively and can
 *   decompress into a reusable scratch buffer: about 3x the throughput of
 *   `snappyjs` on k6 bodies (see bench/decode.ts).
 *
 * Compression (tests, fixtures, benches) wraps `snappyjs`.
 */
import { createRequire } from 'node:module';
import { DecodeError } from './decode-errors.ts';

interface SnappyJs {
  compress(input: Uint8Array): Uint8Array;
  uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}
// Loaded on first use: a decode worker only decompresses (with the code below).
let snappyjsModule: SnappyJs | undefined;
function snappyjs(): SnappyJs {
  return (snappyjsModule ??= createRequire(import.meta.url)('snappyjs') as SnappyJs);
}

/** Largest uncompressed length the block format can announce (uint32). */
export const SNAPPY_MAX_LENGTH = 0xffffffff;

/** Set by readPreamble: index of the first byte after the length varint. */
let preambleEnd = 0;

function badSnappy(message: string, offset: number): DecodeError {
  return new DecodeError('bad_snappy', message, { offset });
}

function readPreamble(src: Uint8Array): number {
  const n = src.length;
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= n) {
      throw badSnappy(
        n === 0 ? 'The snappy body is empty.' : 'The snappy body ends inside its length preamble.',
        i,
      );
    }
    const b = src[i];
    if (i === 4 && b > 0x0f) {
      throw badSnappy('The snappy length preamble does not fit in 32 bits.', i);
    }
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      preambleEnd = i + 1;
      return result;
    }
    shift += 7;
  }
  // Only reachable when the 5th byte is <= 0x0f but has its continuation bit: impossible.
  throw badSnappy('The snappy length preamble does not fit in 32 bits.', 4);
}

/** Index of the first element of a snappy block body: the byte after its length preamble (checked before). */
export function snappyElementsStart(src: Uint8Array): number {
  let i = 0;
  while (i < 4 && src[i]! >= 0x80) i++;
  return i + 1;
}

/** Could a body of `n` bytes whose elements start at `start` decompress to `length` bytes? */
export function snappyCanHold(n: number, start: number, length: number): boolean {
  // The densest element (2-byte-offset copy) turns 3 input bytes into 64 output bytes.
  return length <= ((n - start) * 64) / 3;
}

/**
 * Read only the uncompressed-length preamble of a snappy block body. Cheap:
 * looks at most at 5 bytes. Throws `bad_snappy` if the preamble is missing or
 * malformed.
 */
export function readSnappyLength(src: Uint8Array): number {
  return readPreamble(src);
}

/**
 * Check the preamble against a limit before decompressing: returns the
 * announced uncompressed length, throws `too_large` when it exceeds
 * `maxLength`, `bad_snappy` when the preamble is malformed.
 */
export function checkSnappyLength(src: Uint8Array, maxLength: number): number {
  const len = readPreamble(src);
  if (len > maxLength) {
    throw new DecodeError(
      'too_large',
      `The body would decompress to ${len} bytes, more than the limit of ${maxLength} bytes.`,
    );
  }
  return len;
}

/** The same bytes as a Buffer, without copying. */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * Decompress a snappy block body. Throws `too_large` if the preamble announces
 * more than `maxLength` bytes and `bad_snappy` for anything corrupt.
 *
 * With `scratch`, the output is written into it when it is large enough and a
 * view of it is returned: the result is then only valid until the scratch
 * buffer is reused. Without it a new Buffer is allocated.
 */
export function snappyUncompress(input: Uint8Array, maxLength: number, scratch?: Buffer): Buffer {
  const dLen = checkSnappyLength(input, maxLength);
  let s = preambleEnd;
  const n = input.length;
  if (!snappyCanHold(n, s, dLen)) {
    throw badSnappy(
      `The snappy preamble announces ${dLen} bytes, more than ${n} compressed bytes can hold.`,
      0,
    );
  }
  const src = asBuffer(input);
  const dst = scratch !== undefined && scratch.length >= dLen ? scratch : Buffer.allocUnsafe(dLen);
  const d = decodeElements(src, s, dst, dLen);
  if (d !== dLen) {
    throw badSnappy(`The snappy data is ${d} bytes, shorter than the ${dLen} bytes its preamble says.`, n);
  }
  return dst.length !== dLen ? dst.subarray(0, dLen) : dst;
}

/**
 * The element loop: decodes src[s..] into dst[0..dLen) and returns the number of
 * bytes written. Kept apart from the checks around it, so the optimised loop never
 * meets a property access it has no feedback for (a rarely taken branch there made
 * V8 deoptimise it again and again).
 */
function decodeElements(src: Buffer, s: number, dst: Buffer, dLen: number): number {
  const n = src.length;
  let d = 0;
  while (s < n) {
    const tag = src[s++];
    let len: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        len = tag >>> 2;
        if (len >= 60) {
          const extra = len - 59; // 1..4 little-endian length bytes
          if (s + extra > n) throw badSnappy('The snappy body ends inside a literal length.', s);
          len = src[s];
          if (extra > 1) len |= src[s + 1] << 8;
          if (extra > 2) len |= src[s + 2] << 16;
          if (extra > 3) len = (len >>> 0) + src[s + 3] * 16777216;
          s += extra;
        }
        len += 1;
        if (len > n - s) throw badSnappy('The snappy body ends inside a literal.', s);
        if (len > dLen - d) {
          throw badSnappy('The snappy data is longer than its length preamble says.', s);
        }
        if (len < 24) {
          for (let i = 0; i < len; i++) dst[d + i] = src[s + i];
        } else {
          src.copy(dst, d, s, s + len);
        }
        s += len;
        d += len;
        continue;
      }
      case 1:
        if (s >= n) throw badSnappy('The snappy body ends inside a copy element.', s);
        len = 4 + ((tag >>> 2) & 7);
        offset = ((tag & 0xe0) << 3) | src[s];
        s += 1;
        break;
      case 2:
        if (s + 2 > n) throw badSnappy('The snappy body ends inside a copy element.', s);
        len = 1 + (tag >>> 2);
        offset = src[s] | (src[s + 1] << 8);
        s += 2;
        break;
      default:
        if (s + 4 > n) throw badSnappy('The snappy body ends inside a copy element.', s);
        len = 1 + (tag >>> 2);
        offset = (src[s] | (src[s + 1] << 8) | (src[s + 2] << 16) | (src[s + 3] << 24)) >>> 0;
        s += 4;
        break;
    }
    if (offset === 0 || offset > d) {
      throw badSnappy(`The snappy body has a copy with invalid offset ${offset} at output byte ${d}.`, s);
    }
    if (len > dLen - d) {
      throw badSnappy('The snappy data is longer than its length preamble says.', s);
    }
    if (len >= 16 && offset >= len) {
      // Non-overlapping: a native copy is ~2.5x faster than the byte loop from 16 bytes on.
      dst.copyWithin(d, d - offset, d - offset + len);
      d += len;
    } else {
      // Short, or overlapping (offset < len repeats a pattern): byte by byte.
      let from = d - offset;
      const end = d + len;
      while (d < end) dst[d++] = dst[from++];
    }
  }
  return d;
}

/**
 * One snappy block whose content is the concatenation of the parts' contents, as
 * chunks to write one after the other, without decompressing or copying the parts: a
 * block is a length preamble and then elements (literals, and copies of earlier output
 * at a backward offset) that never reach before the start of their own block, so the
 * parts' elements, one after the other, behind a preamble with the total length,
 * decompress to the parts' contents one after the other. Each part must be a valid
 * block (checked by decompressing it once, e.g. when it was accepted): only the
 * preambles are read.
 */
export function snappyConcatChunks(parts: readonly Uint8Array[]): Buffer[] {
  if (parts.length === 1) return [asBuffer(parts[0]!)];
  let total = 0;
  const chunks: Buffer[] = [Buffer.alloc(0)];
  for (const part of parts) {
    total += readPreamble(part);
    chunks.push(asBuffer(part.subarray(preambleEnd)));
  }
  if (total > SNAPPY_MAX_LENGTH) throw new RangeError(`snappyConcatChunks: ${total} bytes are more than a snappy block can hold`);
  const preamble: number[] = [];
  for (let n = total; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      preamble.push(n);
      break;
    }
    preamble.push((n % 128) | 0x80);
  }
  chunks[0] = Buffer.from(preamble);
  return chunks;
}

/** Compress into the snappy block format (snappyjs). For tests, fixtures and benches. */
export function snappyCompress(data: Uint8Array): Buffer {
  return asBuffer(snappyjs().compress(data));
}

/**
 * `snappyjs.uncompress` with its errors mapped to DecodeError. Kept for the
 * bench comparison only: it does not detect truncated output (it returns a
 * partly zero-filled buffer), so the sink uses `snappyUncompress`.
 */
export function snappyjsUncompress(input: Uint8Array, maxLength: number): Uint8Array {
  checkSnappyLength(input, maxLength);
  try {
    return snappyjs().uncompress(input, maxLength);
  } catch (err) {
    throw badSnappy(`snappyjs: ${(err as Error).message}`, 0);
  }
}
