/**
 * Replays the pushes recorded from a real k6 run with native histograms
 * (bench/fixtures/k6-native/, made by record-k6-pushes.ts) as N k6 instances of one
 * run, for as many pushes as a bench needs.
 *
 * - Instance c's series carry `instance="c"`, as `npm run k6 -- … --instances N`
 *   tags them, so the instances share no series and may be sent side by side.
 * - Push r of an instance is recorded push r mod F with its timestamps moved to
 *   start + r seconds. Cumulative values (counters, histogram counts, sums and
 *   buckets) keep growing past the recording: in lap L = ⌊r / F⌋ each series gets L
 *   times its last recorded value added, bucket by bucket, so no series ever goes
 *   back (no counter resets). The layout of every histogram is the last recorded
 *   one's (spans only grow in a cumulative histogram). Gauges and rates stay as
 *   recorded.
 *
 * Bodies are decoded and encoded with protobufjs (test/sink/fixtures), which shares
 * nothing with the sink's decoder.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WriteRequest, type HistogramObj, type LabelObj, type SpanObj, type TimeSeriesObj } from '../test/sink/fixtures/remote-write-proto.ts';
import { snappyCompress, snappyUncompress } from '../sink/remote-write/snappy.ts';
import { ROOT } from './services.ts';

export const K6_NATIVE_FIXTURES = join(ROOT, 'bench', 'fixtures', 'k6-native');

interface RecordedSeries {
  key: string;
  labels: LabelObj[];
  /** The float sample of each recorded push that has the series, by push. */
  values: (number | undefined)[];
  histograms: (DenseHistogram | undefined)[];
  cumulative: boolean;
}

/** A histogram with absolute counts over a fixed list of positive bucket indexes. */
interface DenseHistogram {
  count: number;
  sum: number;
  zeroCount: number;
  schema: number;
  zeroThreshold: number;
  /** Absolute counts by bucket index. */
  buckets: Map<number, number>;
}

export interface K6Recording {
  /** Recorded pushes F. */
  pushes: number;
  series: RecordedSeries[];
  /** Series in each recorded push (floats and histograms). */
  seriesPerPush: number[];
  floatsPerPush: number[];
  histogramsPerPush: number[];
  compressedBytes: number[];
}

type Raw = {
  timeseries: Array<{ labels: LabelObj[]; samples: { value: number; timestamp: unknown }[]; histograms: Record<string, unknown>[] }>;
};

function num(v: unknown): number {
  return v === undefined || v === null ? 0 : Number(v);
}

function dense(h: Record<string, unknown>): DenseHistogram {
  const buckets = new Map<number, number>();
  const spans = (h.positive_spans as SpanObj[] | undefined) ?? [];
  const deltas = ((h.positive_deltas as unknown[] | undefined) ?? []).map(num);
  let idx = 0;
  let j = 0;
  let running = 0;
  for (const span of spans) {
    idx += span.offset ?? 0;
    for (let k = 0; k < (span.length ?? 0); k++, idx++, j++) {
      running += deltas[j]!;
      buckets.set(idx, running);
    }
  }
  if (((h.negative_spans as unknown[] | undefined) ?? []).length > 0) throw new Error('the recording has negative buckets; k6 durations never do');
  return { count: num(h.count_int), sum: num(h.sum), zeroCount: num(h.zero_count_int), schema: num(h.schema), zeroThreshold: num(h.zero_threshold), buckets };
}

export function loadK6Recording(dir = K6_NATIVE_FIXTURES): K6Recording {
  const files = readdirSync(dir).filter((f) => f.endsWith('.rw1.snappy')).sort();
  if (files.length === 0) throw new Error(`no recorded pushes in ${dir}: run node --import tsx bench/record-k6-pushes.ts`);
  const byKey = new Map<string, RecordedSeries>();
  const rec: K6Recording = { pushes: files.length, series: [], seriesPerPush: [], floatsPerPush: [], histogramsPerPush: [], compressedBytes: [] };
  files.forEach((file, f) => {
    const body = readFileSync(join(dir, file));
    rec.compressedBytes.push(body.length);
    const wr = WriteRequest.toObject(WriteRequest.decode(snappyUncompress(body, 64 * 1024 * 1024)), { defaults: false, longs: Number }) as Raw;
    let floats = 0;
    let hists = 0;
    for (const ts of wr.timeseries) {
      const key = ts.labels.map((l) => `${l.name}=${l.value}`).join(',');
      let s = byKey.get(key);
      const name = ts.labels.find((l) => l.name === '__name__')!.value;
      if (!s) {
        s = { key, labels: ts.labels, values: [], histograms: [], cumulative: name.endsWith('_total') || (ts.histograms ?? []).length > 0 };
        byKey.set(key, s);
      }
      if ((ts.samples ?? []).length > 0) {
        s.values[f] = ts.samples[0]!.value ?? 0;
        floats++;
      }
      if ((ts.histograms ?? []).length > 0) {
        s.histograms[f] = dense(ts.histograms[0]!);
        hists++;
      }
    }
    rec.seriesPerPush.push(wr.timeseries.length);
    rec.floatsPerPush.push(floats);
    rec.histogramsPerPush.push(hists);
  });
  rec.series = [...byKey.values()];
  return rec;
}

function last<T>(xs: (T | undefined)[]): T | undefined {
  for (let i = xs.length - 1; i >= 0; i--) if (xs[i] !== undefined) return xs[i];
  return undefined;
}

/** Spans and deltas over `indexes` (sorted), for the counts in `counts`. */
function encodeBuckets(indexes: number[], counts: (i: number) => number): { positive_spans: SpanObj[]; positive_deltas: number[] } {
  const spans: SpanObj[] = [];
  const deltas: number[] = [];
  let prev = 0;
  let prevIdx = 0;
  indexes.forEach((idx, k) => {
    if (k > 0 && idx === prevIdx + 1) spans[spans.length - 1]!.length++;
    else spans.push({ offset: k === 0 ? idx : idx - prevIdx - 1, length: 1 });
    const c = counts(idx);
    deltas.push(c - prev);
    prev = c;
    prevIdx = idx;
  });
  return { positive_spans: spans, positive_deltas: deltas };
}

export interface ReplayedPush {
  body: Buffer;
  rawBytes: number;
  /** Float samples plus histograms. */
  samples: number;
  histograms: number;
}

/**
 * Push r (0-based) of instance `instance`: recorded push r mod F, lap ⌊r / F⌋, at
 * startMs + r · 1 s.
 */
export function replayPush(rec: K6Recording, instance: number, r: number, startMs: number, histogramsOnly = false): ReplayedPush {
  const f = r % rec.pushes;
  const lap = Math.floor(r / rec.pushes);
  const timestamp = startMs + r * 1000;
  const instanceLabel: LabelObj = { name: 'instance', value: String(instance) };
  const timeseries: TimeSeriesObj[] = [];
  let samples = 0;
  let histograms = 0;
  for (const s of rec.series) {
    const labels = [...s.labels.filter((l) => l.name !== 'instance'), instanceLabel].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const value = histogramsOnly ? undefined : s.values[f];
    const h = s.histograms[f];
    if (value === undefined && h === undefined) continue;
    const ts: TimeSeriesObj = { labels };
    if (value !== undefined) {
      ts.samples = [{ value: s.cumulative ? value + lap * last(s.values)! : value, timestamp }];
      samples++;
    }
    if (h !== undefined) {
      const end = last(s.histograms)!;
      const indexes = [...end.buckets.keys()].sort((a, b) => a - b);
      const hist: HistogramObj = {
        count_int: h.count + lap * end.count,
        sum: h.sum + lap * end.sum,
        schema: h.schema,
        zero_threshold: h.zeroThreshold,
        zero_count_int: h.zeroCount + lap * end.zeroCount,
        ...encodeBuckets(indexes, (i) => (h.buckets.get(i) ?? 0) + lap * end.buckets.get(i)!),
        timestamp,
      };
      ts.histograms = [hist];
      histograms++;
    }
    timeseries.push(ts);
  }
  const raw = WriteRequest.encode(WriteRequest.create({ timeseries })).finish();
  return { body: snappyCompress(raw), rawBytes: raw.length, samples: samples + histograms, histograms };
}
