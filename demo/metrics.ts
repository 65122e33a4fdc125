import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface DemoMetrics {
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  inFlight: Gauge;
  cacheEvents: Counter<'result'>;
}

/** Registers the demo's metrics on `registry` (never the global one, so several apps can coexist in one process). */
export function createDemoMetrics(registry: Registry, originQueueDepth: () => number): DemoMetrics {
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'demo_origin_queue_depth',
    help: 'Requests waiting for an origin slot.',
    registers,
    collect() {
      this.set(originQueueDepth());
    },
  });
  return {
    requests: new Counter({
      name: 'demo_http_requests_total',
      help: 'HTTP requests answered, by route pattern and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'demo_http_request_duration_seconds',
      help: 'Time from request received to response sent.',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    inFlight: new Gauge({ name: 'demo_http_in_flight_requests', help: 'Requests being handled now.', registers }),
    cacheEvents: new Counter({
      name: 'demo_cache_events_total',
      help: 'Page requests by cache outcome: hit, miss, stale, or not_modified for a 304.',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}
