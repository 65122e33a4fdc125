// The one switch that skips integration tests: SKIP_INTEGRATION=1, said out loud.
export const INTEGRATION_GLOB = 'test/integration/**/*.test.ts';

export function integrationSkipped(): boolean {
  return process.env.SKIP_INTEGRATION === '1';
}
