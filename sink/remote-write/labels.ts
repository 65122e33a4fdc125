// Label sets as the decoder hands them out: frozen SeriesLabels (model/labels.ts) shared
// while cached, and the interning that lets label sets share their strings.
import type { ProtoReader } from './wire.ts';
import { seriesIdentity, type SeriesLabels } from '../model/labels.ts';
import { KeyedHash } from '../model/keyed-hash.ts';

export const NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label names repeat across series; keep one copy of each (found by bytes, without decoding). */
const NAME_INTERN_MAX = 4096;
const NAME_SLOTS = 4096;

interface KnownName {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly next: KnownName | undefined;
}

/**
 * One string per distinct label name, looked up by the name's bytes in the reader's
 * buffer. The slot is a keyed hash of all the bytes (model/keyed-hash.ts): names a client
 * makes alike (same length, same first and last byte) do not pile up in one chain.
 */
export class LabelNameInterner {
  private slots: (KnownName | undefined)[] = new Array<KnownName | undefined>(NAME_SLOTS).fill(undefined);
  private count = 0;
  private readonly hasher = new KeyedHash();

  /** The label name in buf[start..end) (already validated as ASCII). */
  intern(r: ProtoReader, start: number, end: number): string {
    const buf = r.buf;
    const len = end - start;
    const slot = this.hasher.begin().bytes(buf, start, end).finish() & (NAME_SLOTS - 1);
    search: for (let x = this.slots[slot]; x !== undefined; x = x.next) {
      const b = x.bytes;
      if (b.length !== len) continue;
      for (let i = 0; i < len; i++) if (b[i] !== buf[start + i]) continue search;
      return x.name;
    }
    if (++this.count > NAME_INTERN_MAX) {
      this.slots.fill(undefined);
      this.count = 1;
    }
    const name = r.latin1(start, end);
    this.slots[slot] = { bytes: Uint8Array.prototype.slice.call(buf, start, end), name, next: this.slots[slot] };
    return name;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.count = 0;
  }
}

/**
 * Label values repeat across series (testid, method, status, url, ...): a new label
 * set shares the strings already held by earlier ones. Bounded: the table starts
 * over beyond this many distinct values (strings already shared stay shared).
 */
export const VALUE_INTERN_MAX = 1 << 16;
/** Label-name lists repeat even more: label sets with the same names share one frozen array. */
export const NAMES_INTERN_MAX = 4096;

/** One string per distinct value, bounded (see VALUE_INTERN_MAX). */
export class StringInterner {
  private map = new Map<string, string>();
  constructor(private readonly max: number) {}
  intern(s: string): string {
    const known = this.map.get(s);
    if (known !== undefined) return known;
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(s, s);
    return s;
  }
  clear(): void {
    this.map.clear();
  }
}

/** One frozen array per distinct list of (interned) label names, bounded. */
export class NamesInterner {
  private map = new Map<string, readonly string[]>();
  constructor(private readonly max: number) {}
  intern(names: string[]): readonly string[] {
    // Label names are [a-zA-Z0-9_]: a comma cannot be part of one.
    const key = names.join(',');
    const known = this.map.get(key);
    if (known !== undefined) return known;
    if (this.map.size >= this.max) this.map.clear();
    const shared = Object.freeze(names.slice());
    this.map.set(key, shared);
    return shared;
  }
  clear(): void {
    this.map.clear();
  }
}

/**
 * @internal SeriesLabels made from strings decoded elsewhere (a decode worker's
 * definitions, see decode-pool.ts), sharing strings and name lists with the label
 * sets made before, as the decoder's own do.
 */
export class SeriesLabelsFactory {
  private readonly valueStrings = new StringInterner(VALUE_INTERN_MAX);
  private readonly nameLists = new NamesInterner(NAMES_INTERN_MAX);

  /** `values` becomes the label set's own (interned in place and frozen): pass an array nobody else holds. */
  make(metricName: string, names: readonly string[], values: string[]): SeriesLabels {
    for (let k = 0; k < values.length; k++) values[k] = this.valueStrings.intern(values[k]!);
    return makeSeriesLabels(this.valueStrings.intern(metricName), this.nameLists.intern(names as string[]), values);
  }
}

/** The decoder's SeriesLabels: sealed, with frozen names and values; `id` computed when read (see SeriesLabels.id). */
class DecodedLabels implements SeriesLabels {
  gradeState: unknown = undefined;
  orderState: unknown = undefined;
  constructor(
    readonly metricName: string,
    readonly names: readonly string[],
    readonly values: readonly string[],
  ) {
    Object.seal(this);
  }

  get id(): string {
    return seriesIdentity(this.names, this.values);
  }
}

/** `names` is frozen (and shared) already, `values` is frozen here. */
export function makeSeriesLabels(metricName: string, names: readonly string[], values: string[]): SeriesLabels {
  return new DecodedLabels(metricName, names, Object.freeze(values));
}

