import { beforeEach, describe, expect, it } from 'vitest';
import { readCacheHeaders, recordCache, replayConditional } from '../../lib/cache.ts';
import { requests, respondWith } from '../shims/k6-http.ts';
import { added } from '../shims/k6-metrics.ts';
import { checks } from '../shims/k6.ts';

describe('cache helpers', () => {
  beforeEach(() => {
    requests.length = 0;
    checks.length = 0;
    for (const key of Object.keys(added)) added[key]!.length = 0;
  });

  it('reads X-Cache, Age, ETag and max-age whatever the header case', () => {
    expect(readCacheHeaders({ headers: { 'x-cache': 'HIT from edge', age: '12', Etag: '"abc"', 'cache-control': 'public, max-age=60' } })).toEqual({
      status: 'HIT', age: 12, etag: '"abc"', cacheControl: 'public, max-age=60', maxAge: 60,
    });
    expect(readCacheHeaders({ headers: {} })).toEqual({ status: 'NONE', age: null, etag: null, cacheControl: null, maxAge: null });
  });

  it('counts HIT and STALE as cache hits, MISS as a miss, and ignores responses without X-Cache', () => {
    for (const xCache of ['MISS', 'HIT', 'STALE']) recordCache({ headers: { 'X-Cache': xCache } });
    recordCache({ headers: {} });
    expect(added.cache_hit_rate).toEqual([false, true, true]);
  });

  it('replays with If-None-Match, tags the page type and records a 304', () => {
    respondWith((req) => ({ status: req.params.headers?.['If-None-Match'] === '"v1"' ? 304 : 200, headers: {}, body: '' }));
    replayConditional('http://shop/product/1', '"v1"', 'product');
    replayConditional('http://shop/product/1', '"old"', 'product');
    expect(requests.map((r) => [r.params.headers?.['If-None-Match'], r.params.tags?.page_type])).toEqual([['"v1"', 'product'], ['"old"', 'product']]);
    expect(added.cache_304_rate).toEqual([true, false]);
    expect(checks).toEqual([{ name: 'conditional request answers 304', ok: true }, { name: 'conditional request answers 304', ok: false }]);
  });
});
