// The decoder's bounded caches of label sets: RW1 by the fingerprint of a series' raw
// label fields, RW2 by its label refs translated to decoder-wide symbol ids. k6 resends the
// same label sets on every push, so a hit skips decoding and validating them.
import type { SeriesLabels } from '../model/labels.ts';
import { KeyedHash } from '../model/keyed-hash.ts';

/**
 * One generation of the raw-bytes cache: an open-addressing table (linear probing)
 * over parallel typed arrays, keyed by a label set's length and 128-bit fingerprint
 * (codec.ts). Per entry: a probe slot, the fingerprint, the length and the
 * SeriesLabels, about 30 bytes, and no object of its own. The bytes themselves are
 * not kept: two label sets of the same length and fingerprint would be taken for one
 * (docs/sink.md says how unlikely).
 */
class RawGeneration {
  count = 0;
  /** Entry index + 1 per probe slot; 0 is empty. Length: a power of two, at least 2 × capacity. */
  private slots: Int32Array;
  private mask: number;
  /** Four words per entry. */
  private fingerprints: Int32Array;
  private lengths: Int32Array;
  /** 1 once the entry was copied into the next generation (the cache drops it with that one). */
  private promoted: Uint8Array;
  private labels: (SeriesLabels | undefined)[] = [];

  constructor(capacity: number) {
    const size = Math.max(16, capacity);
    this.fingerprints = new Int32Array(4 * size);
    this.lengths = new Int32Array(size);
    this.promoted = new Uint8Array(size);
    this.slots = new Int32Array(slotsFor(size));
    this.mask = this.slots.length - 1;
  }

  /** The entry of the label set with fingerprint `fp` and length `len`, or -1. */
  find(fp: Int32Array, len: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const f = this.fingerprints;
    const f0 = fp[0]!;
    for (let i = f0 & mask; ; i = (i + 1) & mask) {
      const x = slots[i]!;
      if (x === 0) return -1;
      const k = x - 1;
      const at = 4 * k;
      if (f[at] === f0 && f[at + 1] === fp[1] && f[at + 2] === fp[2] && f[at + 3] === fp[3] && this.lengths[k] === len) return k;
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

  /** Adds fp/len -> labels; the caller checks count against its bound first. */
  add(fp: Int32Array, len: number, labels: SeriesLabels): void {
    const k = this.count;
    if (k === this.lengths.length) this.grow();
    this.fingerprints.set(fp, 4 * k);
    this.lengths[k] = len;
    this.labels[k] = labels;
    this.count = k + 1;
    this.place(fp[0]!, k);
  }

  private place(h: number, k: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = k + 1;
  }

  private grow(): void {
    const size = this.lengths.length * 2;
    const fingerprints = new Int32Array(4 * size);
    fingerprints.set(this.fingerprints);
    this.fingerprints = fingerprints;
    const lengths = new Int32Array(size);
    lengths.set(this.lengths);
    this.lengths = lengths;
    const promoted = new Uint8Array(size);
    promoted.set(this.promoted);
    this.promoted = promoted;
    this.slots = new Int32Array(slotsFor(size));
    this.mask = this.slots.length - 1;
    for (let k = 0; k < this.count; k++) this.place(this.fingerprints[4 * k]!, k);
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

  /** The label set with fingerprint `fp` and length `len`. */
  get(fp: Int32Array, len: number): SeriesLabels | undefined {
    const k = this.young.find(fp, len);
    if (k >= 0) return this.young.labelsAt(k);
    if (this.old !== null) {
      const o = this.old.find(fp, len);
      if (o >= 0) {
        const labels = this.old.labelsAt(o);
        this.old.markPromoted(o); // before insert(), which may drop this very generation
        this.insert(fp, len, labels);
        return labels;
      }
    }
    return undefined;
  }

  /** Remember fp/len -> labels. */
  set(fp: Int32Array, len: number, labels: SeriesLabels): void {
    if (this.half !== 0) this.insert(fp, len, labels);
  }

  private insert(fp: Int32Array, len: number, labels: SeriesLabels): void {
    if (this.young.count >= this.half) {
      const gone = this.old;
      this.old = this.young;
      // Sized like the generation it follows: it will most likely fill up the same way.
      this.young = new RawGeneration(this.half);
      if (gone !== null && this.dropped) gone.forEachUnpromoted(this.dropped);
    }
    this.young.add(fp, len, labels);
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
 * requests) -> SeriesLabels, bounded like RawLabelCache. A client chooses the ids (the
 * order in which it first sends each symbol), so they are hashed with a key drawn for
 * this cache (model/keyed-hash.ts): nobody can make label sets share a chain.
 */
export class RefsLabelCache {
  private readonly hasher = new KeyedHash();
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

  /** The keyed hash of the first n ids: the key get() and set() take. */
  hash(ids: Int32Array, n: number): number {
    const h = this.hasher.begin();
    for (let i = 0; i < n; i++) h.word(ids[i]!);
    return h.finish();
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
