// POST /api/v1/write, one row per header or body case: the status code, the whole
// {code, message} error body, the rejection counter, and that a refused request
// leaves the sink's state exactly as it was (no partial ingest).
import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp, type SinkApp } from '../../sink/app.ts';
import type { SinkConfig } from '../../sink/config.ts';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import type { ErrorBody } from '../../sink/errors.ts';
import { makeK6WriteRequests } from '../../fixtures/k6-payloads.ts';
import {
  compress,
  encodeV1,
  encodeV2,
  type HistogramObj,
  type LabelObj,
  type SampleObj,
  type TimeSeriesObj,
  type TimeSeriesV2Obj,
} from '../../fixtures/remote-write-proto.ts';

// ---------------------------------------------------------------------------
// Building blocks

const RW1 = 'application/x-protobuf';
const RW1_NAMED = 'application/x-protobuf;proto=prometheus.WriteRequest';
const RW2 = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';
const T = 1_700_000_000_000;
const TOKEN = 'token-for-tests-0001';
const BASIC = 'k6:basic-password-01';
const AUTH_CONFIG: Partial<SinkConfig> = { token: TOKEN, basicAuth: BASIC };
const bearer = (token: string) => `Bearer ${token}`;
const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

const L = (...pairs: [string, string][]): LabelObj[] => pairs.map(([name, value]) => ({ name, value }));

/** A valid series of a run that must never appear: put before the bad series of a rejected body. */
const GOOD_V1: TimeSeriesObj = {
  labels: L(['__name__', 'k6_http_reqs_total'], ['testid', 'never-seen']),
  samples: [{ value: 7, timestamp: T + 5000 }],
};
const SAMPLE: SampleObj[] = [{ value: 1, timestamp: T + 5000 }];

/** GOOD_V1 followed by `bad`, as a compressed RW1 body: a partial ingest would show run "never-seen". */
const v1After = (bad: TimeSeriesObj): Buffer => compress(encodeV1({ timeseries: [GOOD_V1, bad] }));

/** A compressed RW2 body: a valid series of run "never-seen", then a series with the given raw refs. */
function v2After(badRefs: number[], extra: Partial<TimeSeriesV2Obj> = { samples: SAMPLE }, symbols?: string[]): Buffer {
  const table = symbols ?? ['', '__name__', 'k6_http_reqs_total', 'testid', 'never-seen', 'a', 'b', 'v'];
  return compress(encodeV2({ symbols: table, timeseries: [{ labels_refs: [1, 2, 3, 4], samples: SAMPLE }, { labels_refs: badRefs, ...extra }] }));
}

/** A small valid body of run "prime", sent before every case so there is state to (not) change. */
const PRIME = compress(encodeV1({ timeseries: [{ labels: L(['__name__', 'k6_http_reqs_total'], ['testid', 'prime']), samples: [{ value: 5, timestamp: T }] }] }));

function writeHeaders(contentType: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { 'content-encoding': 'snappy', ...extra };
  if (contentType !== undefined) h['content-type'] = contentType;
  return h;
}

function credentialsFor(config: Partial<SinkConfig> | undefined): Record<string, string> {
  if (config?.token) return { authorization: bearer(config.token) };
  if (config?.basicAuth) return { authorization: basic(config.basicAuth) };
  return {};
}

const apps: SinkApp[] = [];
function newApp(config?: Partial<SinkConfig>): SinkApp {
  const app = buildApp({ config });
  apps.push(app);
  return app;
}
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function post(app: SinkApp, payload: Buffer, headers: Record<string, string>, url = '/api/v1/write') {
  return app.inject({ method: 'POST', url, payload, headers });
}

async function metric(app: SinkApp, series: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
const rejectedCount = (app: SinkApp, code: string) => metric(app, `sink_rejected_requests_total{reason="${code}"}`);

/** Everything a request could change: the runs as the API shows them, the series, the ingest counters. */
async function sinkState(app: SinkApp) {
  const runs = await app.inject({ method: 'GET', url: '/api/runs' });
  return {
    runsStatus: runs.statusCode,
    runs: runs.json(),
    testids: [...app.sink.runs.runs.keys()],
    activeSeries: app.sink.runs.activeSeries,
    counters: structuredClone(app.sink.runs.counters),
  };
}

// ---------------------------------------------------------------------------
// The table of refusals

interface Refusal {
  /** Sentence subject: what the request is. */
  what: string;
  config?: Partial<SinkConfig>;
  headers: Record<string, string>;
  body: Buffer;
  status: number;
  error: ErrorBody | { code: string; message: unknown };
  /** The decoder must not even run (size and header checks come first). */
  decoderNotCalled?: boolean;
}

const err = (code: string, message: string): ErrorBody => ({ code, message });

const hist = (h: HistogramObj): HistogramObj => ({ schema: 3, zero_threshold: 2 ** -128, timestamp: T + 5000, ...h });
const durationLabels = L(['__name__', 'k6_http_req_duration_seconds'], ['testid', 'never-seen']);

const goodV1Length = encodeV1({ timeseries: [GOOD_V1] }).length;
const SMALL_LIMIT: Partial<SinkConfig> = { maxBodyBytes: 1000 };

const badRequests: Refusal[] = [
  {
    what: 'a body that is not valid snappy (its data is shorter than its length header says)',
    headers: writeHeaders(RW1),
    body: Buffer.from([0x0a, 0x04, 0x61, 0x62]),
    status: 400,
    error: err('SINK_ERR_BAD_SNAPPY', 'The body is not valid snappy: The snappy data is 2 bytes, shorter than the 10 bytes its preamble says.'),
  },
  {
    what: 'an empty body',
    headers: writeHeaders(RW1),
    body: Buffer.alloc(0),
    status: 400,
    error: err('SINK_ERR_BAD_SNAPPY', 'The body is not valid snappy: The snappy body is empty.'),
  },
  {
    what: 'a snappy length header of more than 32 bits',
    headers: writeHeaders(RW1),
    body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    status: 400,
    error: err('SINK_ERR_BAD_SNAPPY', 'The body is not valid snappy: The snappy length preamble does not fit in 32 bits.'),
  },
  {
    what: 'a protobuf message whose last field claims more bytes than follow',
    headers: writeHeaders(RW1),
    body: compress(Buffer.concat([encodeV1({ timeseries: [GOOD_V1] }), Buffer.from([0x0a, 0x05, 0x01])])),
    status: 400,
    error: err(
      'SINK_ERR_BAD_PROTOBUF',
      `The body is not a valid remote-write protobuf message: The protobuf message has a length of 5 bytes at byte ${goodV1Length + 1}, beyond the end of its container.`,
    ),
  },
  {
    what: 'a label value that is not valid UTF-8',
    headers: writeHeaders(RW1),
    // Label{name:"a", value:0xff} inside a series with __name__="m".
    body: compress(
      Buffer.concat([
        encodeV1({ timeseries: [GOOD_V1] }),
        Buffer.from([0x0a, 0x17, 0x0a, 0x0d, 0x0a, 0x08, ...Buffer.from('__name__'), 0x12, 0x01, 0x6d, 0x0a, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0xff]),
      ]),
    ),
    status: 400,
    error: err('SINK_ERR_BAD_PROTOBUF', 'The body is not a valid remote-write protobuf message: Series 1 has a value for label "a" that is not valid UTF-8.'),
  },
  {
    what: 'an invalid label name',
    headers: writeHeaders(RW1),
    body: v1After({ labels: L(['__name__', 'm'], ['bad-name', 'v']), samples: SAMPLE }),
    status: 400,
    error: err('SINK_ERR_INVALID_LABEL_NAME', 'Invalid label name: Series 1 has an invalid label name "bad-name".'),
  },
  {
    what: 'an empty __name__',
    headers: writeHeaders(RW1),
    body: v1After({ labels: L(['__name__', ''], ['a', 'v']), samples: SAMPLE }),
    status: 400,
    error: err('SINK_ERR_INVALID_LABEL_NAME', 'Invalid label name: Series 1 has an empty __name__ label.'),
  },
  {
    what: 'labels that are not sorted by name',
    headers: writeHeaders(RW1),
    body: v1After({ labels: L(['__name__', 'm'], ['b', 'v'], ['a', 'v']), samples: SAMPLE }),
    status: 400,
    error: err('SINK_ERR_UNSORTED_LABELS', 'Labels are not sorted by name: Series 1 has label "a" after "b", but label names must be sorted.'),
  },
  {
    what: 'a duplicate label',
    headers: writeHeaders(RW1),
    body: v1After({ labels: L(['__name__', 'm'], ['a', 'v'], ['a', 'w']), samples: SAMPLE }),
    status: 400,
    error: err('SINK_ERR_DUPLICATE_LABEL', 'Duplicate label: Series 1 has the label "a" more than once.'),
  },
  {
    what: 'a series with more labels than maxLabels = 3',
    config: { maxLabels: 3 },
    headers: writeHeaders(RW1),
    body: v1After({ labels: L(['__name__', 'm'], ['a', 'v'], ['b', 'v'], ['c', 'v']), samples: SAMPLE }),
    status: 400,
    error: err('SINK_ERR_TOO_MANY_LABELS', 'Too many labels: Series 1 has more than 3 labels.'),
  },
  {
    what: 'a label value longer than maxLabelValueBytes = 20',
    config: { maxLabelValueBytes: 20 },
    headers: writeHeaders(RW1),
    body: v1After({ labels: L(['__name__', 'm'], ['url', 'é'.repeat(10) + 'x']), samples: SAMPLE }),
    status: 400,
    error: err('SINK_ERR_LABEL_VALUE_TOO_LONG', 'Label value too long: Series 1 has a value of 21 bytes for label "url", more than the limit of 20.'),
  },
  {
    what: 'a series without __name__',
    headers: writeHeaders(RW1),
    body: v1After({ labels: L(['a', 'v']), samples: SAMPLE }),
    status: 400,
    error: err('SINK_ERR_MISSING_METRIC_NAME', 'A series has no metric name: Series 1 has no __name__ label.'),
  },
  {
    what: 'a series without any label',
    headers: writeHeaders(RW1),
    body: v1After({ labels: [], samples: SAMPLE }),
    status: 400,
    error: err('SINK_ERR_MISSING_METRIC_NAME', 'A series has no metric name: Series 1 has no labels, so no __name__ label.'),
  },
  {
    what: 'a float histogram whose spans cover more buckets than it has counts',
    headers: writeHeaders(RW1),
    body: v1After({ labels: durationLabels, histograms: [hist({ count_float: 5, positive_spans: [{ offset: 0, length: 3 }], positive_counts: [2, 3] })] }),
    status: 400,
    error: err('SINK_ERR_BAD_HISTOGRAM', 'Bad native histogram: Series 1 has a float histogram whose positive spans cover 3 buckets but which has 2 positive counts.'),
  },
  {
    what: 'an integer histogram whose negative spans cover fewer buckets than it has deltas',
    headers: writeHeaders(RW1),
    body: v1After({ labels: durationLabels, histograms: [hist({ count_int: 6, negative_spans: [{ offset: 0, length: 2 }], negative_deltas: [1, 1, 1] })] }),
    status: 400,
    // KNOWN SINK BUG: decode.ts checkSpans says "a integer histogram".
    error: err('SINK_ERR_BAD_HISTOGRAM', 'Bad native histogram: Series 1 has an integer histogram whose negative spans cover 2 buckets but which has 3 negative deltas.'),
  },
  {
    what: 'a native histogram with schema 30 (exponential schemas are -4..8)',
    headers: writeHeaders(RW1),
    body: v1After({ labels: durationLabels, histograms: [hist({ schema: 30, count_int: 1, positive_spans: [{ offset: 0, length: 1 }], positive_deltas: [1] })] }),
    status: 400,
    // KNOWN SINK BUG: today the accumulator throws a RangeError during ingest: 500 and a partial ingest.
    error: { code: 'SINK_ERR_BAD_HISTOGRAM', message: expect.stringMatching(/^Bad native histogram: Series 1 /) },
  },
  {
    what: 'a remote write 2.0 label reference past the symbols table',
    headers: writeHeaders(RW2),
    body: v2After([1, 2, 5, 9]),
    status: 400,
    error: err('SINK_ERR_BAD_SYMBOL_REF', 'Bad remote-write 2.0 symbol reference: Series 1 refers to symbol 9, but the request has only 8 symbols.'),
  },
  {
    what: 'a remote write 2.0 series with an odd number of label references',
    headers: writeHeaders(RW2),
    body: v2After([1, 2, 5]),
    status: 400,
    error: err('SINK_ERR_BAD_SYMBOL_REF', 'Bad remote-write 2.0 symbol reference: Series 1 has an odd number (3) of label references.'),
  },
  {
    what: 'a remote write 2.0 symbols table that does not start with ""',
    headers: writeHeaders(RW2),
    body: v2After([1, 2, 5, 7], { samples: SAMPLE }, ['x', '__name__', 'k6_http_reqs_total', 'testid', 'never-seen', 'a', 'b', 'v']),
    status: 400,
    error: err('SINK_ERR_BAD_SYMBOL_REF', 'Bad remote-write 2.0 symbol reference: The first symbol must be the empty string, but it is "x".'),
  },
  {
    what: 'remote write 2.0 labels that are not sorted by name',
    headers: writeHeaders(RW2),
    body: v2After([1, 2, 6, 7, 5, 7]),
    status: 400,
    error: err('SINK_ERR_UNSORTED_LABELS', 'Labels are not sorted by name: Series 1 has label "a" after "b", but label names must be sorted.'),
  },
  {
    what: 'a remote write 2.0 series without __name__',
    headers: writeHeaders(RW2),
    body: v2After([5, 7]),
    status: 400,
    error: err('SINK_ERR_MISSING_METRIC_NAME', 'A series has no metric name: Series 1 has no __name__ label.'),
  },
  {
    what: 'a remote write 2.0 series with more labels than maxLabels = 2',
    config: { maxLabels: 2 },
    headers: writeHeaders(RW2),
    body: compress(encodeV2({ symbols: ['', '__name__', 'm', 'a', 'b', 'v'], timeseries: [{ labels_refs: [1, 2, 3, 5, 4, 5], samples: SAMPLE }] })),
    status: 400,
    error: err('SINK_ERR_TOO_MANY_LABELS', 'Too many labels: Series 0 has more than 2 labels.'),
  },
  {
    what: 'a remote write 2.0 histogram whose spans do not match its counts',
    headers: writeHeaders(RW2),
    body: v2After([1, 2, 3, 4], { histograms: [hist({ count_float: 5, positive_spans: [{ offset: 0, length: 1 }], positive_counts: [2, 3] })] }),
    status: 400,
    error: err('SINK_ERR_BAD_HISTOGRAM', 'Bad native histogram: Series 1 has a float histogram whose positive spans cover 1 buckets but which has 2 positive counts.'),
  },
];

const tooLarge: Refusal[] = [
  {
    what: 'a snappy header announcing one byte more than maxBodyBytes = 1000, followed by garbage',
    config: SMALL_LIMIT,
    headers: writeHeaders(RW1),
    body: Buffer.from([0xe9, 0x07, 0xde, 0xad, 0xbe, 0xef]),
    status: 413,
    error: err('SINK_ERR_BODY_TOO_LARGE', 'The body is too large: The body would decompress to 1001 bytes, more than the limit of 1000 bytes.'),
    decoderNotCalled: true,
  },
  {
    what: 'a snappy header announcing 4 GiB, followed by garbage',
    config: SMALL_LIMIT,
    headers: writeHeaders(RW2),
    body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x11, 0x22]),
    status: 413,
    error: err('SINK_ERR_BODY_TOO_LARGE', 'The body is too large: The body would decompress to 4294967295 bytes, more than the limit of 1000 bytes.'),
    decoderNotCalled: true,
  },
  {
    what: 'a compressed body longer than any snappy encoding of maxBodyBytes could be',
    config: SMALL_LIMIT,
    headers: writeHeaders(RW1),
    body: Buffer.alloc(1300, 0x01),
    status: 413,
    error: err('SINK_ERR_BODY_TOO_LARGE', 'The body is too large: the compressed body is over the limit'),
    decoderNotCalled: true,
  },
];

const unsupported: Refusal[] = [
  ...[
    ['a JSON content type', 'application/json', '"application/json"'],
    ['a text content type', 'text/plain', '"text/plain"'],
    ['no content type', undefined, '""'],
  ].map(([what, type, shown]): Refusal => ({
    what: what!,
    headers: writeHeaders(type),
    body: PRIME,
    status: 415,
    error: err('SINK_ERR_UNSUPPORTED_CONTENT_TYPE', `Unsupported content type ${shown}; send application/x-protobuf.`),
    decoderNotCalled: true,
  })),
  {
    what: 'a content type that is not a media type at all',
    headers: writeHeaders('garbage'),
    body: PRIME,
    status: 415,
    error: err('SINK_ERR_UNSUPPORTED_CONTENT_TYPE', 'Unsupported content type "garbage"; send application/x-protobuf.'),
    decoderNotCalled: true,
  },
  {
    what: 'an unknown proto= message',
    headers: writeHeaders('application/x-protobuf;proto=io.prometheus.write.v3.Request'),
    body: PRIME,
    status: 415,
    error: err(
      'SINK_ERR_UNSUPPORTED_PROTO',
      'Unsupported protobuf message "io.prometheus.write.v3.Request"; send prometheus.WriteRequest or io.prometheus.write.v2.Request.',
    ),
    decoderNotCalled: true,
  },
  {
    what: 'a request without Content-Encoding',
    headers: { 'content-type': RW1 },
    body: PRIME,
    status: 415,
    error: err('SINK_ERR_UNSUPPORTED_ENCODING', 'Unsupported content encoding ""; send snappy.'),
    decoderNotCalled: true,
  },
  {
    what: 'a gzip Content-Encoding',
    headers: { 'content-type': RW1, 'content-encoding': 'gzip' },
    body: PRIME,
    status: 415,
    error: err('SINK_ERR_UNSUPPORTED_ENCODING', 'Unsupported content encoding "gzip"; send snappy.'),
    decoderNotCalled: true,
  },
];

const UNAUTHORIZED = err('SINK_ERR_UNAUTHORIZED', 'Missing or wrong credentials for remote write.');
const unauthorized: Refusal[] = [
  ['no Authorization header', {}],
  ['a wrong bearer token', { authorization: bearer('token-for-tests-0002') }],
  ['a wrong basic-auth password', { authorization: basic('k6:basic-password-02') }],
  ['the basic-auth credentials sent as a bearer token', { authorization: bearer(BASIC) }],
  ['a bare "Bearer" without a token', { authorization: 'Bearer' }],
  ['an unknown auth scheme carrying the right token', { authorization: `Token ${TOKEN}` }],
].map(([what, auth]): Refusal => ({
  what: what as string,
  config: AUTH_CONFIG,
  headers: writeHeaders(RW1, auth as Record<string, string>),
  body: PRIME,
  status: 401,
  error: UNAUTHORIZED,
  decoderNotCalled: true,
}));
unauthorized.push(
  {
    what: 'the right basic-auth credentials when only a token is configured',
    config: { token: TOKEN },
    headers: writeHeaders(RW1, { authorization: basic(BASIC) }),
    body: PRIME,
    status: 401,
    error: UNAUTHORIZED,
    decoderNotCalled: true,
  },
  {
    what: 'an unauthenticated request that also has a wrong content type and a corrupt body',
    config: AUTH_CONFIG,
    headers: writeHeaders('application/json'),
    body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
    status: 401,
    error: UNAUTHORIZED,
    decoderNotCalled: true,
  },
);

describe('POST /api/v1/write refusals', () => {
  const table = [...badRequests, ...tooLarge, ...unsupported, ...unauthorized];

  for (const c of table) {
    it(`${c.what} is refused with ${c.status} ${c.error.code}, counted, and changes nothing`, async () => {
      const app = newApp(c.config);
      const prime = await post(app, PRIME, writeHeaders(RW1, credentialsFor(c.config)));
      expect(prime.statusCode).toBe(204);
      const before = await sinkState(app);
      const decode = vi.spyOn(RemoteWriteDecoder.prototype, 'decodeSnappy');

      const res = await post(app, c.body, c.headers);

      expect(res.statusCode).toBe(c.status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual(c.error);
      expect(Object.keys(res.json()).sort()).toEqual(['code', 'message']);
      if (c.decoderNotCalled) expect(decode).not.toHaveBeenCalled();
      expect(await sinkState(app)).toEqual(before);
      expect(await rejectedCount(app, c.error.code)).toBe(1);
      expect(await metric(app, 'sink_write_requests_total{version="1"}')).toBe(1); // the prime only
    });
  }

  it('checks the size from the snappy header only: a header of exactly maxBodyBytes gets past it to the decoder', async () => {
    const app = newApp(SMALL_LIMIT);
    const decode = vi.spyOn(RemoteWriteDecoder.prototype, 'decodeSnappy');
    const res = await post(app, Buffer.from([0xe8, 0x07, 0xde, 0xad, 0xbe, 0xef]), writeHeaders(RW1));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(
      err('SINK_ERR_BAD_SNAPPY', 'The body is not valid snappy: The snappy preamble announces 1000 bytes, more than 6 compressed bytes can hold.'),
    );
    expect(decode).toHaveBeenCalledTimes(1);
  });

  it('names the accepted auth schemes in WWW-Authenticate on a 401, as HTTP requires', async () => {
    // RFC 9110 §15.5.2: a 401 MUST carry WWW-Authenticate with at least one challenge.
    const app = newApp(AUTH_CONFIG);
    const res = await post(app, PRIME, writeHeaders(RW1));
    expect(res.statusCode).toBe(401);
    const challenge = String(res.headers['www-authenticate'] ?? '');
    expect(challenge).toMatch(/Bearer/i);
    expect(challenge).toMatch(/Basic/i);
  });
});

// ---------------------------------------------------------------------------
// Accepted writes

describe('POST /api/v1/write acceptance', () => {
  it('accepts a k6-shaped remote write 1.0 body with 204, an empty body, and grades its run', async () => {
    const app = newApp();
    const k6 = makeK6WriteRequests({ requests: 1, seriesPerRequest: 200 });
    const res = await post(app, k6.bodies[0], writeHeaders(RW1));
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(app.sink.runs.activeSeries).toBe(200);
    const run = await app.inject({ method: 'GET', url: '/api/runs/promo-2024-11-29-run-42' });
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({ testid: 'promo-2024-11-29-run-42', series: 200, status: 'running' });
    expect(await metric(app, 'sink_samples_received_total')).toBe(200);
    expect(await metric(app, 'sink_write_requests_total{version="1"}')).toBe(1);
  });

  it.each([
    ['application/x-protobuf;proto=prometheus.WriteRequest', RW1_NAMED, 'snappy'],
    ['a quoted proto= parameter after a space and upper-case media type', 'Application/X-Protobuf; proto="prometheus.WriteRequest"', 'snappy'],
    ['an upper-case content encoding', RW1, 'SNAPPY'],
  ])('accepts remote write 1.0 sent with %s', async (_what, type, encoding) => {
    const app = newApp();
    const res = await post(app, PRIME, { 'content-type': type, 'content-encoding': encoding });
    expect(res.statusCode).toBe(204);
    expect([...app.sink.runs.runs.keys()]).toEqual(['prime']);
  });

  it('accepts a remote write 2.0 body and reports exactly the samples and histograms it was sent', async () => {
    const app = newApp();
    const symbols = ['', '__name__', 'k6_http_reqs_total', 'testid', 'rw2-run', 'k6_vus', 'k6_http_req_duration_seconds', 'status', '200'];
    const body = compress(
      encodeV2({
        symbols,
        timeseries: [
          { labels_refs: [1, 2, 7, 8, 3, 4], samples: [1, 2, 3].map((k) => ({ value: 10 * k, timestamp: T + k * 1000 })) },
          { labels_refs: [1, 5, 3, 4], samples: [{ value: 4, timestamp: T + 1000 }], created_timestamp: T - 1 },
          {
            labels_refs: [1, 6, 7, 8, 3, 4],
            histograms: [
              hist({ count_int: 3, zero_count_int: 0, positive_spans: [{ offset: 1, length: 2 }], positive_deltas: [1, 1], timestamp: T + 1000 }),
              hist({ count_float: 5, zero_count_float: 0, positive_spans: [{ offset: 1, length: 2 }], positive_counts: [2, 3], timestamp: T + 2000 }),
            ],
          },
        ],
      }),
    );
    const res = await post(app, body, writeHeaders(RW2));
    expect(res.statusCode).toBe(204);
    expect(res.headers['x-prometheus-remote-write-samples-written']).toBe('4');
    expect(res.headers['x-prometheus-remote-write-histograms-written']).toBe('2');
    expect(res.headers['x-prometheus-remote-write-exemplars-written']).toBe('0');
    expect(app.sink.runs.activeSeries).toBe(3);
    expect(app.sink.runs.run('rw2-run')?.p95Source).toBe('native_histogram');
    expect(await metric(app, 'sink_write_requests_total{version="2"}')).toBe(1);
    expect(await metric(app, 'sink_histograms_received_total')).toBe(2);
  });

  it('accepts the configured bearer token', async () => {
    const app = newApp(AUTH_CONFIG);
    expect((await post(app, PRIME, writeHeaders(RW1, { authorization: bearer(TOKEN) }))).statusCode).toBe(204);
    expect((await post(app, PRIME, writeHeaders(RW1, { authorization: `bearer ${TOKEN}` }))).statusCode).toBe(204);
  });

  it('accepts the configured basic-auth credentials', async () => {
    const app = newApp(AUTH_CONFIG);
    expect((await post(app, PRIME, writeHeaders(RW1, { authorization: basic(BASIC) }))).statusCode).toBe(204);
    expect([...app.sink.runs.runs.keys()]).toEqual(['prime']);
  });
});

// ---------------------------------------------------------------------------
// Other routes

describe('unknown routes and runs', () => {
  it.each([
    ['GET', '/nope', err('SINK_ERR_NOT_FOUND', 'No route GET /nope.')],
    ['POST', '/api/v1/writes?x=1', err('SINK_ERR_NOT_FOUND', 'No route POST /api/v1/writes.')],
    ['GET', '/api/runs/unknown', err('SINK_ERR_RUN_NOT_FOUND', 'No run has the testid "unknown".')],
  ] as const)('%s %s answers 404 with a catalogued body', async (method, url, body) => {
    const app = newApp();
    const res = await app.inject({ method, url, headers: writeHeaders(RW1), payload: method === 'POST' ? PRIME : undefined });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual(body);
  });
});

// ---------------------------------------------------------------------------
// Data the decoder lets through must not break the sink afterwards

describe('odd but decodable data', () => {
  it('refuses or ignores a custom-bucket histogram (schema -53) without a 5xx and without a partial ingest', async () => {
    const app = newApp();
    const before = await sinkState(app);
    const res = await post(
      app,
      v1After({
        labels: durationLabels,
        histograms: [hist({ schema: -53, custom_values: [0.1, 0.5], count_int: 1, positive_spans: [{ offset: 0, length: 1 }], positive_deltas: [1] })],
      }),
      writeHeaders(RW1),
    );
    expect(res.statusCode === 204 || res.statusCode === 400, `status ${res.statusCode}: ${res.body}`).toBe(true);
    if (res.statusCode === 400) {
      expect(res.json()).toEqual({ code: 'SINK_ERR_BAD_HISTOGRAM', message: expect.stringMatching(/^Bad native histogram: /) });
      expect(await sinkState(app)).toEqual(before);
    }
  });

  it('does not allocate memory in proportion to how far apart histogram bucket indexes are', async () => {
    // Bucket 3,000,000 of schema 0 is 2^3000000: far beyond float64. 50 bytes must not cost megabytes.
    const app = newApp();
    const body = v1After({
      labels: durationLabels,
      histograms: [hist({ schema: 0, count_int: 2, positive_spans: [{ offset: -3_000_000, length: 1 }, { offset: 6_000_000, length: 1 }], positive_deltas: [1, 0] })],
    });
    const before = process.memoryUsage().arrayBuffers;
    const res = await post(app, body, writeHeaders(RW1));
    const grown = process.memoryUsage().arrayBuffers - before;
    expect([204, 400]).toContain(res.statusCode);
    expect(grown, `${(grown / 1e6).toFixed(1)} MB of ArrayBuffers for a ${body.length}-byte body`).toBeLessThan(4 * 1024 * 1024);
  });

  it('keeps GET /api/runs working after a sample with a timestamp outside the Date range', async () => {
    const app = newApp();
    await post(app, PRIME, writeHeaders(RW1));
    const res = await post(
      app,
      compress(encodeV1({ timeseries: [{ labels: L(['__name__', 'k6_http_reqs_total'], ['testid', 'far-future']), samples: [{ value: 1, timestamp: 9_000_000_000_000_000 }] }] })),
      writeHeaders(RW1),
    );
    expect([204, 400]).toContain(res.statusCode);
    const runs = await app.inject({ method: 'GET', url: '/api/runs' });
    expect(runs.statusCode, runs.body).toBe(200);
  });
});

// ---------------------------------------------------------------------------
// Shutdown

describe('shutdown', () => {
  it('answers a write that arrives while the sink closes with 503 SINK_ERR_SHUTTING_DOWN in the catalogue shape', async () => {
    const app = newApp();
    // A slow request keeps one keep-alive connection busy while close() starts.
    let inSlow!: () => void;
    const slowStarted = new Promise<void>((resolve) => (inSlow = resolve));
    let releaseSlow!: () => void;
    const slowMayEnd = new Promise<void>((resolve) => (releaseSlow = resolve));
    app.get('/test-slow', async () => {
      inSlow();
      await slowMayEnd;
      return 'slow';
    });
    let closingStarted!: () => void;
    const closing = new Promise<void>((resolve) => (closingStarted = resolve));
    app.addHook('preClose', async () => closingStarted());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const socket = connect(port, '127.0.0.1');
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET /test-slow HTTP/1.1\r\nHost: sink\r\n\r\n');
    await slowStarted;
    const closed = app.close();
    await closing;
    socket.write(
      Buffer.concat([
        Buffer.from(`POST /api/v1/write HTTP/1.1\r\nHost: sink\r\nContent-Type: ${RW1}\r\nContent-Encoding: snappy\r\nContent-Length: ${PRIME.length}\r\n\r\n`),
        PRIME,
      ]),
    );
    await new Promise((r) => setTimeout(r, 50));
    releaseSlow();
    await closed;
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();

    const second = raw.slice(raw.indexOf('HTTP/1.1', 1));
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    const body = JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4));
    expect(body).toEqual(err('SINK_ERR_SHUTTING_DOWN', 'The sink is shutting down; retry against its replacement.'));
    expect([...app.sink.runs.runs.keys()]).toEqual([]);
  });
});
