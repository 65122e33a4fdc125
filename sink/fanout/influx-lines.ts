// InfluxDB line protocol for what the sink receives: one decoded remote-write
// batch (k6's experimental-prometheus-rw output) becomes one text body for
// POST /write?precision=ms, and a run's grade becomes `promo_grade` lines.
// The mapping and every escaping decision are described in docs/influx-mapping.md;
// the escaping rules were checked against a real InfluxDB 1.6 (influxd).
//
// Speed: this runs once per accepted request. Everything that depends only on a
// series' labels (measurement, field name, unit factor, escaped tag set, url field)
// is computed once per `SeriesLabels` object and cached in a WeakMap: the decoder
// hands out the same frozen object every time k6 resends a label set. Per sample
// the work is a stale/finite check, one multiplication and one string concatenation.
import type { DecodedBatch } from '../model/batch.ts';
import type { SeriesLabels } from '../model/labels.ts';
import { HistogramAccumulator } from '../model/histogram-math.ts';
import { H_COUNT, H_SUM } from '../model/histogram.ts';
import type { Figures } from '../model/run-events.ts';
import { RUN_TAG_NAMES } from '../../lib/tags.ts';

// ---------------------------------------------------------------------------
// Public types and constants

export interface InfluxLines {
  /** The lines, joined with "\n" (no trailing newline); "" when nothing was written. */
  lines: string;
  /** Number of lines in `lines`. */
  lines_count: number;
  /** Samples and histograms that produced no line: skipped_stale + skipped_non_finite. */
  skipped: number;
  /** Prometheus stale markers (samples, or histograms whose sum is the stale NaN). */
  skipped_stale: number;
  /** Samples whose value is NaN or ±Inf, and histograms with no finite field. */
  skipped_non_finite: number;
  /** Single NaN/±Inf fields left out of lines that were still written (e.g. the quantiles of an empty histogram). */
  skipped_fields: number;
}

export interface InfluxLineOptions {
  /**
   * Extra trend names (without `k6_` and the stat suffix, e.g. "checkout_time")
   * whose trend stats are times: k6 sends them in seconds and they are written in ms.
   */
  timeTrends?: Iterable<string>;
}

/** k6's built-in trends of type Time (go.k6.io/k6 metrics/builtin.go, browser and gRPC modules). */
export const K6_TIME_TRENDS: ReadonlySet<string> = new Set([
  'http_req_duration',
  'http_req_blocked',
  'http_req_connecting',
  'http_req_tls_handshaking',
  'http_req_sending',
  'http_req_waiting',
  'http_req_receiving',
  'iteration_duration',
  'group_duration',
  'ws_connecting',
  'ws_session_duration',
  'ws_ping',
  'grpc_req_duration',
  'browser_http_req_duration',
  'browser_web_vital_ttfb',
  'browser_web_vital_lcp',
  'browser_web_vital_inp',
  'browser_web_vital_fcp',
]);

/** k6 gauges whose name ends like a trend stat: they stay gauges. */
const K6_GAUGES: ReadonlySet<string> = new Set(['vus', 'vus_max']);

/** Trend-stat suffixes k6 appends (`p(99.9)` becomes `p999`). */
const TREND_STAT = /^(.+)_(avg|min|max|med|count|sum|p[0-9]+)$/;

/** Quantile fields written for each native histogram. */
export const HISTOGRAM_QUANTILES: ReadonlyArray<readonly [field: string, q: number]> = [
  ['p50', 0.5],
  ['p90', 0.9],
  ['p95', 0.95],
  ['p99', 0.99],
];

/** The grade measurement. */
export const GRADE_MEASUREMENT = 'promo_grade';
export const THRESHOLD_MEASUREMENT = 'promo_threshold';
/** A ramp's capacity forecast (issue 22): field rps, tag bound (peak, low, high). */
export const FORECAST_MEASUREMENT = 'promo_capacity_forecast';

/** Run tags copied onto grade lines (when present and non-empty): the standard tags but testid (lib/tags.ts). */
export const GRADE_RUN_TAGS = RUN_TAG_NAMES;

/** What InfluxDB 1.x cannot store at some place is written as this character. */
export const UNREPRESENTABLE = '\uFFFD';

// ---------------------------------------------------------------------------
// Metric-name mapping

export interface SampleMapping {
  measurement: string;
  /** "value", or the trend stat ("p95", "avg", "count", ...). */
  field: string;
  /** Multiply the value by this (1000 for time trend stats: s → ms). */
  scale: number;
  /** Round after scaling: the `count` stat of a time trend, which k6 divides by 1000 too. */
  round: boolean;
}

export interface HistogramMapping {
  measurement: string;
  /** 1000 for `_seconds` histograms (s → ms), 1 otherwise. */
  scale: number;
}

/**
 * Measurement and field of a plain sample of metric `name`. Only `k6_` metrics are
 * renamed: `k6_x_total` (counter), `k6_x_rate` (rate) and `k6_x` (gauge) go to
 * measurement `x`, field `value`; a trend stat `k6_x_<stat>` goes to measurement
 * `x`, field `<stat>`, in ms when `x` is a time trend.
 */
export function sampleMapping(name: string, isTimeTrend: (trend: string) => boolean = defaultIsTimeTrend): SampleMapping {
  if (!name.startsWith('k6_') || name.length === 3) return { measurement: name, field: 'value', scale: 1, round: false };
  const base = name.slice(3);
  if (K6_GAUGES.has(base)) return { measurement: base, field: 'value', scale: 1, round: false };
  if (base.endsWith('_total') && base.length > 6) return { measurement: base.slice(0, -6), field: 'value', scale: 1, round: false };
  if (base.endsWith('_rate') && base.length > 5) return { measurement: base.slice(0, -5), field: 'value', scale: 1, round: false };
  const m = TREND_STAT.exec(base);
  if (m !== null) {
    const time = isTimeTrend(m[1]);
    return { measurement: m[1], field: m[2], scale: time ? 1000 : 1, round: time && m[2] === 'count' };
  }
  return { measurement: base, field: 'value', scale: 1, round: false };
}

/** Measurement of a native histogram of metric `name`: `k6_x_seconds` → `x` (ms), `k6_x_bytes` → `x`, `k6_x` → `x`. */
export function histogramMapping(name: string): HistogramMapping {
  if (!name.startsWith('k6_') || name.length === 3) return { measurement: name, scale: 1 };
  const base = name.slice(3);
  if (base.endsWith('_seconds') && base.length > 8) return { measurement: base.slice(0, -8), scale: 1000 };
  if (base.endsWith('_bytes') && base.length > 6) return { measurement: base.slice(0, -6), scale: 1 };
  return { measurement: base, scale: 1 };
}

function defaultIsTimeTrend(trend: string): boolean {
  return K6_TIME_TRENDS.has(trend) || trend.includes('duration');
}

// ---------------------------------------------------------------------------
// Escaping (InfluxDB 1.x line protocol, as influxd 1.6 parses it)
//
// The escapes are those of InfluxDB's client libraries (influxdb-client-js, Telegraf):
// a backslash before `,` and space (measurements), before `,`, `=` and space (tag keys,
// tag values, field keys), before `"` and `\` (string fields), and a newline written as
// the two characters `\n`. Two rules go further, because InfluxDB 1.x reads a body twice
// and the two readings disagree about backslashes:
// - First it cuts the body into lines. That scan takes every backslash as escaping the
//   byte after it (so `\\` is a pair), and a newline ends the line unless it is inside
//   a quoted string field it has seen start. Then it parses each line, where a `,`, `=`
//   or space is escaped when the byte *before* it is a backslash.
//   A label value with a backslash before a space, escaped as the client libraries do
//   (`a\ b` → `a\\ b`), is one tag value to the parser but the end of the tags to the
//   line scan; a `"` later in the tags then opens a "string" for the line scan, and a
//   newline inside the next real string field ends the line: what follows it is parsed
//   as lines of the attacker's choosing (issue 23: a made-up measurement, a fake
//   promo_grade point for another testid). So
// - no raw newline ever leaves this encoder, in string fields either: every line break
//   in a body is one this module put there, whatever the rest of the line holds;
// - where the two readings would disagree, the value's backslash cannot be stored and
//   becomes U+FFFD (see `escapeName`).
// docs/influx-mapping.md lists what each place stores; test/integration/influx-escaping.test.ts
// checks it against a real InfluxDB 1.x with random Unicode.

type NamePlace = 'measurement' | 'tag' | 'fieldKey';

/** Characters that get a backslash, by place. */
const ESCAPED: Record<NamePlace, string> = { measurement: ', ', tag: ',= ', fieldKey: ',= ' };
/** Strings with none of these need no work (the common case: k6's own names and tags). */
const NAME_SPECIAL = /[\\, =\n\t#\0"]/;
const STRING_SPECIAL = /[\\"\n]/;

/**
 * Can the last of `run` backslashes of the value be stored right before `next` ('' at
 * the end)? Never at the end: it would escape the separator that follows. In a
 * measurement, never before `,`, space, `=` or `"`: InfluxDB 1.x unescapes measurement
 * names twice, so `\\,` is stored as `,`. In a tag, not an odd run before a space: the
 * written run (one more backslash) would be even, and the line scan would see the
 * space as unescaped. In a field key (fields are scanned by the line scan's rules)
 * the same holds before `,`, `=` and space.
 */
function backslashStorable(place: NamePlace, run: number, next: string): boolean {
  if (next === '') return false;
  if (place === 'measurement') return next !== ',' && next !== ' ' && next !== '=' && next !== '"';
  if (place === 'tag') return next !== ' ' || run % 2 === 0;
  return (next !== ' ' && next !== ',' && next !== '=') || run % 2 === 0;
}

/**
 * A measurement, tag key, tag value or field key, escaped for `place`. A newline is
 * written as the two characters `\n` (InfluxDB 1.x has no escape for it outside
 * strings). A backslash that cannot be stored (`backslashStorable`) becomes U+FFFD, and
 * so does a measurement's first character when it is `#` (the line would be a comment),
 * a tab or a NUL (they would be trimmed away).
 */
function escapeName(s: string, place: NamePlace): string {
  if (!NAME_SPECIAL.test(s)) return s;
  const escaped = ESCAPED[place];
  let out = '';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      out += c;
      run++;
      continue;
    }
    if (run > 0 && !backslashStorable(place, run, c)) out = out.slice(0, -1) + UNREPRESENTABLE;
    run = 0;
    if (c === '\n') out += '\\n';
    else if (escaped.includes(c)) out += '\\' + c;
    else if (i === 0 && place === 'measurement' && (c === '#' || c === '\t' || c === '\0')) out += UNREPRESENTABLE;
    else out += c;
  }
  if (run > 0) out = out.slice(0, -1) + UNREPRESENTABLE;
  return out;
}

/** A measurement name, escaped (see `escapeName`). */
export function escapeMeasurement(name: string): string {
  return escapeName(name, 'measurement');
}

/** A field key, escaped (see `escapeName`). */
export function escapeFieldKey(key: string): string {
  return escapeName(key, 'fieldKey');
}

/** A tag key or value, escaped (see `escapeName`). */
export function escapeTag(s: string): string {
  return escapeName(s, 'tag');
}

/**
 * A string field value, double-quoted: `"` and `\` get a backslash (InfluxDB 1.x
 * unescapes both), a newline is written as the two characters `\n` (stored so). Anything
 * else is written raw and stored exactly.
 */
export function quoteString(s: string): string {
  if (!STRING_SPECIAL.test(s)) return `"${s}"`;
  return `"${s.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c))}"`;
}

/** Escaped `,k=v` pairs (sorted by key, empty values dropped); `url` and `__name__` are left out. */
function tagSet(labels: SeriesLabels): { tags: string; url: string } {
  const names = labels.names;
  const values = labels.values;
  let sorted = true;
  for (let k = 1; k < names.length; k++) if (names[k] <= names[k - 1]) sorted = false;
  const order = names.map((_, k) => k);
  if (!sorted) order.sort((a, b) => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0));
  let tags = '';
  let url = '';
  for (const k of order) {
    const name = names[k];
    const value = values[k];
    if (value === '') continue;
    if (name === '__name__') continue;
    if (name === 'url') url = `,url=${quoteString(value)}`;
    else tags += `,${escapeTag(name)}=${escapeTag(value)}`;
  }
  return { tags, url };
}

// ---------------------------------------------------------------------------
// The encoder

interface SeriesLines {
  /** `measurement,tags field=` for plain samples (built on first use). */
  samplePrefix: string | undefined;
  sampleScale: number;
  sampleRound: boolean;
  /** `measurement,tags ` for histograms (built on first use). */
  histogramPrefix: string | undefined;
  histogramScale: number;
  /** `,url="..."` then the space before the timestamp. */
  suffix: string;
  tags: string;
}

function fmt(v: number): string {
  // Shortest round-trip form; InfluxDB reads "1e+21" and "5e-7" as floats. Never "-0".
  return v === 0 ? '0' : String(v);
}

export class InfluxLineEncoder {
  private readonly cache = new WeakMap<SeriesLabels, SeriesLines>();
  private readonly acc = new HistogramAccumulator();
  private readonly isTimeTrend: (trend: string) => boolean;

  constructor(options: InfluxLineOptions = {}) {
    const extra = new Set(options.timeTrends ?? []);
    this.isTimeTrend = extra.size === 0 ? defaultIsTimeTrend : (t) => extra.has(t) || defaultIsTimeTrend(t);
  }

  private series(labels: SeriesLabels): SeriesLines {
    let s = this.cache.get(labels);
    if (s === undefined) {
      const { tags, url } = tagSet(labels);
      s = {
        samplePrefix: undefined,
        sampleScale: 1,
        sampleRound: false,
        histogramPrefix: undefined,
        histogramScale: 1,
        suffix: url + ' ',
        tags,
      };
      this.cache.set(labels, s);
    }
    return s;
  }

  private samplePrefix(labels: SeriesLabels, s: SeriesLines): string {
    const m = sampleMapping(labels.metricName, this.isTimeTrend);
    s.sampleScale = m.scale;
    s.sampleRound = m.round;
    return (s.samplePrefix = `${escapeMeasurement(m.measurement)}${s.tags} ${escapeFieldKey(m.field)}=`);
  }

  private histogramPrefix(labels: SeriesLabels, s: SeriesLines): string {
    const m = histogramMapping(labels.metricName);
    s.histogramScale = m.scale;
    return (s.histogramPrefix = `${escapeMeasurement(m.measurement)}${s.tags} `);
  }

  /** Line protocol for every sample and native histogram of `batch` (ms timestamps). */
  encode(batch: DecodedBatch): InfluxLines {
    let out = '';
    let lines = 0;
    let stale = 0;
    let nonFinite = 0;
    let skippedFields = 0;
    const values = batch.sampleValues;
    const timestamps = batch.sampleTimestamps;
    const sampleStart = batch.sampleStart;
    const histogramStart = batch.histogramStart;
    const n = batch.seriesCount;
    for (let i = 0; i < n; i++) {
      const labels = batch.series[i];
      const s = this.series(labels);
      const k1 = sampleStart[i + 1];
      let k = sampleStart[i];
      if (k < k1) {
        const prefix = s.samplePrefix ?? this.samplePrefix(labels, s);
        const scale = s.sampleScale;
        for (; k < k1; k++) {
          let v = values[k];
          if (v !== v || v === Infinity || v === -Infinity) {
            if (batch.isStaleSample(k)) stale++;
            else nonFinite++;
            continue;
          }
          if (scale !== 1) {
            v *= scale;
            if (s.sampleRound) v = Math.round(v);
            if (v === Infinity || v === -Infinity) {
              nonFinite++;
              continue;
            }
          }
          const line = prefix + fmt(v) + s.suffix + timestamps[k];
          out = lines === 0 ? line : out + '\n' + line;
          lines++;
        }
      }
      const h1 = histogramStart[i + 1];
      for (let j = histogramStart[i]; j < h1; j++) {
        if (batch.isStaleHistogram(j)) {
          stale++;
          continue;
        }
        const prefix = s.histogramPrefix ?? this.histogramPrefix(labels, s);
        const fields = this.histogramFields(batch.histogramRecords, batch.histogramAt[j]!, s.histogramScale);
        skippedFields += fields.skipped;
        if (fields.text === '') {
          nonFinite++;
          continue;
        }
        const line = prefix + fields.text + s.suffix + batch.histogramTimestamp(j);
        out = lines === 0 ? line : out + '\n' + line;
        lines++;
      }
    }
    return {
      lines: out,
      lines_count: lines,
      skipped: stale + nonFinite,
      skipped_stale: stale,
      skipped_non_finite: nonFinite,
      skipped_fields: skippedFields,
    };
  }

  /** `count=…,sum=…,p50=…,…` of one cumulative histogram, without NaN/±Inf fields. */
  private histogramFields(records: Float64Array, at: number, scale: number): { text: string; skipped: number } {
    let text = '';
    let skipped = 0;
    const add = (field: string, v: number) => {
      if (Number.isFinite(v)) text += (text === '' ? '' : ',') + field + '=' + fmt(v);
      else skipped++;
    };
    add('count', records[at + H_COUNT]!);
    add('sum', records[at + H_SUM]! * scale);
    let quantiles = true;
    const acc = this.acc;
    acc.reset();
    try {
      acc.addRecord(records, at, 1);
    } catch {
      quantiles = false; // a schema the accumulator does not handle (e.g. custom buckets)
    }
    for (const [field, q] of HISTOGRAM_QUANTILES) add(field, quantiles ? acc.k6Percentile(q) * scale : NaN);
    return { text, skipped };
  }
}

let defaultEncoder: InfluxLineEncoder | undefined;

/** Line protocol for a whole decoded batch, with a shared default encoder (see `InfluxLineEncoder`). */
export function batchToLines(batch: DecodedBatch): InfluxLines {
  defaultEncoder ??= new InfluxLineEncoder();
  return defaultEncoder.encode(batch);
}

// ---------------------------------------------------------------------------
// Grade lines

function gradeLine(tagPart: string, window: string, f: Figures, timestamp: number): string {
  let fields = '';
  const num = (name: string, v: number | null) => {
    if (v !== null && Number.isFinite(v)) fields += `,${name}=${fmt(v)}`;
  };
  num('score', f.grade.score);
  fields += `,grade=${quoteString(f.grade.letter)}`;
  // A withheld grade says why in words: "The test could not reach the shop: 100 % of requests were refused (…)".
  if (f.grade.letter === 'N/A' && f.grade.reason) fields += `,why=${quoteString(f.grade.reason)}`;
  num('p95_ms', f.p95Ms);
  num('error_ratio', f.errorRatio);
  num('rps', f.rps);
  num('vus', f.vus);
  // Tag keys sorted: window comes after every run tag and testid.
  return `${GRADE_MEASUREMENT}${tagPart},window=${window} ${fields.slice(1)} ${timestamp}`;
}

/**
 * Two `promo_grade` lines (window=live and window=run) for one run. Tags: testid,
 * window and the run tags of GRADE_RUN_TAGS found in `tags`; fields: score (left
 * out when N/A), grade (the letter, or "N/A"), p95_ms, error_ratio, rps (each left
 * out when unknown) and vus.
 */
export function gradeLines(
  testid: string,
  tags: Record<string, string>,
  figures: { live: Figures; run: Figures },
  timestampMs: number,
  thresholds: ReadonlyArray<{ metric: string; threshold: string; ok: boolean | null; value: number | null; requests: number }> = [],
  /** The run's capacity forecast, bound by bound (model/run-events.ts forecastBounds): a promo_capacity_forecast line each. */
  forecast: ReadonlyArray<readonly [string, number]> = [],
): string {
  const pairs: Array<[string, string]> = [];
  for (const key of GRADE_RUN_TAGS) {
    const v = tags[key];
    if (v !== undefined && v !== '') pairs.push([key, v]);
  }
  if (testid !== '') pairs.push(['testid', testid]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  let tagPart = '';
  for (const [k, v] of pairs) tagPart += `,${escapeTag(k)}=${escapeTag(v)}`;
  const ts = Math.round(timestampMs);
  let out = `${gradeLine(tagPart, 'live', figures.live, ts)}\n${gradeLine(tagPart, 'run', figures.run, ts)}`;
  // promo_threshold: the merged verdict of each judged threshold (ok 1 or 0), tagged by metric and expression.
  for (const th of thresholds) {
    if (th.ok === null) continue;
    const thTags = [...pairs, ['metric', th.metric], ['threshold', th.threshold]].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    let fields = `ok=${th.ok ? 1 : 0},requests=${fmt(th.requests)}`;
    if (th.value !== null && Number.isFinite(th.value)) fields += `,value=${fmt(th.value)}`;
    out += `\n${THRESHOLD_MEASUREMENT}${thTags.map(([k, v]) => `,${escapeTag(k!)}=${escapeTag(v!)}`).join('')} ${fields} ${ts}`;
  }
  // promo_capacity_forecast: the forecast's peak and band (field rps), tagged by bound, as promo_capacity_forecast_rps{bound} in Prometheus.
  for (const [bound, rps] of forecast) {
    const fTags = [...pairs, ['bound', bound]].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    out += `\n${FORECAST_MEASUREMENT}${fTags.map(([k, v]) => `,${escapeTag(k!)}=${escapeTag(v!)}`).join('')} rps=${fmt(rps)} ${ts}`;
  }
  return out;
}
