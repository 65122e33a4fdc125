import { describe, expect, it } from 'vitest';
import { buildDemoApp, type DemoOptions } from '../../demo/app.ts';

function shopper(options: DemoOptions = {}) {
  const app = buildDemoApp(options);
  let cookie: string | undefined;
  const send = async (method: 'GET' | 'POST', url: string, payload?: unknown, rawBody?: string) => {
    const res = await app.inject({
      method,
      url,
      headers: { ...(cookie ? { cookie } : {}), ...(rawBody !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(rawBody !== undefined ? { payload: rawBody } : payload !== undefined ? { payload: payload as object } : {}),
    });
    const setCookie = res.headers['set-cookie'];
    if (typeof setCookie === 'string') cookie = setCookie.split(';')[0];
    return res;
  };
  return { app, send, cookie: () => cookie };
}

describe('the cart API', () => {
  it('sets a cart cookie on the first add and keeps adding to that cart', async () => {
    const { send, cookie } = shopper();
    const first = await send('POST', '/api/cart/items', { productId: 2, qty: 1 });
    expect(first.headers['set-cookie']).toMatch(/^cart=[0-9a-f-]{36}; Path=\/; HttpOnly; SameSite=Lax$/);
    const second = await send('POST', '/api/cart/items', { productId: 2, qty: 2 });
    expect(second.headers['set-cookie']).toBeUndefined();
    expect(cookie()).toBeDefined();
    expect(second.json().items).toEqual([{ productId: 2, name: 'Headphones No. 2', qty: 3, unitPrice: 58, lineTotal: 174 }]);
  });

  it('applies auto_cart, 10% off, only once the subtotal reaches 100.00', async () => {
    const { send } = shopper();
    const below = await send('POST', '/api/cart/items', { productId: 1, qty: 1 });
    expect(below.json()).toMatchObject({ subtotal: 99, discounts: [], total: 99 });
    const above = await send('POST', '/api/cart/items', { productId: 1, qty: 1 });
    expect(above.statusCode).toBe(200);
    expect(above.json()).toEqual({
      items: [{ productId: 1, name: 'Sneaker No. 1', qty: 2, unitPrice: 99, lineTotal: 198 }],
      subtotal: 198,
      discounts: [{ type: 'auto_cart', name: '10% off from 100.00', amount: 19.8 }],
      total: 178.2,
    });
  });

  it('adds the manual_code 20% next to auto_cart, both taken from the subtotal', async () => {
    const { send } = shopper();
    await send('POST', '/api/cart/items', { productId: 1, qty: 2 });
    const applied = await send('POST', '/api/cart/promo-code', { code: 'blackfriday' });
    expect(applied.statusCode).toBe(200);
    expect(applied.json()).toMatchObject({
      subtotal: 198,
      discounts: [
        { type: 'auto_cart', name: '10% off from 100.00', amount: 19.8 },
        { type: 'manual_code', name: 'BLACKFRIDAY', amount: 39.6 },
      ],
      total: 138.6,
    });
    expect((await send('GET', '/api/cart')).json().total).toBe(138.6);
  });

  it('accepts the promo code it was configured with instead of BLACKFRIDAY', async () => {
    const { send } = shopper({ promoCode: 'SUMMER24' });
    await send('POST', '/api/cart/items', { productId: 4, qty: 1 });
    expect((await send('POST', '/api/cart/promo-code', { code: 'BLACKFRIDAY' })).statusCode).toBe(422);
    const applied = await send('POST', '/api/cart/promo-code', { code: 'SUMMER24' });
    expect(applied.json().discounts).toEqual([{ type: 'manual_code', name: 'SUMMER24', amount: 19.2 }]);
  });

  it('refuses a wrong promo code with 422', async () => {
    const { send } = shopper();
    const refused = await send('POST', '/api/cart/promo-code', { code: 'CYBERMONDAY' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toEqual({ code: 'DEMO_ERR_BAD_PROMO_CODE', message: 'This promo code does not exist or has expired.' });
  });

  it('answers malformed or empty JSON with 400 and a JSON error, never 5xx', async () => {
    const { send } = shopper();
    for (const rawBody of ['{"productId": 1,', '', '{"__proto__": {"x": 1}}']) {
      const refused = await send('POST', '/api/cart/items', undefined, rawBody);
      expect(refused.statusCode, rawBody).toBe(400);
      expect(refused.json()).toEqual({ code: 'DEMO_ERR_BAD_JSON', message: 'The request body is not valid JSON.' });
    }
  });

  it('answers well-formed but invalid bodies with 400 naming the problem', async () => {
    const { send } = shopper();
    const cases: Array<[unknown, string]> = [
      [[1, 2], 'The request body must be a JSON object.'],
      [{ productId: 1, qty: 1, price: 0 }, 'Unknown field "price"; allowed fields are productId, qty.'],
      [{ productId: 1 }, 'Field "qty" is required.'],
      [{ productId: 1, qty: 0 }, 'Field "qty" must be an integer from 1 to 99.'],
      [{ productId: '1', qty: 1 }, 'Field "productId" must be an integer.'],
    ];
    for (const [payload, message] of cases) {
      const refused = await send('POST', '/api/cart/items', payload);
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual({ code: 'DEMO_ERR_INVALID_BODY', message });
    }
  });

  it('answers 404 when adding a product that does not exist', async () => {
    const { send } = shopper();
    const refused = await send('POST', '/api/cart/items', { productId: 51, qty: 1 });
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toEqual({ code: 'DEMO_ERR_PRODUCT_NOT_FOUND', message: 'Product 51 does not exist.' });
  });

  it('shows an empty cart without creating one when there is no cookie', async () => {
    const { send } = shopper();
    const cart = await send('GET', '/api/cart');
    expect(cart.json()).toEqual({ items: [], subtotal: 0, discounts: [], total: 0 });
    expect(cart.headers['set-cookie']).toBeUndefined();
  });

  it('forgets the least recently used cart once maxCarts carts exist', async () => {
    const options = { maxCarts: 2 };
    const app = buildDemoApp(options);
    const newCart = async () => {
      const res = await app.inject({ method: 'POST', url: '/api/cart/items', payload: { productId: 2, qty: 1 } });
      return String(res.headers['set-cookie']).split(';')[0];
    };
    const oldest = await newCart();
    await newCart();
    await newCart();
    expect(app.demo.carts.size).toBe(2);
    const forgotten = await app.inject({ method: 'GET', url: '/api/cart', headers: { cookie: oldest } });
    expect(forgotten.json().items).toEqual([]);
  });
});
