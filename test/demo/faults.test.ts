import { describe, expect, it } from 'vitest';
import { buildDemoApp } from '../../demo/app.ts';

type App = ReturnType<typeof buildDemoApp>;
const setFaults = (app: App, payload: object) => app.inject({ method: 'PUT', url: '/__admin/faults', payload });

async function statusesOf(app: App, count: number, url = '/product/1'): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await app.inject(url)).statusCode);
  return statuses;
}

describe('the fault switch', () => {
  it('fails exactly 100 of 1000 shop requests with errorRatio 0.1, evenly spread', async () => {
    const app = buildDemoApp();
    expect((await setFaults(app, { errorRatio: 0.1 })).json()).toEqual({ errorRatio: 0.1, extraLatencyMs: 0, status: 500 });
    const statuses = await statusesOf(app, 1000);
    expect(statuses.filter((status) => status === 500)).toHaveLength(100);
    expect(statuses.slice(0, 20)).toEqual([...Array(9).fill(200), 500, ...Array(9).fill(200), 500]);
    expect((await app.inject('/__admin/stats')).json().faults).toEqual({ injected: 100 });
  });

  it('stays exact for ratios that do not multiply cleanly in floating point', async () => {
    const app = buildDemoApp();
    await setFaults(app, { errorRatio: 0.29 });
    expect((await statusesOf(app, 100)).filter((status) => status === 500)).toHaveLength(29);
  });

  it('answers injected faults with the configured status and a JSON body', async () => {
    const app = buildDemoApp();
    await setFaults(app, { errorRatio: 1, status: 503 });
    const failed = await app.inject({ method: 'POST', url: '/api/cart/items', payload: { productId: 1, qty: 1 } });
    expect(failed.statusCode).toBe(503);
    expect(failed.json()).toEqual({ code: 'DEMO_ERR_INJECTED_FAULT', message: 'Fault injected on purpose (errorRatio 1).' });
  });

  it('spares admin, health and metrics requests', async () => {
    const app = buildDemoApp();
    await setFaults(app, { errorRatio: 1 });
    for (const url of ['/health', '/metrics', '/__admin/faults', '/__admin/stats']) {
      expect((await app.inject(url)).statusCode, url).toBe(200);
    }
  });

  it('delays shop requests by extraLatencyMs but leaves health checks fast', async () => {
    const app = buildDemoApp();
    await setFaults(app, { extraLatencyMs: 120 });
    const timed = async (url: string) => {
      const started = performance.now();
      expect((await app.inject(url)).statusCode).toBe(200);
      return performance.now() - started;
    };
    expect(await timed('/')).toBeGreaterThanOrEqual(115);
    expect(await timed('/health')).toBeLessThan(60);
  });

  it('stops injecting after DELETE /__admin/faults', async () => {
    const app = buildDemoApp();
    await setFaults(app, { errorRatio: 1, extraLatencyMs: 5 });
    const reset = await app.inject({ method: 'DELETE', url: '/__admin/faults' });
    expect(reset.json()).toEqual({ errorRatio: 0, extraLatencyMs: 0, status: 500 });
    expect(await statusesOf(app, 5)).toEqual([200, 200, 200, 200, 200]);
    expect((await app.inject('/__admin/faults')).json()).toEqual({ errorRatio: 0, extraLatencyMs: 0, status: 500 });
  });

  it('rejects unknown fields and out-of-range values with 400 and keeps the previous setting', async () => {
    const app = buildDemoApp();
    await setFaults(app, { errorRatio: 0.5 });
    const cases: Array<[object, string]> = [
      [{ errorRatio: 1.5 }, 'Field "errorRatio" must be a number from 0 to 1.'],
      [{ extraLatencyMs: -1 }, 'Field "extraLatencyMs" must be a number from 0 to 60000.'],
      [{ status: 200 }, 'Field "status" must be an integer from 400 to 599.'],
      [{ errorRate: 0.1 }, 'Unknown field "errorRate"; allowed fields are errorRatio, extraLatencyMs, status.'],
    ];
    for (const [payload, message] of cases) {
      const refused = await setFaults(app, payload);
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual({ code: 'DEMO_ERR_INVALID_BODY', message });
    }
    expect((await app.inject('/__admin/faults')).json().errorRatio).toBe(0.5);
  });
});
