// Discovery against a real shop engine: django-oscar with its own templates (no JSON-LD, no
// OpenGraph: its markers and forms only), then `promo --url` on its product page. The
// oracles are the shop's own: its SQLite database (baskets, lines, vouchers), gunicorn's
// access log (who asked for what, in order) and a recording proxy that any request to
// another host (oscar's CDN jQuery, its analytics tag) would reach.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOscar, type OscarBasket, type OscarShop } from '../helpers/oscar.ts';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.ts';
import { runCli, runProcess, printedTestId, type Finished } from '../../fixtures/processes.ts';
import { BROWSER_USER_AGENT } from '../../cli/discover/browser-fetch.ts';

const k6 = inject('k6Bin');
let shop: OscarShop;
let proxy: RecordingProxy;
let dir: string;

beforeAll(async () => {
  [shop, proxy] = await Promise.all([startOscar(), startRecordingProxy()]);
  dir = mkdtempSync(join(tmpdir(), 'pla-discover-oscar-'));
});
afterAll(async () => {
  await Promise.all([shop?.stop(), proxy?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI with the shop's traffic direct (loopback) and anything else sent to the recording proxy. */
const cli = (args: string[]): Promise<Finished> => runCli(args, k6, { K6_NO_USAGE_REPORT: 'true', ...proxy.env });

/** "  start       product   /fr/…": the page type discovery printed for the URL it was given. */
const startKind = (stdout: string): string | undefined => /^ {2}start +(\S+) /m.exec(stdout)?.[1];

const withLinesAndCode = (baskets: OscarBasket[], code: string) => baskets.filter((b) => b.lines > 0 && b.vouchers.includes(code));

describe('the recording proxy', () => {
  it('receives what k6 sends to another host, so that an empty record means none was sent', async () => {
    const script = join(dir, 'third-party.js');
    writeFileSync(script, `import http from 'k6/http';\nexport const options = { iterations: 1 };\nexport default function () { http.get('http://www.googletagmanager.com/gtag/js'); }\n`);
    const own = await startRecordingProxy();
    try {
      const res = await runProcess(k6, ['run', '-q', script], { env: { K6_NO_USAGE_REPORT: 'true', ...own.env } });
      expect(res.code, res.stderr).toBe(0);
      expect(own.seen()).toEqual(['GET http://www.googletagmanager.com/gtag/js']);
    } finally {
      await own.close();
    }
  });
});

describe('discover on django-oscar', () => {
  let before: OscarBasket[];
  let product: Finished;
  let after: OscarBasket[];

  beforeAll(async () => {
    before = await shop.baskets();
    product = await cli(['discover', shop.productUrl, '--promo-code', shop.voucherCode, '--out', join(dir, 'product.ts')]);
    after = await shop.baskets();
  });

  it.each([
    { what: 'homepage', url: () => shop.homeUrl, kind: 'homepage' },
    { what: 'category', url: () => shop.categoryUrl, kind: 'category' },
  ])("gives oscar's $what its page type, with the evidence, and finds the product and its automatic offer from there", async ({ what, url, kind }) => {
    const res = await cli(['discover', url(), '--out', join(dir, `${what}.ts`)]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(startKind(res.stdout)).toBe(kind);
    expect(res.stdout).toMatch(/platform django-oscar \(/);
    expect(res.stdout).toContain(`  product     product   ${new URL(shop.productUrl).pathname}`);
    expect(res.stdout).toContain(`automatic cart discount: "${shop.offer.name}" appears with ${shop.offer.minQuantity} items`);
  });

  it("gives oscar's product page its page type, finds its add-to-basket form with the CSRF token read each time, and the voucher accepted", () => {
    expect(product.code, product.stdout + product.stderr).toBe(0);
    expect(startKind(product.stdout)).toBe('product');
    expect(product.stdout).toMatch(/an add-to-cart form \(action \/fr\/basket\/add\/\d+\/;/);
    expect(product.stdout).toContain('fields csrfmiddlewaretoken (read from the page each time), quantity=1');
    expect(product.stdout).toContain(`  promo       manual_code ${shop.productName}: −15 % with the code ${shop.voucherCode}`);
    expect(product.stdout).toContain(`code ${shop.voucherCode}: accepted`);
    expect(product.stdout).not.toMatch(/✗/);
    const scenario = readFileSync(join(dir, 'product.ts'), 'utf8');
    expect(scenario).toContain("form: 'id=\"add_to_basket_form\"'");
    expect(scenario).toContain('csrfmiddlewaretoken: fromPage');
    expect(scenario).toContain(`'the code is accepted': '${shop.voucher.name} (${shop.voucherCode})'`);
    // Discovery and its validation run made their own baskets, the validation's with the code.
    expect(withLinesAndCode(after, shop.voucherCode).length).toBeGreaterThan(withLinesAndCode(before, shop.voucherCode).length);
  });

  describe('promo --url on the product page with the voucher', () => {
    const VUS = 3;
    let res: Finished;
    let summary: { metrics: Record<string, { passes?: number; fails?: number; value?: number; count?: number }> };
    let baskets: OscarBasket[];

    beforeAll(async () => {
      // After the discover above (the same discovery and validation promo --url runs first).
      shop.clearAccessLog();
      res = await cli(['promo', '--url', shop.productUrl, '--promo-code', shop.voucherCode, '--vus', String(VUS), '--duration', '5s', '--out-dir', dir]);
      const testid = printedTestId(res.stdout) ?? 'none';
      summary = JSON.parse(readFileSync(join(dir, testid, 'summary.json'), 'utf8'));
      baskets = await shop.baskets();
    });

    it("passes validation, then runs with checks ≥ 99 % and errors ≤ 1 % in k6's own summary", () => {
      expect(res.code, res.stdout + res.stderr).toBe(0);
      for (const step of ['homepage', 'category', 'product page', 'add to cart', 'cart', 'apply code']) expect(res.stdout).toMatch(new RegExp(`^ {2}✓ ${step} `, 'm'));
      const { checks, http_req_failed: failed, iterations } = summary.metrics;
      expect(iterations!.count).toBeGreaterThanOrEqual(VUS);
      expect(checks!.passes! / (checks!.passes! + checks!.fails!)).toBeGreaterThanOrEqual(0.99);
      expect(failed!.value).toBeLessThanOrEqual(0.01);
    });

    it("leaves in the shop's own database a basket with the line and the voucher for at least 90 % of k6's iterations", () => {
      const iterations = summary.metrics.iterations!.count!;
      // Each k6 iteration is a new session, so at most one new basket; discovery and the
      // validation run made as many baskets with the code as the discover run above did.
      const made = withLinesAndCode(baskets, shop.voucherCode).length - withLinesAndCode(after, shop.voucherCode).length;
      const beforeLoad = withLinesAndCode(after, shop.voucherCode).length - withLinesAndCode(before, shop.voucherCode).length;
      const byLoad = made - beforeLoad;
      expect(byLoad).toBeGreaterThanOrEqual(Math.ceil(0.9 * iterations));
      expect(byLoad).toBeLessThanOrEqual(iterations);
      for (const b of withLinesAndCode(baskets, shop.voucherCode).slice(-byLoad)) expect(b).toMatchObject({ lines: 1, quantity: shop.offer.minQuantity, vouchers: [shop.voucherCode], offers: [shop.offer.name, shop.voucher.offerName] });
    });

    it("sends nothing to another host and no asset, and discovery's requests (a browser's) all come before k6's", () => {
      expect(proxy.seen()).toEqual([]);
      const entries = shop.accessEntries();
      expect(entries.filter((e) => /^\S+ \/(static|media)\//.test(e.line))).toEqual([]);
      const agents = entries.map((e) => (e.agent === BROWSER_USER_AGENT ? 'discovery' : /\bk6\/\d/.test(e.agent) ? 'k6' : e.agent));
      const firstK6 = agents.indexOf('k6');
      expect(firstK6).toBeGreaterThan(0);
      expect(agents.slice(0, firstK6).every((a) => a === 'discovery')).toBe(true);
      expect(agents.slice(firstK6).every((a) => a === 'k6')).toBe(true);
    });
  });
  describe('ramp --url on the product page: the pages only, no cart', () => {
    let res: Finished;
    let beforeRamp: OscarBasket[];
    let afterRamp: OscarBasket[];

    beforeAll(async () => {
      beforeRamp = await shop.baskets();
      res = await cli(['ramp', '--url', shop.productUrl, '--promo-code', shop.voucherCode, '--vus', '4', '--duration', '8s', '--out-dir', dir]);
      afterRamp = await shop.baskets();
    });

    it('runs the bundled ramp on the discovered product page, validated first, and fills no basket in the shop\'s database', () => {
      expect(res.code, res.stdout + res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^ {2}✓ product +GET \/fr\/catalogue\/\S+ 200/m);
      expect(afterRamp.filter((b) => b.lines > 0).length).toBe(beforeRamp.filter((b) => b.lines > 0).length);
    });

    it('says the cart was not looked at, not that the shop has no promo (it has an offer and a voucher)', () => {
      expect(res.stdout).toContain(`  promo       none      ${shop.productName}: no struck-through price on the product page; this scenario visits no cart, so a cart discount or a code was not looked for (promo --url looks there)`);
      expect(res.stdout).not.toMatch(/no promo found/);
    });

    it('claims no limit and no break at 4 users, which the shop serves at their pace', () => {
      expect(res.stdout).not.toMatch(/tops out at|broke at/);
      expect(res.stdout).toMatch(/^ {2}No limit (found|measured) up to [\d.]+ req\/s at 4 users/m);
    });
  });
});
