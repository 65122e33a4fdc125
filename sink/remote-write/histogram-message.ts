// The Histogram message (the same field numbers in remote write 1.0 and 2.0), read
// straight into the batch's histogram records (model/histogram.ts), and
// checked as Prometheus checks it (histogram.Validate) against the schema bounds of
// model/histogram.ts.
import { DecodeError } from '../codec/decode-errors.ts';
import type { DecodedBatch } from '../model/batch.ts';
import type { ProtoReader } from './wire.ts';
import {
  CUSTOM_BUCKETS_SCHEMA,
  MAX_SCHEMA,
  MIN_SCHEMA,
  maxBucketIndex,
  FLAG_FLOAT,
  FLAG_STALE,
  H_COUNT,
  H_CUSTOM,
  H_FLAGS,
  H_HEADER,
  H_NEG_BUCKETS,
  H_NEG_SPANS,
  H_POS_BUCKETS,
  H_POS_SPANS,
  H_RESET_HINT,
  H_SCHEMA,
  H_SUM,
  H_TIMESTAMP,
  H_ZERO_COUNT,
  H_ZERO_THRESHOLD,
} from '../model/histogram.ts';

/** A growable list of numbers, reused from one histogram to the next. */
class Numbers {
  data = new Float64Array(64);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) this.reserve(1);
    this.data[this.length++] = x;
  }
  /** Room for `more` numbers after the current ones. */
  reserve(more: number): void {
    if (this.length + more <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.length + more) size *= 2;
    const d = new Float64Array(size);
    d.set(this.data.subarray(0, this.length));
    this.data = d;
  }
}

/** Copies `n` numbers of `from` into `to` at `at`; returns where they end. */
function put(to: Float64Array, at: number, from: Float64Array, n: number): number {
  for (let i = 0; i < n; i++) to[at + i] = from[i]!;
  return at + n;
}

export class HistogramReader {
  private readonly negSpans = new Numbers();
  private readonly negDeltas = new Numbers();
  private readonly negCounts = new Numbers();
  private readonly posSpans = new Numbers();
  private readonly posDeltas = new Numbers();
  private readonly posCounts = new Numbers();
  private readonly custom = new Numbers();
  private seriesIndex = 0;

  /** Reads the Histogram message that ends at `end` into a new record of `batch`. */
  read(r: ProtoReader, end: number, batch: DecodedBatch, seriesIndex: number): void {
    this.seriesIndex = seriesIndex;
    const { negSpans, negDeltas, negCounts, posSpans, posDeltas, posCounts, custom } = this;
    negSpans.length = negDeltas.length = negCounts.length = posSpans.length = posDeltas.length = posCounts.length = custom.length = 0;
    let countInt = 0;
    let countFloat = 0;
    let isFloat = false;
    let sum = 0;
    let stale = false;
    let schema = 0;
    let zeroThreshold = 0;
    let zeroCountInt = 0;
    let zeroCountFloat = 0;
    let zeroIsFloat = false;
    let resetHint = 0;
    let timestamp = 0;
    while (r.pos < end) {
      const tagStart = r.pos;
      const tag = r.tag(end);
      const wt = tag & 7;
      switch (tag >>> 3) {
        case 1:
          if (wt !== 0) throw r.wrongWireType('Histogram.count_int', tag, tagStart);
          countInt = r.uint64(end);
          isFloat = false;
          break;
        case 2:
          if (wt !== 1) throw r.wrongWireType('Histogram.count_float', tag, tagStart);
          countFloat = r.double(end);
          isFloat = true;
          break;
        case 3:
          if (wt !== 1) throw r.wrongWireType('Histogram.sum', tag, tagStart);
          stale = end - r.pos >= 8 && r.isStaleDoubleAt(r.pos);
          sum = r.double(end);
          break;
        case 4:
          if (wt !== 0) throw r.wrongWireType('Histogram.schema', tag, tagStart);
          schema = r.sint32(end);
          break;
        case 5:
          if (wt !== 1) throw r.wrongWireType('Histogram.zero_threshold', tag, tagStart);
          zeroThreshold = r.double(end);
          break;
        case 6:
          if (wt !== 0) throw r.wrongWireType('Histogram.zero_count_int', tag, tagStart);
          zeroCountInt = r.uint64(end);
          zeroIsFloat = false;
          break;
        case 7:
          if (wt !== 1) throw r.wrongWireType('Histogram.zero_count_float', tag, tagStart);
          zeroCountFloat = r.double(end);
          zeroIsFloat = true;
          break;
        case 8:
        case 11: {
          if (wt !== 2) throw r.wrongWireType(tag >>> 3 === 8 ? 'Histogram.negative_spans' : 'Histogram.positive_spans', tag, tagStart);
          const len = r.length(end);
          readSpan(r, r.pos + len, tag >>> 3 === 8 ? negSpans : posSpans);
          break;
        }
        case 9:
          readDeltas(r, tag, tagStart, end, negDeltas, 'Histogram.negative_deltas');
          break;
        case 10:
          readDoubles(r, tag, tagStart, end, negCounts, 'Histogram.negative_counts');
          break;
        case 12:
          readDeltas(r, tag, tagStart, end, posDeltas, 'Histogram.positive_deltas');
          break;
        case 13:
          readDoubles(r, tag, tagStart, end, posCounts, 'Histogram.positive_counts');
          break;
        case 14:
          if (wt !== 0) throw r.wrongWireType('Histogram.reset_hint', tag, tagStart);
          resetHint = r.varint(end) | 0;
          break;
        case 15:
          if (wt !== 0) throw r.wrongWireType('Histogram.timestamp', tag, tagStart);
          timestamp = r.int64(end);
          break;
        case 16:
          readDoubles(r, tag, tagStart, end, custom, 'Histogram.custom_values');
          break;
        default:
          r.skipField(tag, end);
      }
    }
    const pos = isFloat ? posCounts : posDeltas;
    const neg = isFloat ? negCounts : negDeltas;
    this.validate(schema, isFloat, pos, neg, zeroThreshold, zeroIsFloat ? zeroCountFloat : zeroCountInt);
    const nPosSpans = posSpans.length >> 1;
    const nNegSpans = negSpans.length >> 1;
    const at = batch.beginHistogram(H_HEADER + posSpans.length + negSpans.length + pos.length + neg.length + custom.length);
    const out = batch.histogramRecords;
    out[at + H_COUNT] = isFloat ? countFloat : countInt;
    out[at + H_SUM] = sum;
    out[at + H_SCHEMA] = schema;
    out[at + H_ZERO_THRESHOLD] = zeroThreshold;
    out[at + H_ZERO_COUNT] = zeroIsFloat ? zeroCountFloat : zeroCountInt;
    out[at + H_TIMESTAMP] = timestamp;
    out[at + H_RESET_HINT] = resetHint;
    out[at + H_FLAGS] = (isFloat ? FLAG_FLOAT : 0) | (stale ? FLAG_STALE : 0);
    out[at + H_POS_SPANS] = nPosSpans;
    out[at + H_NEG_SPANS] = nNegSpans;
    out[at + H_POS_BUCKETS] = pos.length;
    out[at + H_NEG_BUCKETS] = neg.length;
    out[at + H_CUSTOM] = custom.length;
    let k = put(out, at + H_HEADER, posSpans.data, posSpans.length);
    k = put(out, k, negSpans.data, negSpans.length);
    k = put(out, k, pos.data, pos.length);
    k = put(out, k, neg.data, neg.length);
    put(out, k, custom.data, custom.length);
  }

  private error(message: string): DecodeError {
    return new DecodeError('bad_histogram', `Series ${this.seriesIndex} has ${message}`, { seriesIndex: this.seriesIndex });
  }

  /**
   * The checks Prometheus applies to native histograms (histogram.Validate), plus
   * one: exponential bucket indexes must stay within float64 range (maxBucketIndex),
   * so consumers never face index gaps in the millions. Integer histograms' deltas
   * become absolute counts here, in place.
   */
  private validate(schema: number, isFloat: boolean, pos: Numbers, neg: Numbers, zeroThreshold: number, zeroCount: number): void {
    if (schema !== CUSTOM_BUCKETS_SCHEMA && (schema < MIN_SCHEMA || schema > MAX_SCHEMA)) {
      throw this.error(`a native histogram with schema ${schema}; schemas are ${MIN_SCHEMA} to ${MAX_SCHEMA}, or ${CUSTOM_BUCKETS_SCHEMA} for custom buckets.`);
    }
    this.checkSpans(this.posSpans, pos.length, 'positive', isFloat);
    this.checkSpans(this.negSpans, neg.length, 'negative', isFloat);
    if (schema === CUSTOM_BUCKETS_SCHEMA) {
      const bounds = this.custom;
      for (let i = 1; i < bounds.length; i++) {
        if (!(bounds.data[i]! > bounds.data[i - 1]!)) throw this.error('a custom-bucket histogram whose custom values are not strictly increasing.');
      }
      if (this.negSpans.length > 0 || neg.length > 0 || zeroCount !== 0 || zeroThreshold !== 0) {
        throw this.error('a custom-bucket histogram with negative buckets or a zero bucket, which custom buckets cannot have.');
      }
      // Index bounds.length is the +Inf bucket.
      this.checkBucketIndexes(this.posSpans, 'positive', 0, bounds.length, `but it has ${bounds.length} custom values`);
    } else {
      if (this.custom.length > 0) throw this.error(`a native histogram with schema ${schema} and custom values, which only schema ${CUSTOM_BUCKETS_SCHEMA} may have.`);
      const limit = maxBucketIndex(schema);
      const what = `beyond the float64 range of schema ${schema}`;
      this.checkBucketIndexes(this.posSpans, 'positive', -limit, limit, what);
      this.checkBucketIndexes(this.negSpans, 'negative', -limit, limit, what);
    }
    if (!isFloat) {
      cumulate(pos);
      cumulate(neg);
    }
    this.checkCounts(pos, 'positive');
    this.checkCounts(neg, 'negative');
  }

  private checkSpans(spans: Numbers, buckets: number, side: string, isFloat: boolean): void {
    let covered = 0;
    for (let i = 1; i < spans.length; i += 2) covered += spans.data[i]!;
    if (covered !== buckets) {
      throw this.error(
        `${isFloat ? 'a float' : 'an integer'} histogram whose ${side} spans cover ${covered} buckets but which has ${buckets} ${side} ${isFloat ? 'counts' : 'deltas'}.`,
      );
    }
  }

  /** After the first span, offsets must not be negative (spans go upwards); every index stays within [min, max]. */
  private checkBucketIndexes(spans: Numbers, side: string, min: number, max: number, what: string): void {
    let index = 0;
    for (let k = 0; 2 * k < spans.length; k++) {
      const offset = spans.data[2 * k]!;
      const length = spans.data[2 * k + 1]!;
      if (k > 0 && offset < 0) throw this.error(`a native histogram whose ${side} span ${k} has a negative offset (${offset}).`);
      index += offset;
      if (length > 0) {
        const last = index + length - 1;
        if (index < min || last > max) throw this.error(`a native histogram with a ${side} bucket at index ${index < min ? index : last}, ${what}.`);
      }
      index += length;
    }
  }

  private checkCounts(buckets: Numbers, side: string): void {
    for (let i = 0; i < buckets.length; i++) {
      if (buckets.data[i]! < 0) throw this.error(`a native histogram whose ${side} bucket ${i} has a negative count (${buckets.data[i]}).`);
    }
  }
}

function cumulate(deltas: Numbers): void {
  let acc = 0;
  const d = deltas.data;
  for (let i = 0; i < deltas.length; i++) d[i] = acc += d[i]!;
}

function readSpan(r: ProtoReader, end: number, into: Numbers): void {
  const buf = r.buf;
  const p = r.pos;
  // The usual encoding: offset (field 1) and length (field 2), each a one-byte varint.
  if (end - p === 4 && buf[p] === 0x08 && buf[p + 1]! < 0x80 && buf[p + 2] === 0x10 && buf[p + 3]! < 0x80) {
    const z = buf[p + 1]!;
    into.push((z >>> 1) ^ -(z & 1));
    into.push(buf[p + 3]!);
    r.pos = end;
    return;
  }
  let offset = 0;
  let length = 0;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    const field = tag >>> 3;
    if (field === 1) {
      if ((tag & 7) !== 0) throw r.wrongWireType('BucketSpan.offset', tag, tagStart);
      offset = r.sint32(end);
    } else if (field === 2) {
      if ((tag & 7) !== 0) throw r.wrongWireType('BucketSpan.length', tag, tagStart);
      length = r.varint(end);
    } else {
      r.skipField(tag, end);
    }
  }
  into.push(offset);
  into.push(length);
}

/** Repeated sint64, packed or not. */
function readDeltas(r: ProtoReader, tag: number, tagStart: number, end: number, into: Numbers, what: string): void {
  if ((tag & 7) === 0) {
    into.push(r.sint64(end));
  } else if ((tag & 7) === 2) {
    const len = r.length(end);
    const pend = r.pos + len;
    // Each value takes a byte at least; most of k6's deltas take exactly one.
    into.reserve(len);
    const buf = r.buf;
    const data = into.data;
    let n = into.length;
    let p = r.pos;
    while (p < pend) {
      const b = buf[p]!;
      if (b < 0x80) {
        data[n++] = (b >>> 1) ^ -(b & 1);
        p++;
      } else {
        r.pos = p;
        data[n++] = r.sint64(pend);
        p = r.pos;
      }
    }
    r.pos = p;
    into.length = n;
  } else {
    throw r.wrongWireType(what, tag, tagStart);
  }
}

/** Repeated double, packed or not. */
function readDoubles(r: ProtoReader, tag: number, tagStart: number, end: number, into: Numbers, what: string): void {
  if ((tag & 7) === 1) {
    into.push(r.double(end));
  } else if ((tag & 7) === 2) {
    const len = r.length(end);
    if (len % 8 !== 0) throw r.error(`The packed field ${what} at byte ${tagStart} has ${len} bytes, not a multiple of 8.`, tagStart);
    const pend = r.pos + len;
    while (r.pos < pend) into.push(r.double(pend));
  } else {
    throw r.wrongWireType(what, tag, tagStart);
  }
}
