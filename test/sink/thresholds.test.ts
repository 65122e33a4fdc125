import { describe, expect, it } from 'vitest';
import { holds, parseMetricKey, parseThreshold, parseThresholds } from '../../sink/grade/thresholds.ts';

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
    expect(parseThreshold('checks', 'rate>0.99', true)).toMatchObject({ abortOnFail: true });
    expect(parseThreshold('http_req_duration', 'avg<200').unsupported).toBeUndefined();
  });

  it('lists what it cannot judge on merged data, with the reason, instead of judging it', () => {
    expect(parseThreshold('http_reqs', 'count>100').unsupported).toBe('only http_req_duration, http_req_failed and checks are judged on merged data, not http_reqs');
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
