// The bodies of the requests to the destinations, record by record: what needs a spooled
// body decoded (a remote write 2.0 body re-encoded as 1.0, InfluxDB lines) and what
// does not (a grade record as Prometheus series). The sink runs the decoding ones off
// the event loop, in the decode worker (sink/decode-thread.ts); `decode` is given, so
// the fan-out never decodes by itself. Accepted RW1 bodies need nothing: they go to
// Prometheus as they are (destinations.ts).
import { snappyCompress } from '../codec/snappy.ts';
import { encodeWriteRequest, type SeriesToEncode } from '../codec/encode-rw1.ts';
import { InfluxLineEncoder, gradeLines } from './influx-lines.ts';
import type { DecodedBatch } from '../model/batch.ts';
import { forecastBounds, withheldWhy, type GradeRecord } from '../model/run-events.ts';
import { runTagLabels } from '../../lib/tags.ts';

/** What a spooled record holds. */
export const RecordKind = { RW1: 1, RW2: 2, GRADE: 3 } as const;

/** A spooled record, as far as its body is concerned. */
export interface EncodableRecord {
  kind: number;
  payload: Buffer;
}

/** Decodes a spooled remote-write body (validated when it was accepted). */
export type DecodeBody = (payload: Uint8Array, version: 1 | 2) => DecodedBatch;

/** Builds what needs the records decoded: off the event loop in the sink, here in tests and as the fallback. */
export interface BodyEncoder {
  /** For each record that is not RW1 already (RW2, grade), the RW1 snappy block standing for it, in order. */
  rw1Blocks(records: readonly EncodableRecord[]): Promise<Buffer[]>;
  /** The records as one InfluxDB line-protocol body. */
  influxText(records: readonly EncodableRecord[]): Promise<Buffer>;
}

/** The grade figures as Prometheus series, with the same names as the sink's /metrics. */
export function gradeSeries(record: GradeRecord): SeriesToEncode[] {
  const out: SeriesToEncode[] = [];
  const add = (name: string, labels: Record<string, string>, value: number | null) => {
    if (value === null || !Number.isFinite(value)) return;
    const all: Record<string, string> = { __name__: name, ...labels };
    const names = Object.keys(all).sort();
    out.push({ names, values: names.map((n) => all[n]!), samples: [{ value, timestamp: record.t }] });
  };
  for (const run of record.runs) {
    // Runs' tags and status and their breaking point reach Prometheus too, so dashboards
    // and annotations work without scraping the sink.
    add('promo_run_info', { testid: run.testid, ...runTagLabels(run.tags), status: run.status }, 1);
    add('promo_breaking_point_vus', { testid: run.testid }, run.breakingPointVus);
    add('promo_throughput_limit_rps', { testid: run.testid }, run.capacity?.throughputLimitRps ?? null);
    add('promo_throughput_limit_vus', { testid: run.testid }, run.capacity?.throughputLimitVus ?? null);
    for (const [bound, value] of forecastBounds(run.capacity?.forecast)) add('promo_capacity_forecast_rps', { testid: run.testid, bound }, value);
    // One verdict per threshold over every instance's data: 1 holds, 0 fails; none while nothing is judged.
    for (const th of run.thresholds ?? []) {
      if (th.ok === null) continue;
      add('promo_threshold_ok', { testid: run.testid, metric: th.metric, threshold: th.threshold }, th.ok ? 1 : 0);
      add('promo_threshold_value', { testid: run.testid, metric: th.metric, threshold: th.threshold }, th.value);
    }
    for (const window of ['live', 'run'] as const) {
      const f = run[window];
      const base = { testid: run.testid, window };
      const source = { ...base, p95_source: run.p95Source ?? 'none' };
      add('promo_grade_score', base, f.grade.score);
      const why = withheldWhy(f.grade);
      add('promo_grade_info', { ...base, grade: f.grade.letter, colour: f.grade.colour, ...(why ? { why } : {}) }, 1);
      add('promo_p95_ms', source, f.p95Ms);
      add('promo_p99_ms', source, f.p99Ms);
      add('promo_error_ratio', base, f.errorRatio);
      add('promo_rps', base, f.rps);
      add('promo_vus', base, f.vus);
    }
  }
  return out;
}

/** Remote write 2.0 series re-encoded as 1.0, which every Prometheus since 2.0 accepts. */
function* seriesOf(batch: DecodedBatch): Generator<SeriesToEncode> {
  for (let i = 0; i < batch.seriesCount; i++) {
    const labels = batch.series[i]!;
    const samples = [];
    for (let s = batch.sampleStart[i]!; s < batch.sampleStart[i + 1]!; s++) {
      const bits = new Uint8Array(batch.sampleValues.buffer, batch.sampleValues.byteOffset + s * 8, 8).slice();
      samples.push({ value: batch.sampleValues[s]!, timestamp: batch.sampleTimestamps[s]!, bits });
    }
    yield { names: labels.names, values: labels.values, samples, histograms: batch.histogramObjects(batch.histogramStart[i]!, batch.histogramStart[i + 1]!) };
  }
}

/** The RW1 snappy block standing for a record that is not RW1 already. */
export function rw1Block(record: EncodableRecord, decode: DecodeBody): Buffer {
  if (record.kind === RecordKind.RW2) return snappyCompress(encodeWriteRequest(seriesOf(decode(record.payload, 2))));
  if (record.kind === RecordKind.GRADE) return snappyCompress(encodeWriteRequest(gradeSeries(JSON.parse(record.payload.toString('utf8')) as GradeRecord)));
  throw new Error(`a record of kind ${record.kind} has no RW1 block to build`);
}

/** The records as one line-protocol body (each line ended by a newline). */
export function influxText(records: readonly EncodableRecord[], decode: DecodeBody, encoder: InfluxLineEncoder): Buffer {
  let text = '';
  for (const r of records) {
    if (r.kind === RecordKind.RW1 || r.kind === RecordKind.RW2) {
      text += encoder.encode(decode(r.payload, r.kind === RecordKind.RW1 ? 1 : 2)).lines;
    } else if (r.kind === RecordKind.GRADE) {
      const g = JSON.parse(r.payload.toString('utf8')) as GradeRecord;
      text += g.runs.map((run) => gradeLines(run.testid, run.tags, { live: run.live, run: run.run }, g.t, run.thresholds, forecastBounds(run.capacity?.forecast))).join('\n');
    }
    if (text.length > 0 && !text.endsWith('\n')) text += '\n';
  }
  return Buffer.from(text, 'utf8');
}

/** The encoder that decodes on the calling thread (the decode worker's own, and the event loop's fallback). */
export function localBodyEncoder(decode: DecodeBody): BodyEncoder & { rw1BlocksNow(records: readonly EncodableRecord[]): Buffer[]; influxTextNow(records: readonly EncodableRecord[]): Buffer } {
  const lines = new InfluxLineEncoder();
  const encoder = {
    rw1BlocksNow: (records: readonly EncodableRecord[]) => records.map((r) => rw1Block(r, decode)),
    influxTextNow: (records: readonly EncodableRecord[]) => influxText(records, decode, lines),
    rw1Blocks: async (records: readonly EncodableRecord[]) => encoder.rw1BlocksNow(records),
    influxText: async (records: readonly EncodableRecord[]) => encoder.influxTextNow(records),
  };
  return encoder;
}
