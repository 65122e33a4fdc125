import { describe, expect, it } from 'vitest';
import { HistogramAccumulator, Increase, increaseSameLayout, isReset } from '../../sink/model/histogram-math.ts';
import { ResetHint, histogramOfRecord, recordOf, type BucketSpan, type NativeHistogram } from '../../sink/model/histogram.ts';

// The accumulator's API is records (model/histogram.ts); these read and write objects.
function add(acc: HistogramAccumulator, h: NativeHistogram, sign: 1 | -1 = 1): HistogramAccumulator {
  acc.addRecord(recordOf(h), 0, sign);
  return acc;
}
const accumulate = (hs: Iterable<NativeHistogram>) => {
  const acc = new HistogramAccumulator();
  for (const h of hs) add(acc, h);
  return acc;
};
/** The accumulator's canonical snapshot as an object. */
function snapshot(acc: HistogramAccumulator): NativeHistogram {
  const { customValues: _c, resetHint: _r, ...h } = histogramOfRecord(acc.toRecord(), 0);
  return h;
}
const mergeHistograms = (hs: Iterable<NativeHistogram>) => snapshot(accumulate(hs));
/** later − earlier bucket by bucket, as a window of merged series is (no reset detection). */
const windowOf = (later: NativeHistogram, earlier: NativeHistogram) => snapshot(add(accumulate([later]), earlier, -1));
/** isReset's answer; where the layout stayed, increaseSameLayout's one pass must give the same. */
function detectReset(later: NativeHistogram, earlier: NativeHistogram): boolean {
  const reset = isReset(recordOf(later), 0, recordOf(earlier));
  const found = increaseSameLayout(recordOf(later), 0, recordOf(earlier), new Float64Array(recordOf(later).length));
  if (found !== Increase.OTHER_LAYOUT) expect(found === Increase.RESET, 'increaseSameLayout against isReset').toBe(reset);
  return reset;
}


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
    expect(accumulate([]).k6Percentile(0.5)).toBeNaN();
  });

  it('round-trips its canonical output through another accumulator unchanged', () => {
    const all = mixedSample(4000, 41);
    const m = mergeHistograms(split(all, 5, 42).map((vs) => histogramOf(vs, { gapFill: 1 })));
    expectSameHistogram(mergeHistograms([m]), m);
    expectSameHistogram(mergeHistograms([m]), histogramOf(all));
  });

  it('can be reset and reused without leftovers', () => {
    const acc = new HistogramAccumulator();
    add(acc, histogramOf(mixedSample(1000, 51), { schema: 0, zeroThreshold: 0.5 }));
    acc.reset();
    expect(acc.count).toBe(0);
    const values = lognormal(1000, 52);
    add(acc, histogramOf(values));
    expectSameHistogram(snapshot(acc), histogramOf(values));
  });

  it('rejects spans that do not match the number of buckets', () => {
    const bad = hist({ count: 3, positive: [[0, [1, 2]]] });
    bad.positiveSpans[0].length = 3;
    expect(() => mergeHistograms([bad])).toThrow(RangeError);
  });
});

describe('windows: later minus earlier, bucket by bucket', () => {
  it('later minus earlier equals the histogram of the observations in between', () => {
    const stream = mixedSample(8000, 61);
    for (const schema of [0, 3]) {
      const earlier = histogramOf(stream.slice(0, 3000), { schema, timestamp: 1 });
      const later = histogramOf(stream.slice(0, 7000), { schema, timestamp: 2 });
      expectSameHistogram(windowOf(later, earlier), histogramOf(stream.slice(3000, 7000), { schema }));
      expect(detectReset(later, earlier)).toBe(false);
    }
  });

  it('summing per-series window deltas gives the window histogram of all series', () => {
    const series = split(mixedSample(9000, 71), 6, 72);
    const deltas = series.map((vs) => windowOf(histogramOf(vs), histogramOf(vs.slice(0, Math.floor(vs.length / 3)))));
    const window = series.flatMap((vs) => vs.slice(Math.floor(vs.length / 3)));
    expectSameHistogram(mergeHistograms(deltas), histogramOf(window));
  });

  it('reduces an earlier sample at a finer schema to the later one before subtracting', () => {
    const stream = lognormal(5000, 81);
    expectSameHistogram(windowOf(histogramOf(stream, { schema: 0 }), histogramOf(stream.slice(0, 2000), { schema: 3 })), histogramOf(stream.slice(2000), { schema: 0 }));
  });

  it('folds earlier buckets into a zero bucket that has grown since', () => {
    const stream = [...lognormal(3000, 82), 0.2, 0.4, 0];
    expectSameHistogram(windowOf(histogramOf([...stream, 0.3, 5], { zeroThreshold: 0.5 }), histogramOf(stream)), histogramOf([0.3, 5], { zeroThreshold: 0.5 }));
  });

  it('gives an empty histogram when nothing happened in the window', () => {
    const h = histogramOf(lognormal(1000, 94));
    expect(windowOf(h, h)).toMatchObject({ count: 0, zeroCount: 0, positiveSpans: [], positiveBuckets: [], negativeSpans: [] });
    expect(add(accumulate([h]), h, -1).k6Percentile(0.99)).toBeNaN();
  });

  it('subtracts bucket by bucket with no reset detection', () => {
    const acc = add(accumulate([histogramOf([1, 2])]), histogramOf([1, 1, 1]), -1);
    expect(acc.count).toBe(-1);
    expect(acc.hasNegativeCounts()).toBe(true);
    const h = snapshot(acc);
    expect(countsOf(h.positiveSpans, h.positiveBuckets)).toEqual({ 0: -2, 8: 1 });
  });

  it('subtracts float histograms', () => {
    const later = hist({ count: 2.5, sum: 5, positive: [[0, [0.5, 2]]], isFloat: true });
    const earlier = hist({ count: 1, sum: 1, positive: [[1, [1]]], isFloat: true });
    const d = windowOf(later, earlier);
    expect(d).toMatchObject({ count: 1.5, sum: 4, isFloat: true });
    expect(countsOf(d.positiveSpans, d.positiveBuckets)).toEqual({ 0: 0.5, 1: 1 });
  });
});

describe("counter resets (Prometheus' DetectReset)", () => {
  it('takes a series that only grew, in new buckets and at either end too, as no reset', () => {
    const stream = mixedSample(4000, 95);
    for (const cut of [1, 10, 500, 3999]) {
      expect(detectReset(histogramOf(stream), histogramOf(stream.slice(0, cut))), `after ${cut}`).toBe(false);
      expect(detectReset(histogramOf(stream, { gapFill: 1 }), histogramOf(stream.slice(0, cut))), `gap-filled, after ${cut}`).toBe(false);
    }
    expect(detectReset(histogramOf([1, 2, 3]), histogramOf([1, 2, 3]))).toBe(false);
  });

  it('treats a drop in the total count as a counter reset', () => {
    expect(detectReset(histogramOf(lognormal(300, 92), { timestamp: 5 }), histogramOf(lognormal(2000, 91)))).toBe(true);
  });

  it('treats a drop in any single bucket, the zero bucket or a negative one as a reset even when the total grew', () => {
    expect(detectReset(histogramOf([1, 2, 3, 4, 5, 6, 7]), histogramOf([1, 1, 1, 2]))).toBe(true);
    expect(detectReset(histogramOf([0, 5, 5, 5]), histogramOf([0, 0, 5]))).toBe(true);
    expect(detectReset(histogramOf([-1, 2, 3, 4]), histogramOf([-1, -1, 2]))).toBe(true);
    // A bucket the later histogram lacks altogether holds 0 there.
    expect(detectReset(histogramOf([1, 2, 2, 2, 2]), histogramOf([1, 100]))).toBe(true);
    // The same spans, one bucket down and another up by as much.
    const a = histogramOf([1, 1, 2], { gapFill: 1 });
    const b = histogramOf([1, 2, 2], { gapFill: 1 });
    expect(b.positiveSpans).toEqual(a.positiveSpans);
    expect(detectReset(b, a)).toBe(true);
    expect(detectReset(a, a)).toBe(false);
  });

  it('trusts a YES reset hint but not a NO hint', () => {
    const before = histogramOf([1, 2, 3]);
    expect(detectReset({ ...histogramOf([1, 2, 3, 4]), resetHint: ResetHint.YES }, before)).toBe(true);
    expect(detectReset({ ...histogramOf([1, 2, 3, 4]), resetHint: ResetHint.NO }, before)).toBe(false);
    expect(detectReset({ ...histogramOf([1, 5, 6, 7]), resetHint: ResetHint.NO }, before)).toBe(true);
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

  it('takes a coarser schema or a wider zero bucket that only grew as no reset', () => {
    const values = lognormal(2000, 96);
    expect(detectReset(histogramOf([...values, 3], { schema: 0 }), histogramOf(values, { schema: 3 }))).toBe(false);
    expect(detectReset(histogramOf([...values, 0.3, 5], { zeroThreshold: 0.5 }), histogramOf(values))).toBe(false);
    expect(detectReset(histogramOf(values.slice(0, 100), { schema: 0 }), histogramOf(values, { schema: 3 }))).toBe(true);
  });

  it('agrees with a bucket-by-bucket reference on random pairs of one series', () => {
    const r = rng(97);
    for (let trial = 0; trial < 200; trial++) {
      const earlierValues = lognormal(1 + Math.floor(r() * 50), 1000 + trial);
      // Half the pairs grew; the other half lost some observations on the way (a restart).
      const laterValues = r() < 0.5 ? [...earlierValues, ...lognormal(Math.floor(r() * 20), 2000 + trial)] : [...earlierValues.slice(Math.floor(r() * earlierValues.length)), ...lognormal(60, 3000 + trial)];
      const earlier = histogramOf(earlierValues);
      const later = histogramOf(laterValues);
      const before = countsOf(earlier.positiveSpans, earlier.positiveBuckets);
      const after = countsOf(later.positiveSpans, later.positiveBuckets);
      const dropped = later.count < earlier.count || later.zeroCount < earlier.zeroCount || Object.entries(before).some(([i, c]) => (after[Number(i)] ?? 0) < c);
      expect(detectReset(later, earlier), `trial ${trial}`).toBe(dropped);
    }
  });

  it('finds the increase of a series that kept its layout in one record, and its resets, as isReset and the two records do', () => {
    const r = rng(98);
    let written = 0;
    let resets = 0;
    for (let trial = 0; trial < 300; trial++) {
      const later = histogramOf([...mixedSample(200, 4000 + trial), 0, -3], { gapFill: 3 });
      // The same spans; each bucket holds what it held before the later push, or (a tenth of the time) one more: a restart.
      const lower = (c: number) => (r() < 0.1 / later.positiveBuckets.length ? c + 1 : Math.floor(r() * (c + 1)));
      const positiveBuckets = later.positiveBuckets.map(lower);
      const negativeBuckets = later.negativeBuckets.map(lower);
      const zeroCount = lower(later.zeroCount);
      const earlier: NativeHistogram = {
        ...later,
        positiveBuckets,
        negativeBuckets,
        zeroCount,
        count: zeroCount + [...positiveBuckets, ...negativeBuckets].reduce((a, b) => a + b, 0),
        sum: later.sum * r(),
        timestamp: later.timestamp - 1000,
      };
      const out = new Float64Array(recordOf(later).length);
      const found = increaseSameLayout(recordOf(later), 0, recordOf(earlier), out);
      expect(found, `trial ${trial}`).not.toBe(Increase.OTHER_LAYOUT);
      expect(found === Increase.RESET, `trial ${trial}`).toBe(isReset(recordOf(later), 0, recordOf(earlier)));
      if (found === Increase.RESET) {
        resets++;
        continue;
      }
      written++;
      const once = new HistogramAccumulator();
      once.addRecord(out, 0, 1);
      expectSameHistogram(snapshot(once), windowOf(later, earlier));
    }
    // Both outcomes were exercised.
    expect(written).toBeGreaterThan(100);
    expect(resets).toBeGreaterThan(10);
  });

  it('leaves a series whose layout changed to isReset and the two records', () => {
    const values = lognormal(500, 99);
    const cases: [NativeHistogram, NativeHistogram][] = [
      [histogramOf([...values, 1e6]), histogramOf(values)],
      [histogramOf([...values, 3], { schema: 0 }), histogramOf(values, { schema: 3 })],
      [histogramOf([...values, 0.3], { zeroThreshold: 0.5 }), histogramOf(values)],
    ];
    for (const [later, earlier] of cases) {
      expect(increaseSameLayout(recordOf(later), 0, recordOf(earlier), new Float64Array(recordOf(later).length))).toBe(Increase.OTHER_LAYOUT);
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
    const acc = accumulate([histogramOf(values)]);
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
        for (const part of split(values, 4, seed)) add(acc, histogramOf(part));
        for (const pct of [0.5, 0.9, 0.95, 0.99]) {
          const exact = k6P(sorted, pct);
          expect(Math.abs(acc.k6Percentile(pct) / exact - 1), `${shape} n=${n} seed=${seed} p(${pct * 100})`).toBeLessThan(0.05);
        }
        expect(acc.mean()).toBeCloseTo(values.reduce((a, b) => a + b, 0) / n, 12);
      }
    }
  });

  it('is the one value for one observation, and NaN with none', () => {
    const one = accumulate([histogramOf([0.2])]);
    const i = refIndex(3, 0.2);
    expect(one.k6Percentile(0.95)).toBeCloseTo(2 ** ((i - 0.5) / 8), 12);
    expect(new HistogramAccumulator().k6Percentile(0.95)).toBeNaN();
  });
});
