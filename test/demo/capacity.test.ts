import { afterEach, describe, expect, it } from 'vitest';
import { buildDemoApp, saturationVus, type DemoOptions } from '../../demo/app.ts';

let openApps: Array<ReturnType<typeof buildDemoApp>> = [];
afterEach(async () => {
  await Promise.all(openApps.map((app) => app.close()));
  openApps = [];
});

async function listening(options: DemoOptions) {
  const app = buildDemoApp(options);
  openApps.push(app);
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

describe('the origin capacity model', () => {
  it('serves two requests at once, queues one, and refuses the fourth with 503 when maxQueue is 1', async () => {
    const { app, url } = await listening({ concurrency: 2, serviceTimeMs: 50, maxQueue: 1 });
    const started = performance.now();
    const responses = await Promise.all(
      [1, 2, 3, 4].map(async (id) => {
        const res = await fetch(`${url}/product/${id}`);
        return { status: res.status, body: await res.text(), ms: performance.now() - started };
      }),
    );
    const served = responses.filter((res) => res.status === 200).sort((a, b) => a.ms - b.ms);
    const refused = responses.filter((res) => res.status === 503);
    expect(served).toHaveLength(3);
    expect(refused).toHaveLength(1);
    expect(JSON.parse(refused[0].body)).toEqual({ code: 'DEMO_ERR_OVERLOADED', message: 'The origin queue is full (1 waiting).' });
    // The queued one waited for a slot, then held it: about two service times.
    expect(served[2].ms).toBeGreaterThanOrEqual(95);

    const stats = (await app.inject('/__admin/stats')).json();
    expect(stats.origin).toEqual({ inFlight: 0, queued: 0, maxQueued: 1, rejected: 1 });
    expect(stats.byStatus).toEqual({ '200': 3, '503': 1 });
    expect(stats.cache).toEqual({ hit: 0, miss: 4, stale: 0, notModified: 0 });
  });

  it('refuses with 503 a request that waits longer than queueTimeoutMs', async () => {
    const app = buildDemoApp({ concurrency: 1, serviceTimeMs: 100, queueTimeoutMs: 20 });
    const [first, second] = await Promise.all([app.inject('/api/cart'), app.inject('/api/cart')]);
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(503);
    expect(second.json()).toEqual({ code: 'DEMO_ERR_OVERLOADED', message: 'The request waited more than 20 ms for the origin.' });
  });

  it('serves cache hits and 304s without waiting for an origin slot', async () => {
    const app = buildDemoApp();
    const warm = await app.inject('/');
    await app.inject({ method: 'PUT', url: '/__admin/capacity', payload: { concurrency: 1, serviceTimeMs: 500 } });
    const started = performance.now();
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => app.inject('/')),
      app.inject({ url: '/', headers: { 'if-none-match': String(warm.headers.etag) } }),
    ]);
    expect(answers.map((res) => res.statusCode)).toEqual([200, 200, 200, 200, 200, 304]);
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('changes settings at runtime through PUT /__admin/capacity, keeping fields left out', async () => {
    const app = buildDemoApp();
    expect((await app.inject('/__admin/capacity')).json()).toEqual({ concurrency: 256, serviceTimeMs: 2, maxQueue: 10000, queueTimeoutMs: 10000 });
    const changed = await app.inject({ method: 'PUT', url: '/__admin/capacity', payload: { concurrency: 4, maxQueue: 0 } });
    expect(changed.json()).toEqual({ concurrency: 4, serviceTimeMs: 2, maxQueue: 0, queueTimeoutMs: 10000 });
    const refused = await app.inject({ method: 'PUT', url: '/__admin/capacity', payload: { concurrency: 0 } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({ code: 'DEMO_ERR_INVALID_BODY', message: 'Field "concurrency" must be an integer from 1 to 100000.' });
  });

  it('admits queued requests at once when concurrency is raised', async () => {
    const app = buildDemoApp({ concurrency: 1, serviceTimeMs: 300 });
    const pending = [app.inject('/api/cart'), app.inject('/api/cart')];
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(app.demo.capacity.snapshot().queued).toBe(1);
    app.demo.capacity.update({ concurrency: 2 });
    expect(app.demo.capacity.snapshot()).toMatchObject({ inFlight: 2, queued: 0 });
    await Promise.all(pending);
  });
});

describe('saturationVus', () => {
  it('is C·(T+S)/S: 10 slots of 100 ms with 900 ms think time saturate at 100 VUs', () => {
    expect(saturationVus({ concurrency: 10, serviceTimeMs: 100, thinkTimeMs: 900 })).toBe(100);
    expect(saturationVus({ concurrency: 256, serviceTimeMs: 2, thinkTimeMs: 0 })).toBe(256);
  });

  it('is infinite when the origin takes no time', () => {
    expect(saturationVus({ concurrency: 1, serviceTimeMs: 0, thinkTimeMs: 1000 })).toBe(Number.POSITIVE_INFINITY);
  });
});
