// A series' label set, the data every stage shares: its names and values, its identity,
// and the look-ups grading and the fan-out make on it. The decoder makes them
// (remote-write/labels.ts); nothing here decodes.
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

/** Tags a sub-metric selects on, as k6 writes them: `{page_type:product,status:200}`. */
export type Selector = Readonly<Record<string, string>>;

/** The value of label `name`, or undefined. */
export function label(labels: SeriesLabels, name: string): string | undefined {
  const i = labels.names.indexOf(name);
  return i < 0 ? undefined : labels.values[i];
}

/** Does the label set carry every tag of the selector, with its value? */
export function matches(labels: SeriesLabels, selector: Selector): boolean {
  for (const name in selector) if (label(labels, name) !== selector[name]) return false;
  return true;
}
