import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { DecodedBatch, STALE_NAN, isStaleNaN, type NativeHistogram } from '../../sink/model/batch.ts';
import { seriesIdentity } from '../../sink/model/labels.ts';
import {
  RequestV2,
  WriteRequest,
  compress,
  encodeV1,
  encodeV1Noisy,
  encodeV1Unpacked,
  encodeV2,
  encodeV2Unpacked,
  type HistogramObj,
  type LabelObj,
  type TimeSeriesObj,
  type WriteRequestObj,
} from '../../fixtures/remote-write-proto.ts';
import { k6SeriesLabels, makeK6WriteRequests } from '../../fixtures/k6-payloads.ts';

const T0 = 1_732_870_000_000;

function labels(obj: Record<string, string>): LabelObj[] {
  return Object.keys(obj)
    .sort()
    .map((name) => ({ name, value: obj[name] }));
}

/** What the decoder should make of an encoded histogram. */
function normalised(h: HistogramObj): NativeHistogram {
  const isFloat = h.count_float !== undefined;
  const cumulative = (d: number[] = []) => {
    let acc = 0;
    return d.map((x) => (acc += x));
  };
  return {
    count: (isFloat ? h.count_float : h.count_int) ?? 0,
    sum: h.sum ?? 0,
    schema: h.schema ?? 0,
    zeroThreshold: h.zero_threshold ?? 0,
    zeroCount: h.zero_count_float ?? h.zero_count_int ?? 0,
    positiveSpans: (h.positive_spans ?? []).map((s) => ({ ...s })),
    positiveBuckets: isFloat ? [...(h.positive_counts ?? [])] : cumulative(h.positive_deltas),
    negativeSpans: (h.negative_spans ?? []).map((s) => ({ ...s })),
    negativeBuckets: isFloat ? [...(h.negative_counts ?? [])] : cumulative(h.negative_deltas),
    resetHint: h.reset_hint ?? 0,
    timestamp: h.timestamp ?? 0,
    isFloat,
    customValues: [...(h.custom_values ?? [])],
  };
}

const integerHistogram: HistogramObj = {
  count_int: 1234,
  sum: 9876.5,
  schema: 3,
  zero_threshold: 2 ** -128,
  zero_count_int: 7,
  negative_spans: [
    { offset: -5, length: 2 },
    { offset: 3, length: 1 },
  ],
  negative_deltas: [3, -1, 4],
  positive_spans: [
    { offset: -2, length: 3 },
    { offset: 10, length: 2 },
    { offset: 1, length: 1 },
  ],
  positive_deltas: [5, 10, -3, 100, -50, -60],
  reset_hint: 2,
  timestamp: T0 + 15,
};

const floatHistogram: HistogramObj = {
  count_float: 42.25,
  sum: -3.5,
  schema: -2,
  zero_threshold: 0.001,
  zero_count_float: 1.5,
  negative_spans: [{ offset: 0, length: 2 }],
  negative_counts: [0.5, 2.75],
  positive_spans: [
    { offset: 4, length: 2 },
    { offset: 1, length: 0 },
    { offset: 2, length: 3 },
  ],
  positive_counts: [1, 2.5, 3, 4, 5.125],
  reset_hint: 3,
  timestamp: T0 + 30,
};

const customBucketsHistogram: HistogramObj = {
  count_int: 10,
  sum: 55,
  schema: -53,
  positive_spans: [{ offset: 0, length: 3 }],
  positive_deltas: [2, 3, -4],
  custom_values: [0.1, 0.5, 1],
  timestamp: T0 + 45,
};

function k6Series(): TimeSeriesObj[] {
  const common = { testid: 'promo-42', scenario: 'promo_burst', expected_response: 'true', method: 'GET', name: 'https://shop.test/promo' };
  return [
    {
      labels: labels({ __name__: 'k6_http_reqs_total', ...common, status: '200', url: 'https://shop.test/promo?id=1' }),
      samples: [{ value: 17, timestamp: T0 }],
    },
    {
      labels: labels({ __name__: 'k6_http_req_duration_p95', ...common, status: '200', url: 'https://shop.test/promo?id=1' }),
      samples: [
        { value: 123.456, timestamp: T0 },
        { value: 130.5, timestamp: T0 + 1000 },
      ],
    },
    {
      labels: labels({ __name__: 'k6_http_reqs_total', ...common, status: '503', expected_response: 'false', url: 'https://shop.test/promo?id=2' }),
      samples: [{ value: 3, timestamp: T0 }],
    },
    {
      labels: labels({ __name__: 'k6_http_req_duration', ...common, status: '200', url: 'https://shop.test/promo?id=1' }),
      histograms: [integerHistogram, floatHistogram],
    },
    {
      labels: labels({ __name__: 'k6_checks_rate', testid: 'promo-42', check: 'is 200' }),
      samples: [{ value: 0.995, timestamp: T0 }],
      histograms: [customBucketsHistogram],
    },
  ];
}

/** Compare a decoded batch with the series that were encoded. */
function expectBatchMatches(batch: DecodedBatch, series: TimeSeriesObj[]): void {
  expect(batch.seriesCount).toBe(series.length);
  let samples = 0;
  let histograms = 0;
  series.forEach((ts, i) => {
    expect(batch.series[i].names).toEqual(ts.labels.map((l) => l.name));
    expect(batch.series[i].values).toEqual(ts.labels.map((l) => l.value));
    expect(batch.metricName(i)).toBe(ts.labels.find((l) => l.name === '__name__')?.value);
    expect(batch.seriesId(i)).toBe(seriesIdentity(batch.series[i].names, batch.series[i].values));
    const got: { value: number; timestamp: number }[] = [];
    for (let k = batch.sampleStart[i]; k < batch.sampleStart[i + 1]; k++) {
      got.push({ value: batch.sampleValues[k], timestamp: batch.sampleTimestamps[k] });
    }
    expect(got).toEqual(ts.samples ?? []);
    expect(batch.histogramObjects(batch.histogramStart[i], batch.histogramStart[i + 1])).toEqual((ts.histograms ?? []).map(normalised));
    samples += ts.samples?.length ?? 0;
    histograms += ts.histograms?.length ?? 0;
  });
  expect(batch.sampleCount).toBe(samples);
  expect(batch.histogramCount).toBe(histograms);
}

describe('decoding remote write 1.0', () => {
  it('decodes k6-shaped series with their labels, samples and native histograms', () => {
    const series = k6Series();
    const body = compress(encodeV1({ timeseries: series }));
    const batch = new RemoteWriteDecoder().decodeSnappy(body, 1);
    expectBatchMatches(batch, series);
    expect(batch.version).toBe(1);
    expect(batch.body).toBe(body);
    expect(batch.bodyByteLength).toBe(body.length);
    expect(batch.protobufByteLength).toBe(encodeV1({ timeseries: series }).length);
  });

  it('gives each series a canonical identity string with the metric name first and other labels in order', () => {
    const batch = new RemoteWriteDecoder().decode(encodeV1({ timeseries: k6Series() }), 1);
    expect(batch.seriesId(0)).toBe(
      'k6_http_reqs_total{expected_response="true",method="GET",name="https://shop.test/promo",scenario="promo_burst",status="200",testid="promo-42",url="https://shop.test/promo?id=1"}',
    );
    expect(batch.labelValue(2, 'status')).toBe('503');
    expect(batch.labelValue(2, 'nope')).toBeUndefined();
    expect(batch.labelCount(4)).toBe(3);
    expect(batch.labels(4)).toEqual({ __name__: 'k6_checks_rate', check: 'is 200', testid: 'promo-42' });
  });

  it('escapes quotes, backslashes and newlines in identity strings and quotes non-legacy metric names', () => {
    const series = [
      { labels: labels({ __name__: 'm', a: 'say "hi"\\n', b: 'line\nbreak' }), samples: [{ value: 1, timestamp: 1 }] },
      { labels: labels({ __name__: 'http.requests', a: 'x' }), samples: [{ value: 1, timestamp: 1 }] },
      { labels: labels({ __name__: 'only_name' }), samples: [{ value: 1, timestamp: 1 }] },
    ];
    for (const version of [1, 2] as const) {
      const batch = version === 1 ? new RemoteWriteDecoder().decode(encodeV1({ timeseries: series }), 1) : new RemoteWriteDecoder().decode(toV2(series), 2);
      expect(batch.seriesId(0)).toBe('m{a="say \\"hi\\"\\\\n",b="line\\nbreak"}');
      expect(batch.seriesId(1)).toBe('{"http.requests",a="x"}');
      expect(batch.seriesId(2)).toBe('only_name{}');
    }
  });

  it('decodes UTF-8 label values, including multi-byte characters', () => {
    const series = [{ labels: labels({ __name__: 'k6_checks_rate', check: 'prix affiché ≥ 10 € 🎉', testid: 'été' }), samples: [{ value: 1, timestamp: T0 }] }];
    const batch = new RemoteWriteDecoder().decode(encodeV1({ timeseries: series }), 1);
    expectBatchMatches(batch, series);
    expect(batch.seriesId(0)).toBe('k6_checks_rate{check="prix affiché ≥ 10 € 🎉",testid="été"}');
  });

  it('reads unpacked repeated histogram fields like packed ones', () => {
    const series = k6Series();
    const packed = encodeV1({ timeseries: series });
    const unpacked = encodeV1Unpacked({ timeseries: series });
    expect(Buffer.from(unpacked).equals(Buffer.from(packed))).toBe(false);
    expectBatchMatches(new RemoteWriteDecoder().decode(unpacked, 1), series);
  });

  it('skips unknown fields of every wire type, groups included, at every level', () => {
    const req: WriteRequestObj = {
      timeseries: k6Series().map((ts) => ({ ...ts, exemplars: [{ labels: labels({ trace_id: 'abc' }), value: 1, timestamp: T0 }] })),
      metadata: [{ type: 1, metric_family_name: 'k6_http_reqs_total', help: 'requests', unit: '' }],
    };
    const noisy = encodeV1Noisy(req);
    expect(noisy.length).toBeGreaterThan(encodeV1(req).length + 100);
    expectBatchMatches(new RemoteWriteDecoder().decode(noisy, 1), k6Series());
  });

  it('decodes label fields that are interleaved with samples', () => {
    const part = (ts: TimeSeriesObj) => root('prometheus.TimeSeries').encode(ts).finish();
    const l = labels({ __name__: 'k6_vus', scenario: 'browse', testid: 't' });
    // Concatenated messages merge: labels, a sample, more labels, another sample.
    const tsBytes = Buffer.concat([
      part({ labels: [l[0]] }),
      part({ labels: [], samples: [{ value: 1, timestamp: T0 }] }),
      part({ labels: [l[1], l[2]] }),
      part({ labels: [], samples: [{ value: 2, timestamp: T0 + 1 }] }),
    ]);
    const body = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(tsBytes).finish();
    const decoder = new RemoteWriteDecoder();
    for (let round = 0; round < 2; round++) {
      const batch = decoder.decode(body, 1);
      expectBatchMatches(batch, [{ labels: l, samples: [{ value: 1, timestamp: T0 }, { value: 2, timestamp: T0 + 1 }] }]);
    }
  });

  it('recognises a cached label set at any alignment, even at the very end of the buffer', () => {
    const part = (ts: TimeSeriesObj) => root('prometheus.TimeSeries').encode(ts).finish();
    const l = labels({ __name__: 'k6_http_reqs_total', method: 'GET', status: '200', url: 'https://shop.test/a-fairly-long-url?x=1' });
    // Samples first, labels last: the label bytes end where the buffer ends.
    const ts = Buffer.concat([part({ labels: [], samples: [{ value: 1, timestamp: T0 }] }), part({ labels: l })]);
    const decoder = new RemoteWriteDecoder();
    for (let pad = 0; pad < 8; pad++) {
      // An unknown bytes field of `pad` bytes in front shifts everything after it.
      const w = protobuf.Writer.create();
      w.uint32((15 << 3) | 2).bytes(new Uint8Array(pad));
      w.uint32((1 << 3) | 2).bytes(ts);
      const bytes = w.finish();
      const exact = new Uint8Array(new ArrayBuffer(bytes.length)); // nothing after the last byte
      exact.set(bytes);
      expectBatchMatches(decoder.decode(exact, 1), [{ labels: l, samples: [{ value: 1, timestamp: T0 }] }]);
    }
    expect(decoder.stats.cacheMisses).toBeLessThanOrEqual(4);
    expect(decoder.stats.cacheHits).toBeGreaterThanOrEqual(4);
  });

  it('accepts over-long (non-canonical) varints for tags, lengths and values', () => {
    const long = (n: number) => [(n & 0x7f) | 0x80, (n >> 7) | 0x80, 0x00]; // n < 2^14 in 3 bytes
    const str = (tag: number, s: string) => [...long(tag), ...long(s.length), ...Buffer.from(s)];
    const label = (name: string, value: string) => {
      const body = [...str(0x0a, name), ...str(0x12, value)];
      return [...long(0x0a), ...long(body.length), ...body];
    };
    const sampleBody = [...long(0x09), ...Buffer.from(new Float64Array([2.5]).buffer), ...long(0x10), 0xe8, 0x87, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
    const tsBody = [...label('__name__', 'k6_vus'), ...label('scenario', 'browse'), ...long(0x12), ...long(sampleBody.length), ...sampleBody];
    const body = Uint8Array.from([...long(0x0a), ...long(tsBody.length), ...tsBody]);
    const batch = new RemoteWriteDecoder().decode(body, 1);
    expectBatchMatches(batch, [{ labels: labels({ __name__: 'k6_vus', scenario: 'browse' }), samples: [{ value: 2.5, timestamp: 1000 }] }]);
  });

  it('keeps negative, zero and large int64 timestamps and special float values', () => {
    const samples = [
      { value: -0, timestamp: 0 },
      { value: Infinity, timestamp: -1 },
      { value: -Infinity, timestamp: -1_000_000_000_000 },
      { value: Number.MAX_VALUE, timestamp: 2 ** 53 - 1 },
      { value: Number.MIN_VALUE, timestamp: -(2 ** 53) + 1 },
      { value: NaN, timestamp: 2 ** 40 },
    ];
    const batch = new RemoteWriteDecoder().decode(encodeV1({ timeseries: [{ labels: labels({ __name__: 'm' }), samples }] }), 1);
    expect([...batch.sampleTimestamps.subarray(0, 6)]).toEqual(samples.map((s) => s.timestamp));
    expect([...batch.sampleValues.subarray(0, 6)]).toEqual(samples.map((s) => s.value));
    expect(Object.is(batch.sampleValues[0], -0)).toBe(true);
  });

  it('recognises Prometheus stale markers by their exact bit pattern', () => {
    expect(isStaleNaN(STALE_NAN)).toBe(true);
    expect(isStaleNaN(NaN)).toBe(false);
    expect(isStaleNaN(0)).toBe(false);
    const raw = encodeV1({
      timeseries: [{ labels: labels({ __name__: 'm' }), samples: [{ value: 1, timestamp: 1 }, { value: 123456789, timestamp: 2 }, { value: NaN, timestamp: 3 }] }],
    });
    // Patch the second sample's value to the stale-marker bytes (0x7ff0000000000002, little-endian).
    const bytes = Buffer.from(raw);
    const marker = Buffer.from(new Float64Array([123456789]).buffer);
    const at = bytes.indexOf(marker);
    expect(at).toBeGreaterThan(0);
    Buffer.from([2, 0, 0, 0, 0, 0, 0xf0, 0x7f]).copy(bytes, at);
    const batch = new RemoteWriteDecoder().decode(bytes, 1);
    expect([0, 1, 2].map((k) => batch.isStaleSample(k))).toEqual([false, true, false]);
    expect([0, 1, 2].map((k) => isStaleNaN(batch.sampleValues[k]))).toEqual([false, true, false]);
  });

  it('accepts an empty request and series without samples', () => {
    const empty = new RemoteWriteDecoder().decodeSnappy(compress(new Uint8Array(0)), 1);
    expect([empty.seriesCount, empty.sampleCount, empty.histogramCount]).toEqual([0, 0, 0]);
    const series = [{ labels: labels({ __name__: 'up' }) }];
    expectBatchMatches(new RemoteWriteDecoder().decode(encodeV1({ timeseries: series }), 1), series);
  });

  it('matches protobufjs on every sample of generated k6 payloads', () => {
    const { raw } = makeK6WriteRequests({ requests: 6, seriesPerRequest: 700, seriesPool: 1500 });
    const decoder = new RemoteWriteDecoder();
    const batch = new DecodedBatch();
    for (const bytes of raw) {
      decoder.decode(bytes, 1, batch);
      const ref = WriteRequest.toObject(WriteRequest.decode(bytes), { longs: Number, defaults: true }) as WriteRequestObj;
      expectBatchMatches(batch, ref.timeseries);
    }
  });

  it('returns the same SeriesLabels object for a label set seen in an earlier request, without decoding it again', () => {
    const decoder = new RemoteWriteDecoder();
    const series = k6Series();
    const first = decoder.decode(encodeV1({ timeseries: series }), 1);
    const firstLabels = [...first.series.slice(0, first.seriesCount)];
    expect(decoder.stats).toMatchObject({ cacheHits: 0, cacheMisses: 5 });
    // Different samples, same label sets, shifted in the buffer (alignment changes).
    const again = series.map((ts) => ({ ...ts, samples: [{ value: 99, timestamp: T0 + 5000 }] }));
    const body = Buffer.concat([Buffer.from([0x28, 0x01]), encodeV1({ timeseries: again })]); // unknown varint field first
    const second = decoder.decode(body, 1);
    expect(decoder.stats).toMatchObject({ cacheHits: 5, cacheMisses: 5 });
    for (let i = 0; i < 5; i++) expect(second.series[i]).toBe(firstLabels[i]);
    // Sealed, with frozen names and values: only the consumers' state fields (gradeState, orderState) change.
    expect(Object.isSealed(second.series[0]) && Object.isFrozen(second.series[0].names) && Object.isFrozen(second.series[0].values)).toBe(true);
  });

  it('keeps at most seriesCacheSize label sets and decodes evicted ones again correctly', () => {
    const decoder = new RemoteWriteDecoder({ seriesCacheSize: 10 });
    const all: TimeSeriesObj[] = Array.from({ length: 60 }, (_, i) => ({ labels: k6SeriesLabels(i), samples: [{ value: i, timestamp: T0 }] }));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < all.length; i += 7) {
        const series = all.slice(i, i + 7);
        expectBatchMatches(decoder.decode(encodeV1({ timeseries: series }), 1), series);
        expect(decoder.stats.cachedLabelSets).toBeLessThanOrEqual(10);
      }
    }
    // A working set of up to half the cache size always hits after the first time.
    const hot = all.slice(0, 5);
    decoder.decode(encodeV1({ timeseries: hot }), 1);
    const before = decoder.stats;
    for (let i = 0; i < 5; i++) decoder.decode(encodeV1({ timeseries: hot }), 1);
    expect(decoder.stats.cacheHits - before.cacheHits).toBe(25);
    expect(decoder.stats.cacheMisses).toBe(before.cacheMisses);
  });

  it('reuses a batch: decoding into it replaces the previous content', () => {
    const decoder = new RemoteWriteDecoder();
    const batch = new DecodedBatch();
    decoder.decode(encodeV1({ timeseries: k6Series() }), 1, batch);
    const small = [{ labels: labels({ __name__: 'k6_vus' }), samples: [{ value: 5, timestamp: T0 }] }];
    decoder.decode(encodeV1({ timeseries: small }), 1, batch);
    expectBatchMatches(batch, small);
    expect(batch.histogramObjects()).toEqual([]);
  });

  it('grows its buffers for requests with many series and samples', () => {
    const series: TimeSeriesObj[] = [];
    for (let i = 0; i < 3000; i++) {
      series.push({ labels: k6SeriesLabels(i), samples: [{ value: i, timestamp: T0 + i }, { value: -i, timestamp: T0 - i }] });
    }
    expectBatchMatches(new RemoteWriteDecoder().decode(encodeV1({ timeseries: series }), 1), series);
  });

  it('exposes flat label columns with per-series start offsets', () => {
    const batch = new RemoteWriteDecoder().decode(encodeV1({ timeseries: k6Series() }), 1);
    const { labelNames, labelValues, labelStart } = batch;
    expect(labelStart[0]).toBe(0);
    for (let i = 0; i < batch.seriesCount; i++) {
      expect(labelNames.slice(labelStart[i], labelStart[i + 1])).toEqual(batch.series[i].names);
      expect(labelValues.slice(labelStart[i], labelStart[i + 1])).toEqual(batch.series[i].values);
    }
    expect(labelStart[batch.seriesCount]).toBe(labelNames.length);
  });

  it('decodes through the shared default decoder', () => {
    const series = k6Series();
    expectBatchMatches(new RemoteWriteDecoder().decodeSnappy(compress(encodeV1({ timeseries: series })), 1), series);
  });
});

function root(name: string): protobuf.Type {
  return WriteRequest.root.lookupType(name);
}

/** The same series as a remote write 2.0 request (symbols table, refs). */
function toV2(series: TimeSeriesObj[], extra: Partial<{ created: number }> = {}) {
  return encodeV2(toV2Obj(series, extra));
}

function toV2Obj(series: TimeSeriesObj[], extra: Partial<{ created: number }> = {}) {
  const symbols = [''];
  const ref = (s: string) => {
    let i = symbols.indexOf(s);
    if (i < 0) i = symbols.push(s) - 1;
    return i;
  };
  return {
    symbols,
    timeseries: series.map((ts) => ({
      labels_refs: ts.labels.flatMap((l) => [ref(l.name), ref(l.value)]),
      samples: ts.samples ?? [],
      histograms: ts.histograms ?? [],
      created_timestamp: extra.created ?? 0,
    })),
  };
}

describe('decoding remote write 2.0', () => {
  it('resolves label references through the symbols table', () => {
    const series = k6Series();
    const batch = new RemoteWriteDecoder().decodeSnappy(compress(toV2(series, { created: T0 - 60_000 })), 2);
    expect(batch.version).toBe(2);
    expectBatchMatches(batch, series);
    expect([...batch.createdTimestamps.subarray(0, series.length)]).toEqual(series.map(() => T0 - 60_000));
  });

  it('reads unpacked label references and histogram fields', () => {
    const series = k6Series();
    const obj = toV2Obj(series);
    const packed = encodeV2(obj);
    const unpacked = encodeV2Unpacked(obj);
    expect(Buffer.from(unpacked).equals(Buffer.from(packed))).toBe(false);
    expectBatchMatches(new RemoteWriteDecoder().decode(unpacked, 2), series);
  });

  it('skips exemplars and metadata and accepts symbols listed after the series', () => {
    const series = k6Series();
    const obj = toV2Obj(series);
    const withExtras = {
      ...obj,
      timeseries: obj.timeseries.map((ts) => ({
        ...ts,
        exemplars: [{ labels_refs: [1, 2], value: 3, timestamp: T0 }],
        metadata: { type: 1, help_ref: 0, unit_ref: 0 },
      })),
    };
    const Ts = RequestV2.root.lookupType('io.prometheus.write.v2.TimeSeries');
    const w = protobuf.Writer.create();
    for (const ts of withExtras.timeseries) Ts.encode(ts, w.uint32((5 << 3) | 2).fork()).ldelim();
    for (const s of withExtras.symbols) w.uint32((4 << 3) | 2).string(s);
    expectBatchMatches(new RemoteWriteDecoder().decode(w.finish(), 2), series);
  });

  it('gives a label set the same identity and object in remote write 1.0 and 2.0', () => {
    const decoder = new RemoteWriteDecoder();
    const series = k6Series();
    const v2a = decoder.decode(toV2(series), 2);
    const ids = Array.from({ length: series.length }, (_, i) => v2a.seriesId(i));
    const objs = [...v2a.series.slice(0, series.length)];
    const v2b = decoder.decode(toV2([...series].reverse()), 2);
    expect(Array.from({ length: series.length }, (_, i) => v2b.series[i])).toEqual([...objs].reverse());
    expect(v2b.series[0]).toBe(objs[series.length - 1]);
    const v1 = new RemoteWriteDecoder().decode(encodeV1({ timeseries: series }), 1);
    expect(Array.from({ length: series.length }, (_, i) => v1.seriesId(i))).toEqual(ids);
  });

  it('decodes generated k6 payloads converted to 2.0 like protobufjs does', () => {
    const { raw } = makeK6WriteRequests({ requests: 3, seriesPerRequest: 500 });
    const decoder = new RemoteWriteDecoder();
    for (const bytes of raw) {
      const ref = WriteRequest.toObject(WriteRequest.decode(bytes), { longs: Number, defaults: true }) as WriteRequestObj;
      expectBatchMatches(decoder.decode(toV2(ref.timeseries), 2), ref.timeseries);
    }
  });
});
