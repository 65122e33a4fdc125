// A Prometheus native histogram: its shape (schema, zero bucket, spans and absolute
// bucket counts), the schemas remote write allows, and the record it travels as.
//
// The record is one histogram as a run of numbers in a Float64Array: how the decoder
// hands histograms over (many records back to back, one typed array, transferred from
// the decode worker without a structured clone), how grading keeps each series' last
// histogram (a copy of its record), and what histogram-math.ts's HistogramAccumulator
// reads. No object per histogram, span or bucket on the hot path.
//
//   [H_COUNT .. H_CUSTOM]   the header (below)
//   positive spans          offset, length, offset, length, … (H_POS_SPANS pairs)
//   negative spans          (H_NEG_SPANS pairs)
//   positive buckets        absolute counts (integer histograms' deltas already summed)
//   negative buckets
//   custom values           schema -53's bucket bounds

export interface BucketSpan {
  offset: number;
  length: number;
}

/** One native histogram sample, normalised by the remote-write decoder. */
export interface NativeHistogram {
  count: number;
  sum: number;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  positiveSpans: BucketSpan[];
  /** Absolute counts, one per bucket covered by positiveSpans (deltas already summed). */
  positiveBuckets: number[];
  negativeSpans: BucketSpan[];
  negativeBuckets: number[];
  resetHint?: number;
  timestamp: number;
  isFloat: boolean;
}

/** Remote-write `Histogram.ResetHint` values. */
export const ResetHint = { UNKNOWN: 0, YES: 1, NO: 2, GAUGE: 3 } as const;

export const MIN_SCHEMA = -4;
export const MAX_SCHEMA = 8;
/** Native histograms with custom buckets (NHCB): bounds from custom_values. */
export const CUSTOM_BUCKETS_SCHEMA = -53;

/**
 * The largest |bucket index| whose bounds a float64 can hold at `schema`: bucket i's
 * upper bound is 2^(i / 2^schema), 0 or +Inf beyond |i| = 1100 · 2^schema.
 */
export function maxBucketIndex(schema: number): number {
  return schema >= MIN_SCHEMA && schema <= MAX_SCHEMA ? MAX_BUCKET_INDEX[schema - MIN_SCHEMA]! : Math.ceil(1100 * 2 ** schema);
}
const MAX_BUCKET_INDEX = Array.from({ length: MAX_SCHEMA - MIN_SCHEMA + 1 }, (_, k) => Math.ceil(1100 * 2 ** (k + MIN_SCHEMA)));

export const H_COUNT = 0;
export const H_SUM = 1;
export const H_SCHEMA = 2;
export const H_ZERO_THRESHOLD = 3;
export const H_ZERO_COUNT = 4;
export const H_TIMESTAMP = 5;
export const H_RESET_HINT = 6;
/** FLAG_FLOAT | FLAG_STALE. */
export const H_FLAGS = 7;
export const H_POS_SPANS = 8;
export const H_NEG_SPANS = 9;
export const H_POS_BUCKETS = 10;
export const H_NEG_BUCKETS = 11;
export const H_CUSTOM = 12;
export const H_HEADER = 13;

/** A float histogram (counts are float64, not integers). */
export const FLAG_FLOAT = 1;
/** The sum is Prometheus' stale marker: the series ended. */
export const FLAG_STALE = 2;

/** Where the parts of the record at `at` start. */
export const posSpansAt = (r: Float64Array, at: number): number => at + H_HEADER;
export const negSpansAt = (r: Float64Array, at: number): number => at + H_HEADER + 2 * r[at + H_POS_SPANS]!;
export const posBucketsAt = (r: Float64Array, at: number): number => negSpansAt(r, at) + 2 * r[at + H_NEG_SPANS]!;
export const negBucketsAt = (r: Float64Array, at: number): number => posBucketsAt(r, at) + r[at + H_POS_BUCKETS]!;
export const customAt = (r: Float64Array, at: number): number => negBucketsAt(r, at) + r[at + H_NEG_BUCKETS]!;
/** Numbers the record at `at` takes. */
export const recordLength = (r: Float64Array, at: number): number =>
  H_HEADER + 2 * (r[at + H_POS_SPANS]! + r[at + H_NEG_SPANS]!) + r[at + H_POS_BUCKETS]! + r[at + H_NEG_BUCKETS]! + r[at + H_CUSTOM]!;

/**
 * A copy of one record, on its own (what grading keeps of a series' last histogram),
 * written into `into` when it has the right length: a series' bucket layout seldom
 * changes from one push to the next, so most pushes allocate nothing.
 */
export function copyRecord(r: Float64Array, at: number, into: Float64Array | null = null): Float64Array {
  const n = recordLength(r, at);
  if (into === null || into.length !== n) return r.slice(at, at + n);
  for (let i = 0; i < n; i++) into[i] = r[at + i]!;
  return into;
}

/** The record of an object-shaped histogram (tests, and callers off the hot path). */
export function recordOf(h: NativeHistogram & { resetHint?: number; customValues?: number[] }, stale = false): Float64Array {
  const custom = h.customValues ?? [];
  const r = new Float64Array(H_HEADER + 2 * (h.positiveSpans.length + h.negativeSpans.length) + h.positiveBuckets.length + h.negativeBuckets.length + custom.length);
  r[H_COUNT] = h.count;
  r[H_SUM] = h.sum;
  r[H_SCHEMA] = h.schema;
  r[H_ZERO_THRESHOLD] = h.zeroThreshold;
  r[H_ZERO_COUNT] = h.zeroCount;
  r[H_TIMESTAMP] = h.timestamp;
  r[H_RESET_HINT] = h.resetHint ?? 0;
  r[H_FLAGS] = (h.isFloat ? FLAG_FLOAT : 0) | (stale ? FLAG_STALE : 0);
  r[H_POS_SPANS] = h.positiveSpans.length;
  r[H_NEG_SPANS] = h.negativeSpans.length;
  r[H_POS_BUCKETS] = h.positiveBuckets.length;
  r[H_NEG_BUCKETS] = h.negativeBuckets.length;
  r[H_CUSTOM] = custom.length;
  let k = H_HEADER;
  for (const s of h.positiveSpans) (r[k++] = s.offset), (r[k++] = s.length);
  for (const s of h.negativeSpans) (r[k++] = s.offset), (r[k++] = s.length);
  for (const c of h.positiveBuckets) r[k++] = c;
  for (const c of h.negativeBuckets) r[k++] = c;
  for (const c of custom) r[k++] = c;
  return r;
}

function spansFrom(r: Float64Array, from: number, n: number): BucketSpan[] {
  const spans: BucketSpan[] = new Array(n);
  for (let i = 0; i < n; i++) spans[i] = { offset: r[from + 2 * i]!, length: r[from + 2 * i + 1]! };
  return spans;
}

/** The record at `at` as an object (allocates: for tests, re-encoding and line protocol). */
export function histogramOfRecord(r: Float64Array, at: number): NativeHistogram & { resetHint: number; customValues: number[] } {
  const pos = posBucketsAt(r, at);
  const neg = negBucketsAt(r, at);
  const custom = customAt(r, at);
  return {
    count: r[at + H_COUNT]!,
    sum: r[at + H_SUM]!,
    schema: r[at + H_SCHEMA]!,
    zeroThreshold: r[at + H_ZERO_THRESHOLD]!,
    zeroCount: r[at + H_ZERO_COUNT]!,
    positiveSpans: spansFrom(r, posSpansAt(r, at), r[at + H_POS_SPANS]!),
    positiveBuckets: Array.from(r.subarray(pos, pos + r[at + H_POS_BUCKETS]!)),
    negativeSpans: spansFrom(r, negSpansAt(r, at), r[at + H_NEG_SPANS]!),
    negativeBuckets: Array.from(r.subarray(neg, neg + r[at + H_NEG_BUCKETS]!)),
    resetHint: r[at + H_RESET_HINT]!,
    timestamp: r[at + H_TIMESTAMP]!,
    isFloat: (r[at + H_FLAGS]! & FLAG_FLOAT) !== 0,
    customValues: Array.from(r.subarray(custom, custom + r[at + H_CUSTOM]!)),
  };
}
