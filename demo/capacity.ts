import { setTimeout as delay } from 'node:timers/promises';
import { DemoHttpError } from './errors.ts';

export interface CapacitySettings {
  /** Origin slots: how many origin requests are served at once. */
  concurrency: number;
  /** How long each origin request holds its slot (a timer, not CPU work). */
  serviceTimeMs: number;
  /** Waiting requests beyond this many are refused at once with 503. */
  maxQueue: number;
  /** A request that waits longer than this for a slot is refused with 503. */
  queueTimeoutMs: number;
}

export interface OriginSnapshot {
  inFlight: number;
  queued: number;
  maxQueued: number;
  rejected: number;
}

/**
 * The VU count at which a closed-loop k6 test saturates the origin.
 *
 * Each of V VUs loops: request (served in S ms when a slot is free), then
 * sleep T ms. Unsaturated, one VU issues 1/(T+S) requests per ms, so offered
 * load is V/(T+S). The origin completes at most C/S requests per ms (C slots,
 * S ms each). Saturation starts when V/(T+S) > C/S, i.e. V* = C·(T+S)/S.
 * Beyond V*, throughput stays at C/S, so by Little's law each loop takes
 * V·S/C ms, of which T is sleep: response time ≈ V·S/C − T, growing linearly
 * with V until waits exceed queueTimeoutMs or the queue exceeds maxQueue and
 * 503s appear. Cache hits bypass the slots, so only origin-bound traffic counts.
 */
export function saturationVus(model: { concurrency: number; serviceTimeMs: number; thinkTimeMs: number }): number {
  if (model.serviceTimeMs <= 0) return Number.POSITIVE_INFINITY;
  return (model.concurrency * (model.thinkTimeMs + model.serviceTimeMs)) / model.serviceTimeMs;
}

const overloaded = (message: string): DemoHttpError => new DemoHttpError(503, 'DEMO_ERR_OVERLOADED', message);

/** A counting semaphore with a bounded, time-limited FIFO queue in front of it. */
export class OriginCapacity {
  private current: CapacitySettings;
  private inFlight = 0;
  // A Set iterates in insertion order, so it is the FIFO, and a waiter that times out leaves it in O(1).
  private readonly waiting = new Set<() => void>();
  private maxQueued = 0;
  private rejected = 0;

  constructor(settings: CapacitySettings) {
    this.current = { ...settings };
  }

  get settings(): CapacitySettings {
    return { ...this.current };
  }

  update(changes: Partial<CapacitySettings>): CapacitySettings {
    this.current = { ...this.current, ...changes };
    this.admitWaiting();
    return this.settings;
  }

  snapshot(): OriginSnapshot {
    return { inFlight: this.inFlight, queued: this.waiting.size, maxQueued: this.maxQueued, rejected: this.rejected };
  }

  resetCounters(): void {
    this.maxQueued = this.waiting.size;
    this.rejected = 0;
  }

  /** Runs `work` while holding a slot for serviceTimeMs; throws a 503 error when overloaded. */
  async run<T>(work: () => T): Promise<T> {
    await this.acquire();
    try {
      if (this.current.serviceTimeMs > 0) await delay(this.current.serviceTimeMs);
      return work();
    } finally {
      this.inFlight--;
      this.admitWaiting();
    }
  }

  private acquire(): Promise<void> {
    if (this.inFlight < this.current.concurrency && this.waiting.size === 0) {
      this.inFlight++;
      return Promise.resolve();
    }
    if (this.waiting.size >= this.current.maxQueue) {
      this.rejected++;
      return Promise.reject(overloaded(`The origin queue is full (${this.current.maxQueue} waiting).`));
    }
    const timeoutMs = this.current.queueTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      const admit = (): void => {
        clearTimeout(timer);
        this.inFlight++;
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.delete(admit);
        this.rejected++;
        reject(overloaded(`The request waited more than ${timeoutMs} ms for the origin.`));
      }, timeoutMs);
      this.waiting.add(admit);
      this.maxQueued = Math.max(this.maxQueued, this.waiting.size);
    });
  }

  private admitWaiting(): void {
    for (const admit of this.waiting) {
      if (this.inFlight >= this.current.concurrency) return;
      this.waiting.delete(admit);
      admit();
    }
  }
}
