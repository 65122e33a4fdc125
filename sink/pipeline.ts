// One pipeline per destination: read from the spool at its own cursor, batch by size
// and age, send, retry what a retry can fix, ack. A slow or dead destination only
// ever holds back its own cursor.
import type { Spool, SpoolRecord } from './spool.ts';
import { RecordKind, RequestBuilder, type Destination, type OutgoingRequest } from './destinations.ts';
import { readSnappyLength } from './snappy.ts';

export interface PipelineOptions {
  name: string;
  destination: Destination;
  spool: Spool;
  /** Most records and bytes (as spooled, compressed) in one request. */
  batchRecords: number;
  batchBytes: number;
  /**
   * Most uncompressed remote-write bytes in one request (at least one record goes
   * anyway): receivers cap what a request may decompress to (VictoriaMetrics'
   * -maxInsertRequestSize, 32 MiB by default), and parse big requests less
   * efficiently than a few MiB at a time.
   */
  batchContentBytes: number;
  /** How long a small batch may wait for company. */
  batchAgeMs: number;
  /** Exponential backoff between retries, with full jitter. */
  minBackoffMs: number;
  maxBackoffMs: number;
  requestTimeoutMs: number;
  log: (line: string) => void;
  counters: PipelineCounters;
}

/** Sample counts per destination, read by the sink's metrics. */
export interface PipelineCounters {
  sent: number;
  failed: number;
  retried: number;
  dropped: number;
  lastSuccessMs: number;
}

/** What a record decompresses to (remote write: its snappy preamble), else its size. */
function contentBytes(record: SpoolRecord): number {
  if (record.kind !== RecordKind.RW1 && record.kind !== RecordKind.RW2) return record.payload.length;
  try {
    return readSnappyLength(record.payload);
  } catch {
    return record.payload.length;
  }
}

/** The longest prefix of `records` within `maxContent` uncompressed bytes (at least one record); full when it reaches the limit. */
function withinContent(records: SpoolRecord[], maxContent: number): { records: SpoolRecord[]; full: boolean } {
  let content = 0;
  for (let i = 0; i < records.length; i++) {
    const c = contentBytes(records[i]!);
    if (i > 0 && content + c > maxContent) return { records: records.slice(0, i), full: true };
    content += c;
  }
  return { records, full: content >= maxContent };
}

export function newPipelineCounters(): PipelineCounters {
  return { sent: 0, failed: 0, retried: 0, dropped: 0, lastSuccessMs: 0 };
}

/** Seconds, or an HTTP date, to ms from now; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

type Outcome = { ok: true } | { ok: false; retry: boolean; retryAfterMs: number | null; reason: string };

export class Pipeline {
  private readonly builder: RequestBuilder;
  private stopped = false;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();
  /** Failed attempts in a row, for the backoff. */
  private attempt = 0;

  constructor(private readonly options: PipelineOptions) {
    this.builder = new RequestBuilder(options.destination);
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** New records are in the spool. */
  notify(): void {
    this.wake?.();
  }

  /** Stops after the request in flight; what is not acked stays in the spool. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.notify();
    this.abort.abort();
    await this.running;
  }

  /** Resolves once this pipeline has acked everything appended so far, or after timeoutMs. */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.options.spool.lag(this.options.name).records > 0) {
      if (Date.now() >= deadline || this.stopped) return false;
      await sleep(50);
    }
    return true;
  }

  private sleepUntilNotified(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  private async loop(): Promise<void> {
    const { spool, name, batchRecords, batchBytes, batchContentBytes, batchAgeMs } = this.options;
    while (!this.stopped) {
      let batch = withinContent(await spool.read(name, batchRecords, batchBytes), batchContentBytes);
      if (batch.records.length === 0) {
        await this.sleepUntilNotified(1000);
        continue;
      }
      const size = batch.records.reduce((n, r) => n + r.payload.length, 0);
      if (!batch.full && batch.records.length < batchRecords && size < batchBytes && batchAgeMs > 0) {
        // A small batch waits a little for more, so pushes from many VUs share requests.
        await sleep(batchAgeMs);
        batch = withinContent(await spool.read(name, batchRecords, batchBytes), batchContentBytes);
      }
      if (batch.records.length === 0) continue;
      await this.deliver(batch.records);
    }
  }

  private async deliver(records: Awaited<ReturnType<Spool['read']>>): Promise<void> {
    const { counters, log, name, spool } = this.options;
    const last = records[records.length - 1]!.seq;
    let request: OutgoingRequest;
    try {
      request = this.builder.build(records);
    } catch (err) {
      // A record that cannot be turned into a request never will be: count it and move on.
      const weight = records.reduce((n, r) => n + r.weight, 0);
      counters.failed += weight;
      log(`${name}: dropping ${records.length} records (${weight} samples) that could not be encoded: ${(err as Error).message}`);
      await spool.ack(name, last);
      return;
    }
    const outcome = await this.send(request);
    if (outcome.ok) {
      this.attempt = 0;
      counters.sent += request.weight;
      counters.lastSuccessMs = Date.now();
      await spool.ack(name, last);
      return;
    }
    if (!outcome.retry) {
      this.attempt = 0;
      counters.failed += request.weight;
      log(`${name}: ${outcome.reason}; not retrying, ${request.weight} samples not delivered`);
      await spool.ack(name, last);
      return;
    }
    // The retry reads the spool again: records the bound dropped meanwhile (and counted)
    // are not sent after all, and records that arrived since join the request.
    counters.retried += request.weight;
    const backoff = Math.min(this.options.maxBackoffMs, this.options.minBackoffMs * 2 ** this.attempt) * Math.random();
    const wait = Math.max(backoff, outcome.retryAfterMs ?? 0);
    if (this.attempt % 10 === 0) log(`${name}: ${outcome.reason}; retrying in ${Math.round(wait)} ms (attempt ${this.attempt + 1})`);
    this.attempt++;
    await sleep(wait, this.abort.signal);
  }

  private async send(request: OutgoingRequest): Promise<Outcome> {
    let res: Response;
    try {
      res = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body as unknown as BodyInit,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.requestTimeoutMs)]),
      });
    } catch (err) {
      return { ok: false, retry: true, retryAfterMs: null, reason: `network error: ${(err as Error).message}` };
    }
    // Reading the body, even an empty one, lets the connection be reused.
    const text = (await res.text().catch(() => '')).slice(0, 300).trim();
    if (res.ok) return { ok: true };
    const retry = res.status >= 500 || res.status === 429;
    return { ok: false, retry, retryAfterMs: retryAfterMs(res.headers.get('retry-after')), reason: `HTTP ${res.status} ${text}` };
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
