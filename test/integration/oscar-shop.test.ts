// The real shop engine the discovery and journey tests target: django-oscar, installed from
// PyPI by npm test's setup. Checked against oscar's own markup, its SQLite database and
// gunicorn's access log, as a browser and then k6 use it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOscar, type OscarShop } from '../helpers/oscar.ts';
import { runProcess } from '../../fixtures/processes.ts';
import { waitFor } from '../helpers/stores.ts';
import { ROOT } from '../../build/bundle.ts';

const k6 = inject('k6Bin');
let shop: OscarShop;

beforeAll(async () => {
  shop = await startOscar();
});
afterAll(() => shop?.stop());

/** What a browser keeps between requests: the cookies the shop set. */
class Browser {
  private cookies = new Map<string, string>();

  async request(url: string, init: { method?: string; form?: Record<string, string>; referer?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36' };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.referer) headers.referer = init.referer;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = new URL(url).origin;
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return res;
  }
}

/** A form of the page by its id: its action and every field it would post. */
function formOf(html: string, id: string): { action: string; method: string; fields: Record<string, string> } {
  const form = html.match(new RegExp(`<form id="${id}"[^>]*>[\\s\\S]*?</form>`))?.[0];
  if (!form) throw new Error(`no form#${id} in the page`);
  const fields: Record<string, string> = {};
  for (const input of form.match(/<input[^>]*>/g) ?? []) {
    const name = input.match(/name="([^"]+)"/)?.[1];
    if (name) fields[name] = input.match(/value="([^"]*)"/)?.[1] ?? '';
  }
  return { action: form.match(/action="([^"]+)"/)![1]!, method: form.match(/method="([^"]+)"/)![1]!, fields };
}

describe('the django-oscar test shop', () => {
  it('redirects / to the French pages, like a shop with language prefixes', async () => {
    const res = await fetch(`${shop.baseUrl}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/fr/');
    expect(shop.homeUrl).toBe(`${shop.baseUrl}/fr/`);
  });

  it("serves oscar's own product page: the product, its price in euros and the add-to-basket form with its CSRF token", async () => {
    const html = await (await fetch(shop.productUrl)).text();
    expect(html).toContain(`<h1>${shop.productName}</h1>`);
    expect(html).toMatch(/<p class="price_color">2\s199,00\s€<\/p>/);
    const form = formOf(html, 'add_to_basket_form');
    expect(form.action).toMatch(/^\/fr\/basket\/add\/\d+\/$/);
    expect(form.method).toBe('post');
    expect(form.fields.csrfmiddlewaretoken).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(Object.keys(form.fields)).toContain('quantity');
  });

  it('lists the product on its category page', async () => {
    const html = await (await fetch(shop.categoryUrl)).text();
    expect(html).toContain(new URL(shop.productUrl).pathname);
    expect(html).toContain(shop.productName);
  });

  it("refuses a basket post without the page's CSRF token, and records no basket", async () => {
    const res = await new Browser().request(`${shop.baseUrl}/fr/basket/add/${shop.products[0]!.id}/`, { form: { quantity: '1' }, referer: shop.productUrl });
    expect(res.status).toBe(403);
    expect(await shop.baskets()).toEqual([]);
  });

  it("takes the add-to-basket form and then the voucher form as a browser posts them: the shop's database and access log show both", async () => {
    shop.clearAccessLog();
    const browser = new Browser();
    const product = new URL(shop.productUrl).pathname;
    const add = formOf(await (await browser.request(shop.productUrl)).text(), 'add_to_basket_form');
    const added = await browser.request(`${shop.baseUrl}${add.action}`, { form: { ...add.fields, quantity: String(shop.offer.minQuantity) }, referer: shop.productUrl });
    expect(added.status).toBe(302);

    const basketHtml = await (await browser.request(shop.basketUrl)).text();
    // The automatic offer's discount line, and the voucher form, on oscar's basket page.
    expect(basketHtml).toMatch(new RegExp(`class="basket-discount">.*${shop.offer.name}`));
    const voucher = formOf(basketHtml, 'voucher_form');
    expect(voucher.action).toBe('/fr/basket/vouchers/add/');
    const applied = await browser.request(`${shop.baseUrl}${voucher.action}`, { form: { ...voucher.fields, code: shop.voucherCode }, referer: shop.basketUrl });
    expect(applied.status).toBe(302);
    expect(new URL(applied.headers.get('location')!, shop.baseUrl).pathname).toBe('/fr/basket/');
    expect(await (await browser.request(shop.basketUrl)).text()).toContain(`${shop.voucher.name} (${shop.voucherCode})`);

    expect(await shop.baskets()).toEqual([
      { id: expect.any(Number), status: 'Open', lines: 1, quantity: shop.offer.minQuantity, vouchers: [shop.voucherCode], offers: [shop.offer.name, shop.voucher.offerName] },
    ]);
    const expected = [`GET ${product} 200`, `POST ${add.action} 302`, 'GET /fr/basket/ 200', `POST ${voucher.action} 302`, 'GET /fr/basket/ 200'];
    // Gunicorn writes a line just after the response leaves.
    await waitFor('the access log', () => shop.accessLog().length >= expected.length, 5_000, 20);
    expect(shop.accessLog()).toEqual(expected);
  });

  it("a wrong code is refused and the basket keeps no voucher", async () => {
    const browser = new Browser();
    const before = (await shop.baskets()).length;
    const add = formOf(await (await browser.request(shop.productUrl)).text(), 'add_to_basket_form');
    await browser.request(`${shop.baseUrl}${add.action}`, { form: add.fields, referer: shop.productUrl });
    const voucher = formOf(await (await browser.request(shop.basketUrl)).text(), 'voucher_form');
    await browser.request(`${shop.baseUrl}${voucher.action}`, { form: { ...voucher.fields, code: 'NOPE2026' }, referer: shop.basketUrl });
    const baskets = await shop.baskets();
    expect(baskets).toHaveLength(before + 1);
    expect(baskets.at(-1)).toMatchObject({ lines: 1, quantity: 1, vouchers: [], offers: [] });
  });

  describe('under k6, with baskets filled at once', () => {
    const iterations = 24;
    let dir: string;
    let res: Awaited<ReturnType<typeof runProcess>>;
    let lastBasketBefore: number;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pla-oscar-k6-'));
      lastBasketBefore = Math.max(0, ...(await shop.baskets()).map((b) => b.id));
      shop.clearAccessLog();
      res = await runProcess(k6, [
        'run', '-q', '--summary-export', join(dir, 'summary.json'),
        '-e', `BASE_URL=${shop.baseUrl}`, '-e', `PRODUCT_URL=${shop.productUrl}`, '-e', `CODE=${shop.voucherCode}`,
        '-e', 'VUS=6', '-e', `N=${iterations}`,
        join(ROOT, 'test', 'fixtures', 'k6', 'oscar-basket.js'),
      ], { env: { K6_NO_USAGE_REPORT: 'true' } });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('answers every request without a server error: no "database is locked"', () => {
      expect(res.code, res.stderr).toBe(0);
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { metrics: { checks: { fails: number; passes: number }; iterations: { count: number } } };
      expect(summary.metrics.iterations.count).toBe(iterations);
      expect(summary.metrics.checks).toMatchObject({ fails: 0, passes: iterations * 3 });
      expect(shop.accessLog().filter((line) => / 5\d\d$/.test(line))).toEqual([]);
      expect(shop.serverLog()).not.toMatch(/database is locked/);
    });

    it("holds one basket per k6 iteration in the shop's own database, each with the line and the code", async () => {
      const baskets = (await shop.baskets()).filter((b) => b.id > lastBasketBefore);
      expect(baskets).toHaveLength(iterations);
      for (const basket of baskets) expect(basket).toMatchObject({ lines: 1, quantity: 2, vouchers: [shop.voucherCode] });
    });
  });
});
