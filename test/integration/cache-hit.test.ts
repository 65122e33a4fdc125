// The cache-hit scenario against the demo shop's cache, checked against the shop's own counters.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, printedTestId } from '../../fixtures/processes.ts';
import { readPoints } from '../helpers/k6-samples.ts';
import { startDemo } from '../helpers/demo.ts';

const k6 = inject('k6Bin');
let outDir: string;
let shop: Awaited<ReturnType<typeof startDemo>>;
let samples: string;
let exitCode: number | null;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'pla-cache-'));
  shop = await startDemo();
  await shop.admin('POST', 'cache/purge');
  const res = await runCli(['cache-hit', '--target', shop.url, '--vus', '1', '--duration', '3s', '--out-dir', outDir, '--', '-e', 'THINK_TIME_MS=200'], k6, {
    K6_NO_USAGE_REPORT: 'true',
  });
  exitCode = res.code;
  samples = join(outDir, printedTestId(res.stdout)!, 'samples.json.gz');
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
});
