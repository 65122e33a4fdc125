import { describe, expect, it } from 'vitest';
import { abortLine, gradeBlock, instanceVerdicts, pageLines, scenarioLines, summaryRateThresholds, thresholdLines, verdictLines } from '../../cli/final-report.ts';
import { BASELINE } from '../helpers/history-entry.ts';
import { liveLine } from '../../cli/sink-client.ts';
import type { RunJson } from '../../contract/sink-api.ts';
import { goalWords, scenarioResults } from '../../report/scenario-results.ts';
import { count } from '../../report/words.ts';
import type { ThresholdResultJson } from '../../contract/sink-api.ts';

const p95: ThresholdResultJson = { metric: 'http_req_duration', threshold: 'p(95)<300', ok: false, value: 351.25, requests: 4000, abortOnFail: true, supported: true };
const failed: ThresholdResultJson = { metric: 'http_req_failed', threshold: 'rate<0.01', ok: true, value: 0.0042, requests: 4000, abortOnFail: false, supported: true };
const other: ThresholdResultJson = { metric: 'http_reqs', threshold: 'count>10', ok: null, value: null, requests: 0, abortOnFail: false, supported: false, reason: 'only http_req_duration, http_req_failed, checks and Rate metrics are judged on merged data, not http_reqs' };

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
      '    FAILED      http_req_duration p(95)<300   351.3 ms over 4,000 requests',
      '    ok          http_req_failed rate<0.01   0.42 % over 4,000 requests',
      '    not judged  http_reqs count>10   only http_req_duration, http_req_failed, checks and Rate metrics are judged on merged data, not http_reqs',
      '  note: http_req_duration p(95)<300 fails merged (351.3 ms), but k6 on instances 0, 2 alone judged it ok',
      '  note: http_req_failed rate<0.01 holds merged (0.42 %), but k6 on instance 1 alone judged it failed',
    ]);
  });

  it('says nothing about thresholds when the run has none', () => {
    expect(thresholdLines([], [null])).toEqual([]);
  });

  it('names the threshold, its value and the requests when the sink stopped the run', () => {
    expect(abortLine(p95)).toBe('aborted: the merged threshold http_req_duration p(95)<300 failed at 351.3 ms over 4,000 requests; the sink stopped every instance');
  });

  it('prints the grade with the run\'s own sentences, the capacity and the ending the headline did not say', () => {
    const capacity = { breakingPointVus: 98, throughputLimitRps: 80.06, throughputLimitVus: 85, maxVus: 100, peakOkRps: 80, loadGrew: true, strained: false };
    const entry = { ...BASELINE, capacity, ending: { kind: 'stopped' as const, atVus: 99, plannedVus: 120, detail: null } };
    expect(gradeBlock(entry)).toEqual([
      `Grade: A (95/100) [green]  testid=${BASELINE.testid}`,
      '  Stopped by hand at 99 of 120 users, after the shop broke at 98 users.',
      '  p95 400.0 ms   p99 800.0 ms   errors 0.20 %',
      '  50.0 req/s   15,000 requests   3,000 iterations   checks 99.80 %',
    ]);
    expect(verdictLines(entry)).toEqual(['  The shop broke at 98 simultaneous users; it tops out at 80.1 requests/s (reached at 85 users).']);
    const refused = {
      ...entry,
      grade: { letter: 'N/A', score: null, colour: 'grey', text: 'N/A' },
      failures: { requests: 50, failed: 50, testSide: 50, shopSide: 0, causes: [{ cause: 'refused' as const, side: 'test' as const, status: 0, errorCode: 1212, error: 'dial: connection refused', pageType: 'product', origin: 'http://127.0.0.1:9', url: 'http://127.0.0.1:9/product/1', failed: 50, pageRequests: 50 }] },
    };
    expect(gradeBlock(refused)[1]).toBe('  The test could not reach the shop: 100 % of requests were refused (connection refused at http://127.0.0.1:9).');
    // A test that never reached the shop says nothing of how the shop held.
    expect(verdictLines(refused)).toEqual(['  Stopped by hand at 99 of 120 users.']);
  });

  it('says on the live line why a broken test has no grade', () => {
    const grade = { letter: 'N/A' as const, score: null, colour: 'grey' as const, text: 'N/A', reason: 'The test could not reach the shop: 100 % of requests were refused (connection refused at http://127.0.0.1:9).' };
    const live = { requests: 20, p50Ms: 0.2, p95Ms: 0.4, p99Ms: 0.5, errorRatio: 1, rps: 4, vus: 2, checksRate: 0, iterations: 20, grade };
    const run = { live, verdict: { kind: 'test_broken' } } as unknown as RunJson;
    expect(liveLine(run, 5000)).toBe('[live 0m05s] VUs 2  RPS 4.0  p95 0 ms  errors 100.00 %  grade N/A (The test could not reach the shop)');
    expect(liveLine({ ...run, verdict: { kind: 'no_data' } } as unknown as RunJson, 5000)).toMatch(/grade N\/A$/);
  });

  it('says one of a thing in the singular', () => {
    expect([count(1, 'VU'), count(0, 'VU'), count(2, 'VU'), count(1250, 'request'), count(1, 'simultaneous user')]).toEqual(['1 VU', '0 VUs', '2 VUs', '1,250 requests', '1 simultaneous user']);
    expect(abortLine({ ...p95, requests: 1 })).toContain('failed at 351.3 ms over 1 request;');
    expect(gradeBlock({ ...BASELINE, requests: 1, iterations: 1 })[3]).toContain('1 request   1 iteration');
  });

  it('does not say the sink stopped a run it did not stop', () => {
    expect(abortLine(p95, 'the sink has no token, so it stopped nothing')).toBe(
      'failed: the merged threshold http_req_duration p(95)<300 failed at 351.3 ms over 4,000 requests; the sink has no token, so it stopped nothing',
    );
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

describe("a scenario's own results", () => {
  const rate = (metric: string, threshold: string, value: number | null, ok: boolean | null): ThresholdResultJson => ({ metric, threshold, ok, value, requests: 0, abortOnFail: false, supported: true });

  it('says each Rate goal of the scenario in words, with its value and verdict, the known ones first', () => {
    const thresholds = [failed, rate('promo_applied_rate', 'rate>0.95', 0.9, false), rate('cache_304_rate', 'rate>0.95', 1, true), rate('signup_rate', 'rate>=0.2', null, null), rate('cache_hit_rate', 'rate>0.5', 0.9333, true), other];
    expect(scenarioResults(thresholds)).toEqual([
      { metric: 'cache_hit_rate', verdict: 'met', sentence: 'Pages served from the cache: 93.3 % (goal: above 50 %, met).' },
      { metric: 'cache_304_rate', verdict: 'met', sentence: 'Repeat visits answered "not modified" (304): 100 % (goal: above 95 %, met).' },
      { metric: 'promo_applied_rate', verdict: 'missed', sentence: 'Visits where the shop applied the promo: 90 % (goal: above 95 %, missed).' },
      { metric: 'signup_rate', verdict: 'none', sentence: 'signup_rate: not measured yet (goal: at least 20 %).' },
    ]);
    expect(scenarioLines(thresholds.slice(2, 3))).toEqual(['  results of the scenario:', '    Repeat visits answered "not modified" (304): 100 % (goal: above 95 %, met).']);
    expect(scenarioLines([p95, failed])).toEqual([]);
  });

  it('reads a goal in words only from a rate against a number', () => {
    expect([goalWords('rate>0.5'), goalWords('rate <= 0.015'), goalWords('rate!=0'), goalWords('p(95)<300')]).toEqual(['above 50 %', 'at most 1.5 %', 'not 0 %', null]);
  });

  it("takes one instance's Rate verdicts from k6's summary export when no sink merged them", () => {
    const summary = { metrics: { cache_hit_rate: { value: 0.9333, passes: 28, fails: 2, thresholds: { 'rate>0.5': false } }, http_req_duration: { 'p(95)': 3, thresholds: { 'p(95)<2000': false } }, vus: { value: 1 } } };
    expect(summaryRateThresholds(summary)).toEqual([{ metric: 'cache_hit_rate', threshold: 'rate>0.5', ok: true, value: 0.9333, requests: 0, abortOnFail: false, supported: true }]);
  });
});
