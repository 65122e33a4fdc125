// Notifications of a run's health to Slack (incoming webhook) and to a generic JSON
// webhook. The callers sit on the ingest path, so they only put messages in an
// in-memory queue: each destination has its own bounded queue and worker, which
// posts with a per-request timeout and retries with exponential backoff and jitter.
// A dead webhook costs its own queue, never the callers and never the other webhook.
//
// When a notification fires:
// - CRITICAL (error_ratio): the live window's error ratio is over errorRatioCritical.
// - WARNING (p95): the live window's p95 is over p95WarningMs.
//   Each fires once when its condition starts to hold, and again only after the
//   condition cleared (the value at or under the limit) and came back. A missing
//   value (null: no requests, no p95) neither fires nor clears.
// - WARNING (aborted): the run was aborted (thresholds or a manual stop); once per run.
// - SUCCESS / FAILURE (completed): once per run. SUCCESS when k6's exit code is 0, or
//   null (the run ended on its stale markers without a finish call), AND the grade is
//   A, B or C. FAILURE otherwise: any other exit code (99 thresholds, 103 stopped,
//   105, 108, …), a grade of D or F, or no grade at all (N/A).
//   After completed(), evaluate() ignores that testid.
import type { RunState } from '../grade/run-state.ts';
import type { HistoryEntry } from '../../contract/sink-api.ts';
import { formatGrade } from '../../lib/grade.ts';
import type { SinkConfig } from '../config.ts';
import { marketingDashboardUrl } from '../../contract/links.ts';
import { retryAfterMs, retryableStatus, withRetries, type AttemptOutcome } from '../retry.ts';

export interface NotifierOptions {
  /** Slack incoming webhook: POST {text}. */
  slackWebhookUrl?: string;
  /** Generic JSON webhook: POST the Notification object. */
  webhookUrl?: string;
  /** CRITICAL when the live window's error ratio exceeds it (default 0.05). */
  errorRatioCritical: number;
  /** WARNING when the live window's p95 exceeds it, in ms (default 3000). */
  p95WarningMs: number;
  /** Link to the run's dashboard, e.g. Grafana with var-testid. */
  dashboardUrl?: (testid: string) => string | undefined;
  statusPageUrl?: (testid: string) => string | undefined;
  log: (line: string) => void;
  /** Attempts per delivery, the first included (default 5). */
  maxAttempts?: number;
  /** Backoff (retry.ts): the first wait's ceiling, doubled per attempt (default 500 ms), never over backoffCapMs (default 30 s) but never sooner than a Retry-After. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** An answer (headers and body) must arrive within this long (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Messages waiting per destination; past it the oldest is dropped (default 1000). */
  maxQueue?: number;
  /** Length of the live window, for the words "over the last 30 s" (default 30 000 ms: the sink's --window). */
  windowMs?: number;
  fetchImpl?: typeof fetch;
}

export const NOTIFIER_DEFAULTS = {
  errorRatioCritical: 0.05,
  p95WarningMs: 3000,
  maxAttempts: 5,
  backoffBaseMs: 500,
  backoffCapMs: 30_000,
  requestTimeoutMs: 5000,
  maxQueue: 1000,
  windowMs: 30_000,
} as const;

export type Level = 'CRITICAL' | 'WARNING' | 'SUCCESS' | 'FAILURE';
export type NotificationEvent = 'error_ratio' | 'p95' | 'aborted' | 'completed';

/** The generic webhook's body, as is. */
export interface Notification {
  level: Level;
  event: NotificationEvent;
  testid: string;
  promoName: string | null;
  environment: string | null;
  target: string | null;
  /** formatGrade(): "A (97/100)" or "N/A". The live grade for error_ratio and p95, the run's otherwise. */
  grade: string;
  dashboard: string | null;
  statusPage: string | null;
  /** One human sentence. */
  message: string;
  /** ISO 8601. */
  at: string;
}

export interface NotifierStats {
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

export const LEVEL_EMOJI: Record<Level, string> = {
  CRITICAL: ':red_circle:',
  WARNING: ':warning:',
  SUCCESS: ':white_check_mark:',
  FAILURE: ':x:',
};

const PASSING_LETTERS = new Set(['A', 'B', 'C']);

/** SUCCESS or FAILURE for a finished run (see the rules at the top of this file). */
export function completionLevel(entry: Pick<HistoryEntry, 'exitCode' | 'grade'>): 'SUCCESS' | 'FAILURE' {
  return (entry.exitCode === 0 || entry.exitCode === null) && PASSING_LETTERS.has(entry.grade.letter) ? 'SUCCESS' : 'FAILURE';
}

// ---- Words -------------------------------------------------------------------

const pct = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;
const limitPct = (ratio: number) => `${Number((ratio * 100).toFixed(2))} %`;
const ms = (v: number) => `${Math.round(v)} ms`;

/** Host of a URL target ("https://shop.example.com/x" → "shop.example.com"), or the target as given. */
function targetHost(target: string): string {
  try {
    return new URL(target).host || target;
  } catch {
    return target;
  }
}

interface Subject {
  /** "Black Friday (prod, shop.example.com)", "scenario flash (prod)", "run abc". */
  label: string;
  /** The label at the start of a sentence. */
  start: string;
}

function subjectOf(testid: string, tags: Record<string, string>, target: string | null): Subject {
  const promo = tags.promo_name || null;
  const name = promo ?? (tags.scenario ? `scenario ${tags.scenario}` : `run ${testid}`);
  const details = [tags.environment, target ? targetHost(target) : undefined].filter((s): s is string => !!s);
  const label = details.length > 0 ? `${name} (${details.join(', ')})` : name;
  return { label, start: promo ? label : label[0]!.toUpperCase() + label.slice(1) };
}

/** Slack's control characters in text. */
const slackText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** A URL inside <url|label>: '&' as an entity, and nothing that would end the link early. */
const slackUrl = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/\|/g, '%7C');

interface Draft {
  notification: Notification;
  /** The Slack line after "<emoji> LEVEL — ", with "{subject}" where the subject goes. */
  headline: string;
  /** Slack parts after the subject, before the testid. */
  after: string[];
}

/** The Slack text of a notification: ":red_circle: CRITICAL — errors 12.3 % over the last 30 s on Black Friday (prod, shop.example.com) — grade D (55/100) — testid `bf-1` — <url|Dashboard> · <url|Status page>". */
function slackMessage(d: Draft, subject: Subject): { text: string } {
  const n = d.notification;
  const parts = [`${LEVEL_EMOJI[n.level]} ${n.level}`, slackText(d.headline.replace('{subject}', subject.label)), ...d.after.map(slackText), `testid \`${slackText(n.testid)}\``];
  const links = [n.dashboard ? `<${slackUrl(n.dashboard)}|Dashboard>` : null, n.statusPage ? `<${slackUrl(n.statusPage)}|Status page>` : null].filter(Boolean);
  if (links.length > 0) parts.push(links.join(' · '));
  return { text: parts.join(' — ') };
}

// ---- Delivery ----------------------------------------------------------------

interface Delivery {
  body: string;
  /** "CRITICAL error_ratio for run bf-1", for log lines. */
  what: string;
}

class Destination {
  readonly queue: Delivery[] = [];
  inFlight = 0;
  running = false;
  dropped = 0;
  droppedSinceLog = 0;
  lastDropLogAt = -Infinity;

  constructor(
    /** For log lines; never the URL (a Slack webhook URL is a secret). */
    readonly name: string,
    readonly url: string,
  ) {}
}


const DROP_LOG_INTERVAL_MS = 10_000;
const MAX_TRACKED_RUNS = 10_000;

interface RunWatch {
  errorActive: boolean;
  p95Active: boolean;
  /** The live figures last looked at: the same object again means nothing changed. */
  lastLive: object | null;
  aborted: boolean;
  completed: boolean;
}

export class Notifier {
  private readonly o: Required<Omit<NotifierOptions, 'slackWebhookUrl' | 'webhookUrl' | 'dashboardUrl' | 'statusPageUrl' | 'fetchImpl'>> &
    Pick<NotifierOptions, 'dashboardUrl' | 'statusPageUrl'>;
  private readonly fetchImpl: typeof fetch;
  private readonly slack: Destination | null;
  private readonly webhook: Destination | null;
  private readonly watches = new Map<string, RunWatch>();
  private readonly idleWaiters = new Set<() => void>();
  private readonly counts = { sent: 0, failed: 0, retried: 0 };

  constructor(options: NotifierOptions) {
    const num = (v: number | undefined, d: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d);
    this.o = {
      errorRatioCritical: num(options.errorRatioCritical, NOTIFIER_DEFAULTS.errorRatioCritical),
      p95WarningMs: num(options.p95WarningMs, NOTIFIER_DEFAULTS.p95WarningMs),
      log: options.log,
      maxAttempts: Math.max(1, Math.floor(num(options.maxAttempts, NOTIFIER_DEFAULTS.maxAttempts))),
      backoffBaseMs: num(options.backoffBaseMs, NOTIFIER_DEFAULTS.backoffBaseMs),
      backoffCapMs: num(options.backoffCapMs, NOTIFIER_DEFAULTS.backoffCapMs),
      requestTimeoutMs: Math.max(1, num(options.requestTimeoutMs, NOTIFIER_DEFAULTS.requestTimeoutMs)),
      maxQueue: Math.max(1, Math.floor(num(options.maxQueue, NOTIFIER_DEFAULTS.maxQueue))),
      windowMs: Math.max(1000, num(options.windowMs, NOTIFIER_DEFAULTS.windowMs)),
      dashboardUrl: options.dashboardUrl,
      statusPageUrl: options.statusPageUrl,
    };
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.slack = options.slackWebhookUrl ? new Destination('the Slack webhook', options.slackWebhookUrl) : null;
    this.webhook = options.webhookUrl ? new Destination(`the webhook at ${safeOrigin(options.webhookUrl)}`, options.webhookUrl) : null;
  }

  /** True when there is somewhere to send to. */
  get enabled(): boolean {
    return this.slack !== null || this.webhook !== null;
  }

  get stats(): NotifierStats {
    let queued = 0;
    let dropped = 0;
    for (const d of this.destinations()) {
      queued += d.queue.length + d.inFlight;
      dropped += d.dropped;
    }
    return { ...this.counts, queued, dropped };
  }

  /**
   * Called after each batch that touched the run. Fires CRITICAL (error ratio) and
   * WARNING (p95) from the live window, once per run per condition, and again only
   * after the condition cleared and returned. Never throws, never waits.
   */
  evaluate(run: RunState, target: string | null): void {
    try {
      if (!this.enabled) return;
      const watch = this.watch(run.testid);
      if (watch.completed) return;
      const live = run.figures().live;
      if (watch.lastLive === live) return;
      watch.lastLive = live;

      const { errorRatio, p95Ms } = live;
      if (errorRatio !== null && Number.isFinite(errorRatio)) {
        const over = errorRatio > this.o.errorRatioCritical;
        if (over && !watch.errorActive) this.fireLive(run, target, 'error_ratio', errorRatio);
        watch.errorActive = over;
      }
      if (p95Ms !== null && Number.isFinite(p95Ms)) {
        const over = p95Ms > this.o.p95WarningMs;
        if (over && !watch.p95Active) this.fireLive(run, target, 'p95', p95Ms);
        watch.p95Active = over;
      }
    } catch (err) {
      this.o.log(`notify: could not evaluate run ${run?.testid}: ${(err as Error).message}`);
    }
  }

  /** The run was aborted (thresholds with abortOnFail: exit 99; manual stop: 103): one WARNING per run. */
  aborted(testid: string, info: { tags: Record<string, string>; target: string | null; grade: string; reason: string }): void {
    try {
      if (!this.enabled) return;
      const watch = this.watch(testid);
      if (watch.aborted) return;
      watch.aborted = true;
      const subject = subjectOf(testid, info.tags, info.target);
      this.send(
        {
          notification: this.notification('WARNING', 'aborted', testid, info.tags, info.target, info.grade, `${subject.start} was aborted (${info.reason}) with grade ${info.grade}, testid ${testid}.`),
          headline: `run aborted (${info.reason}) on {subject}`,
          after: [`grade ${info.grade}`],
        },
        subject,
      );
    } catch (err) {
      this.o.log(`notify: could not report the abort of run ${testid}: ${(err as Error).message}`);
    }
  }

  /** The run ended and its history entry is written: one SUCCESS or FAILURE per run (see completionLevel). */
  /** A run's history entry is written: a WARNING first if it was aborted or stopped, then its completion. */
  finished(entry: HistoryEntry): void {
    // 'aborted by thresholds' (k6's own) or 'aborted by merged threshold …' (the sink's).
    if (entry.exitReason === 'stopped manually' || entry.exitReason.startsWith('aborted by')) {
      this.aborted(entry.testid, { tags: entry.tags, target: entry.target, grade: entry.grade.text, reason: entry.exitReason });
    }
    this.completed(entry);
  }

  completed(entry: HistoryEntry): void {
    try {
      if (!this.enabled) return;
      const watch = this.watch(entry.testid);
      if (watch.completed) return;
      watch.completed = true;
      const level = completionLevel(entry);
      const subject = subjectOf(entry.testid, entry.tags ?? {}, entry.target);
      const gradeText = entry.grade.text;
      const why: string[] = [];
      if (entry.exitCode !== null && entry.exitCode !== 0) {
        why.push(entry.exitReason === `k6 exit ${entry.exitCode}` ? entry.exitReason : `${entry.exitReason}, k6 exit ${entry.exitCode}`);
      }
      if (entry.grade.letter === 'N/A') why.push('no grade');
      else if (!PASSING_LETTERS.has(entry.grade.letter)) why.push('grade below C');
      const outcome = level === 'SUCCESS' ? 'completed' : `failed (${why.join('; ')})`;
      const figures = [
        `p95 ${entry.p95Ms === null ? 'n/a' : ms(entry.p95Ms)}`,
        `errors ${entry.errorRatio === null ? 'n/a' : pct(entry.errorRatio)}`,
        `${entry.requests} requests`,
      ].join(', ');
      this.send(
        {
          notification: this.notification(level, 'completed', entry.testid, entry.tags ?? {}, entry.target, gradeText, `${subject.start} ${outcome} with Grade ${gradeText}: ${figures}, testid ${entry.testid}.`),
          headline: `run ${outcome} on {subject}`,
          after: [`Grade ${gradeText}`, figures],
        },
        subject,
      );
    } catch (err) {
      this.o.log(`notify: could not report the end of run ${entry?.testid}: ${(err as Error).message}`);
    }
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

  // ---- Internals ---------------------------------------------------------------

  private watch(testid: string): RunWatch {
    let w = this.watches.get(testid);
    if (!w) {
      if (this.watches.size >= MAX_TRACKED_RUNS) this.watches.delete(this.watches.keys().next().value!);
      this.watches.set(testid, (w = { errorActive: false, p95Active: false, lastLive: null, aborted: false, completed: false }));
    }
    return w;
  }

  private fireLive(run: RunState, target: string | null, event: 'error_ratio' | 'p95', value: number): void {
    const live = run.figures().live;
    const subject = subjectOf(run.testid, run.tags, target);
    const span = run.lastSampleAt - run.firstSampleAt;
    const seconds = Number.isFinite(span) && span < this.o.windowMs ? Math.max(1, Math.round(span / 1000)) : Math.round(this.o.windowMs / 1000);
    const over = `over the last ${seconds} s`;
    const g = formatGrade(live.grade);
    const draft: Draft =
      event === 'error_ratio'
        ? {
            notification: this.notification('CRITICAL', event, run.testid, run.tags, target, g, `Errors reached ${pct(value)} ${over} on ${subject.label}, above the ${limitPct(this.o.errorRatioCritical)} limit; live grade ${g}, testid ${run.testid}.`),
            headline: `errors ${pct(value)} ${over} on {subject}`,
            after: [`grade ${g}`],
          }
        : {
            notification: this.notification('WARNING', event, run.testid, run.tags, target, g, `The p95 reached ${ms(value)} ${over} on ${subject.label}, above the ${ms(this.o.p95WarningMs)} limit; live grade ${g}, testid ${run.testid}.`),
            headline: `p95 ${ms(value)} ${over} on {subject}`,
            after: [`grade ${g}`],
          };
    this.send(draft, subject);
  }

  private notification(level: Level, event: NotificationEvent, testid: string, tags: Record<string, string>, target: string | null, grade: string, message: string): Notification {
    return {
      level,
      event,
      testid,
      promoName: tags.promo_name || null,
      environment: tags.environment || null,
      target,
      grade,
      dashboard: this.link(this.o.dashboardUrl, testid),
      statusPage: this.link(this.o.statusPageUrl, testid),
      message,
      at: new Date().toISOString(),
    };
  }

  private link(make: ((testid: string) => string | undefined) | undefined, testid: string): string | null {
    if (!make) return null;
    try {
      return make(testid) || null;
    } catch (err) {
      this.o.log(`notify: could not build a link for run ${testid}: ${(err as Error).message}`);
      return null;
    }
  }

  private send(draft: Draft, subject: Subject): void {
    const n = draft.notification;
    const what = `${n.level} ${n.event} for run ${n.testid}`;
    if (this.slack) this.enqueue(this.slack, { body: JSON.stringify(slackMessage(draft, subject)), what });
    if (this.webhook) this.enqueue(this.webhook, { body: JSON.stringify(n), what });
  }

  private enqueue(dest: Destination, delivery: Delivery): void {
    if (dest.queue.length >= this.o.maxQueue) {
      const old = dest.queue.shift()!;
      dest.dropped++;
      dest.droppedSinceLog++;
      const now = Date.now();
      if (now - dest.lastDropLogAt >= DROP_LOG_INTERVAL_MS) {
        this.o.log(
          `notify: the queue for ${dest.name} is full (${this.o.maxQueue}); dropped the oldest notification (${old.what})` +
            (dest.droppedSinceLog > 1 ? ` and ${dest.droppedSinceLog - 1} more since the last such line` : '') +
            `, ${dest.dropped} in all`,
        );
        dest.lastDropLogAt = now;
        dest.droppedSinceLog = 0;
      }
    }
    dest.queue.push(delivery);
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
  private async deliver(dest: Destination, d: Delivery): Promise<void> {
    const policy = { minBackoffMs: this.o.backoffBaseMs, maxBackoffMs: this.o.backoffCapMs, maxAttempts: this.o.maxAttempts };
    const { outcome, attempts } = await withRetries(policy, () => this.post(dest.url, d.body), { onRetry: () => this.counts.retried++ });
    if (outcome.ok) {
      this.counts.sent++;
      return;
    }
    this.counts.failed++;
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

  private destinations(): Destination[] {
    return [this.slack, this.webhook].filter((d): d is Destination => d !== null);
  }

  private idle(): boolean {
    return this.destinations().every((d) => d.queue.length === 0 && d.inFlight === 0 && !d.running);
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

/** The sink's notifier, or null when neither a Slack nor a generic webhook is configured. */
export function notifierFromConfig(config: SinkConfig, log: (line: string) => void): Notifier | null {
  if (!config.slackWebhookUrl && !config.webhookUrl) return null;
  const grafanaUrl = config.grafanaUrl;
  return new Notifier({
    slackWebhookUrl: config.slackWebhookUrl,
    webhookUrl: config.webhookUrl,
    errorRatioCritical: config.alertErrorRatio,
    p95WarningMs: config.alertP95Ms,
    windowMs: config.windowMs,
    dashboardUrl: grafanaUrl ? (testid) => marketingDashboardUrl(grafanaUrl, testid) : undefined,
    log,
  });
}
