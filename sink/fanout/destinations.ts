// Where the sink sends what it accepted: Prometheus remote write and InfluxDB (v1 or
// the v2/v3 API). Each destination turns spooled records into one HTTP request.
import { createHash } from 'node:crypto';
import type { SpoolRecord } from './spool.ts';
import { RemoteWriteDecoder } from '../remote-write/decode.ts';
import { DecodedBatch } from '../model/batch.ts';
import { snappyCompress, snappyConcatChunks } from '../remote-write/snappy.ts';
import { encodeWriteRequest, type SeriesToEncode } from '../remote-write/encode-rw1.ts';
import { batchToLines, gradeLines } from './influx-lines.ts';
import type { GradeRecord } from '../model/run-events.ts';
import { runTagLabels } from '../../lib/tags.ts';
import { redactUrl } from '../redact.ts';

/** What a spooled record holds. */
export const RecordKind = { RW1: 1, RW2: 2, GRADE: 3 } as const;

export interface PrometheusDestination {
  kind: 'prometheus';
  url: string;
  bearerToken?: string;
  /** "user:pass". */
  basicAuth?: string;
  headers: Record<string, string>;
}

export interface InfluxDestination {
  kind: 'influx';
  url: string;
  /** v1: database (and optional retention policy, user, password). */
  db?: string;
  rp?: string;
  user?: string;
  password?: string;
  /** v2/v3 API: org, bucket and token. */
  org?: string;
  bucket?: string;
  token?: string;
}

export type Destination = PrometheusDestination | InfluxDestination;

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  /** The body, as chunks sent one after the other. */
  body: Buffer[];
  /** Samples (and histograms) the request carries, for the per-destination counters. */
  weight: number;
}

const MAX_DECOMPRESSED = 256 * 1024 * 1024;

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
      add('promo_grade_info', { ...base, grade: f.grade.letter, colour: f.grade.colour }, 1);
      add('promo_p95_ms', source, f.p95Ms);
      add('promo_p99_ms', source, f.p99Ms);
      add('promo_error_ratio', base, f.errorRatio);
      add('promo_rps', base, f.rps);
      add('promo_vus', base, f.vus);
    }
  }
  return out;
}

function authHeader(d: PrometheusDestination): Record<string, string> {
  if (d.bearerToken) return { Authorization: `Bearer ${d.bearerToken}` };
  if (d.basicAuth) return { Authorization: `Basic ${Buffer.from(d.basicAuth).toString('base64')}` };
  return {};
}

/** Builds one request from a run of records; each destination has its own instance. */
export class RequestBuilder {
  // Records were validated when accepted, under the sink's own limits; replay never rejects them.
  private readonly decoder = new RemoteWriteDecoder({ maxUncompressedBytes: MAX_DECOMPRESSED, maxLabels: 10_000, maxLabelValueBytes: 1 << 24 });
  private readonly batch = new DecodedBatch();

  constructor(readonly destination: Destination) {}

  build(records: SpoolRecord[]): OutgoingRequest {
    const weight = records.reduce((n, r) => n + r.weight, 0);
    return this.destination.kind === 'prometheus'
      ? { ...this.prometheus(this.destination, records), weight }
      : { ...this.influx(this.destination, records), weight };
  }

  private prometheus(d: PrometheusDestination, records: SpoolRecord[]) {
    // Concatenated WriteRequest messages are one WriteRequest with all their series, and
    // concatenated snappy blocks (see snappyConcatChunks) one block with all their content: an
    // accepted RW1 body (validated then) goes as it is, without decompressing it.
    const parts: Buffer[] = [];
    for (const r of records) {
      if (r.kind === RecordKind.RW1) parts.push(r.payload);
      else if (r.kind === RecordKind.RW2) parts.push(snappyCompress(encodeWriteRequest(this.seriesOf(this.decoder.decodeSnappy(r.payload, 2, this.batch)))));
      else if (r.kind === RecordKind.GRADE) parts.push(snappyCompress(encodeWriteRequest(gradeSeries(JSON.parse(r.payload.toString('utf8')) as GradeRecord))));
    }
    return {
      url: d.url,
      headers: {
        'Content-Type': 'application/x-protobuf',
        'Content-Encoding': 'snappy',
        'X-Prometheus-Remote-Write-Version': '0.1.0',
        'User-Agent': 'promo-load-analyzer-sink',
        ...authHeader(d),
        ...d.headers,
      },
      // Written chunk by chunk: the records' bytes are not copied into one buffer.
      body: parts.length === 0 ? [snappyCompress(new Uint8Array(0))] : snappyConcatChunks(parts),
    };
  }

  /** Remote write 2.0 series re-encoded as 1.0, which every Prometheus since 2.0 accepts. */
  private *seriesOf(batch: DecodedBatch): Generator<SeriesToEncode> {
    for (let i = 0; i < batch.seriesCount; i++) {
      const labels = batch.series[i]!;
      const samples = [];
      for (let s = batch.sampleStart[i]!; s < batch.sampleStart[i + 1]!; s++) {
        const bits = new Uint8Array(batch.sampleValues.buffer, s * 8, 8).slice();
        samples.push({ value: batch.sampleValues[s]!, timestamp: batch.sampleTimestamps[s]!, bits });
      }
      yield { names: labels.names, values: labels.values, samples, histograms: batch.histogramObjects(batch.histogramStart[i]!, batch.histogramStart[i + 1]!) };
    }
  }

  private influx(d: InfluxDestination, records: SpoolRecord[]) {
    let text = '';
    for (const r of records) {
      if (r.kind === RecordKind.RW1 || r.kind === RecordKind.RW2) {
        text += batchToLines(this.decoder.decodeSnappy(r.payload, r.kind === RecordKind.RW1 ? 1 : 2, this.batch)).lines;
      } else if (r.kind === RecordKind.GRADE) {
        const g = JSON.parse(r.payload.toString('utf8')) as GradeRecord;
        text += g.runs.map((run) => gradeLines(run.testid, run.tags, { live: run.live, run: run.run }, g.t, run.thresholds)).join('\n');
      }
      if (text.length > 0 && !text.endsWith('\n')) text += '\n';
    }
    const base = d.url.replace(/\/+$/, '');
    const v2 = d.bucket !== undefined;
    const query = v2
      ? new URLSearchParams({ org: d.org ?? '', bucket: d.bucket!, precision: 'ms' })
      : new URLSearchParams({ db: d.db ?? '', precision: 'ms', ...(d.rp ? { rp: d.rp } : {}) });
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', 'User-Agent': 'promo-load-analyzer-sink' };
    if (v2 && d.token) headers.Authorization = `Token ${d.token}`;
    if (!v2 && d.user) headers.Authorization = `Basic ${Buffer.from(`${d.user}:${d.password ?? ''}`).toString('base64')}`;
    return { url: `${base}${v2 ? '/api/v2/write' : '/write'}?${query}`, headers, body: [Buffer.from(text, 'utf8')] };
  }
}

/** The URL without credentials or trailing slashes: credentials do not make a destination another one. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return url;
  }
}

/** What a destination is, whatever its place among the flags: its kind, URL, and database or bucket. */
export function destinationKey(d: Destination): string {
  return describe(d, safeUrl);
}

/**
 * The destination as logs, /metrics (`sink_destination_info`) and the spool's manifest
 * show it: destinationKey with its query values redacted too (they may hold an
 * `api_key`). The key itself, with them, stays what names the destination.
 */
export function destinationLabel(d: Destination): string {
  return describe(d, (url) => redactUrl(safeUrl(url)));
}

function describe(d: Destination, url: (url: string) => string): string {
  if (d.kind === 'prometheus') return `prometheus ${url(d.url)}`;
  return d.bucket !== undefined ? `influx ${url(d.url)} org=${d.org ?? ''} bucket=${d.bucket}` : `influx ${url(d.url)} db=${d.db ?? ''} rp=${d.rp ?? ''}`;
}

/**
 * The destination's name in metrics, logs and the spool (its cursor file): kind, host and
 * port, and a hash of its whole key, e.g. `prometheus-127.0.0.1-9090-3f2a1c`. It stays
 * the same when flags are reordered, added or removed.
 */
export function destinationName(d: Destination): string {
  const key = destinationKey(d);
  let host = 'destination';
  try {
    const u = new URL(d.url);
    host = `${u.hostname}-${u.port || (u.protocol === 'https:' ? '443' : '80')}`.replace(/[^A-Za-z0-9.-]/g, '_');
  } catch {
    // unparsable URLs are refused by the configuration; the hash still tells them apart
  }
  return `${d.kind}-${host}-${createHash('sha256').update(key).digest('hex').slice(0, 6)}`;
}

/** The names cursors had before they were named by destination (`prometheus-1`, `influx-1`, … in flag order). */
export function positionalNames(destinations: Destination[]): string[] {
  const seen: Record<string, number> = {};
  return destinations.map((d) => `${d.kind}-${(seen[d.kind] = (seen[d.kind] ?? 0) + 1)}`);
}
