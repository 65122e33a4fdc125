// The decoded content of one request, columnar: what the decoder fills, the decode
// worker transfers and grading and the fan-out read.
import type { SeriesLabels } from './labels.ts';
import { FLAG_STALE, H_FLAGS, H_TIMESTAMP, histogramOfRecord, type NativeHistogram as HistogramShape } from './histogram.ts';

/** Is this machine little-endian (the byte order of the typed arrays' numbers)? */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type RemoteWriteVersion = 1 | 2;

/**
 * A native histogram as an object (see DecodedBatch.histogram): the shape the
 * histogram math works on (absolute bucket counts; integer histograms' deltas already
 * summed), plus what only the wire format has.
 */
export interface NativeHistogram extends HistogramShape {
  /** 0 unknown, 1 yes, 2 no, 3 gauge (see `ResetHint`). */
  resetHint: number;
  /** Custom bucket bounds (schema -53); empty otherwise. */
  customValues: number[];
}

// ---------------------------------------------------------------------------
// Stale markers

const f64Scratch = new Float64Array(1);
const u32Scratch = new Uint32Array(f64Scratch.buffer);
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** The Prometheus stale marker as a number: a NaN with payload 2, bits 0x7ff0000000000002. */
export const STALE_NAN: number = (() => {
  u32Scratch[HI] = 0x7ff00000;
  u32Scratch[LO] = 0x00000002;
  return f64Scratch[0]!;
})();

/** True when `value` has exactly the stale-marker bit pattern (any other NaN is not stale). */
export function isStaleNaN(value: number): boolean {
  f64Scratch[0] = value;
  return u32Scratch[LO] === 0x00000002 && u32Scratch[HI] === 0x7ff00000;
}

// ---------------------------------------------------------------------------

function grownU32(a: Uint32Array, need: number): Uint32Array<ArrayBuffer> {
  let cap = Math.max(16, a.length * 2);
  while (cap < need) cap *= 2;
  const b = new Uint32Array(cap);
  b.set(a);
  return b;
}

export function grownF64(a: Float64Array, need: number): Float64Array<ArrayBuffer> {
  let cap = Math.max(16, a.length * 2);
  while (cap < need) cap *= 2;
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}

const EMPTY_U32 = new Uint32Array(0);
const EMPTY_F64 = new Float64Array(0);

/** @internal What `DecodedBatch.setColumns` takes: exact-length arrays. */
export interface DecodedColumns {
  version: RemoteWriteVersion;
  protobufByteLength: number;
  series: SeriesLabels[];
  sampleStart: Uint32Array<ArrayBuffer>;
  sampleValues: Float64Array<ArrayBuffer>;
  sampleTimestamps: Float64Array<ArrayBuffer>;
  histogramStart: Uint32Array<ArrayBuffer>;
  histogramAt: Uint32Array<ArrayBuffer>;
  histogramRecords: Float64Array<ArrayBuffer>;
  createdTimestamps: Float64Array<ArrayBuffer>;
}

/**
 * Reusable: pass it back to the decoder to decode the next request into the same
 * buffers (which invalidates what it held). Typed arrays may be longer than the
 * counts: only indexes below the counts are meaningful.
 *
 * Series `i` has samples `sampleStart[i] .. sampleStart[i+1]-1` (values in
 * `sampleValues`, ms timestamps in `sampleTimestamps`) and histograms
 * `histogramStart[i] .. histogramStart[i+1]-1`. Histogram `k` is the record at
 * `histogramAt[k]` of `histogramRecords` (model/histogram.ts): no object per
 * histogram is made unless `histogram(k)` is asked for.
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
  /** Numbers of `histogramRecords` in use. */
  histogramRecordsLength = 0;

  /** Labels of each series (index < seriesCount). */
  series: SeriesLabels[] = [];
  sampleStart: Uint32Array<ArrayBuffer>;
  sampleValues: Float64Array<ArrayBuffer>;
  sampleTimestamps: Float64Array<ArrayBuffer>;
  histogramStart: Uint32Array<ArrayBuffer>;
  /** Where histogram k's record starts in histogramRecords. */
  histogramAt: Uint32Array<ArrayBuffer>;
  histogramRecords: Float64Array<ArrayBuffer>;
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
    // Capacity 0 (a batch over the decode worker's columns, one per request) shares empty arrays: they grow when written.
    const u32 = () => (capacity === 0 ? EMPTY_U32 : new Uint32Array(capacity));
    const f64 = (n: number) => (capacity === 0 ? EMPTY_F64 : new Float64Array(n));
    this.sampleStart = u32();
    this.sampleValues = f64(capacity);
    this.sampleTimestamps = f64(capacity);
    this.histogramStart = u32();
    this.histogramAt = u32();
    this.histogramRecords = f64(capacity * 8);
    this.createdTimestamps = f64(capacity);
    this.valueBits = capacity === 0 ? EMPTY_U32 : new Uint32Array(this.sampleValues.buffer);
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
    this.histogramRecordsLength = 0;
    this.sampleStart[0] = 0;
    this.histogramStart[0] = 0;
    this.generation++;
  }

  /** Identity string of series `i` (see `SeriesLabels.id`). */
  seriesId(i: number): string {
    return this.series[i]!.id;
  }

  /** The __name__ of series `i`. */
  metricName(i: number): string {
    return this.series[i]!.metricName;
  }

  /** Value of label `name` on series `i`, or undefined. */
  labelValue(i: number, name: string): string | undefined {
    const s = this.series[i]!;
    const names = s.names;
    for (let k = 0; k < names.length; k++) if (names[k] === name) return s.values[k];
    return undefined;
  }

  /** Number of labels of series `i` (including __name__). */
  labelCount(i: number): number {
    return this.series[i]!.names.length;
  }

  /** The labels of series `i` as a plain object (allocates; not for hot paths). */
  labels(i: number): Record<string, string> {
    const s = this.series[i]!;
    const out: Record<string, string> = {};
    for (let k = 0; k < s.names.length; k++) out[s.names[k]!] = s.values[k]!;
    return out;
  }

  /** True when sample `k` (a global sample index) is a Prometheus stale marker (checks the stored bits). */
  isStaleSample(k: number): boolean {
    return this.valueBits[2 * k + LO] === 0x00000002 && this.valueBits[2 * k + HI] === 0x7ff00000;
  }

  /** Histogram `k` as an object (allocates: for tests, re-encoding and line protocol). */
  histogram(k: number): NativeHistogram {
    const h = histogramOfRecord(this.histogramRecords, this.histogramAt[k]!);
    if (this.isStaleHistogram(k)) h.sum = STALE_NAN;
    return h;
  }

  /** Histograms `from` to `to` - 1 as objects (allocates; see histogram()). */
  histogramObjects(from = 0, to = this.histogramCount): NativeHistogram[] {
    const out: NativeHistogram[] = [];
    for (let k = from; k < to; k++) out.push(this.histogram(k));
    return out;
  }

  /** True when histogram `k`'s sum is the stale marker. */
  isStaleHistogram(k: number): boolean {
    return (this.histogramRecords[this.histogramAt[k]! + H_FLAGS]! & FLAG_STALE) !== 0;
  }

  histogramTimestamp(k: number): number {
    return this.histogramRecords[this.histogramAt[k]! + H_TIMESTAMP]!;
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
      const s = this.series[i]!;
      for (let j = 0; j < s.names.length; j++) {
        names.push(s.names[j]!);
        values.push(s.values[j]!);
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

  /** @internal Room for a histogram record of `length` numbers; returns where it starts. */
  beginHistogram(length: number): number {
    const k = this.histogramCount;
    if (k >= this.histogramAt.length) this.histogramAt = grownU32(this.histogramAt, k + 1);
    const at = this.histogramRecordsLength;
    if (at + length > this.histogramRecords.length) this.histogramRecords = grownF64(this.histogramRecords, at + length);
    this.histogramAt[k] = at;
    this.histogramRecordsLength = at + length;
    this.histogramCount = k + 1;
    return at;
  }

  /**
   * @internal Takes over columns decoded elsewhere (a decode worker, see
   * decode-pool.ts), as they are: the arrays are not copied.
   */
  setColumns(c: DecodedColumns): void {
    this.reset(c.version);
    this.seriesCount = c.series.length;
    this.sampleCount = c.sampleValues.length;
    this.histogramCount = c.histogramAt.length;
    this.histogramRecordsLength = c.histogramRecords.length;
    this.protobufByteLength = c.protobufByteLength;
    this.series = c.series;
    this.sampleStart = c.sampleStart;
    this.sampleValues = c.sampleValues;
    this.sampleTimestamps = c.sampleTimestamps;
    this.histogramStart = c.histogramStart;
    this.histogramAt = c.histogramAt;
    this.histogramRecords = c.histogramRecords;
    this.createdTimestamps = c.createdTimestamps;
    this.valueBits = new Uint32Array(c.sampleValues.buffer, c.sampleValues.byteOffset, 2 * c.sampleValues.length);
  }

  /** @internal Called on failure: nothing partial may be seen. */
  clearAfterError(): void {
    this.reset(this.version);
    this.series.length = 0;
  }
}
