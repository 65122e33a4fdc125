// The notifier: the run events it listens to, through the rules (rules.ts), worded
// (message.ts) and sent (delivery.ts). Built with the run events, it subscribes to them
// itself: touched (the live window's errors and p95), aborted and finished.
import type { HistoryEntry } from '../../../contract/sink-api.ts';
import { marketingDashboardUrl } from '../../../contract/links.ts';
import type { SinkConfig } from '../../config.ts';
import type { RunAborted, RunEvents, RunView } from '../../model/run-events.ts';
import { Delivery, type DeliveryCounts } from './delivery.ts';
import { MessageWriter } from './message.ts';
import { NotifyRules } from './rules.ts';

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

/** The run events a notifier listens to, and where a run's target comes from (its registration). */
export interface NotifierWiring {
  events: RunEvents;
  targetOf: (testid: string) => string | null;
}

export class Notifier {
  private readonly rules: NotifyRules;
  private readonly words: MessageWriter;
  readonly delivery: Delivery;
  private readonly log: (line: string) => void;

  constructor(options: NotifierOptions, wiring?: NotifierWiring) {
    const num = (v: number | undefined, d: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d);
    const errorRatioCritical = num(options.errorRatioCritical, NOTIFIER_DEFAULTS.errorRatioCritical);
    const p95WarningMs = num(options.p95WarningMs, NOTIFIER_DEFAULTS.p95WarningMs);
    this.log = options.log;
    this.rules = new NotifyRules({ errorRatioCritical, p95WarningMs });
    this.words = new MessageWriter({
      errorRatioCritical,
      p95WarningMs,
      windowMs: Math.max(1000, num(options.windowMs, NOTIFIER_DEFAULTS.windowMs)),
      dashboardUrl: options.dashboardUrl,
      statusPageUrl: options.statusPageUrl,
      log: options.log,
    });
    this.delivery = new Delivery({
      slackWebhookUrl: options.slackWebhookUrl,
      webhookUrl: options.webhookUrl,
      maxAttempts: Math.max(1, Math.floor(num(options.maxAttempts, NOTIFIER_DEFAULTS.maxAttempts))),
      backoffBaseMs: num(options.backoffBaseMs, NOTIFIER_DEFAULTS.backoffBaseMs),
      backoffCapMs: num(options.backoffCapMs, NOTIFIER_DEFAULTS.backoffCapMs),
      requestTimeoutMs: Math.max(1, num(options.requestTimeoutMs, NOTIFIER_DEFAULTS.requestTimeoutMs)),
      maxQueue: Math.max(1, Math.floor(num(options.maxQueue, NOTIFIER_DEFAULTS.maxQueue))),
      fetchImpl: options.fetchImpl,
      log: options.log,
    });
    if (wiring) {
      wiring.events.on('touched', (run) => this.evaluate(run, wiring.targetOf(run.testid)));
      wiring.events.on('aborted', (info) => this.aborted(info.testid, info));
      wiring.events.on('finished', (entry) => this.completed(entry));
    }
  }

  /** True when there is somewhere to send to. */
  get enabled(): boolean {
    return this.delivery.enabled;
  }

  get stats(): DeliveryCounts {
    return this.delivery.stats;
  }

  /**
   * After each batch that touched the run: CRITICAL (error ratio) and WARNING (p95) from
   * the live window, once per run per condition, and again only after the condition
   * cleared and returned. Never throws, never waits.
   */
  evaluate(run: RunView, target: string | null): void {
    try {
      if (!this.enabled) return;
      for (const alert of this.rules.live(run)) this.delivery.send(this.words.live(run, target, alert.event, alert.value));
    } catch (err) {
      this.log(`notify: could not evaluate run ${run?.testid}: ${(err as Error).message}`);
    }
  }

  /** The run was aborted (thresholds with abortOnFail: exit 99; manual stop: 103): one WARNING per run. */
  aborted(testid: string, info: Omit<RunAborted, 'testid'>): void {
    try {
      if (!this.enabled || !this.rules.firstAbort(testid)) return;
      this.delivery.send(this.words.aborted({ ...info, testid }));
    } catch (err) {
      this.log(`notify: could not report the abort of run ${testid}: ${(err as Error).message}`);
    }
  }

  /** The run ended and its history entry is written: one SUCCESS or FAILURE per run (see completionLevel). */
  completed(entry: HistoryEntry): void {
    try {
      if (!this.enabled || !this.rules.firstCompletion(entry.testid)) return;
      this.delivery.send(this.words.completed(entry));
    } catch (err) {
      this.log(`notify: could not report the end of run ${entry?.testid}: ${(err as Error).message}`);
    }
  }

  /** Resolves once every queued delivery is sent or given up, or after timeoutMs (then logs what is left). */
  drain(timeoutMs: number): Promise<void> {
    return this.delivery.drain(timeoutMs);
  }
}

/** The sink's notifier, or null when neither a Slack nor a generic webhook is configured. */
export function notifierFromConfig(config: SinkConfig, log: (line: string) => void, wiring: NotifierWiring): Notifier | null {
  if (!config.slackWebhookUrl && !config.webhookUrl) return null;
  const grafanaUrl = config.grafanaUrl;
  return new Notifier(
    {
      slackWebhookUrl: config.slackWebhookUrl,
      webhookUrl: config.webhookUrl,
      errorRatioCritical: config.alertErrorRatio,
      p95WarningMs: config.alertP95Ms,
      windowMs: config.windowMs,
      dashboardUrl: grafanaUrl ? (testid) => marketingDashboardUrl(grafanaUrl, testid) : undefined,
      log,
    },
    wiring,
  );
}
