// The status page's live charts in a real (headless) Chromium, open throughout a real k6
// ramp against the demo shop: a point per push, the very points of
// /api/runs/:testid/series, requests/s per push interval that add up to k6's count, every
// scale holding its data, no label drawn over a line, and a chart area that is not blank.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_ARGS, pngPixels } from '../helpers/browser.ts';
import { ROOT } from '../../build/bundle.ts';
import { makeTestId } from '../../lib/tags.ts';
import { runCli } from '../../fixtures/processes.ts';
import { startDemo } from '../helpers/demo.ts';
import { startSink } from '../helpers/sink.ts';
import { chartColumns } from '../../report/charts.ts';
import { chartScales, drawTextOverALine, labelsOverLines } from '../helpers/charts.ts';
import type { RunSeriesJson } from '../../contract/sink-api.ts';

const k6 = inject('k6Bin');
const SCREENSHOT = join(ROOT, 'results', 'screenshots', 'status-page-charts.png');
let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});
afterAll(async () => browser?.close());

describe('the live charts on the status page', () => {
  it('hold one point per push, equal to the served series, and draw something', async () => {
    const shop = await startDemo();
    const sink = await startSink();
    const testid = makeTestId('charts');
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    try {
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(err.message));
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      await page.goto(`${sink.url}/?testid=${testid}`);
      const res = await runCli(['ramp', '--target', shop.url, '--sink', sink.url, '--testid', testid, '--vus', '8', '--duration', '10s', '--out-dir', join(ROOT, 'results')], k6, { K6_NO_USAGE_REPORT: 'true' });
      expect(res.code, res.stderr).toBe(0);
      await page.waitForTimeout(2500); // the events send the last point within a second

      const series = (await (await fetch(`${sink.url}/api/runs/${testid}/series`)).json()) as RunSeriesJson;
      const shown = await page.evaluate(() => {
        const charts = (window as unknown as { promoCharts?: { charts: Record<string, { data: unknown }> } }).promoCharts?.charts ?? {};
        return Object.fromEntries(Object.entries(charts).map(([name, u]) => [name, u.data]));
      });
      expect(shown).toEqual(chartColumns(series.points));

      // One point per push: k6 pushed once a second, and the sink counted the pushes.
      const metrics = await (await fetch(`${sink.url}/metrics`)).text();
      const pushes = [...metrics.matchAll(/^sink_write_requests_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      expect(pushes).toBeGreaterThan(5);
      expect(series.points.length).toBeGreaterThanOrEqual(pushes - 2);
      expect(series.points.length).toBeLessThanOrEqual(pushes);
      expect(problems).toEqual([]);

      // Requests/s per push interval: none on the first point (no spike), and the rates
      // times their intervals add up to k6's own count of requests.
      const k6Requests = (JSON.parse(readFileSync(join(ROOT, 'results', testid, 'summary.json'), 'utf8')) as { metrics: { http_reqs: { count: number } } }).metrics.http_reqs.count;
      const [xs, rates] = (shown as { rps: number[][] }).rps as [number[], Array<number | null>];
      expect(rates[0]).toBeNull();
      const counted = rates.reduce<number>((n, r, i) => n + (r ?? 0) * (i === 0 ? 0 : xs[i]! - xs[i - 1]!), series.points[0]!.requests);
      expect(counted).toBeCloseTo(k6Requests, 6);

      // Every scale holds its data; the response-time axis fits it (a loopback shop's few
      // milliseconds, not 0–2,000 ms) and says the 1 s and 2 s limits are above it.
      const scales = await chartScales(page);
      expect(scales.map((s) => `${s.chart}.${s.scale}`).sort()).toEqual(['errors.x', 'errors.y', 'latency.x', 'latency.y', 'rps.x', 'rps.y', 'users.x', 'users.y']);
      for (const s of scales) expect(s.min <= s.dataMin && s.dataMax <= s.max, JSON.stringify(s)).toBe(true);
      const latency = scales.find((s) => s.chart === 'latency' && s.scale === 'y')!;
      expect(latency.dataMax).toBeLessThan(500);
      expect(latency.max).toBeLessThanOrEqual(latency.dataMax * 1.1 + 1e-9);
      expect(await page.getByTestId('chart-note-latency').textContent()).toBe('The 1 s limit (grade A) and the 2 s limit (grade C) are above the top of this chart: every point shown is below them.');

      // No label drawn over a line, on any chart; and the check sees text that is.
      const decoder = await browser.newPage();
      await decoder.setContent('<!doctype html><title>pixels</title>');
      let labels = 0;
      for (const name of ['users', 'latency', 'errors', 'rps']) {
        const check = await labelsOverLines(page, name, decoder);
        expect(check.overlaps).toEqual([]);
        labels += check.labels.length;
      }
      expect(labels).toBeGreaterThanOrEqual(2); // at least the errors chart's 1 % and 5 %
      const remove = await drawTextOverALine(page, 'users');
      expect((await labelsOverLines(page, 'users', decoder)).overlaps.length).toBeGreaterThan(0);
      await remove();
      await decoder.close();

      // "Download report": the run's report, as a file.
      const href = await page.locator('[data-testid="download-report"]').getAttribute('href');
      expect(href).toBe(`/api/runs/${testid}/report`);
      const report = await fetch(`${sink.url}${href}`);
      expect([report.status, report.headers.get('content-disposition')]).toEqual([200, `attachment; filename="report-${testid}.html"`]);
      expect(await report.text()).toContain(`<code data-testid="testid">${testid}</code>`);

      const charts = page.locator('[data-testid="charts"]');
      const png = await charts.screenshot();
      mkdirSync(join(ROOT, 'results', 'screenshots'), { recursive: true });
      writeFileSync(SCREENSHOT, png);
      // The whole page, for docs/report.md (docs/images/ holds a copy).
      writeFileSync(join(ROOT, 'results', 'screenshots', 'status-page.png'), await page.screenshot({ fullPage: true }));
      // The pixel check, on the screenshot itself (decoded by Chromium in a blank page):
      // the lines' saturated colours cover part of the area, not white and grey alone.
      const blank = await browser.newPage();
      await blank.setContent('<!doctype html><title>pixels</title>');
      const data = await pngPixels(blank, png);
      let coloured = 0;
      for (let i = 0; i < data.length; i += 4) if (Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!) > 80) coloured++;
      await blank.close();
      expect(coloured / (data.length / 4)).toBeGreaterThan(0.002);
    } finally {
      await page.close(); // its event stream holds the sink open
      await sink.close();
      await shop.close();
    }
  });
});
