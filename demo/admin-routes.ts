import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { CapacitySettings, OriginCapacity } from './capacity.ts';
import { reportCarts, type Cart } from './cart.ts';
import { NO_FAULTS, type FaultSwitch } from './faults.ts';
import { CAPACITY_RULES } from './options.ts';
import type { BoundedLru } from './lru.ts';
import type { PageCache } from './page-cache.ts';
import type { DemoStats } from './stats.ts';
import { numberField, strictObject } from './validate.ts';

interface AdminDeps {
  adminToken: string | undefined;
  capacity: OriginCapacity;
  faults: FaultSwitch;
  cache: PageCache;
  carts: BoundedLru<string, Cart>;
  stats: () => DemoStats;
  resetStats: () => void;
}

const FAULT_RULES = {
  errorRatio: { min: 0, max: 1 },
  extraLatencyMs: { min: 0, max: 60_000 },
  status: { min: 400, max: 599, integer: true },
};

// Hashing first gives equal-length buffers, which timingSafeEqual requires, and
// hides the token's length from timing too.
const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Registered under /__admin; with an adminToken every route here needs `Authorization: Bearer <token>`. */
export async function adminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { adminToken, capacity, faults, cache, carts } = deps;

  if (adminToken !== undefined) {
    const expected = sha256(adminToken);
    app.addHook('onRequest', async (request, reply) => {
      const header = request.headers.authorization ?? '';
      const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
      if (timingSafeEqual(sha256(presented), expected)) return;
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ code: 'DEMO_ERR_UNAUTHORIZED', message: 'Admin routes need a valid Authorization: Bearer token.' });
    });
  }

  app.get('/capacity', () => capacity.settings);
  app.put('/capacity', (request) => {
    const fields = strictObject(request.body, Object.keys(CAPACITY_RULES));
    const changes: Partial<CapacitySettings> = {};
    for (const key of Object.keys(CAPACITY_RULES) as Array<keyof CapacitySettings>) {
      const value = numberField(fields, key, CAPACITY_RULES[key]);
      if (value !== undefined) changes[key] = value;
    }
    return capacity.update(changes);
  });

  app.get('/faults', () => faults.settings);
  // PUT replaces the whole setting: omitted fields go back to "no fault".
  app.put('/faults', (request) => {
    const fields = strictObject(request.body, Object.keys(FAULT_RULES));
    return faults.set({
      errorRatio: numberField(fields, 'errorRatio', FAULT_RULES.errorRatio) ?? NO_FAULTS.errorRatio,
      extraLatencyMs: numberField(fields, 'extraLatencyMs', FAULT_RULES.extraLatencyMs) ?? NO_FAULTS.extraLatencyMs,
      status: numberField(fields, 'status', FAULT_RULES.status) ?? NO_FAULTS.status,
    });
  });
  app.delete('/faults', () => faults.reset());

  app.get('/stats', () => deps.stats());
  app.delete('/stats', () => {
    deps.resetStats();
    return deps.stats();
  });

  app.post('/cache/purge', () => ({ purged: cache.purge() }));

  // The shop's own record of its carts: a load test compares it with k6's iterations.
  app.get('/carts', () => reportCarts(carts.values(), carts.evicted));
  app.delete('/carts', () => {
    carts.clear();
    return reportCarts(carts.values(), carts.evicted);
  });
}
