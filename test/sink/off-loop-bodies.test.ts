// The fan-out's request bodies that need a spooled record decoded (RW2 re-encoded as RW1,
// InfluxDB lines) are built on the decode worker, byte for byte what the event loop would
// build; once the worker is gone, on the event loop.
import { describe, expect, it, vi } from 'vitest';
import { DecodePool, WorkerGone } from '../../sink/remote-write/decode-pool.ts';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { offLoopBodies, replayEncoder } from '../../sink/off-loop-bodies.ts';
import { RecordKind, type EncodableRecord } from '../../sink/fanout/bodies.ts';
import type { GradeRecord } from '../../sink/model/run-events.ts';
import { grade } from '../../lib/grade.ts';
import { compress, encodeV1, encodeV2, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';
import { T0, series } from './fixtures/series.ts';

const timeseries: TimeSeriesObj[] = [
  series('k6_http_reqs_total', { testid: 'off_loop', url: '/a', method: 'GET' }, [[T0, 10], [T0 + 1000, 20]]),
  series('k6_http_req_duration_seconds', { testid: 'off_loop', url: '/a' }, [], [{ count_int: 3, sum: 0.4, schema: 3, zero_threshold: 2 ** -128, zero_count_int: 0, positive_spans: [{ offset: -26, length: 2 }], positive_deltas: [1, 1], timestamp: T0 }]),
];

function v2Body(): Buffer {
  const symbols = [''];
  const ref = (s: string) => (symbols.includes(s) ? symbols.indexOf(s) : symbols.push(s) - 1);
  return compress(encodeV2({ symbols, timeseries: timeseries.map((ts) => ({ labels_refs: ts.labels.flatMap((l) => [ref(l.name), ref(l.value)]), samples: ts.samples ?? [], histograms: ts.histograms ?? [], created_timestamp: 0 })) }));
}

const figures = { requests: 20, p50Ms: 80, p95Ms: 120, p99Ms: 150, errorRatio: 0, rps: 10, vus: 5, checksRate: 1, iterations: 4, grade: grade({ p95Ms: 120, errorRatio: 0, requests: 20 }) };
const graded: GradeRecord = { t: T0 + 2000, runs: [{ testid: 'off_loop', tags: { environment: 'prod' }, p95Source: 'native_histogram', status: 'running', breakingPointVus: null, live: figures, run: figures }] };

const records = (): EncodableRecord[] => [
  { kind: RecordKind.RW1, payload: compress(encodeV1({ timeseries })) },
  { kind: RecordKind.RW2, payload: v2Body() },
  { kind: RecordKind.GRADE, payload: Buffer.from(JSON.stringify(graded)) },
];

describe("the fan-out's bodies off the event loop", () => {
  it('builds RW2 re-encodings, grade series and InfluxDB lines on the decode worker, byte for byte what the event loop builds', async () => {
    const pool = (await DecodePool.start({ maxLabels: 64, maxLabelValueBytes: 2048, maxUncompressedBytes: 1 << 24 }, (line) => {
      throw new Error(line);
    }))!;
    const run = vi.spyOn(pool, 'run');
    const bodies = offLoopBodies(pool, replayEncoder());
    const local = replayEncoder();
    const given = records();
    const copies = given.map((r) => Buffer.from(r.payload));
    try {
      const blocks = await bodies.rw1Blocks(given.slice(1));
      const lines = await bodies.influxText(given);
      expect(run).toHaveBeenCalledTimes(2);
      expect(blocks.map((b) => b.toString('base64'))).toEqual(local.rw1BlocksNow(given.slice(1)).map((b) => b.toString('base64')));
      expect(lines.toString('utf8')).toBe(local.influxTextNow(given).toString('utf8'));
      // The RW2 body re-encoded as RW1 holds the same series; the lines hold every sample, histogram and grade.
      const decoded = new RemoteWriteDecoder().decodeSnappy(blocks[0]!, 1);
      expect(decoded.seriesCount).toBe(2);
      expect([decoded.sampleCount, decoded.histogramCount]).toEqual([2, 1]);
      expect(lines.toString('utf8').split('\n').filter((l) => l.startsWith('http_reqs,'))).toHaveLength(2 * 2);
      expect(lines.toString('utf8')).toMatch(/^promo_grade,environment=prod,testid=off_loop,window=live score=/m);
      // The spool keeps its records as they were.
      expect(given.map((r) => r.payload.toString('base64'))).toEqual(copies.map((c) => c.toString('base64')));
    } finally {
      await pool.close();
    }
    // Without the worker: the pool refuses the job, and the same bodies come from the event loop.
    const after = await bodies.rw1Blocks(given.slice(1));
    await expect(run.mock.results[2]!.value).rejects.toThrow(WorkerGone);
    expect(after.map((b) => b.toString('base64'))).toEqual(local.rw1BlocksNow(given.slice(1)).map((b) => b.toString('base64')));
  });
});
