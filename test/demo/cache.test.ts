import { describe, expect, it } from 'vitest';
import { buildDemoApp, type DemoOptions } from '../../demo/app.ts';

function shopWithClock(options: DemoOptions = {}) {
  let nowMs = 1_700_000_000_000;
  const app = buildDemoApp({ now: () => nowMs, ...options });
  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
  return { app, get, advance: (ms: number) => void (nowMs += ms) };
}

const stats = async (app: ReturnType<typeof buildDemoApp>) => (await app.inject('/__admin/stats')).json();

describe('the page cache', () => {
  it('answers MISS first, then HIT with its Age, then 304 with no body for a matching If-None-Match', async () => {
    const { app, get, advance } = shopWithClock();
    const first = await get('/product/1');
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.headers['cache-control']).toBe('public, max-age=60, stale-while-revalidate=30');
    expect(first.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers.age).toBeUndefined();

    advance(5_900);
    const second = await get('/product/1');
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.headers.age).toBe('5');
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(second.body).toBe(first.body);

    const conditional = await get('/product/1', { 'if-none-match': String(first.headers.etag) });
    expect(conditional.statusCode).toBe(304);
    expect(conditional.body).toBe('');
    expect(conditional.headers.etag).toBe(first.headers.etag);
    expect(conditional.headers['x-cache']).toBe('HIT');

    expect((await stats(app)).cache).toEqual({ hit: 1, miss: 1, stale: 0, notModified: 1 });
  });

  it('serves STALE past max-age, refreshes in the background, then answers HIT with a fresh Age', async () => {
    const { app, get, advance } = shopWithClock({ cacheTtlS: 10, cacheSwrS: 30 });
    await get('/');
    advance(12_000);
    const stale = await get('/');
    expect(stale.statusCode).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.headers.age).toBe('12');

    await app.demo.cache.settled();
    const refreshed = await get('/');
    expect(refreshed.headers['x-cache']).toBe('HIT');
    expect(refreshed.headers.age).toBe('0');
    expect((await stats(app)).cache).toEqual({ hit: 1, miss: 1, stale: 1, notModified: 0 });
  });

  it('goes back to origin with MISS once the stale-while-revalidate window has passed too', async () => {
    const { get, advance } = shopWithClock({ cacheTtlS: 10, cacheSwrS: 5 });
    await get('/category/shoes');
    advance(15_000);
    expect((await get('/category/shoes')).headers['x-cache']).toBe('MISS');
  });

  it('sends every request to origin with MISS when the ttl is 0, and still honours If-None-Match', async () => {
    const { app, get } = shopWithClock({ cacheTtlS: 0 });
    const first = await get('/product/2');
    const second = await get('/product/2');
    expect([first.headers['x-cache'], second.headers['x-cache']]).toEqual(['MISS', 'MISS']);
    expect(second.headers['cache-control']).toBe('public, max-age=0, stale-while-revalidate=30');
    const conditional = await get('/product/2', { 'if-none-match': `W/${first.headers.etag}, "other"` });
    expect(conditional.statusCode).toBe(304);
    expect((await stats(app)).cache).toEqual({ hit: 0, miss: 2, stale: 0, notModified: 1 });
  });

  it('keys entries by path and query string', async () => {
    const { get } = shopWithClock();
    await get('/product/3');
    expect((await get('/product/3?utm=mail')).headers['x-cache']).toBe('MISS');
    expect((await get('/product/3')).headers['x-cache']).toBe('HIT');
  });

  it('starts again with MISS after an admin purge', async () => {
    const { app, get } = shopWithClock();
    await get('/');
    await get('/product/1');
    const purge = await app.inject({ method: 'POST', url: '/__admin/cache/purge' });
    expect(purge.json()).toEqual({ purged: 2 });
    expect((await get('/')).headers['x-cache']).toBe('MISS');
  });

  it('never stores a 404 page and tells clients not to store it either', async () => {
    const { get } = shopWithClock();
    const first = await get('/product/51');
    const second = await get('/product/51');
    expect([first.statusCode, second.statusCode]).toEqual([404, 404]);
    expect(second.headers['x-cache']).toBe('MISS');
    expect(second.headers['cache-control']).toBe('no-store');
  });
});
