import { describe, expect, it } from 'vitest';
import { buildDemoApp, type DemoOptions } from '../../demo/app.ts';
import { visitor } from './visitor.ts';

/** A visitor who has opened the product page, as the page's script runs there. */
async function onProductPage(options: DemoOptions = {}) {
  const app = buildDemoApp(options);
  const shopper = visitor(app);
  await shopper.get('/product/1');
  return { app, shopper };
}

describe('the JSON cart API', () => {
  it("adds to the session's cart with the token from the csrf_token cookie, and keeps adding to that cart", async () => {
    const { app, shopper } = await onProductPage();
    const first = await shopper.postJson('/api/cart/items', { productId: 2, qty: 1 });
    expect(first.statusCode).toBe(200);
    expect(first.headers['set-cookie']).toBeUndefined();
    expect(first.headers['cache-control']).toBe('private, no-store');
    const second = await shopper.postJson('/api/cart/items', { productId: 2, qty: 2 });
    expect(second.json().items).toEqual([{ productId: 2, name: 'Headphones No. 2', qty: 3, unitPrice: 58, lineTotal: 174 }]);
    expect(app.demo.carts.size).toBe(1);
    expect((await shopper.get('/api/cart')).json().items).toEqual(second.json().items);
  });

  it('applies auto_cart, 10% off, only once the subtotal reaches 100.00', async () => {
    const { shopper } = await onProductPage();
    const below = await shopper.postJson('/api/cart/items', { productId: 1, qty: 1 });
    expect(below.json()).toMatchObject({ subtotal: 99, discounts: [], total: 99 });
    const above = await shopper.postJson('/api/cart/items', { productId: 1, qty: 1 });
    expect(above.statusCode).toBe(200);
    expect(above.json()).toEqual({
      items: [{ productId: 1, name: 'Sneaker No. 1', qty: 2, unitPrice: 99, lineTotal: 198 }],
      subtotal: 198,
      discounts: [{ type: 'auto_cart', name: '10% off from 100.00', amount: 19.8 }],
      total: 178.2,
    });
  });

  it('adds the manual_code 20% next to auto_cart, both taken from the subtotal', async () => {
    const { shopper } = await onProductPage();
    await shopper.postJson('/api/cart/items', { productId: 1, qty: 2 });
    const applied = await shopper.postJson('/api/cart/promo-code', { code: 'blackfriday' });
    expect(applied.statusCode).toBe(200);
    expect(applied.json()).toMatchObject({
      subtotal: 198,
      discounts: [
        { type: 'auto_cart', name: '10% off from 100.00', amount: 19.8 },
        { type: 'manual_code', name: 'BLACKFRIDAY', amount: 39.6 },
      ],
      total: 138.6,
    });
    expect((await shopper.get('/api/cart')).json().total).toBe(138.6);
  });

  it('accepts the promo code it was configured with instead of BLACKFRIDAY', async () => {
    const { shopper } = await onProductPage({ promoCode: 'SUMMER24' });
    await shopper.postJson('/api/cart/items', { productId: 4, qty: 1 });
    expect((await shopper.postJson('/api/cart/promo-code', { code: 'BLACKFRIDAY' })).statusCode).toBe(422);
    const applied = await shopper.postJson('/api/cart/promo-code', { code: 'SUMMER24' });
    expect(applied.json().discounts).toEqual([{ type: 'manual_code', name: 'SUMMER24', amount: 19.2 }]);
  });

  it('refuses a wrong promo code with 422', async () => {
    const { shopper } = await onProductPage();
    const refused = await shopper.postJson('/api/cart/promo-code', { code: 'CYBERMONDAY' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toEqual({ code: 'DEMO_ERR_BAD_PROMO_CODE', message: 'This promo code does not exist or has expired.' });
  });

  it('answers malformed or empty JSON with 400 and a JSON error, never 5xx', async () => {
    const { shopper } = await onProductPage();
    for (const rawBody of ['{"productId": 1,', '', '{"__proto__": {"x": 1}}']) {
      const refused = await shopper.request({
        method: 'POST',
        url: '/api/cart/items',
        payload: rawBody,
        headers: { 'content-type': 'application/json', 'x-csrf-token': shopper.cookie('csrf_token')! },
      });
      expect(refused.statusCode, rawBody).toBe(400);
      expect(refused.json()).toEqual({ code: 'DEMO_ERR_BAD_JSON', message: 'The request body is not valid JSON.' });
    }
  });

  it('answers well-formed but invalid bodies with 400 naming the problem', async () => {
    const { shopper } = await onProductPage();
    const cases: Array<[unknown, string]> = [
      [[1, 2], 'The request body must be a JSON object.'],
      [{ productId: 1, qty: 1, price: 0 }, 'Unknown field "price"; allowed fields are productId, qty.'],
      [{ productId: 1 }, 'Field "qty" is required.'],
      [{ productId: 1, qty: 0 }, 'Field "qty" must be an integer from 1 to 99.'],
      [{ productId: '1', qty: 1 }, 'Field "productId" must be an integer.'],
    ];
    for (const [payload, message] of cases) {
      const refused = await shopper.postJson('/api/cart/items', payload);
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual({ code: 'DEMO_ERR_INVALID_BODY', message });
    }
  });

  it('answers 404 when adding a product that does not exist', async () => {
    const { shopper } = await onProductPage();
    const refused = await shopper.postJson('/api/cart/items', { productId: 51, qty: 1 });
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toEqual({ code: 'DEMO_ERR_PRODUCT_NOT_FOUND', message: 'Product 51 does not exist.' });
  });

  it('shows an empty cart to a first visit, starting a session but creating no cart', async () => {
    const app = buildDemoApp();
    const cart = await visitor(app).get('/api/cart');
    expect(cart.json()).toEqual({ items: [], subtotal: 0, discounts: [], total: 0 });
    expect(String(cart.headers['set-cookie'])).toMatch(/^shop_session=/);
    expect(app.demo.carts.size).toBe(0);
  });

  it('forgets the least recently used cart once maxCarts carts exist', async () => {
    const app = buildDemoApp({ maxCarts: 2 });
    const shoppers = [visitor(app), visitor(app), visitor(app)];
    for (const shopper of shoppers) {
      await shopper.get('/product/2');
      await shopper.postJson('/api/cart/items', { productId: 2, qty: 1 });
    }
    expect(app.demo.carts.size).toBe(2);
    expect((await shoppers[0].get('/api/cart')).json().items).toEqual([]);
    expect((await shoppers[2].get('/api/cart')).json().items).toHaveLength(1);
  });
});

describe("the JSON cart API's CSRF protection", () => {
  const refusal = (message: string) => ({ code: 'DEMO_ERR_CSRF', message });

  it('refuses a write without the X-CSRF-Token header with 403, saying what to send, and changes nothing', async () => {
    const { app, shopper } = await onProductPage();
    for (const headers of [{ 'x-csrf-token': '' }, {}] as Array<Record<string, string>>) {
      const refused = await shopper.request({ method: 'POST', url: '/api/cart/items', payload: { productId: 1, qty: 1 }, headers });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toEqual(refusal('The X-CSRF-Token header is missing: send the value of the csrf_token cookie in it.'));
    }
    expect(app.demo.carts.size).toBe(0);
  });

  it("refuses another session's token, or a forged one, with 403", async () => {
    const { app, shopper } = await onProductPage();
    const other = visitor(app);
    await other.get('/');
    const own = shopper.cookie('csrf_token')!;
    const forged = own.slice(0, -1) + (own.endsWith('A') ? 'B' : 'A');
    for (const token of [other.cookie('csrf_token')!, forged, 'x']) {
      for (const [url, payload] of [['/api/cart/items', { productId: 1, qty: 1 }], ['/api/cart/promo-code', { code: 'BLACKFRIDAY' }]] as const) {
        const refused = await shopper.postJson(url, payload, { 'x-csrf-token': token });
        expect(refused.statusCode, `${url} ${token}`).toBe(403);
        expect(refused.json()).toEqual(refusal("The X-CSRF-Token header does not match this session's CSRF token: reload the page and try again."));
      }
    }
    expect(app.demo.carts.size).toBe(0);
  });

  it('refuses a write from a client that has no session yet', async () => {
    const app = buildDemoApp();
    const refused = await app.inject({ method: 'POST', url: '/api/cart/items', payload: { productId: 1, qty: 1 }, headers: { 'x-csrf-token': 'anything' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual(refusal('This request has no shop session: load the page first, then send its CSRF token back.'));
    expect(app.demo.carts.size).toBe(0);
  });
});
