// The status page in a real (headless) Chromium, following a real k6 run through a sink
// with a token: the grade it shows is the sink's, the light turns when the shop degrades,
// a wrong token cannot stop the run, the right one does (k6 exits 103), and the history
// compares two runs with build/compare.ts.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../helpers/browser.ts';
import { SCENARIO_BUNDLE_DIR, ROOT } from '../../build/bundle.ts';
import { comparability, compareRuns, overheadLine } from '../../report/compare.ts';
import { scenarioResults } from '../../report/scenario-results.ts';
import { buildApp, type SinkApp } from '../../sink/app.ts';
import type { HistoryEntry, RunJson } from '../../contract/sink-api.ts';
import { colourFor, type GradeLetter } from '../../lib/grade.ts';
import { makeTestId } from '../../lib/tags.ts';
import { startDemo } from '../helpers/demo.ts';
import { remoteWriteEnv } from '../helpers/sink.ts';

const k6Bin = inject('k6Bin');
const TOKEN = `sp-${randomBytes(12).toString('hex')}`;
const SCREENSHOT = join(ROOT, 'results', 'screenshots', 'status-page.png');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A finished run already in the history file, for the comparison view: the promo scenario's journey of three pages. */
function pastRun(testid: string, promo: string, endedAt: string, p95Ms: number, errorRatio: number, letter: 'A' | 'B', score: number, scenario = 'promo'): HistoryEntry {
  const page = (key: string) => ({ key, requests: 4000, rps: 13.3, p50Ms: p95Ms / 3, p95Ms, p99Ms: p95Ms * 1.5, errorRatio, p95LowMs: p95Ms * 0.98, p95HighMs: p95Ms * 1.02 });
  return {
    testid,
    scenario,
    tags: { environment: 'preprod', promo_type: promo === 'none' ? 'none' : 'striked_price', promo_name: promo, intensity: 'light' },
    target: 'http://shop.example',
    startedAt: new Date(Date.parse(endedAt) - 300_000).toISOString(),
    endedAt,
    exitCode: 0,
    exitReason: 'completed',
    requests: 12_000,
    p50Ms: p95Ms / 3,
    p95Ms,
    p99Ms: p95Ms * 1.5,
    errorRatio,
    rps: 40,
    maxVus: 20,
    checksRate: 1 - errorRatio,
    iterations: 4000,
    grade: { letter, score, colour: colourFor(letter), text: `${letter} (${score}/100)` },
    breakingPointVus: null,
    pages: { pageTypes: ['category', 'homepage', 'product'].map(page), slowestNames: [] },
  };
}
// Oldest first: a promo run, the shop without a promo, the promo again, and another scenario.
const earlier = pastRun(makeTestId('spring sale', new Date('2025-03-01T08:00:00Z')), 'Spring Sale', '2025-03-01T08:05:00.000Z', 600, 0.003, 'B', 86);
const baseline = pastRun(makeTestId('baseline', new Date('2025-03-01T09:00:00Z')), 'none', '2025-03-01T09:05:00.000Z', 400, 0.002, 'A', 95);
const candidate = pastRun(makeTestId('spring sale', new Date('2025-03-01T10:00:00Z')), 'Spring Sale', '2025-03-01T10:05:00.000Z', 620, 0.003, 'B', 85);
const otherScenario = pastRun(makeTestId('cache', new Date('2025-03-01T10:30:00Z')), 'none', '2025-03-01T10:35:00.000Z', 300, 0, 'A', 97, 'cache_hit');
const past = [earlier, baseline, candidate, otherScenario];

let dir: string;
let shop: Awaited<ReturnType<typeof startDemo>>;
let sink: SinkApp;
let sinkUrl: string;
let browser: Browser;
let page: Page;
let k6: ChildProcess | null = null;
let k6Exit: Promise<number | null>;
let k6Code: number | null | undefined;
let k6Stderr = '';
const requestUrls: string[] = [];
const pageErrors: string[] = [];
const testid = makeTestId('Spring Sale');

const api = async (path: string, init: RequestInit = {}) => fetch(`${sinkUrl}${path}`, init);
const liveLetter = async () => ((await (await api(`/api/runs/${testid}`)).json()) as { live?: { grade: { letter: string } } }).live?.grade.letter ?? null;
const text = (p: Page, id: string) => p.getByTestId(id).textContent();
const litLamps = (p: Page) => p.locator('[data-testid^="lamp-"].on').evaluateAll((lamps) => lamps.map((l) => l.getAttribute('data-testid')));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pla-status-page-'));
  const historyFile = join(dir, 'history.jsonl');
  writeFileSync(historyFile, past.map((e) => JSON.stringify(e) + '\n').join(''));
  shop = await startDemo();
  // A short live window: the light follows the shop within seconds.
  sink = buildApp({ config: { token: TOKEN, historyFile, windowMs: 5000 } });
  sink.addHook('onRequest', async (request) => {
    requestUrls.push(request.url);
  });
  sinkUrl = await sink.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });

  // The run registers with its k6 REST address first, as the CLI does.
  const k6Address = `127.0.0.1:${await freePort()}`;
  const registered = await api('/api/runs', {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ testid, scenario: 'promo', target: shop.url, k6Address, tags: { environment: 'preprod', promo_type: 'striked_price', promo_name: 'Spring Sale', intensity: 'light' } }),
  });
  expect(registered.status).toBe(201);
  const env = { TESTID: testid, BASE_URL: shop.url, TARGET_VUS: '4', DURATION: '60s', THINK_TIME_MS: '100', MIN_GRADE: 'none', PROMO_NAME: 'Spring Sale', PROMO_TYPE: 'striked_price', ENVIRONMENT: 'preprod', INTENSITY: 'light' };
  const child = spawn(k6Bin, ['run', '-q', '-o', 'experimental-prometheus-rw', '--address', k6Address, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), join(SCENARIO_BUNDLE_DIR, 'promo.js')], {
    cwd: dir,
    env: { ...process.env, ...remoteWriteEnv(sinkUrl, 'native'), K6_PROMETHEUS_RW_BEARER_TOKEN: TOKEN },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  k6 = child;
  child.stderr!.on('data', (chunk) => (k6Stderr += chunk));
  // Bounded: a run the stop never reaches is killed well before the test's own limit.
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  k6Exit = new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      k6Code = code;
      resolve(code);
    }),
  );

  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => (m.type() === 'error' ? pageErrors.push(m.text()) : undefined));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${sinkUrl}/?testid=${testid}#token=${TOKEN}`);
});

afterAll(async () => {
  // The browser first: its open event streams would hold the sink's close.
  await browser?.close();
  if (k6 && k6Code === undefined) {
    k6.kill('SIGKILL');
    await k6Exit;
  }
  await sink?.close();
  await shop?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the status page', () => {
  it('is served with a strict CSP and hardening headers, its script bundled and same-origin', async () => {
    for (const path of ['/', '/status-page/page.js', '/status-page/page.css']) {
      const res = await api(path);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) expect(csp).toContain(directive);
      expect(csp).not.toContain('unsafe');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    const html = await (await api('/')).text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]|https?:\/\//);
    expect((await api('/status-page/page.js')).headers.get('content-type')).toMatch(/^text\/javascript/);
    // A cross-site form or image sends no Authorization header: the stop refuses it.
    expect((await api(`/api/runs/${testid}/stop`, { method: 'POST' })).status).toBe(401);
  });

  it('takes the token out of the address bar into sessionStorage; the sink never sees it in a URL', async () => {
    await expect.poll(() => page.url()).toBe(`${sinkUrl}/?testid=${testid}`);
    expect(await page.evaluate(() => sessionStorage.getItem('promo-load-analyzer.sink-token'))).toBe(TOKEN);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await text(page, 'testid')).toBe(testid);
    expect(requestUrls.filter((u) => u.includes(TOKEN))).toEqual([]);
  });

  it("shows the run's tags, figures and the same grade letter as GET /api/runs/:testid", async () => {
    await expect.poll(() => page.getByTestId('status').getAttribute('data-status'), { timeout: 20_000 }).toBe('running');
    // Both move every second: poll until they agree three times in a row on a real letter.
    let agreed = 0;
    let shown: string | null = null;
    for (let i = 0; i < 60 && agreed < 3; i++) {
      shown = await text(page, 'grade-letter');
      const fromApi = await liveLetter();
      agreed = shown === fromApi && shown !== 'N/A' ? agreed + 1 : 0;
      if (agreed < 3) await page.waitForTimeout(500);
    }
    expect(agreed, `page ${shown}, API ${await liveLetter()}`).toBe(3);
    expect(await page.getByTestId('light').getAttribute('data-colour')).toBe(colourFor(shown as GradeLetter));
    expect(await text(page, 'grade-score')).toMatch(/^\d{1,3}\/100$/);
    expect(Number(await text(page, 'vus'))).toBeGreaterThan(0);
    expect(await text(page, 'p95')).toMatch(/^\d[\d,]*$/);
    expect(await text(page, 'errors')).toMatch(/^\d+\.\d\d$/);
    expect(await text(page, 'tag-promo_name')).toBe('Spring Sale');
    expect(await text(page, 'tag-environment')).toBe('preprod');
    expect(await text(page, 'tag-promo_type')).toBe('striked price');
    expect(await text(page, 'tag-intensity')).toBe('light');
    expect(await page.getByTestId('stop').isEnabled()).toBe(true);
    // While it runs, the stop is on screen without scrolling (the header's), even scrolled down.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const box = (await page.getByTestId('stop-now').boundingBox())!;
    expect(box.y >= 0 && box.y + box.height <= 900).toBe(true);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it('turns the light from green to red when the shop starts failing', async () => {
    // The demo shop on loopback with 4 users is fast and error-free: green.
    await expect.poll(() => page.getByTestId('light').getAttribute('data-colour'), { timeout: 20_000 }).toBe('green');
    expect(await litLamps(page)).toEqual(['lamp-green']);
    await shop.admin('PUT', 'faults', { errorRatio: 0.2, extraLatencyMs: 0 });
    await expect.poll(() => page.getByTestId('light').getAttribute('data-colour'), { timeout: 20_000 }).toBe('red');
    expect(await litLamps(page)).toEqual(['lamp-red']);
    expect(await text(page, 'verdict')).toMatch(/trouble/i);
    expect(Number(await text(page, 'errors'))).toBeGreaterThan(1);

    mkdirSync(join(ROOT, 'results', 'screenshots'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true, animations: 'disabled' });
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });

  it('compares only runs of one scenario and journey, in words first; none while the viewed run goes on', async () => {
    await expect.poll(() => page.getByTestId('compare').isVisible()).toBe(true);
    expect(await page.getByTestId('history-row').count()).toBe(past.length);
    // By default the viewed run is the candidate: it has not finished, so nothing is compared yet, and the page says why.
    expect(await page.locator('[data-testid="impact-sentences"] li').allTextContents()).toEqual([`The run ${testid} has not finished yet, so there is nothing to compare.`]);
    // Picked by hand: the shop without the promo against the promo, per page type.
    const key = (e: HistoryEntry) => `${e.testid}@${e.endedAt}`;
    await page.getByTestId('baseline').selectOption(key(baseline));
    await page.getByTestId('candidate').selectOption(key(candidate));
    const comparison = compareRuns(baseline, candidate);
    expect(await text(page, 'overhead')).toBe(overheadLine(comparison));
    expect(await page.locator('[data-testid="impact-sentences"] li').allTextContents()).toEqual(comparison.sentences);
    const p95Row = page.locator('[data-testid="comparison"] tr[data-metric="p95 product (ms)"] td');
    expect((await p95Row.allTextContents()).slice(0, 4)).toEqual(['Response time, p95, product (ms)', '400.0', '620.0', '+220.0']);
    // Another scenario: refused, in one sentence, and no table.
    await page.getByTestId('candidate').selectOption(key(otherScenario));
    expect(await page.locator('[data-testid="impact-sentences"] li').allTextContents()).toEqual([comparability(baseline, otherScenario)]);
    expect(await page.locator('[data-testid="comparison"] tbody tr').count()).toBe(0);
  });

  it('on a 390 px phone: fits the screen, the stop is in view without scrolling, and a wrong token is refused with a hint true to how the page was opened', async () => {
    // Another tab without the token: the dialog asks for it.
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const other = await context.newPage();
      await other.goto(`${sinkUrl}/?testid=${testid}`);
      await expect.poll(() => other.getByTestId('status').getAttribute('data-status'), { timeout: 10_000 }).toBe('running');
      await expect.poll(() => other.getByTestId('charts-area').isVisible(), { timeout: 10_000 }).toBe(true);
      expect(await other.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      // The running test's stop is on screen at the top, and still after scrolling to the bottom.
      const stopNow = other.getByTestId('stop-now');
      const inView = async () => {
        const box = (await stopNow.boundingBox())!;
        return box.y >= 0 && box.y + box.height <= 844 && box.x >= 0 && box.x + box.width <= 390;
      };
      expect(await stopNow.isVisible()).toBe(true);
      expect(await inView()).toBe(true);
      await other.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      expect(await other.evaluate(() => window.scrollY)).toBeGreaterThan(500);
      expect(await inView()).toBe(true);

      await stopNow.click();
      await expect.poll(() => other.getByTestId('stop-dialog').isVisible()).toBe(true);
      expect(await text(other, 'stop-dialog')).toContain('Stop the load test now?');
      expect(await text(other, 'stop-which')).toBe(`Spring Sale · ${testid}`);
      // Opened without a token: the hint says so, and not that the link holds one.
      expect(await text(other, 'token-help')).toBe(
        'This page was opened without a token. Type the token the sink was started with (its --token, or SINK_TOKEN); only the link `npm run k6` prints for its own embedded sink carries it, after #token=.',
      );
      await other.getByTestId('token-input').fill('not-the-right-token');
      await other.getByTestId('confirm-stop').click();
      await expect.poll(() => text(other, 'stop-result'), { timeout: 10_000 }).toMatch(/wrong token/i);
      expect(await other.evaluate(() => sessionStorage.getItem('promo-load-analyzer.sink-token'))).toBeNull();
      await other.getByTestId('stop').click();
      expect(await text(other, 'token-help')).toBe('The sink refused that token. Type the token the sink was started with (its --token, or SINK_TOKEN).');
      await other.getByTestId('cancel-stop').click();

      // Opened with a link whose token is wrong: no question first, then the hint says the link's token was refused.
      await other.goto('about:blank'); // a change of the fragment alone would not load the page again
      await other.goto(`${sinkUrl}/?testid=${testid}#token=wrong-token-in-a-link`);
      await expect.poll(() => other.getByTestId('stop').isEnabled(), { timeout: 10_000 }).toBe(true);
      await other.getByTestId('stop').click();
      expect(await other.getByTestId('token-row').isVisible()).toBe(false);
      await other.getByTestId('confirm-stop').click();
      await expect.poll(() => text(other, 'stop-result'), { timeout: 10_000 }).toMatch(/wrong token/i);
      await other.getByTestId('stop').click();
      expect(await other.getByTestId('token-row').isVisible()).toBe(true);
      expect(await text(other, 'token-help')).toBe('The sink refused the token in the link this page was opened with. Type the token the sink was started with (its --token, or SINK_TOKEN).');
    } finally {
      await context.close();
    }
    expect(sink.sink.control!.registrations.get(testid)!.stopRequestedAt).toBeNull();
    await new Promise((r) => setTimeout(r, 1500));
    expect(k6Code).toBeUndefined();
    expect(((await (await api(`/api/runs/${testid}`)).json()) as { status: string }).status).toBe('running');
    expect(await page.getByTestId('status').getAttribute('data-status')).toBe('running');
  });

  it('stops the run after the confirmation: k6 exits 103 and the page says stopped', async () => {
    await page.getByTestId('stop').click();
    await expect.poll(() => page.getByTestId('stop-dialog').isVisible()).toBe(true);
    // The token came with the link: nothing to type.
    expect(await page.getByTestId('token-row').isVisible()).toBe(false);
    await page.getByTestId('confirm-stop').click();
    // "Stop sent…", then, once the run is over, "…was stopped…": either may be the one seen.
    await expect.poll(() => text(page, 'stop-result'), { timeout: 10_000 }).toMatch(/stop sent|was stopped/i);
    const code = await Promise.race([k6Exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
    expect(code, k6Stderr.slice(-2000)).toBe(103);
    // The CLI reports k6's exit code once k6 is gone; do the same.
    const finished = await api(`/api/runs/${testid}/finish`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ exitCode: 103 }) });
    expect(finished.status).toBe(200);
    await expect.poll(() => page.getByTestId('status').getAttribute('data-status'), { timeout: 15_000 }).toBe('stopped');
    expect(await text(page, 'status')).toBe('Stopped');
    await expect.poll(() => text(page, 'stop-result')).toMatch(/was stopped/);
    expect(await page.getByTestId('stop').isDisabled()).toBe(true);
    expect(await page.getByTestId('stop-now').isHidden()).toBe(true);
    const row = page.locator(`[data-testid="history-row"][data-run="${testid}"]`);
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);
    expect(await row.textContent()).toContain('stopped manually');

    // The stopped state in words: how it ended and at how many users (k6 ran 4), as the API
    // and the report say it; no "the site holds" of a test cut short.
    const run = (await (await api(`/api/runs/${testid}`)).json()) as RunJson;
    await expect.poll(() => text(page, 'verdict'), { timeout: 10_000 }).toBe(run.verdict.headline);
    expect(run.verdict.headline).toMatch(/^Stopped by hand at 4 users[;,.]/);
    expect(run.verdict.ending).toBe(run.verdict.headline);
    // The promo's own result: the share of visits where it applied (a fifth of the requests failed), as the sink judged it.
    const results = scenarioResults(run.thresholds).map((r) => r.sentence);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatch(/^Visits where the shop applied the promo: [\d.]+ % \(goal: above 95 %, (met|missed)\)\.$/);
    expect(await page.locator('[data-testid="scenario-results"] li').allTextContents()).toEqual(results);
    const report = await (await api(`/api/runs/${testid}/report`)).text();
    expect(report).toContain(`data-testid="verdict">${run.verdict.headline.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')}</p>`);

    // The default picks, once the run is in the history: it is the candidate, and the baseline
    // is the latest comparable run without a promo before it: not the promo run after that,
    // nor the other scenario's.
    const entries = ((await (await api('/api/history')).json()) as { runs: HistoryEntry[] }).runs;
    const stopped = entries.find((e) => e.testid === testid)!;
    const key = (e: HistoryEntry) => `${e.testid}@${e.endedAt}`;
    await page.reload();
    await expect.poll(() => page.getByTestId('candidate').inputValue(), { timeout: 10_000 }).toBe(key(stopped));
    expect(await page.getByTestId('baseline').inputValue()).toBe(key(baseline));
    expect(await page.locator('[data-testid="impact-sentences"] li').allTextContents()).toEqual(compareRuns(baseline, stopped).sentences);
    // Viewing a run with no comparable run without a promo before it: the previous comparable run.
    const other = await browser.newPage();
    try {
      await other.goto(`${sinkUrl}/?testid=${baseline.testid}`);
      await expect.poll(() => other.getByTestId('candidate').inputValue(), { timeout: 10_000 }).toBe(key(baseline));
      expect(await other.getByTestId('baseline').inputValue()).toBe(key(earlier));
      expect(await other.locator('[data-testid="impact-sentences"] li').allTextContents()).toEqual(compareRuns(earlier, baseline).sentences);
    } finally {
      await other.close();
    }
    expect(pageErrors).toEqual([]);
  });
});
