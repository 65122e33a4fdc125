import { describe, expect, it } from 'vitest';
import { buildDemoApp } from '../../demo/app.ts';
import { visitor } from './visitor.ts';

async function withLines(lines: Array<{ productId: number; qty: number }>) {
  const app = buildDemoApp();
  const shopper = visitor(app);
  await shopper.get('/product/1');
  for (const line of lines) expect((await shopper.postJson('/api/cart/items', line)).statusCode).toBe(200);
  return { app, shopper };
}

/** The rows of the cart page's table as text: "name | price | qty | total" and "label | amount". */
function rows(html: string): string[] {
  return [...html.matchAll(/<tr class="(cart-line|cart-subtotal|cart-discount|cart-total)"[^>]*>(.*?)<\/tr>/g)].map((row) =>
    [...row[2].matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((cell) => cell[1].replace(/<[^>]+>/g, '')).join(' | '),
  );
}

const notices = (html: string): string[] => [...html.matchAll(/<p class="notice[^"]*"[^>]*>(.*?)<\/p>/g)].map((match) => match[1]);

describe('the cart page', () => {
  it("shows the session's lines, the subtotal and the total, without a discount below the automatic rule's threshold", async () => {
    const { shopper } = await withLines([{ productId: 2, qty: 1 }]);
    const page = await shopper.get('/cart');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(rows(page.body)).toEqual(['Headphones No. 2 | €58.00 | 1 | €58.00', 'Subtotal | €58.00', 'Total | €58.00']);
  });

  it('shows the automatic discount line once the cart reaches 100.00, with the amount the JSON API computes', async () => {
    const { shopper } = await withLines([{ productId: 1, qty: 1 }, { productId: 2, qty: 1 }]);
    const api = (await shopper.get('/api/cart')).json();
    expect(api.discounts).toEqual([{ type: 'auto_cart', name: '10% off from 100.00', amount: 15.7 }]);
    expect(rows((await shopper.get('/cart')).body)).toEqual([
      'Sneaker No. 1 | €99.00 | 1 | €99.00',
      'Headphones No. 2 | €58.00 | 1 | €58.00',
      'Subtotal | €157.00',
      'Automatic discount: −10 % from €100.00 | −€15.70',
      'Total | €141.30',
    ]);
  });

  it('is private to its session: never cached, X-Cache BYPASS, and a new session sees its own empty cart', async () => {
    const { app, shopper } = await withLines([{ productId: 1, qty: 2 }]);
    const mine = await shopper.get('/cart');
    expect(mine.headers['cache-control']).toBe('private, no-store');
    expect(mine.headers['x-cache']).toBe('BYPASS');
    expect(mine.headers.etag).toBeUndefined();

    const newcomer = visitor(app);
    const theirs = await newcomer.get('/cart');
    expect(newcomer.cookie('shop_session')).not.toBe(shopper.cookie('shop_session'));
    expect(theirs.body).toContain('<p class="cart-empty">Your cart is empty.</p>');
    expect(rows(theirs.body)).toEqual([]);
    await newcomer.postJson('/api/cart/items', { productId: 4, qty: 1 });
    expect(rows((await newcomer.get('/cart')).body)[0]).toBe('Pan No. 4 | €96.00 | 1 | €96.00');
    expect(rows((await shopper.get('/cart')).body)[0]).toBe('Sneaker No. 1 | €99.00 | 2 | €198.00');
    expect(app.demo.carts.size).toBe(2);
  });
});

describe("the cart page's code form", () => {
  it('is a plain POST form to /cart/code with a hidden CSRF field holding the csrf_token cookie of the session', async () => {
    const { shopper } = await withLines([]);
    const page = (await shopper.get('/cart')).body;
    const form = /<form class="promo-code-form" method="post" action="\/cart\/code">([\s\S]*?)<\/form>/.exec(page)?.[1] ?? '';
    expect(form).toContain(`<input type="hidden" name="csrf_token" value="${shopper.cookie('csrf_token')}">`);
    expect(form).toContain('name="code"');
  });

  it("applies an accepted code and redirects back to the cart (303), which then shows the code's discount line and says so once", async () => {
    const { app, shopper } = await withLines([{ productId: 1, qty: 2 }]);
    const sent = await shopper.sendCodeForm(' blackFriday ');
    expect(sent.statusCode).toBe(303);
    expect(sent.headers.location).toBe('/cart');
    expect(sent.body).toBe('');

    const page = (await shopper.get('/cart')).body;
    expect(notices(page)).toEqual(['The code BLACKFRIDAY is applied: −20 %.']);
    expect(rows(page)).toEqual([
      'Sneaker No. 1 | €99.00 | 2 | €198.00',
      'Subtotal | €198.00',
      'Automatic discount: −10 % from €100.00 | −€19.80',
      'Code BLACKFRIDAY: −20 % | −€39.60',
      'Total | €138.60',
    ]);
    expect((await shopper.get('/api/cart')).json().total).toBe(138.6);
    // The notice is a flash: shown once, then gone; the discount line stays.
    const again = (await shopper.get('/cart')).body;
    expect(notices(again)).toEqual([]);
    expect(rows(again)).toContain('Code BLACKFRIDAY: −20 % | −€39.60');
    expect((await app.inject('/__admin/carts')).json()).toMatchObject({ withLinesAndCode: 1, codes: { BLACKFRIDAY: 1 } });
  });

  it('shows an error message and no code line when the code is refused, and asks for one when it is empty', async () => {
    const { app, shopper } = await withLines([{ productId: 1, qty: 2 }]);
    for (const [code, message] of [['CYBERMONDAY', 'This promo code does not exist or has expired.'], ['   ', 'Enter a promo code.'], ['X'.repeat(65), 'This promo code does not exist or has expired.']]) {
      const sent = await shopper.sendCodeForm(code);
      expect(sent.statusCode).toBe(303);
      const page = (await shopper.get('/cart')).body;
      expect(notices(page)).toEqual([message]);
      expect(rows(page).some((row) => row.startsWith('Code '))).toBe(false);
    }
    expect((await app.inject('/__admin/carts')).json()).toMatchObject({ withLines: 1, withCode: 0 });
  });

  it('refuses the form without its CSRF field, with a wrong token or without a session: 403 with a clear message, the cart unchanged', async () => {
    const { app, shopper } = await withLines([{ productId: 1, qty: 2 }]);
    const cases: Array<[string | null, string]> = [
      [null, "The form's csrf_token field is missing: reload the cart page and send the form again."],
      ['not-the-token', "The form's csrf_token field does not match this session's CSRF token: reload the cart page and try again."],
      [shopper.cookie('csrf_token')!.toUpperCase(), "The form's csrf_token field does not match this session's CSRF token: reload the cart page and try again."],
    ];
    for (const [token, message] of cases) {
      const refused = await shopper.sendCodeForm('BLACKFRIDAY', { token });
      expect(refused.statusCode, String(token)).toBe(403);
      expect(refused.json()).toEqual({ code: 'DEMO_ERR_CSRF', message });
    }
    const anonymous = await app.inject({
      method: 'POST',
      url: '/cart/code',
      payload: `csrf_token=${shopper.cookie('csrf_token')}&code=BLACKFRIDAY`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(anonymous.statusCode).toBe(403);
    expect(anonymous.json()).toEqual({ code: 'DEMO_ERR_CSRF', message: 'This request has no shop session: load the cart page first, then send its CSRF token back.' });
    expect((await app.inject('/__admin/carts')).json()).toMatchObject({ carts: 1, withCode: 0 });
  });

  it('answers a browser refused for its CSRF token with an HTML page carrying the same message', async () => {
    const { shopper } = await withLines([]);
    const refused = await shopper.sendCodeForm('BLACKFRIDAY', { token: 'stale', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(refused.body).toContain(
      '<p class="error-message" data-error-code="DEMO_ERR_CSRF">The form&#39;s csrf_token field does not match this session&#39;s CSRF token: reload the cart page and try again.</p>',
    );
  });
});
