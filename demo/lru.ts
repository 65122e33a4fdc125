/**
 * A Map that forgets its least recently used entry once full. Carts and cached
 * pages are keyed by client-controlled strings (cookies, query strings), so an
 * unbounded map would let a load test exhaust the demo's memory.
 */
export class BoundedLru<K, V> {
  private readonly entries = new Map<K, V>();
  private evictedCount = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Entries forgotten to make room since construction or the last clear(). */
  get evicted(): number {
    return this.evictedCount;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Re-inserting moves the key to the end, where Map iteration ends.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.entries.delete(oldest.value);
        this.evictedCount++;
      }
    }
  }

  /** Every value, least recently used first, without touching their recency. */
  values(): IterableIterator<V> {
    return this.entries.values();
  }

  clear(): void {
    this.entries.clear();
    this.evictedCount = 0;
  }
}
