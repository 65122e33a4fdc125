// The report's words and its file: the promo's impact in sentences (hand-computed from
// the two runs), and the HTML's bounds: self-contained, escaped, at most 300 KB for a
// 5-minute run with the real built script.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promoImpact } from '../../report/impact.ts';
import { renderReportHtml } from '../../report/html.ts';
import { reportData } from '../../report/report-data.ts';
import { loadReportAssets } from '../../report/assets.ts';
import { MAX_POINTS } from '../../sink/grade/series.ts';
import { reportCommand, reportPaths } from '../../cli/report.ts';
import { sparkline, trendOf } from '../../report/trend.ts';
import { CliError } from '../../cli/args.ts';
import { BASELINE as NOVEMBER_BASELINE } from '../helpers/history-entry.ts';
import type { HistoryEntry, PageFiguresJson, RunSeriesJson, SeriesPointJson } from '../../contract/sink-api.ts';


const BASELINE: HistoryEntry = { ...NOVEMBER_BASELINE, testid: 'baseline_20261204_080000_1a2b3c4d', startedAt: '2026-12-04T08:00:00.000Z', endedAt: '2026-12-04T08:05:00.000Z' };

const pageOf = (key: string, requests: number, p95Ms: number, errorRatio = 0.001): PageFiguresJson => ({
  key, requests, rps: null, p50Ms: null, p95Ms, p99Ms: null, errorRatio, p95LowMs: p95Ms * 0.97, p95HighMs: p95Ms * 1.03,
});
const JOURNEY = (product: number, cart: number, cartErrors = 0.001) => ({ pageTypes: [pageOf('cart', 5000, cart, cartErrors), pageOf('homepage', 5000, 100), pageOf('product', 5000, product)], slowestNames: [] });
const WITHOUT: HistoryEntry = { ...BASELINE, pages: JOURNEY(400, 60) };

const PROMO: HistoryEntry = {
  ...BASELINE,
  testid: 'black_friday_20261204_090000_5e6f7a8b',
  tags: { ...BASELINE.tags, promo_type: 'manual_code', promo_name: 'Black Friday' },
  p95Ms: 472,
  errorRatio: 0.006,
  rps: 45,
  grade: { letter: 'C', score: 78, colour: 'orange', text: 'C (78/100)' },
  // The cart is 2.5 times as slow and fails 2 % of the time; the product page is 2 % slower (noise).
  pages: JOURNEY(408, 150, 0.021),
};

describe('the promo impact', () => {
  it('says first, in words, which pages got measurably slower, then what did not change, with the figures', () => {
    const impact = promoImpact(WITHOUT, PROMO);
    expect(impact.refused).toBeNull();
    expect(impact.sentences).toEqual([
      'Cart pages were 150 % slower with the promo (95 % within 150 ms, against 60 ms without it).',
      'There were more errors with the promo: 0.60 % of requests failed, against 0.20 % without it.',
      // 3,000 journeys in 300 s against 3,000 in 333 s: 10 %, and the counts' intervals apart.
      'The shop completed 10 % fewer journeys per second with the promo (9.0 journeys/s, against 10.0 without it).',
      'The homepage: no measurable change (95 % within 100 ms, against 100 ms without it).',
      'Product pages: no measurable change (95 % within 408 ms, against 400 ms without it).',
    ]);
  });

  it('says the same pages at about the same speed are no measurable change', () => {
    const same = promoImpact(WITHOUT, { ...PROMO, testid: 'same_20261204_090000_5e6f7a8b', pages: JOURNEY(410, 62), errorRatio: 0.0025, rps: 50, iterations: 3000, requests: 15000 });
    expect(same.sentences.every((s) => s.includes('no measurable change'))).toBe(true);
    expect(promoImpact(WITHOUT, { ...PROMO, pages: JOURNEY(300, 60) }).sentences[0]).toBe('Product pages were 25 % faster with the promo (95 % within 300 ms, against 400 ms without it).');
  });

  it('gives the reason alone, and no figures, for runs that cannot be compared', () => {
    const impact = promoImpact(WITHOUT, { ...PROMO, scenario: 'cache_hit' });
    expect(impact).toEqual({ sentences: ['These runs cannot be compared: the baseline ran scenario promo and the candidate cache_hit; compare runs of the same scenario.'], comparison: null, refused: impact.sentences[0] });
  });
});

const T0 = Date.UTC(2026, 11, 4, 9);
function fiveMinutes(): RunSeriesJson {
  const points: SeriesPointJson[] = [];
  for (let i = 0; i < 300; i++) {
    points.push({ t: T0 + i * 1000 + (i % 7), vus: 1 + Math.floor(i / 3), rps: 123.456789 + i, okRps: 120.98765 + i, p50Ms: 81.2345678, p95Ms: 412.3456789, p99Ms: 987.654321, errorRatio: 0.00123456789, checksRate: 0.99876543, requests: 125 * i, failed: i, grade: 'B', score: 87 });
  }
  return { testid: PROMO.testid, stepMs: 1000, points };
}

const page = (key: string): PageFiguresJson => ({ key, requests: 12345, rps: 41.2, p50Ms: 80.1, p95Ms: 400.2, p99Ms: 900.3, errorRatio: 0.001 });

describe('the report file', () => {
  it('is at most 300 KB for a 5-minute run with a 5-minute baseline, the built script and uPlot inline', async () => {
    expect(300).toBeLessThan(MAX_POINTS);
    const full: HistoryEntry = {
      ...PROMO,
      capacity: { breakingPointVus: 180, throughputLimitRps: 350.5, throughputLimitVus: 160, maxVus: 200 },
      pages: { pageTypes: ['home', 'product', 'cart', 'checkout', 'search'].map(page), slowestNames: Array.from({ length: 10 }, (_, i) => page(`https://shop.test/product/${i}?variant=${'x'.repeat(40)}`)) },
      thresholds: Array.from({ length: 6 }, (_, i) => ({ metric: 'http_req_duration', threshold: `p(95)<${1000 + i}`, ok: true, value: 412.3, requests: 37500, abortOnFail: false, supported: true })),
    };
    const html = renderReportHtml(reportData({ entry: full, series: fiveMinutes() }, { entry: BASELINE, series: fiveMinutes() }), await loadReportAssets());
    const kb = Buffer.byteLength(html) / 1024;
    console.log(`report of a 5-minute run with its baseline: ${kb.toFixed(0)} KB`);
    expect(kb).toBeLessThanOrEqual(300);
    expect(kb).toBeGreaterThan(50); // uPlot and the points are in it
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i); // nothing to fetch
  });

  it('escapes what the run names: a promo called </script><b> stays text, and the data reads back as it was', async () => {
    const entry = { ...PROMO, tags: { ...PROMO.tags, promo_name: '</script><b>"x"</b>' } };
    const data = reportData({ entry, series: null }, null, new Date(T0));
    const html = renderReportHtml(data, await loadReportAssets());
    expect(html).not.toContain('<b>"x"</b>');
    expect(html).toContain('&lt;/script&gt;&lt;b&gt;&quot;x&quot;&lt;/b&gt;');
    const json = html.match(/<script type="application\/json" id="report-data">([^<]*)<\/script>/)![1]!;
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(data)));
  });

  it('writes a grade score that is not a number, from a sink it cannot trust, as no grade', async () => {
    const entry = { ...PROMO, grade: { ...PROMO.grade, score: '<a href="//evil">x</a>' as unknown as number } };
    const html = renderReportHtml(reportData({ entry, series: null }, null, new Date(T0)), await loadReportAssets());
    expect(html).not.toContain('<a href="//evil">');
    expect(html).toContain('<span data-testid="grade-score">no grade</span>');
  });
});

describe('`report` given bad arguments', () => {
  const cases: Array<[string[], string]> = [
    [[], 'report needs the testid of a finished run: report <testid>.'],
    [['a', 'b'], 'report takes one testid, not 2: a b.'],
    [['run/../x'], '"run/../x" is not a testid (letters, digits, _ . and -).'],
    [['a', '--baseline', 'a'], '--baseline must be another run than the one reported.'],
    [['a', '--sink', 'http://x', '--out-dir', 'd'], 'Give either --sink or --out-dir, not both.'],
    [['a', '--sink', 'ftp://x'], '--sink must be an http:// or https:// URL, not "ftp://x".'],
    [['a', '--out', ''], '--out needs a file name.'],
    [['a', '--colour'], "Unknown option '--colour'; report takes --baseline, --out, --pdf, --sink, --out-dir, --help."],
    [['no_such_run', '--out-dir', '/nonexistent-dir'], 'No finished run with testid no_such_run in /nonexistent-dir; `history --out-dir /nonexistent-dir` lists the runs recorded there; a run reported to a sink of its own (--sink) is in that sink\'s history: add --sink URL.'],
    [['a', '--vus', '3'], "Unknown option '--vus'; report takes --baseline, --out, --pdf, --sink, --out-dir, --help."],
    [['a', '--out'], '--out needs a value.'],
  ];
  for (const [argv, message] of cases) {
    it(`says "${message}" for ${JSON.stringify(argv)}`, async () => {
      await expect(reportCommand(argv, () => {})).rejects.toThrow(new CliError(message));
    });
  }

  it('says in one sentence which series file is broken, instead of a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-broken-'));
    try {
      writeFileSync(join(dir, 'history.jsonl'), `${JSON.stringify(PROMO)}\n`);
      mkdirSync(join(dir, 'series'));
      const file = join(dir, 'series', `${PROMO.testid}.json`);
      writeFileSync(file, '{"testid": "cut sho');
      await expect(reportCommand([PROMO.testid, '--out-dir', dir, '--out', join(dir, 'r.html')], () => {})).rejects.toThrow(
        new CliError(`${file} is not a run's series (Unterminated string in JSON at position 19); move it away to make the report without charts.`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('where `report` writes', () => {
  it('into the run’s own folder by default, beside a baseline under another name, and a .pdf --out is the PDF', () => {
    expect(reportPaths(undefined, 'results', 'a_1', null, false)).toEqual({ html: join('results', 'a_1', 'report.html'), pdf: null });
    expect(reportPaths(undefined, 'out', 'a_1', 'b_2', true)).toEqual({ html: join('out', 'a_1', 'report-vs-b_2.html'), pdf: join('out', 'a_1', 'report-vs-b_2.pdf') });
    expect(reportPaths('x.pdf', 'results', 'a_1', null, true)).toEqual({ html: 'x.html', pdf: 'x.pdf' });
    expect(reportPaths('x.PDF', 'results', 'a_1', null, false)).toEqual({ html: 'x.html', pdf: 'x.PDF' });
    expect(reportPaths('r.html', 'results', 'a_1', null, true)).toEqual({ html: 'r.html', pdf: 'r.pdf' });
  });

  it('writes there, making the folder, and nothing in the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-where-'));
    const cwd = process.cwd();
    try {
      writeFileSync(join(dir, 'history.jsonl'), `${JSON.stringify(PROMO)}\n`);
      process.chdir(dir);
      const said: string[] = [];
      await reportCommand([PROMO.testid, '--out-dir', 'runs'], (line) => said.push(line)).catch((err: Error) => said.push(err.message));
      expect(said[0]).toMatch(/^No finished run/);
      await reportCommand([PROMO.testid, '--out-dir', '.'], (line) => said.push(line));
      expect(said[1]).toBe(`report ${join(dir, PROMO.testid, 'report.html')}`);
      expect(readdirSync(dir).sort()).toEqual([PROMO.testid, 'history.jsonl'].sort());
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the trend of past tests', () => {
  const run = (testid: string, endedAt: string, p95Ms: number | null, scenario = 'ramp', promo = 'none', promoType = 'none'): HistoryEntry => ({
    ...BASELINE, testid, endedAt, p95Ms, scenario, tags: { ...BASELINE.tags, promo_name: promo, promo_type: promoType },
  });
  const runs = [
    run('c', '2026-12-04T10:00:00Z', 400),
    run('a', '2026-12-04T08:00:00Z', 120),
    run('x', '2026-12-04T09:30:00Z', 999, 'smoke'),
    run('b', '2026-12-04T09:00:00Z', null),
    run('bf', '2026-12-04T09:10:00Z', 900, 'ramp', 'Black Friday', 'manual_code'),
  ];

  it('follows the newest run’s scenario, promo type and promo name, oldest first, and says where p95 went', () => {
    const trend = trendOf(runs);
    expect([trend.scope, trend.runs.map((r) => r.testid), trend.summary, trend.kind]).toEqual([
      'scenario ramp, promo type none',
      ['a', 'b', 'c'],
      'p95 went from 120 ms to 400 ms over the last 2 runs (+233 %): the shop got slower.',
      'slower',
    ]);
    expect(sparkline(trend.runs)).toBe('▁·█');
  });

  it('never mixes a promo\'s runs with the shop\'s without it', () => {
    expect(trendOf(runs, { promoName: 'Black Friday' })).toMatchObject({ scope: 'scenario ramp, promo type manual code, promo Black Friday', runs: [runs[4]] });
    expect(trendOf(runs, { scenario: 'ramp', promoType: 'none' }).runs.map((r) => r.testid)).toEqual(['a', 'b', 'c']);
    expect(trendOf(runs, { scenario: 'smoke' }).summary).toBeNull();
    expect(trendOf(runs, { scenario: 'ramp', promoType: 'none' }, 1).runs.map((r) => r.testid)).toEqual(['c']);
  });

  it('speaks only of a change past the noise floor, with figures that agree with the percentage', () => {
    const steady = [run('p', '2026-12-04T08:00:00Z', 400), run('q', '2026-12-04T09:00:00Z', 410)];
    expect(trendOf(steady)).toMatchObject({ summary: 'p95 held at about 410 ms over the last 2 runs: no measurable change.', kind: 'held' });
    // 1.4 → 1.9 ms is +36 %, but 0.5 ms: under the 20 ms floor.
    expect(trendOf([run('s', '2026-12-04T08:00:00Z', 1.4), run('t', '2026-12-04T09:00:00Z', 1.9)]).summary).toBe('p95 held at about 1.9 ms over the last 2 runs: no measurable change.');
    expect(trendOf([run('f', '2026-12-04T08:00:00Z', 500), run('g', '2026-12-04T09:00:00Z', 250)]).summary).toBe('p95 went from 500 ms to 250 ms over the last 2 runs (-50 %): the shop got faster.');
  });

  it('leaves out runs whose test was broken', () => {
    const broken = { ...run('z', '2026-12-04T11:00:00Z', 0.3), failures: { requests: 9, failed: 9, testSide: 9, shopSide: 0, causes: [{ cause: 'refused' as const, side: 'test' as const, status: 0, errorCode: 1212, error: null, pageType: null, origin: 'http://127.0.0.1:9', url: null, failed: 9, pageRequests: 9 }] } };
    expect(trendOf([...runs, broken]).runs.map((r) => r.testid)).toEqual(['a', 'b', 'c']);
  });
});
