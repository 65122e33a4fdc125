// Every bundled scenario, run for real by k6 through the CLI against the demo shop.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIO_BUNDLE_DIR, scenarioNames } from '../../build/bundle.ts';
import { runCli, runProcess, printedGrade, printedTestId } from '../../fixtures/processes.ts';
import { readPoints } from '../helpers/k6-samples.ts';
import { formatGrade } from '../../lib/grade.ts';
import { gradeFromSummary, type SummaryData } from '../../lib/summary.ts';
import { PAGE_TYPES, TESTID_PATTERN } from '../../lib/tags.ts';
import { parseCliArgs } from '../../cli/args.ts';
import { k6Environment } from '../../cli/run-scenario.ts';
import { scenarioLines, summaryRateThresholds } from '../../cli/final-report.ts';

const k6 = inject('k6Bin');
let outDir: string;

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), 'pla-scenarios-'));
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('scenario bundles', () => {
  it.each(scenarioNames())('bundles %s into a script that k6 inspect accepts and that stays under 30 KB', async (name) => {
    const bundle = join(SCENARIO_BUNDLE_DIR, `${name}.js`);
    expect(statSync(bundle).size).toBeLessThanOrEqual(30 * 1024);
    const res = await runProcess(k6, ['inspect', bundle]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(Object.keys(JSON.parse(res.stdout).scenarios)).toHaveLength(1);
  });
});

describe('--vus', () => {
  it.each([
    { scenario: 'ramp', vus: 30, why: 'the peak of the ramp' },
    { scenario: 'promo', vus: 7, why: 'the steady VUs' },
    { scenario: 'smoke', vus: 1, why: 'ignored: smoke runs one VU' },
  ])('sets $why of $scenario, as k6 itself reads the bundle', async ({ scenario, vus }) => {
    const args = parseCliArgs([scenario, '--vus', scenario === 'smoke' ? '9' : String(vus)]);
    if (args.command !== 'run') throw new Error('not a run');
    const env = k6Environment(args, 'vus_20261204_000000_00000000', 'http://127.0.0.1:1');
    const res = await runProcess(k6, ['inspect', '--execution-requirements', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), join(SCENARIO_BUNDLE_DIR, `${scenario}.js`)]);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).maxVUs).toBe(vus);
  });
});

const runs = [
  { scenario: 'smoke', flags: [], promoType: 'none', pageTypes: ['homepage', 'category', 'product'] },
  { scenario: 'ramp', flags: [], promoType: 'none', pageTypes: ['product'] },
  { scenario: 'cache-hit', flags: [], promoType: 'none', pageTypes: ['homepage', 'category', 'product'] },
  { scenario: 'promo', flags: ['--promo-type', 'striked_price'], promoType: 'striked_price', pageTypes: ['homepage', 'category', 'product'] },
  { scenario: 'promo', flags: ['--promo-type', 'auto_cart'], promoType: 'auto_cart', pageTypes: ['homepage', 'category', 'product', 'cart'] },
  // No --promo-type: promo discovers the demo shop's product page and tests the code the demo takes.
  { scenario: 'promo', flags: [], promoType: 'manual_code', pageTypes: ['homepage', 'category', 'product', 'cart'] },
];

describe.each(runs)('$scenario with promo type $promoType against the embedded demo shop', ({ scenario, flags, promoType, pageTypes }) => {
  let result: Awaited<ReturnType<typeof runCli>>;
  let testid: string;
  let runDir: string;

  beforeAll(async () => {
    result = await runCli(
      [scenario, '--vus', '2', '--duration', '3s', '--env', 'prod', '--intensity', 'medium', '--promo-name', `BF ${promoType}`, ...flags, '--out-dir', outDir],
      k6,
      { K6_NO_USAGE_REPORT: 'true' },
    );
    testid = printedTestId(result.stdout) ?? '';
    runDir = join(outDir, testid);
  });

  it('exits 0 with a testid of the documented form', () => {
    expect(result.stderr.match(/level=error.*/g) ?? []).toEqual([]);
    expect(result.code).toBe(0);
    expect(testid).toMatch(TESTID_PATTERN);
    expect(testid.startsWith(`bf_${promoType}`.slice(0, 20))).toBe(true);
  });

  // Only promo discovers its journey; the others run their bundle as it is, with no discovery step.
  it(scenario === 'promo' ? "discovers the demo shop's journey first, through Chromium when the promo needs the cart, and validates it" : 'runs its bundle as it is, without discovering a journey', () => {
    if (scenario !== 'promo') {
      expect(result.stdout).not.toContain('discovering ');
      return;
    }
    expect(result.stdout).toContain('discovering http://127.0.0.1:');
    expect(result.stdout).toContain(`  promo       ${promoType} `);
    if (pageTypes.includes('cart')) expect(result.stdout).toMatch(/^ {2}add to cart script +captured in Chromium$/m);
    expect(result.stdout).toMatch(/^ {2}✓ product page /m);
    expect(result.stdout).not.toMatch(/^ {2}✗ /m);
  });

  it('tags every HTTP sample with all the standard tags', async () => {
    const points = await readPoints(join(runDir, 'samples.json.gz'), 'http_req_duration');
    expect(points.length).toBeGreaterThan(0);
    const seenPageTypes = new Set<string>();
    for (const p of points) {
      expect(p.data.tags).toMatchObject({ testid, environment: 'prod', promo_type: promoType, promo_name: `BF ${promoType}`, intensity: 'medium' });
      expect(PAGE_TYPES).toContain(p.data.tags!.page_type);
      seenPageTypes.add(p.data.tags!.page_type!);
    }
    expect([...seenPageTypes].sort()).toEqual([...pageTypes].sort());
  });

  it('passes every check', () => {
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { metrics: Record<string, { fails?: number; passes?: number }> };
    expect(summary.metrics.checks!.fails).toBe(0);
    expect(summary.metrics.checks!.passes).toBeGreaterThan(0);
  });

  it('says its own results in words (cache hits, 304s, promos applied): the sink’s values and verdicts are k6’s own', () => {
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as Parameters<typeof summaryRateThresholds>[0];
    // The lines from k6's own figures (the oracle) are those the CLI printed from the sink's merge.
    const fromK6 = scenarioLines(summaryRateThresholds(summary));
    const own: Record<string, string[]> = { 'cache-hit': ['Pages served from the cache', 'Repeat visits answered "not modified" (304)'], promo: ['Visits where the shop applied the promo'] };
    expect(fromK6.slice(1).map((l) => l.trim().split(':')[0])).toEqual(own[scenario] ?? []);
    if (fromK6.length > 0) expect(result.stdout).toContain(fromK6.join('\n'));
    else expect(result.stdout).not.toContain('results of the scenario');
    if (scenario === 'promo') expect(summary.metrics!.promo_applied_rate!.value).toBe(1);
  });

  it("prints the grade that lib/grade.ts gives for k6's own summary values", () => {
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as SummaryData;
    expect(printedGrade(result.stdout)).toBe(formatGrade(gradeFromSummary(summary)));
  });

  it('writes one CSV row per request with time, value_ms, status and url', async () => {
    const rows = readFileSync(join(runDir, 'http_req_duration.csv'), 'utf8').trim().split('\n');
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { metrics: { http_reqs: { count: number } } };
    expect(rows[0]).toBe('time,value_ms,status,url');
    expect(rows.length - 1).toBe(summary.metrics.http_reqs.count);
    expect(rows[1]).toMatch(/^\d{4}-\d\d-\d\dT[^,]+,[0-9.]+,(200|304),http:\/\/127\.0\.0\.1:\d+\//);
  });
});
