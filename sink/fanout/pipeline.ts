// One pipeline per destination: read from the spool at its own cursor, batch by size
// and age, send up to maxInFlight requests at once (never two that share a series:
// batch-scheduler.ts), retry what a retry can fix, ack the delivered prefix. A slow or
// dead destination only ever holds back its own cursor.
import type { Spool, SpoolRecord } from './spool.ts';
import { RequestBuilder, type Destination, type OutgoingRequest } from './destinations.ts';
import type { BodyEncoder } from './bodies.ts';
import { HttpPoster, type PostResult } from './http-post.ts';
import { BatchScheduler } from './batch-scheduler.ts';
import { retryAfterMs, retryableStatus, sleep, withRetries, type AttemptOutcome } from '../retry.ts';
import type { RecordOrderView } from './record-order.ts';

export interface PipelineOptions {
  name: string;
  destination: Destination;
  /** Builds what needs a record decoded (bodies.ts): off the event loop in the sink. */
  encoder: BodyEncoder;
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
  /** Requests in flight at most. */
  maxInFlight: number;
  /** Which records share series (none: one request at a time, in order). */
  order: RecordOrderView | null;
  /** Exponential backoff between retries, with full jitter (retry.ts). */
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
  /** Requests sent and not answered yet. */
  inFlight: number;
}

export function newPipelineCounters(): PipelineCounters {
  return { sent: 0, failed: 0, retried: 0, dropped: 0, lastSuccessMs: 0, inFlight: 0 };
}


export class Pipeline {
  private readonly builder: RequestBuilder;
  private stopped = false;
  private wake: (() => void) | null = null;
  /** notify() came while the loop was not asleep: its next sleep returns at once. */
  private woken = false;
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private readonly poster = new HttpPoster();

  constructor(private readonly options: PipelineOptions) {
    this.builder = new RequestBuilder(options.destination, options.encoder);
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** New records are in the spool. */
  notify(): void {
    if (this.wake) this.wake();
    else this.woken = true;
  }

  /** Stops, cutting the requests in flight short; what is not acked stays in the spool. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.notify();
    this.abort.abort();
    await this.running;
    this.poster.close();
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
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async loop(): Promise<void> {
    const { spool, name, batchRecords, batchBytes, batchAgeMs, maxInFlight } = this.options;
    const scheduler = new BatchScheduler(this.options, this.options.order, spool.position(name));
    // Read ahead far enough for several requests' worth of each chain of records.
    const readAheadRecords = 4 * batchRecords;
    const readAheadBytes = 4 * batchBytes;
    const inFlight = new Set<Promise<void>>();
    while (!this.stopped) {
      // The bound may have dropped records this pipeline had not delivered (counted there).
      const position = spool.position(name);
      if (position > scheduler.acked) scheduler.skipThrough(position);
      if (scheduler.advance()) await spool.ack(name, scheduler.acked);
      if (scheduler.size < readAheadRecords && scheduler.pendingBytes < readAheadBytes) {
        scheduler.add(await spool.read(name, readAheadRecords - scheduler.size, readAheadBytes - scheduler.pendingBytes, scheduler.lastRead), Date.now());
      }
      if (inFlight.size >= maxInFlight) {
        await this.sleepUntilNotified(1000);
        continue;
      }
      // Records of other chains share this request only when no other request could take them.
      const plan = scheduler.next(Date.now(), batchAgeMs, inFlight.size + 1 >= maxInFlight);
      if (plan === null || 'waitMs' in plan) {
        // Nothing may go yet, or a small batch waits a little for company (so pushes from
        // many VUs share requests): new records and finished requests wake the loop.
        await this.sleepUntilNotified(plan === null ? 1000 : plan.waitMs);
        continue;
      }
      const delivery: Promise<void> = this.deliver(plan.records).then((settled) => {
        if (settled) scheduler.complete(plan.records);
        inFlight.delete(delivery);
        this.notify();
      });
      inFlight.add(delivery);
    }
    await Promise.all(inFlight);
  }

  /**
   * Sends the records until the destination takes them, refuses them for good, or the
   * pipeline stops (false: they stay in the spool). Each attempt leaves out the records
   * the spool bound dropped meanwhile (counted there).
   */
  private async deliver(records: SpoolRecord[]): Promise<boolean> {
    const { counters, log, name, spool } = this.options;
    let request: OutgoingRequest | null = null;
    const { outcome } = await withRetries(
      this.options,
      async () => {
        const position = spool.position(name);
        const live = records[0]!.seq > position ? records : records.filter((r) => r.seq > position);
        request = null;
        if (live.length === 0) return { ok: true };
        try {
          request = await this.builder.build(live);
        } catch (err) {
          // A record that cannot be turned into a request never will be: count it and move on.
          const weight = live.reduce((n, r) => n + r.weight, 0);
          counters.failed += weight;
          log(`${name}: dropping ${live.length} records (${weight} samples) that could not be encoded: ${(err as Error).message}`);
          return { ok: true };
        }
        return this.send(request);
      },
      {
        signal: this.abort.signal,
        onRetry: (failed, failures, waitMs) => {
          counters.retried += request!.weight;
          if ((failures - 1) % 10 === 0) log(`${name}: ${failed.reason}; retrying in ${Math.round(waitMs)} ms (attempt ${failures + 1})`);
        },
      },
    );
    const sent = request as OutgoingRequest | null;
    if (outcome.ok) {
      if (sent) {
        counters.sent += sent.weight;
        counters.lastSuccessMs = Date.now();
      }
      return true;
    }
    if (this.stopped) return false;
    counters.failed += sent!.weight;
    log(`${name}: ${outcome.reason}; not retrying, ${sent!.weight} samples not delivered`);
    return true;
  }

  private async send(request: OutgoingRequest): Promise<AttemptOutcome> {
    let res: PostResult;
    this.options.counters.inFlight++;
    try {
      res = await this.poster.post(request.url, request.headers, request.body, this.options.requestTimeoutMs, this.abort.signal);
    } catch (err) {
      return { ok: false, retry: true, retryAfterMs: null, reason: `network error: ${(err as Error).message}` };
    } finally {
      this.options.counters.inFlight--;
    }
    if (res.status >= 200 && res.status < 300) return { ok: true };
    return { ok: false, retry: retryableStatus(res.status), retryAfterMs: retryAfterMs(res.retryAfter), reason: `HTTP ${res.status} ${res.text.trim()}` };
  }
}
