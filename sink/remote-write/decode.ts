/**
 * Pure decoding of Prometheus remote-write bodies (1.0 `prometheus.WriteRequest`
 * and 2.0 `io.prometheus.write.v2.Request`) into a reusable columnar batch.
 *
 * No HTTP here. The handler is expected to:
 *   1. `checkSnappyLength(body, limit)` (from `./snappy.ts`) before anything else,
 *   2. `decoder.decodeSnappy(body, version, batch)` (decompress + decode + validate),
 *   3. hand `batch` synchronously to the aggregator, and forward `body` (the
 *      original bytes, never re-encoded) elsewhere.
 * Every failure is a `DecodeError` (`./decode-errors.ts`); the whole request is
 * rejected on the first error and the batch is left empty.
 *
 * Speed: the wire format is read by hand over one Buffer (no protobufjs, no
 * object per label). k6 resends identical label sets on every push, so the
 * decoder keeps a bounded cache of immutable `SeriesLabels` (decoded,
 * validated, with their identity string):
 *   - RW1: keyed by the raw bytes of the series' label fields. A hit costs a
 *     32-bit hash of those bytes (4 at a time, alignment-independent), a probe
 *     of an open-addressing table over typed arrays and one native byte
 *     comparison: no string is created, no UTF-8 decoded, nothing validated
 *     again.
 *   - RW2: keyed by the label refs translated to decoder-wide symbol ids
 *     (symbol strings are decoded once per request anyway): a hit is a hash
 *     and comparison of a few integers.
 * Label sets whose fields are not contiguous (RW1 labels interleaved with
 * samples) are decoded every time.
 *
 * Memory (per cached label set): the key bytes in shared arenas, ~30 bytes of
 * table, and the SeriesLabels, whose value strings and name lists are shared
 * with the label sets decoded before (bounded interning) and whose identity
 * string is not kept (see SeriesLabels.id).
 *
 * Strings: label names must be ASCII (they are validated against
 * [a-zA-Z_][a-zA-Z0-9_]*). Label values and RW2 symbols must be valid UTF-8:
 * invalid UTF-8 is rejected as `bad_protobuf` (proto3 requires valid UTF-8 in
 * `string` fields, and Prometheus rejects such label values too), rather than
 * being replaced by U+FFFD, which would silently merge distinct series.
 */
import { isUtf8 } from 'node:buffer';
import { DecodeError, quoteForMessage } from './decode-errors.ts';
import { snappyUncompress } from './snappy.ts';
import { ResetHint, type BucketSpan, type NativeHistogram as HistogramShape } from '../grade/histogram.ts';

// ---------------------------------------------------------------------------
// Public types

export type { BucketSpan };
export { ResetHint };

/**
 * A native histogram as decoded: the shape the histogram math works on (absolute
 * bucket counts; integer histograms' deltas already summed), plus what only the
 * wire format has.
 */
export interface NativeHistogram extends HistogramShape {
  /** 0 unknown, 1 yes, 2 no, 3 gauge (see `ResetHint`). */
  resetHint: number;
  /** Custom bucket bounds (schema -53); empty otherwise. */
  customValues: number[];
}

/**
 * The decoded labels of one series. Immutable (frozen) and shared: while a
 * label set stays in the decoder's cache, every request that encodes it the
 * same way gets the same object, so consumers may use it as a Map/WeakMap key
 * for speed. `id` is the identity to rely on: the same label set sent with
 * different bytes (field order, unknown fields, RW1 vs RW2) may get distinct
 * objects with equal ids.
 */
export interface SeriesLabels {
  /**
   * Canonical identity: `metric{name="value",...}` with the other labels in
   * (validated, sorted) order and values escaped like the Prometheus text
   * format (\\, \", \n). A metric name that is not a legacy metric name is
   * written inside the braces, quoted: `{"my.metric",a="b"}`.
   *
   * On the objects the decoder makes it is computed from `names` and `values`
   * each time it is read (hundreds of bytes per series are not kept for it): keep
   * the string if you need it more than once.
   */
  readonly id: string;
  /** Value of the __name__ label. */
  readonly metricName: string;
  /** Label names, strictly increasing, including "__name__". */
  readonly names: readonly string[];
  /** Label values, parallel to `names`. */
  readonly values: readonly string[];
  /**
   * A mutable cell that stays with this object (the object itself is frozen): the
   * one consumer of a decoder's batches may keep per-series state in it, so that a
   * series seen again costs no lookup. Set on every object the decoder makes.
   */
  readonly slot?: SeriesSlot;
}

/** See `SeriesLabels.slot`. */
export interface SeriesSlot {
  value: unknown;
}

export interface DecoderOptions {
  /** Most labels per series (including __name__). Default 64. */
  maxLabels?: number;
  /** Longest label value, in UTF-8 bytes. Default 2048. */
  maxLabelValueBytes?: number;
  /** Largest uncompressed protobuf accepted by `decodeSnappy`. Default 32 MiB. */
  maxUncompressedBytes?: number;
  /**
   * Label sets kept in the cache: two generations of half this size, so a
   * working set of up to half of it always hits. 0 disables it. Default 200,000.
   */
  seriesCacheSize?: number;
  /**
   * @internal For decode workers (see decode-pool.ts). Called on every cache miss
   * with the label set just decoded; returns the object to keep in the cache and to
   * put in the batch instead. `cached` is false for label sets the cache will not
   * keep (cache disabled, or label fields not contiguous).
   */
  adopt?: (labels: SeriesLabels, cached: boolean) => SeriesLabels;
  /** @internal Called once for each adopted object the cache drops for good. */
  dropped?: (labels: SeriesLabels) => void;
}

export type RemoteWriteVersion = 1 | 2;

// ---------------------------------------------------------------------------
// Stale markers

const f64Scratch = new Float64Array(1);
const u32Scratch = new Uint32Array(f64Scratch.buffer);
const u8Scratch = new Uint8Array(f64Scratch.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** Bit pattern of the Prometheus stale marker: 0x7ff0000000000002. */
export const STALE_NAN_BITS = 0x7ff0000000000002n;

/** The Prometheus stale marker as a number (a NaN with payload 2). */
export const STALE_NAN: number = (() => {
  u32Scratch[HI] = 0x7ff00000;
  u32Scratch[LO] = 0x00000002;
  return f64Scratch[0];
})();

/** True when `value` has exactly the stale-marker bit pattern (any other NaN is not stale). */
export function isStaleNaN(value: number): boolean {
  f64Scratch[0] = value;
  return u32Scratch[LO] === 0x00000002 && u32Scratch[HI] === 0x7ff00000;
}

// ---------------------------------------------------------------------------
// The batch

function grownU32(a: Uint32Array, need: number): Uint32Array<ArrayBuffer> {
  let cap = Math.max(16, a.length * 2);
  while (cap < need) cap *= 2;
  const b = new Uint32Array(cap);
  b.set(a);
  return b;
}

function grownF64(a: Float64Array, need: number): Float64Array<ArrayBuffer> {
  let cap = Math.max(16, a.length * 2);
  while (cap < need) cap *= 2;
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}

/** @internal What `DecodedBatch.setColumns` takes: exact-length arrays. */
export interface DecodedColumns {
  version: RemoteWriteVersion;
  protobufByteLength: number;
  series: SeriesLabels[];
  sampleStart: Uint32Array<ArrayBuffer>;
  sampleValues: Float64Array<ArrayBuffer>;
  sampleTimestamps: Float64Array<ArrayBuffer>;
  histogramStart: Uint32Array<ArrayBuffer>;
  histograms: NativeHistogram[];
  createdTimestamps: Float64Array<ArrayBuffer>;
}

/**
 * The decoded content of one request, columnar. Reusable: pass it back to the
 * decoder to decode the next request into the same buffers (which invalidates
 * what it held). Typed arrays may be longer than the counts: only indexes
 * below the counts are meaningful.
 *
 * Series `i` has samples `sampleStart[i] .. sampleStart[i+1]-1` (values in
 * `sampleValues`, ms timestamps in `sampleTimestamps`) and histograms
 * `histogramStart[i] .. histogramStart[i+1]-1` in `histograms`.
 */
export class DecodedBatch {
  version: RemoteWriteVersion = 1;
  /** The body as given to `decodeSnappy` (not copied): forward these bytes as they are. */
  body: Uint8Array | undefined = undefined;
  /** Length of `body` (compressed), 0 when decoding an uncompressed buffer. */
  bodyByteLength = 0;
  /** Length of the decoded protobuf message. */
  protobufByteLength = 0;

  seriesCount = 0;
  sampleCount = 0;
  histogramCount = 0;

  /** Labels of each series (index < seriesCount). */
  series: SeriesLabels[] = [];
  sampleStart: Uint32Array<ArrayBuffer>;
  sampleValues: Float64Array<ArrayBuffer>;
  sampleTimestamps: Float64Array<ArrayBuffer>;
  histogramStart: Uint32Array<ArrayBuffer>;
  histograms: NativeHistogram[] = [];
  /** RW2 `created_timestamp` per series (0 = unset; always 0 for RW1). */
  createdTimestamps: Float64Array<ArrayBuffer>;

  private valueBits: Uint32Array;
  private flatNames: string[] = [];
  private flatValues: string[] = [];
  private flatStart = new Uint32Array(1);
  private flatFor = -1;
  private generation = 0;

  /** `capacity`: series and samples the buffers hold before they grow. */
  constructor(capacity = 1024) {
    this.sampleStart = new Uint32Array(capacity);
    this.sampleValues = new Float64Array(capacity);
    this.sampleTimestamps = new Float64Array(capacity);
    this.histogramStart = new Uint32Array(capacity);
    this.createdTimestamps = new Float64Array(capacity);
    this.valueBits = new Uint32Array(this.sampleValues.buffer);
  }

  /** A batch over columns decoded elsewhere (the decode worker's), without buffers of its own. */
  static fromColumns(c: DecodedColumns): DecodedBatch {
    const batch = new DecodedBatch(0);
    batch.setColumns(c);
    return batch;
  }

  /** Drop the content (keeps the buffers). */
  reset(version: RemoteWriteVersion = 1): void {
    this.version = version;
    this.body = undefined;
    this.bodyByteLength = 0;
    this.protobufByteLength = 0;
    this.seriesCount = 0;
    this.sampleCount = 0;
    this.histogramCount = 0;
    this.sampleStart[0] = 0;
    this.histogramStart[0] = 0;
    if (this.histograms.length !== 0) this.histograms = [];
    this.generation++;
  }

  /** Identity string of series `i` (see `SeriesLabels.id`). */
  seriesId(i: number): string {
    return this.series[i].id;
  }

  /** The __name__ of series `i`. */
  metricName(i: number): string {
    return this.series[i].metricName;
  }

  /** Value of label `name` on series `i`, or undefined. */
  labelValue(i: number, name: string): string | undefined {
    const s = this.series[i];
    const names = s.names;
    for (let k = 0; k < names.length; k++) if (names[k] === name) return s.values[k];
    return undefined;
  }

  /** Number of labels of series `i` (including __name__). */
  labelCount(i: number): number {
    return this.series[i].names.length;
  }

  /** The labels of series `i` as a plain object (allocates; not for hot paths). */
  labels(i: number): Record<string, string> {
    const s = this.series[i];
    const out: Record<string, string> = {};
    for (let k = 0; k < s.names.length; k++) out[s.names[k]] = s.values[k];
    return out;
  }

  /** True when sample `k` (a global sample index) is a Prometheus stale marker (checks the stored bits). */
  isStaleSample(k: number): boolean {
    return this.valueBits[2 * k + LO] === 0x00000002 && this.valueBits[2 * k + HI] === 0x7ff00000;
  }

  /**
   * Flat label columns, built on first use per decoded request: the labels of
   * series `i` are `labelNames[labelStart[i] .. labelStart[i+1]-1]` (and the
   * same range of `labelValues`).
   */
  get labelNames(): string[] {
    this.buildFlat();
    return this.flatNames;
  }

  get labelValues(): string[] {
    this.buildFlat();
    return this.flatValues;
  }

  get labelStart(): Uint32Array {
    this.buildFlat();
    return this.flatStart;
  }

  private buildFlat(): void {
    if (this.flatFor === this.generation) return;
    const n = this.seriesCount;
    if (this.flatStart.length < n + 1) this.flatStart = new Uint32Array(n + 1);
    const names: string[] = [];
    const values: string[] = [];
    let k = 0;
    for (let i = 0; i < n; i++) {
      this.flatStart[i] = k;
      const s = this.series[i];
      for (let j = 0; j < s.names.length; j++) {
        names.push(s.names[j]);
        values.push(s.values[j]);
        k++;
      }
    }
    this.flatStart[n] = k;
    this.flatNames = names;
    this.flatValues = values;
    this.flatFor = this.generation;
  }

  // --- used by the decoder -------------------------------------------------

  /** @internal */
  beginSeries(): void {
    const i = this.seriesCount;
    if (i + 1 >= this.sampleStart.length) {
      this.sampleStart = grownU32(this.sampleStart, i + 2);
      this.histogramStart = grownU32(this.histogramStart, i + 2);
      this.createdTimestamps = grownF64(this.createdTimestamps, i + 2);
    }
    this.sampleStart[i] = this.sampleCount;
    this.histogramStart[i] = this.histogramCount;
    this.createdTimestamps[i] = 0;
  }

  /** @internal */
  endSeries(labels: SeriesLabels): void {
    const i = this.seriesCount;
    this.series[i] = labels;
    this.seriesCount = i + 1;
    this.sampleStart[i + 1] = this.sampleCount;
    this.histogramStart[i + 1] = this.histogramCount;
  }

  /** @internal */
  growSamples(): void {
    this.sampleValues = grownF64(this.sampleValues, this.sampleCount + 1);
    this.sampleTimestamps = grownF64(this.sampleTimestamps, this.sampleCount + 1);
    this.valueBits = new Uint32Array(this.sampleValues.buffer);
  }

  /** @internal */
  addHistogram(h: NativeHistogram): void {
    this.histograms.push(h);
    this.histogramCount++;
  }

  /**
   * @internal Takes over columns decoded elsewhere (a decode worker, see
   * decode-pool.ts), as they are: the arrays are not copied.
   */
  setColumns(c: DecodedColumns): void {
    this.reset(c.version);
    this.seriesCount = c.series.length;
    this.sampleCount = c.sampleValues.length;
    this.histogramCount = c.histograms.length;
    this.protobufByteLength = c.protobufByteLength;
    this.series = c.series;
    this.sampleStart = c.sampleStart;
    this.sampleValues = c.sampleValues;
    this.sampleTimestamps = c.sampleTimestamps;
    this.histogramStart = c.histogramStart;
    this.histograms = c.histograms;
    this.createdTimestamps = c.createdTimestamps;
    this.valueBits = new Uint32Array(c.sampleValues.buffer, c.sampleValues.byteOffset, 2 * c.sampleValues.length);
  }

  /** @internal Called on failure: nothing partial may be seen. */
  clearAfterError(): void {
    this.reset(this.version);
    this.series.length = 0;
  }
}

// ---------------------------------------------------------------------------
// Wire-format reading over module state (decoding is synchronous, never re-entered)

interface FastBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const HAS_FAST_SLICES =
  typeof (Buffer.prototype as Partial<FastBuffer>).latin1Slice === 'function' &&
  typeof (Buffer.prototype as Partial<FastBuffer>).utf8Slice === 'function';

const EMPTY_BUFFER = Buffer.alloc(0) as FastBuffer;
let buf: FastBuffer = EMPTY_BUFFER;
let pos = 0;
/** Int32 view of buf's ArrayBuffer starting at the 4-aligned address at or before buf[0] (for hashing). */
const EMPTY_WORDS = new Int32Array(0);
let words: Int32Array = EMPTY_WORDS;
/** buf[i] is byte (i + wordsOffset) of `words`. */
let wordsOffset = 0;

function setInput(message: Uint8Array): void {
  buf = asFastBuffer(message);
  pos = 0;
  const aligned = buf.byteOffset & ~3;
  wordsOffset = buf.byteOffset - aligned;
  words = new Int32Array(buf.buffer, aligned, (buf.byteOffset + buf.length - aligned) >> 2);
}

function clearInput(): void {
  buf = EMPTY_BUFFER;
  words = EMPTY_WORDS;
}
/** High 32 bits of the last varint read by readVarint. */
let vHi = 0;

function latin1(start: number, end: number): string {
  return HAS_FAST_SLICES ? buf.latin1Slice(start, end) : buf.toString('latin1', start, end);
}

function utf8(start: number, end: number): string {
  return HAS_FAST_SLICES ? buf.utf8Slice(start, end) : buf.toString('utf8', start, end);
}

function protoError(message: string, offset = pos): DecodeError {
  return new DecodeError('bad_protobuf', message, { offset });
}

function truncated(): DecodeError {
  return protoError(`The protobuf message is truncated at byte ${pos}.`);
}

/**
 * Read a varint (up to 10 bytes) that must end before `end`. Returns the low
 * 32 bits as an unsigned number; the high 32 bits are left in `vHi`.
 */
function readVarint(end: number): number {
  if (pos >= end) throw truncated();
  let b = buf[pos++];
  if (b < 0x80) {
    vHi = 0;
    return b;
  }
  let lo = b & 0x7f;
  for (let shift = 7; shift < 28; shift += 7) {
    if (pos >= end) throw truncated();
    b = buf[pos++];
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      vHi = 0;
      return lo >>> 0;
    }
  }
  if (pos >= end) throw truncated();
  b = buf[pos++];
  lo |= (b & 0x7f) << 28;
  let hi = (b & 0x7f) >>> 4;
  if (b < 0x80) {
    vHi = hi;
    return lo >>> 0;
  }
  for (let shift = 3; shift < 35; shift += 7) {
    if (pos >= end) throw truncated();
    b = buf[pos++];
    hi |= (b & 0x7f) << shift;
    if (b < 0x80) {
      vHi = hi >>> 0;
      return lo >>> 0;
    }
  }
  throw protoError(`The protobuf message has a varint longer than 10 bytes at byte ${pos - 10}.`, pos - 10);
}

/** int64 as a number (exact within ±2^53). */
function readInt64(end: number): number {
  const lo = readVarint(end);
  return (vHi | 0) * 4294967296 + lo;
}

/** uint64 as a number (exact below 2^53). */
function readUint64(end: number): number {
  const lo = readVarint(end);
  return vHi * 4294967296 + lo;
}

/** sint64 (zigzag) as a number. */
function readSint64(end: number): number {
  const lo = readVarint(end);
  const hi = vHi;
  const mask = -(lo & 1);
  const rlo = ((lo >>> 1) | (hi << 31)) ^ mask;
  const rhi = (hi >>> 1) ^ mask;
  return (rhi | 0) * 4294967296 + (rlo >>> 0);
}

/** sint32 (zigzag, low 32 bits). */
function readSint32(end: number): number {
  const n = readVarint(end);
  return (n >>> 1) ^ -(n & 1);
}

function readDouble(end: number): number {
  if (end - pos < 8) throw truncated();
  const p = pos;
  if (LITTLE_ENDIAN) {
    u8Scratch[0] = buf[p];
    u8Scratch[1] = buf[p + 1];
    u8Scratch[2] = buf[p + 2];
    u8Scratch[3] = buf[p + 3];
    u8Scratch[4] = buf[p + 4];
    u8Scratch[5] = buf[p + 5];
    u8Scratch[6] = buf[p + 6];
    u8Scratch[7] = buf[p + 7];
  } else {
    for (let i = 0; i < 8; i++) u8Scratch[7 - i] = buf[p + i];
  }
  pos = p + 8;
  return f64Scratch[0];
}

/** Read a field tag; returns (field << 3 | wireType). Rejects field number 0. */
function readTag(end: number): number {
  const b = buf[pos];
  if (b < 0x80 && b >= 8) {
    pos++;
    return b;
  }
  const start = pos;
  const tag = readVarint(end);
  if (vHi !== 0 || tag >>> 3 === 0) throw protoError(`The protobuf message has an invalid field tag at byte ${start}.`, start);
  return tag;
}

/** Read a length prefix and check that the payload fits before `end`. */
function readLength(end: number): number {
  const start = pos;
  const len = readVarint(end);
  if (vHi !== 0 || len > end - pos) {
    throw protoError(`The protobuf message has a length of ${vHi !== 0 ? 'over 2^32' : len} bytes at byte ${start}, beyond the end of its container.`, start);
  }
  return len;
}

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', 'wire type 6', 'wire type 7'];

function wrongWireType(what: string, tag: number, tagStart: number): DecodeError {
  return protoError(
    `The protobuf field ${what} has wire type ${WIRE_NAMES[tag & 7]} at byte ${tagStart}, which is not allowed for it.`,
    tagStart,
  );
}

/** Skip the payload of a field whose tag was just read. */
function skipField(tag: number, end: number): void {
  switch (tag & 7) {
    case 0:
      readVarint(end);
      return;
    case 1:
      if (end - pos < 8) throw truncated();
      pos += 8;
      return;
    case 2: {
      const len = readLength(end); // (not `pos += readLength()`: that would add to the old pos)
      pos += len;
      return;
    }
    case 3:
      skipGroup(tag >>> 3, end);
      return;
    case 5:
      if (end - pos < 4) throw truncated();
      pos += 4;
      return;
    case 4:
      throw protoError(`The protobuf message has an unexpected end-group tag at byte ${pos}.`);
    default:
      throw protoError(`The protobuf message has invalid wire type ${tag & 7} at byte ${pos}.`);
  }
}

const MAX_GROUP_DEPTH = 64;

/** Skip a (deprecated) group: everything up to the matching end-group tag. */
function skipGroup(field: number, end: number): void {
  const open: number[] = [field];
  while (open.length > 0) {
    if (pos >= end) throw truncated();
    const start = pos;
    const tag = readTag(end);
    const wt = tag & 7;
    if (wt === 4) {
      if (tag >>> 3 !== open[open.length - 1]) {
        throw protoError(`The protobuf message has a mismatched end-group tag at byte ${start}.`, start);
      }
      open.pop();
    } else if (wt === 3) {
      if (open.length >= MAX_GROUP_DEPTH) throw protoError(`The protobuf message nests groups too deeply at byte ${start}.`, start);
      open.push(tag >>> 3);
    } else {
      skipField(tag, end);
    }
  }
}

function isAsciiRange(start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] >= 0x80) return false;
  return true;
}

/** Decode a UTF-8 string field; null when the bytes are not valid UTF-8. */
function readString(start: number, end: number): string | null {
  if (start === end) return '';
  if (isAsciiRange(start, end)) return latin1(start, end);
  if (!isUtf8(buf.subarray(start, end))) return null;
  return utf8(start, end);
}

/** Label name check on raw bytes: [a-zA-Z_][a-zA-Z0-9_]*. */
function isValidNameBytes(start: number, end: number): boolean {
  if (start === end) return false;
  let c = buf[start];
  if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f)) return false;
  for (let i = start + 1; i < end; i++) {
    c = buf[i];
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f)) return false;
  }
  return true;
}

const NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LEGACY_METRIC_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const NEEDS_ESCAPE_RE = /[\\"\n]/;

function escapeValue(v: string): string {
  return NEEDS_ESCAPE_RE.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** Build the canonical identity string (see SeriesLabels.id). */
export function seriesIdentity(names: readonly string[], values: readonly string[]): string {
  let metric = '';
  let body = '';
  for (let k = 0; k < names.length; k++) {
    if (names[k] === '__name__') {
      metric = values[k];
      continue;
    }
    body += `${body === '' ? '' : ','}${names[k]}="${escapeValue(values[k])}"`;
  }
  if (LEGACY_METRIC_RE.test(metric)) return `${metric}{${body}}`;
  return `{"${escapeValue(metric)}"${body === '' ? '' : ','}${body}}`;
}

/**
 * The identity without the metric name, `{name="value",...}` (what follows the
 * metric name in `seriesIdentity` for a legacy metric name), as one flat string.
 */
export function labelsIdentity(names: readonly string[], values: readonly string[]): string {
  const parts: string[] = ['{'];
  for (let k = 0; k < names.length; k++) {
    if (names[k] === '__name__') continue;
    if (parts.length > 1) parts.push(',');
    parts.push(names[k], '="', escapeValue(values[k]), '"');
  }
  parts.push('}');
  return parts.join('');
}

// ---------------------------------------------------------------------------
// Caches

/**
 * Hash of buf[s..e): reads 4 bytes at a time through the aligned `words`
 * view (shifting when the range is unaligned), so the same bytes hash the
 * same wherever they sit. Only a bucket selector: matches are verified.
 */
function hashRange(s: number, e: number): number {
  const rs = s + wordsOffset;
  const r = rs & 3;
  const j = rs >> 2;
  const n = (e - s) >> 2; // whole 4-byte chunks
  const w = words;
  let h1 = 0x9e3779b9 ^ (e - s);
  let h2 = 0x85ebca6b;
  let k = 0;
  if (r === 0) {
    for (; k + 1 < n; k += 2) {
      h1 = Math.imul(h1 ^ w[j + k], 0x9e3779b1);
      h1 = (h1 << 13) | (h1 >>> 19);
      h2 = Math.imul(h2 ^ w[j + k + 1], 0x85ebca77);
      h2 = (h2 << 13) | (h2 >>> 19);
    }
  } else {
    // Chunk k is bytes rs+4k .. rs+4k+3, spread over words j+k and j+k+1 (little-endian
    // order; on big-endian hosts the value differs per alignment, which only costs misses).
    const sh = r << 3;
    const ish = 32 - sh;
    let cur = w[j];
    // Word j+k+2 may lie past the end of the ArrayBuffer when the range ends near it.
    const last = w.length - 2 - j;
    for (; k + 1 < n && k < last; k += 2) {
      const w1 = w[j + k + 1];
      const w2 = w[j + k + 2];
      h1 = Math.imul(h1 ^ ((cur >>> sh) | (w1 << ish)), 0x9e3779b1);
      h1 = (h1 << 13) | (h1 >>> 19);
      h2 = Math.imul(h2 ^ ((w1 >>> sh) | (w2 << ish)), 0x85ebca77);
      h2 = (h2 << 13) | (h2 >>> 19);
      cur = w2;
    }
  }
  for (let i = s + (k << 2); i < e; i++) h2 = Math.imul(h2 ^ buf[i], 0x27d4eb2f);
  let h = Math.imul(h1, 3) ^ h2;
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** Keys are copied into shared arenas: one allocation per ~1000 label sets, not one each. */
const ARENA_CHUNK_BYTES = 256 * 1024;

/**
 * One generation of the raw-bytes cache: an open-addressing table (linear probing)
 * over parallel typed arrays, with the keys copied into one arena. Per entry: a
 * probe slot, the hash, the key's place in the arena and the SeriesLabels: about
 * 30 bytes besides the key itself, and no object of its own.
 */
class RawGeneration {
  count = 0;
  /** Entry index + 1 per probe slot; 0 is empty. Length: a power of two, at least 2 × capacity. */
  private slots: Int32Array;
  private mask: number;
  private hashes: Int32Array;
  /** Where each key is: arena chunk, offset in it, length. */
  private chunkOf: Int32Array;
  private offsets: Int32Array;
  private lengths: Int32Array;
  /** 1 once the entry was copied into the next generation (the cache drops it with that one). */
  private promoted: Uint8Array;
  private labels: (SeriesLabels | undefined)[] = [];
  /** Key arenas: filled one after the other and never moved (a key longer than a chunk gets its own). */
  private chunks: Buffer[] = [];
  /** The chunk small keys go into, and how much of it is used. */
  private sharedChunk = -1;
  private chunkUsed = ARENA_CHUNK_BYTES;

  constructor(capacity: number) {
    const size = Math.max(16, capacity);
    this.hashes = new Int32Array(size);
    this.chunkOf = new Int32Array(size);
    this.offsets = new Int32Array(size);
    this.lengths = new Int32Array(size);
    this.promoted = new Uint8Array(size);
    this.slots = new Int32Array(slotsFor(size));
    this.mask = this.slots.length - 1;
  }

  /** The entry holding buf[s..e) (hash h), or -1. */
  find(h: number, s: number, e: number): number {
    const len = e - s;
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = slots[i];
      if (x === 0) return -1;
      const k = x - 1;
      if (this.hashes[k] === h && this.lengths[k] === len) {
        const off = this.offsets[k];
        if (buf.compare(this.chunks[this.chunkOf[k]], off, off + len, s, e) === 0) return k;
      }
    }
  }

  labelsAt(k: number): SeriesLabels {
    return this.labels[k]!;
  }

  markPromoted(k: number): void {
    this.promoted[k] = 1;
  }

  /** Calls `f` with every entry's labels that was not promoted. */
  forEachUnpromoted(f: (labels: SeriesLabels) => void): void {
    for (let k = 0; k < this.count; k++) if (this.promoted[k] === 0) f(this.labels[k]!);
  }

  /** Adds buf[s..e) (hash h) -> labels; the caller checks count against its bound first. */
  add(h: number, s: number, e: number, labels: SeriesLabels): void {
    const k = this.count;
    if (k === this.hashes.length) this.grow();
    const len = e - s;
    let chunk: number;
    let off: number;
    if (len > ARENA_CHUNK_BYTES / 8) {
      chunk = this.chunks.push(Buffer.allocUnsafeSlow(len)) - 1;
      off = 0;
    } else {
      if (this.chunkUsed + len > ARENA_CHUNK_BYTES) {
        this.sharedChunk = this.chunks.push(Buffer.allocUnsafeSlow(ARENA_CHUNK_BYTES)) - 1;
        this.chunkUsed = 0;
      }
      chunk = this.sharedChunk;
      off = this.chunkUsed;
      this.chunkUsed += len;
    }
    buf.copy(this.chunks[chunk], off, s, e);
    this.hashes[k] = h;
    this.chunkOf[k] = chunk;
    this.offsets[k] = off;
    this.lengths[k] = len;
    this.labels[k] = labels;
    this.count = k + 1;
    this.place(h, k);
  }

  private place(h: number, k: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = k + 1;
  }

  private grow(): void {
    const size = this.hashes.length * 2;
    const widen = (a: Int32Array) => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    this.hashes = widen(this.hashes);
    this.chunkOf = widen(this.chunkOf);
    this.offsets = widen(this.offsets);
    this.lengths = widen(this.lengths);
    const promoted = new Uint8Array(size);
    promoted.set(this.promoted);
    this.promoted = promoted;
    this.slots = new Int32Array(slotsFor(size));
    this.mask = this.slots.length - 1;
    for (let k = 0; k < this.count; k++) this.place(this.hashes[k], k);
  }
}

/** Probe slots for `entries` entries: a power of two, load factor at most 1/2. */
function slotsFor(entries: number): number {
  let n = 16;
  while (n < 2 * entries) n *= 2;
  return n;
}

/**
 * Raw label bytes -> SeriesLabels, bounded: two generations of `half`
 * entries; a hit in the old generation is promoted (its key copied into the
 * current generation, so the old one dies whole), a full young generation
 * becomes the old one and the previous old one is dropped.
 */
class RawLabelCache {
  private young: RawGeneration;
  private old: RawGeneration | null = null;
  constructor(
    private readonly half: number,
    private readonly dropped?: (labels: SeriesLabels) => void,
  ) {
    this.young = new RawGeneration(Math.min(half, 1024));
  }

  /** False when the cache keeps nothing (size 0). */
  get enabled(): boolean {
    return this.half !== 0;
  }

  /** Look up buf[s..e) (its hash is `h`). */
  get(h: number, s: number, e: number): SeriesLabels | undefined {
    const k = this.young.find(h, s, e);
    if (k >= 0) return this.young.labelsAt(k);
    if (this.old !== null) {
      const o = this.old.find(h, s, e);
      if (o >= 0) {
        const labels = this.old.labelsAt(o);
        this.old.markPromoted(o); // before insert(), which may drop this very generation
        this.insert(h, s, e, labels);
        return labels;
      }
    }
    return undefined;
  }

  /** Remember buf[s..e) (hash `h`) -> labels. */
  set(h: number, s: number, e: number, labels: SeriesLabels): void {
    if (this.half !== 0) this.insert(h, s, e, labels);
  }

  private insert(h: number, s: number, e: number, labels: SeriesLabels): void {
    if (this.young.count >= this.half) {
      const gone = this.old;
      this.old = this.young;
      // Sized like the generation it follows: it will most likely fill up the same way.
      this.young = new RawGeneration(this.half);
      if (gone !== null && this.dropped) gone.forEachUnpromoted(this.dropped);
    }
    this.young.add(h, s, e, labels);
  }

  get size(): number {
    return this.young.count + (this.old?.count ?? 0);
  }

  clear(): void {
    const young = this.young;
    const old = this.old;
    this.young = new RawGeneration(Math.min(this.half, 1024));
    this.old = null;
    if (this.dropped) {
      young.forEachUnpromoted(this.dropped);
      old?.forEachUnpromoted(this.dropped);
    }
  }
}

interface RefsEntry {
  /** Decoder-wide symbol ids of the label refs, in order. */
  readonly key: Int32Array;
  readonly labels: SeriesLabels;
  next: RefsEntry | undefined;
  /** Copied into the next generation (see RawGeneration). */
  promoted: boolean;
}

/**
 * RW2: label refs translated to decoder-wide symbol ids (stable across
 * requests) -> SeriesLabels, bounded like RawLabelCache.
 */
class RefsLabelCache {
  private young = new Map<number, RefsEntry>();
  private old = new Map<number, RefsEntry>();
  private youngCount = 0;
  private oldCount = 0;
  constructor(
    private readonly half: number,
    private readonly dropped?: (labels: SeriesLabels) => void,
  ) {}

  get enabled(): boolean {
    return this.half !== 0;
  }

  get(h: number, ids: Int32Array, n: number): SeriesLabels | undefined {
    for (let x = this.young.get(h); x !== undefined; x = x.next) if (sameIds(x.key, ids, n)) return x.labels;
    for (let x = this.old.get(h); x !== undefined; x = x.next) {
      if (sameIds(x.key, ids, n)) {
        x.promoted = true; // before insert(), which may drop this very generation
        this.insert(h, x.key, x.labels);
        return x.labels;
      }
    }
    return undefined;
  }

  set(h: number, ids: Int32Array, n: number, labels: SeriesLabels): void {
    if (this.half === 0) return;
    this.insert(h, ids.slice(0, n), labels);
  }

  private insert(h: number, key: Int32Array, labels: SeriesLabels): void {
    if (this.youngCount >= this.half) {
      const gone = this.old;
      this.old = this.young;
      this.oldCount = this.youngCount;
      this.young = new Map();
      this.youngCount = 0;
      this.drop(gone);
    }
    this.young.set(h, { key, labels, next: this.young.get(h), promoted: false });
    this.youngCount++;
  }

  private drop(generation: Map<number, RefsEntry>): void {
    if (!this.dropped) return;
    for (const first of generation.values()) {
      for (let x: RefsEntry | undefined = first; x !== undefined; x = x.next) if (!x.promoted) this.dropped(x.labels);
    }
  }

  get size(): number {
    return this.youngCount + this.oldCount;
  }

  clear(): void {
    const young = this.young;
    const old = this.old;
    this.young = new Map();
    this.old = new Map();
    this.youngCount = 0;
    this.oldCount = 0;
    this.drop(young);
    this.drop(old);
  }
}

function sameIds(key: Int32Array, ids: Int32Array, n: number): boolean {
  if (key.length !== n) return false;
  for (let i = 0; i < n; i++) if (key[i] !== ids[i]) return false;
  return true;
}

function hashIds(ids: Int32Array, n: number): number {
  let h = 0x9e3779b9 ^ n;
  for (let i = 0; i < n; i++) {
    h = Math.imul(h ^ ids[i], 0x85ebca6b);
    h = (h << 13) | (h >>> 19);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Decoder-wide symbol ids are dropped (with the RW2 cache) beyond this many distinct symbols. */
const MAX_SYMBOL_IDS = 1_000_000;

/** Label names repeat across series; keep one copy of each (found by bytes, without decoding). */
const NAME_INTERN_MAX = 4096;
const NAME_SLOTS = 512;

interface KnownName {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly next: KnownName | undefined;
}

/**
 * Label values repeat across series (testid, method, status, url, ...): a new label
 * set shares the strings already held by earlier ones. Bounded: the table starts
 * over beyond this many distinct values (strings already shared stay shared).
 */
const VALUE_INTERN_MAX = 1 << 16;
/** Label-name lists repeat even more: label sets with the same names share one frozen array. */
const NAMES_INTERN_MAX = 4096;

/** One string per distinct value, bounded (see VALUE_INTERN_MAX). */
class StringInterner {
  private map = new Map<string, string>();
  constructor(private readonly max: number) {}
  intern(s: string): string {
    const known = this.map.get(s);
    if (known !== undefined) return known;
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(s, s);
    return s;
  }
  clear(): void {
    this.map.clear();
  }
}

/** One frozen array per distinct list of (interned) label names, bounded. */
class NamesInterner {
  private map = new Map<string, readonly string[]>();
  constructor(private readonly max: number) {}
  intern(names: string[]): readonly string[] {
    // Label names are [a-zA-Z0-9_]: a comma cannot be part of one.
    const key = names.join(',');
    const known = this.map.get(key);
    if (known !== undefined) return known;
    if (this.map.size >= this.max) this.map.clear();
    const shared = Object.freeze(names.slice());
    this.map.set(key, shared);
    return shared;
  }
  clear(): void {
    this.map.clear();
  }
}

// ---------------------------------------------------------------------------
// The decoder

export interface DecoderStats {
  /** Series whose labels came from the raw-bytes cache. */
  cacheHits: number;
  /** Series whose labels were decoded and validated. */
  cacheMisses: number;
  /** Cache entries (RW1 and RW2; an entry promoted to the young generation may count twice). */
  cachedLabelSets: number;
}

/**
 * Decoder with its own label-set cache and scratch buffers. Options are fixed
 * at construction (cached label sets were validated with them). Not safe to
 * share between worker threads; fine to share within one event loop.
 */
export class RemoteWriteDecoder {
  readonly maxLabels: number;
  readonly maxLabelValueBytes: number;
  readonly maxUncompressedBytes: number;

  private readonly byRaw: RawLabelCache;
  private readonly byRefs: RefsLabelCache;
  private readonly adopt: DecoderOptions['adopt'];
  /** Symbol string -> decoder-wide id (RW2). */
  private symbolIds = new Map<string, number>();
  /** Per symbol of the current request: its decoder-wide id. */
  private symbolGids = new Int32Array(1024);
  /** Decoder-wide ids of the current series' label refs. */
  private refIds = new Int32Array(128);
  private nameSlots: (KnownName | undefined)[] = new Array<KnownName | undefined>(NAME_SLOTS).fill(undefined);
  private nameCount = 0;
  private readonly valueStrings = new StringInterner(VALUE_INTERN_MAX);
  private readonly nameLists = new NamesInterner(NAMES_INTERN_MAX);
  /** Scratch lists for the label set being decoded (copied, exact size, when kept). */
  private scratchNames: string[] = [];
  private scratchValues: string[] = [];
  private scratch: Buffer = Buffer.alloc(0);
  /** Label message ranges of the current series (RW1). */
  private labelStarts: Int32Array;
  private labelEnds: Int32Array;
  /** Label refs of the current series (RW2). */
  private refs = new Uint32Array(128);
  /** Series message ranges of the current request (RW2). */
  private seriesRanges = new Int32Array(2048);
  private symbols: string[] = [];
  private symbolBytes = new Int32Array(1024);
  /** Per symbol: 0 not checked, 1 valid label name, 2 invalid. */
  private symbolNameState = new Uint8Array(1024);
  private hits = 0;
  private misses = 0;

  constructor(options: DecoderOptions = {}) {
    this.maxLabels = options.maxLabels ?? 64;
    this.maxLabelValueBytes = options.maxLabelValueBytes ?? 2048;
    this.maxUncompressedBytes = options.maxUncompressedBytes ?? 32 * 1024 * 1024;
    const cacheSize = options.seriesCacheSize ?? 200_000;
    this.byRaw = new RawLabelCache(Math.ceil(cacheSize / 2), options.dropped);
    this.byRefs = new RefsLabelCache(Math.ceil(cacheSize / 2), options.dropped);
    this.adopt = options.adopt;
    this.labelStarts = new Int32Array(this.maxLabels + 1);
    this.labelEnds = new Int32Array(this.maxLabels + 1);
  }

  get stats(): DecoderStats {
    return { cacheHits: this.hits, cacheMisses: this.misses, cachedLabelSets: this.byRaw.size + this.byRefs.size };
  }

  clearCache(): void {
    this.byRaw.clear();
    this.byRefs.clear();
    this.symbolIds.clear();
    this.nameSlots.fill(undefined);
    this.nameCount = 0;
    this.valueStrings.clear();
    this.nameLists.clear();
  }

  /**
   * Decompress (snappy block format, limited to `maxUncompressedBytes`) and
   * decode a request body. `batch.body` is set to `body` itself.
   */
  decodeSnappy(body: Uint8Array, version: RemoteWriteVersion, into?: DecodedBatch): DecodedBatch {
    const batch = into ?? new DecodedBatch();
    batch.reset(version);
    const raw = snappyUncompress(body, this.maxUncompressedBytes, this.scratch);
    if (raw.buffer !== this.scratch.buffer && raw.length <= 4 * 1024 * 1024 && raw.length > this.scratch.length) {
      this.scratch = raw; // reuse next time (the decoded batch never points into it)
    }
    this.decode(raw, version, batch);
    batch.body = body;
    batch.bodyByteLength = body.length;
    return batch;
  }

  /** Decode an uncompressed protobuf message. */
  decode(message: Uint8Array, version: RemoteWriteVersion, into?: DecodedBatch): DecodedBatch {
    return version === 2 ? this.decodeV2(message, into) : this.decodeV1(message, into);
  }

  /** Decode an uncompressed `prometheus.WriteRequest` (remote write 1.0). */
  decodeV1(message: Uint8Array, into?: DecodedBatch): DecodedBatch {
    const batch = into ?? new DecodedBatch();
    batch.reset(1);
    setInput(message);
    const end = buf.length;
    try {
      while (pos < end) {
        const tagStart = pos;
        const tag = readTag(end);
        if (tag >>> 3 === 1) {
          if ((tag & 7) !== 2) throw wrongWireType('WriteRequest.timeseries', tag, tagStart);
          const len = readLength(end);
          this.decodeSeriesV1(batch, pos + len);
        } else {
          if (tag >>> 3 === 3 && (tag & 7) !== 2) throw wrongWireType('WriteRequest.metadata', tag, tagStart);
          skipField(tag, end);
        }
      }
      batch.protobufByteLength = end;
      return batch;
    } catch (err) {
      batch.clearAfterError();
      throw err;
    } finally {
      clearInput();
    }
  }

  /** Decode an uncompressed `io.prometheus.write.v2.Request` (remote write 2.0). */
  decodeV2(message: Uint8Array, into?: DecodedBatch): DecodedBatch {
    const batch = into ?? new DecodedBatch();
    batch.reset(2);
    setInput(message);
    const end = buf.length;
    const symbols = this.symbols;
    symbols.length = 0;
    let nSeries = 0;
    if (this.symbolIds.size > MAX_SYMBOL_IDS) {
      this.symbolIds.clear();
      this.byRefs.clear();
    }
    try {
      // Pass 1: symbols (decoded now) and series ranges (decoded once all symbols are known).
      while (pos < end) {
        const tagStart = pos;
        const tag = readTag(end);
        const field = tag >>> 3;
        if (field === 4) {
          if ((tag & 7) !== 2) throw wrongWireType('Request.symbols', tag, tagStart);
          const len = readLength(end);
          const s = readString(pos, pos + len);
          if (s === null) throw protoError(`Symbol ${symbols.length} is not valid UTF-8.`, pos);
          const k = symbols.length;
          if (k >= this.symbolBytes.length) {
            const nb = new Int32Array(this.symbolBytes.length * 2);
            nb.set(this.symbolBytes);
            this.symbolBytes = nb;
            this.symbolNameState = new Uint8Array(nb.length);
            const ng = new Int32Array(nb.length);
            ng.set(this.symbolGids);
            this.symbolGids = ng;
          }
          this.symbolBytes[k] = len;
          let gid = this.symbolIds.get(s);
          if (gid === undefined) {
            gid = this.symbolIds.size + 1;
            this.symbolIds.set(s, gid);
          }
          this.symbolGids[k] = gid;
          symbols.push(s);
          pos += len;
        } else if (field === 5) {
          if ((tag & 7) !== 2) throw wrongWireType('Request.timeseries', tag, tagStart);
          const len = readLength(end);
          if (2 * nSeries + 2 > this.seriesRanges.length) {
            const nr = new Int32Array(this.seriesRanges.length * 2);
            nr.set(this.seriesRanges);
            this.seriesRanges = nr;
          }
          this.seriesRanges[2 * nSeries] = pos;
          this.seriesRanges[2 * nSeries + 1] = pos + len;
          nSeries++;
          pos += len;
        } else {
          skipField(tag, end);
        }
      }
      if (symbols.length > 0 && symbols[0] !== '') {
        throw new DecodeError('bad_symbol_ref', `The first symbol must be the empty string, but it is ${quoteForMessage(symbols[0])}.`);
      }
      this.symbolNameState.fill(0, 0, symbols.length);
      for (let i = 0; i < nSeries; i++) {
        pos = this.seriesRanges[2 * i];
        this.decodeSeriesV2(batch, this.seriesRanges[2 * i + 1]);
      }
      batch.protobufByteLength = end;
      return batch;
    } catch (err) {
      batch.clearAfterError();
      throw err;
    } finally {
      clearInput();
      symbols.length = 0;
    }
  }

  // --- RW1 -------------------------------------------------------------------

  private decodeSeriesV1(batch: DecodedBatch, end: number): void {
    const seriesIndex = batch.seriesCount;
    currentSeries = seriesIndex;
    batch.beginSeries();
    let labelCount = 0;
    let rawStart = -1;
    let rawEnd = -1;
    let contiguous = true;
    const maxLabels = this.maxLabels;
    if (pos < end && buf[pos] === 0x0a) {
      // Fast path for the usual layout, labels first, each with a one-byte tag (field 1,
      // length-delimited) and a one-byte length: the same checks as the loop below, which
      // takes over at the first field that is anything else (and reports any error).
      const starts = this.labelStarts;
      const ends = this.labelEnds;
      let p = pos;
      rawStart = p;
      while (labelCount < maxLabels && p + 1 < end && buf[p] === 0x0a) {
        const len = buf[p + 1];
        if (len >= 0x80 || len > end - p - 2) break;
        starts[labelCount] = p + 2;
        ends[labelCount] = p + 2 + len;
        labelCount++;
        p += 2 + len;
      }
      pos = p;
      rawEnd = p;
      if (labelCount === 0) rawStart = -1;
    }
    while (pos < end) {
      const tagStart = pos;
      const tag = readTag(end);
      switch (tag >>> 3) {
        case 1: {
          if ((tag & 7) !== 2) throw wrongWireType('TimeSeries.labels', tag, tagStart);
          const len = readLength(end);
          if (labelCount === 0) rawStart = tagStart;
          else if (rawEnd !== tagStart) contiguous = false;
          if (labelCount >= maxLabels) {
            throw new DecodeError(
              'too_many_labels',
              `Series ${seriesIndex} has more than ${maxLabels} labels.`,
              { seriesIndex },
            );
          }
          this.labelStarts[labelCount] = pos;
          this.labelEnds[labelCount] = pos + len;
          labelCount++;
          pos += len;
          rawEnd = pos;
          break;
        }
        case 2: {
          if ((tag & 7) !== 2) throw wrongWireType('TimeSeries.samples', tag, tagStart);
          const len = readLength(end);
          readSample(batch, pos + len);
          break;
        }
        case 4: {
          if ((tag & 7) !== 2) throw wrongWireType('TimeSeries.histograms', tag, tagStart);
          const len = readLength(end);
          batch.addHistogram(readHistogram(pos + len));
          break;
        }
        case 3:
          if ((tag & 7) !== 2) throw wrongWireType('TimeSeries.exemplars', tag, tagStart);
          skipField(tag, end);
          break;
        default:
          skipField(tag, end);
      }
    }
    if (labelCount === 0) {
      throw new DecodeError('missing_metric_name', `Series ${seriesIndex} has no labels, so no __name__ label.`, { seriesIndex });
    }
    let labels: SeriesLabels | undefined;
    let h = 0;
    if (contiguous) {
      h = hashRange(rawStart, rawEnd);
      labels = this.byRaw.get(h, rawStart, rawEnd);
    }
    if (labels === undefined) {
      this.misses++;
      labels = this.decodeLabelsV1(seriesIndex, labelCount);
      if (this.adopt) labels = this.adopt(labels, contiguous && this.byRaw.enabled);
      if (contiguous) this.byRaw.set(h, rawStart, rawEnd, labels);
    } else {
      this.hits++;
    }
    pos = end;
    batch.endSeries(labels);
  }

  /** Decode and validate the label messages recorded for the current series. */
  private decodeLabelsV1(seriesIndex: number, labelCount: number): SeriesLabels {
    const names = this.scratchNames;
    const values = this.scratchValues;
    names.length = 0;
    values.length = 0;
    let metricName: string | undefined;
    let prevStart = 0;
    let prevEnd = 0;
    for (let k = 0; k < labelCount; k++) {
      const end = this.labelEnds[k];
      pos = this.labelStarts[k];
      let nameStart = pos;
      let nameEnd = pos;
      let valueStart = pos;
      let valueEnd = pos;
      while (pos < end) {
        const tagStart = pos;
        const tag = readTag(end);
        const field = tag >>> 3;
        if (field === 1 || field === 2) {
          if ((tag & 7) !== 2) throw wrongWireType(field === 1 ? 'Label.name' : 'Label.value', tag, tagStart);
          const len = readLength(end);
          if (field === 1) {
            nameStart = pos;
            nameEnd = pos + len;
          } else {
            valueStart = pos;
            valueEnd = pos + len;
          }
          pos += len;
        } else {
          skipField(tag, end);
        }
      }
      if (!isValidNameBytes(nameStart, nameEnd)) {
        const shown = utf8(nameStart, nameEnd);
        throw new DecodeError(
          'invalid_label_name',
          `Series ${seriesIndex} has an invalid label name ${quoteForMessage(shown)}.`,
          { seriesIndex, labelName: shown },
        );
      }
      const name = this.internName(nameStart, nameEnd);
      if (k > 0) {
        const cmp = compareBytes(prevStart, prevEnd, nameStart, nameEnd);
        if (cmp === 0) {
          throw new DecodeError('duplicate_label', `Series ${seriesIndex} has the label ${quoteForMessage(name)} more than once.`, {
            seriesIndex,
            labelName: name,
          });
        }
        if (cmp > 0) {
          throw new DecodeError(
            'unsorted_labels',
            `Series ${seriesIndex} has label ${quoteForMessage(name)} after ${quoteForMessage(names[k - 1])}, but label names must be sorted.`,
            { seriesIndex, labelName: name },
          );
        }
      }
      prevStart = nameStart;
      prevEnd = nameEnd;
      if (valueEnd - valueStart > this.maxLabelValueBytes) {
        throw new DecodeError(
          'label_value_too_long',
          `Series ${seriesIndex} has a value of ${valueEnd - valueStart} bytes for label ${quoteForMessage(name)}, more than the limit of ${this.maxLabelValueBytes}.`,
          { seriesIndex, labelName: name },
        );
      }
      let value: string;
      if (isAsciiRange(valueStart, valueEnd)) {
        value = valueStart === valueEnd ? '' : latin1(valueStart, valueEnd);
      } else {
        if (!isUtf8(buf.subarray(valueStart, valueEnd))) {
          throw new DecodeError('bad_protobuf', `Series ${seriesIndex} has a value for label ${quoteForMessage(name)} that is not valid UTF-8.`, {
            seriesIndex,
            labelName: name,
            offset: valueStart,
          });
        }
        value = utf8(valueStart, valueEnd);
      }
      value = this.valueStrings.intern(value);
      if (name === '__name__') {
        if (value === '') {
          throw new DecodeError('invalid_label_name', `Series ${seriesIndex} has an empty __name__ label.`, {
            seriesIndex,
            labelName: name,
          });
        }
        metricName = value;
      }
      names.push(name);
      values.push(value);
    }
    if (metricName === undefined) {
      throw new DecodeError('missing_metric_name', `Series ${seriesIndex} has no __name__ label.`, { seriesIndex });
    }
    return makeSeriesLabels(metricName, this.nameLists.intern(names), values.slice());
  }

  /** The label name in buf[start..end) (already validated as ASCII), one string per distinct name. */
  private internName(start: number, end: number): string {
    const len = end - start;
    const slot = (len * 31 + buf[start] * 7 + buf[end - 1]) & (NAME_SLOTS - 1);
    search: for (let x = this.nameSlots[slot]; x !== undefined; x = x.next) {
      const b = x.bytes;
      if (b.length !== len) continue;
      for (let i = 0; i < len; i++) if (b[i] !== buf[start + i]) continue search;
      return x.name;
    }
    if (++this.nameCount > NAME_INTERN_MAX) {
      this.nameSlots.fill(undefined);
      this.nameCount = 1;
    }
    const name = latin1(start, end);
    this.nameSlots[slot] = { bytes: Uint8Array.prototype.slice.call(buf, start, end), name, next: this.nameSlots[slot] };
    return name;
  }

  // --- RW2 -------------------------------------------------------------------

  private decodeSeriesV2(batch: DecodedBatch, end: number): void {
    const seriesIndex = batch.seriesCount;
    currentSeries = seriesIndex;
    batch.beginSeries();
    let nRefs = 0;
    while (pos < end) {
      const tagStart = pos;
      const tag = readTag(end);
      switch (tag >>> 3) {
        case 1: {
          if ((tag & 7) === 0) {
            nRefs = this.pushRef(nRefs, readVarint(end), seriesIndex);
          } else if ((tag & 7) === 2) {
            const len = readLength(end);
            const pend = pos + len;
            while (pos < pend) nRefs = this.pushRef(nRefs, readVarint(pend), seriesIndex);
          } else {
            throw wrongWireType('TimeSeries.labels_refs', tag, tagStart);
          }
          break;
        }
        case 2: {
          if ((tag & 7) !== 2) throw wrongWireType('TimeSeries.samples', tag, tagStart);
          const len = readLength(end);
          readSample(batch, pos + len);
          break;
        }
        case 3: {
          if ((tag & 7) !== 2) throw wrongWireType('TimeSeries.histograms', tag, tagStart);
          const len = readLength(end);
          batch.addHistogram(readHistogram(pos + len));
          break;
        }
        case 4:
          if ((tag & 7) !== 2) throw wrongWireType('TimeSeries.exemplars', tag, tagStart);
          skipField(tag, end);
          break;
        case 5:
          if ((tag & 7) !== 2) throw wrongWireType('TimeSeries.metadata', tag, tagStart);
          skipField(tag, end);
          break;
        case 6:
          if ((tag & 7) !== 0) throw wrongWireType('TimeSeries.created_timestamp', tag, tagStart);
          batch.createdTimestamps[seriesIndex] = readInt64(end);
          break;
        default:
          skipField(tag, end);
      }
    }
    batch.endSeries(this.resolveLabelsV2(seriesIndex, nRefs));
  }

  private pushRef(n: number, ref: number, seriesIndex: number): number {
    if (vHi !== 0 || ref >= this.symbols.length) {
      const shown = vHi !== 0 ? 'beyond 2^32' : String(ref);
      throw new DecodeError(
        'bad_symbol_ref',
        `Series ${seriesIndex} refers to symbol ${shown}, but the request has only ${this.symbols.length} symbols.`,
        { seriesIndex },
      );
    }
    if (n >= 2 * this.maxLabels) {
      throw new DecodeError('too_many_labels', `Series ${seriesIndex} has more than ${this.maxLabels} labels.`, { seriesIndex });
    }
    if (n >= this.refs.length) {
      const nr = new Uint32Array(this.refs.length * 2);
      nr.set(this.refs);
      this.refs = nr;
    }
    this.refs[n] = ref;
    return n + 1;
  }

  private resolveLabelsV2(seriesIndex: number, nRefs: number): SeriesLabels {
    if (nRefs % 2 !== 0) {
      throw new DecodeError('bad_symbol_ref', `Series ${seriesIndex} has an odd number (${nRefs}) of label references.`, { seriesIndex });
    }
    if (nRefs === 0) {
      throw new DecodeError('missing_metric_name', `Series ${seriesIndex} has no labels, so no __name__ label.`, { seriesIndex });
    }
    const refs = this.refs;
    // Same decoder-wide symbol ids in the same order = same label set, already validated.
    if (this.refIds.length < nRefs) this.refIds = new Int32Array(this.refs.length);
    const ids = this.refIds;
    const gids = this.symbolGids;
    for (let k = 0; k < nRefs; k++) ids[k] = gids[refs[k]];
    const h = hashIds(ids, nRefs);
    const cached = this.byRefs.get(h, ids, nRefs);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    this.misses++;
    let labels = this.validateLabelsV2(seriesIndex, nRefs);
    if (this.adopt) labels = this.adopt(labels, this.byRefs.enabled);
    this.byRefs.set(h, ids, nRefs, labels);
    return labels;
  }

  private validateLabelsV2(seriesIndex: number, nRefs: number): SeriesLabels {
    const symbols = this.symbols;
    const refs = this.refs;
    const state = this.symbolNameState;
    let metricName: string | undefined;
    let prev = '';
    for (let k = 0; k < nRefs; k += 2) {
      const nameRef = refs[k];
      const name = symbols[nameRef];
      let st = state[nameRef];
      if (st === 0) {
        st = NAME_RE.test(name) ? 1 : 2;
        state[nameRef] = st;
      }
      if (st !== 1) {
        throw new DecodeError('invalid_label_name', `Series ${seriesIndex} has an invalid label name ${quoteForMessage(name)}.`, {
          seriesIndex,
          labelName: name,
        });
      }
      // Valid names are ASCII, so string order is byte order.
      if (k > 0) {
        if (name === prev) {
          throw new DecodeError('duplicate_label', `Series ${seriesIndex} has the label ${quoteForMessage(name)} more than once.`, {
            seriesIndex,
            labelName: name,
          });
        }
        if (name < prev) {
          throw new DecodeError(
            'unsorted_labels',
            `Series ${seriesIndex} has label ${quoteForMessage(name)} after ${quoteForMessage(prev)}, but label names must be sorted.`,
            { seriesIndex, labelName: name },
          );
        }
      }
      prev = name;
      const valueRef = refs[k + 1];
      if (this.symbolBytes[valueRef] > this.maxLabelValueBytes) {
        throw new DecodeError(
          'label_value_too_long',
          `Series ${seriesIndex} has a value of ${this.symbolBytes[valueRef]} bytes for label ${quoteForMessage(name)}, more than the limit of ${this.maxLabelValueBytes}.`,
          { seriesIndex, labelName: name },
        );
      }
      if (name === '__name__') {
        const v = symbols[valueRef];
        if (v === '') {
          throw new DecodeError('invalid_label_name', `Series ${seriesIndex} has an empty __name__ label.`, { seriesIndex, labelName: name });
        }
        metricName = v;
      }
    }
    if (metricName === undefined) {
      throw new DecodeError('missing_metric_name', `Series ${seriesIndex} has no __name__ label.`, { seriesIndex });
    }
    const names = this.scratchNames;
    const values = this.scratchValues;
    names.length = 0;
    values.length = 0;
    for (let k = 0; k < nRefs; k += 2) {
      names.push(symbols[refs[k]]);
      values.push(this.valueStrings.intern(symbols[refs[k + 1]]));
    }
    return makeSeriesLabels(metricName, this.nameLists.intern(names), values.slice());
  }
}

/**
 * @internal SeriesLabels made from strings decoded elsewhere (a decode worker's
 * definitions, see decode-pool.ts), sharing strings and name lists with the label
 * sets made before, as the decoder's own do.
 */
export class SeriesLabelsFactory {
  private readonly valueStrings = new StringInterner(VALUE_INTERN_MAX);
  private readonly nameLists = new NamesInterner(NAMES_INTERN_MAX);

  make(metricName: string, names: readonly string[], values: readonly string[]): SeriesLabels {
    const interned = new Array<string>(values.length);
    for (let k = 0; k < values.length; k++) interned[k] = this.valueStrings.intern(values[k]);
    return makeSeriesLabels(this.valueStrings.intern(metricName), this.nameLists.intern(names as string[]), interned);
  }
}

/** The decoder's SeriesLabels: frozen, `id` computed when read (see SeriesLabels.id). */
class DecodedLabels implements SeriesLabels {
  readonly slot: SeriesSlot = { value: undefined };
  constructor(
    readonly metricName: string,
    readonly names: readonly string[],
    readonly values: readonly string[],
  ) {
    Object.freeze(this);
  }

  get id(): string {
    return seriesIdentity(this.names, this.values);
  }
}

/** `names` is frozen (and shared) already, `values` is frozen here. */
function makeSeriesLabels(metricName: string, names: readonly string[], values: string[]): SeriesLabels {
  return new DecodedLabels(metricName, names, Object.freeze(values));
}

function asFastBuffer(u: Uint8Array): FastBuffer {
  return (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength)) as FastBuffer;
}

function compareBytes(aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const d = buf[aStart + i] - buf[bStart + i];
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}

// ---------------------------------------------------------------------------
// Sample and Histogram messages (shared by RW1 and RW2: same field numbers)

function readSample(batch: DecodedBatch, end: number): void {
  let value = 0;
  let timestamp = 0;
  while (pos < end) {
    const b = buf[pos];
    if (b === 0x09) {
      pos++;
      value = readDouble(end);
    } else if (b === 0x10) {
      pos++;
      timestamp = readInt64(end);
    } else {
      // Unknown fields, wrong wire types, or (valid but unusual) over-long tag varints.
      const tagStart = pos;
      const tag = readTag(end);
      const field = tag >>> 3;
      if (field === 1) {
        if ((tag & 7) !== 1) throw wrongWireType('Sample.value', tag, tagStart);
        value = readDouble(end);
      } else if (field === 2) {
        if ((tag & 7) !== 0) throw wrongWireType('Sample.timestamp', tag, tagStart);
        timestamp = readInt64(end);
      } else {
        skipField(tag, end);
      }
    }
  }
  const k = batch.sampleCount;
  if (k >= batch.sampleValues.length) batch.growSamples();
  batch.sampleValues[k] = value;
  batch.sampleTimestamps[k] = timestamp;
  batch.sampleCount = k + 1;
}

function readSpan(end: number, into: BucketSpan[]): void {
  let offset = 0;
  let length = 0;
  while (pos < end) {
    const tagStart = pos;
    const tag = readTag(end);
    const field = tag >>> 3;
    if (field === 1) {
      if ((tag & 7) !== 0) throw wrongWireType('BucketSpan.offset', tag, tagStart);
      offset = readSint32(end);
    } else if (field === 2) {
      if ((tag & 7) !== 0) throw wrongWireType('BucketSpan.length', tag, tagStart);
      length = readVarint(end);
    } else {
      skipField(tag, end);
    }
  }
  into.push({ offset, length });
}

/** Repeated sint64, packed or not. */
function readDeltas(tag: number, tagStart: number, end: number, into: number[], what: string): void {
  if ((tag & 7) === 0) {
    into.push(readSint64(end));
  } else if ((tag & 7) === 2) {
    const len = readLength(end);
    const pend = pos + len;
    while (pos < pend) into.push(readSint64(pend));
  } else {
    throw wrongWireType(what, tag, tagStart);
  }
}

/** Repeated double, packed or not. */
function readDoubles(tag: number, tagStart: number, end: number, into: number[], what: string): void {
  if ((tag & 7) === 1) {
    into.push(readDouble(end));
  } else if ((tag & 7) === 2) {
    const len = readLength(end);
    if (len % 8 !== 0) throw protoError(`The packed field ${what} at byte ${tagStart} has ${len} bytes, not a multiple of 8.`, tagStart);
    const pend = pos + len;
    while (pos < pend) into.push(readDouble(pend));
  } else {
    throw wrongWireType(what, tag, tagStart);
  }
}

function cumulative(deltas: number[]): number[] {
  let acc = 0;
  for (let i = 0; i < deltas.length; i++) {
    acc += deltas[i];
    deltas[i] = acc;
  }
  return deltas;
}

/** Set by the series decoders so histogram errors can name the series. */
let currentSeries = 0;

function histogramError(message: string): DecodeError {
  return new DecodeError('bad_histogram', `Series ${currentSeries} has ${message}`, { seriesIndex: currentSeries });
}

function checkSpans(spans: BucketSpan[], buckets: number, side: string, isFloat: boolean): void {
  let covered = 0;
  for (let i = 0; i < spans.length; i++) covered += spans[i].length;
  if (covered !== buckets) {
    throw histogramError(
      `${isFloat ? 'a float' : 'an integer'} histogram whose ${side} spans cover ${covered} buckets but which has ${buckets} ${side} ${isFloat ? 'counts' : 'deltas'}.`,
    );
  }
}

/** Schema -53: buckets bounded by custom_values (NHCB). */
const CUSTOM_BUCKETS_SCHEMA = -53;

/**
 * Bucket indexes of one side: after the first span, offsets must not be
 * negative (spans go upwards), and every index must stay within [min, max].
 */
function checkBucketIndexes(spans: BucketSpan[], side: string, min: number, max: number, what: string): void {
  let index = 0;
  for (let k = 0; k < spans.length; k++) {
    const { offset, length } = spans[k];
    if (k > 0 && offset < 0) throw histogramError(`a native histogram whose ${side} span ${k} has a negative offset (${offset}).`);
    index += offset;
    if (length > 0) {
      const last = index + length - 1;
      if (index < min || last > max) {
        throw histogramError(`a native histogram with a ${side} bucket at index ${index < min ? index : last}, ${what}.`);
      }
    }
    index += length;
  }
}

function checkCounts(buckets: number[], side: string): void {
  for (let i = 0; i < buckets.length; i++) {
    if (buckets[i] < 0) throw histogramError(`a native histogram whose ${side} bucket ${i} has a negative count (${buckets[i]}).`);
  }
}

/**
 * The checks Prometheus applies to native histograms (histogram.Validate),
 * plus one: exponential bucket indexes must stay within float64 range (a
 * bucket of schema s at index i has upper bound 2^(i / 2^s); beyond |i| =
 * 1100 × 2^s the bounds are 0 or +Inf), so consumers never face index gaps
 * in the millions.
 */
function validateHistogram(h: NativeHistogram): void {
  const schema = h.schema;
  if (schema !== CUSTOM_BUCKETS_SCHEMA && (schema < -4 || schema > 8)) {
    throw histogramError(`a native histogram with schema ${schema}; schemas are -4 to 8, or -53 for custom buckets.`);
  }
  checkSpans(h.positiveSpans, h.positiveBuckets.length, 'positive', h.isFloat);
  checkSpans(h.negativeSpans, h.negativeBuckets.length, 'negative', h.isFloat);
  if (schema === CUSTOM_BUCKETS_SCHEMA) {
    const bounds = h.customValues;
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) throw histogramError('a custom-bucket histogram whose custom values are not strictly increasing.');
    }
    if (h.negativeSpans.length > 0 || h.negativeBuckets.length > 0 || h.zeroCount !== 0 || h.zeroThreshold !== 0) {
      throw histogramError('a custom-bucket histogram with negative buckets or a zero bucket, which custom buckets cannot have.');
    }
    // Index bounds.length is the +Inf bucket.
    checkBucketIndexes(h.positiveSpans, 'positive', 0, bounds.length, `but it has ${bounds.length} custom values`);
  } else {
    if (h.customValues.length > 0) throw histogramError(`a native histogram with schema ${schema} and custom values, which only schema -53 may have.`);
    const limit = Math.ceil(1100 * 2 ** schema);
    const what = `beyond the float64 range of schema ${schema}`;
    checkBucketIndexes(h.positiveSpans, 'positive', -limit, limit, what);
    checkBucketIndexes(h.negativeSpans, 'negative', -limit, limit, what);
  }
  checkCounts(h.positiveBuckets, 'positive');
  checkCounts(h.negativeBuckets, 'negative');
}

function readHistogram(end: number): NativeHistogram {
  let countInt = 0;
  let countFloat = 0;
  let isFloat = false;
  let sum = 0;
  let schema = 0;
  let zeroThreshold = 0;
  let zeroCountInt = 0;
  let zeroCountFloat = 0;
  let zeroIsFloat = false;
  const negativeSpans: BucketSpan[] = [];
  const negativeDeltas: number[] = [];
  const negativeCounts: number[] = [];
  const positiveSpans: BucketSpan[] = [];
  const positiveDeltas: number[] = [];
  const positiveCounts: number[] = [];
  const customValues: number[] = [];
  let resetHint = 0;
  let timestamp = 0;
  while (pos < end) {
    const tagStart = pos;
    const tag = readTag(end);
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wt !== 0) throw wrongWireType('Histogram.count_int', tag, tagStart);
        countInt = readUint64(end);
        isFloat = false;
        break;
      case 2:
        if (wt !== 1) throw wrongWireType('Histogram.count_float', tag, tagStart);
        countFloat = readDouble(end);
        isFloat = true;
        break;
      case 3:
        if (wt !== 1) throw wrongWireType('Histogram.sum', tag, tagStart);
        sum = readDouble(end);
        break;
      case 4:
        if (wt !== 0) throw wrongWireType('Histogram.schema', tag, tagStart);
        schema = readSint32(end);
        break;
      case 5:
        if (wt !== 1) throw wrongWireType('Histogram.zero_threshold', tag, tagStart);
        zeroThreshold = readDouble(end);
        break;
      case 6:
        if (wt !== 0) throw wrongWireType('Histogram.zero_count_int', tag, tagStart);
        zeroCountInt = readUint64(end);
        zeroIsFloat = false;
        break;
      case 7:
        if (wt !== 1) throw wrongWireType('Histogram.zero_count_float', tag, tagStart);
        zeroCountFloat = readDouble(end);
        zeroIsFloat = true;
        break;
      case 8:
      case 11: {
        if (wt !== 2) throw wrongWireType(tag >>> 3 === 8 ? 'Histogram.negative_spans' : 'Histogram.positive_spans', tag, tagStart);
        const len = readLength(end);
        readSpan(pos + len, tag >>> 3 === 8 ? negativeSpans : positiveSpans);
        break;
      }
      case 9:
        readDeltas(tag, tagStart, end, negativeDeltas, 'Histogram.negative_deltas');
        break;
      case 10:
        readDoubles(tag, tagStart, end, negativeCounts, 'Histogram.negative_counts');
        break;
      case 12:
        readDeltas(tag, tagStart, end, positiveDeltas, 'Histogram.positive_deltas');
        break;
      case 13:
        readDoubles(tag, tagStart, end, positiveCounts, 'Histogram.positive_counts');
        break;
      case 14:
        if (wt !== 0) throw wrongWireType('Histogram.reset_hint', tag, tagStart);
        resetHint = readVarint(end) | 0;
        break;
      case 15:
        if (wt !== 0) throw wrongWireType('Histogram.timestamp', tag, tagStart);
        timestamp = readInt64(end);
        break;
      case 16:
        readDoubles(tag, tagStart, end, customValues, 'Histogram.custom_values');
        break;
      default:
        skipField(tag, end);
    }
  }
  const h: NativeHistogram = {
    count: isFloat ? countFloat : countInt,
    sum,
    schema,
    zeroThreshold,
    zeroCount: zeroIsFloat ? zeroCountFloat : zeroCountInt,
    positiveSpans,
    positiveBuckets: isFloat ? positiveCounts : cumulative(positiveDeltas),
    negativeSpans,
    negativeBuckets: isFloat ? negativeCounts : cumulative(negativeDeltas),
    resetHint,
    timestamp,
    isFloat,
    customValues,
  };
  validateHistogram(h);
  return h;
}

// ---------------------------------------------------------------------------
// Convenience

let defaultDecoder: RemoteWriteDecoder | undefined;

/**
 * Decompress and decode with a shared default decoder (default limits).
 * Handlers should own a `RemoteWriteDecoder` configured with their limits.
 */
export function decodeRemoteWrite(body: Uint8Array, version: RemoteWriteVersion = 1, into?: DecodedBatch): DecodedBatch {
  defaultDecoder ??= new RemoteWriteDecoder();
  return defaultDecoder.decodeSnappy(body, version, into);
}
