// Protobuf wire primitives over one Buffer: varints, zigzag, doubles, tags, lengths,
// skipping unknown fields, strings, and the fingerprint of a byte range. One reader per
// decoder, reused for every message (decoding is synchronous, never re-entered).
import { isUtf8 } from 'node:buffer';
import { DecodeError } from '../codec/decode-errors.ts';
import type { WasmCodec } from '../codec/wasm-codec.ts';

interface FastBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const HAS_FAST_SLICES =
  typeof (Buffer.prototype as Partial<FastBuffer>).latin1Slice === 'function' &&
  typeof (Buffer.prototype as Partial<FastBuffer>).utf8Slice === 'function';

const EMPTY_BUFFER = Buffer.alloc(0) as FastBuffer;

const f64Scratch = new Float64Array(1);
const u8Scratch = new Uint8Array(f64Scratch.buffer);
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', 'wire type 6', 'wire type 7'];
const MAX_GROUP_DEPTH = 64;

function asFastBuffer(u: Uint8Array): FastBuffer {
  return (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength)) as FastBuffer;
}

export class ProtoReader {
  buf: FastBuffer = EMPTY_BUFFER;
  pos = 0;
  /** High 32 bits of the last varint read by varint(). */
  vHi = 0;
  /** buf[0]'s offset in the codec's memory; -1 when buf is not there. */
  private codecOffset = -1;
  /** The last fingerprint (fingerprint()). */
  readonly fp = new Int32Array(4);

  constructor(private readonly codec: WasmCodec) {}

  /**
   * Reads `message` from now on. `codecOffset`: where it starts in the codec's memory,
   * when it lies there (a body the codec decompressed).
   */
  setInput(message: Uint8Array, codecOffset = -1): void {
    this.codecOffset = codecOffset;
    this.buf = asFastBuffer(message);
    this.pos = 0;
  }

  clearInput(): void {
    this.codecOffset = -1;
    this.buf = EMPTY_BUFFER;
  }

  latin1(start: number, end: number): string {
    return HAS_FAST_SLICES ? this.buf.latin1Slice(start, end) : this.buf.toString('latin1', start, end);
  }

  utf8(start: number, end: number): string {
    return HAS_FAST_SLICES ? this.buf.utf8Slice(start, end) : this.buf.toString('utf8', start, end);
  }

  error(message: string, offset = this.pos): DecodeError {
    return new DecodeError('bad_protobuf', message, { offset });
  }

  truncated(): DecodeError {
    return this.error(`The protobuf message is truncated at byte ${this.pos}.`);
  }

  wrongWireType(what: string, tag: number, tagStart: number): DecodeError {
    return this.error(`The protobuf field ${what} has wire type ${WIRE_NAMES[tag & 7]} at byte ${tagStart}, which is not allowed for it.`, tagStart);
  }

  /**
   * A varint (up to 10 bytes) that must end before `end`. Returns the low 32 bits as
   * an unsigned number; the high 32 bits are left in `vHi`.
   */
  varint(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= end) throw this.truncated();
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      this.vHi = 0;
      return b;
    }
    let lo = b & 0x7f;
    for (let shift = 7; shift < 28; shift += 7) {
      if (pos >= end) return this.truncatedAt(pos);
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        this.vHi = 0;
        return lo >>> 0;
      }
    }
    if (pos >= end) return this.truncatedAt(pos);
    b = buf[pos++]!;
    lo |= (b & 0x7f) << 28;
    let hi = (b & 0x7f) >>> 4;
    if (b < 0x80) {
      this.pos = pos;
      this.vHi = hi;
      return lo >>> 0;
    }
    for (let shift = 3; shift < 35; shift += 7) {
      if (pos >= end) return this.truncatedAt(pos);
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        this.vHi = hi >>> 0;
        return lo >>> 0;
      }
    }
    this.pos = pos;
    throw this.error(`The protobuf message has a varint longer than 10 bytes at byte ${pos - 10}.`, pos - 10);
  }

  private truncatedAt(pos: number): never {
    this.pos = pos;
    throw this.truncated();
  }

  /** int64 as a number (exact within ±2^53). */
  int64(end: number): number {
    const lo = this.varint(end);
    return (this.vHi | 0) * 4294967296 + lo;
  }

  /** uint64 as a number (exact below 2^53). */
  uint64(end: number): number {
    const lo = this.varint(end);
    return this.vHi * 4294967296 + lo;
  }

  /** sint64 (zigzag) as a number. */
  sint64(end: number): number {
    const lo = this.varint(end);
    const hi = this.vHi;
    const mask = -(lo & 1);
    const rlo = ((lo >>> 1) | (hi << 31)) ^ mask;
    const rhi = (hi >>> 1) ^ mask;
    return (rhi | 0) * 4294967296 + (rlo >>> 0);
  }

  /** sint32 (zigzag, low 32 bits). */
  sint32(end: number): number {
    const n = this.varint(end);
    return (n >>> 1) ^ -(n & 1);
  }

  double(end: number): number {
    const p = this.pos;
    if (end - p < 8) throw this.truncated();
    const buf = this.buf;
    if (LITTLE_ENDIAN) {
      u8Scratch[0] = buf[p]!;
      u8Scratch[1] = buf[p + 1]!;
      u8Scratch[2] = buf[p + 2]!;
      u8Scratch[3] = buf[p + 3]!;
      u8Scratch[4] = buf[p + 4]!;
      u8Scratch[5] = buf[p + 5]!;
      u8Scratch[6] = buf[p + 6]!;
      u8Scratch[7] = buf[p + 7]!;
    } else {
      for (let i = 0; i < 8; i++) u8Scratch[7 - i] = buf[p + i]!;
    }
    this.pos = p + 8;
    return f64Scratch[0]!;
  }

  /** Is the double at byte p Prometheus' stale marker (0x7ff0000000000002)? Read as bits, never as a number. */
  isStaleDoubleAt(p: number): boolean {
    const b = this.buf;
    return b[p] === 2 && b[p + 1] === 0 && b[p + 2] === 0 && b[p + 3] === 0 && b[p + 4] === 0 && b[p + 5] === 0 && b[p + 6] === 0xf0 && b[p + 7] === 0x7f;
  }

  /** A field tag: (field << 3 | wireType). Rejects field number 0. */
  tag(end: number): number {
    const b = this.buf[this.pos]!;
    if (b < 0x80 && b >= 8) {
      this.pos++;
      return b;
    }
    const start = this.pos;
    const tag = this.varint(end);
    if (this.vHi !== 0 || tag >>> 3 === 0) throw this.error(`The protobuf message has an invalid field tag at byte ${start}.`, start);
    return tag;
  }

  /** A length prefix whose payload fits before `end`. */
  length(end: number): number {
    const start = this.pos;
    const len = this.varint(end);
    if (this.vHi !== 0 || len > end - this.pos) {
      throw this.error(`The protobuf message has a length of ${this.vHi !== 0 ? 'over 2^32' : len} bytes at byte ${start}, beyond the end of its container.`, start);
    }
    return len;
  }

  /** Skip the payload of a field whose tag was just read. */
  skipField(tag: number, end: number): void {
    switch (tag & 7) {
      case 0:
        this.varint(end);
        return;
      case 1:
        if (end - this.pos < 8) throw this.truncated();
        this.pos += 8;
        return;
      case 2: {
        const len = this.length(end); // (not `pos += length()`: that would add to the old pos)
        this.pos += len;
        return;
      }
      case 3:
        this.skipGroup(tag >>> 3, end);
        return;
      case 5:
        if (end - this.pos < 4) throw this.truncated();
        this.pos += 4;
        return;
      case 4:
        throw this.error(`The protobuf message has an unexpected end-group tag at byte ${this.pos}.`);
      default:
        throw this.error(`The protobuf message has invalid wire type ${tag & 7} at byte ${this.pos}.`);
    }
  }

  /** Skip a (deprecated) group: everything up to the matching end-group tag. */
  private skipGroup(field: number, end: number): void {
    const open: number[] = [field];
    while (open.length > 0) {
      if (this.pos >= end) throw this.truncated();
      const start = this.pos;
      const tag = this.tag(end);
      const wt = tag & 7;
      if (wt === 4) {
        if (tag >>> 3 !== open[open.length - 1]) throw this.error(`The protobuf message has a mismatched end-group tag at byte ${start}.`, start);
        open.pop();
      } else if (wt === 3) {
        if (open.length >= MAX_GROUP_DEPTH) throw this.error(`The protobuf message nests groups too deeply at byte ${start}.`, start);
        open.push(tag >>> 3);
      } else {
        this.skipField(tag, end);
      }
    }
  }

  isAscii(start: number, end: number): boolean {
    const buf = this.buf;
    for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return false;
    return true;
  }

  isUtf8(start: number, end: number): boolean {
    return isUtf8(this.buf.subarray(start, end));
  }

  /** A UTF-8 string field; null when the bytes are not valid UTF-8. */
  string(start: number, end: number): string | null {
    if (start === end) return '';
    if (this.isAscii(start, end)) return this.latin1(start, end);
    if (!this.isUtf8(start, end)) return null;
    return this.utf8(start, end);
  }

  /** Label name check on raw bytes: [a-zA-Z_][a-zA-Z0-9_]*. */
  isValidName(start: number, end: number): boolean {
    if (start === end) return false;
    const buf = this.buf;
    let c = buf[start]!;
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f)) return false;
    for (let i = start + 1; i < end; i++) {
      c = buf[i]!;
      if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f)) return false;
    }
    return true;
  }

  compareBytes(aStart: number, aEnd: number, bStart: number, bEnd: number): number {
    const buf = this.buf;
    const n = Math.min(aEnd - aStart, bEnd - bStart);
    for (let i = 0; i < n; i++) {
      const d = buf[aStart + i]! - buf[bStart + i]!;
      if (d !== 0) return d;
    }
    return aEnd - aStart - (bEnd - bStart);
  }

  /**
   * The 128-bit fingerprint of buf[s..e) (the codec's MurmurHash3 x64_128, seeded),
   * left in `fp`; returns its first word. The same bytes get the same fingerprint
   * wherever they sit.
   */
  fingerprint(s: number, e: number): number {
    return this.codec.fingerprint(this.buf, this.codecOffset, s, e, this.fp);
  }
}
