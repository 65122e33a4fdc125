// Exit codes from a table: the CLI passes k6's own code on, and bad input fails fast.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIO_BUNDLE_DIR, ROOT } from '../../build/bundle.ts';
import { runCli, runProcess, printedTestId } from '../../fixtures/processes.ts';
import { startDemo } from '../helpers/demo.ts';

const k6 = inject('k6Bin');
let outDir: string;
let slowShop: Awaited<ReturnType<typeof startDemo>>;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'pla-exit-'));
  slowShop = await startDemo();
  // 1.1 s per request: a p95 over the 1000 ms that an A allows, under C's 2000 ms.
  await slowShop.admin('PUT', 'faults', { errorRatio: 0, extraLatencyMs: 1100 });
});
afterAll(async () => {
  await slowShop.close();
  rmSync(outDir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli([...args, '--out-dir', outDir], k6, { K6_NO_USAGE_REPORT: 'true' });

describe('exit codes', () => {
  it.each([
    { what: 'a run that meets its thresholds', args: () => ['smoke', '--duration', '2s', '--target', slowShop.url], code: 0 },
    { what: 'a run whose thresholds fail', args: () => ['smoke', '--duration', '3s', '--min-grade', 'A', '--target', slowShop.url], code: 99 },
    { what: 'a destructive run aborted by its thresholds', args: () => ['smoke', '--duration', '30s', '--min-grade', 'A', '--abort-on-fail', '--target', slowShop.url], code: 99 },
    { what: 'an invalid flag value', args: () => ['smoke', '--intensity', 'extreme'], code: 2 },
    { what: 'an unknown flag', args: () => ['smoke', '--bogus'], code: 2 },
    { what: 'an unknown scenario', args: () => ['nosuch'], code: 2 },
  ])('exits $code for $what', async ({ args, code }) => {
    const res = await cli(args());
    expect(res.code, res.stdout + res.stderr).toBe(code);
    if (code === 2) expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the allowed values when a flag value is invalid', async () => {
    const res = await cli(['smoke', '--intensity', 'extreme']);
    expect(res.stderr).toBe('--intensity must be one of light, medium, heavy, not "extreme".\n');
  });

  it('stops k6 in its init step with one sentence when INTENSITY is invalid', async () => {
    const res = await runProcess(k6, ['run', '-e', 'INTENSITY=extreme', join(SCENARIO_BUNDLE_DIR, 'smoke.js')]);
    expect(res.code).toBe(107);
    expect(res.stderr).toContain('INTENSITY must be one of light, medium, heavy, not \\"extreme\\".');
  });

  it('passes exit code 99 on through npm run k6', async () => {
    const res = await runProcess('npm', ['run', '--silent', 'k6', '--', 'smoke', '--duration', '2s', '--min-grade', 'A', '--target', slowShop.url, '--out-dir', outDir], {
      env: { K6_BIN: k6, K6_NO_USAGE_REPORT: 'true' },
    });
    expect(res.code).toBe(99);
    const testid = printedTestId(res.stdout)!;
    const summary = JSON.parse(readFileSync(join(outDir, testid, 'summary.json'), 'utf8'));
    expect(summary.metrics.http_req_duration['p(95)']).toBeGreaterThan(1000);
  });
});

describe('a user scenario outside scripts-src/', () => {
  it('imports lib/ by package name, bundles and runs', async () => {
    const res = await cli([join(ROOT, 'examples', 'custom-scenario.ts'), '--duration', '2s']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^Grade: A \(\d+\/100\) \[green\]/m);
  });
});
