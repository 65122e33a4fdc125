import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import { readdirSync, existsSync } from 'node:fs';
import { INTEGRATION_GLOB, integrationSkipped } from './test/helpers/integration.ts';
import { CRD_SKIPPED_LINE, crdSkipped } from './test/helpers/reference-data.ts';

const shim = (name: string) => fileURLToPath(new URL(`./test/shims/${name}.ts`, import.meta.url));

if (integrationSkipped()) {
  const dir = fileURLToPath(new URL('./test/integration', import.meta.url));
  const skipped = existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.test.ts')).map((f) => `test/integration/${f}`) : [];
  console.warn(`SKIP_INTEGRATION=1: skipping ${skipped.length} integration test files (real k6, demo shop, sink):\n  ${skipped.join('\n  ')}`);
}

// A bare clone has no ../shared/ beside it: say what that skips (under CI=true it fails instead).
if (crdSkipped()) console.warn(CRD_SKIPPED_LINE);

export default defineConfig({
  resolve: {
    // lib/ runs inside k6; unit tests swap the k6 modules for small shims.
    alias: [
      { find: /^k6\/http$/, replacement: shim('k6-http') },
      { find: /^k6\/metrics$/, replacement: shim('k6-metrics') },
      { find: /^k6\/execution$/, replacement: shim('k6-execution') },
      { find: /^k6$/, replacement: shim('k6') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: integrationSkipped() ? [INTEGRATION_GLOB, '**/node_modules/**'] : ['**/node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 900_000,
    pool: 'forks',
    // Real k6 runs share two cores; running them one file at a time keeps latencies honest.
    fileParallelism: false,
  },
});
