// Where the sink sends what it accepted: Prometheus remote write and InfluxDB (v1 or
// the v2/v3 API). Each destination turns spooled records into one HTTP request.
import { createHash } from 'node:crypto';
import type { SpoolRecord } from './spool.ts';
import { snappyCompress, snappyConcatChunks } from '../codec/snappy.ts';
import { RecordKind, type BodyEncoder } from './bodies.ts';
import { redactUrl } from '../redact.ts';

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

function authHeader(d: PrometheusDestination): Record<string, string> {
  if (d.bearerToken) return { Authorization: `Bearer ${d.bearerToken}` };
  if (d.basicAuth) return { Authorization: `Basic ${Buffer.from(d.basicAuth).toString('base64')}` };
  return {};
}

/**
 * Builds one request from a run of records; each destination has its own instance.
 * Accepted RW1 bodies (validated then) go to Prometheus as they are; everything that
 * needs a body decoded is the encoder's (off the event loop in the sink).
 */
export class RequestBuilder {
  constructor(
    readonly destination: Destination,
    private readonly encoder: BodyEncoder,
  ) {}

  async build(records: SpoolRecord[]): Promise<OutgoingRequest> {
    const weight = records.reduce((n, r) => n + r.weight, 0);
    return this.destination.kind === 'prometheus'
      ? { ...(await this.prometheus(this.destination, records)), weight }
      : { ...(await this.influx(this.destination, records)), weight };
  }

  private async prometheus(d: PrometheusDestination, records: SpoolRecord[]) {
    // Concatenated WriteRequest messages are one WriteRequest with all their series, and
    // concatenated snappy blocks (see snappyConcatChunks) one block with all their content: an
    // accepted RW1 body (validated then) goes as it is, without decompressing it.
    const others = records.filter((r) => r.kind !== RecordKind.RW1 && (r.kind === RecordKind.RW2 || r.kind === RecordKind.GRADE));
    const built = others.length > 0 ? await this.encoder.rw1Blocks(others) : [];
    const parts: Buffer[] = [];
    let k = 0;
    for (const r of records) {
      if (r.kind === RecordKind.RW1) parts.push(r.payload);
      else if (r.kind === RecordKind.RW2 || r.kind === RecordKind.GRADE) parts.push(built[k++]!);
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

  private async influx(d: InfluxDestination, records: SpoolRecord[]) {
    const text = await this.encoder.influxText(records);
    const base = d.url.replace(/\/+$/, '');
    const v2 = d.bucket !== undefined;
    const query = v2
      ? new URLSearchParams({ org: d.org ?? '', bucket: d.bucket!, precision: 'ms' })
      : new URLSearchParams({ db: d.db ?? '', precision: 'ms', ...(d.rp ? { rp: d.rp } : {}) });
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', 'User-Agent': 'promo-load-analyzer-sink' };
    if (v2 && d.token) headers.Authorization = `Token ${d.token}`;
    if (!v2 && d.user) headers.Authorization = `Basic ${Buffer.from(`${d.user}:${d.password ?? ''}`).toString('base64')}`;
    return { url: `${base}${v2 ? '/api/v2/write' : '/write'}?${query}`, headers, body: [text] };
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
