import { describe, expect, it } from 'vitest';
import { abortLine, capacityLine, instanceVerdicts, pageLines, thresholdLines } from '../../cli/final-report.ts';
import type { ThresholdResultJson } from '../../contract/sink-api.ts';

const p95: ThresholdResultJson = { metric: 'http_req_duration', threshold: 'p(95)<300', ok: false, value: 351.25, requests: 4000, abortOnFail: true, supported: true };
const failed: ThresholdResultJson = { metric: 'http_req_failed', threshold: 'rate<0.01', ok: true, value: 0.0042, requests: 4000, abortOnFail: false, supported: true };
const other: ThresholdResultJson = { metric: 'http_reqs', threshold: 'count>10', ok: null, value: null, requests: 0, abortOnFail: false, supported: false, reason: 'only http_req_duration, http_req_failed and checks are judged on merged data, not http_reqs' };

describe("the CLI's final report", () => {
  it("reads each instance's own verdicts from k6's summary export, where true means failed", () => {
    const summary = { metrics: { http_req_duration: { thresholds: { 'p(95)<300': false } }, vus: {} } };
    expect(instanceVerdicts(summary)).toEqual({ http_req_duration: { 'p(95)<300': false } });
  });

  it('lists the merged verdicts, and names the instances whose own verdict differs', () => {
    const passedAlone = { http_req_duration: { 'p(95)<300': false }, http_req_failed: { 'rate<0.01': false } };
    const failedAlone = { http_req_duration: { 'p(95)<300': true }, http_req_failed: { 'rate<0.01': true } };
    expect(thresholdLines([p95, failed, other], [passedAlone, failedAlone, passedAlone, null])).toEqual([
      '  thresholds, merged over every instance:',
      '    FAILED      http_req_duration p(95)<300   351.3 ms over 4000 requests',
      '    ok          http_req_failed rate<0.01   0.42 % over 4000 requests',
      '    not judged  http_reqs count>10   only http_req_duration, http_req_failed and checks are judged on merged data, not http_reqs',
      '  note: http_req_duration p(95)<300 fails merged (351.3 ms), but k6 on instances 0, 2 alone judged it ok',
      '  note: http_req_failed rate<0.01 holds merged (0.42 %), but k6 on instance 1 alone judged it failed',
    ]);
  });

  it('says nothing about thresholds when the run has none', () => {
    expect(thresholdLines([], [null])).toEqual([]);
  });

  it('names the threshold, its value and the requests when the sink stopped the run', () => {
    expect(abortLine(p95)).toBe('aborted: the merged threshold http_req_duration p(95)<300 failed at 351.3 ms over 4000 requests; the sink stopped every instance');
  });

  it('says where the shop broke and topped out, or that it never broke', () => {
    expect(capacityLine({ breakingPointVus: 98, throughputLimitRps: 80.06, throughputLimitVus: 85, maxVus: 100 })).toBe('  breaking point: 98 VUs   throughput limit: 80.1 req/s at 85 VUs');
    expect(capacityLine({ breakingPointVus: null, throughputLimitRps: null, throughputLimitVus: null, maxVus: 20 })).toBe('  no break up to 20 VUs');
  });

  it('prints the per-page table with a column per figure', () => {
    const row = { key: 'product', requests: 1200, rps: 40, p50Ms: 12.5, p95Ms: 80, p99Ms: null, errorRatio: 0 };
    expect(pageLines({ pageTypes: [row], slowestNames: [] })).toEqual([
      '  per page_type:',
      '               requests    req/s         p50         p95         p99    errors',
      '    product        1200     40.0     12.5 ms     80.0 ms         n/a    0.00 %',
    ]);
  });
});
