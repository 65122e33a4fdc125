import { describe, expect, it } from 'vitest';
import { resolveProfile, rampLoad, constantLoad, INTENSITIES } from '../../lib/profiles.ts';
import { gradeThresholds, thresholdsFromEnv } from '../../lib/thresholds.ts';
import { parseDurationMs } from '../../lib/env.ts';
import { scenarioSetup } from '../../lib/options.ts';

describe('intensity profiles and thresholds', () => {
  it('maps each intensity to its preset', () => {
    for (const name of ['light', 'medium', 'heavy'] as const) {
      expect(resolveProfile({ INTENSITY: name })).toMatchObject({ intensity: name, ...INTENSITIES[name] });
    }
  });

  it('lets TARGET_VUS, DURATION, RAMP_MAX_VUS, BASE_URL and THINK_TIME_MS override the preset', () => {
    expect(resolveProfile({ INTENSITY: 'heavy', TARGET_VUS: '3', DURATION: '1m30s', RAMP_MAX_VUS: '7', BASE_URL: 'http://shop.test/', THINK_TIME_MS: '0' }))
      .toEqual({ intensity: 'heavy', vus: 3, duration: '1m30s', rampMaxVus: 7, baseUrl: 'http://shop.test', thinkTimeMs: 0 });
  });

  it.each([
    ['TARGET_VUS', '0', 'TARGET_VUS must be a whole number of at least 1, not "0".'],
    ['DURATION', '10 minutes', 'DURATION must be a duration such as 30s, 2m or 1m30s, not "10 minutes".'],
    ['BASE_URL', 'shop.test', 'BASE_URL must be an http:// or https:// URL, not "shop.test".'],
  ])('rejects %s=%s with one sentence', (name, value, message) => {
    expect(() => resolveProfile({ [name]: value })).toThrow(message);
  });

  it('reads k6 durations', () => {
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('30')).toBeNull();
  });

  it('ramps up over 60 %, holds 30 % and ramps down over 10 % of the run', () => {
    const load = rampLoad(resolveProfile({ DURATION: '100s', RAMP_MAX_VUS: '40' }));
    expect(load.stages).toEqual([
      { duration: '60000ms', target: 40 },
      { duration: '30000ms', target: 40 },
      { duration: '10000ms', target: 0 },
    ]);
    expect(constantLoad(resolveProfile({ TARGET_VUS: '9' }))).toMatchObject({ executor: 'constant-vus', vus: 9 });
  });

  it('turns "at least C" into p(95)<2000 and an error rate below 1 %', () => {
    expect(gradeThresholds('C')).toEqual({ http_req_duration: ['p(95)<2000'], http_req_failed: ['rate<0.01'] });
    expect(gradeThresholds('A')).toEqual({ http_req_duration: ['p(95)<1000'], http_req_failed: ['rate<0.001'] });
  });

  it('aborts on failure for destructive runs', () => {
    expect(thresholdsFromEnv({ MIN_GRADE: 'C', ABORT_ON_FAIL: 'true' })).toEqual({
      http_req_duration: [{ threshold: 'p(95)<2000', abortOnFail: true, delayAbortEval: '10s' }],
      http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '10s' }],
    });
    expect(thresholdsFromEnv({ MIN_GRADE: 'none' })).toEqual({});
    expect(() => thresholdsFromEnv({ MIN_GRADE: 'E' })).toThrow('MIN_GRADE must be one of A, B, C, D, none, not "E".');
  });

  it('builds scenario options with the tags, p(99) in the summary and both kinds of thresholds', () => {
    const { options } = scenarioSetup('cache_hit', constantLoad, { thresholds: { cache_hit_rate: ['rate>0.5'] } }, { TESTID: 'cache_hit_20260101_000000_00000000' });
    expect(options.tags).toMatchObject({ testid: 'cache_hit_20260101_000000_00000000' });
    expect(options.summaryTrendStats).toContain('p(99)');
    expect(options.thresholds).toEqual({ http_req_duration: ['p(95)<2000'], http_req_failed: ['rate<0.01'], cache_hit_rate: ['rate>0.5'] });
    expect(options.scenarios).toEqual({ cache_hit: { executor: 'constant-vus', vus: 5, duration: '30s', exec: 'default' } });
  });
});
