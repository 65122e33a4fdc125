// The one switch that skips integration tests: SKIP_INTEGRATION=1, said out loud.
export const INTEGRATION_GLOB = 'test/integration/**/*.test.ts';

/**
 * Integration files whose assertions rest on measured throughput or latency: they run
 * one at a time, after the others, with the two cores to themselves (vitest.config.ts).
 */
export const SERIAL_INTEGRATION = ['test/integration/capacity.test.ts', 'test/integration/sentences.test.ts', 'test/integration/forecast.test.ts', 'test/integration/guard.test.ts'];

export function integrationSkipped(): boolean {
  return process.env.SKIP_INTEGRATION === '1';
}
