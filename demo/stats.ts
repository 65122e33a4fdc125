import type { OriginSnapshot } from './capacity.ts';
import type { CacheEvent } from './page-cache.ts';

/** What GET /__admin/stats returns. Counts shop requests only (not admin, /health or /metrics). */
export interface DemoStats {
  requests: number;
  byStatus: Record<string, number>;
  cache: Record<CacheEvent, number>;
  origin: OriginSnapshot;
  faults: { injected: number };
}

export type ShopCounters = Omit<DemoStats, 'origin'>;

export const zeroCounters = (): ShopCounters => ({
  requests: 0,
  byStatus: {},
  cache: { hit: 0, miss: 0, stale: 0, notModified: 0 },
  faults: { injected: 0 },
});
