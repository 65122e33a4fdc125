// A storefront driven by script: the demo shop's product page has no add-to-cart form, its
// own script posts JSON with the session's CSRF token. Discovery finds that request in
// Chromium, and k6 replays it with the token read again on every iteration. The oracles:
// the shop's own cart store (/__admin/carts) and a recording proxy that any request k6
// sends to another host would reach.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo } from '../helpers/demo.ts';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.ts';
import { runCli, printedTestId, type Finished } from '../../fixtures/processes.ts';
import type { CartsReport } from '../../demo/app.ts';

const k6 = inject('k6Bin');
const CODE = 'BLACKFRIDAY';
let shop: Awaited<ReturnType<typeof startDemo>>;
let proxy: RecordingProxy;
let dir: string;

beforeAll(async () => {
  [shop, proxy] = await Promise.all([startDemo(), startRecordingProxy()]);
  dir = mkdtempSync(join(tmpdir(), 'pla-discover-demo-'));
});
afterAll(async () => {
  await Promise.all([shop?.close(), proxy?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const carts = (): Promise<CartsReport> => shop.admin('GET', 'carts');
const cli = (args: string[]): Promise<Finished> => runCli(args, k6, { K6_NO_USAGE_REPORT: 'true', ...proxy.env });

describe("the demo shop's script-driven cart", () => {
  let discovered: Finished;
  let byDiscovery: CartsReport;

  beforeAll(async () => {
    await shop.admin('DELETE', 'carts');
    discovered = await cli(['discover', `${shop.url}/product/1`, '--promo-code', CODE, '--out', join(dir, 'demo.ts')]);
    byDiscovery = await carts();
  });

  it('is found through Chromium: the product page has no form, the click sends a JSON POST whose CSRF header is read from the cookie each time', async () => {
    expect(discovered.code, discovered.stdout + discovered.stderr).toBe(0);
    expect(await (await fetch(`${shop.url}/product/1`)).text()).not.toMatch(/<form\b/i);
    expect(discovered.stdout).toMatch(/^ {2}add to cart script +captured in Chromium$/m);
    expect(discovered.stdout).toContain('clicking "Add to cart" in Chromium sent POST /api/cart/items (application/json), answered 200');
    expect(discovered.stdout).toContain(`  promo       manual_code Sneaker No. 1: −20 % with the code ${CODE}`);
    const scenario = readFileSync(join(dir, 'demo.ts'), 'utf8');
    expect(scenario).toContain("journey.read('add to cart', product, 'the csrf_token cookie', { cookie: 'csrf_token' })");
    expect(scenario).toMatch(/journey\.call\('add to cart', \{ method: 'POST', url: '\/api\/cart\/items', headers: \{[^}]*'X-Csrf-Token': csrfTokenCookie \}, body: JSON\.stringify\(\{ productId: 1, qty: 2 \}\), keepBody: false \}/);
    // Pages and answers nothing reads after their status: k6 keeps no body of them.
    expect(scenario).toContain("journey.visitUnread('homepage', '/', 'homepage');");
    expect(scenario).toMatch(/journey\.visitUnread\('category', '\/category\/[^']+', 'category'\);/);
    expect(scenario).toContain("const product = journey.visit('product page'");
    expect(scenario).toContain("const cart = journey.visit('cart'");
    // The code form's hidden token is read from the cart page each time too.
    expect(scenario).toMatch(/csrf_token: fromPage,\s+code: promoCode,/);
    expect(byDiscovery.withLinesAndCode).toBeGreaterThan(0);
  });

  describe('promo --url, replayed in k6', () => {
    let res: Finished;
    let metrics: Record<string, { passes?: number; fails?: number; value?: number; count?: number }>;
    let after: CartsReport;

    beforeAll(async () => {
      // Carts now: those of the discover above. promo --url makes as many before its load.
      await shop.admin('DELETE', 'carts');
      res = await cli(['promo', '--url', `${shop.url}/product/1`, '--promo-code', CODE, '--vus', '2', '--duration', '3s', '--out-dir', dir]);
      metrics = JSON.parse(readFileSync(join(dir, printedTestId(res.stdout) ?? 'none', 'summary.json'), 'utf8')).metrics;
      after = await carts();
    });

    it("passes validation and every check, the captured request answering 200 with a fresh session's token each iteration", () => {
      expect(res.code, res.stdout + res.stderr).toBe(0);
      for (const step of ['product page', 'add to cart', 'cart', 'apply code']) expect(res.stdout).toMatch(new RegExp(`^ {2}✓ ${step} `, 'm'));
      // A shop given by URL is not the embedded demo: its promo is guarded by default, though discovery wrote the scenario.
      expect(res.stdout).toMatch(/^guard: The guard stops the run when the shop's errors stay above 5 % for 10 s/m);
      expect(metrics.iterations!.count).toBeGreaterThanOrEqual(4);
      expect(metrics.checks!.fails).toBe(0);
      expect(metrics.http_req_failed!.value).toBe(0);
      // The generated scenario's own result: the code's discount line seen on every visit.
      expect(metrics.promo_applied_rate).toMatchObject({ passes: metrics.iterations!.count, fails: 0 });
    });

    it("leaves in the demo's own cart store the line and the code for at least 90 % of k6's iterations", () => {
      const iterations = metrics.iterations!.count!;
      // k6 empties the cookie jar between iterations: each one is a new session, with a new
      // CSRF token that a token read once would not match (the shop answers 403 and keeps no cart).
      const withLines = after.withLines - byDiscovery.withLines;
      const withBoth = after.withLinesAndCode - byDiscovery.withLinesAndCode;
      expect(withLines).toBeGreaterThanOrEqual(Math.ceil(0.9 * iterations));
      expect(withBoth).toBeGreaterThanOrEqual(Math.ceil(0.9 * iterations));
      expect(withBoth).toBeLessThanOrEqual(iterations);
      expect(after.codes[CODE]).toBe(after.withCode);
      expect(after.evicted).toBe(0);
    });

    // Chromium's own traffic never reaches this proxy: discovery gives it a proxy of its own
    // that drops every connection (browser-capture.ts). What this proves is k6's side.
    it('sends nothing from k6 to another host', () => {
      expect(proxy.seen()).toEqual([]);
    });
  });
});
