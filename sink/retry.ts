// The sink's one way to retry an HTTP delivery, used by the fan-out pipelines and by
// the notifier: exponential backoff with full jitter, never sooner than the server's
// Retry-After (Prometheus, InfluxDB and Slack send it with 429 and 503).

export interface RetryPolicy {
  /** The first backoff's ceiling; doubled per failed attempt. */
  minBackoffMs: number;
  /** No backoff is longer than this (a Retry-After may be). */
  maxBackoffMs: number;
  /** Attempts in all, the first included; unbounded when absent. */
  maxAttempts?: number;
}

/** What one attempt came to. */
export type AttemptOutcome = { ok: true } | { ok: false; retry: boolean; retryAfterMs: number | null; reason: string };

/** The wait before attempt `failures + 1`: uniform in [0, min(max, min · 2^(failures-1))], but at least Retry-After. */
export function backoffMs(policy: RetryPolicy, failures: number, retryAfterMs: number | null, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.minBackoffMs * 2 ** Math.max(0, failures - 1));
  return Math.max(ceiling * random(), retryAfterMs ?? 0);
}

/** A Retry-After header (seconds, or an HTTP date) as ms from now; null when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | null {
  if (!header) return null;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Whether an HTTP status may pass on a later attempt: overload (408, 429) or a server error. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export interface RetryHooks {
  /** Before each wait: the failed attempt's outcome, how many have failed in a row, and the wait. */
  onRetry?(outcome: AttemptOutcome & { ok: false }, failures: number, waitMs: number): void;
  /** Aborting ends the waiting at once; the loop then returns the last outcome. */
  signal?: AbortSignal;
}

/**
 * Runs `attempt` until it succeeds, fails for good (retry: false), the attempts run
 * out, or `hooks.signal` aborts. Returns the last outcome and how many attempts ran.
 */
export async function withRetries(policy: RetryPolicy, attempt: (n: number) => Promise<AttemptOutcome>, hooks: RetryHooks = {}): Promise<{ outcome: AttemptOutcome; attempts: number }> {
  for (let n = 1; ; n++) {
    const outcome = await attempt(n);
    if (outcome.ok || !outcome.retry || n === policy.maxAttempts || hooks.signal?.aborted) return { outcome, attempts: n };
    const wait = backoffMs(policy, n, outcome.retryAfterMs);
    hooks.onRetry?.(outcome, n, wait);
    await sleep(wait, hooks.signal);
    if (hooks.signal?.aborted) return { outcome, attempts: n };
  }
}

/** Resolves after ms, or at once when the signal aborts; leaves no listener behind, and keeps no process alive. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref?.();
    signal?.addEventListener('abort', done, { once: true });
  });
}
