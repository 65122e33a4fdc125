// Reading a shop's cache headers and proving conditional requests work.
import { check } from 'k6';
import { Rate } from 'k6/metrics';
import type { RefinedParams, RefinedResponse, ResponseType } from 'k6/http';
import { getPage } from './pages.ts';
import type { PageType } from './tags.ts';

type Response = RefinedResponse<ResponseType | undefined>;

/** Share of responses served by the cache (X-Cache HIT or STALE). */
export const cacheHitRate = new Rate('cache_hit_rate');
/** Share of conditional replays answered 304 Not Modified. */
export const notModifiedRate = new Rate('cache_304_rate');

export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'NONE';

export interface CacheHeaders {
  status: CacheStatus;
  /** Age in seconds, or null without an Age header. */
  age: number | null;
  etag: string | null;
  cacheControl: string | null;
  /** max-age from Cache-Control, or null. */
  maxAge: number | null;
}

/** k6 canonicalises header names, but a proxy may not: look up without case. */
export function header(res: Pick<Response, 'headers'>, name: string): string | null {
  const wanted = name.toLowerCase();
  for (const key of Object.keys(res.headers)) if (key.toLowerCase() === wanted) return res.headers[key] ?? null;
  return null;
}

export function readCacheHeaders(res: Pick<Response, 'headers'>): CacheHeaders {
  const xCache = (header(res, 'X-Cache') ?? '').toUpperCase();
  const status: CacheStatus = xCache.startsWith('HIT') ? 'HIT' : xCache.startsWith('STALE') ? 'STALE' : xCache.startsWith('MISS') ? 'MISS' : 'NONE';
  const age = header(res, 'Age');
  const cacheControl = header(res, 'Cache-Control');
  const maxAge = cacheControl?.match(/(?:^|[,\s])max-age=([0-9]+)/);
  return {
    status,
    age: age === null || !/^[0-9]+$/.test(age) ? null : Number(age),
    etag: header(res, 'ETag'),
    cacheControl,
    maxAge: maxAge ? Number(maxAge[1]) : null,
  };
}

/** Records the response in cache_hit_rate; responses without X-Cache are not counted. */
export function recordCache(res: Pick<Response, 'headers'>): CacheHeaders {
  const cache = readCacheHeaders(res);
  if (cache.status !== 'NONE') cacheHitRate.add(cache.status === 'HIT' || cache.status === 'STALE');
  return cache;
}

/** Replays a request with If-None-Match and expects 304; records cache_304_rate. */
export function replayConditional(
  url: string,
  etag: string,
  pageType: PageType,
  params: RefinedParams<ResponseType | undefined> = {},
): Response {
  const res = getPage(url, pageType, { ...params, headers: { ...(params.headers ?? {}), 'If-None-Match': etag } });
  notModifiedRate.add(res.status === 304);
  check(res, { 'conditional request answers 304': (r) => r.status === 304 });
  return res;
}
