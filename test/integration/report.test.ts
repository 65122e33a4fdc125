// The report, from two real k6 runs through the CLI (its embedded sink keeping the history
// and series in the out dir): a baseline against a fast target, the "promo" against a
// slower one. The report opens offline in Chromium (no request leaves the page), every
// chart holds the stored series within its scales with no label over a line and legends
// without empty hover values, no figure of its tables wraps, its figures are the sink's
// within the bound of k6's own summary, the promo impact has k6's sign and size, --pdf
// prints pages with the charts on them, and the sink serves the same file as a download.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, pngPixels } from '../helpers/browser.ts';
import { ROOT } from '../../build/bundle.ts';
import { makeTestId } from '../../lib/tags.ts';
import type { SummaryData } from '../../lib/summary.ts';
import { runCli } from '../../fixtures/processes.ts';
import { startLatencyTarget } from '../helpers/latency-target.ts';
import { startSink } from '../helpers/sink.ts';
import { chartColumns } from '../../report/charts.ts';
import { chartScales, labelsOverLines } from '../helpers/charts.ts';
import type { ReportData } from '../../report/report-data.ts';
import type { RunSeriesJson } from '../../contract/sink-api.ts';
import { readHistory } from '../../contract/history-file.ts';
import { promoImpact } from '../../report/impact.ts';

const k6 = inject('k6Bin');
const SCREENSHOT = join(ROOT, 'results', 'screenshots', 'report.png');
let dir: string;
let browser: Browser;
const baselineId = makeTestId('baseline');
const promoId = makeTestId('flash_sale');

interface K6Summary {
  metrics: { http_reqs: { count: number; rate: number }; http_req_duration: Record<string, number>; http_req_failed: { value: number } };
}
const summaryOf = (testid: string) => JSON.parse(readFileSync(join(dir, testid, 'summary.json'), 'utf8')) as K6Summary & SummaryData;
const seriesOf = (testid: string) => JSON.parse(readFileSync(join(dir, 'series', `${testid}.json`), 'utf8')) as RunSeriesJson;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pla-report-'));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  // Same load on both; the promo's target answers about five times slower, with a real tail.
  for (const [testid, meanMs, promo] of [[baselineId, 15, 'none'], [promoId, 80, 'flash_sale']] as const) {
    const target = await startLatencyTarget({ kind: 'exponential', meanMs });
    try {
      const res = await runCli(['ramp', '--target', target.url, '--testid', testid, '--promo-name', promo, '--vus', '6', '--duration', '8s', '--min-grade', 'none', '--out-dir', dir], k6, { K6_NO_USAGE_REPORT: 'true' });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toContain(`report ${join(dir, testid, 'report.html')}`);
    } finally {
      await target.close();
    }
  }
}, 300_000);
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The share of an RGB image's pixels in the users chart's blue (#1565c0), which nothing else in the report uses. */
function bluePixels(rgb: Uint8Array, channels: number): number {
  let n = 0;
  for (let i = 0; i + 2 < rgb.length; i += channels) if (rgb[i]! < 90 && rgb[i + 1]! > 70 && rgb[i + 1]! < 140 && rgb[i + 2]! > 160) n++;
  return n / (rgb.length / channels);
}

describe('the report', () => {
  it('is written by every CLI run next to summary.json, and by `report` with a baseline', async () => {
    for (const testid of [baselineId, promoId]) {
      const html = readFileSync(join(dir, testid, 'report.html'), 'utf8');
      expect(html).toContain(`<code data-testid="testid">${testid}</code>`);
      expect(html).not.toContain('data-testid="impact"');
    }
    // --out x.pdf: the PDF there, the HTML beside it.
    const res = await runCli(['report', promoId, '--baseline', baselineId, '--out-dir', dir, '--out', join(dir, 'promo.pdf'), '--pdf'], k6);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(`report ${join(dir, 'promo.html')}\npdf ${join(dir, 'promo.pdf')}\n`);
  });

  it('opens offline in Chromium, draws every chart from the stored series, and shows k6’s own grade, p95, errors and requests', async () => {
    const context = await browser.newContext({ offline: true, viewport: { width: 900, height: 1200 } });
    const page = await context.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => r.url().startsWith('file:') || requests.push(r.url()));
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    try {
      await page.goto(pathToFileURL(join(dir, 'promo.html')).href);
      await page.waitForSelector('body[data-charts="drawn"]');
      expect(requests).toEqual([]);
      expect(problems).toEqual([]);

      const shown = await page.evaluate(() => {
        const charts = (window as unknown as { promoCharts?: { charts: Record<string, { data: unknown }> } }).promoCharts?.charts ?? {};
        return Object.fromEntries(Object.entries(charts).map(([name, u]) => [name, u.data]));
      });
      expect(Object.keys(shown).sort()).toEqual(['errors', 'latency', 'rps', 'users']);
      expect(shown).toEqual(chartColumns(seriesOf(promoId).points, seriesOf(baselineId).points));
      expect(seriesOf(promoId).points.length).toBeGreaterThanOrEqual(6);

      // One source (the sink's record of the run), within the documented bound of k6's own summary (docs/sink.md).
      const k6Promo = summaryOf(promoId);
      const { entries } = await readHistory(join(dir, 'history.jsonl'));
      const entry = entries.find((e) => e.testid === promoId)!;
      const text = async (testid: string) => (await page.locator(`[data-testid="${testid}"]`).first().textContent())!.trim();
      expect(await text('grade-letter')).toBe(entry.grade.letter);
      expect(await text('p95')).toBe(`${entry.p95Ms!.toFixed(1)} ms`);
      expect(Math.abs(entry.p95Ms! - k6Promo.metrics.http_req_duration['p(95)']!) / k6Promo.metrics.http_req_duration['p(95)']!).toBeLessThanOrEqual(0.0905);
      expect(await text('errors')).toBe(`${(k6Promo.metrics.http_req_failed.value * 100).toFixed(2)} %`);
      expect(await text('requests')).toBe(k6Promo.metrics.http_reqs.count.toLocaleString('en-US'));

      // Every scale holds its data; the legends name the lines without empty hover values.
      for (const scale of await chartScales(page)) expect(scale.min <= scale.dataMin && scale.dataMax <= scale.max, JSON.stringify(scale)).toBe(true);
      expect(await page.locator('.u-legend .u-value').count()).toBe(0);
      expect(await page.locator('.u-legend .u-series').first().textContent()).toBe('users (VUs)');
      // No label over a line (the report's data: images may be decoded in the page itself).
      for (const name of ['users', 'latency', 'errors', 'rps']) expect((await labelsOverLines(page, name, page)).overlaps).toEqual([]);
      // No figure of the per-page and thresholds tables breaks over two lines ("1.1" over "ms"), on screen or printed (A4 less its margins, 186 mm).
      const wrappedFigures = () =>
        page.locator('[data-testid="pages"] td.num, [data-testid="thresholds"] td.num').evaluateAll((cells) =>
          cells
            .filter((td) => {
              const range = document.createRange();
              range.selectNodeContents(td);
              return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
            })
            .map((td) => td.textContent),
        );
      expect(await page.locator('[data-testid="pages"] td.num').count()).toBeGreaterThan(0);
      expect(await wrappedFigures()).toEqual([]);
      await page.emulateMedia({ media: 'print' });
      await page.setViewportSize({ width: 703, height: 1000 });
      expect(await wrappedFigures()).toEqual([]);
      await page.emulateMedia({ media: 'screen' });
      await page.setViewportSize({ width: 900, height: 1200 });

      const png = await page.locator('[data-testid="charts"]').screenshot();
      const pixels = await pngPixels(page, png);
      expect(bluePixels(pixels, 4)).toBeGreaterThan(0.0005);
      mkdirSync(join(ROOT, 'results', 'screenshots'), { recursive: true });
      writeFileSync(SCREENSHOT, await page.screenshot({ fullPage: true }));
    } finally {
      await context.close();
    }
  });

  it('gives the promo impact with the sign and size of k6’s own figures of the two runs, in words first', async () => {
    const html = readFileSync(join(dir, 'promo.html'), 'utf8');
    const data = JSON.parse(html.match(/<script type="application\/json" id="report-data">([^<]*)<\/script>/)![1]!) as ReportData;
    const base = summaryOf(baselineId).metrics;
    const promo = summaryOf(promoId).metrics;
    const p95Overhead = ((promo.http_req_duration['p(95)']! - base.http_req_duration['p(95)']!) / base.http_req_duration['p(95)']!) * 100;
    const impact = data.impact!;
    expect(p95Overhead).toBeGreaterThan(50); // the targets differ: the oracle itself must show it
    // One page type (product): its p95 change, each side within 9.05 % of k6's (docs/sink.md), so the ratio within (1.0905 / 0.9095).
    const product = impact.comparison!.pages.find((p) => p.pageType === 'product')!;
    const ratio = (100 + product.p95DeltaPct!) / (100 + p95Overhead);
    expect(ratio).toBeGreaterThanOrEqual(0.9095 / 1.0905);
    expect(ratio).toBeLessThanOrEqual(1.0905 / 0.9095);
    expect(product.p95Measurable).toBe(true);
    const words = Number(product.p95DeltaPct!.toFixed(0));
    expect(impact.sentences[0]).toMatch(new RegExp(`^Product pages were ${words >= 10 ? words : product.p95DeltaPct!.toFixed(1)} % slower with the promo \\(`));
    // In the page: the sentences before the table, and before the charts and the engineers' part.
    const sentences = html.indexOf('data-testid="impact-sentences"');
    expect(sentences).toBeGreaterThan(0);
    expect(sentences).toBeLessThan(html.indexOf('data-testid="impact-table"'));
    expect(html.indexOf('data-testid="impact-table"')).toBeLessThan(html.indexOf('data-testid="charts"'));
    expect(html).toContain(`<li>${impact.sentences[0]}</li>`);
  });

  it('prints to A4 pages that pdftoppm renders, with the charts on them', () => {
    const pages = join(dir, 'pages');
    mkdirSync(pages);
    execFileSync('pdftoppm', ['-r', '60', join(dir, 'promo.pdf'), join(pages, 'page')]);
    const files = readdirSync(pages).filter((f) => f.endsWith('.ppm')).sort();
    expect(files.length).toBeGreaterThanOrEqual(1);
    const info = execFileSync('pdfinfo', [join(dir, 'promo.pdf')]).toString();
    expect(info).toMatch(/Page size:\s+59[45](\.\d+)? x 84[12](\.\d+)? pts \(A4\)/);
    const blue = files.map((f) => {
      const ppm = readFileSync(join(pages, f));
      // P6: "P6\n<w> <h>\n255\n", then RGB bytes.
      let offset = 0;
      for (let fields = 0; fields < 4; offset++) if (ppm[offset] === 0x0a || ppm[offset] === 0x20) fields++;
      return bluePixels(ppm.subarray(offset), 3);
    });
    expect(Math.max(...blue)).toBeGreaterThan(0.0005);
    const words = execFileSync('pdftotext', [join(dir, 'promo.pdf'), '-']).toString();
    for (const title of ['Simultaneous users', 'Response time (ms)', 'Errors (%)', 'Requests per second', 'Promo impact']) expect(words).toContain(title);
    // The legends print the lines' names, never an empty hover value ("p95: --").
    expect(words).toContain('users (VUs)');
    expect(words).not.toMatch(/(seconds|p50|p95|p99|requests\/s|errors %|users \(VUs\)):\s*(--|—)/);
  });

  it('is what the sink serves as a download, and a run the sink does not know gets a 404', async () => {
    const sink = await startSink({ config: { dataDir: dir } });
    try {
      const res = await sink.app.inject({ url: `/api/runs/${promoId}/report?baseline=${baselineId}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="report-${promoId}.html"`);
      const served = res.body.replace(/Report made [^<]*\./, '').replace(/"generatedAt":"[^"]*"/, '');
      const written = readFileSync(join(dir, 'promo.html'), 'utf8').replace(/Report made [^<]*\./, '').replace(/"generatedAt":"[^"]*"/, '');
      expect(served).toBe(written);
      const missing = await sink.app.inject({ url: `/api/runs/${promoId}/report?baseline=no_such_run` });
      expect([missing.statusCode, missing.json()]).toEqual([404, { code: 'SINK_ERR_RUN_NOT_FOUND', message: 'No run has the testid "no_such_run".' }]);
      expect(existsSync(join(dir, 'promo.pdf'))).toBe(true);
    } finally {
      await sink.close();
    }
  });
});

describe('the past tests of the same scenario', () => {
  it('make a trend in `history --trend` of one scenario, promo type and promo name: the promo\'s runs apart from the shop\'s without it', async () => {
    const res = await runCli(['history', '--trend', '--file', join(dir, 'history.jsonl')], k6);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Trend of scenario ramp, promo type none, promo flash_sale: the last 1 run, oldest first');
    expect(lines.some((l) => l.startsWith(baselineId))).toBe(false);
    expect(lines.findIndex((l) => l.startsWith(promoId))).toBeGreaterThan(0);
  });

  it('show on the status page during a new run: the trend chart, a past run drawn beside the charts, and the impact in words, the very sentences of its report and PDF', async () => {
    const sink = await startSink({ config: { dataDir: dir } });
    const target = await startLatencyTarget({ kind: 'exponential', meanMs: 40 });
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    const thirdId = makeTestId('third');
    try {
      await page.goto(`${sink.url}/?testid=${thirdId}`);
      const res = await runCli(['ramp', '--target', target.url, '--sink', sink.url, '--testid', thirdId, '--vus', '6', '--duration', '8s', '--min-grade', 'none', '--out-dir', dir], k6, { K6_NO_USAGE_REPORT: 'true' });
      expect(res.code, res.stderr).toBe(0);
      const { entries } = await readHistory(join(dir, 'history.jsonl'));
      expect(entries.map((e) => e.testid)).toEqual([baselineId, promoId, thirdId]);

      // The trend: the runs of ramp without a promo (the flash sale's is a trend of its own), p95 and errors as the history holds them.
      await expect.poll(() => page.evaluate(() => (window as unknown as { promoTrend?: { runs: string[] } }).promoTrend?.runs ?? []), { timeout: 20_000 }).toEqual([baselineId, thirdId]);
      const trend = await page.evaluate(() => (window as unknown as { promoTrend: { chart: { chart: { data: unknown } } } }).promoTrend.chart.chart.data);
      const shown = [entries[0]!, entries[2]!];
      expect(trend).toEqual([[1, 2], shown.map((e) => e.p95Ms), shown.map((e) => e.errorRatio! * 100)]);
      expect(await page.locator('[data-testid="trend-summary"]').textContent()).toMatch(/^p95 (went from [\d.]+ ms to [\d.]+ ms over the last 2 runs \([+-][\d.]+ %\): the shop got (slower|faster)|held at about [\d.]+ ms over the last 2 runs: no measurable change)\.$/);

      // The default picks once the run ended: it is the candidate, the run without a promo before it the baseline; in words before the figures.
      await expect.poll(() => page.locator('[data-testid="impact-sentences"] li').allTextContents()).toEqual(promoImpact(entries[0]!, entries[2]!).sentences);

      // A past run of the same scenario drawn beside the live charts.
      await page.selectOption('[data-testid="overlay"]', baselineId);
      const liveSeries = (await (await fetch(`${sink.url}/api/runs/${thirdId}/series`)).json()) as RunSeriesJson;
      await expect
        .poll(() =>
          page.evaluate(() => {
            const charts = (window as unknown as { promoCharts: { charts: Record<string, { data: unknown }> } }).promoCharts.charts;
            return Object.fromEntries(Object.entries(charts).map(([name, u]) => [name, u.data]));
          }),
        )
        .toEqual(chartColumns(liveSeries.points, seriesOf(baselineId).points));
      expect(problems).toEqual([]);
      // For docs/report.md (docs/images/ holds a copy).
      writeFileSync(join(ROOT, 'results', 'screenshots', 'status-page-trend.png'), await page.screenshot({ fullPage: true }));

      // The report of the same run beside the same baseline, and its PDF, say what the page says.
      const said = async (p: Page) => ({
        verdict: (await p.getByTestId('verdict').textContent())!.trim(),
        capacity: (await p.getByTestId('capacity').textContent())!.trim(),
        impact: await p.locator('[data-testid="impact-sentences"] li').allTextContents(),
      });
      const onPage = await said(page);
      expect(onPage.verdict).not.toBe('');
      expect(onPage.capacity).not.toBe('');
      expect(onPage.impact.length).toBeGreaterThan(0);
      const made = await runCli(['report', thirdId, '--baseline', baselineId, '--sink', sink.url, '--out', join(dir, 'third.pdf')], k6);
      expect(made.code, made.stderr).toBe(0);
      const reportPage = await browser.newPage();
      try {
        await reportPage.goto(pathToFileURL(join(dir, 'third.html')).href);
        expect(await said(reportPage)).toEqual(onPage);
      } finally {
        await reportPage.close();
      }
      const pdfWords = execFileSync('pdftotext', [join(dir, 'third.pdf'), '-']).toString().replace(/\s+/g, ' ');
      for (const sentence of [onPage.verdict, onPage.capacity, ...onPage.impact]) expect(pdfWords).toContain(sentence.replace(/\s+/g, ' '));
    } finally {
      await page.close();
      await sink.close();
      await target.close();
    }
  });
});
