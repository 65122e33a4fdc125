// Sending notifications to Slack (incoming webhook) and a generic JSON webhook. The
// callers sit on the ingest path, so send() only puts messages in an in-memory queue:
// each destination has its own bounded queue and worker, which posts with a
// per-request timeout and retries with exponential backoff and jitter (retry.ts). A dead
// webhook costs its own queue, never the callers and never the other webhook. What each
// destination sent, gave up, retried and dropped is counted (the sink's /metrics).
import { retryAfterMs, retryableStatus, withRetries, type AttemptOutcome } from '../../retry.ts';
import type { Message } from './message.ts';

export interface DeliveryOptions {
  /** Slack incoming webhook: POST {text}. */
  slackWebhookUrl?: string;
  /** Generic JSON webhook: POST the Notification object. */
  webhookUrl?: string;
  /** Attempts per delivery, the first included. */
  maxAttempts: number;
  /** Backoff (retry.ts): the first wait's ceiling, doubled per attempt, never over backoffCapMs but never sooner than a Retry-After. */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** An answer (headers and body) must arrive within this long. */
  requestTimeoutMs: number;
  /** Messages waiting per destination; past it the oldest is dropped. */
  maxQueue: number;
  fetchImpl?: typeof fetch;
  log: (line: string) => void;
}

export interface DeliveryCounts {
  /** Deliveries the webhook took (2xx). */
  sent: number;
  /** Deliveries given up: attempts exhausted or refused for good (4xx other than 408/429). */
  failed: number;
  /** Attempts after the first. */
  retried: number;
  /** Deliveries waiting or in flight. */
  queued: number;
  /** Deliveries dropped, oldest first, from a full queue. */
  dropped: number;
}

interface Pending {
  body: string;
  /** "CRITICAL error_ratio for run bf-1", for log lines. */
  what: string;
}

const DROP_LOG_INTERVAL_MS = 10_000;

class Destination {
  readonly queue: Pending[] = [];
  inFlight = 0;
  running = false;
  readonly counts = { sent: 0, failed: 0, retried: 0, dropped: 0 };
  droppedSinceLog = 0;
  lastDropLogAt = -Infinity;

  constructor(
    /** In /metrics: slack or webhook. */
    readonly kind: 'slack' | 'webhook',
    /** For log lines; never the URL (a Slack webhook URL is a secret). */
    readonly name: string,
    readonly url: string,
    /** The body this destination posts for a message. */
    readonly body: (m: Message) => string,
  ) {}
}

export class Delivery {
  private readonly destinations: Destination[] = [];
  private readonly idleWaiters = new Set<() => void>();
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly o: DeliveryOptions) {
    this.fetchImpl = o.fetchImpl ?? fetch;
    if (o.slackWebhookUrl) this.destinations.push(new Destination('slack', 'the Slack webhook', o.slackWebhookUrl, (m) => JSON.stringify(m.slack)));
    if (o.webhookUrl) this.destinations.push(new Destination('webhook', `the webhook at ${safeOrigin(o.webhookUrl)}`, o.webhookUrl, (m) => JSON.stringify(m.notification)));
  }

  /** True when there is somewhere to send to. */
  get enabled(): boolean {
    return this.destinations.length > 0;
  }

  /** Each destination's counts (slack, webhook), for /metrics. */
  byDestination(): Array<{ destination: 'slack' | 'webhook' } & DeliveryCounts> {
    return this.destinations.map((d) => ({ destination: d.kind, ...d.counts, queued: d.queue.length + d.inFlight }));
  }

  /** Every destination's counts together. */
  get stats(): DeliveryCounts {
    const total: DeliveryCounts = { sent: 0, failed: 0, retried: 0, queued: 0, dropped: 0 };
    for (const d of this.byDestination()) for (const key of ['sent', 'failed', 'retried', 'queued', 'dropped'] as const) total[key] += d[key];
    return total;
  }

  /** Queues the message for every destination; never waits, never throws on their account. */
  send(message: Message): void {
    const n = message.notification;
    const what = `${n.level} ${n.event} for run ${n.testid}`;
    for (const d of this.destinations) this.enqueue(d, { body: d.body(message), what });
  }

  /** Resolves once every queued delivery is sent or given up, or after timeoutMs (then logs what is left). */
  async drain(timeoutMs: number): Promise<void> {
    if (this.idle()) return;
    let timer: NodeJS.Timeout | undefined;
    let waiter: (() => void) | undefined;
    const done = await Promise.race([
      new Promise<boolean>((resolve) => {
        waiter = () => resolve(true);
        this.idleWaiters.add(waiter);
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      }),
    ]);
    clearTimeout(timer);
    if (waiter) this.idleWaiters.delete(waiter);
    if (!done) this.o.log(`notify: ${this.stats.queued} notifications still queued after waiting ${timeoutMs} ms`);
  }

  private enqueue(dest: Destination, pending: Pending): void {
    if (dest.queue.length >= this.o.maxQueue) {
      const old = dest.queue.shift()!;
      dest.counts.dropped++;
      dest.droppedSinceLog++;
      const now = Date.now();
      if (now - dest.lastDropLogAt >= DROP_LOG_INTERVAL_MS) {
        this.o.log(
          `notify: the queue for ${dest.name} is full (${this.o.maxQueue}); dropped the oldest notification (${old.what})` +
            (dest.droppedSinceLog > 1 ? ` and ${dest.droppedSinceLog - 1} more since the last such line` : '') +
            `, ${dest.counts.dropped} in all`,
        );
        dest.lastDropLogAt = now;
        dest.droppedSinceLog = 0;
      }
    }
    dest.queue.push(pending);
    if (!dest.running) {
      dest.running = true;
      // Never on the caller's stack: the worker starts on a later tick.
      setImmediate(() => void this.work(dest));
    }
  }

  private async work(dest: Destination): Promise<void> {
    try {
      for (let d = dest.queue.shift(); d; d = dest.queue.shift()) {
        dest.inFlight = 1;
        try {
          await this.deliver(dest, d);
        } finally {
          dest.inFlight = 0;
        }
      }
    } catch (err) {
      this.o.log(`notify: ${dest.name}: ${(err as Error).message}`);
    } finally {
      dest.running = false;
      if (dest.queue.length > 0) {
        dest.running = true;
        setImmediate(() => void this.work(dest));
      } else if (this.idle()) {
        for (const w of [...this.idleWaiters]) w();
      }
    }
  }

  /** Posts one delivery, retrying what may pass later (retry.ts); counts and logs the outcome. */
  private async deliver(dest: Destination, d: Pending): Promise<void> {
    const policy = { minBackoffMs: this.o.backoffBaseMs, maxBackoffMs: this.o.backoffCapMs, maxAttempts: this.o.maxAttempts };
    const { outcome, attempts } = await withRetries(policy, () => this.post(dest.url, d.body), { onRetry: () => dest.counts.retried++ });
    if (outcome.ok) {
      dest.counts.sent++;
      return;
    }
    dest.counts.failed++;
    if (!outcome.retry) this.o.log(`notify: ${dest.name} refused the ${d.what}: ${outcome.reason}; not retrying`);
    else this.o.log(`notify: gave up on ${dest.name} after ${attempts} attempts for the ${d.what}: ${outcome.reason}`);
  }

  private async post(url: string, body: string): Promise<AttemptOutcome> {
    const signal = AbortSignal.timeout(this.o.requestTimeoutMs);
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const res = await this.fetchImpl(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'promo-load-analyzer-sink' },
        body,
        signal,
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      // Read the answer so the connection is freed; the timeout covers it too.
      text = await res.text();
    } catch (err) {
      if (signal.aborted) return { ok: false, retry: true, retryAfterMs: null, reason: `no answer within ${this.o.requestTimeoutMs} ms` };
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return { ok: false, retry: true, retryAfterMs: null, reason: cause?.code ?? cause?.message ?? (err as Error).message };
    }
    if (status >= 200 && status < 300) return { ok: true };
    // Overloaded or broken for now: try again (Slack says when, with Retry-After on 429). Anything else (bad URL, bad payload, gone): it will not pass later.
    return { ok: false, retry: retryableStatus(status), retryAfterMs: retryAfterMs(retryAfter), reason: `answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}` };
  }

  private idle(): boolean {
    return this.destinations.every((d) => d.queue.length === 0 && d.inFlight === 0 && !d.running);
  }
}

/** scheme://host of a URL for log lines, without path, query or credentials. */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unparsable URL)';
  }
}
