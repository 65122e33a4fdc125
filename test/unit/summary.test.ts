import { describe, expect, it } from 'vitest';
import { figuresFromSummary, gradeFromSummary, gradeReport, promoSummary } from '../../lib/summary.ts';

const handleSummaryData = {
  metrics: {
    http_req_duration: { type: 'trend', values: { 'p(95)': 650, 'p(99)': 900, avg: 300 } },
    http_req_failed: { type: 'rate', values: { rate: 0, passes: 0, fails: 40 } },
    http_reqs: { type: 'counter', values: { count: 40, rate: 8 } },
    checks: { type: 'rate', values: { rate: 1, passes: 40, fails: 0 } },
    iterations: { type: 'counter', values: { count: 20, rate: 4 } },
  },
};
const exportFile = {
  metrics: {
    http_req_duration: { 'p(95)': 650, 'p(99)': 900, avg: 300 },
    http_req_failed: { value: 0, passes: 0, fails: 40 },
    http_reqs: { count: 40, rate: 8 },
    checks: { value: 1, passes: 40, fails: 0 },
    iterations: { count: 20, rate: 4 },
  },
};

describe('summaries', () => {
  it('reads the same figures from handleSummary data and from a --summary-export file', () => {
    const expected = { requests: 40, p95Ms: 650, p99Ms: 900, errorRatio: 0, rps: 8, checksRate: 1, iterations: 20 };
    expect(figuresFromSummary(handleSummaryData)).toEqual(expected);
    expect(figuresFromSummary(exportFile)).toEqual(expected);
  });

  it('grades from the summary and prints the report with the grade first', () => {
    const g = gradeFromSummary(handleSummaryData);
    expect(gradeReport(figuresFromSummary(handleSummaryData), g, 'smoke_20260101_000000_deadbeef')).toBe(
      'Grade: A (97/100) [green]  testid=smoke_20260101_000000_deadbeef\n' +
        '  p95 650.0 ms   p99 900.0 ms   errors 0.00 %\n' +
        '  8.0 req/s   40 requests   20 iterations   checks 100.00 %\n',
    );
  });

  it('gives N/A for a run without requests', () => {
    expect(gradeFromSummary({ metrics: {} }).letter).toBe('N/A');
  });

  it('writes the summary JSON with the grade added when given a path', () => {
    const out = promoSummary(handleSummaryData, { path: '/tmp/x.json', testid: 't' });
    expect(Object.keys(out).sort()).toEqual(['/tmp/x.json', 'stdout']);
    expect(JSON.parse(out['/tmp/x.json']!).promo.grade).toMatchObject({ letter: 'A', score: 97 });
  });
});
