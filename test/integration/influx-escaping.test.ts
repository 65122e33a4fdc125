// The line protocol of sink/influx-lines.ts against a real InfluxDB 1.x (Debian's
// influxd): label values full of special characters are decoded from a real
// remote-write protobuf, written, and read back with InfluxQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import type { DecodedBatch } from '../../sink/model/batch.ts';
import { HistogramAccumulator } from '../../sink/model/histogram-math.ts';
import { recordOf } from '../../sink/model/histogram.ts';
import { UNREPRESENTABLE, batchToLines, gradeLines } from '../../sink/fanout/influx-lines.ts';
import type { Figures } from '../../sink/model/run-events.ts';
import { startInfluxDB, type InfluxDB } from '../../fixtures/influxdb.ts';
import { encodeV1, type HistogramObj, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';
import { T0, series } from '../sink/fixtures/series.ts';
import { mulberry32 } from '../sink/fixtures/mutations.ts';

function decode(...ts: TimeSeriesObj[]): DecodedBatch {
  return new RemoteWriteDecoder().decode(encodeV1({ timeseries: ts }), 1);
}

/** Label values that exercise every rule of the line protocol. */
const NASTY = [
  'plain',
  'comma,inside',
  'space inside',
  'equals=inside',
  'all, of=them together',
  '"double quoted"',
  "it's",
  'back\\slash',
  'C:\\path\\to\\file.txt',
  'backslash before comma\\,x',
  'backslash before space\\ x',
  'backslash before equals\\=x',
  'backslash before quote\\"x',
  'two backslashes before comma\\\\,x',
  '  leading and trailing spaces  ',
  '=leading equals',
  ',leading comma',
  '\\leading backslash',
  'tab\there',
  'carriage\rreturn',
  'ünïcödé ✓ 😀 中文',
  'nul\u0000byte',
  '#hash',
  'x',
  'newline\ninside',
  'trailing newline\n',
  'trailing backslash\\',
  'two trailing backslashes\\\\',
];

// What InfluxDB 1.x stores, as docs/influx-mapping.md lists it: exactly what was sent, but
// for the documented lossy cases.
/** A tag value: a newline is `\n`; a trailing backslash, and the last of an odd run of backslashes before a space, are U+FFFD. */
function storedTag(v: string): string {
  return v
    .replace(/(?<!\\)((?:\\\\)*)\\(?= )/g, `$1${UNREPRESENTABLE}`)
    .replace(/\\$/, UNREPRESENTABLE)
    .replace(/\n/g, '\\n');
}
/** A string field: a newline is `\n`. */
const storedString = (v: string) => v.replace(/\n/g, '\\n');
/** A measurement: a newline is `\n`; a backslash before `,`, space, `=`, `"` or at the end, and a leading `#`, tab or NUL, are U+FFFD. */
function storedMeasurement(v: string): string {
  return v
    .replace(/\\(?=[, ="]|$)/g, UNREPRESENTABLE)
    .replace(/^[#\t\0]/, UNREPRESENTABLE)
    .replace(/\n/g, '\\n');
}

/** Characters with a meaning somewhere in the line protocol, drawn half of the time. */
const SPECIAL = ['\\', '\\', '\\', ',', ' ', '=', '"', "'", '\n', '\r', '\t', '\0', '#', 'n'];

/** A random string of 1–16 characters: specials, printable ASCII, any BMP character but surrogates, astral characters. */
function randomValue(rand: () => number): string {
  let s = '';
  for (let n = 1 + Math.floor(rand() * 16); n > 0; n--) {
    const r = rand();
    if (r < 0.5) s += SPECIAL[Math.floor(rand() * SPECIAL.length)];
    else if (r < 0.7) s += String.fromCharCode(0x20 + Math.floor(rand() * 95));
    else if (r < 0.9) {
      const cp = Math.floor(rand() * 0xf800);
      s += String.fromCodePoint(cp < 0xd800 ? cp : cp + 0x800);
    } else s += String.fromCodePoint(0x10000 + Math.floor(rand() * 0xfffff));
  }
  return s;
}

/** Rows of a SELECT as objects keyed by column. */
function rows(result: any): Array<Record<string, any>> {
  const out: Array<Record<string, any>> = [];
  for (const s of result.results[0].series ?? []) {
    for (const v of s.values) out.push(Object.fromEntries(s.columns.map((c: string, i: number) => [c, v[i]])));
  }
  return out;
}

async function writeOk(influx: InfluxDB, lines: string, db: string): Promise<void> {
  const res = await influx.write(lines, db);
  const body = await res.text();
  expect({ status: res.status, body }).toEqual({ status: 204, body: '' });
}

describe('influx line protocol against a real InfluxDB 1.x', () => {
  let influx: InfluxDB;

  beforeAll(async () => {
    influx = await startInfluxDB();
  }, 120_000);

  afterAll(async () => {
    await influx?.stop();
  });

  it('round-trips tag values and the url field full of special characters', async () => {
    await influx.query('CREATE DATABASE esc');
    const batch = decode(
      ...NASTY.map((v, i) =>
        series('k6_http_reqs_total', { testid: 'esc', case_no: String(i).padStart(2, '0'), group: `::${v}`, name: v, zz_last: v, url: v }, [[T0 + i, i + 1]]),
      ),
    );
    const out = batchToLines(batch);
    expect(out.lines_count).toBe(NASTY.length);
    await writeOk(influx, out.lines, 'esc');

    const got = rows(await influx.query(`SELECT * FROM http_reqs WHERE testid = 'esc'`, 'esc'));
    expect(got).toHaveLength(NASTY.length);
    for (const row of got) {
      const i = Number(row.case_no);
      const v = NASTY[i];
      expect({ i, time: Date.parse(row.time), value: row.value, name: row.name, group: row.group, zz_last: row.zz_last, url: row.url }).toEqual({
        i,
        time: T0 + i,
        value: i + 1,
        name: storedTag(v),
        group: storedTag(`::${v}`),
        zz_last: storedTag(v),
        url: storedString(v), // exact but for newlines, trailing backslashes included
      });
    }

    // Exact for everything but newlines, a trailing backslash and one backslash before a space.
    const exact = NASTY.filter((v) => !v.includes('\n') && !v.endsWith('\\') && !v.includes('\\ '));
    expect(exact.length).toBe(NASTY.length - 5);
    for (const v of exact) expect(storedTag(v)).toBe(v);

    const tagValues = await influx.query('SHOW TAG VALUES FROM http_reqs WITH KEY = "name"', 'esc');
    const names = tagValues.results[0].series[0].values.map((kv: [string, string]) => kv[1]);
    expect([...names].sort()).toEqual(NASTY.map(storedTag).sort());
  });

  it('stores random Unicode label values, urls and metric names as sent, but for the documented lossy cases', async () => {
    await influx.query('CREATE DATABASE prop');
    for (const seed of [1, 2, 3]) {
      const rand = mulberry32(seed);
      const values = Array.from({ length: 300 }, () => randomValue(rand));
      const labelled = batchToLines(
        decode(...values.map((v, i) => series('k6_http_reqs_total', { testid: `prop-${seed}`, case_no: String(i).padStart(3, '0'), v, url: v }, [[T0 + i, i]]))),
      );
      // One line per point, and no newline but between lines: nothing a value holds can start a line.
      expect({ seed, lines: labelled.lines_count, newlines: labelled.lines.split('\n').length }).toEqual({ seed, lines: values.length, newlines: values.length });
      await writeOk(influx, labelled.lines, 'prop');
      const got = rows(await influx.query(`SELECT * FROM http_reqs WHERE testid = 'prop-${seed}'`, 'prop'));
      expect(got).toHaveLength(values.length);
      for (const row of got) {
        const v = values[Number(row.case_no)]!;
        expect({ seed, v, tag: row.v, url: row.url }).toEqual({ seed, v, tag: storedTag(v), url: storedString(v) });
      }

      const names = values.filter((v) => !v.startsWith('k6_'));
      const named = batchToLines(decode(...names.map((v, i) => series(v, { seed: String(seed), case_no: String(i) }, [[T0, i]]))));
      expect(named.lines.split('\n')).toHaveLength(names.length);
      await influx.query(`CREATE DATABASE meas_${seed}`);
      await writeOk(influx, named.lines, `meas_${seed}`);
      const measurements = (await influx.query('SHOW MEASUREMENTS', `meas_${seed}`)).results[0].series[0].values.map((m: string[]) => m[0]);
      expect({ seed, measurements: [...measurements].sort() }).toEqual({ seed, measurements: [...new Set(names.map(storedMeasurement))].sort() });
    }
  });

  it('a label crafted to inject lines (issue 23) is stored as one tag value: no made-up measurement, no fake grade for another run', async () => {
    await influx.query('CREATE DATABASE inject');
    const fake = `\npromo_grade,testid=victim,window=run score=100,p95_ms=1 ${T0}\nmadeup value=1 ${T0}\n`;
    const out = batchToLines(decode(series('k6_http_reqs_total', { testid: 'attacker', name: 'a\\ \\="', url: `http://shop.test/${fake}` }, [[T0, 1]])));
    const res = await influx.write(out.lines, 'inject');
    const body = await res.text();
    const measurements = (await influx.query('SHOW MEASUREMENTS', 'inject')).results[0].series?.[0].values.map((m: string[]) => m[0]);
    // Before the fix: ['http_reqs'] was missing (a partial write), and 'madeup' and 'promo_grade' (testid=victim) were there.
    expect(measurements).toEqual(['http_reqs']);
    expect({ status: res.status, body }).toEqual({ status: 204, body: '' });
    expect(rows(await influx.query('SELECT * FROM http_reqs', 'inject')).map(({ name, testid, url, value }) => ({ name, testid, url, value }))).toEqual([
      { name: `a${UNREPRESENTABLE} \\="`, testid: 'attacker', url: `http://shop.test/${storedString(fake)}`, value: 1 },
    ]);
  });

  it('keeps measurement names of non-k6 metrics, escaped', async () => {
    await influx.query('CREATE DATABASE meas');
    const names: Array<[string, string]> = [
      ['shop metric, v2', 'shop metric, v2'],
      ['a=b', 'a=b'],
      ['uni 😀', 'uni 😀'],
      ['quote"d', 'quote"d'],
      ['back\\slash', 'back\\slash'],
      ['#hash', `${UNREPRESENTABLE}hash`],
      ['x\\,y', `x${UNREPRESENTABLE},y`],
      ['ends\\', `ends${UNREPRESENTABLE}`],
      ['two\nlines', 'two\\nlines'],
    ];
    const out = batchToLines(decode(...names.map(([n], i) => series(n, { k: String(i) }, [[T0, i]]))));
    expect(out.lines_count).toBe(names.length);
    await writeOk(influx, out.lines, 'meas');
    const got = (await influx.query('SHOW MEASUREMENTS', 'meas')).results[0].series[0].values.map((v: string[]) => v[0]);
    expect([...got].sort()).toEqual(names.map(([, stored]) => stored).sort());
  });

  it('stores a k6 push (counters, rates, gauges, trend stats, native histograms) and grades with stable field types', async () => {
    await influx.query('CREATE DATABASE k6');
    const tags = { testid: 'run-1', scenario: 'browse', method: 'GET', name: '/product/{id}', status: '200', url: 'http://shop.test/product/1?ref=a,b c', environment: 'staging', promo_type: 'flash sale' };
    const hist = (t: number, fast: number, slow: number): HistogramObj => ({
      count_int: fast + slow,
      sum: fast * 0.1 + slow * 3,
      schema: 3,
      zero_threshold: 2 ** -128,
      zero_count_int: 0,
      timestamp: t,
      positive_spans: [{ offset: -26, length: 1 }, { offset: 38, length: 1 }],
      positive_deltas: [fast, slow - fast],
    });
    const push = (t: number, n: number) =>
      batchToLines(
        decode(
          series('k6_http_reqs_total', tags, [[t, n]]),
          series('k6_http_req_failed_rate', tags, [[t, 0.1]]),
          series('k6_vus', { testid: 'run-1' }, [[t, n / 10]]),
          series('k6_http_req_duration_avg', tags, [[t, 0.25]]),
          series('k6_http_req_duration_count', tags, [[t, n / 1000]]),
          series('k6_http_req_duration_seconds', tags, [], [hist(t, n - n / 10, n / 10)]),
          // An empty histogram: count and sum only.
          series('k6_http_req_waiting_seconds', tags, [], [hist(t, 0, 0)]),
        ),
      );
    const first = push(T0, 100);
    const second = push(T0 + 1000, 200);
    expect([first.lines_count, second.lines_count]).toEqual([7, 7]);
    await writeOk(influx, first.lines, 'k6');
    await writeOk(influx, second.lines, 'k6');

    const figures: Figures = {
      requests: 200, p50Ms: 100, p95Ms: 3000, p99Ms: 3000, errorRatio: 0.1, rps: 100, vus: 20, checksRate: null, iterations: 0,
      grade: { letter: 'F', score: 0, colour: 'red', latencyScore: 0, errorScore: 0 },
    };
    await writeOk(influx, gradeLines('run-1', { environment: 'staging', promo_type: 'flash sale', scenario: 'browse' }, { live: figures, run: figures }, T0 + 1000), 'k6');

    const types = Object.fromEntries(
      (await influx.query('SHOW FIELD KEYS', 'k6')).results[0].series.map((s: any) => [s.name, Object.fromEntries(s.values)]),
    );
    expect(types).toEqual({
      http_reqs: { url: 'string', value: 'float' },
      http_req_failed: { url: 'string', value: 'float' },
      vus: { value: 'float' },
      http_req_duration: { avg: 'float', count: 'float', p50: 'float', p90: 'float', p95: 'float', p99: 'float', sum: 'float', url: 'string' },
      http_req_waiting: { count: 'float', sum: 'float', url: 'string' },
      promo_grade: { error_ratio: 'float', grade: 'string', p95_ms: 'float', rps: 'float', score: 'float', vus: 'float' },
    });

    const durations = rows(await influx.query('SELECT * FROM http_req_duration', 'k6'));
    // Trend-stat lines and the histogram line share measurement, tags and timestamp: InfluxDB merges their fields.
    expect(durations).toHaveLength(2);
    const acc = new HistogramAccumulator();
    acc.addRecord(recordOf(decode(series('k6_http_req_duration_seconds', tags, [], [hist(T0 + 1000, 180, 20)])).histogram(0)), 0, 1);
    expect(durations.map((d) => Date.parse(d.time))).toEqual([T0, T0 + 1000]);
    expect(durations[1]).toMatchObject({
      avg: 250,
      count: 200,
      sum: (180 * 0.1 + 20 * 3) * 1000,
      p95: acc.k6Percentile(0.95) * 1000,
      p99: acc.k6Percentile(0.99) * 1000,
      url: tags.url,
      name: '/product/{id}',
      promo_type: 'flash sale',
    });

    const grades = rows(await influx.query('SELECT * FROM promo_grade', 'k6'));
    expect(grades.map((g) => g.window).sort()).toEqual(['live', 'run']);
    expect(grades[0]).toMatchObject({ testid: 'run-1', environment: 'staging', promo_type: 'flash sale', grade: 'F', score: 0, p95_ms: 3000, vus: 20 });
    expect(Object.keys(grades[0])).not.toContain('scenario');
  });
});
