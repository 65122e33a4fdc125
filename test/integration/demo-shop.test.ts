// The demo shop as a browser and k6 use it: the product page's own script adds to the
// cart in a real Chromium, the cart page's form applies a code, and a k6 journey with a
// cookie jar leaves in the shop's own cart store exactly one cart per iteration.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { CHROMIUM_ARGS } from '../helpers/browser.ts';
import { startDemo } from '../helpers/demo.ts';
import { runProcess } from '../../fixtures/processes.ts';
import type { CartsReport } from '../../demo/app.ts';

const k6 = inject('k6Bin');
let shop: Awaited<ReturnType<typeof startDemo>>;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pla-demo-shop-'));
  shop = await startDemo();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
  await shop?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await shop.admin('DELETE', 'carts');
});

const carts = (): Promise<CartsReport> => shop.admin('GET', 'carts');

/** A browser session that records every request its pages send and every script error. */
async function session(): Promise<{ context: BrowserContext; posts: Request[]; problems: string[] }> {
  const context = await browser.newContext();
  const posts: Request[] = [];
  const problems: string[] = [];
  context.on('request', (request) => {
    if (request.method() === 'POST') posts.push(request);
  });
  context.on('weberror', (error) => problems.push(error.error().message));
  return { context, posts, problems };
}

/** Opens the product page and clicks its add-to-cart button, as a shopper does; resolves with the cart API's answer. */
async function addFromProductPage(page: Page, productId: number, quantity?: number) {
  await page.goto(`${shop.url}/product/${productId}`);
  if (quantity !== undefined) await page.fill('#quantity', String(quantity));
  const answered = page.waitForResponse((response) => response.url().endsWith('/api/cart/items'));
  await page.click('button.add-to-cart');
  return answered;
}

describe('the demo shop in Chromium', () => {
  it("adds to the cart through the page's script: a JSON POST with the session's CSRF header, and the line lands in the shop's cart store", async () => {
    const { context, posts, problems } = await session();
    try {
      const page = await context.newPage();
      expect((await addFromProductPage(page, 1, 2)).status()).toBe(200);
      await expect.poll(() => page.textContent('.product__status')).toBe('Added to your cart: 2 items, total €178.20.');
      expect(await page.textContent('[data-cart-count]')).toBe('(2)');

      expect(posts).toHaveLength(1);
      const csrfCookie = (await context.cookies()).find((cookie) => cookie.name === 'csrf_token')!.value;
      expect(posts[0].url()).toBe(`${shop.url}/api/cart/items`);
      expect(posts[0].postDataJSON()).toEqual({ productId: 1, qty: 2 });
      expect(await posts[0].allHeaders()).toMatchObject({ 'content-type': 'application/json', 'x-csrf-token': csrfCookie });
      expect(await carts()).toEqual({ carts: 1, withLines: 1, withCode: 0, withLinesAndCode: 0, codes: {}, lines: 1, units: 2, evicted: 0 });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("applies a code with the cart page's form: a refused code shows its message, an accepted one its discount line, after a redirect back to the cart", async () => {
    const { context, posts, problems } = await session();
    try {
      const page = await context.newPage();
      await addFromProductPage(page, 1, 2);
      await page.click('a.cart-link');
      await page.waitForURL(`${shop.url}/cart`);
      expect(await page.textContent('tr[data-discount-type="auto_cart"]')).toBe('Automatic discount: −10 % from €100.00−€19.80');

      await page.fill('#promo-code', 'CYBERMONDAY');
      await Promise.all([page.waitForURL(`${shop.url}/cart`, { waitUntil: 'load' }), page.click('.promo-code-form button')]);
      expect(await page.textContent('.notice')).toBe('This promo code does not exist or has expired.');
      expect(await page.locator('tr[data-discount-type="manual_code"]').count()).toBe(0);

      await page.fill('#promo-code', 'BLACKFRIDAY');
      const redirected = page.waitForResponse((response) => response.url().endsWith('/cart/code'));
      await page.click('.promo-code-form button');
      expect((await redirected).status()).toBe(303);
      await page.waitForSelector('tr[data-discount-type="manual_code"]');
      expect(page.url()).toBe(`${shop.url}/cart`);
      expect(await page.textContent('tr[data-discount-type="manual_code"]')).toBe('Code BLACKFRIDAY: −20 %−€39.60');
      expect(await page.textContent('.notice')).toBe('The code BLACKFRIDAY is applied: −20 %.');
      expect(await page.textContent('tr.cart-total')).toBe('Total€138.60');

      const formPost = posts.find((request) => request.url().endsWith('/cart/code'))!;
      expect(await formPost.allHeaders()).toMatchObject({ 'content-type': 'application/x-www-form-urlencoded' });
      expect(new URLSearchParams(formPost.postData() ?? '').get('csrf_token')).toBe((await context.cookies()).find((cookie) => cookie.name === 'csrf_token')!.value);
      expect(await carts()).toMatchObject({ carts: 1, withLinesAndCode: 1, codes: { BLACKFRIDAY: 1 } });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('gives a new browser session its own cart', async () => {
    const first = await session();
    const second = await session();
    try {
      for (const [{ context }, productId] of [[first, 1], [second, 2]] as const) {
        const page = await context.newPage();
        await addFromProductPage(page, productId);
        await page.goto(`${shop.url}/cart`);
        expect(await page.locator('tr.cart-line').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-product-id')))).toEqual([String(productId)]);
      }
      expect(await carts()).toMatchObject({ carts: 2, withLines: 2, units: 2 });
    } finally {
      await first.context.close();
      await second.context.close();
    }
  });
});

// A journey as a generated scenario would replay it: no browser, tokens read from each response.
const JOURNEY = `
import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = { vus: 2, duration: '3s' };
const base = __ENV.BASE_URL;

export default function () {
  http.get(base + '/product/1');
  const token = http.cookieJar().cookiesForURL(base + '/').csrf_token[0];
  const added = http.post(base + '/api/cart/items', JSON.stringify({ productId: 1, qty: 2 }), {
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token },
  });
  check(added, { 'the line is added': (r) => r.status === 200 });
  const cart = http.get(base + '/cart');
  const hidden = /name="csrf_token" value="([^"]+)"/.exec(cart.body)[1];
  const applied = http.post(base + '/cart/code', { csrf_token: hidden, code: 'BLACKFRIDAY' });
  check(applied, { 'the code line shows': (r) => r.status === 200 && r.body.includes('Code BLACKFRIDAY: −20 %') });
  sleep(0.02);
}
`;

describe('the demo shop under k6', () => {
  it("keeps one cart with the line and the code per iteration of a k6 journey that takes its tokens from each response", async () => {
    const script = join(dir, 'journey.js');
    const summary = join(dir, 'summary.json');
    writeFileSync(script, JOURNEY);
    const res = await runProcess(k6, ['run', '-q', '-e', `BASE_URL=${shop.url}`, '--summary-export', summary, script], { env: { K6_NO_USAGE_REPORT: 'true' } });
    expect(res.code, res.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(summary, 'utf8')).metrics;
    const iterations = metrics.iterations.count as number;
    expect(iterations).toBeGreaterThan(10);
    expect(metrics.checks.fails).toBe(0);
    // k6 empties each VU's cookie jar between iterations: every iteration is a new session, so a new cart.
    expect(await carts()).toEqual({
      carts: iterations,
      withLines: iterations,
      withCode: iterations,
      withLinesAndCode: iterations,
      codes: { BLACKFRIDAY: iterations },
      lines: iterations,
      units: 2 * iterations,
      evicted: 0,
    });
  });
});
