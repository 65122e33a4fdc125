// The cache-hit scenario against the demo shop's cache, checked against the shop's own counters.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, printedTestId } from '../../fixtures/processes.ts';
import { readPoints } from '../helpers/k6-samples.ts';
import { startDemo } from '../helpers/demo.ts';
import { readHistory } from '../../contract/history-file.ts';
import { scenarioResults } from '../../report/scenario-results.ts';

const k6 = inject('k6Bin');
let outDir: string;
let shop: Awaited<ReturnType<typeof startDemo>>;
let samples: string;
let runDir: string;
let stdout: string;
let exitCode: number | null;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'pla-cache-'));
  shop = await startDemo();
  await shop.admin('POST', 'cache/purge');
  const res = await runCli(['cache-hit', '--target', shop.url, '--vus', '1', '--duration', '3s', '--out-dir', outDir, '--', '-e', 'THINK_TIME_MS=200'], k6, {
    K6_NO_USAGE_REPORT: 'true',
  });
  exitCode = res.code;
  stdout = res.stdout;
  runDir = join(outDir, printedTestId(res.stdout)!);
  samples = join(runDir, 'samples.json.gz');
});
afterAll(async () => {
  await shop.close();
  rmSync(outDir, { recursive: true, force: true });
});

const values = async (metric: string) =>
  (await readPoints(samples, metric)).sort((a, b) => a.data.time.localeCompare(b.data.time)).map((p) => p.data.value);

describe('the cache-hit scenario', () => {
  it('passes its cache thresholds', () => {
    expect(exitCode).toBe(0);
  });

  it('sees a MISS for each of its three pages first, then only HITs', async () => {
    const hits = await values('cache_hit_rate');
    expect(hits.length).toBeGreaterThan(6);
    expect(hits.slice(0, 3)).toEqual([0, 0, 0]);
    expect(new Set(hits.slice(3))).toEqual(new Set([1]));
  });

  it('gets 304 for every conditional replay', async () => {
    const replays = await values('cache_304_rate');
    expect(replays.length).toBe((await values('cache_hit_rate')).length);
    expect(new Set(replays)).toEqual(new Set([1]));
  });

  it("records cache metrics equal to the demo shop's own counters", async () => {
    const hits = await values('cache_hit_rate');
    const replays = await values('cache_304_rate');
    const stats = await shop.admin('GET', 'stats');
    expect({
      hits: hits.filter((v) => v === 1).length,
      misses: hits.filter((v) => v === 0).length,
      notModified: replays.filter((v) => v === 1).length,
    }).toEqual({ hits: stats.cache.hit + stats.cache.stale, misses: stats.cache.miss, notModified: stats.cache.notModified });
  });

  it('shows its hit rate and 304 rate with k6’s own values and verdicts in the CLI, the history and the report, not “not judged”', async () => {
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { metrics: Record<string, { value: number; thresholds: Record<string, boolean> }> };
    const { entries } = await readHistory(join(outDir, 'history.jsonl'));
    const judged = entries.at(-1)!.thresholds!.filter((t) => t.metric.startsWith('cache_'));
    expect(judged.map((t) => [t.metric, t.threshold, t.supported, t.ok, t.value]).sort()).toEqual(
      ['cache_304_rate', 'cache_hit_rate'].map((m) => {
        const [[threshold, failed]] = Object.entries(summary.metrics[m]!.thresholds);
        return [m, threshold, true, !failed, summary.metrics[m]!.value];
      }),
    );
    expect(summary.metrics.cache_hit_rate!.value).toBeGreaterThan(0.5);
    const sentences = scenarioResults(judged).map((r) => r.sentence);
    expect(sentences).toHaveLength(2);
    expect(stdout).not.toContain('not judged');
    for (const sentence of sentences) expect(stdout).toContain(`    ${sentence}\n`);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html).toContain(`<ul data-testid="scenario-results">${sentences.map((x) => `<li data-verdict="met">${x.replace(/"/g, '&quot;')}</li>`).join('')}</ul>`);
  });
});
