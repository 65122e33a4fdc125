// Label sets as the decoder hands them out: frozen SeriesLabels shared while cached,
// their identity strings, and the interning that lets label sets share their strings.
import type { ProtoReader } from './wire.ts';

/**
 * The decoded labels of one series. Immutable (frozen) and shared: while a
 * label set stays in the decoder's cache, every request that encodes it the
 * same way gets the same object, so consumers may use it as a Map/WeakMap key
 * for speed. `id` is the identity to rely on: the same label set sent with
 * different bytes (field order, unknown fields, RW1 vs RW2) may get distinct
 * objects with equal ids.
 */
export interface SeriesLabels {
  /**
   * Canonical identity: `metric{name="value",...}` with the other labels in
   * (validated, sorted) order and values escaped like the Prometheus text
   * format (\\, \", \n). A metric name that is not a legacy metric name is
   * written inside the braces, quoted: `{"my.metric",a="b"}`.
   *
   * On the objects the decoder makes it is computed from `names` and `values`
   * each time it is read (hundreds of bytes per series are not kept for it): keep
   * the string if you need it more than once.
   */
  readonly id: string;
  /** Value of the __name__ label. */
  readonly metricName: string;
  /** Label names, strictly increasing, including "__name__". */
  readonly names: readonly string[];
  /** Label values, parallel to `names`. */
  readonly values: readonly string[];
  /**
   * The only mutable part (names and values are frozen): the two consumers of a
   * decoder's batches, grading and the fan-out's order tracking, keep their state of
   * the series here, so that a series seen again costs no lookup. Fields, not objects
   * of their own: a sink holds hundreds of thousands of label sets.
   */
  gradeState?: unknown;
  orderState?: unknown;
}


export const NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LEGACY_METRIC_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const NEEDS_ESCAPE_RE = /[\\"\n]/;

function escapeValue(v: string): string {
  return NEEDS_ESCAPE_RE.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** Build the canonical identity string (see SeriesLabels.id). */
export function seriesIdentity(names: readonly string[], values: readonly string[]): string {
  let metric = '';
  let body = '';
  for (let k = 0; k < names.length; k++) {
    if (names[k] === '__name__') {
      metric = values[k];
      continue;
    }
    body += `${body === '' ? '' : ','}${names[k]}="${escapeValue(values[k])}"`;
  }
  if (LEGACY_METRIC_RE.test(metric)) return `${metric}{${body}}`;
  return `{"${escapeValue(metric)}"${body === '' ? '' : ','}${body}}`;
}

/**
 * The identity without the metric name, `{name="value",...}` (what follows the
 * metric name in `seriesIdentity` for a legacy metric name), as one flat string.
 */
export function labelsIdentity(names: readonly string[], values: readonly string[]): string {
  const parts: string[] = ['{'];
  for (let k = 0; k < names.length; k++) {
    if (names[k] === '__name__') continue;
    if (parts.length > 1) parts.push(',');
    parts.push(names[k], '="', escapeValue(values[k]), '"');
  }
  parts.push('}');
  return parts.join('');
}

/** Label names repeat across series; keep one copy of each (found by bytes, without decoding). */
const NAME_INTERN_MAX = 4096;
const NAME_SLOTS = 512;

interface KnownName {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly next: KnownName | undefined;
}

/** One string per distinct label name, looked up by the name's bytes in the reader's buffer. */
export class LabelNameInterner {
  private slots: (KnownName | undefined)[] = new Array<KnownName | undefined>(NAME_SLOTS).fill(undefined);
  private count = 0;

  /** The label name in buf[start..end) (already validated as ASCII). */
  intern(r: ProtoReader, start: number, end: number): string {
    const buf = r.buf;
    const len = end - start;
    const slot = (len * 31 + buf[start]! * 7 + buf[end - 1]!) & (NAME_SLOTS - 1);
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

