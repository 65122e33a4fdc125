// The decoder's bounded caches of label sets: RW1 by the raw bytes of a series' label
// fields, RW2 by its label refs translated to decoder-wide symbol ids. k6 resends the
// same label sets on every push, so a hit skips decoding and validating them.
import type { SeriesLabels } from './labels.ts';
import type { ProtoReader } from './wire.ts';

/** Keys are copied into shared arenas: one allocation per ~1000 label sets, not one each. */
const ARENA_CHUNK_BYTES = 256 * 1024;

/**
 * One generation of the raw-bytes cache: an open-addressing table (linear probing)
 * over parallel typed arrays, with the keys copied into one arena. Per entry: a
 * probe slot, the hash, the key's place in the arena and the SeriesLabels: about
 * 30 bytes besides the key itself, and no object of its own.
 */
class RawGeneration {
  count = 0;
  /** Entry index + 1 per probe slot; 0 is empty. Length: a power of two, at least 2 × capacity. */
  private slots: Int32Array;
  private mask: number;
  private hashes: Int32Array;
  /** Where each key is: arena chunk, offset in it, length. */
  private chunkOf: Int32Array;
  private offsets: Int32Array;
  private lengths: Int32Array;
  /** 1 once the entry was copied into the next generation (the cache drops it with that one). */
  private promoted: Uint8Array;
  private labels: (SeriesLabels | undefined)[] = [];
  /** Key arenas: filled one after the other and never moved (a key longer than a chunk gets its own). */
  private chunks: Buffer[] = [];
  /** The chunk small keys go into, and how much of it is used. */
  private sharedChunk = -1;
  private chunkUsed = ARENA_CHUNK_BYTES;

  constructor(capacity: number) {
    const size = Math.max(16, capacity);
    this.hashes = new Int32Array(size);
    this.chunkOf = new Int32Array(size);
    this.offsets = new Int32Array(size);
    this.lengths = new Int32Array(size);
    this.promoted = new Uint8Array(size);
    this.slots = new Int32Array(slotsFor(size));
    this.mask = this.slots.length - 1;
  }

  /** The entry holding buf[s..e) (hash h), or -1. */
  find(r: ProtoReader, h: number, s: number, e: number): number {
    const len = e - s;
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = slots[i];
      if (x === 0) return -1;
      const k = x - 1;
      if (this.hashes[k] === h && this.lengths[k] === len) {
        const off = this.offsets[k];
        if (r.buf.compare(this.chunks[this.chunkOf[k]!]!, off, off + len, s, e) === 0) return k;
      }
    }
  }

  labelsAt(k: number): SeriesLabels {
    return this.labels[k]!;
  }

  markPromoted(k: number): void {
    this.promoted[k] = 1;
  }

  /** Calls `f` with every entry's labels that was not promoted. */
  forEachUnpromoted(f: (labels: SeriesLabels) => void): void {
    for (let k = 0; k < this.count; k++) if (this.promoted[k] === 0) f(this.labels[k]!);
  }

  /** Adds buf[s..e) (hash h) -> labels; the caller checks count against its bound first. */
  add(r: ProtoReader, h: number, s: number, e: number, labels: SeriesLabels): void {
    const k = this.count;
    if (k === this.hashes.length) this.grow();
    const len = e - s;
    let chunk: number;
    let off: number;
    if (len > ARENA_CHUNK_BYTES / 8) {
      chunk = this.chunks.push(Buffer.allocUnsafeSlow(len)) - 1;
      off = 0;
    } else {
      if (this.chunkUsed + len > ARENA_CHUNK_BYTES) {
        this.sharedChunk = this.chunks.push(Buffer.allocUnsafeSlow(ARENA_CHUNK_BYTES)) - 1;
        this.chunkUsed = 0;
      }
      chunk = this.sharedChunk;
      off = this.chunkUsed;
      this.chunkUsed += len;
    }
    r.buf.copy(this.chunks[chunk]!, off, s, e);
    this.hashes[k] = h;
    this.chunkOf[k] = chunk;
    this.offsets[k] = off;
    this.lengths[k] = len;
    this.labels[k] = labels;
    this.count = k + 1;
    this.place(h, k);
  }

  private place(h: number, k: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = k + 1;
  }

  private grow(): void {
    const size = this.hashes.length * 2;
    const widen = (a: Int32Array) => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    this.hashes = widen(this.hashes);
    this.chunkOf = widen(this.chunkOf);
    this.offsets = widen(this.offsets);
    this.lengths = widen(this.lengths);
    const promoted = new Uint8Array(size);
    promoted.set(this.promoted);
    this.promoted = promoted;
    this.slots = new Int32Array(slotsFor(size));
    this.mask = this.slots.length - 1;
    for (let k = 0; k < this.count; k++) this.place(this.hashes[k], k);
  }
}

/** Probe slots for `entries` entries: a power of two, load factor at most 1/2. */
function slotsFor(entries: number): number {
  let n = 16;
  while (n < 2 * entries) n *= 2;
  return n;
}

/**
 * Raw label bytes -> SeriesLabels, bounded: two generations of `half`
 * entries; a hit in the old generation is promoted (its key copied into the
 * current generation, so the old one dies whole), a full young generation
 * becomes the old one and the previous old one is dropped.
 */
export class RawLabelCache {
  private young: RawGeneration;
  private old: RawGeneration | null = null;
  constructor(
    private readonly half: number,
    private readonly dropped?: (labels: SeriesLabels) => void,
  ) {
    this.young = new RawGeneration(Math.min(half, 1024));
  }

  /** False when the cache keeps nothing (size 0). */
  get enabled(): boolean {
    return this.half !== 0;
  }

  /** Look up r.buf[s..e) (its hash is `h`). */
  get(r: ProtoReader, h: number, s: number, e: number): SeriesLabels | undefined {
    const k = this.young.find(r, h, s, e);
    if (k >= 0) return this.young.labelsAt(k);
    if (this.old !== null) {
      const o = this.old.find(r, h, s, e);
      if (o >= 0) {
        const labels = this.old.labelsAt(o);
        this.old.markPromoted(o); // before insert(), which may drop this very generation
        this.insert(r, h, s, e, labels);
        return labels;
      }
    }
    return undefined;
  }

  /** Remember r.buf[s..e) (hash `h`) -> labels. */
  set(r: ProtoReader, h: number, s: number, e: number, labels: SeriesLabels): void {
    if (this.half !== 0) this.insert(r, h, s, e, labels);
  }

  private insert(r: ProtoReader, h: number, s: number, e: number, labels: SeriesLabels): void {
    if (this.young.count >= this.half) {
      const gone = this.old;
      this.old = this.young;
      // Sized like the generation it follows: it will most likely fill up the same way.
      this.young = new RawGeneration(this.half);
      if (gone !== null && this.dropped) gone.forEachUnpromoted(this.dropped);
    }
    this.young.add(r, h, s, e, labels);
  }

  get size(): number {
    return this.young.count + (this.old?.count ?? 0);
  }

  clear(): void {
    const young = this.young;
    const old = this.old;
    this.young = new RawGeneration(Math.min(this.half, 1024));
    this.old = null;
    if (this.dropped) {
      young.forEachUnpromoted(this.dropped);
      old?.forEachUnpromoted(this.dropped);
    }
  }
}

interface RefsEntry {
  /** Decoder-wide symbol ids of the label refs, in order. */
  readonly key: Int32Array;
  readonly labels: SeriesLabels;
  next: RefsEntry | undefined;
  /** Copied into the next generation (see RawGeneration). */
  promoted: boolean;
}

/**
 * RW2: label refs translated to decoder-wide symbol ids (stable across
 * requests) -> SeriesLabels, bounded like RawLabelCache.
 */
export class RefsLabelCache {
  private young = new Map<number, RefsEntry>();
  private old = new Map<number, RefsEntry>();
  private youngCount = 0;
  private oldCount = 0;
  constructor(
    private readonly half: number,
    private readonly dropped?: (labels: SeriesLabels) => void,
  ) {}

  get enabled(): boolean {
    return this.half !== 0;
  }

  get(h: number, ids: Int32Array, n: number): SeriesLabels | undefined {
    for (let x = this.young.get(h); x !== undefined; x = x.next) if (sameIds(x.key, ids, n)) return x.labels;
    for (let x = this.old.get(h); x !== undefined; x = x.next) {
      if (sameIds(x.key, ids, n)) {
        x.promoted = true; // before insert(), which may drop this very generation
        this.insert(h, x.key, x.labels);
        return x.labels;
      }
    }
    return undefined;
  }

  set(h: number, ids: Int32Array, n: number, labels: SeriesLabels): void {
    if (this.half === 0) return;
    this.insert(h, ids.slice(0, n), labels);
  }

  private insert(h: number, key: Int32Array, labels: SeriesLabels): void {
    if (this.youngCount >= this.half) {
      const gone = this.old;
      this.old = this.young;
      this.oldCount = this.youngCount;
      this.young = new Map();
      this.youngCount = 0;
      this.drop(gone);
    }
    this.young.set(h, { key, labels, next: this.young.get(h), promoted: false });
    this.youngCount++;
  }

  private drop(generation: Map<number, RefsEntry>): void {
    if (!this.dropped) return;
    for (const first of generation.values()) {
      for (let x: RefsEntry | undefined = first; x !== undefined; x = x.next) if (!x.promoted) this.dropped(x.labels);
    }
  }

  get size(): number {
    return this.youngCount + this.oldCount;
  }

  clear(): void {
    const young = this.young;
    const old = this.old;
    this.young = new Map();
    this.old = new Map();
    this.youngCount = 0;
    this.oldCount = 0;
    this.drop(young);
    this.drop(old);
  }
}

function sameIds(key: Int32Array, ids: Int32Array, n: number): boolean {
  if (key.length !== n) return false;
  for (let i = 0; i < n; i++) if (key[i] !== ids[i]) return false;
  return true;
}

export function hashIds(ids: Int32Array, n: number): number {
  let h = 0x9e3779b9 ^ n;
  for (let i = 0; i < n; i++) {
    h = Math.imul(h ^ ids[i], 0x85ebca6b);
    h = (h << 13) | (h >>> 19);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

