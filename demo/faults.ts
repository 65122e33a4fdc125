export interface FaultSettings {
  /** Share of shop requests answered with an injected error, 0..1. */
  errorRatio: number;
  /** Added before every shop request, injected error or not. */
  extraLatencyMs: number;
  /** Status of injected errors. */
  status: number;
}

export const NO_FAULTS: FaultSettings = { errorRatio: 0, extraLatencyMs: 0, status: 500 };

// Absorbs float error in n·ratio (0.29 × 100 = 28.999…) without ever adding a whole request.
const FLOAT_SLACK = 1e-9;

/**
 * Decides which requests fail. Deterministic rather than random so a test (or
 * a grade threshold) can rely on it: after n requests since the last change,
 * exactly floor(n·errorRatio) have failed, spread evenly across the run.
 */
export class FaultSwitch {
  private current: FaultSettings = { ...NO_FAULTS };
  private seenSinceChange = 0;
  private failedSinceChange = 0;

  get settings(): FaultSettings {
    return { ...this.current };
  }

  set(settings: FaultSettings): FaultSettings {
    this.current = { ...settings };
    this.seenSinceChange = 0;
    this.failedSinceChange = 0;
    return this.settings;
  }

  reset(): FaultSettings {
    return this.set(NO_FAULTS);
  }

  /** Counts one request and says whether it is the one that must fail now. */
  nextRequestFails(): boolean {
    if (this.current.errorRatio <= 0) return false;
    this.seenSinceChange++;
    const due = Math.floor(this.seenSinceChange * this.current.errorRatio + FLOAT_SLACK);
    if (due <= this.failedSinceChange) return false;
    this.failedSinceChange++;
    return true;
  }
}
