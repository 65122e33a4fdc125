// Encoding remote write 1.0 (`prometheus.WriteRequest`), for what the sink sends on:
// the series of a remote write 2.0 request, and the sink's own grade series.
// Field numbers are prompb/types.proto's.
import type { NativeHistogram, BucketSpan } from '../model/histogram.ts';

/** A growable protobuf writer; strings are UTF-8. */
export class ProtoWriter {
  private buf = Buffer.allocUnsafe(4096);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  get length(): number {
    return this.pos;
  }

  varint(value: number): void {
    this.ensure(10);
    // Negative int64 values take ten bytes in two's complement.
    if (value < 0) {
      let v = BigInt.asUintN(64, BigInt(value));
      while (v > 0x7fn) {
        this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.pos++] = Number(v);
      return;
    }
    while (value > 0x7f) {
      this.buf[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.pos++] = value;
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  double(field: number, value: number): void {
    this.tag(field, 1);
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** Writes the stored bits of a double as they are (keeps a stale marker's signalling NaN). */
  rawDouble(field: number, bits: Uint8Array): void {
    this.tag(field, 1);
    this.ensure(8);
    this.buf.set(bits, this.pos);
    this.pos += 8;
  }

  /** One element of a packed repeated double. */
  packedDouble(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  uint(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }

  sint(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  string(field: number, value: string): void {
    const len = Buffer.byteLength(value);
    this.tag(field, 2);
    this.varint(len);
    this.ensure(len);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  /** A length-delimited sub-message written by `body`. */
  message(field: number, body: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    body(inner);
    this.tag(field, 2);
    this.varint(inner.pos);
    this.ensure(inner.pos);
    inner.buf.copy(this.buf, this.pos, 0, inner.pos);
    this.pos += inner.pos;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export interface SeriesToEncode {
  /** Label names sorted, `__name__` included. */
  names: readonly string[];
  values: readonly string[];
  samples?: Array<{ value: number; timestamp: number; bits?: Uint8Array }>;
  histograms?: NativeHistogram[];
}

function spans(w: ProtoWriter, field: number, list: BucketSpan[]): void {
  for (const s of list) {
    w.message(field, (m) => {
      m.sint(1, s.offset);
      m.uint(2, s.length);
    });
  }
}

function histogram(w: ProtoWriter, h: NativeHistogram): void {
  w.message(4, (m) => {
    if (h.isFloat) m.double(2, h.count);
    else m.uint(1, h.count);
    m.double(3, h.sum);
    m.sint(4, h.schema);
    m.double(5, h.zeroThreshold);
    if (h.isFloat) m.double(7, h.zeroCount);
    else m.uint(6, h.zeroCount);
    spans(m, 8, h.negativeSpans);
    writeBuckets(m, h.isFloat ? 10 : 9, h.negativeBuckets, h.isFloat);
    spans(m, 11, h.positiveSpans);
    writeBuckets(m, h.isFloat ? 13 : 12, h.positiveBuckets, h.isFloat);
    if (h.resetHint) m.uint(14, h.resetHint);
    m.uint(15, h.timestamp);
  });
}

/** Integer histograms carry deltas between consecutive buckets; float ones absolute counts. */
function writeBuckets(w: ProtoWriter, field: number, counts: number[], isFloat: boolean): void {
  if (counts.length === 0) return;
  w.message(field, (m) => {
    let previous = 0;
    for (const c of counts) {
      if (isFloat) {
        m.packedDouble(c);
        continue;
      }
      const delta = c - previous;
      m.varint(delta >= 0 ? delta * 2 : -delta * 2 - 1);
      previous = c;
    }
  });
}

/** One `prometheus.WriteRequest` holding the given series. */
export function encodeWriteRequest(series: Iterable<SeriesToEncode>): Buffer {
  const w = new ProtoWriter();
  for (const s of series) {
    w.message(1, (ts) => {
      for (let i = 0; i < s.names.length; i++) {
        ts.message(1, (l) => {
          l.string(1, s.names[i]!);
          l.string(2, s.values[i]!);
        });
      }
      for (const sample of s.samples ?? []) {
        ts.message(2, (m) => {
          if (sample.bits) m.rawDouble(1, sample.bits);
          else m.double(1, sample.value);
          m.uint(2, sample.timestamp);
        });
      }
      for (const h of s.histograms ?? []) histogram(ts, h);
    });
  }
  return w.finish();
}
