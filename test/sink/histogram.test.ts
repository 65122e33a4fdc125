import { describe, expect, it } from 'vitest';
import {
  HistogramAccumulator,
  ResetHint,
  bucketBounds,
  bucketIndex,
  bucketUpperBound,
  detectReset,
  histogramQuantile,
  mergeHistograms,
  subtractHistograms,
  type BucketSpan,
  type NativeHistogram,
} from '../../sink/grade/histogram.ts';

// ---------------------------------------------------------------------------
// Independent reference: bucket every raw observation straight from log2.

/** Bucket index of v > 0: ceil(log2(v) · 2^schema). Exact for powers of two (log2 is exact there). */
const refIndex = (schema: number, v: number): number => Math.ceil(Math.log2(v) * 2 ** schema) + 0; // + 0: no -0

const K6_ZERO_THRESHOLD = 2 ** -128; // client_golang's default, a bucket boundary in every schema

type Counts = Map<number, number>;

function spansOf(counts: Counts, gapFill = 0): { spans: BucketSpan[]; buckets: number[] } {
  const spans: BucketSpan[] = [];
  const buckets: number[] = [];
  let prev: number | undefined;
  for (const i of [...counts.keys()].sort((a, b) => a - b)) {
    if (prev !== undefined && i - prev - 1 <= gapFill) {
      for (let k = prev + 1; k < i; k++) buckets.push(0); // explicit empty buckets, as encoders may send
      spans[spans.length - 1].length += i - prev;
    } else {
      spans.push({ offset: prev === undefined ? i : i - prev - 1, length: 1 });
    }
    buckets.push(counts.get(i)!);
    prev = i;
  }
  return { spans, buckets };
}

interface BuildOptions {
  schema?: number;
  zeroThreshold?: number;
  timestamp?: number;
  /** Encode gaps of up to this many buckets as explicit empty buckets (non-canonical input). */
  gapFill?: number;
}

function histogramOf(values: readonly number[], opts: BuildOptions = {}): NativeHistogram {
  const { schema = 3, zeroThreshold = K6_ZERO_THRESHOLD, timestamp = 0, gapFill = 0 } = opts;
  const pos: Counts = new Map();
  const neg: Counts = new Map();
  let zeroCount = 0;
  let sum = 0;
  for (const v of values) {
    sum += v;
    if (Math.abs(v) <= zeroThreshold) {
      zeroCount++;
      continue;
    }
    const side = v > 0 ? pos : neg;
    const i = refIndex(schema, Math.abs(v));
    side.set(i, (side.get(i) ?? 0) + 1);
  }
  const p = spansOf(pos, gapFill);
  const n = spansOf(neg, gapFill);
  return {
    count: values.length,
    sum,
    schema,
    zeroThreshold,
    zeroCount,
    positiveSpans: p.spans,
    positiveBuckets: p.buckets,
    negativeSpans: n.spans,
    negativeBuckets: n.buckets,
    timestamp,
    isFloat: false,
  };
}

/** Shorthand like Prometheus' test notation: buckets[k] sits at index offset + k. */
function hist(h: {
  schema?: number;
  count: number;
  sum?: number;
  zeroCount?: number;
  zeroThreshold?: number;
  positive?: [offset: number, counts: number[]][];
  negative?: [offset: number, counts: number[]][];
  isFloat?: boolean;
  timestamp?: number;
  resetHint?: number;
}): NativeHistogram {
  const side = (spans: [number, number[]][] = []) => ({
    spans: spans.map(([offset, c]) => ({ offset, length: c.length })),
    buckets: spans.flatMap(([, c]) => c),
  });
  const p = side(h.positive);
  const n = side(h.negative);
  return {
    count: h.count,
    sum: h.sum ?? 0,
    schema: h.schema ?? 0,
    zeroThreshold: h.zeroThreshold ?? 0,
    zeroCount: h.zeroCount ?? 0,
    positiveSpans: p.spans,
    positiveBuckets: p.buckets,
    negativeSpans: n.spans,
    negativeBuckets: n.buckets,
    timestamp: h.timestamp ?? 0,
    isFloat: h.isFloat ?? false,
    resetHint: h.resetHint,
  };
}

/** index → count, without empty buckets. */
function countsOf(spans: BucketSpan[], buckets: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  let idx = 0;
  let j = 0;
  for (const s of spans) {
    idx += s.offset;
    for (let k = 0; k < s.length; k++, idx++, j++) if (buckets[j] !== 0) out[idx] = (out[idx] ?? 0) + buckets[j];
  }
  return out;
}

/** Same histogram: exact layout and counts; sums up to rounding. */
function expectSameHistogram(actual: NativeHistogram, expected: NativeHistogram): void {
  const { sum: aSum, ...a } = actual;
  const { sum: eSum, ...e } = expected;
  expect(a).toEqual({ ...e, timestamp: a.timestamp, isFloat: a.isFloat, resetHint: a.resetHint });
  expect(aSum).toBeCloseTo(eSum, 6);
}

function expectClose(actual: number, expected: number, rel = 1e-12): void {
  if (expected === 0 || !Number.isFinite(expected)) expect(actual).toBe(expected);
  else expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThanOrEqual(rel);
}

/** mulberry32: small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lognormal "durations in ms": median e^mu, shape sigma. */
function lognormal(n: number, seed: number, mu = Math.log(250), sigma = 0.6): number[] {
  const r = rng(seed);
  const out: number[] = [];
  while (out.length < n) {
    const u = 1 - r();
    const v = r();
    out.push(Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)));
  }
  return out;
}

/** Random split of values into `parts` series. */
function split<T>(values: readonly T[], parts: number, seed: number): T[][] {
  const r = rng(seed);
  const out: T[][] = Array.from({ length: parts }, () => []);
  for (const v of values) out[Math.floor(r() * parts)].push(v);
  return out;
}

/** A k6-like sample: latencies, a few 0 ms (cache hits), a few negative values (clock skew). */
function mixedSample(n: number, seed: number): number[] {
  const r = rng(seed + 1);
  return lognormal(n, seed).map((v) => {
    const x = r();
    return x < 0.01 ? 0 : x < 0.03 ? -v / 100 : v;
  });
}

// ---------------------------------------------------------------------------

describe('bucket bounds', () => {
  it('bucket i of schema s covers (base^(i-1), base^i] with base = 2^(2^-s)', () => {
    for (let s = -4; s <= 8; s++) {
      for (let i = -40; i <= 40; i++) {
        const { lower, upper } = bucketBounds(s, i);
        expectClose(upper, 2 ** (i * 2 ** -s), 4e-16);
        expect(lower).toBe(bucketUpperBound(s, i - 1));
        expect(lower).toBeLessThan(upper);
      }
    }
  });

  it('powers of two are exact boundaries in every schema', () => {
    expect(bucketBounds(0, 0)).toEqual({ lower: 0.5, upper: 1 });
    expect(bucketUpperBound(3, 8)).toBe(2);
    expect(bucketUpperBound(3, -8)).toBe(0.5);
    expect(bucketUpperBound(8, 256 * 10)).toBe(1024);
    expect(bucketUpperBound(-2, 1)).toBe(16);
    expect(bucketUpperBound(-4, -8)).toBe(2 ** -128);
    expect(bucketUpperBound(3, -1024)).toBe(K6_ZERO_THRESHOLD);
  });

  it("matches Prometheus' precomputed schema 3 bounds to within a couple of ulps", () => {
    const prometheus = [
      0.5, 0.5452538663326288, 0.5946035575013605, 0.6484197773255048, 0.7071067811865475, 0.7711054127039704,
      0.8408964152537144, 0.9170040432046711,
    ];
    prometheus.forEach((frac, k) => expectClose(bucketUpperBound(3, k - 8), frac, 3e-16));
  });

  it('ends the last finite bucket at Number.MAX_VALUE and the overflow bucket at Infinity', () => {
    expect(bucketUpperBound(0, 1024)).toBe(Number.MAX_VALUE);
    expect(bucketUpperBound(3, 1024 * 8)).toBe(Number.MAX_VALUE);
    expect(bucketUpperBound(-4, 64)).toBe(Number.MAX_VALUE);
    expect(bucketUpperBound(3, 1024 * 8 + 1)).toBe(Infinity);
    expect(bucketIndex(3, Number.MAX_VALUE)).toBe(1024 * 8);
    expect(bucketIndex(3, Infinity)).toBe(1024 * 8 + 1);
  });

  it('bucketIndex agrees with the direct log2 reference and lands inside bucketBounds', () => {
    const r = rng(7);
    const wrong: unknown[] = [];
    for (let s = -4; s <= 8; s++) {
      const values = Array.from({ length: 2000 }, () => 2 ** (r() * 80 - 40) * (1 + r()));
      for (let e = -30; e <= 30; e++) values.push(2 ** e);
      for (const v of values) {
        const i = bucketIndex(s, v);
        const { lower, upper } = bucketBounds(s, i);
        if (i !== refIndex(s, v) || !(v > lower && v <= upper) || bucketIndex(s, -v) !== i) wrong.push({ s, v, i });
      }
    }
    expect(wrong).toEqual([]);
    expect(bucketIndex(3, 5e-324)).toBe(refIndex(3, 5e-324));
    expect(bucketIndex(3, 0)).toBeNaN();
  });

  it('rejects schemas outside -4..8', () => {
    expect(() => bucketBounds(9, 0)).toThrow(RangeError);
    expect(() => bucketIndex(-5, 1)).toThrow(RangeError);
    expect(() => bucketUpperBound(1.5, 1)).toThrow(RangeError);
  });
});

describe('merging', () => {
  it('merging histograms built from splits of a sample set equals the histogram of the whole set', () => {
    for (const schema of [-4, -1, 0, 3, 8]) {
      const all = mixedSample(5000, 11 + schema);
      const parts = split(all, 7, schema + 100).map((vs, k) => histogramOf(vs, { schema, timestamp: 1000 + k }));
      const merged = mergeHistograms(parts);
      expectSameHistogram(merged, histogramOf(all, { schema }));
      expect(merged.timestamp).toBe(1006);
      expectSameHistogram(mergeHistograms([...parts].reverse()), merged);
    }
  });

  it('accepts non-canonical input spans and always emits canonical ones', () => {
    const all = mixedSample(3000, 5);
    const parts = split(all, 4, 6).map((vs) => histogramOf(vs, { gapFill: 2 }));
    // A zero-length span in front, and a span split into two adjacent ones (offset 0).
    parts[0].positiveSpans.unshift({ offset: -3, length: 0 });
    parts[0].positiveSpans[1].offset += 3;
    const spans = parts[1].positiveSpans;
    const k = spans.findIndex((sp) => sp.length >= 2);
    spans.splice(k, 1, { offset: spans[k].offset, length: 1 }, { offset: 0, length: spans[k].length - 1 });
    const merged = mergeHistograms(parts);
    expectSameHistogram(merged, histogramOf(all));
    for (const spans of [merged.positiveSpans, merged.negativeSpans]) {
      spans.forEach((s, k) => {
        expect(s.length).toBeGreaterThan(0);
        if (k > 0) expect(s.offset).toBeGreaterThan(0);
      });
    }
    expect(merged.positiveBuckets.every((c) => c > 0)).toBe(true);
  });

  it('merges different schemas at the coarsest one, as if everything had been observed there', () => {
    const all = mixedSample(6000, 21);
    const [a, b, c, d] = split(all, 4, 22);
    const merged = mergeHistograms([
      histogramOf(a, { schema: 8 }),
      histogramOf(b, { schema: 3 }),
      histogramOf(c, { schema: 1 }),
      histogramOf(d, { schema: 3 }),
    ]);
    expect(merged.schema).toBe(1);
    expectSameHistogram(merged, histogramOf(all, { schema: 1 }));
    // The coarse one arriving last reduces what was accumulated so far.
    const reduced = mergeHistograms([histogramOf(a, { schema: 5 }), histogramOf(b, { schema: -2 })]);
    expectSameHistogram(reduced, histogramOf([...a, ...b], { schema: -2 }));
  });

  it('reduces schemas above 8 to 8, as Prometheus does on ingest', () => {
    const values = lognormal(500, 3);
    const merged = mergeHistograms([histogramOf(values, { schema: 12 })]);
    expect(merged.schema).toBe(8);
    expectSameHistogram(merged, histogramOf(values, { schema: 8 }));
  });

  it('lets the wider zero bucket swallow the buckets of the narrower one', () => {
    const all = [...mixedSample(2000, 31), 0.3, 0.5, -0.5, 0.51, 1e-9];
    const [a, b] = split(all, 2, 32);
    const merged = mergeHistograms([histogramOf(a), histogramOf(b, { zeroThreshold: 0.5 })]);
    expect(merged.zeroThreshold).toBe(0.5);
    expectSameHistogram(merged, histogramOf(all, { zeroThreshold: 0.5 }));
    expectSameHistogram(mergeHistograms([histogramOf(b, { zeroThreshold: 0.5 }), histogramOf(a)]), merged);
  });

  // Cases from prometheus/model/histogram/float_histogram_test.go (TestFloatHistogramAdd).
  const a1 = hist({
    zeroThreshold: 0.01,
    zeroCount: 8,
    count: 21,
    sum: 1.234,
    positive: [[-1, [5, 4, 2, 3]], [0, [6, 2, 5]]],
    negative: [[4, [1, 1]], [1, [4, 4]]],
  });
  const a2 = hist({
    zeroThreshold: 0.01,
    zeroCount: 11,
    count: 30,
    sum: 2.345,
    schema: 1,
    positive: [[-4, [1, 0, 0]], [5, [3, 2, 2, 3, 4]]],
    negative: [[6, [3, 0.5, 0.5]], [6, [2, 3, 2, 4]]],
    isFloat: true,
  });
  const b1 = hist({
    zeroThreshold: 1,
    zeroCount: 17,
    count: 21,
    sum: 1.234,
    positive: [[1, [2, 3]], [0, [6, 2, 5]]],
    negative: [[4, [1, 1]], [1, [4, 4]]],
  });
  const b2 = hist({
    zeroThreshold: 0.01,
    zeroCount: 11,
    count: 30,
    sum: 2.345,
    positive: [[-2, [1, 0]], [2, [3, 4, 7]]],
    negative: [[3, [3, 1]], [3, [5, 6]]],
  });
  const withThreshold = (h: NativeHistogram, zeroThreshold: number) => ({ ...h, zeroThreshold });
  it.each([
    {
      name: 'a schema change',
      in: [a1, a2],
      zeroThreshold: 0.01,
      zeroCount: 19,
      positive: { [-2]: 1, [-1]: 5, 0: 4, 1: 2, 2: 6, 3: 10, 4: 9, 5: 5 },
      negative: { 3: 3, 4: 2, 5: 1, 7: 4, 8: 9, 9: 6 },
    },
    {
      name: 'a larger zero bucket in the first histogram',
      in: [b1, b2],
      zeroThreshold: 1,
      zeroCount: 29,
      positive: { 1: 2, 2: 6, 3: 10, 4: 9, 5: 5 },
      negative: { 3: 3, 4: 2, 5: 1, 7: 4, 8: 9, 9: 6 },
    },
    {
      name: 'a larger zero bucket in the second histogram',
      in: [b2, b1],
      zeroThreshold: 1,
      zeroCount: 29,
      positive: { 1: 2, 2: 6, 3: 10, 4: 9, 5: 5 },
      negative: { 3: 3, 4: 2, 5: 1, 7: 4, 8: 9, 9: 6 },
    },
    {
      name: 'a larger zero threshold that cuts through a populated bucket of the other histogram',
      in: [withThreshold(b1, 0.2), b2],
      zeroThreshold: 0.25,
      zeroCount: 29,
      positive: { 1: 2, 2: 6, 3: 10, 4: 9, 5: 5 },
      negative: { 3: 3, 4: 2, 5: 1, 7: 4, 8: 9, 9: 6 },
    },
    {
      name: 'the same, in the other order',
      in: [b2, withThreshold(b1, 0.2)],
      zeroThreshold: 0.25,
      zeroCount: 29,
      positive: { 1: 2, 2: 6, 3: 10, 4: 9, 5: 5 },
      negative: { 3: 3, 4: 2, 5: 1, 7: 4, 8: 9, 9: 6 },
    },
    {
      name: 'a schema change combined with a larger zero bucket in the second histogram',
      in: [
        hist({
          zeroThreshold: 0.01,
          zeroCount: 8,
          count: 21,
          sum: 1.234,
          positive: [[-2, [2, 5, 4, 2, 3]], [0, [6, 2, 5]]],
          negative: [[4, [1, 1]], [1, [4, 4]]],
        }),
        hist({
          zeroThreshold: 0.25,
          zeroCount: 12,
          count: 30,
          sum: 2.345,
          schema: 1,
          positive: [[-3, [1, 0]], [5, [3, 2, 2, 3, 4]]],
          negative: [[6, [3, 0.5, 0.5]], [6, [2, 3, 2, 4]]],
        }),
      ],
      zeroThreshold: 0.25,
      zeroCount: 22,
      positive: { [-1]: 6, 0: 4, 1: 2, 2: 6, 3: 10, 4: 9, 5: 5 },
      negative: { 3: 3, 4: 2, 5: 1, 7: 4, 8: 9, 9: 6 },
    },
    {
      name: 'a schema change combined with a larger zero bucket in the first histogram',
      in: [withThreshold(a1, 0.25), a2],
      zeroThreshold: 0.25,
      zeroCount: 20,
      positive: { [-1]: 5, 0: 4, 1: 2, 2: 6, 3: 10, 4: 9, 5: 5 },
      negative: { 3: 3, 4: 2, 5: 1, 7: 4, 8: 9, 9: 6 },
    },
  ])('merges like Prometheus FloatHistogram.Add with $name', (c) => {
    const m = mergeHistograms(c.in);
    expect(m.schema).toBe(0);
    expect(m.count).toBe(51);
    expect(m.sum).toBeCloseTo(3.579, 12);
    expect(m.zeroThreshold).toBe(c.zeroThreshold);
    expect(m.zeroCount).toBe(c.zeroCount);
    expect(countsOf(m.positiveSpans, m.positiveBuckets)).toEqual(c.positive);
    expect(countsOf(m.negativeSpans, m.negativeBuckets)).toEqual(c.negative);
  });

  it('keeps fractional counts and the float flag when merging float histograms', () => {
    const f = hist({ count: 1.5, sum: 3, positive: [[1, [0.25, 1.25]]], isFloat: true });
    const i = hist({ count: 2, sum: 2, positive: [[2, [2]]] });
    const m = mergeHistograms([f, i]);
    expect(m.isFloat).toBe(true);
    expect(m.count).toBe(3.5);
    expect(countsOf(m.positiveSpans, m.positiveBuckets)).toEqual({ 1: 0.25, 2: 3.25 });
    expect(mergeHistograms([i, i]).isFloat).toBe(false);
  });

  it('gives an empty histogram (NaN quantiles) when there is nothing to merge', () => {
    const m = mergeHistograms([]);
    expect(m).toMatchObject({ count: 0, sum: 0, zeroCount: 0, positiveSpans: [], negativeSpans: [] });
    expect(histogramQuantile(0.5, m)).toBeNaN();
  });

  it('round-trips its canonical output through another accumulator unchanged', () => {
    const all = mixedSample(4000, 41);
    const m = mergeHistograms(split(all, 5, 42).map((vs) => histogramOf(vs, { gapFill: 1 })));
    expectSameHistogram(mergeHistograms([m]), m);
    expectSameHistogram(new HistogramAccumulator().add(m).toNativeHistogram(), histogramOf(all));
  });

  it('can be reset and reused without leftovers', () => {
    const acc = new HistogramAccumulator();
    acc.add(histogramOf(mixedSample(1000, 51), { schema: 0, zeroThreshold: 0.5 }));
    acc.reset();
    expect(acc.count).toBe(0);
    const values = lognormal(1000, 52);
    acc.add(histogramOf(values));
    expectSameHistogram(acc.toNativeHistogram(), histogramOf(values));
  });

  it('rejects spans that do not match the number of buckets', () => {
    const bad = hist({ count: 3, positive: [[0, [1, 2]]] });
    bad.positiveSpans[0].length = 3;
    expect(() => mergeHistograms([bad])).toThrow(RangeError);
  });
});

describe('subtracting', () => {
  it('later minus earlier equals the histogram of the observations in between', () => {
    const stream = mixedSample(8000, 61);
    for (const schema of [0, 3]) {
      const earlier = histogramOf(stream.slice(0, 3000), { schema, timestamp: 1 });
      const later = histogramOf(stream.slice(0, 7000), { schema, timestamp: 2 });
      const delta = subtractHistograms(later, earlier);
      expectSameHistogram(delta, histogramOf(stream.slice(3000, 7000), { schema }));
      expect(delta.timestamp).toBe(2);
      expect(detectReset(later, earlier)).toBe(false);
    }
  });

  it('summing per-series window deltas gives the window histogram of all series', () => {
    const series = split(mixedSample(9000, 71), 6, 72);
    const deltas = series.map((vs) => {
      const cut = Math.floor(vs.length / 3);
      return subtractHistograms(histogramOf(vs), histogramOf(vs.slice(0, cut)));
    });
    const window = series.flatMap((vs) => vs.slice(Math.floor(vs.length / 3)));
    expectSameHistogram(mergeHistograms(deltas), histogramOf(window));
  });

  it('reduces an earlier sample at a finer schema to the later one before subtracting', () => {
    const stream = lognormal(5000, 81);
    const delta = subtractHistograms(
      histogramOf(stream, { schema: 0 }),
      histogramOf(stream.slice(0, 2000), { schema: 3 }),
    );
    expectSameHistogram(delta, histogramOf(stream.slice(2000), { schema: 0 }));
  });

  it('folds earlier buckets into a zero bucket that has grown since', () => {
    const stream = [...lognormal(3000, 82), 0.2, 0.4, 0];
    const delta = subtractHistograms(
      histogramOf([...stream, 0.3, 5], { zeroThreshold: 0.5 }),
      histogramOf(stream),
    );
    expectSameHistogram(delta, histogramOf([0.3, 5], { zeroThreshold: 0.5 }));
  });

  it('treats a drop in the total count as a counter reset: the later histogram is the delta', () => {
    const before = histogramOf(lognormal(2000, 91));
    const afterRestart = histogramOf(lognormal(300, 92), { timestamp: 5 });
    expect(detectReset(afterRestart, before)).toBe(true);
    expectSameHistogram(subtractHistograms(afterRestart, before), afterRestart);
  });

  it('treats a drop in any single bucket as a reset even when the total grew', () => {
    const before = histogramOf([1, 1, 1, 2]);
    const after = histogramOf([1, 2, 3, 4, 5, 6, 7]);
    expect(detectReset(after, before)).toBe(true);
    expectSameHistogram(subtractHistograms(after, before), after);
    const zeroDrop = histogramOf([0, 0, 5]);
    expect(detectReset(histogramOf([0, 5, 5, 5]), zeroDrop)).toBe(true);
  });

  it('trusts a YES reset hint but not a NO hint', () => {
    const before = histogramOf([1, 2, 3]);
    const after = histogramOf([1, 2, 3, 4]);
    expect(detectReset({ ...after, resetHint: ResetHint.YES }, before)).toBe(true);
    expect(subtractHistograms({ ...after, resetHint: ResetHint.YES }, before).count).toBe(4);
    const dropped = histogramOf([1, 5, 6, 7]);
    expect(detectReset({ ...dropped, resetHint: ResetHint.NO }, before)).toBe(true);
  });

  it('treats a shrunk zero threshold, a finer schema or a threshold inside a populated bucket as a reset', () => {
    const values = lognormal(500, 93);
    const coarse = histogramOf(values, { schema: 0 });
    const more = [...values, 100];
    expect(detectReset(histogramOf(more, { schema: 3 }), coarse)).toBe(true);
    expect(detectReset(histogramOf(more, { zeroThreshold: 2 ** -130 }), histogramOf(values))).toBe(true);
    // 0.75 cuts through the populated (0.5, 1] bucket of the earlier sample.
    const early = histogramOf([0.6, 0.9, 3], { schema: 0 });
    const late = histogramOf([0.6, 0.9, 3, 4], { schema: 0, zeroThreshold: 0.75 });
    expect(detectReset(late, early)).toBe(true);
  });

  it('gives an empty histogram when nothing happened in the window', () => {
    const h = histogramOf(lognormal(1000, 94));
    const delta = subtractHistograms(h, h);
    expect(delta).toMatchObject({ count: 0, zeroCount: 0, positiveSpans: [], positiveBuckets: [], negativeSpans: [] });
    expect(histogramQuantile(0.99, delta)).toBeNaN();
  });

  it('lets the accumulator subtract bucket by bucket with no reset detection', () => {
    const acc = new HistogramAccumulator().add(histogramOf([1, 2]));
    acc.subtract(histogramOf([1, 1, 1]));
    expect(acc.count).toBe(-1);
    expect(acc.hasNegativeCounts()).toBe(true);
    expect(countsOf(acc.toNativeHistogram().positiveSpans, acc.toNativeHistogram().positiveBuckets)).toEqual({
      0: -2,
      8: 1,
    });
  });

  it('subtracts float histograms', () => {
    const later = hist({ count: 2.5, sum: 5, positive: [[0, [0.5, 2]]], isFloat: true });
    const earlier = hist({ count: 1, sum: 1, positive: [[1, [1]]], isFloat: true });
    const d = subtractHistograms(later, earlier);
    expect(d).toMatchObject({ count: 1.5, sum: 4, isFloat: true });
    expect(countsOf(d.positiveSpans, d.positiveBuckets)).toEqual({ 0: 0.5, 1: 1 });
  });
});

describe('quantiles', () => {
  // From prometheus/promql/promqltest/testdata/native_histograms.test (v3, exponential interpolation).
  const single = hist({ count: 4, sum: 5, positive: [[0, [1, 2, 1]]] });
  const q1 = hist({ count: 12, sum: 100, zeroCount: 2, zeroThreshold: 0.001, positive: [[0, [2, 3, 0, 1, 4]]] });
  const q2 = hist({ count: 12, sum: 100, zeroCount: 2, zeroThreshold: 0.001, negative: [[0, [2, 3, 0, 1, 4]]] });
  const q3 = hist({
    count: 24,
    sum: 100,
    zeroCount: 4,
    zeroThreshold: 0.001,
    positive: [[0, [2, 3, 0, 1, 4]]],
    negative: [[0, [2, 3, 0, 1, 4]]],
  });
  const cases: [string, number, number, NativeHistogram][] = [
    ['single_histogram', 0.5, 1.414213562373095, single],
    ['histogram_quantile_1', 1.001, Infinity, q1],
    ['histogram_quantile_1', 1, 16, q1],
    ['histogram_quantile_1', 0.99, 15.67072476139083, q1],
    ['histogram_quantile_1', 0.9, 12.99603834169977, q1],
    ['histogram_quantile_1', 0.6, 4.594793419988138, q1],
    ['histogram_quantile_1', 0.5, 1.5874010519681994, q1],
    ['histogram_quantile_1', 0.1, 0.0006, q1],
    ['histogram_quantile_1', 0, 0, q1],
    ['histogram_quantile_1', -1, -Infinity, q1],
    ['histogram_quantile_1', 0.08333333333333333, 0.0005, q1],
    ['histogram_quantile_1', 0.6320802083934297, 6, q1],
    ['histogram_quantile_2', 1, 0, q2],
    ['histogram_quantile_2', 0.99, -0.00006, q2],
    ['histogram_quantile_2', 0.9, -0.0006, q2],
    ['histogram_quantile_2', 0.5, -1.5874010519681996, q2],
    ['histogram_quantile_2', 0.1, -12.996038341699768, q2],
    ['histogram_quantile_2', 0, -16, q2],
    ['histogram_quantile_2', 0.9166666666666666, -0.0005, q2],
    ['histogram_quantile_2', 0.36791979160657035, -6, q2],
    ['histogram_quantile_3', 1, 16, q3],
    ['histogram_quantile_3', 0.99, 15.34822590920423, q3],
    ['histogram_quantile_3', 0.9, 10.556063286183155, q3],
    ['histogram_quantile_3', 0.7, 1.2030250360821164, q3],
    ['histogram_quantile_3', 0.55, 0.0006, q3],
    ['histogram_quantile_3', 0.5, 0, q3],
    ['histogram_quantile_3', 0.45, -0.0006, q3],
    ['histogram_quantile_3', 0.3, -1.2030250360821169, q3],
    ['histogram_quantile_3', 0.1, -10.556063286183155, q3],
    ['histogram_quantile_3', 0.01, -15.34822590920423, q3],
    ['histogram_quantile_3', 0, -16, q3],
    ['histogram_quantile_3', 0.5416666666666666, 0.0005, q3],
    ['histogram_quantile_3', 0.4583333333333333, -0.0005, q3],
    ['var_res schema -1', 0.5, 2, hist({ schema: -1, count: 5, positive: [[0, [0, 5]]] })],
    ['var_res schema 0', 0.5, 1.4142135623730951, hist({ schema: 0, count: 5, positive: [[0, [0, 5]]] })],
    // Prometheus writes this one rounded (1.189207); 2^(1/4) exactly:
    ['var_res schema 1', 0.5, 1.189207115002721, hist({ schema: 1, count: 5, positive: [[0, [0, 5]]] })],
    ['var_res schema -1 further right', 0.5, 8, hist({ schema: -1, count: 5, positive: [[0, [0, 0, 5]]] })],
    ['var_res schema 0 further right', 0.5, 2.82842712474619, hist({ schema: 0, count: 5, positive: [[0, [0, 0, 5]]] })],
    ['var_res schema 1 further right', 0.5, 1.6817928305074292, hist({ schema: 1, count: 5, positive: [[0, [0, 0, 5]]] })],
    ['var_res negative schema 0', 0.5, -2.82842712474619, hist({ schema: 0, count: 5, negative: [[0, [0, 0, 5]]] })],
    ['var_res negative schema -1', 0.5, -2, hist({ schema: -1, count: 5, negative: [[0, [0, 5]]] })],
    ['single_zero_histogram', 0.5, 0, hist({ count: 1, sum: 0.25, zeroCount: 1, zeroThreshold: 0.5 })],
    [
      'balanced_histogram (rank in a gap: lower bound of the next populated bucket)',
      0.5,
      0.5,
      hist({ count: 8, positive: [[0, [1, 2, 1]]], negative: [[0, [1, 2, 1]]] }),
    ],
    [
      'rate(incr_histogram[10m]) (float counts)',
      0.5,
      1.414213562373095,
      hist({ count: 0.0033333333333333335, sum: 0.006666666666666667, positive: [[1, [0.0033333333333333335]]], isFloat: true }),
    ],
  ];
  it.each(cases)('matches Prometheus histogram_quantile for %s at q=%s', (_name, q, expected, h) => {
    expectClose(histogramQuantile(q, h), expected, 1e-12);
  });

  it('returns NaN for an empty histogram and for q = NaN', () => {
    const empty = hist({ count: 0 });
    for (const q of [0, 0.5, 0.99, 1]) expect(histogramQuantile(q, empty)).toBeNaN();
    expect(histogramQuantile(NaN, single)).toBeNaN();
    expect(new HistogramAccumulator().quantile(0.5)).toBeNaN();
  });

  it('returns the highest upper bound when NaN observations keep the rank out of reach', () => {
    const withNaN = hist({ count: 5, sum: NaN, positive: [[0, [1, 2, 1]]] }); // one NaN observation
    expect(histogramQuantile(0.9, withNaN)).toBe(4);
    expect(histogramQuantile(0.5, withNaN)).toBeCloseTo(2 ** 0.75, 12); // forward walk: rank 2.5 in (1, 2]
  });

  it('interpolates linearly in a zero bucket that holds everything, exponentially elsewhere', () => {
    const zeros = histogramOf([0, 0, 0, 0]);
    expect(histogramQuantile(0.5, zeros)).toBe(0);
    expect(histogramQuantile(0.25, zeros)).toBeCloseTo(-K6_ZERO_THRESHOLD / 2, 50);
    const mostlyZero = histogramOf([0, 0, 0, 3]);
    expect(histogramQuantile(0.5, mostlyZero)).toBeCloseTo((2 / 3) * K6_ZERO_THRESHOLD, 50);
    expect(histogramQuantile(0.5, mostlyZero)).toBeGreaterThanOrEqual(0);
  });

  it('clips a bucket that straddles the zero threshold to start at the threshold', () => {
    // Zero threshold 0.75 lies inside (0.5, 1]; Prometheus interpolates over (0.75, 1].
    const h = hist({ count: 2, zeroThreshold: 0.75, positive: [[0, [2]]] });
    expectClose(histogramQuantile(0.5, h), Math.sqrt(0.75), 1e-15);
    expect(mergeHistograms([h]).zeroThreshold).toBe(0.75);
  });

  it('puts the quantile inside the bucket that holds the exact quantile of the raw data', () => {
    for (const schema of [-2, 0, 3, 6]) {
      for (const seed of [1, 2, 3]) {
        const values = mixedSample(3000, seed * 17 + schema);
        const h = mergeHistograms(split(values, 3, seed).map((vs) => histogramOf(vs, { schema })));
        const sorted = [...values].sort((a, b) => a - b);
        const n = sorted.length;
        for (const q of [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]) {
          const est = histogramQuantile(q, h);
          // Exact sample quantile(s) around rank q·n; the estimate must lie in their bucket(s).
          const lo = sorted[Math.max(0, Math.ceil(q * n) - 1)];
          const hi = sorted[Math.min(n - 1, Math.floor(q * n))];
          const [lower, upper] = [edge(schema, lo, 'lower'), edge(schema, hi, 'upper')];
          expect(est).toBeGreaterThanOrEqual(lower - Math.abs(lower) * 1e-12);
          expect(est).toBeLessThanOrEqual(upper + Math.abs(upper) * 1e-12);
        }
      }
    }
    function edge(schema: number, v: number, which: 'lower' | 'upper'): number {
      if (Math.abs(v) <= K6_ZERO_THRESHOLD) return which === 'lower' ? -K6_ZERO_THRESHOLD : K6_ZERO_THRESHOLD;
      const i = refIndex(schema, Math.abs(v));
      const [a, b] = [2 ** ((i - 1) * 2 ** -schema), 2 ** (i * 2 ** -schema)];
      return v > 0 ? (which === 'lower' ? a : b) : which === 'lower' ? -b : -a;
    }
  });

  it('estimates smooth latency quantiles within 4.5% at schema 3 (10,000 lognormal samples)', () => {
    for (const [seed, sigma] of [
      [101, 0.4],
      [102, 0.8],
      [103, 1.2],
    ]) {
      const values = lognormal(10_000, seed, Math.log(180), sigma);
      const acc = new HistogramAccumulator();
      for (const part of split(values, 8, seed)) acc.add(histogramOf(part));
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of [0.5, 0.75, 0.9, 0.95, 0.99]) {
        const exact = sorted[Math.ceil(q * sorted.length) - 1];
        expect(Math.abs(acc.quantile(q) / exact - 1)).toBeLessThan(0.045);
      }
    }
  });
});

describe("k6's percentile, from buckets", () => {
  /** k6's TrendSink.P on the raw values: the reference. */
  const k6P = (sorted: number[], pct: number) => {
    const i = pct * (sorted.length - 1);
    const lo = Math.floor(i);
    return sorted[lo]! + (sorted[Math.ceil(i)]! - sorted[lo]!) * (i - lo);
  };
  const shapes: Record<string, (n: number, seed: number) => number[]> = {
    exponential: (n, seed) => {
      const r = rng(seed);
      return Array.from({ length: n }, () => -Math.log(1 - r()) * 0.06);
    },
    lognormal: (n, seed) => lognormal(n, seed, Math.log(0.05), 1.1),
    bimodal: (n, seed) => {
      const r = rng(seed);
      return Array.from({ length: n }, () => (r() < 0.1 ? 0.4 : 0.005) * (0.8 + 0.4 * r()));
    },
  };

  it('places every order statistic inside the bucket of the true one', () => {
    const values = shapes.lognormal!(300, 7);
    const sorted = [...values].sort((a, b) => a - b);
    const acc = new HistogramAccumulator().add(histogramOf(values));
    sorted.forEach((v, k) => {
      const estimate = acc.orderStatistic(k);
      const i = refIndex(3, v);
      expect(estimate, `order statistic ${k}`).toBeGreaterThan(2 ** ((i - 1) / 8));
      expect(estimate, `order statistic ${k}`).toBeLessThanOrEqual(2 ** (i / 8) * (1 + 1e-12));
    });
  });

  it.each(Object.keys(shapes))('gives p(50), p(90), p(95) and p(99) of %s latencies within 5 % of k6, for 50, 500 and 5,000 requests merged from 4 instances', (shape) => {
    for (const n of [50, 500, 5000]) {
      for (const seed of [1, 2, 3]) {
        const values = shapes[shape]!(n, seed * 1000 + n);
        const sorted = [...values].sort((a, b) => a - b);
        const acc = new HistogramAccumulator();
        for (const part of split(values, 4, seed)) acc.add(histogramOf(part));
        for (const pct of [0.5, 0.9, 0.95, 0.99]) {
          const exact = k6P(sorted, pct);
          expect(Math.abs(acc.k6Percentile(pct) / exact - 1), `${shape} n=${n} seed=${seed} p(${pct * 100})`).toBeLessThan(0.05);
        }
        expect(acc.mean()).toBeCloseTo(values.reduce((a, b) => a + b, 0) / n, 12);
      }
    }
  });

  it('is the one value for one observation, and NaN with none', () => {
    const one = new HistogramAccumulator().add(histogramOf([0.2]));
    const i = refIndex(3, 0.2);
    expect(one.k6Percentile(0.95)).toBeCloseTo(2 ** ((i - 0.5) / 8), 12);
    expect(new HistogramAccumulator().k6Percentile(0.95)).toBeNaN();
  });
});
