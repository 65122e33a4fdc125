import { describe, expect, it } from 'vitest';
import { buildDemoApp } from '../../demo/app.ts';
import { visitor } from './visitor.ts';

describe('the admin routes', () => {
  it('need the bearer token on every admin route when adminToken is set', async () => {
    const app = buildDemoApp({ adminToken: 's3cret' });
    const unauthorized = { code: 'DEMO_ERR_UNAUTHORIZED', message: 'Admin routes need a valid Authorization: Bearer token.' };
    for (const authorization of [undefined, 'Bearer wrong', 'Bearer s3cret-and-more', 's3cret']) {
      for (const url of ['/__admin/stats', '/__admin/carts']) {
        const res = await app.inject({ url, headers: authorization ? { authorization } : {} });
        expect(res.statusCode, `${url} ${authorization}`).toBe(401);
        expect(res.json()).toEqual(unauthorized);
      }
    }
    expect((await app.inject({ method: 'DELETE', url: '/__admin/carts' })).statusCode).toBe(401);
    const purge = await app.inject({ method: 'POST', url: '/__admin/cache/purge' });
    expect(purge.statusCode).toBe(401);
    const allowed = await app.inject({ url: '/__admin/stats', headers: { authorization: 'Bearer s3cret' } });
    expect(allowed.statusCode).toBe(200);
    expect((await app.inject('/')).statusCode).toBe(200);
  });

  it('count in stats exactly the shop requests made, by status, and nothing else', async () => {
    const app = buildDemoApp();
    await app.inject('/');
    const hit = await app.inject('/');
    await app.inject({ url: '/', headers: { 'if-none-match': String(hit.headers.etag) } });
    await app.inject('/product/99');
    await app.inject({ method: 'POST', url: '/api/cart/items', headers: { 'content-type': 'application/json' }, payload: '{' });
    await app.inject({ method: 'POST', url: '/api/cart/promo-code', payload: { code: 'NOPE' } });
    await app.inject('/assets/shop.js');
    await app.inject('/health');
    await app.inject('/metrics');
    await app.inject('/__admin/capacity');

    expect((await app.inject('/__admin/stats')).json()).toEqual({
      requests: 7,
      byStatus: { '200': 3, '304': 1, '400': 1, '403': 1, '404': 1 },
      cache: { hit: 1, miss: 2, stale: 0, notModified: 1 },
      origin: { inFlight: 0, queued: 0, maxQueued: 0, rejected: 0 },
      faults: { injected: 0 },
    });

    const reset = await app.inject({ method: 'DELETE', url: '/__admin/stats' });
    expect(reset.json()).toMatchObject({ requests: 0, byStatus: {}, cache: { hit: 0, miss: 0, stale: 0, notModified: 0 } });
  });

  it("report the shop's carts: how many, with lines, with a code and which, their lines and units", async () => {
    const app = buildDemoApp();
    const journeys = [
      { lines: [{ productId: 1, qty: 2 }], code: 'BLACKFRIDAY' },
      { lines: [{ productId: 2, qty: 1 }, { productId: 3, qty: 3 }], code: undefined },
      { lines: [], code: 'blackfriday' },
    ];
    for (const journey of journeys) {
      const shopper = visitor(app);
      await shopper.get('/product/1');
      for (const line of journey.lines) await shopper.postJson('/api/cart/items', line);
      if (journey.code) expect((await shopper.sendCodeForm(journey.code)).statusCode).toBe(303);
    }
    // A visit without a write keeps no cart.
    await visitor(app).get('/cart');
    expect((await app.inject('/__admin/carts')).json()).toEqual({
      carts: 3,
      withLines: 2,
      withCode: 2,
      withLinesAndCode: 1,
      codes: { BLACKFRIDAY: 2 },
      lines: 3,
      units: 6,
      evicted: 0,
    });
    const cleared = await app.inject({ method: 'DELETE', url: '/__admin/carts' });
    expect(cleared.json()).toEqual({ carts: 0, withLines: 0, withCode: 0, withLinesAndCode: 0, codes: {}, lines: 0, units: 0, evicted: 0 });
  });

  it('count the carts forgotten beyond maxCarts, so that a report says when it is incomplete', async () => {
    const app = buildDemoApp({ maxCarts: 2 });
    for (let i = 0; i < 5; i++) {
      const shopper = visitor(app);
      await shopper.get('/');
      await shopper.postJson('/api/cart/items', { productId: 2, qty: 1 });
    }
    expect((await app.inject('/__admin/carts')).json()).toMatchObject({ carts: 2, withLines: 2, evicted: 3 });
    expect((await app.inject({ method: 'DELETE', url: '/__admin/carts' })).json()).toMatchObject({ carts: 0, evicted: 0 });
  });

  it('expose the demo and default metrics on /metrics, labelled by route pattern', async () => {
    const app = buildDemoApp();
    await app.inject('/product/7');
    await app.inject('/product/7');
    const metrics = await app.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    for (const expected of [
      'demo_http_requests_total{method="GET",route="/product/:id",status="200"} 2',
      'demo_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/product/:id"}',
      'demo_http_in_flight_requests',
      'demo_origin_queue_depth 0',
      'demo_cache_events_total{result="miss"} 1',
      'demo_cache_events_total{result="hit"} 1',
      'nodejs_eventloop_lag_seconds',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      expect(metrics.body).toContain(expected);
    }
  });

  it('give every app its own metrics registry, so two apps live side by side', async () => {
    const first = buildDemoApp();
    const second = buildDemoApp();
    await first.inject('/');
    expect(first.demo.registry).not.toBe(second.demo.registry);
    expect((await second.inject('/metrics')).body).not.toContain('demo_http_requests_total{method="GET",route="/"');
  });
});
