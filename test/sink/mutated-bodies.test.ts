// Deterministic mutations of valid remote-write bodies (1.0 and 2.0, floats and native
// histograms) thrown at POST /api/v1/write: every answer is a 204 or a catalogued 4xx,
// the sink keeps answering its read endpoints, memory does not creep up on a second
// identical pass, and the series limit holds.
import v8 from 'node:v8';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type SinkApp } from '../../sink/app.ts';
import { k6SeriesLabels } from '../../fixtures/k6-payloads.ts';
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

const MUTATIONS = 1200;
const MAX_SERIES = 5000;
const SEED = 0x5eed_2024;
const T = 1_700_000_000_000;
const RW1 = 'application/x-protobuf';
const RW2 = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';

// ---------------------------------------------------------------------------
// Seeded PRNG (mulberry32)

function prng(seed: number) {
  let s = seed | 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  return { next, int, bytes };
}
type Rng = ReturnType<typeof prng>;

// ---------------------------------------------------------------------------
// Valid bodies to start from. Request k gets its own timestamps and a sliding window
// of label sets, so accepted bodies keep reaching ingestion and new series keep coming.

interface SeriesObj {
  labels?: LabelObj[];
  labels_refs?: number[];
  samples?: SampleObj[];
  histograms?: HistogramObj[];
  created_timestamp?: number;
}
interface Seed {
  kind: string;
  contentType: string;
  version: 1 | 2;
  symbols: string[];
  timeseries: SeriesObj[];
}

const encodeSeed = (seed: Seed): Uint8Array =>
  seed.version === 1
    ? encodeV1({ timeseries: seed.timeseries as TimeSeriesObj[] })
    : encodeV2({ symbols: seed.symbols, timeseries: seed.timeseries as TimeSeriesV2Obj[] });

/** k6's native histogram of http_req_duration at schema 3, integer (deltas) or float. */
function durationHistogram(k: number, float: boolean, timestamp: number): HistogramObj {
  const common = { sum: 1.25 + k / 100, schema: 3, zero_threshold: 2 ** -128, timestamp };
  const spans = [{ offset: -20, length: 3 }, { offset: 2, length: 2 }];
  return float
    ? { ...common, count_float: 12 + k, zero_count_float: 1, positive_spans: spans, positive_counts: [2, 3 + k, 1, 4, 1], negative_spans: [] }
    : { ...common, count_int: 12 + k, zero_count_int: 1, positive_spans: spans, positive_deltas: [2, 1 + k, -2 - k, 3, -3] };
}

function histogramLabels(k: number, which: string): LabelObj[] {
  return [
    { name: '__name__', value: 'k6_http_req_duration_seconds' },
    { name: 'name', value: `https://shop.example.test/p/${k % 40}` },
    { name: 'scenario', value: which },
    { name: 'testid', value: `fuzz-h-${k % 3}` },
  ];
}

/** `lateMs` moves the timestamps later (still before request k + 1's), so a second body for k is not out of order. */
function seedFor(k: number, lateMs = 0): Seed {
  const ts = T + k * 1000 + lateMs;
  const symbols = [''];
  const refs = (labels: LabelObj[]) =>
    labels.flatMap((l) => [l.name, l.value]).map((s) => {
      const i = symbols.indexOf(s);
      return i >= 0 ? i : symbols.push(s) - 1;
    });
  const reqs = { labels: [{ name: '__name__', value: 'k6_http_reqs_total' }, { name: 'testid', value: `fuzz-h-${k % 3}` }], samples: [{ value: 10 * k, timestamp: ts }] };
  switch (k % 4) {
    case 0:
      return {
        kind: 'rw1-floats',
        contentType: RW1,
        version: 1,
        symbols,
        timeseries: Array.from({ length: 12 }, (_, j) => ({ labels: k6SeriesLabels(k * 4 + j), samples: [{ value: (k + 1) * (j + 1), timestamp: ts }] })),
      };
    case 1:
      return {
        kind: 'rw1-histograms',
        contentType: RW1,
        version: 1,
        symbols,
        timeseries: [
          { labels: histogramLabels(k, 'int'), histograms: [durationHistogram(k, false, ts)] },
          { labels: histogramLabels(k, 'float'), histograms: [durationHistogram(k, true, ts)] },
          reqs,
        ],
      };
    case 2:
      return {
        kind: 'rw2-floats',
        contentType: RW2,
        version: 2,
        symbols,
        timeseries: Array.from({ length: 12 }, (_, j) => ({ labels_refs: refs(k6SeriesLabels(k * 4 + j + 100_000)), samples: [{ value: j + k / 7, timestamp: ts }] })),
      };
    default:
      return {
        kind: 'rw2-histograms',
        contentType: RW2,
        version: 2,
        symbols,
        timeseries: [
          { labels_refs: refs(histogramLabels(k, 'int2')), histograms: [durationHistogram(k, false, ts)], created_timestamp: T - 1 },
          { labels_refs: refs(histogramLabels(k, 'float2')), histograms: [durationHistogram(k, true, ts)] },
          { labels_refs: refs(reqs.labels), samples: reqs.samples },
        ],
      };
  }
}

/**
 * Mutations of field values, before encoding: the bytes stay well-formed protobuf, the
 * values are what a buggy or hostile sender could put there.
 */
const valueMutations: Record<string, (seed: Seed, r: Rng) => void> = {
  'histogram schema': (seed, r) => {
    for (const h of seed.timeseries.flatMap((t) => t.histograms ?? [])) h.schema = r.int(131) - 65;
  },
  'histogram span offset': (seed, r) => {
    for (const h of seed.timeseries.flatMap((t) => t.histograms ?? [])) h.positive_spans![0].offset = (r.next() < 0.5 ? -1 : 1) * 2 ** r.int(23);
  },
  'histogram zero threshold': (seed, r) => {
    for (const h of seed.timeseries.flatMap((t) => t.histograms ?? [])) h.zero_threshold = [NaN, -1, Infinity, 1e300][r.int(4)];
  },
  'histogram counts': (seed, r) => {
    for (const h of seed.timeseries.flatMap((t) => t.histograms ?? [])) {
      if (h.positive_deltas) h.positive_deltas = h.positive_deltas.map(() => r.int(2 ** 30) - 2 ** 29);
      if (h.positive_counts) h.positive_counts = h.positive_counts.map(() => [NaN, -5, Infinity, 1e308][r.int(4)]);
    }
  },
  timestamp: (seed, r) => {
    const t = [2 ** 53 - 1, -(2 ** 53) + 1, 8.64e15 + 1, 0][r.int(4)];
    for (const s of seed.timeseries) {
      for (const x of s.samples ?? []) x.timestamp = t;
      for (const h of s.histograms ?? []) h.timestamp = t;
    }
  },
  'sample value': (seed, r) => {
    for (const x of seed.timeseries.flatMap((t) => t.samples ?? [])) x.value = [NaN, Infinity, -Infinity, -0, -1e308][r.int(5)];
  },
  'label value': (seed, r) => {
    const long = r.next() < 0.5 ? 'é'.repeat(1025) : 'x'.repeat(2048);
    if (seed.version === 2) seed.symbols[seed.symbols.length - 1] = long;
    else seed.timeseries[0].labels![seed.timeseries[0].labels!.length - 1].value = long;
  },
};

// ---------------------------------------------------------------------------
// Mutations

const insertAt = (b: Uint8Array, i: number, add: Uint8Array, drop = 0): Buffer =>
  Buffer.concat([b.subarray(0, i), add, b.subarray(Math.min(b.length, i + drop))]);

/** Mutations of the protobuf bytes, compressed afterwards: snappy stays valid, the message does not. */
const protobufMutations: Record<string, (raw: Uint8Array, r: Rng) => Uint8Array> = {
  'bit flips': (raw, r) => {
    const b = Buffer.from(raw);
    for (let n = 1 + r.int(3); n > 0; n--) b[r.int(b.length)] ^= 1 << r.int(8);
    return b;
  },
  truncation: (raw, r) => raw.subarray(0, r.int(raw.length)),
  // An 11-byte varint (too long) or a 10-byte one with bits past 64.
  'bad varint': (raw, r) => insertAt(raw, r.int(raw.length), r.next() < 0.5 ? Buffer.alloc(11, 0x80) : Buffer.from([...Buffer.alloc(9, 0xff), 0x7f]), r.int(2)),
  // A length prefix of 2^32 - 1 or 2^31, over whatever byte was there.
  'huge length prefix': (raw, r) => insertAt(raw, r.int(raw.length), r.next() < 0.5 ? Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]) : Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08]), 1),
  garbage: (raw, r) => insertAt(raw, r.int(raw.length), r.bytes(1 + r.int(24)), r.int(4)),
  'duplicated chunk': (raw, r) => {
    const i = r.int(raw.length);
    const j = Math.min(raw.length, i + 1 + r.int(48));
    return insertAt(raw, j, raw.subarray(i, j));
  },
};

/** Mutations of the compressed body itself. */
const snappyMutations: Record<string, (body: Buffer, r: Rng) => Buffer> = {
  'bit flips': (body, r) => {
    const b = Buffer.from(body);
    for (let n = 1 + r.int(3); n > 0; n--) b[r.int(b.length)] ^= 1 << r.int(8);
    return b;
  },
  truncation: (body, r) => body.subarray(0, r.int(body.length)),
  'huge length preamble': (body, r) => {
    let end = 0;
    while (end < body.length && body[end] & 0x80) end++;
    return insertAt(body, 0, r.next() < 0.5 ? Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]) : Buffer.from([0x80, 0x80, 0x80, 0x10]), end + 1);
  },
  'off-by-some length preamble': (body, r) => {
    let end = 0;
    while (end < body.length && body[end] & 0x80) end++;
    let len = 0;
    for (let i = end; i >= 0; i--) len = len * 128 + (body[i] & 0x7f);
    const wrong = Math.max(0, len + (r.next() < 0.5 ? -1 : 1) * (1 + r.int(64)));
    const varint: number[] = [];
    for (let v = wrong; ; v = Math.floor(v / 128)) {
      if (v < 128) {
        varint.push(v);
        break;
      }
      varint.push((v & 0x7f) | 0x80);
    }
    return insertAt(body, 0, Buffer.from(varint), end + 1);
  },
  garbage: (body, r) => insertAt(body, 1 + r.int(Math.max(1, body.length - 1)), r.bytes(1 + r.int(24)), r.int(4)),
  'duplicated chunk': (body, r) => {
    const i = 1 + r.int(Math.max(1, body.length - 1));
    const j = Math.min(body.length, i + 1 + r.int(48));
    return insertAt(body, j, body.subarray(i, j));
  },
};

interface Mutated {
  index: number;
  kind: string;
  mutation: string;
  contentType: string;
  body: Buffer;
}

/**
 * For each k: the valid seed body (it keeps new series coming, so the series limit is
 * reached) and one mutation of it. Only the mutations count towards MUTATIONS.
 */
function corpus(): Mutated[] {
  const r = prng(SEED);
  const pNames = Object.keys(protobufMutations);
  const sNames = Object.keys(snappyMutations);
  const vNames = Object.keys(valueMutations);
  const out: Mutated[] = [];
  for (let k = 0; k < MUTATIONS; k++) {
    const seed = seedFor(k);
    const raw = encodeSeed(seed);
    const base = { index: k, kind: seed.kind, contentType: seed.contentType };
    out.push({ ...base, mutation: 'none', body: compress(raw) });
    const dice = r.next();
    if (dice < 0.45) {
      const name = pNames[r.int(pNames.length)];
      out.push({ ...base, mutation: `protobuf ${name}`, body: compress(protobufMutations[name](raw, r)) });
    } else if (dice < 0.8) {
      const name = sNames[r.int(sNames.length)];
      out.push({ ...base, mutation: `snappy ${name}`, body: snappyMutations[name](compress(raw), r) });
    } else {
      const name = vNames[r.int(vNames.length)];
      const tweaked = seedFor(k, 500);
      valueMutations[name](tweaked, r);
      out.push({ ...base, mutation: `value ${name}`, body: compress(encodeSeed(tweaked)) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Running them

interface Outcome {
  status: number;
  code: string | null;
  problem: string | null;
}

async function send(app: SinkApp, m: Mutated): Promise<Outcome> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/write',
    payload: m.body,
    headers: { 'content-type': m.contentType, 'content-encoding': 'snappy' },
  });
  if (res.statusCode === 204) return { status: 204, code: null, problem: null };
  let body: unknown;
  try {
    body = res.json();
  } catch {
    body = res.body;
  }
  const shaped =
    typeof body === 'object' &&
    body !== null &&
    Object.keys(body).sort().join() === 'code,message' &&
    typeof (body as { code: unknown }).code === 'string' &&
    (body as { code: string }).code.startsWith('SINK_ERR_') &&
    typeof (body as { message: unknown }).message === 'string';
  const code = shaped ? (body as { code: string }).code : null;
  const ok = res.statusCode >= 400 && res.statusCode < 500 && shaped;
  return {
    status: res.statusCode,
    code,
    problem: ok ? null : `#${m.index} ${m.kind} / ${m.mutation}: ${res.statusCode} ${res.body} (body ${m.body.toString('hex').slice(0, 200)})`,
  };
}

function collectGarbage(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

describe('mutated remote-write bodies', () => {
  const bodies = corpus();
  const mutations = bodies.filter((b) => b.mutation !== 'none');
  const app = buildApp({ config: { maxSeries: MAX_SERIES, maxSeriesPerRun: MAX_SERIES } });
  const firstPass: Outcome[] = [];
  let maxActiveSeries = 0;

  let firstPassBufferGrowth = 0;

  beforeAll(async () => {
    await app.ready();
    const gc = collectGarbage();
    gc();
    const buffersBefore = process.memoryUsage().arrayBuffers;
    for (const m of bodies) {
      firstPass.push(await send(app, m));
      maxActiveSeries = Math.max(maxActiveSeries, app.sink.runs.activeSeries);
    }
    gc();
    firstPassBufferGrowth = process.memoryUsage().arrayBuffers - buffersBefore;
    return () => app.close();
  });

  it('accepts every unmutated seed body with 204', () => {
    const refused = bodies.flatMap((b, i) => (b.mutation === 'none' && firstPass[i].status !== 204 ? [firstPass[i].problem] : []));
    expect(refused.slice(0, 5)).toEqual([]);
  });

  it(`answers each of ${MUTATIONS} mutated bodies with 204 or a 4xx carrying a catalogued {code, message}, never a 5xx`, () => {
    const problems = firstPass.map((o) => o.problem).filter((p): p is string => p !== null);
    expect(problems.slice(0, 10), `${problems.length} of ${firstPass.length} answers were not 204 or a catalogued 4xx`).toEqual([]);
  });

  it('reaches every stage of decoding, so the answers above mean something', () => {
    const seen = new Set(firstPass.map((o) => (o.status === 204 ? '204' : o.code)));
    expect(mutations.length).toBeGreaterThanOrEqual(1000);
    for (const kind of ['rw1-floats', 'rw1-histograms', 'rw2-floats', 'rw2-histograms']) expect(mutations.filter((b) => b.kind === kind).length).toBeGreaterThan(200);
    for (const family of ['protobuf', 'snappy', 'value']) expect(mutations.filter((b) => b.mutation.startsWith(family)).length).toBeGreaterThan(100);
    for (const outcome of ['204', 'SINK_ERR_BAD_SNAPPY', 'SINK_ERR_BAD_PROTOBUF', 'SINK_ERR_BODY_TOO_LARGE']) expect(seen, outcome).toContain(outcome);
    const validation = ['SINK_ERR_INVALID_LABEL_NAME', 'SINK_ERR_UNSORTED_LABELS', 'SINK_ERR_MISSING_METRIC_NAME', 'SINK_ERR_BAD_SYMBOL_REF', 'SINK_ERR_BAD_HISTOGRAM'];
    expect(validation.filter((c) => seen.has(c)).length, `validation codes seen: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(3);
  });

  it(`never keeps more than maxSeries = ${MAX_SERIES} series, and refuses the rest`, async () => {
    expect(maxActiveSeries).toBeLessThanOrEqual(MAX_SERIES);
    expect(app.sink.runs.activeSeries).toBeLessThanOrEqual(MAX_SERIES);
    // The corpus brings more new series than the limit, so the limit was really hit.
    expect(app.sink.runs.counters.refusedSeries.total_limit).toBeGreaterThan(0);
  });

  it('still answers GET /api/runs, GET /api/runs/:testid and GET /metrics afterwards', async () => {
    const runs = await app.inject({ method: 'GET', url: '/api/runs' });
    expect(runs.statusCode, runs.body).toBe(200);
    const one = await app.inject({ method: 'GET', url: '/api/runs/fuzz-h-1' });
    expect(one.statusCode, one.body).toBe(200);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode, metrics.body.slice(0, 200)).toBe(200);
  });

  it('keeps the state the first pass built small: bodies of a few hundred bytes cannot pin megabytes of buffers', () => {
    // 5000 series and a handful of runs need far less than this; a dense bucket array
    // spanning far-apart histogram indexes (see write-status.test.ts) needs far more.
    expect(firstPassBufferGrowth, `ArrayBuffers grew by ${(firstPassBufferGrowth / 1e6).toFixed(1)} MB`).toBeLessThan(64 * 1024 * 1024);
  });

  const secondPass: Outcome[] = [];

  it('does not grow the heap or its buffers on a second identical pass', async () => {
    const gc = collectGarbage();
    gc();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const buffersBefore = process.memoryUsage().arrayBuffers;
    for (const m of bodies) secondPass.push(await send(app, m));
    gc();
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    const bufferGrowth = process.memoryUsage().arrayBuffers - buffersBefore;
    expect(heapGrowth, `heapUsed grew by ${(heapGrowth / 1e6).toFixed(1)} MB`).toBeLessThan(16 * 1024 * 1024);
    expect(bufferGrowth, `ArrayBuffers grew by ${(bufferGrowth / 1e6).toFixed(1)} MB`).toBeLessThan(16 * 1024 * 1024);
    expect(app.sink.runs.activeSeries).toBeLessThanOrEqual(MAX_SERIES);
  });

  it('gives every body the same answer on the second pass: validation does not depend on what came before', () => {
    expect(secondPass.length).toBe(bodies.length);
    const changed = bodies.flatMap((m, i) =>
      secondPass[i].status === firstPass[i].status && secondPass[i].code === firstPass[i].code
        ? []
        : [`#${m.index} ${m.kind} / ${m.mutation}: ${firstPass[i].status} ${firstPass[i].code} then ${secondPass[i].status} ${secondPass[i].code}`],
    );
    expect(changed.slice(0, 10), `${changed.length} answers changed`).toEqual([]);
  });
});
