import { describe, expect, it } from 'vitest';
import { buildDemoApp } from '../../demo/app.ts';
import { visitor } from './visitor.ts';

describe('the session', () => {
  it("starts on the first visit: an HttpOnly SameSite=Lax session cookie, and a CSRF cookie the page's script can read", async () => {
    const app = buildDemoApp();
    const first = await app.inject('/');
    const cookies = first.headers['set-cookie'] as string[];
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(/^shop_session=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(cookies[1]).toMatch(/^csrf_token=[A-Za-z0-9_-]{43}; Path=\/; SameSite=Lax$/);
  });

  it('is kept on later visits, which get no new cookies', async () => {
    const shopper = visitor(buildDemoApp());
    await shopper.get('/');
    const session = shopper.cookie('shop_session');
    for (const url of ['/category/books', '/product/3', '/cart', '/api/cart']) {
      expect((await shopper.get(url)).headers['set-cookie'], url).toBeUndefined();
    }
    expect(shopper.cookie('shop_session')).toBe(session);
  });

  it('starts again when the session cookie is malformed, and gives every session its own token', async () => {
    const app = buildDemoApp();
    const res = await app.inject({ url: '/', headers: { cookie: 'shop_session=../../admin; csrf_token=abc' } });
    expect(String(res.headers['set-cookie'])).toMatch(/^shop_session=[0-9a-f-]{36};/);
    const tokens = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const shopper = visitor(app);
      await shopper.get('/');
      tokens.add(shopper.cookie('csrf_token')!);
    }
    expect(tokens.size).toBe(5);
  });

  it("serves one cached catalogue page to every session, each first visit with its own cookies: the page holds nothing of the session", async () => {
    const app = buildDemoApp();
    const first = await app.inject('/product/1');
    const second = await app.inject('/product/1');
    expect([first.headers['x-cache'], second.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(second.body).toBe(first.body);
    expect(second.headers['cache-control']).toBe('public, max-age=60, stale-while-revalidate=30');
    expect(second.headers['set-cookie']).not.toEqual(first.headers['set-cookie']);
    for (const cookie of [...(first.headers['set-cookie'] as string[]), ...(second.headers['set-cookie'] as string[])]) {
      expect(first.body).not.toContain(cookie.split(';')[0].split('=')[1]);
    }
  });

  it('is not started by the admin, health, metrics or script routes', async () => {
    const app = buildDemoApp();
    for (const url of ['/health', '/metrics', '/__admin/stats', '/__admin/carts', '/assets/shop.js']) {
      expect((await app.inject(url)).headers['set-cookie'], url).toBeUndefined();
    }
  });
});
