// The words of every sentence (report/sentences.ts), each against the figures it speaks of.
// Whether real runs get the right sentence is test/integration/sentences.test.ts.
import { describe, expect, it } from 'vitest';
import {
  brokenSentence, capacitySentence, durationPair, endingSentence, entryVerdict, errorsSentence, gradeText, guardRuleText, guardSentence, guardTripDetail, journeysSentence,
  pageChangeSentence, refusal, share, testIsBroken, trendSentence, users, verdictOf,
} from '../../report/sentences.ts';
import type { CapacityJson, FailureCauseJson, FailuresJson } from '../../contract/sink-api.ts';
import { BASELINE } from '../helpers/history-entry.ts';

const cause = (c: Partial<FailureCauseJson> & Pick<FailureCauseJson, 'cause' | 'side' | 'failed'>): FailureCauseJson => ({
  status: 0, errorCode: null, error: null, pageType: null, origin: 'http://127.0.0.1:9', url: 'http://127.0.0.1:9/product/1', pageRequests: c.failed, ...c,
});

const failures = (requests: number, causes: FailureCauseJson[]): FailuresJson => {
  const side = (s: string) => causes.filter((c) => c.side === s).reduce((n, c) => n + c.failed, 0);
  return { requests, failed: side('test') + side('shop'), testSide: side('test'), shopSide: side('shop'), causes };
};

const REFUSED = failures(120, [cause({ cause: 'refused', side: 'test', status: 0, errorCode: 1212, error: 'dial: connection refused', failed: 120 })]);
const ALL_404 = failures(90, [cause({ cause: 'client_error', side: 'test', status: 404, errorCode: 1404, pageType: 'product', failed: 30, pageRequests: 30, url: 'http://shop.test/product/1' })]);

const capacity = (c: Partial<CapacityJson>): CapacityJson => ({ breakingPointVus: null, throughputLimitRps: null, throughputLimitVus: null, maxVus: 20, peakOkRps: 24.6, loadGrew: true, strained: false, ...c });

describe('the test is broken', () => {
  it('says a run whose every request was refused could not reach the shop, and where', () => {
    expect(testIsBroken(REFUSED)).toBe(true);
    expect(brokenSentence(REFUSED)).toBe('The test could not reach the shop: 100 % of requests were refused (connection refused at http://127.0.0.1:9).');
  });

  it('names the host-name and TLS failures as such', () => {
    const dns = failures(10, [cause({ cause: 'dns', side: 'test', errorCode: 1101, error: 'lookup: no such host', origin: 'http://shop.invalid', failed: 10 })]);
    expect(brokenSentence(dns)).toBe('The test could not reach the shop: 100 % of requests could not find its host name (lookup: no such host at http://shop.invalid).');
    const tls = failures(10, [cause({ cause: 'tls', side: 'test', errorCode: 1301, error: 'tls: first record does not look like a TLS handshake', origin: 'https://127.0.0.1:8443', failed: 8 })]);
    expect(brokenSentence(tls)).toBe('The test could not reach the shop: 80 % of requests failed the TLS handshake (tls: first record does not look like a TLS handshake at https://127.0.0.1:8443).');
  });

  it('says the journey is broken when every product page answered 404, though the other pages answered', () => {
    expect(testIsBroken(ALL_404)).toBe(true);
    expect(brokenSentence(ALL_404)).toBe('The journey is broken: every product page answered 404 (http://shop.test/product/1).');
    const some = failures(300, [cause({ cause: 'client_error', side: 'test', status: 404, pageType: 'product', failed: 63, pageRequests: 100, url: 'http://shop.test/product/7' })]);
    expect(brokenSentence(some)).toBe('The journey is broken: 63 % of product pages answered 404 (http://shop.test/product/7).');
    const home = failures(30, [cause({ cause: 'client_error', side: 'test', status: 410, pageType: 'homepage', failed: 10, pageRequests: 10, url: 'http://shop.test/' })]);
    expect(brokenSentence(home)).toBe('The journey is broken: every request for the homepage answered 410 (http://shop.test/).');
  });

  it('leaves the grade to the shop when its own failures are most of them, or the test\'s are under 1 % of requests', () => {
    const shopMostly = failures(1000, [cause({ cause: 'server_error', side: 'shop', status: 503, failed: 300 }), cause({ cause: 'client_error', side: 'test', status: 404, failed: 100 })]);
    expect(testIsBroken(shopMostly)).toBe(false);
    expect(brokenSentence(shopMostly)).toBeNull();
    const few404 = failures(1000, [cause({ cause: 'client_error', side: 'test', status: 404, failed: 9 })]);
    expect(testIsBroken(few404)).toBe(false);
    expect(testIsBroken(failures(1000, []))).toBe(false);
  });
});

describe('capacity', () => {
  it('says where the shop broke, and where it tops out when it saturated', () => {
    expect(capacitySentence(capacity({ breakingPointVus: 94, throughputLimitRps: 80, throughputLimitVus: 85, maxVus: 100 }))).toEqual({
      kind: 'broke',
      text: 'The shop broke at 94 simultaneous users; it tops out at 80.0 requests/s (reached at 85 users).',
    });
    expect(capacitySentence(capacity({ breakingPointVus: 1 })).text).toBe('The shop broke at 1 simultaneous user.');
    expect(capacitySentence(capacity({ throughputLimitRps: 400.4, throughputLimitVus: 216, maxVus: 400 }))).toEqual({
      kind: 'limit',
      text: 'No break up to 400 simultaneous users; it tops out at 400 requests/s (reached at 216 users).',
    });
  });

  it('says no limit was found, and that the load set the pace, when the shop neither saturated nor strained', () => {
    expect(capacitySentence(capacity({}))).toEqual({ kind: 'no_limit', text: 'No limit found up to 24.6 req/s at 20 users: the load, not the shop, set the pace.' });
    // A run too short for a rate still says what it found.
    expect(capacitySentence(capacity({ peakOkRps: null, maxVus: 4 })).text).toBe('No limit found at 4 users: the load, not the shop, set the pace.');
  });

  it('does not say the load set the pace when the shop strained without a limit found', () => {
    const grew = capacitySentence(capacity({ strained: true }));
    expect(grew.kind).toBe('not_measured');
    expect(grew.text).toBe('No limit measured up to 24.6 req/s at 20 users: the shop slowed down as the load grew, but the test ended before its throughput levelled off.');
    const steady = capacitySentence(capacity({ strained: true, loadGrew: false, maxVus: 5 }));
    expect(steady.text).toBe('No limit measured at 5 users: the load did not grow, and the shop was struggling under it; a ramp finds where it tops out.');
    expect(`${grew.text} ${steady.text}`).not.toMatch(/set the pace|tops out at/);
  });
});

describe('how a run ended', () => {
  it('says a run stopped by hand stopped, at how many of its users, and whether the shop held', () => {
    const stopped = { kind: 'stopped' as const, atVus: 12, plannedVus: 20, detail: null };
    expect(endingSentence(stopped, capacity({ maxVus: 12 }))).toBe('Stopped by hand at 12 of 20 users; the shop held until then.');
    expect(endingSentence(stopped, capacity({ breakingPointVus: 9 }))).toBe('Stopped by hand at 12 of 20 users, after the shop broke at 9 users.');
    expect(endingSentence(stopped, capacity({ strained: true }))).toBe('Stopped by hand at 12 of 20 users; the shop was struggling by then.');
    expect(endingSentence({ ...stopped, atVus: 1, plannedVus: null })).toBe('Stopped by hand at 1 user; the shop held until then.');
    expect(endingSentence(stopped, capacity({}), false)).toBe('Stopped by hand at 12 of 20 users.');
  });

  it('names the threshold, the guard or k6\'s reason for the other early endings, and nothing for a run that ran to its end', () => {
    expect(endingSentence({ kind: 'threshold', atVus: 14, plannedVus: 20, detail: 'http_req_duration p(95)<300 failed at 651.2 ms' })).toBe(
      'Stopped by a threshold at 14 of 20 users: http_req_duration p(95)<300 failed at 651.2 ms.',
    );
    expect(endingSentence({ kind: 'guard', atVus: 14, plannedVus: 20, detail: null })).toBe('Stopped by the guard at 14 of 20 users.');
    expect(endingSentence({ kind: 'aborted', atVus: 3, plannedVus: 20, detail: 'k6 exited with 108 (aborted by the script).' })).toBe('Aborted at 3 of 20 users: k6 exited with 108 (aborted by the script).');
    expect(endingSentence({ kind: 'completed', atVus: 20, plannedVus: 20, detail: null })).toBeNull();
    expect(endingSentence(null)).toBeNull();
  });
});

describe('the guard in words', () => {
  const errors = { measure: 'errors' as const, above: 0.05, forMs: 10_000 };
  const p95 = { measure: 'p95' as const, above: 3000, forMs: 10_000 };

  it('says how long the guard stopped the run after the breaking point, when there was one', () => {
    const detail = guardTripDetail(errors, 0.1234);
    expect(detail).toBe("the shop's errors stayed above 5 % for 10 s (never under 12 %)");
    expect(endingSentence({ kind: 'guard', atVus: 52, plannedVus: 72, detail, sinceBreakS: 11 })).toBe(
      "Stopped by the guard at 52 of 72 users, 11 s after the breaking point: the shop's errors stayed above 5 % for 10 s (never under 12 %).",
    );
    expect(endingSentence({ kind: 'guard', atVus: 10, plannedVus: 10, detail: guardTripDetail(p95, 3421), sinceBreakS: null })).toBe(
      'Stopped by the guard at 10 of 10 users: p95 stayed above 3 s for 10 s (never under 3.4 s).',
    );
  });

  it('words the rules as --guard takes them and as the CLI announces them', () => {
    expect([errors, p95, { measure: 'p99' as const, above: 800, forMs: 1500 }, { measure: 'errors' as const, above: 0.025, forMs: 60_000 }].map(guardRuleText)).toEqual([
      'errors>5%:10s', 'p95>3s:10s', 'p99>800ms:1500ms', 'errors>2.5%:60s',
    ]);
    expect(guardSentence([errors, p95])).toBe("The guard stops the run when the shop's errors stay above 5 % for 10 s, or p95 stays above 3 s for 10 s.");
    expect(guardTripDetail({ measure: 'p90', above: 500, forMs: 5000 }, 640.4)).toBe('p90 stayed above 500 ms for 5 s (never under 640 ms)');
    expect(guardTripDetail(errors, 0.0612)).toBe("the shop's errors stayed above 5 % for 10 s (never under 6.1 %)");
  });
});

describe("a run's verdict", () => {
  const graded = { grade: { letter: 'A', colour: 'green' }, requests: 500, failures: failures(500, []), capacity: capacity({}), ending: null };

  it('puts the grade in words under the light of a run that went well, live and once over', () => {
    expect(verdictOf({ ...graded, finished: false })).toEqual({
      kind: 'graded',
      headline: 'All good: the shop is coping well.',
      broken: null,
      capacity: 'No limit found up to 24.6 req/s at 20 users: the load, not the shop, set the pace.',
      capacityKind: 'no_limit',
      ending: null,
      endingKind: null,
    });
    expect(verdictOf({ ...graded, finished: true }).headline).toBe('The site holds: it coped well with the load.');
  });

  it('puts the ending first when the run was stopped, so a stopped run never reads "all good"', () => {
    const v = verdictOf({ ...graded, ending: { kind: 'stopped', atVus: 12, plannedVus: 20, detail: null }, finished: true });
    expect(v.headline).toBe('Stopped by hand at 12 of 20 users; the shop held until then.');
    expect(v.endingKind).toBe('stopped');
  });

  it('gives a broken test no capacity and no grade words, only why it is broken', () => {
    const v = verdictOf({ ...graded, grade: { letter: 'F', colour: 'red' }, failures: REFUSED, capacity: capacity({ breakingPointVus: 6 }), finished: true });
    expect(v).toMatchObject({ kind: 'test_broken', headline: brokenSentence(REFUSED), capacity: null, capacityKind: null });
  });

  it('shows a broken test\'s missing grade with the reason in a table cell', () => {
    expect(gradeText({ ...BASELINE, grade: { letter: 'N/A', score: null, colour: 'grey', text: 'N/A' }, failures: REFUSED })).toBe('N/A: the test could not reach the shop');
    expect(gradeText({ ...BASELINE, grade: { letter: 'N/A', score: null, colour: 'grey', text: 'N/A' }, failures: ALL_404 })).toBe('N/A: the journey is broken');
    expect(gradeText(BASELINE)).toBe('A (95/100)');
  });

  it('words an entry written before issue 21 from what it holds', () => {
    expect(entryVerdict({ ...BASELINE, capacity: { breakingPointVus: null, throughputLimitRps: null, throughputLimitVus: null, maxVus: 20 } })).toMatchObject({
      kind: 'graded',
      headline: 'The site holds: it coped well with the load.',
      capacity: 'No limit found up to 50.0 req/s at 20 users: the load, not the shop, set the pace.',
    });
    expect(entryVerdict(BASELINE).capacity).toBeNull();
  });
});

describe('comparisons and trends', () => {
  it('prints figures that agree with the percentage beside them', () => {
    expect(durationPair(1.4, 1.9)).toEqual({ baseline: '1.4 ms', candidate: '1.9 ms', pct: '36' });
    // Whole ms would read "21 ms to 22 ms (+7.1 %)", which is +4.8 %: a decimal more.
    expect(durationPair(21.04, 22.53)).toEqual({ baseline: '21.0 ms', candidate: '22.5 ms', pct: '7.1' });
    expect(durationPair(950, 1900)).toEqual({ baseline: '0.95 s', candidate: '1.90 s', pct: '100' });
  });

  it('gives a measurable change its size and direction, and anything else "no measurable change"', () => {
    expect(pageChangeSentence('cart', 60, 118, true, 'promo')).toBe('Cart pages were 97 % slower with the promo (95 % within 118 ms, against 60 ms without it).');
    expect(pageChangeSentence('homepage', 40, 20, true, 'runs')).toBe('The homepage was 50 % faster in the candidate run (95 % within 20 ms, against 40 ms in the baseline).');
    expect(pageChangeSentence('product', 1.7, 2.7, false, 'promo')).toBe('Product pages: no measurable change (95 % within 2.7 ms, against 1.7 ms without it).');
    expect(errorsSentence(0.001, 0.02, true, 'promo')).toBe('There were more errors with the promo: 2.00 % of requests failed, against 0.10 % without it.');
    expect(errorsSentence(0.001, 0.0012, false, 'promo')).toBe('Errors: no measurable change (0.12 % of requests failed, against 0.10 % without it).');
    expect(journeysSentence(10, 8, true, 'promo')).toBe('The shop completed 20 % fewer journeys per second with the promo (8.0 journeys/s, against 10.0 without it).');
    expect(journeysSentence(10, 10.2, false, 'promo')).toBe('Journeys per second: no measurable change (10.2 journeys/s, against 10.0 without it).');
  });

  it('says in one sentence why two runs cannot be compared', () => {
    expect(refusal.scenario('cache_hit', 'promo')).toBe('These runs cannot be compared: the baseline ran scenario cache_hit and the candidate promo; compare runs of the same scenario.');
    expect(refusal.journey(['category', 'homepage', 'product'], ['cart', 'category', 'homepage', 'product'])).toBe(
      'These runs cannot be compared: their journeys differ (the baseline visits category, homepage and product, the candidate cart, category, homepage and product); compare runs of the same journey.',
    );
    expect(refusal.broken('candidate', brokenSentence(REFUSED)!)).toBe(
      'These runs cannot be compared: the candidate did not measure the shop (the test could not reach the shop: 100 % of requests were refused (connection refused at http://127.0.0.1:9)).',
    );
  });

  it('says where p95 went over a trend only when the change is measurable, with figures that agree', () => {
    expect(trendSentence(21, 64, 4, true)).toEqual({ kind: 'slower', text: 'p95 went from 21 ms to 64 ms over the last 4 runs (+205 %): the shop got slower.' });
    expect(trendSentence(1.4, 1.9, 3, false)).toEqual({ kind: 'held', text: 'p95 held at about 1.9 ms over the last 3 runs: no measurable change.' });
    expect(trendSentence(400, 200, 2, true).text).toBe('p95 went from 400 ms to 200 ms over the last 2 runs (-50 %): the shop got faster.');
  });

  it('counts users and shares the way people read them', () => {
    expect([users(1), users(2), users(12, 20), users(1, 1)]).toEqual(['1 user', '2 users', '12 of 20 users', '1 of 1 user']);
    expect([share(120, 120), share(119.9, 120), share(63, 100), share(5, 200), share(1, 3000)]).toEqual(['100 %', '99.9 %', '63 %', '2.5 %', 'under 0.1 %']);
  });
});
