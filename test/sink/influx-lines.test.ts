import { describe, expect, it } from 'vitest';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { DecodedBatch } from '../../sink/model/batch.ts';
import type { SeriesLabels } from '../../sink/model/labels.ts';
import { HistogramAccumulator } from '../../sink/model/histogram-math.ts';
import { recordOf, type NativeHistogram } from '../../sink/model/histogram.ts';

const accumulated = (h: NativeHistogram) => {
  const acc = new HistogramAccumulator();
  acc.addRecord(recordOf(h), 0, 1);
  return acc;
};
import {
  InfluxLineEncoder,
  UNREPRESENTABLE,
  batchToLines,
  escapeFieldKey,
  escapeMeasurement,
  escapeTag,
  gradeLines,
  histogramMapping,
  quoteString,
  sampleMapping,
} from '../../sink/fanout/influx-lines.ts';
import type { Figures } from '../../sink/model/run-events.ts';
import { notApplicable } from '../../lib/grade.ts';
import { encodeV1, type HistogramObj, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';
import { T0, series, STALE, withStaleMarkers } from './fixtures/series.ts';




function decode(decoder: RemoteWriteDecoder, ...ts: TimeSeriesObj[]): DecodedBatch {
  return decoder.decode(withStaleMarkers(encodeV1({ timeseries: ts })), 1);
}

function linesOf(...ts: TimeSeriesObj[]) {
  return new InfluxLineEncoder().encode(decode(new RemoteWriteDecoder(), ...ts));
}

/** A schema-3 integer histogram with `fast` observations of 0.1 s and `slow` ones of 3 s (as k6 sends it). */
function durations(t: number, fast: number, slow: number): HistogramObj {
  return {
    count_int: fast + slow,
    sum: fast * 0.1 + slow * 3,
    schema: 3,
    zero_threshold: 2 ** -128,
    zero_count_int: 0,
    timestamp: t,
    positive_spans: [{ offset: -26, length: 1 }, { offset: 38, length: 1 }],
    positive_deltas: [fast, slow - fast],
  };
}

const REQ_TAGS = {
  testid: 'run-1',
  scenario: 'browse',
  method: 'GET',
  name: '/product/{id}',
  status: '200',
  expected_response: 'true',
  url: 'http://127.0.0.1:3000/product/42?ref=home',
  environment: 'staging',
};
const REQ_TAGSET = 'environment=staging,expected_response=true,method=GET,name=/product/{id},scenario=browse,status=200,testid=run-1';
const URL_FIELD = 'url="http://127.0.0.1:3000/product/42?ref=home"';

describe('metric names → measurement and field', () => {
  it('strips k6_ and the type suffix', () => {
    expect(sampleMapping('k6_http_reqs_total')).toEqual({ measurement: 'http_reqs', field: 'value', scale: 1, round: false });
    expect(sampleMapping('k6_http_req_failed_rate')).toEqual({ measurement: 'http_req_failed', field: 'value', scale: 1, round: false });
    expect(sampleMapping('k6_vus')).toEqual({ measurement: 'vus', field: 'value', scale: 1, round: false });
    expect(sampleMapping('k6_vus_max')).toEqual({ measurement: 'vus_max', field: 'value', scale: 1, round: false });
    expect(sampleMapping('k6_data_sent_total').measurement).toBe('data_sent');
    expect(sampleMapping('k6_cache_hit_rate_rate').measurement).toBe('cache_hit_rate');
  });

  it('maps trend stats to a field named after the stat, in ms for time trends', () => {
    expect(sampleMapping('k6_http_req_duration_p95')).toEqual({ measurement: 'http_req_duration', field: 'p95', scale: 1000, round: false });
    expect(sampleMapping('k6_http_req_duration_p999')).toMatchObject({ field: 'p999', scale: 1000 });
    expect(sampleMapping('k6_http_req_waiting_med')).toMatchObject({ measurement: 'http_req_waiting', field: 'med', scale: 1000 });
    expect(sampleMapping('k6_iteration_duration_count')).toEqual({ measurement: 'iteration_duration', field: 'count', scale: 1000, round: true });
    expect(sampleMapping('k6_checkout_duration_avg')).toMatchObject({ measurement: 'checkout_duration', scale: 1000 });
    expect(sampleMapping('k6_cart_items_max')).toEqual({ measurement: 'cart_items', field: 'max', scale: 1, round: false });
    expect(sampleMapping('k6_browser_web_vital_cls_p75')).toMatchObject({ measurement: 'browser_web_vital_cls', scale: 1 });
  });

  it('keeps non-k6 metric names', () => {
    expect(sampleMapping('process_cpu_seconds_total')).toEqual({ measurement: 'process_cpu_seconds_total', field: 'value', scale: 1, round: false });
    expect(sampleMapping('k6_')).toMatchObject({ measurement: 'k6_' });
    expect(histogramMapping('rpc_latency_seconds')).toEqual({ measurement: 'rpc_latency_seconds', scale: 1 });
  });

  it('strips the unit of native histograms, converting seconds to ms', () => {
    expect(histogramMapping('k6_http_req_duration_seconds')).toEqual({ measurement: 'http_req_duration', scale: 1000 });
    expect(histogramMapping('k6_payload_bytes')).toEqual({ measurement: 'payload', scale: 1 });
    expect(histogramMapping('k6_cart_items')).toEqual({ measurement: 'cart_items', scale: 1 });
  });
});

describe('escaping', () => {
  it('escapes tag keys and values: comma, equals sign, space; newline as \\n; trailing backslash unrepresentable', () => {
    expect(escapeTag('plain-Value_1.2/x?y')).toBe('plain-Value_1.2/x?y');
    expect(escapeTag('a,b=c d')).toBe('a\\,b\\=c\\ d');
    expect(escapeTag('say "hi"')).toBe('say\\ "hi"');
    expect(escapeTag('C:\\dir\\file')).toBe('C:\\dir\\file');
    expect(escapeTag('a\\,b')).toBe('a\\\\,b');
    expect(escapeTag('line1\nline2')).toBe('line1\\nline2');
    expect(escapeTag('tab\tcr\r')).toBe('tab\tcr\r');
    expect(escapeTag('ends\\')).toBe(`ends${UNREPRESENTABLE}`);
    expect(escapeTag('\\')).toBe(UNREPRESENTABLE);
    expect(escapeTag('ünïcödé 😀')).toBe('ünïcödé\\ 😀');
  });

  it('never writes an even run of backslashes before a tag space, which InfluxDB 1.x would read as the end of the tags', () => {
    // The label of issue 23's injection: `a\ \="` was written `a\\ \\="`, which the line scan cut after `a\\`.
    expect(escapeTag('a\\ \\="')).toBe(`a${UNREPRESENTABLE}\\ \\\\="`);
    expect(escapeTag('two\\\\ x')).toBe('two\\\\\\ x');
    expect(escapeTag('three\\\\\\ x')).toBe(`three\\\\${UNREPRESENTABLE}\\ x`);
    expect(escapeTag('\\,\\=')).toBe('\\\\,\\\\=');
    for (const v of ['a\\ \\="', '\\\\\\ \\ x', 'q\\ "\\', ' \\ ']) {
      // Every escaped space is preceded by an odd run of backslashes: one escape, however the backslashes pair.
      for (const m of escapeTag(v).matchAll(/\\+(?= )/g)) expect(m[0].length % 2).toBe(1);
    }
  });

  it('escapes measurements and field keys', () => {
    expect(escapeMeasurement('http_reqs')).toBe('http_reqs');
    expect(escapeMeasurement('my metric,v2')).toBe('my\\ metric\\,v2');
    expect(escapeMeasurement('a=b')).toBe('a=b');
    expect(escapeMeasurement('q"x\\y')).toBe('q"x\\y');
    expect(escapeMeasurement('bad\\,x\\ y\\=z\\"w\\')).toBe(`bad${UNREPRESENTABLE}\\,x${UNREPRESENTABLE}\\ y${UNREPRESENTABLE}=z${UNREPRESENTABLE}"w${UNREPRESENTABLE}`);
    expect(escapeMeasurement('#comment')).toBe(`${UNREPRESENTABLE}comment`);
    expect(escapeMeasurement('\ttab')).toBe(`${UNREPRESENTABLE}tab`);
    expect(escapeMeasurement('\0nul')).toBe(`${UNREPRESENTABLE}nul`);
    expect(escapeMeasurement('a#b\tc')).toBe('a#b\tc');
    expect(escapeMeasurement('two\nlines')).toBe('two\\nlines');
    expect(escapeFieldKey('p95')).toBe('p95');
    expect(escapeFieldKey('a b,c=d')).toBe('a\\ b\\,c\\=d');
    expect(escapeFieldKey('a\\ b\\,c\\=d\\\\=e')).toBe(`a${UNREPRESENTABLE}\\ b${UNREPRESENTABLE}\\,c${UNREPRESENTABLE}\\=d\\\\\\=e`);
  });

  it('quotes string fields, escaping double quotes and backslashes, and writing newlines as \\n', () => {
    expect(quoteString('http://x/a?b=c d,e')).toBe('"http://x/a?b=c d,e"');
    expect(quoteString('say "hi" \\o/')).toBe('"say \\"hi\\" \\\\o/"');
    expect(quoteString('ends\\')).toBe('"ends\\\\"');
    expect(quoteString('two\nlines')).toBe('"two\\nlines"');
    expect(quoteString('cr\rtab\t')).toBe('"cr\rtab\t"');
  });
});

describe('batchToLines', () => {
  it('writes counters, rates and gauges with field value, tags sorted, url as a string field', () => {
    const out = linesOf(
      series('k6_http_reqs_total', REQ_TAGS, [[T0, 5]]),
      series('k6_http_req_failed_rate', REQ_TAGS, [[T0, 0.2]]),
      series('k6_vus', { testid: 'run-1', environment: 'staging' }, [[T0 + 1, 10], [T0 + 1001, 12]]),
      series('k6_vus_max', { testid: 'run-1' }, [[T0, 50]]),
    );
    expect(out.lines.split('\n')).toEqual([
      `http_reqs,${REQ_TAGSET} value=5,${URL_FIELD} ${T0}`,
      `http_req_failed,${REQ_TAGSET} value=0.2,${URL_FIELD} ${T0}`,
      `vus,environment=staging,testid=run-1 value=10 ${T0 + 1}`,
      `vus,environment=staging,testid=run-1 value=12 ${T0 + 1001}`,
      `vus_max,testid=run-1 value=50 ${T0}`,
    ]);
    expect(out).toMatchObject({ lines_count: 5, skipped: 0, skipped_stale: 0, skipped_non_finite: 0, skipped_fields: 0 });
  });

  it('drops empty label values (k6 never sends them, but Influx refuses empty tags)', () => {
    const out = linesOf(series('k6_iterations_total', { testid: 'run-1', group: '', url: '' }, [[T0, 3]]));
    expect(out.lines).toBe(`iterations,testid=run-1 value=3 ${T0}`);
  });

  it('writes trend stats as fields of the trend, converting time trends (every stat, count too) back to ms', () => {
    const tags = { testid: 'run-1', name: '/cart' };
    const out = linesOf(
      series('k6_http_req_duration_p95', tags, [[T0, 0.25]]),
      series('k6_http_req_duration_p99', tags, [[T0, 1.5]]),
      series('k6_http_req_duration_avg', tags, [[T0, 0.123]]),
      series('k6_http_req_duration_count', tags, [[T0, 0.007]]), // k6 divides the count of a time trend by 1000 too
      series('k6_cart_items_max', tags, [[T0, 7]]),
      series('k6_cart_items_count', tags, [[T0, 9]]),
    );
    expect(out.lines.split('\n')).toEqual([
      `http_req_duration,name=/cart,testid=run-1 p95=250 ${T0}`,
      `http_req_duration,name=/cart,testid=run-1 p99=1500 ${T0}`,
      `http_req_duration,name=/cart,testid=run-1 avg=${0.123 * 1000} ${T0}`,
      `http_req_duration,name=/cart,testid=run-1 count=7 ${T0}`,
      `cart_items,name=/cart,testid=run-1 max=7 ${T0}`,
      `cart_items,name=/cart,testid=run-1 count=9 ${T0}`,
    ]);
  });

  it('treats extra trends as times when told so', () => {
    const decoder = new RemoteWriteDecoder();
    const batch = decode(decoder, series('k6_checkout_time_p95', {}, [[T0, 0.5]]));
    expect(new InfluxLineEncoder().encode(batch).lines).toBe(`checkout_time p95=0.5 ${T0}`);
    expect(new InfluxLineEncoder({ timeTrends: ['checkout_time'] }).encode(batch).lines).toBe(`checkout_time p95=500 ${T0}`);
  });

  it('writes native histograms as count, sum and quantiles (ms for _seconds), quantiles as k6 computes them (HistogramAccumulator.k6Percentile)', () => {
    const h = durations(T0, 90, 10);
    const out = linesOf(series('k6_http_req_duration_seconds', REQ_TAGS, [], [h]));
    const decoded = decode(new RemoteWriteDecoder(), series('k6_http_req_duration_seconds', REQ_TAGS, [], [h])).histogram(0);
    const acc = accumulated(decoded);
    const q = (p: number) => String(acc.k6Percentile(p) * 1000);
    expect(out.lines).toBe(
      `http_req_duration,${REQ_TAGSET} count=100,sum=${(90 * 0.1 + 10 * 3) * 1000},p50=${q(0.5)},p90=${q(0.9)},p95=${q(0.95)},p99=${q(0.99)},${URL_FIELD} ${T0}`,
    );
    // Sanity: the slow tenth sits around 3 s, the rest around 100 ms.
    expect(acc.k6Percentile(0.5) * 1000).toBeGreaterThan(90);
    expect(acc.k6Percentile(0.5) * 1000).toBeLessThan(110);
    expect(acc.k6Percentile(0.95) * 1000).toBeGreaterThan(2500);
    expect(out).toMatchObject({ lines_count: 1, skipped: 0, skipped_fields: 0 });
  });

  it('keeps the unit of histograms that are not in seconds', () => {
    const h: HistogramObj = { count_int: 4, sum: 10, schema: 0, zero_threshold: 2 ** -128, zero_count_int: 0, timestamp: T0, positive_spans: [{ offset: 2, length: 2 }], positive_deltas: [2, 0] };
    const out = linesOf(series('k6_cart_items', { testid: 'run-1' }, [], [h]));
    const acc = accumulated({ count: 4, sum: 10, schema: 0, zeroThreshold: 2 ** -128, zeroCount: 0, positiveSpans: [{ offset: 2, length: 2 }], positiveBuckets: [2, 2], negativeSpans: [], negativeBuckets: [], timestamp: T0, isFloat: false });
    expect(out.lines).toBe(`cart_items,testid=run-1 count=4,sum=10,p50=${acc.k6Percentile(0.5)},p90=${acc.k6Percentile(0.9)},p95=${acc.k6Percentile(0.95)},p99=${acc.k6Percentile(0.99)} ${T0}`);
  });

  it('leaves out the NaN quantiles of an empty histogram, and counts them', () => {
    const out = linesOf(series('k6_http_req_duration_seconds', { testid: 'run-1' }, [], [durations(T0, 0, 0)]));
    expect(out.lines).toBe(`http_req_duration,testid=run-1 count=0,sum=0 ${T0}`);
    expect(out).toMatchObject({ lines_count: 1, skipped: 0, skipped_fields: 4 });
  });

  it('skips stale markers, NaN and ±Inf, and counts them', () => {
    const tags = { testid: 'run-1' };
    const out = linesOf(
      series('k6_http_reqs_total', tags, [[T0, 1], [T0 + 1000, STALE]]),
      series('k6_vus', tags, [[T0, NaN], [T0 + 1, Infinity], [T0 + 2, -Infinity], [T0 + 3, 4]]),
      series('k6_http_req_duration_p95', tags, [[T0, 1e306]]), // finite in s, Inf in ms
      // k6's stale marker for a native-histogram series is a plain sample.
      series('k6_http_req_duration_seconds', tags, [[T0 + 2000, STALE]]),
    );
    expect(out.lines.split('\n')).toEqual([`http_reqs,testid=run-1 value=1 ${T0}`, `vus,testid=run-1 value=4 ${T0 + 3}`]);
    expect(out).toMatchObject({ lines_count: 2, skipped: 6, skipped_stale: 2, skipped_non_finite: 4, skipped_fields: 0 });
  });

  it('skips histograms whose sum is the stale marker (the Prometheus stale histogram)', () => {
    const h = { ...durations(T0, 1, 1), sum: STALE };
    const out = linesOf(series('k6_http_req_duration_seconds', { testid: 'run-1' }, [], [h]));
    expect(out).toMatchObject({ lines: '', lines_count: 0, skipped: 1, skipped_stale: 1 });
  });

  it('leaves out NaN fields of a histogram and skips it when none is left', () => {
    // Custom-bucket histograms (schema -53) have no exponential quantiles; a NaN count and sum leave nothing.
    const custom: HistogramObj = { count_float: NaN, sum: NaN, schema: -53, timestamp: T0, custom_values: [1, 2], positive_spans: [{ offset: 0, length: 1 }], positive_counts: [1] };
    const out = linesOf(series('other_histogram', {}, [], [custom]));
    expect(out).toMatchObject({ lines: '', lines_count: 0, skipped: 1, skipped_non_finite: 1, skipped_fields: 6 });
    const ok: HistogramObj = { ...custom, count_float: 1, sum: 1.5 };
    expect(linesOf(series('other_histogram', {}, [], [ok]))).toMatchObject({ lines: `other_histogram count=1,sum=1.5 ${T0}`, skipped_fields: 4 });
  });

  it('escapes every special character in measurements, tags and the url field', () => {
    const out = linesOf(
      series('my metric,v2=x', { name: 'a,b=c d', group: '::"quoted"\\path\\', scenario: 'multi\nline', instance: 'ünï😀', url: 'http://h/p?q="1",r=\\2\n' }, [[T0, 1]]),
    );
    expect(out.lines).toBe(
      `my\\ metric\\,v2=x,group=::"quoted"\\path${UNREPRESENTABLE},instance=ünï😀,name=a\\,b\\=c\\ d,scenario=multi\\nline value=1,url="http://h/p?q=\\"1\\",r=\\\\2\\n" ${T0}`,
    );
    expect(out.lines).not.toContain('\n');
  });

  it('writes no newline but between lines, whatever the labels hold', () => {
    const nasty = 'x\\ \\="\nfake value=1\r\n';
    const out = linesOf(
      series(nasty, { testid: nasty, url: nasty }, [[T0, 1]]),
      series('k6_vus', { testid: nasty, url: nasty }, [[T0, 2]]),
    );
    expect(out.lines_count).toBe(2);
    expect(out.lines.split('\n')).toHaveLength(2);
  });

  it('writes numbers in a form Influx reads as floats', () => {
    const out = linesOf(series('k6_data_received_total', {}, [[T0, 1e21], [T0 + 1, 5e-7], [T0 + 2, -0], [T0 + 3, 123456789012]]));
    expect(out.lines.split('\n').map((l) => l.split(' ')[1])).toEqual(['value=1e+21', 'value=5e-7', 'value=0', 'value=123456789012']);
  });

  it('caches per label set, and the default encoder gives the same lines', () => {
    const decoder = new RemoteWriteDecoder();
    const encoder = new InfluxLineEncoder();
    const first = decode(decoder, series('k6_http_reqs_total', REQ_TAGS, [[T0, 1]]));
    const labels = first.series[0];
    expect(encoder.encode(first).lines).toBe(`http_reqs,${REQ_TAGSET} value=1,${URL_FIELD} ${T0}`);
    const second = decode(decoder, series('k6_http_reqs_total', REQ_TAGS, [[T0 + 1000, 2]]), series('k6_http_req_duration_seconds', REQ_TAGS, [], [durations(T0 + 1000, 1, 0)]));
    expect(second.series[0]).toBe(labels);
    const lines = encoder.encode(second).lines.split('\n');
    expect(lines[0]).toBe(`http_reqs,${REQ_TAGSET} value=2,${URL_FIELD} ${T0 + 1000}`);
    expect(lines[1]).toMatch(new RegExp(`^http_req_duration,${REQ_TAGSET.replace(/[{}/]/g, '\\$&')} count=1,sum=100,p50=`));
    expect(batchToLines(second).lines).toBe(lines.join('\n'));
  });

  it('sorts tag keys even if a batch hands them unsorted', () => {
    const batch = new DecodedBatch();
    const labels: SeriesLabels = { id: 'x', metricName: 'k6_vus', names: ['__name__', 'zone', 'app'], values: ['k6_vus', 'z1', 'shop'] };
    batch.beginSeries();
    batch.sampleValues[0] = 3;
    batch.sampleTimestamps[0] = T0;
    batch.sampleCount = 1;
    batch.endSeries(labels);
    expect(batchToLines(batch).lines).toBe(`vus,app=shop,zone=z1 value=3 ${T0}`);
  });

  it('returns an empty body for an empty batch', () => {
    expect(batchToLines(new DecodedBatch())).toEqual({ lines: '', lines_count: 0, skipped: 0, skipped_stale: 0, skipped_non_finite: 0, skipped_fields: 0 });
  });
});

describe('gradeLines', () => {
  const figures = (over: Partial<Figures> = {}): Figures => ({
    requests: 1200,
    p50Ms: 80,
    p95Ms: 240.5,
    p99Ms: 900,
    errorRatio: 0.004,
    rps: 39.8,
    vus: 20,
    checksRate: 1,
    iterations: 300,
    grade: { letter: 'A', score: 97, colour: 'green', latencyScore: 97.5, errorScore: 99 },
    ...over,
  });

  it('writes no newline but between lines, whatever the testid, run tags and thresholds hold', () => {
    const nasty = 'x\\ \\="\npromo_grade,testid=other score=100 1\n';
    const out = gradeLines(nasty, { promo_name: nasty }, { live: figures(), run: figures() }, T0, [{ metric: nasty, threshold: nasty, ok: true, value: 1, requests: 1 }]);
    expect(out.split('\n').map((line) => line.split(',')[0])).toEqual(['promo_grade', 'promo_grade', 'promo_threshold']);
  });

  it('writes one line per window with the run tags, sorted', () => {
    const tags = { environment: 'staging', promo_type: 'flash sale', promo_name: 'Black Friday, 50%', intensity: 'peak', scenario: 'browse', instance: 'k6-1' };
    const out = gradeLines('run-1', tags, { live: figures({ grade: { letter: 'B', score: 85, colour: 'orange', latencyScore: 85, errorScore: 99 }, vus: 25 }), run: figures() }, T0);
    const tagset = 'environment=staging,intensity=peak,promo_name=Black\\ Friday\\,\\ 50%,promo_type=flash\\ sale,testid=run-1';
    expect(out.split('\n')).toEqual([
      `promo_grade,${tagset},window=live score=85,grade="B",p95_ms=240.5,error_ratio=0.004,rps=39.8,vus=25 ${T0}`,
      `promo_grade,${tagset},window=run score=97,grade="A",p95_ms=240.5,error_ratio=0.004,rps=39.8,vus=20 ${T0}`,
    ]);
  });

  it('leaves out the score and unknown figures when the grade is N/A', () => {
    const na = figures({ grade: notApplicable('no requests'), p95Ms: null, errorRatio: null, rps: null, vus: 0, requests: 0 });
    const out = gradeLines('run-2', {}, { live: na, run: na }, T0 + 0.4);
    expect(out.split('\n')).toEqual([`promo_grade,testid=run-2,window=live grade="N/A",why="no requests",vus=0 ${T0}`, `promo_grade,testid=run-2,window=run grade="N/A",why="no requests",vus=0 ${T0}`]);
  });

  it('says in words why a grade is withheld', () => {
    const broken = figures({ grade: notApplicable('The test could not reach the shop: 100 % of requests were refused (connection refused at http://127.0.0.1:9).') });
    expect(gradeLines('run-3', {}, { live: broken, run: broken }, T0).split('\n')[0]).toContain(
      'grade="N/A",why="The test could not reach the shop: 100 % of requests were refused (connection refused at http://127.0.0.1:9).",',
    );
  });

  it('drops an empty testid tag', () => {
    expect(gradeLines('', { environment: '' }, { live: figures(), run: figures() }, T0).split('\n')[0]).toMatch(/^promo_grade,window=live score=97,/);
  });
});
