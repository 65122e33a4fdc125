import { createHash } from 'node:crypto';
import { BoundedLru } from './lru.ts';
import type { RenderedPage } from './pages.ts';

export interface PageCacheSettings {
  /** Freshness lifetime in seconds; 0 turns the cache off (every request goes to origin). */
  ttlS: number;
  /** How long past ttl a stale copy may still be served while it is refreshed. */
  swrS: number;
  maxEntries: number;
  now: () => number;
}

/**
 * Each page request counts exactly once: a 304 counts as notModified whatever
 * its lookup was, otherwise the lookup (the X-Cache value) counts. So k6's
 * hit rate over plain GETs and its 304 rate over conditional replays compare
 * one to one with these counters.
 */
export type CacheEvent = 'hit' | 'miss' | 'stale' | 'notModified';

export interface CacheAnswer {
  statusCode: number;
  headers: Record<string, string>;
  /** Absent for 304. */
  body?: Buffer;
}

interface Entry {
  page: RenderedPage;
  etag: string;
  storedAt: number;
  refreshing: boolean;
}

const HTML = 'text/html; charset=utf-8';
// The origin hands out the same page object for as long as the page does not change
// (ShopPages renders each once), so its bytes and its validator are worked out once
// too: otherwise every response would encode the page again (a string body is
// encoded inside the socket write, each time) and, with the cache off, hash it again.
const encoded = new WeakMap<RenderedPage, { etag: string; bytes: Buffer }>();
function encodedPage(page: RenderedPage): { etag: string; bytes: Buffer } {
  let found = encoded.get(page);
  if (found === undefined) {
    const bytes = Buffer.from(page.html);
    found = { etag: `"${createHash('sha1').update(bytes).digest('base64url')}"`, bytes };
    encoded.set(page, found);
  }
  return found;
}
const strongEtag = (page: RenderedPage): string => encodedPage(page).etag;

// If-None-Match uses weak comparison, so a W/ prefix still matches.
const ifNoneMatchHits = (header: string | undefined, etag: string): boolean =>
  (header ?? '').split(',').some((candidate) => ['*', etag].includes(candidate.trim().replace(/^W\//, '')));

/** A shared (CDN-like) cache for GET pages, keyed by path plus query. Misses are not coalesced, as in many real CDNs. */
export class PageCache {
  private readonly entries: BoundedLru<string, Entry>;
  private readonly refreshes = new Set<Promise<void>>();
  // Bumped by purge so a refresh that started before it cannot refill the cache.
  private generation = 0;

  constructor(
    private readonly settings: PageCacheSettings,
    private readonly onEvent: (event: CacheEvent) => void,
  ) {
    this.entries = new BoundedLru(settings.maxEntries);
  }

  async serve(key: string, ifNoneMatch: string | undefined, renderAtOrigin: () => Promise<RenderedPage>): Promise<CacheAnswer> {
    const { ttlS, swrS, now } = this.settings;
    const entry = ttlS > 0 ? this.entries.get(key) : undefined;
    const ageMs = entry ? Math.max(0, now() - entry.storedAt) : 0;
    if (entry && ageMs < ttlS * 1000) return this.answer('hit', entry.page, entry.etag, ageMs, ifNoneMatch);
    if (entry && ageMs < (ttlS + swrS) * 1000) {
      this.refreshInBackground(key, entry, renderAtOrigin);
      return this.answer('stale', entry.page, entry.etag, ageMs, ifNoneMatch);
    }
    const page = await renderAtOrigin().catch((error: unknown) => {
      this.onEvent('miss');
      throw error;
    });
    const etag = strongEtag(page);
    if (ttlS > 0) this.store(key, page, etag, this.generation);
    return this.answer('miss', page, etag, undefined, ifNoneMatch);
  }

  purge(): number {
    const purged = this.entries.size;
    this.entries.clear();
    this.generation++;
    return purged;
  }

  /** Resolves once every background refresh started so far has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.refreshes]);
  }

  private answer(
    lookup: 'hit' | 'stale' | 'miss',
    page: RenderedPage,
    etag: string,
    ageMs: number | undefined,
    ifNoneMatch: string | undefined,
  ): CacheAnswer {
    const xCache = lookup.toUpperCase();
    // Error pages are never stored, so they must not invite anyone else to store them.
    if (page.statusCode !== 200) {
      this.onEvent(lookup);
      const headers = { 'content-type': HTML, 'cache-control': 'no-store', 'x-cache': xCache };
      return { statusCode: page.statusCode, headers, body: encodedPage(page).bytes };
    }
    const headers: Record<string, string> = {
      'cache-control': `public, max-age=${this.settings.ttlS}, stale-while-revalidate=${this.settings.swrS}`,
      'x-cache': xCache,
      etag,
    };
    if (ageMs !== undefined) headers.age = String(Math.floor(ageMs / 1000));
    if (ifNoneMatchHits(ifNoneMatch, etag)) {
      this.onEvent('notModified');
      return { statusCode: 304, headers };
    }
    this.onEvent(lookup);
    return { statusCode: 200, headers: { ...headers, 'content-type': HTML }, body: encodedPage(page).bytes };
  }

  private store(key: string, page: RenderedPage, etag: string, generation: number): void {
    if (page.statusCode === 200 && generation === this.generation) {
      this.entries.set(key, { page, etag, storedAt: this.settings.now(), refreshing: false });
    }
  }

  private refreshInBackground(key: string, entry: Entry, renderAtOrigin: () => Promise<RenderedPage>): void {
    if (entry.refreshing) return;
    entry.refreshing = true;
    const generation = this.generation;
    const refresh = renderAtOrigin()
      .then((page) => this.store(key, page, strongEtag(page), generation))
      // An overloaded origin just leaves the stale copy in place for the next request to retry.
      .catch(() => {})
      .finally(() => {
        entry.refreshing = false;
        this.refreshes.delete(refresh);
      });
    this.refreshes.add(refresh);
  }
}
