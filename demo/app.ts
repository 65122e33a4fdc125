import { setTimeout as delay } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { adminRoutes } from './admin-routes.ts';
import { OriginCapacity } from './capacity.ts';
import { cartPageRoutes } from './cart-page-routes.ts';
import { registerCartRoutes } from './cart-routes.ts';
import type { Cart } from './cart.ts';
import { toErrorResponse } from './errors.ts';
import { FaultSwitch } from './faults.ts';
import { BoundedLru } from './lru.ts';
import { createDemoMetrics } from './metrics.ts';
import { resolveDemoOptions, type DemoOptions } from './options.ts';
import { PageCache } from './page-cache.ts';
import { registerPageRoutes } from './page-routes.ts';
import { ShopPages } from './pages.ts';
import { Sessions } from './session.ts';
import { zeroCounters, type DemoStats } from './stats.ts';
import { registerStorefrontScript } from './storefront-script.ts';

export type { DemoOptions } from './options.ts';
export type { DemoStats } from './stats.ts';
export type { CartsReport } from './cart.ts';
export { saturationVus } from './capacity.ts';

/** Handles for tests and embedders: the same objects the admin routes drive. */
export interface DemoRuntime {
  registry: Registry;
  capacity: OriginCapacity;
  faults: FaultSwitch;
  cache: PageCache;
  carts: BoundedLru<string, Cart>;
  stats: () => DemoStats;
}

export type DemoApp = FastifyInstance & { demo: DemoRuntime };

/** Admin, health and metrics traffic is the load tester's own; faults and stats ignore it. */
function isShopRequest(url: string): boolean {
  const path = url.split('?', 1)[0];
  return !(path === '/__admin' || path.startsWith('/__admin/') || path === '/health' || path === '/metrics');
}

/** A browser navigating (a form post, a link) gets an HTML page; the JSON API and other clients get `{code, message}`. */
function wantsHtml(request: FastifyRequest): boolean {
  return !request.url.startsWith('/api/') && !request.url.startsWith('/__admin') && (request.headers.accept ?? '').includes('text/html');
}

/** Builds the demo shop; the caller decides whether to inject() or listen(). */
export function buildDemoApp(options: DemoOptions = {}): DemoApp {
  const settings = resolveDemoOptions(options);
  const app = Fastify({ logger: settings.logger });
  const registry = options.registry ?? new Registry();
  const capacity = new OriginCapacity(settings.capacity);
  const metrics = createDemoMetrics(registry, () => capacity.snapshot().queued);
  const faults = new FaultSwitch();
  const carts = new BoundedLru<string, Cart>(settings.maxCarts);
  let counters = zeroCounters();
  const cacheSettings = { ttlS: settings.cacheTtlS, swrS: settings.cacheSwrS, maxEntries: settings.maxCacheEntries, now: settings.now };
  const cache = new PageCache(cacheSettings, (event) => {
    counters.cache[event]++;
    metrics.cacheEvents.inc({ result: event === 'notModified' ? 'not_modified' : event });
  });
  const pages = new ShopPages(settings.cartRules);
  const sessions = new Sessions();
  const stats = (): DemoStats => ({
    requests: counters.requests,
    byStatus: { ...counters.byStatus },
    cache: { ...counters.cache },
    origin: capacity.snapshot(),
    faults: { ...counters.faults },
  });

  app.setErrorHandler((error, request, reply) => {
    const { statusCode, body } = toErrorResponse(error);
    if (statusCode === 500) request.log.error({ err: error }, 'demo shop route failed');
    if (wantsHtml(request)) return reply.code(statusCode).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(pages.error(statusCode, body));
    return reply.code(statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    if (wantsHtml(request)) return reply.code(404).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(pages.notFound().html);
    return reply.code(404).send({ code: 'DEMO_ERR_NOT_FOUND', message: `No route for ${request.method} ${request.url.split('?', 1)[0]}.` });
  });

  app.addHook('onRequest', async (request, reply) => {
    metrics.inFlight.inc();
    // 'close' fires for aborted requests too, unlike onResponse.
    reply.raw.once('close', () => metrics.inFlight.dec());
    if (!isShopRequest(request.url)) return;
    const fault = faults.settings;
    if (fault.extraLatencyMs > 0) await delay(fault.extraLatencyMs);
    if (!faults.nextRequestFails()) return;
    counters.faults.injected++;
    const message = `Fault injected on purpose (errorRatio ${fault.errorRatio}).`;
    return reply.code(fault.status).send({ code: 'DEMO_ERR_INJECTED_FAULT', message });
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (!isShopRequest(request.url)) return;
    counters.requests++;
    counters.byStatus[reply.statusCode] = (counters.byStatus[reply.statusCode] ?? 0) + 1;
  });

  registerPageRoutes(app, { cache, capacity, pages, sessions });
  const cartDeps = { carts, capacity, rules: settings.cartRules, sessions };
  registerCartRoutes(app, cartDeps);
  app.register(cartPageRoutes, cartDeps);
  registerStorefrontScript(app);
  app.register(adminRoutes, {
    prefix: '/__admin',
    adminToken: settings.adminToken,
    capacity,
    faults,
    cache,
    carts,
    stats,
    resetStats: () => {
      counters = zeroCounters();
      capacity.resetCounters();
    },
  });
  app.get('/health', () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) => reply.header('content-type', registry.contentType).send(await registry.metrics()));

  const runtime: DemoRuntime = { registry, capacity, faults, cache, carts, stats };
  app.decorate('demo', runtime);
  return app as unknown as DemoApp;
}
