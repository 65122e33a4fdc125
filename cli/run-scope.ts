// A CLI run as a scoped resource: it goes through named stages, and each stage hands
// the scope a teardown for everything it starts (the demo shop, the embedded sink, each
// k6 process) as soon as it has started it. Closing the scope runs the teardowns, last
// first, whatever happened: runScenario closes it in `finally`, so nothing a run started
// outlives it, not even when a stage throws halfway.

/** The stages of a run, in order (cli/run-scenario.ts). A new stage gets its name here. */
export const RUN_STAGES = ['prepare', 'target', 'discover', 'sink', 'thresholds', 'k6', 'register', 'watch', 'report'] as const;
export type RunStage = (typeof RUN_STAGES)[number];

/** Hands the scope the teardown of something a stage just started. */
export type Defer = (teardown: () => unknown) => void;

export interface RunScopeOptions {
  /** Called after each stage's body, inside the stage (tests make a stage throw here). */
  afterStage?: (stage: RunStage) => void | Promise<void>;
  /** Where a teardown that fails is reported. */
  warn: (line: string) => void;
}

export class RunScope {
  private readonly teardowns: Array<{ stage: RunStage; run: () => unknown }> = [];

  constructor(private readonly options: RunScopeOptions) {}

  /** Runs one stage; what it defers is torn down when the scope closes. */
  async stage<T>(stage: RunStage, body: (defer: Defer) => T | Promise<T>): Promise<T> {
    const value = await body((teardown) => this.teardowns.push({ stage, run: teardown }));
    await this.options.afterStage?.(stage);
    return value;
  }

  /** Every teardown, the last deferred first; one that fails is reported, and the others still run. */
  async close(): Promise<void> {
    for (const teardown of this.teardowns.splice(0).reverse()) {
      try {
        await teardown.run();
      } catch (err) {
        this.options.warn(`warning: the ${teardown.stage} stage's teardown failed: ${(err as Error).message}`);
      }
    }
  }
}
