import { describe, expect, it } from 'vitest';
import { CHECKS_APPROXIMATE, RATE_APPROXIMATE, holds, parseMetricKey, parseThreshold, parseThresholds } from '../../sink/grade/thresholds.ts';
import { RunRegistry } from '../../sink/grade/runs.ts';
import { MAX_THRESHOLDS_PER_RUN } from '../../sink/grade/run-state.ts';
import { DEFAULT_CONFIG } from '../../sink/config.ts';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { encodeV1, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';

describe('reading k6 thresholds', () => {
  it('splits a tagged sub-metric into its metric and a selector whose key is sorted', () => {
    expect(parseMetricKey('http_req_duration{status:200, page_type:"product"}')).toEqual({
      base: 'http_req_duration',
      selector: { status: '200', page_type: 'product' },
      selectorKey: 'page_type:product,status:200',
    });
    expect(parseMetricKey('http_req_failed')).toEqual({ base: 'http_req_failed', selector: {}, selectorKey: '' });
    expect(parseMetricKey('http_req_duration{page_type}')).toBeNull();
  });

  it('reads percentiles as fractions, other aggregations by name, and the abort options', () => {
    const p999 = parseThreshold('http_req_duration', 'p(99.9) <= 1500');
    expect(p999).toMatchObject({ aggregation: { kind: 'percentile' }, operator: '<=', value: 1500, abortOnFail: false });
    expect(p999.aggregation).toMatchObject({ pct: expect.closeTo(0.999, 12) });
    expect(parseThreshold('http_req_failed', { threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '10s' })).toMatchObject({ aggregation: { kind: 'rate' }, operator: '<', value: 0.01, abortOnFail: true, delayAbortEvalMs: 10_000 });
    expect(parseThreshold('checks', 'rate>0.99', true)).toMatchObject({ abortOnFail: true, approximate: CHECKS_APPROXIMATE });
    expect(parseThreshold('http_req_duration', 'avg<200').unsupported).toBeUndefined();
  });

  it('lists what it cannot judge on merged data, with the reason, instead of judging it', () => {
    expect(parseThreshold('http_reqs', 'count>100').unsupported).toBe('only http_req_duration, http_req_failed, checks and Rate metrics are judged on merged data, not http_reqs');
    expect(parseThreshold('cache_hit_rate{page_type:product}', 'rate>0.5').unsupported).toBe('cache_hit_rate is judged for the whole run only, not per tag');
    expect(parseThreshold('http_req_duration', 'rate<0.1').unsupported).toBe('http_req_duration is a trend: rate is not one of its aggregations here');
    expect(parseThreshold('http_req_failed', 'p(95)<1').unsupported).toBe('http_req_failed is a rate: p(95) is not one of its aggregations here');
    expect(parseThreshold('checks{check:status 200}', 'rate>0.9').unsupported).toBe('checks are judged for the whole run only, not per tag');
    expect(parseThreshold('http_req_duration', 'p95 < 300').unsupported).toBe('the expression "p95 < 300" is not aggregation, operator and number');
  });

  it('takes every expression of every metric, single or listed', () => {
    const specs = parseThresholds({ http_req_duration: ['p(95)<800', 'p(99)<2000'], http_req_failed: 'rate<0.01' });
    expect(specs.map((s) => `${s.metric} ${s.threshold}`)).toEqual(['http_req_duration p(95)<800', 'http_req_duration p(99)<2000', 'http_req_failed rate<0.01']);
  });

  it('compares as k6 does, strictly where the operator is strict', () => {
    expect([holds('<', 1, 1), holds('<=', 1, 1), holds('>', 2, 1), holds('>=', 1, 1), holds('==', 1, 1), holds('===', 1, 2), holds('!=', 1, 2)]).toEqual([false, true, true, true, true, false, true]);
  });
});

describe('judging checks on merged data', () => {
  const T0 = Date.UTC(2026, 10, 27, 8, 0, 0);
  const series = (name: string, labels: Record<string, string>, t: number, value: number): TimeSeriesObj => {
    const all: Record<string, string> = { __name__: name, testid: 'checks-1', ...labels };
    return { labels: Object.keys(all).sort().map((k) => ({ name: k, value: all[k]! })), samples: [{ timestamp: t, value }], histograms: [] };
  };

  it('weighs every check alike, says so in the verdict, and never aborts the run on it', () => {
    const runs = new RunRegistry({ ...DEFAULT_CONFIG, windowMs: 30_000 });
    const aborts: string[] = [];
    runs.events.on('thresholdBreached', ({ run, threshold: t }) => void aborts.push(`${run.testid} ${t.metric} ${t.threshold}`));
    runs.expectThresholds('checks-1', parseThresholds({ checks: { threshold: 'rate>0.9', abortOnFail: true }, http_req_failed: { threshold: 'rate<0.5', abortOnFail: true } }));
    const decoder = new RemoteWriteDecoder();
    for (let s = 0; s <= 10; s++) {
      const t = T0 + s * 1000;
      runs.ingest(decoder.decode(encodeV1({ timeseries: [
        series('k6_checks_rate', { check: 'status is 200' }, t, 1),
        series('k6_checks_rate', { check: 'has a price' }, t, 0.5),
        series('k6_http_reqs_total', { url: '/' }, t, 10 * (s + 1)),
        series('k6_http_req_failed_rate', { url: '/' }, t, 0),
      ] }), 1));
    }
    const verdicts = runs.run('checks-1')!.thresholdResults();
    expect(verdicts.find((v) => v.metric === 'checks')).toEqual({
      metric: 'checks', threshold: 'rate>0.9', ok: false, value: 0.75, requests: 110, abortOnFail: true, supported: true, reason: CHECKS_APPROXIMATE,
    });
    expect(verdicts.find((v) => v.metric === 'http_req_failed')).toMatchObject({ ok: true, value: 0 });
    expect(aborts).toEqual([]);
    expect(runs.run('checks-1')!.abortedBy).toBeNull();
  });
});

describe('judging a scenario’s own Rate metrics on merged data', () => {
  const T0 = Date.UTC(2026, 10, 27, 8, 0, 0);
  const series = (name: string, labels: Record<string, string>, t: number, value: number): TimeSeriesObj => {
    const all: Record<string, string> = { __name__: name, testid: 'cache-1', ...labels };
    return { labels: Object.keys(all).sort().map((k) => ({ name: k, value: all[k]! })), samples: [{ timestamp: t, value }], histograms: [] };
  };
  const judged = (instances: number[][]) => {
    const runs = new RunRegistry({ ...DEFAULT_CONFIG, windowMs: 30_000 });
    const aborts: string[] = [];
    runs.events.on('thresholdBreached', ({ threshold: t }) => void aborts.push(t.metric));
    runs.expectThresholds('cache-1', parseThresholds({ cache_hit_rate: { threshold: 'rate>0.5', abortOnFail: true }, cache_304_rate: 'rate>0.95', promo_applied_rate: 'rate>0.95' }));
    const decoder = new RemoteWriteDecoder();
    // Each instance's cumulative ratio, one push a second: k6_<name>_rate is a Rate metric's gauge.
    instances[0]!.forEach((_, s) => {
      const t = T0 + s * 1000;
      runs.ingest(decoder.decode(encodeV1({ timeseries: instances.flatMap((ratios, i) => [
        series('k6_cache_hit_rate_rate', { instance: String(i) }, t, ratios[s]!),
        series('k6_cache_304_rate_rate', { instance: String(i) }, t, 1),
      ]) }), 1));
    });
    return { verdicts: runs.run('cache-1')!.thresholdResults(), aborts, run: runs.run('cache-1')! };
  };

  it('takes the ratio k6 sent last, as k6’s own when one instance sent it', () => {
    const { verdicts } = judged([[0, 0.5, 0.8, 0.9333]]);
    expect(verdicts).toEqual([
      { metric: 'cache_hit_rate', threshold: 'rate>0.5', ok: true, value: 0.9333, requests: 0, abortOnFail: true, supported: true },
      { metric: 'cache_304_rate', threshold: 'rate>0.95', ok: true, value: 1, requests: 0, abortOnFail: false, supported: true },
      // Nothing sent yet: no verdict rather than a 0.
      { metric: 'promo_applied_rate', threshold: 'rate>0.95', ok: null, value: null, requests: 0, abortOnFail: false, supported: true },
    ]);
  });

  it('weighs several instances alike, says so, and leaves the abort to k6', () => {
    const { verdicts, aborts, run } = judged([[0, 0.2], [0, 0.6]]);
    expect(verdicts[0]).toEqual({ metric: 'cache_hit_rate', threshold: 'rate>0.5', ok: false, value: 0.4, requests: 0, abortOnFail: true, supported: true, reason: RATE_APPROXIMATE });
    expect(aborts).toEqual([]);
    expect(run.abortedBy).toBeNull();
  });
});

describe('thresholds a run may announce', () => {
  it('keeps the first 200 a run announces, counts the rest as refused and says so once', () => {
    const lines: string[] = [];
    const runs = new RunRegistry({ ...DEFAULT_CONFIG, windowMs: 30_000 }, (line) => lines.push(line));
    const decoder = new RemoteWriteDecoder();
    const announce = (from: number, to: number) => {
      const timeseries: TimeSeriesObj[] = [];
      for (let i = from; i < to; i++) {
        const all: Record<string, string> = { __name__: 'k6_promo_thresholds', testid: 'many-1', metric: 'http_req_duration', threshold: `p(95)<${1000 + i}`, abort_on_fail: 'false' };
        timeseries.push({ labels: Object.keys(all).sort().map((k) => ({ name: k, value: all[k]! })), samples: [{ timestamp: Date.UTC(2026, 10, 27, 8) + i, value: 1 }], histograms: [] });
      }
      runs.ingest(decoder.decode(encodeV1({ timeseries }), 1));
    };
    announce(0, 150);
    announce(150, 260);
    const kept = runs.run('many-1')!.thresholdResults().map((t) => t.threshold);
    expect(kept).toHaveLength(MAX_THRESHOLDS_PER_RUN);
    expect(kept.at(-1)).toBe('p(95)<1199');
    expect(runs.counters.refusedThresholds).toBe(60);
    expect(lines).toEqual(['run many-1 has 200 thresholds: further ones are not judged (counted in sink_refused_thresholds_total)']);
  });
});
