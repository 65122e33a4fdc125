import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import { readdirSync, existsSync } from 'node:fs';
import { INTEGRATION_GLOB, SERIAL_INTEGRATION, integrationSkipped } from './test/helpers/integration.ts';
import { CRD_SKIPPED_LINE, crdSkipped } from './test/helpers/reference-data.ts';

const shim = (name: string) => fileURLToPath(new URL(`./test/shims/${name}.ts`, import.meta.url));

// Vitest evaluates this file more than once in a run: what it skips is said the first time
// only, and only by vitest (knip reads this file too, in `npm test` just before it).
if (process.env.VITEST !== undefined && process.env.PLA_SKIPS_SAID !== '1') {
  process.env.PLA_SKIPS_SAID = '1';
  if (integrationSkipped()) {
    const dir = fileURLToPath(new URL('./test/integration', import.meta.url));
    const skipped = existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.test.ts')).map((f) => `test/integration/${f}`) : [];
    console.warn(`SKIP_INTEGRATION=1: skipping ${skipped.length} integration test files (real k6, demo shop, sink):\n  ${skipped.join('\n  ')}`);
  }
  // A bare clone has no ../shared/ beside it: say what that skips (under CI=true it fails instead).
  if (crdSkipped()) console.warn(CRD_SKIPPED_LINE);
}

const ignored = ['**/node_modules/**'];

// lib/ runs inside k6; unit tests swap the k6 modules for small shims.
const k6Shims = {
  alias: [
    { find: /^k6\/http$/, replacement: shim('k6-http') },
    { find: /^k6\/metrics$/, replacement: shim('k6-metrics') },
    { find: /^k6\/execution$/, replacement: shim('k6-execution') },
    { find: /^k6$/, replacement: shim('k6') },
  ],
};
const timeouts = { testTimeout: 180_000, hookTimeout: 900_000 };

export default defineConfig({
  resolve: k6Shims,
  test: {
    // Once for the whole run (builds dist/, installs what the integration tests start).
    // The projects below repeat the rest of this block rather than `extends: true`,
    // which would run the setup again for each of them.
    globalSetup: ['test/global-setup.ts'],
    ...timeouts,
    projects: [
      {
        resolve: k6Shims,
        test: {
          // Most files wait on real processes (k6 runs of a few seconds, stores starting):
          // two at a time on two cores halves the suite's time and changes no result.
          name: 'two-at-a-time',
          include: ['test/**/*.test.ts'],
          exclude: [...ignored, ...SERIAL_INTEGRATION, ...(integrationSkipped() ? [INTEGRATION_GLOB] : [])],
          ...timeouts,
          pool: 'forks',
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        resolve: k6Shims,
        test: {
          // Files that measure the target's throughput and latency run alone, after the
          // rest, so nothing else competes for the two cores while they measure.
          name: 'alone',
          include: integrationSkipped() ? [] : SERIAL_INTEGRATION,
          exclude: ignored,
          ...timeouts,
          pool: 'forks',
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
