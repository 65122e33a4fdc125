import { describe, expect, it } from 'vitest';
import { addedTags } from '../shims/k6-metrics.ts';
import { announceThresholds, thresholdTags, THRESHOLDS_GAUGE } from '../../lib/threshold-announce.ts';
import { parseThreshold } from '../../sink/grade/thresholds.ts';

describe('announcing the thresholds to the sink', () => {
  const thresholds = {
    http_req_duration: ['p(95)<800', { threshold: 'p(99)<1500', abortOnFail: true, delayAbortEval: '10s' }],
    'http_req_duration{page_type:product}': ['p(95)<300'],
    http_req_failed: 'rate<0.01',
  } as const;

  it('gives one tag set per threshold, with abortOnFail and delayAbortEval in words', () => {
    expect(thresholdTags(thresholds as never)).toEqual([
      { metric: 'http_req_duration', threshold: 'p(95)<800', abort_on_fail: 'false' },
      { metric: 'http_req_duration', threshold: 'p(99)<1500', abort_on_fail: 'true', delay_abort_eval: '10s' },
      { metric: 'http_req_duration{page_type:product}', threshold: 'p(95)<300', abort_on_fail: 'false' },
      { metric: 'http_req_failed', threshold: 'rate<0.01', abort_on_fail: 'false' },
    ]);
  });

  it('adds each threshold to the gauge once per VU, however many iterations call it', () => {
    announceThresholds(thresholds as never);
    announceThresholds(thresholds as never);
    expect(addedTags[THRESHOLDS_GAUGE]).toHaveLength(4);
  });

  it('announces tags the sink reads back as the same thresholds', () => {
    const [, second, third] = thresholdTags(thresholds as never);
    expect(parseThreshold(second!.metric!, { threshold: second!.threshold!, abortOnFail: second!.abort_on_fail === 'true', delayAbortEval: second!.delay_abort_eval })).toMatchObject({
      base: 'http_req_duration', aggregation: { kind: 'percentile', pct: 0.99 }, operator: '<', value: 1500, abortOnFail: true, delayAbortEvalMs: 10_000,
    });
    expect(parseThreshold(third!.metric!, third!.threshold!)).toMatchObject({ base: 'http_req_duration', selector: { page_type: 'product' }, selectorKey: 'page_type:product', value: 300 });
  });
});
