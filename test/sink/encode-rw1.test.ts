import { describe, expect, it } from 'vitest';
import { encodeWriteRequest } from '../../sink/codec/encode-rw1.ts';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { WriteRequest } from '../../fixtures/remote-write-proto.ts';

const histogram = (isFloat: boolean) => ({
  count: 12, sum: 3.5, schema: 3, zeroThreshold: 2 ** -128, zeroCount: 1, isFloat, resetHint: 0, timestamp: 1_790_000_000_123, customValues: [],
  positiveSpans: [{ offset: -26, length: 2 }, { offset: 3, length: 1 }], positiveBuckets: [4, 2, 5],
  negativeSpans: [{ offset: 1, length: 1 }], negativeBuckets: [0],
});

describe('encoding remote write 1.0', () => {
  it('round-trips labels, samples and integer and float histograms through the decoder', () => {
    const body = encodeWriteRequest([
      { names: ['__name__', 'testid', 'url'], values: ['k6_http_reqs_total', 'é_1', 'http://x/?a=b'], samples: [{ value: 42, timestamp: 1_790_000_000_000 }, { value: -1.5, timestamp: 1_790_000_001_000 }] },
      { names: ['__name__'], values: ['k6_http_req_duration_seconds'], histograms: [histogram(false), histogram(true)] },
    ]);
    const batch = new RemoteWriteDecoder().decode(body, 1);
    expect(batch.seriesCount).toBe(2);
    expect(batch.series[0]!.values).toEqual(['k6_http_reqs_total', 'é_1', 'http://x/?a=b']);
    expect([...batch.sampleValues.subarray(0, 2)]).toEqual([42, -1.5]);
    expect([...batch.sampleTimestamps.subarray(0, 2)]).toEqual([1_790_000_000_000, 1_790_000_001_000]);
    expect(batch.histogramObjects()).toEqual([histogram(false), histogram(true)]);
  });

  it('writes what protobufjs reads as a prometheus.WriteRequest', () => {
    const body = encodeWriteRequest([{ names: ['__name__', 'a'], values: ['m', 'b'], samples: [{ value: 1, timestamp: 5 }] }]);
    expect(WriteRequest.toObject(WriteRequest.decode(body), { longs: Number })).toEqual({
      timeseries: [{ labels: [{ name: '__name__', value: 'm' }, { name: 'a', value: 'b' }], samples: [{ value: 1, timestamp: 5 }] }],
    });
  });
});
