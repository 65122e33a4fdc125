// The native-histogram math, over records (histogram.ts) as k6 sends them over remote
// write: one truth for grading and for the quantiles of the fan-out's InfluxDB lines.
// Merge many series into one histogram (HistogramAccumulator: the sum of each series'
// latest cumulative histogram, and a window as the difference of two such sums), tell
// whether a series reset between two of its histograms (Prometheus' DetectReset), and
// estimate k6's own percentiles from the buckets (k6Percentile, orderStatistic). No
// Node imports, no I/O.
//
// Bucket layout (schema s, -4 ≤ s ≤ 8): base = 2^(2^-s); positive bucket i holds
// (base^(i-1), base^i], negative bucket i the mirror image [-base^i, -base^(i-1)),
// and the zero bucket [-zeroThreshold, zeroThreshold]. Bound arithmetic mirrors
// prometheus/model/histogram (getBound, targetIdx, reconcileZeroBuckets). Bounds
// come from 2 ** (k/2^s - 1), which can differ from Prometheus' precomputed table in
// the last bit or two; exact powers of two are exact in both.

/**
 * Finer input schemas are reduced to 8 on the way in, as Prometheus does. Its
 * limit is 52; ours is 20 (OpenTelemetry's finest scale), where bucket indices
 * still fit the int32 arithmetic used here.
 */
const MAX_INPUT_SCHEMA = 20;
/** "No bucket is inside the zero bucket": below any reachable bucket index. */
const NONE = -2147483648;

import {
  FLAG_FLOAT,
  H_COUNT,
  H_FLAGS,
  H_NEG_SPANS,
  H_POS_SPANS,
  H_SCHEMA,
  H_SUM,
  H_TIMESTAMP,
  H_ZERO_COUNT,
  H_ZERO_THRESHOLD,
  H_POS_BUCKETS,
  H_NEG_BUCKETS,
  MAX_SCHEMA,
  MIN_SCHEMA,
  negBucketsAt,
  negSpansAt,
  posBucketsAt,
  posSpansAt,
  H_RESET_HINT,
  H_CUSTOM,
  H_HEADER,
  recordOf,
  ResetHint,
  type BucketSpan,
  type NativeHistogram,
} from './histogram.ts';

// ---------------------------------------------------------------------------
// Bucket bounds

const fracTables: Float64Array[] = [];
/** 2^(k/2^s - 1) for k < 2^s: bucket upper bounds inside [0.5, 1). */
function fracTable(schema: number): Float64Array {
  let t = fracTables[schema];
  if (t === undefined) {
    const n = 1 << schema;
    t = new Float64Array(n);
    for (let k = 0; k < n; k++) t[k] = 2 ** (k / n - 1);
    fracTables[schema] = t;
  }
  return t;
}

/** x · 2^e without overflowing the power of two on the way. */
function ldexp(x: number, e: number): number {
  if (e > 1023) return x * 2 ** 1023 * 2 ** (e - 1023);
  if (e < -1022) return x * 2 ** (e + 64) * 2 ** -64;
  return x * 2 ** e;
}

/** Upper bound of bucket `idx` (Prometheus getBoundExponential), unchecked schema. */
function upperBound(schema: number, idx: number): number {
  if (schema <= 0) {
    const exp = idx * 2 ** -schema;
    // The last finite bucket ends at MAX_VALUE, not at 2^1024 = Infinity.
    return exp === 1024 ? Number.MAX_VALUE : ldexp(1, exp);
  }
  const frac = fracTable(schema)[idx & ((1 << schema) - 1)];
  const exp = (idx >> schema) + 1;
  return frac === 0.5 && exp === 1025 ? Number.MAX_VALUE : ldexp(frac, exp);
}

/** Index of the bucket holding |v| > 0 (what client_golang computes per observation). */
function indexOf(schema: number, v: number): number {
  if (v === Infinity) return (schema >= 0 ? 1024 << schema : 1024 >> -schema) + 1;
  let exp = Math.floor(Math.log2(v)) + 1;
  let frac = ldexp(v, -exp); // frexp: v = frac · 2^exp, frac in [0.5, 1)
  if (frac >= 1) {
    frac /= 2;
    exp++;
  } else if (frac < 0.5) {
    frac *= 2;
    exp--;
  }
  if (schema > 0) {
    const t = fracTable(schema);
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid] < frac) lo = mid + 1;
      else hi = mid;
    }
    return lo + (exp - 1) * t.length;
  }
  const key = frac === 0.5 ? exp - 1 : exp;
  return (key + (1 << -schema) - 1) >> -schema;
}

function checkSchema(schema: number, max = MAX_SCHEMA): void {
  if (!Number.isInteger(schema) || schema < MIN_SCHEMA || schema > max) {
    throw new RangeError(`unsupported native histogram schema ${schema} (want ${MIN_SCHEMA}..${max})`);
  }
}

// ---------------------------------------------------------------------------
// Dense bucket storage: one Float64Array window over [base, base + length).

class Buckets {
  data = new Float64Array(0);
  base = 0;
  /** Touched index range (may hold zeros); empty when hi < lo. */
  lo = 0;
  hi = -1;

  get(idx: number): number {
    const i = idx - this.base;
    return i >= 0 && i < this.data.length ? this.data[i] : 0;
  }

  /** Make room for [from, to] and mark it touched. */
  cover(from: number, to: number): void {
    const len = this.data.length;
    const end = this.base + len - 1;
    if (len === 0 || from < this.base || to > end) {
      const lo = len === 0 ? from : Math.min(from, this.base);
      const hi = len === 0 ? to : Math.max(to, end);
      const need = hi - lo + 1;
      const size = Math.max(need + 16, len * 2);
      const slack = size - need;
      // Leave the spare room on the side that grew (both sides when new).
      const growsDown = len === 0 || from < this.base;
      const growsUp = len === 0 || to > end;
      const base = lo - (growsDown ? (growsUp ? slack >> 1 : slack) : 0);
      const data = new Float64Array(size);
      if (len !== 0) data.set(this.data, this.base - base);
      this.data = data;
      this.base = base;
    }
    if (this.hi < this.lo) {
      this.lo = from;
      this.hi = to;
    } else {
      if (from < this.lo) this.lo = from;
      if (to > this.hi) this.hi = to;
    }
  }

  /** Remove every bucket with index ≤ zIdx and return their total. */
  foldTo(zIdx: number): number {
    let total = 0;
    if (this.hi < this.lo || this.lo > zIdx) return total;
    const stop = Math.min(this.hi, zIdx);
    for (let i = this.lo; i <= stop; i++) {
      total += this.data[i - this.base];
      this.data[i - this.base] = 0;
    }
    this.lo = stop + 1;
    if (this.lo > this.hi) this.clear();
    return total;
  }

  clear(): void {
    if (this.hi >= this.lo) this.data.fill(0, this.lo - this.base, this.hi - this.base + 1);
    this.lo = 0;
    this.hi = -1;
  }

  /** A copy at a coarser schema: `d` steps down in resolution. */
  reduced(d: number): Buckets {
    const r = new Buckets();
    if (this.hi < this.lo) return r;
    r.cover(((this.lo - 1) >> d) + 1, ((this.hi - 1) >> d) + 1);
    for (let i = this.lo; i <= this.hi; i++) {
      const c = this.data[i - this.base];
      if (c !== 0) r.data[((i - 1) >> d) + 1 - r.base] += c;
    }
    return r;
  }

  some(test: (c: number) => boolean): boolean {
    for (let i = this.lo; i <= this.hi; i++) if (test(this.data[i - this.base])) return true;
    return false;
  }

  /** Canonical spans/buckets: no empty buckets, no zero-length spans, adjacent spans joined. */
  export(spans: BucketSpan[], counts: number[]): void {
    let prev = 0;
    for (let i = this.lo; i <= this.hi; i++) {
      const c = this.data[i - this.base];
      if (c === 0) continue;
      if (counts.length > 0 && i === prev + 1) spans[spans.length - 1].length++;
      else spans.push({ offset: counts.length === 0 ? i : i - prev - 1, length: 1 });
      counts.push(c);
      prev = i;
    }
  }
}

/**
 * Does any populated bucket of one side of a record (nSpans span pairs at `spans`,
 * counts at `counts`) land on target index `t` after reducing by `d`?
 */
function populatesTarget(r: Float64Array, spans: number, nSpans: number, counts: number, d: number, t: number): boolean {
  let idx = 0;
  let j = counts;
  for (let k = 0; k < nSpans; k++) {
    idx += r[spans + 2 * k];
    for (const end = idx + r[spans + 2 * k + 1]; idx < end; idx++, j++) {
      if (r[j] !== 0 && ((idx - 1) >> d) + 1 === t) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// Accumulator

/**
 * A mutable native histogram for merging many samples (sum over series, or
 * bucket-wise subtraction). The first sample is taken as is; every later one
 * moves it to the coarser schema and the wider zero bucket of the two, like
 * Prometheus' FloatHistogram.Add (but reconciled at the common schema, so a
 * mixed-schema merge never counts a bucket twice). Buckets live in two dense
 * Float64Arrays, so add() allocates nothing once the index range has been seen.
 */
export class HistogramAccumulator {
  private _schema = MAX_SCHEMA;
  private _zeroThreshold = 0;
  private _zeroCount = 0;
  private _count = 0;
  private _sum = 0;
  private _timestamp = 0;
  private _isFloat = false;
  /** Highest bucket index wholly inside the zero bucket (NONE without one). */
  private zIdx = NONE;
  /** Is the zero threshold a bucket boundary of the current schema (or 0)? */
  private thresholdOnBound = true;
  private empty = true;
  private pos = new Buckets();
  private neg = new Buckets();

  get count(): number {
    return this._count;
  }
  /** The sum of the observations (seconds, for k6's durations). */
  get sum(): number {
    return this._sum;
  }
  get zeroThreshold(): number {
    return this._zeroThreshold;
  }

  /**
   * Add (sign 1) or subtract (sign -1) the histogram record at `at` of `r` (see
   * histogram-record.ts): the hot path, with no object per histogram.
   */
  addRecord(r: Float64Array, at: number, sign: 1 | -1): void {
    const schema = r[at + H_SCHEMA];
    checkSchema(schema, MAX_INPUT_SCHEMA);
    const zt = r[at + H_ZERO_THRESHOLD] > 0 ? r[at + H_ZERO_THRESHOLD] : 0;
    if (this.empty) {
      // The first sample is taken as is, like the first operand of PromQL's sum().
      this.empty = false;
      this._schema = Math.min(schema, MAX_SCHEMA);
      this.setThreshold(zt, false, null, 0);
    } else {
      if (schema < this._schema) {
        const d = this._schema - schema;
        this.pos = this.pos.reduced(d);
        this.neg = this.neg.reduced(d);
        this._schema = schema;
        this.setThreshold(this._zeroThreshold, false, null, 0);
      }
      // Different zero thresholds: the larger wins, widened to the upper bound of
      // a populated bucket of the other side that it would cut through.
      if (zt > this._zeroThreshold) this.setThreshold(zt, true, null, 0);
      else if (zt < this._zeroThreshold && !this.thresholdOnBound) this.setThreshold(this._zeroThreshold, false, r, at);
    }
    const d = schema - this._schema;
    const inZero =
      this.addSide(this.pos, r, posSpansAt(r, at), r[at + H_POS_SPANS], posBucketsAt(r, at), r[at + H_POS_BUCKETS], d, sign) +
      this.addSide(this.neg, r, negSpansAt(r, at), r[at + H_NEG_SPANS], negBucketsAt(r, at), r[at + H_NEG_BUCKETS], d, sign);
    this._zeroCount += sign * (r[at + H_ZERO_COUNT] + inZero);
    this._count += sign * r[at + H_COUNT];
    this._sum += sign * r[at + H_SUM];
    if (r[at + H_TIMESTAMP] > this._timestamp) this._timestamp = r[at + H_TIMESTAMP];
    if ((r[at + H_FLAGS] & FLAG_FLOAT) !== 0) this._isFloat = true;
  }

  /** Back to empty, keeping the allocated arrays. */
  reset(): void {
    this._schema = MAX_SCHEMA;
    this._zeroThreshold = this._zeroCount = this._count = this._sum = this._timestamp = 0;
    this._isFloat = false;
    this.zIdx = NONE;
    this.thresholdOnBound = this.empty = true;
    this.pos.clear();
    this.neg.clear();
  }

  /** True if any count (total, zero bucket or bucket) is negative. */
  hasNegativeCounts(): boolean {
    const neg = (c: number) => c < 0;
    return this._count < 0 || this._zeroCount < 0 || this.pos.some(neg) || this.neg.some(neg);
  }

  /**
   * Move the zero threshold to `threshold` (never below the current one) and fold
   * our buckets that now lie inside the zero bucket into the zero count. If the
   * threshold cuts through a populated bucket at our schema (ours when `ours`, or
   * `h`'s), it is widened to that bucket's upper bound (Prometheus
   * zeroCountForLargerThreshold). A bucket cut through but left alone stays a
   * normal bucket; quantile() clips it to start at the threshold. `r` at `at`: the
   * record being added, when its buckets are to be looked at.
   */
  private setThreshold(threshold: number, ours: boolean, r: Float64Array | null, at: number): void {
    const s = this._schema;
    let zIdx = NONE;
    let onBound = true;
    if (threshold > 0) {
      const i = indexOf(s, threshold); // threshold in (bound(i-1), bound(i)]
      const up = upperBound(s, i);
      if (up === threshold) {
        zIdx = i;
      } else if (
        (ours && (this.pos.get(i) !== 0 || this.neg.get(i) !== 0)) ||
        (r !== null &&
          (populatesTarget(r, posSpansAt(r, at), r[at + H_POS_SPANS], posBucketsAt(r, at), r[at + H_SCHEMA] - s, i) ||
            populatesTarget(r, negSpansAt(r, at), r[at + H_NEG_SPANS], negBucketsAt(r, at), r[at + H_SCHEMA] - s, i)))
      ) {
        threshold = up;
        zIdx = i;
      } else {
        zIdx = i - 1;
        onBound = false;
      }
    }
    this._zeroCount += this.pos.foldTo(zIdx) + this.neg.foldTo(zIdx);
    this._zeroThreshold = threshold;
    this.zIdx = zIdx;
    this.thresholdOnBound = onBound;
  }

  /**
   * Add one side's buckets (nSpans span pairs at `spans` and nCounts counts at `counts`
   * in `r`), reduced by `d` schema steps; returns the count that fell into the zero bucket.
   */
  private addSide(b: Buckets, r: Float64Array, spans: number, nSpans: number, counts: number, nCounts: number, d: number, sign: number): number {
    let idx = 0;
    let total = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let k = 0; k < nSpans; k++) {
      const offset = r[spans + 2 * k];
      const length = r[spans + 2 * k + 1];
      idx += offset;
      if (length > 0) {
        if (idx < min) min = idx;
        if (idx + length - 1 > max) max = idx + length - 1;
      }
      idx += length;
      total += length;
    }
    if (total !== nCounts) {
      throw new RangeError(`native histogram spans cover ${total} buckets but ${nCounts} were given`);
    }
    if (total === 0) return 0;
    const zIdx = this.zIdx;
    const from = Math.max(((min - 1) >> d) + 1, zIdx + 1);
    const to = ((max - 1) >> d) + 1;
    if (from <= to) b.cover(from, to);
    const data = b.data;
    const base = b.base;
    let inZero = 0;
    let j = counts;
    idx = 0;
    for (let k = 0; k < nSpans; k++) {
      idx += r[spans + 2 * k];
      for (const end = idx + r[spans + 2 * k + 1]; idx < end; idx++, j++) {
        const c = r[j];
        if (c === 0) continue;
        const t = ((idx - 1) >> d) + 1;
        if (t <= zIdx) inZero += c;
        else data[t - base] += sign * c;
      }
    }
    return inZero;
  }

  /**
   * k6's percentile of the observations (its TrendSink.P: the values sorted, index
   * pct·(n−1), linear interpolation between the order statistics on either side),
   * with each order statistic estimated inside its bucket (orderStatistic). `pct` is a
   * fraction: 0.95 for p(95). NaN when empty.
   */
  k6Percentile(pct: number): number {
    const n = this._count;
    if (!(n > 0) || Number.isNaN(pct)) return NaN;
    const i = Math.min(Math.max(pct, 0), 1) * Math.max(0, n - 1);
    const lo = Math.floor(i);
    const below = this.orderStatistic(lo);
    if (i === lo) return below;
    return below + (this.orderStatistic(lo + 1) - below) * (i - lo);
  }

  /**
   * The k-th smallest observation (from 0), estimated inside the bucket that holds it:
   * a bucket's c observations are placed at the (j + ½)/c points of it, on a log scale
   * in an exponential bucket (where k6's latencies spread evenly on a log scale), linearly
   * in the zero bucket. The estimate is inside the bucket of the true value, so its error
   * is below the bucket's width: 9 % of the value at k6's schema 3, half of that for a
   * bucket that holds one observation. NaN when empty; the highest bound when k is past
   * the bucket counts (NaN observations).
   */
  orderStatistic(k: number): number {
    const P = this.pos;
    const N = this.neg;
    const s = this._schema;
    const zt = this._zeroThreshold;
    let before = 0;
    // Ascending: negative buckets from the most negative, the zero bucket, positive buckets.
    for (let i = N.hi; i >= N.lo; i--) {
      const c = N.data[i - N.base];
      if (c <= 0) continue;
      if (k < before + c) {
        const upper = upperBound(s, i);
        const lower = Math.max(upperBound(s, i - 1), zt);
        return -upper * (lower / upper) ** ((k - before + 0.5) / c);
      }
      before += c;
    }
    const zc = this._zeroCount;
    if (zc > 0) {
      if (k < before + zc) {
        const hasNeg = N.some((x) => x !== 0);
        const from = hasNeg ? -zt : 0;
        return from + (zt - from) * ((k - before + 0.5) / zc);
      }
      before += zc;
    }
    let last = NaN;
    for (let i = P.lo; i <= P.hi; i++) {
      const c = P.data[i - P.base];
      if (c <= 0) continue;
      const upper = upperBound(s, i);
      last = upper;
      if (k < before + c) {
        const lower = Math.max(upperBound(s, i - 1), zt);
        return lower * (upper / lower) ** ((k - before + 0.5) / c);
      }
      before += c;
    }
    return before === 0 ? NaN : Number.isNaN(last) ? zt : last;
  }

  /** The mean of the observations (sum / count); NaN when empty. */
  mean(): number {
    return this._count > 0 ? this._sum / this._count : NaN;
  }

  /** A snapshot as a record (model/histogram.ts), in canonical form: only populated buckets, joined spans. */
  toRecord(): Float64Array {
    return recordOf(this.snapshot());
  }

  private snapshot(): NativeHistogram {
    const out: NativeHistogram = {
      count: this._count,
      sum: this._sum,
      schema: this._schema,
      zeroThreshold: this._zeroThreshold,
      zeroCount: this._zeroCount,
      positiveSpans: [],
      positiveBuckets: [],
      negativeSpans: [],
      negativeBuckets: [],
      timestamp: this._timestamp,
      isFloat: this._isFloat,
    };
    this.pos.export(out.positiveSpans, out.positiveBuckets);
    this.neg.export(out.negativeSpans, out.negativeBuckets);
    return out;
  }
}

// ---------------------------------------------------------------------------
// Counter resets

const scratch = new HistogramAccumulator();

/**
 * Did a series reset (a k6 restarted under the same testid) between its histogram
 * `earlier` (a record on its own) and the record at `at` of `later`? Prometheus'
 * FloatHistogram.DetectReset, except that a NO hint is not trusted: a YES hint; the
 * count went down; the resolution went up (a finer schema); the zero threshold went
 * down, or had to widen past the later one's; or the zero count or any bucket went
 * down. Taking a NO hint at its word would merge a drop as a negative increase into
 * every merge the series belongs to.
 */
export function isReset(later: Float64Array, at: number, earlier: Float64Array): boolean {
  if (later[at + H_RESET_HINT] === ResetHint.YES) return true;
  if (later[at + H_COUNT]! < earlier[H_COUNT]!) return true;
  const schema = later[at + H_SCHEMA]!;
  const earlierSchema = earlier[H_SCHEMA]!;
  // Custom buckets (schema -53) and the like: the count is all that can be compared.
  if (!validSchema(schema) || !validSchema(earlierSchema)) return false;
  if (Math.min(schema, MAX_SCHEMA) > Math.min(earlierSchema, MAX_SCHEMA)) return true;
  const threshold = later[at + H_ZERO_THRESHOLD]!;
  if (threshold < earlier[H_ZERO_THRESHOLD]!) return true;
  if (schema === earlierSchema && threshold === earlier[H_ZERO_THRESHOLD]) {
    // The common case (the same layout, or more buckets): bucket by bucket, no allocation.
    return (
      later[at + H_ZERO_COUNT]! < earlier[H_ZERO_COUNT]! ||
      anyBucketDropped(later, posSpansAt(later, at), later[at + H_POS_SPANS]!, posBucketsAt(later, at), earlier, posSpansAt(earlier, 0), earlier[H_POS_SPANS]!, posBucketsAt(earlier, 0)) ||
      anyBucketDropped(later, negSpansAt(later, at), later[at + H_NEG_SPANS]!, negBucketsAt(later, at), earlier, negSpansAt(earlier, 0), earlier[H_NEG_SPANS]!, negBucketsAt(earlier, 0))
    );
  }
  // A coarser schema or a wider zero bucket: the difference at the later one's layout.
  scratch.reset();
  scratch.addRecord(later, at, 1);
  const widened = scratch.zeroThreshold;
  scratch.addRecord(earlier, 0, -1);
  return scratch.zeroThreshold !== widened || scratch.hasNegativeCounts();
}

/** What increaseSameLayout found: the increase written, a reset, or layouts that differ. */
export const Increase = { WRITTEN: 0, RESET: 1, OTHER_LAYOUT: 2 } as const;
export type Increase = (typeof Increase)[keyof typeof Increase];

/**
 * The increase from `earlier` (a record on its own) to the record at `at` of `later`,
 * written as a record into `out` (at least as long as `later`'s record), when the two have
 * the same layout: the schema, the zero threshold and every span. That is most pushes
 * of a series once its buckets are known, and there the check for a reset (isReset's
 * rule) and the increase are one pass, and each merge the series belongs to then adds
 * one record rather than adding the later and taking out the earlier. RESET where
 * isReset would say so; OTHER_LAYOUT (nothing written) where the caller must fall back
 * to isReset and the two records.
 */
export function increaseSameLayout(later: Float64Array, at: number, earlier: Float64Array, out: Float64Array): Increase {
  if (later[at + H_RESET_HINT] === ResetHint.YES) return Increase.RESET;
  if (later[at + H_COUNT]! < earlier[H_COUNT]!) return Increase.RESET;
  const schema = later[at + H_SCHEMA]!;
  if (
    schema !== earlier[H_SCHEMA] ||
    !validSchema(schema) ||
    later[at + H_ZERO_THRESHOLD] !== earlier[H_ZERO_THRESHOLD] ||
    later[at + H_POS_SPANS] !== earlier[H_POS_SPANS] ||
    later[at + H_NEG_SPANS] !== earlier[H_NEG_SPANS] ||
    later[at + H_POS_BUCKETS] !== earlier[H_POS_BUCKETS] ||
    later[at + H_NEG_BUCKETS] !== earlier[H_NEG_BUCKETS] ||
    later[at + H_CUSTOM] !== 0 ||
    earlier[H_CUSTOM] !== 0
  ) {
    return Increase.OTHER_LAYOUT;
  }
  const spansEnd = H_HEADER + 2 * (earlier[H_POS_SPANS]! + earlier[H_NEG_SPANS]!);
  for (let i = H_HEADER; i < spansEnd; i++) if (later[at + i] !== earlier[i]) return Increase.OTHER_LAYOUT;
  if (later[at + H_ZERO_COUNT]! < earlier[H_ZERO_COUNT]!) return Increase.RESET;
  const end = spansEnd + earlier[H_POS_BUCKETS]! + earlier[H_NEG_BUCKETS]!;
  for (let i = spansEnd; i < end; i++) {
    const increase = later[at + i]! - earlier[i]!;
    if (increase < 0) return Increase.RESET;
    out[i] = increase;
  }
  for (let i = H_SCHEMA; i < spansEnd; i++) out[i] = later[at + i]!;
  out[H_COUNT] = later[at + H_COUNT]! - earlier[H_COUNT]!;
  out[H_SUM] = later[at + H_SUM]! - earlier[H_SUM]!;
  out[H_ZERO_COUNT] = later[at + H_ZERO_COUNT]! - earlier[H_ZERO_COUNT]!;
  return Increase.WRITTEN;
}

function validSchema(schema: number): boolean {
  return Number.isInteger(schema) && schema >= MIN_SCHEMA && schema <= MAX_INPUT_SCHEMA;
}

/**
 * Does any bucket of one side of `e` (nE span pairs at eSpans, counts from eCounts) hold
 * more than the same bucket of `l`'s side, both at one schema? A bucket `l` lacks holds 0.
 */
function anyBucketDropped(l: Float64Array, lSpans: number, nL: number, lCounts: number, e: Float64Array, eSpans: number, nE: number, eCounts: number): boolean {
  if (nL === nE) {
    // The same spans (most pushes of a series, once its buckets are known): count by count.
    let same = true;
    let buckets = 0;
    for (let k = 0; k < 2 * nE; k += 2) {
      if (l[lSpans + k] !== e[eSpans + k] || l[lSpans + k + 1] !== e[eSpans + k + 1]) {
        same = false;
        break;
      }
      buckets += e[eSpans + k + 1]!;
    }
    if (same) {
      for (let j = 0; j < buckets; j++) if (l[lCounts + j]! < e[eCounts + j]!) return true;
      return false;
    }
  }
  let lk = 0;
  let lIdx = 0;
  let lEnd = 0;
  let lj = lCounts;
  let lStarted = false;
  let eIdx = 0;
  let ej = eCounts;
  for (let k = 0; k < nE; k++) {
    eIdx += e[eSpans + 2 * k]!;
    for (const end = eIdx + e[eSpans + 2 * k + 1]!; eIdx < end; eIdx++, ej++) {
      const c = e[ej]!;
      if (c === 0) continue;
      // Move `l` to its first bucket at or past eIdx.
      for (;;) {
        if (lStarted && lIdx < lEnd) {
          if (lIdx >= eIdx) break;
          lIdx++;
          lj++;
          continue;
        }
        if (lk >= nL) return true; // `l` has no bucket this far: it holds 0 here
        lIdx = (lStarted ? lEnd : 0) + l[lSpans + 2 * lk]!;
        lEnd = lIdx + l[lSpans + 2 * lk + 1]!;
        lStarted = true;
        lk++;
      }
      if (lIdx !== eIdx || l[lj]! < c) return true;
    }
  }
  return false;
}
