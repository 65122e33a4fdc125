import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { RemoteWriteDecoder, type DecoderOptions } from '../../sink/remote-write/decode.ts';
import { DecodedBatch, type RemoteWriteVersion } from '../../sink/model/batch.ts';
import { DECODE_ERROR_REASONS, DecodeError, isDecodeError, type DecodeErrorReason } from '../../sink/codec/decode-errors.ts';
import { errorForDecodeReason } from '../../sink/errors.ts';
import { checkSnappyLength, readSnappyLength, snappyUncompress } from '../../sink/codec/snappy.ts';
import { compress, encodeV1, encodeV2, type LabelObj, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';

const ok: TimeSeriesObj = { labels: [{ name: '__name__', value: 'k6_vus' }], samples: [{ value: 1, timestamp: 1 }] };

function series(...labels: [string, string][]): TimeSeriesObj {
  return { labels: labels.map(([name, value]): LabelObj => ({ name, value })), samples: [{ value: 1, timestamp: 1 }] };
}

/** Run `fn`, return the DecodeError it throws (fails the test for anything else). */
function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    if (isDecodeError(err)) return err;
    throw err;
  }
  throw new Error('expected a DecodeError, but decoding succeeded');
}

function expectReason(fn: () => unknown, reason: DecodeErrorReason, message: string): DecodeError {
  const err = decodeError(fn);
  expect({ reason: err.reason, message: err.message }).toEqual({ reason, message });
  expect(err).toBeInstanceOf(Error);
  expect(err.name).toBe('DecodeError');
  return err;
}

function v1(timeseries: TimeSeriesObj[], options?: DecoderOptions) {
  return () => new RemoteWriteDecoder(options).decode(encodeV1({ timeseries }), 1);
}

function snappy(bytes: number[]) {
  return () => snappyUncompress(Uint8Array.from(bytes), 1 << 20);
}

describe('snappy validation', () => {
  it('rejects an empty body as bad_snappy', () => {
    expectReason(snappy([]), 'bad_snappy', 'The snappy body is empty.');
  });

  it('rejects a body that ends inside its length preamble', () => {
    expectReason(snappy([0x80]), 'bad_snappy', 'The snappy body ends inside its length preamble.');
    expectReason(() => readSnappyLength(Uint8Array.from([0xff, 0xff])), 'bad_snappy', 'The snappy body ends inside its length preamble.');
  });

  it('rejects a length preamble over 32 bits', () => {
    expectReason(snappy([0xff, 0xff, 0xff, 0xff, 0x1f]), 'bad_snappy', 'The snappy length preamble does not fit in 32 bits.');
  });

  it('reads the preamble alone and rejects a body announcing more than the limit as too_large', () => {
    const body = compress(new Uint8Array(1000).fill(7));
    expect(readSnappyLength(body)).toBe(1000);
    expect(checkSnappyLength(body, 1000)).toBe(1000);
    expectReason(() => checkSnappyLength(body, 999), 'too_large', 'The body would decompress to 1000 bytes, more than the limit of 999 bytes.');
    expectReason(() => snappyUncompress(body, 10), 'too_large', 'The body would decompress to 1000 bytes, more than the limit of 10 bytes.');
    expectReason(
      () => new RemoteWriteDecoder({ maxUncompressedBytes: 500 }).decodeSnappy(body, 1),
      'too_large',
      'The body would decompress to 1000 bytes, more than the limit of 500 bytes.',
    );
    expect(errorForDecodeReason('too_large', '').statusCode).toBe(413);
  });

  it('refuses, before allocating, a preamble the compressed bytes could never fill', () => {
    expectReason(snappy([0xff, 0xff, 0x03, 0x00]), 'bad_snappy', 'The snappy preamble announces 65535 bytes, more than 4 compressed bytes can hold.');
  });

  it('rejects truncated literals and copies', () => {
    expectReason(snappy([0x05, 0x10, 0x61, 0x62]), 'bad_snappy', 'The snappy body ends inside a literal.');
    expectReason(snappy([0x02, 0xf0]), 'bad_snappy', 'The snappy body ends inside a literal length.');
    expectReason(snappy([0x02, 0xfc, 0x01, 0x00, 0x00]), 'bad_snappy', 'The snappy body ends inside a literal length.');
    expectReason(snappy([0x08, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x02, 0x01]), 'bad_snappy', 'The snappy body ends inside a copy element.');
    expectReason(snappy([0x08, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x01]), 'bad_snappy', 'The snappy body ends inside a copy element.');
    expectReason(snappy([0x08, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x03, 0x01, 0x00]), 'bad_snappy', 'The snappy body ends inside a copy element.');
  });

  it('rejects copies with offset 0 or reaching before the start of the output', () => {
    expectReason(snappy([0x08, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x01, 0x00]), 'bad_snappy', 'The snappy body has a copy with invalid offset 0 at output byte 4.');
    expectReason(snappy([0x08, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x01, 0x05]), 'bad_snappy', 'The snappy body has a copy with invalid offset 5 at output byte 4.');
  });

  it('rejects data longer or shorter than the preamble says', () => {
    expectReason(snappy([0x02, 0x08, 0x61, 0x62, 0x63]), 'bad_snappy', 'The snappy data is longer than its length preamble says.');
    expectReason(snappy([0x06, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x01, 0x04]), 'bad_snappy', 'The snappy data is longer than its length preamble says.');
    expectReason(snappy([0x05, 0x08, 0x61, 0x62, 0x63]), 'bad_snappy', 'The snappy data is 3 bytes, shorter than the 5 bytes its preamble says.');
  });

  it('answers every reason with 400 except too_large', () => {
    expect(DECODE_ERROR_REASONS.filter((r) => errorForDecodeReason(r, '').statusCode === 413)).toEqual(['too_large']);
    expect(DECODE_ERROR_REASONS.filter((r) => errorForDecodeReason(r, '').statusCode !== 400)).toEqual(['too_large']);
  });
});

describe('protobuf validation', () => {
  const raw = (bytes: number[], version: RemoteWriteVersion = 1) => () => new RemoteWriteDecoder().decode(Uint8Array.from(bytes), version);

  it('rejects a truncated message', () => {
    const body = encodeV1({ timeseries: [ok] });
    expectReason(() => new RemoteWriteDecoder().decode(body.subarray(0, body.length - 3), 1), 'bad_protobuf', `The protobuf message has a length of ${body[1]} bytes at byte 1, beyond the end of its container.`);
    expectReason(raw([0x0a]), 'bad_protobuf', 'The protobuf message is truncated at byte 1.');
    expectReason(raw([0x28, 0x80]), 'bad_protobuf', 'The protobuf message is truncated at byte 2.');
    expectReason(raw([0x29, 1, 2, 3]), 'bad_protobuf', 'The protobuf message is truncated at byte 1.');
  });

  it('rejects a varint longer than 10 bytes', () => {
    expectReason(raw([0x28, ...new Array(10).fill(0xff), 0x01]), 'bad_protobuf', 'The protobuf message has a varint longer than 10 bytes at byte 1.');
  });

  it('rejects a length beyond the end of its container', () => {
    expectReason(raw([0x0a, 0x05, 0x00]), 'bad_protobuf', 'The protobuf message has a length of 5 bytes at byte 1, beyond the end of its container.');
    // A label whose length runs past the end of its series.
    expectReason(raw([0x0a, 0x03, 0x0a, 0x05, 0x00]), 'bad_protobuf', 'The protobuf message has a length of 5 bytes at byte 3, beyond the end of its container.');
    expectReason(raw([0x0a, 0xff, 0xff, 0xff, 0xff, 0x7f]), 'bad_protobuf', 'The protobuf message has a length of over 2^32 bytes at byte 1, beyond the end of its container.');
  });

  it('rejects a wrong wire type for a known field', () => {
    expectReason(raw([0x08, 0x01]), 'bad_protobuf', 'The protobuf field WriteRequest.timeseries has wire type varint at byte 0, which is not allowed for it.');
    expectReason(raw([0x0a, 0x02, 0x08, 0x01]), 'bad_protobuf', 'The protobuf field TimeSeries.labels has wire type varint at byte 2, which is not allowed for it.');
    expectReason(raw([0x0a, 0x04, 0x12, 0x02, 0x08, 0x01]), 'bad_protobuf', 'The protobuf field Sample.value has wire type varint at byte 4, which is not allowed for it.');
    expectReason(raw([0x0a, 0x04, 0x22, 0x02, 0x18, 0x00]), 'bad_protobuf', 'The protobuf field Histogram.sum has wire type varint at byte 4, which is not allowed for it.');
    expectReason(raw([0x28, 0x01], 2), 'bad_protobuf', 'The protobuf field Request.timeseries has wire type varint at byte 0, which is not allowed for it.');
  });

  it('rejects invalid wire types, field number 0 and unbalanced groups', () => {
    expectReason(raw([0x2f]), 'bad_protobuf', 'The protobuf message has invalid wire type 7 at byte 1.');
    expectReason(raw([0x00]), 'bad_protobuf', 'The protobuf message has an invalid field tag at byte 0.');
    expectReason(raw([0x2c]), 'bad_protobuf', 'The protobuf message has an unexpected end-group tag at byte 1.');
    expectReason(raw([0x2b, 0x34]), 'bad_protobuf', 'The protobuf message has a mismatched end-group tag at byte 1.');
    expectReason(raw([0x2b, 0x08, 0x01]), 'bad_protobuf', 'The protobuf message is truncated at byte 3.');
    expectReason(raw(new Array(100).fill(0x2b)), 'bad_protobuf', 'The protobuf message nests groups too deeply at byte 64.');
  });

  it('rejects packed doubles whose length is not a multiple of 8', () => {
    // series { histograms { positive_counts (packed, 7 bytes) } }
    expectReason(raw([0x0a, 0x0b, 0x22, 0x09, 0x6a, 0x07, 1, 2, 3, 4, 5, 6, 7]), 'bad_protobuf', 'The packed field Histogram.positive_counts at byte 4 has 7 bytes, not a multiple of 8.');
  });

  it('rejects label values that are not valid UTF-8', () => {
    const body = Buffer.from(encodeV1({ timeseries: [series(['__name__', 'm'], ['url', 'ab\u00e9'])] }));
    const at = body.indexOf(Buffer.from('ab\u00e9'));
    body[at + 2] = 0xff; // first byte of "é" becomes invalid
    const err = expectReason(() => new RemoteWriteDecoder().decode(body, 1), 'bad_protobuf', 'Series 0 has a value for label "url" that is not valid UTF-8.');
    expect(err.labelName).toBe('url');
  });

  it('rejects remote write 2.0 symbols that are not valid UTF-8', () => {
    const body = Buffer.from(encodeV2({ symbols: ['', '__name__', 'm\u00e9'], timeseries: [{ labels_refs: [1, 2] }] }));
    body[body.indexOf(Buffer.from('m\u00e9')) + 1] = 0xc3;
    body[body.indexOf(Buffer.from('m\u00e9')) + 2] = 0x28;
    expectReason(() => new RemoteWriteDecoder().decode(body, 2), 'bad_protobuf', 'Symbol 2 is not valid UTF-8.');
  });
});

describe('label validation', () => {
  it('rejects label names outside [a-zA-Z_][a-zA-Z0-9_]*', () => {
    const err = expectReason(v1([ok, series(['1abc', 'x'], ['__name__', 'm'])]), 'invalid_label_name', 'Series 1 has an invalid label name "1abc".');
    expect(err.seriesIndex).toBe(1);
    expect(err.labelName).toBe('1abc');
    expectReason(v1([series(['__name__', 'm'], ['has-dash', 'x'])]), 'invalid_label_name', 'Series 0 has an invalid label name "has-dash".');
    expectReason(v1([series(['', 'x'], ['__name__', 'm'])]), 'invalid_label_name', 'Series 0 has an invalid label name "".');
    expectReason(v1([series(['__name__', 'm'], ['été', 'x'])]), 'invalid_label_name', 'Series 0 has an invalid label name "été".');
  });

  it('rejects an empty __name__ value as invalid_label_name', () => {
    expectReason(v1([series(['__name__', ''], ['a', 'x'])]), 'invalid_label_name', 'Series 0 has an empty __name__ label.');
  });

  it('rejects label names that are not strictly increasing', () => {
    const err = expectReason(v1([series(['__name__', 'm'], ['b', '1'], ['a', '2'])]), 'unsorted_labels', 'Series 0 has label "a" after "b", but label names must be sorted.');
    expect(err.labelName).toBe('a');
    // Byte-wise order: "Z" (0x5a) sorts before "_" (0x5f) and "a".
    expectReason(v1([series(['__name__', 'm'], ['Z', '1'])]), 'unsorted_labels', 'Series 0 has label "Z" after "__name__", but label names must be sorted.');
    expectReason(v1([series(['ab', '1'], ['a', '2'], ['__name__', 'm'])]), 'unsorted_labels', 'Series 0 has label "a" after "ab", but label names must be sorted.');
  });

  it('rejects a label name given twice as duplicate_label', () => {
    expectReason(v1([series(['__name__', 'm'], ['a', '1'], ['a', '2'])]), 'duplicate_label', 'Series 0 has the label "a" more than once.');
  });

  it('rejects more labels than the configured limit (default 64)', () => {
    const many = (n: number) => series(['__name__', 'm'], ...Array.from({ length: n - 1 }, (_, i): [string, string] => [`l${String(i).padStart(3, '0')}`, 'v']));
    expect(() => v1([many(64)])()).not.toThrow();
    expectReason(v1([many(65)]), 'too_many_labels', 'Series 0 has more than 64 labels.');
    expectReason(v1([ok, many(4)], { maxLabels: 3 }), 'too_many_labels', 'Series 1 has more than 3 labels.');
  });

  it('rejects label values longer than the configured limit in UTF-8 bytes (default 2048)', () => {
    expect(() => v1([series(['__name__', 'm'], ['url', 'x'.repeat(2048)])])()).not.toThrow();
    expectReason(v1([series(['__name__', 'm'], ['url', 'x'.repeat(2049)])]), 'label_value_too_long', 'Series 0 has a value of 2049 bytes for label "url", more than the limit of 2048.');
    expectReason(v1([series(['__name__', 'm'], ['url', 'é'.repeat(6)])], { maxLabelValueBytes: 11 }), 'label_value_too_long', 'Series 0 has a value of 12 bytes for label "url", more than the limit of 11.');
  });

  it('rejects a series without __name__ as missing_metric_name', () => {
    expectReason(v1([series(['a', '1'])]), 'missing_metric_name', 'Series 0 has no __name__ label.');
    expectReason(v1([{ labels: [], samples: [{ value: 1, timestamp: 1 }] }]), 'missing_metric_name', 'Series 0 has no labels, so no __name__ label.');
  });

  it('validates remote write 2.0 labels the same way', () => {
    const v2 = (symbols: string[], refs: number[], options?: DecoderOptions) => () =>
      new RemoteWriteDecoder(options).decode(encodeV2({ symbols, timeseries: [{ labels_refs: refs, samples: [{ value: 1, timestamp: 1 }] }] }), 2);
    const sym = ['', '__name__', 'm', 'a', 'b', '1x', 'x'.repeat(20)];
    expect(() => v2(sym, [1, 2, 3, 4])()).not.toThrow();
    expectReason(v2(sym, [1, 2, 5, 4]), 'invalid_label_name', 'Series 0 has an invalid label name "1x".');
    expectReason(v2(sym, [1, 0, 3, 4]), 'invalid_label_name', 'Series 0 has an empty __name__ label.');
    expectReason(v2(sym, [1, 2, 4, 3, 3, 4]), 'unsorted_labels', 'Series 0 has label "a" after "b", but label names must be sorted.');
    expectReason(v2(sym, [1, 2, 3, 4, 3, 4]), 'duplicate_label', 'Series 0 has the label "a" more than once.');
    expectReason(v2(sym, [1, 2, 3, 4, 4, 3], { maxLabels: 2 }), 'too_many_labels', 'Series 0 has more than 2 labels.');
    expectReason(v2(sym, [1, 2, 3, 6], { maxLabelValueBytes: 19 }), 'label_value_too_long', 'Series 0 has a value of 20 bytes for label "a", more than the limit of 19.');
    expectReason(v2(sym, [3, 4]), 'missing_metric_name', 'Series 0 has no __name__ label.');
    expectReason(v2(sym, []), 'missing_metric_name', 'Series 0 has no labels, so no __name__ label.');
  });

  it('rejects remote write 2.0 references out of range, odd counts and a non-empty first symbol as bad_symbol_ref', () => {
    const v2 = (symbols: string[], refs: number[]) => () =>
      new RemoteWriteDecoder().decode(encodeV2({ symbols, timeseries: [{ labels_refs: [1, 2], samples: [] }, { labels_refs: refs, samples: [] }] }), 2);
    expectReason(v2(['', '__name__', 'm', 'a'], [1, 2, 3, 9]), 'bad_symbol_ref', 'Series 1 refers to symbol 9, but the request has only 4 symbols.');
    expectReason(v2(['', '__name__', 'm', 'a'], [1, 2, 3]), 'bad_symbol_ref', 'Series 1 has an odd number (3) of label references.');
    expectReason(v2(['x', '__name__', 'm'], [1, 2]), 'bad_symbol_ref', 'The first symbol must be the empty string, but it is "x".');
    const huge = protobuf.Writer.create();
    huge.uint32((4 << 3) | 2).string('');
    huge.uint32((5 << 3) | 2).fork().uint32((1 << 3) | 0).uint64(2 ** 40).ldelim();
    expectReason(() => new RemoteWriteDecoder().decode(huge.finish(), 2), 'bad_symbol_ref', 'Series 0 refers to symbol beyond 2^32, but the request has only 1 symbols.');
  });
});

describe('histogram validation', () => {
  it('rejects a histogram whose spans do not cover its buckets as bad_histogram', () => {
    const h = (extra: object) => () =>
      new RemoteWriteDecoder().decode(encodeV1({ timeseries: [ok, { labels: ok.labels, histograms: [{ count_int: 1, positive_spans: [{ offset: 0, length: 3 }], ...extra }] }] }), 1);
    expectReason(h({ positive_deltas: [1, 2] }), 'bad_histogram', 'Series 1 has an integer histogram whose positive spans cover 3 buckets but which has 2 positive deltas.');
    expectReason(
      h({ count_int: undefined, count_float: 2, positive_counts: [1, 2, 3], negative_spans: [{ offset: 1, length: 1 }] }),
      'bad_histogram',
      'Series 1 has a float histogram whose negative spans cover 1 buckets but which has 0 negative counts.',
    );
    // Counts sent for an integer histogram are not its buckets.
    expectReason(h({ positive_counts: [1, 2, 3] }), 'bad_histogram', 'Series 1 has an integer histogram whose positive spans cover 3 buckets but which has 0 positive deltas.');
  });

  const hist = (histogram: object) => () =>
    new RemoteWriteDecoder().decode(encodeV1({ timeseries: [ok, { labels: ok.labels, histograms: [{ count_int: 1, ...histogram }] }] }), 1);

  it('rejects schemas outside -4..8 other than -53', () => {
    for (const schema of [-4, 0, 8]) expect(() => hist({ schema })()).not.toThrow();
    expectReason(hist({ schema: 30 }), 'bad_histogram', 'Series 1 has a native histogram with schema 30; schemas are -4 to 8, or -53 for custom buckets.');
    expectReason(hist({ schema: -5 }), 'bad_histogram', 'Series 1 has a native histogram with schema -5; schemas are -4 to 8, or -53 for custom buckets.');
  });

  it('rejects spans that go backwards and negative bucket counts, like Prometheus', () => {
    const spans = [{ offset: -2, length: 1 }, { offset: -1, length: 1 }];
    expectReason(hist({ positive_spans: spans, positive_deltas: [1, 0] }), 'bad_histogram', 'Series 1 has a native histogram whose positive span 1 has a negative offset (-1).');
    expectReason(
      hist({ negative_spans: [{ offset: 3, length: 2 }], negative_deltas: [2, -3] }),
      'bad_histogram',
      'Series 1 has a native histogram whose negative bucket 1 has a negative count (-1).',
    );
    expectReason(
      hist({ count_int: undefined, count_float: 1, positive_spans: [{ offset: 0, length: 1 }], positive_counts: [-0.5] }),
      'bad_histogram',
      'Series 1 has a native histogram whose positive bucket 0 has a negative count (-0.5).',
    );
  });

  it('rejects bucket indexes beyond the float64 range of the schema, so index gaps stay small', () => {
    // Schema 0: bucket i is (2^(i-1), 2^i]; 2^1100 is already +Inf.
    expect(() => hist({ schema: 0, positive_spans: [{ offset: -1100, length: 1 }, { offset: 2198, length: 1 }], positive_deltas: [1, 0] })()).not.toThrow();
    expectReason(
      hist({ schema: 0, positive_spans: [{ offset: -3_000_000, length: 1 }, { offset: 6_000_000, length: 1 }], positive_deltas: [1, 0] }),
      'bad_histogram',
      'Series 1 has a native histogram with a positive bucket at index -3000000, beyond the float64 range of schema 0.',
    );
    expectReason(
      hist({ schema: 8, negative_spans: [{ offset: 281_600, length: 2 }], negative_deltas: [1, 0] }),
      'bad_histogram',
      'Series 1 has a native histogram with a negative bucket at index 281601, beyond the float64 range of schema 8.',
    );
  });

  it('checks custom-bucket histograms (schema -53) against their custom values', () => {
    const custom = (extra: object) => hist({ schema: -53, custom_values: [0.1, 0.5, 1], positive_spans: [{ offset: 0, length: 4 }], positive_deltas: [1, 0, 0, 0], ...extra });
    expect(() => custom({})()).not.toThrow();
    expectReason(custom({ custom_values: [0.1, 0.1, 1] }), 'bad_histogram', 'Series 1 has a custom-bucket histogram whose custom values are not strictly increasing.');
    expectReason(
      custom({ positive_spans: [{ offset: 1, length: 4 }] }),
      'bad_histogram',
      'Series 1 has a native histogram with a positive bucket at index 4, but it has 3 custom values.',
    );
    expectReason(
      custom({ zero_count_int: 1 }),
      'bad_histogram',
      'Series 1 has a custom-bucket histogram with negative buckets or a zero bucket, which custom buckets cannot have.',
    );
    expectReason(
      hist({ schema: 2, custom_values: [1, 2] }),
      'bad_histogram',
      'Series 1 has a native histogram with schema 2 and custom values, which only schema -53 may have.',
    );
  });
});

describe('rejecting a request', () => {
  it('returns nothing partial: a reused batch is left empty after an error', () => {
    const decoder = new RemoteWriteDecoder();
    const batch = new DecodedBatch();
    decoder.decode(encodeV1({ timeseries: [ok, ok] }), 1, batch);
    expect(batch.seriesCount).toBe(2);
    expectReason(() => decoder.decode(encodeV1({ timeseries: [ok, ok, series(['a', '1'])] }), 1, batch), 'missing_metric_name', 'Series 2 has no __name__ label.');
    expect([batch.seriesCount, batch.sampleCount, batch.histogramCount, batch.series.length]).toEqual([0, 0, 0, 0]);
    expectReason(() => decoder.decodeSnappy(compress(Uint8Array.from([0x0a, 0x09])), 1, batch), 'bad_protobuf', 'The protobuf message has a length of 9 bytes at byte 1, beyond the end of its container.');
    expect(batch.seriesCount).toBe(0);
  });

  it('still validates a label set that failed before when it is sent again', () => {
    const decoder = new RemoteWriteDecoder();
    const bad = encodeV1({ timeseries: [series(['__name__', 'm'], ['b', '1'], ['a', '2'])] });
    for (let i = 0; i < 3; i++) expectReason(() => decoder.decode(bad, 1), 'unsorted_labels', 'Series 0 has label "a" after "b", but label names must be sorted.');
  });

  it('decodes successfully again after an error', () => {
    const decoder = new RemoteWriteDecoder();
    expect(() => decoder.decodeSnappy(compress(encodeV1({ timeseries: [series(['a', '1'])] })), 1)).toThrow(DecodeError);
    expect(decoder.decodeSnappy(compress(encodeV1({ timeseries: [ok] })), 1).seriesCount).toBe(1);
  });
});
