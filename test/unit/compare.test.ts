import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { comparability, compareRuns, defaultComparison, formatComparison } from '../../report/compare.ts';
import { compareCommand, historyCommand } from '../../cli/history.ts';
import { CliError } from '../../cli/args.ts';
import { History } from '../../sink/control/history.ts';
import { historyCsv } from '../../report/history-csv.ts';
import type { HistoryEntry } from '../../contract/sink-api.ts';
import { BASELINE } from '../helpers/history-entry.ts';


const page = (key: string, requests: number, p95Ms: number, spread: number, errorRatio: number) => ({
  key, requests, rps: null, p50Ms: null, p95Ms, p99Ms: null, errorRatio, p95LowMs: p95Ms - spread, p95HighMs: p95Ms + spread,
});

/** The shop without the promo: three page types, 5,000 requests each, 3,000 journeys in 300 s. */
const BEFORE: HistoryEntry = {
  ...BASELINE,
  pages: { pageTypes: [page('cart', 5000, 60, 5, 0.003), page('homepage', 5000, 100, 5, 0.001), page('product', 5000, 400, 20, 0.002)], slowestNames: [] },
};

/** With the promo: the same journey; only the product page got measurably slower. */
const CANDIDATE: HistoryEntry = {
  ...BEFORE,
  testid: 'black_friday_20261127_090000_5e6f7a8b',
  tags: { environment: 'preprod', promo_type: 'manual_code', promo_name: 'Black Friday', intensity: 'medium' },
  startedAt: '2026-11-27T09:00:00.000Z',
  endedAt: '2026-11-27T09:05:00.000Z',
  exitCode: 99,
  exitReason: 'thresholds failed',
  requests: 12750,
  p50Ms: 150,
  p95Ms: 520,
  p99Ms: 1200,
  errorRatio: 0.006,
  rps: 42.5,
  iterations: 2550,
  checksRate: 0.99,
  grade: { letter: 'C', score: 78, colour: 'orange', text: 'C (78/100)' },
  pages: { pageTypes: [page('cart', 4250, 62, 5, 0.004), page('homepage', 4250, 104, 8, 0.001), page('product', 4250, 520, 20, 0.004)], slowestNames: [] },
};

/**
 * Hand-computed: candidate − baseline, that over the baseline × 100, and whether it counts
 * (≥ 10 % and ≥ 20 ms, intervals apart, for p95; ≥ 0.5 point, Wilson intervals apart, for
 * errors; ≥ 10 %, Poisson intervals apart, for journeys/s).
 */
const EXPECTED = [
  // metric, baseline, candidate, delta, delta %, better, measurable
  ['p95 cart (ms)', 60, 62, 2, (2 / 60) * 100, 'lower', false], // +3 %, 2 ms: under both floors
  ['p95 homepage (ms)', 100, 104, 4, 4, 'lower', false], // +4 %, and [95, 105] meets [96, 112]
  ['p95 product (ms)', 400, 520, 120, 30, 'lower', true], // +30 %, +120 ms, [380, 420] and [500, 540] apart
  ['errors cart (%)', 0.3, 0.4, 0.1, (0.1 / 0.3) * 100, 'lower', false], // 0.1 point
  ['errors homepage (%)', 0.1, 0.1, 0, 0, 'lower', false],
  ['errors product (%)', 0.2, 0.4, 0.2, 100, 'lower', false], // 0.2 point: under the 0.5-point floor
  ['journeys/s', 10, 8.5, -1.5, -15, 'higher', true], // 3,000 and 2,550 journeys in 300 s: 3000 ± 107 and 2550 ± 99 apart
  ['requests/journey', 5, 5, 0, 0, 'lower', null],
  ['score', 95, 78, -17, (-17 / 95) * 100, 'higher', null],
] as const;

const PLAIN = `Baseline:  baseline_20261127_080000_1a2b3c4d      A (95/100)  completed
Candidate: black_friday_20261127_090000_5e6f7a8b  C (78/100)  thresholds failed

metric               baseline  candidate   delta   delta %
p95 cart (ms)            60.0       62.0    +2.0    +3.3 %
p95 homepage (ms)       100.0      104.0    +4.0    +4.0 %
p95 product (ms)        400.0      520.0  +120.0   +30.0 %
errors cart (%)          0.30       0.40   +0.10   +33.3 %
errors homepage (%)      0.10       0.10    0.00     0.0 %
errors product (%)       0.20       0.40   +0.20  +100.0 %
journeys/s              10.00       8.50   -1.50   -15.0 %
requests/journey         5.00       5.00    0.00     0.0 %
score                      95         78     -17   -17.9 %

Product pages were 30 % slower with the promo (95 % within 520 ms, against 400 ms without it).
The shop completed 15 % fewer journeys per second with the promo (8.5 journeys/s, against 10.0 without it).
Cart pages: no measurable change (95 % within 62 ms, against 60 ms without it).
The homepage: no measurable change (95 % within 104 ms, against 100 ms without it).
Errors: no measurable change (0.60 % of requests failed, against 0.20 % without it).

Promo overhead: p95 product +30 %, journeys/s -15 %
`;

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const RESET = '\x1b[0m';

describe('compareRuns', () => {
  it('compares each page type, the errors and the journeys per second, and judges which changes count', () => {
    const c = compareRuns(BEFORE, CANDIDATE);
    expect(c.baseline).toBe(BEFORE);
    expect(c.candidate).toBe(CANDIDATE);
    expect(c.voice).toBe('promo');
    expect(c.rows.map((r) => r.metric)).toEqual(EXPECTED.map((e) => e[0]));
    c.rows.forEach((row, i) => {
      const [, baseline, candidate, delta, deltaPct, better, measurable] = EXPECTED[i]!;
      expect(row.baseline).toBeCloseTo(baseline, 9);
      expect(row.candidate).toBeCloseTo(candidate, 9);
      expect(row.delta).toBeCloseTo(delta, 9);
      expect(row.deltaPct).toBeCloseTo(deltaPct, 9);
      expect([row.metric, row.better, row.measurable]).toEqual([row.metric, better, measurable]);
    });
  });

  it('never compares over the page mix: the same pages at the same speed are no change, whatever the mix', () => {
    // Twice as many cart calls, each as fast: the old whole-run p95 and requests/s would have moved.
    const mix = { ...BEFORE, testid: 'mix_20261127_100000_00000000', endedAt: '2026-11-27T10:05:00.000Z', p95Ms: 300, rps: 66, requests: 20000, pages: { pageTypes: [page('cart', 10000, 60, 5, 0.003), page('homepage', 5000, 100, 5, 0.001), page('product', 5000, 400, 20, 0.002)], slowestNames: [] } };
    const c = compareRuns(BEFORE, mix);
    expect(c.pages.every((p) => !p.p95Measurable)).toBe(true);
    expect(c.journeys.measurable).toBe(false);
    expect(c.sentences.join(' ')).not.toMatch(/slower|faster|more|fewer/);
  });

  it('counts a change only past both floors and outside the error bounds: 1.7 ms → 2.7 ms is no measurable change', () => {
    const fast = (p95: number) => ({ ...BEFORE, pages: { pageTypes: [page('product', 5000, p95, 0.1, 0)], slowestNames: [] } });
    const c = compareRuns(fast(1.7), { ...fast(2.7), testid: 'x_20261127_100000_00000000' });
    expect(c.pages[0]!.p95DeltaPct).toBeCloseTo(58.8, 1);
    expect(c.pages[0]!.p95Measurable).toBe(false);
    expect(c.sentences[0]).toBe('Product pages: no measurable change (95 % within 2.7 ms, against 1.7 ms in the baseline).');
    // Past the floors but inside the confidence intervals: still no change.
    const wide = (p95: number) => ({ ...BEFORE, pages: { pageTypes: [page('product', 40, p95, 60, 0)], slowestNames: [] } });
    expect(compareRuns(wide(200), wide(250)).pages[0]!.p95Measurable).toBe(false);
    expect(compareRuns(wide(200), wide(400)).pages[0]!.p95Measurable).toBe(true);
  });

  it('refuses other scenarios, other journeys and runs whose test was broken, in one sentence', () => {
    expect(comparability(BEFORE, { ...CANDIDATE, scenario: 'cache_hit' })).toBe('These runs cannot be compared: the baseline ran scenario promo and the candidate cache_hit; compare runs of the same scenario.');
    const withoutCart = { ...CANDIDATE, pages: { pageTypes: CANDIDATE.pages!.pageTypes.filter((p) => p.key !== 'cart'), slowestNames: [] } };
    expect(comparability(withoutCart, CANDIDATE)).toBe(
      'These runs cannot be compared: their journeys differ (the baseline visits homepage and product, the candidate cart, homepage and product); compare runs of the same journey.',
    );
    const refused = { ...CANDIDATE, verdict: { kind: 'test_broken' as const, headline: 'x', broken: 'The test could not reach the shop: 100 % of requests were refused (connection refused at http://127.0.0.1:9).', capacity: null, capacityKind: null, ending: null, endingKind: null } };
    expect(comparability(BEFORE, refused)).toBe(
      'These runs cannot be compared: the candidate did not measure the shop (the test could not reach the shop: 100 % of requests were refused (connection refused at http://127.0.0.1:9)).',
    );
    expect(comparability(refused, BEFORE)).toMatch(/^These runs cannot be compared: the baseline did not measure the shop/);
    expect(() => compareRuns(BEFORE, refused)).toThrow(/cannot be compared/);
    expect(comparability(BASELINE, CANDIDATE)).toBe('These runs cannot be compared: the baseline has no per-page figures (it was recorded before the sink kept them).');
  });
});

describe('the default picks', () => {
  const at = (e: HistoryEntry, testid: string, hour: number, promoType = 'manual_code'): HistoryEntry => ({ ...e, testid, endedAt: `2026-11-27T${String(hour).padStart(2, '0')}:05:00.000Z`, tags: { ...e.tags, promo_type: promoType } });
  const none1 = at(BEFORE, 'none1_20261127_080000_00000001', 8, 'none');
  const promo1 = at(CANDIDATE, 'promo1_20261127_090000_00000002', 9);
  const promo2 = at(CANDIDATE, 'promo2_20261127_100000_00000003', 10);
  const other = { ...at(CANDIDATE, 'other_20261127_110000_00000004', 11, 'none'), scenario: 'ramp' };

  it('take the viewed run as the candidate and the latest comparable run without a promo before it as the baseline', () => {
    expect(defaultComparison([promo2, other, none1, promo1], promo2.testid)).toEqual({ candidate: promo2, baseline: none1, reason: null });
    expect(defaultComparison([promo2, other, none1, promo1], null).candidate).toBe(other);
  });

  it('fall back to the previous comparable run, and say why there is nothing to compare', () => {
    expect(defaultComparison([promo1, promo2], promo2.testid)).toEqual({ candidate: promo2, baseline: promo1, reason: null });
    expect(defaultComparison([promo2, other], other.testid)).toEqual({ candidate: other, baseline: null, reason: 'No earlier run of the same scenario and journey to compare with.' });
    const broken = { ...promo2, failures: { requests: 10, failed: 10, testSide: 10, shopSide: 0, causes: [{ cause: 'refused' as const, side: 'test' as const, status: 0, errorCode: 1212, error: null, pageType: null, origin: 'http://127.0.0.1:9', url: null, failed: 10, pageRequests: 10 }] } };
    expect(defaultComparison([none1, broken], broken.testid).reason).toMatch(/^These runs cannot be compared: the candidate did not measure the shop/);
    expect(defaultComparison([none1], 'live_20261127_120000_00000005').reason).toBe('The run live_20261127_120000_00000005 has not finished yet, so there is nothing to compare.');
  });
});

describe('formatComparison', () => {
  it('prints the side-by-side table, the sentences and the overhead line', () => {
    expect(formatComparison(compareRuns(BEFORE, CANDIDATE), { colour: false })).toBe(PLAIN);
  });

  it('has no escape codes without colour', () => {
    expect(formatComparison(compareRuns(BEFORE, CANDIDATE), { colour: false })).not.toContain('\x1b[');
  });

  it('paints measurable improvements green and regressions red, and leaves the rest alone', () => {
    const text = formatComparison(compareRuns(BEFORE, CANDIDATE), { colour: true });
    const line = (metric: string) => text.split('\n').find((l) => l.startsWith(metric))!;
    expect(line('p95 product (ms)')).toContain(`${RED}+120.0${RESET}`);
    expect(line('journeys/s')).toContain(`${RED}-1.50${RESET}`);
    expect(line('p95 homepage (ms)')).not.toContain('\x1b[');
    expect(line('errors product (%)')).not.toContain('\x1b[');
    expect(line('Baseline:')).toContain(`${GREEN}A (95/100)${RESET}`);
    const faster = { ...CANDIDATE, pages: { pageTypes: [page('cart', 4250, 30, 2, 0.003), page('homepage', 4250, 100, 5, 0.001), page('product', 4250, 400, 20, 0.002)], slowestNames: [] } };
    expect(formatComparison(compareRuns(BEFORE, faster), { colour: true }).split('\n').find((l) => l.startsWith('p95 cart'))).toContain(`${GREEN}-30.0${RESET}`);
    // Stripped of colour, the table lines up exactly as without colour.
    expect(text.replace(/\x1b\[\d+m/g, '')).toBe(PLAIN);
  });
});

/** A stream that collects what is written, optionally posing as a terminal. */
function sink(isTTY = false): Writable & { text: () => string; isTTY?: boolean } {
  let buf = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  }) as Writable & { text: () => string; isTTY?: boolean };
  w.text = () => buf;
  if (isTTY) w.isTTY = true;
  return w;
}

let dir: string;
let file: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'compare-'));
  file = join(dir, 'history.jsonl');
  const h = await History.open(file);
  await h.append(BEFORE);
  await h.append(CANDIDATE);
  vi.stubEnv('NO_COLOR', '');
  vi.stubEnv('SINK_TOKEN', '');
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

async function cliError(run: Promise<number>): Promise<string> {
  const err = await run.then(
    () => {
      throw new Error('expected the command to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CliError);
  const message = (err as Error).message;
  expect(message).not.toContain('\n'); // one plain sentence
  expect(message).toMatch(/^[A-Za-z`-].*\.$/);
  return message;
}

describe('compare command', () => {
  it('prints the comparison from the history file, without colour off a terminal', async () => {
    const out = sink();
    expect(await compareCommand([BASELINE.testid, CANDIDATE.testid, '--file', file], out)).toBe(0);
    expect(out.text()).toBe(PLAIN);
  });

  it('refuses two runs that are not alike, in one sentence (exit 2)', async () => {
    const h = await History.open(join(dir, 'other.jsonl'));
    await h.append(BEFORE);
    await h.append({ ...CANDIDATE, scenario: 'cache_hit' });
    await h.close();
    expect(await cliError(compareCommand([BASELINE.testid, CANDIDATE.testid, '--file', join(dir, 'other.jsonl')], sink()))).toBe(
      'These runs cannot be compared: the baseline ran scenario promo and the candidate cache_hit; compare runs of the same scenario.',
    );
  });

  it('uses colour on a terminal, unless --no-color or NO_COLOR', async () => {
    const tty = sink(true);
    await compareCommand([BASELINE.testid, CANDIDATE.testid, '--file', file], tty);
    expect(tty.text()).toContain(`${RED}+120.0${RESET}`);
    expect(tty.text().replace(/\x1b\[\d+m/g, '')).toBe(PLAIN);

    const noColor = sink(true);
    await compareCommand([BASELINE.testid, CANDIDATE.testid, '--file', file, '--no-color'], noColor);
    expect(noColor.text()).toBe(PLAIN);

    vi.stubEnv('NO_COLOR', '1');
    const envNoColor = sink(true);
    await compareCommand([BASELINE.testid, CANDIDATE.testid, '--file', file], envNoColor);
    expect(envNoColor.text()).toBe(PLAIN);
  });

  it('prints the Comparison itself with --json', async () => {
    const out = sink(true);
    await compareCommand(['--json', BASELINE.testid, CANDIDATE.testid, '--file', file], out);
    expect(out.text()).not.toContain('\x1b[');
    expect(JSON.parse(out.text())).toEqual(JSON.parse(JSON.stringify(compareRuns(BEFORE, CANDIDATE))));
  });

  it('says which testid it does not know, in one sentence', async () => {
    expect(await cliError(compareCommand([BASELINE.testid, 'nope_20261127_000000_00000000', '--file', file], sink()))).toBe(
      `No run with testid nope_20261127_000000_00000000 in ${file}; \`history\` lists the recorded runs.`,
    );
    expect(await cliError(compareCommand(['a', 'b', '--file', file], sink()))).toBe(`No runs with testids a and b in ${file}; \`history\` lists the recorded runs.`);
    expect(await cliError(compareCommand(['a', BASELINE.testid, '--file', join(dir, 'missing.jsonl')], sink()))).toMatch(/^No runs with testids a and baseline_/);
  });

  it('rejects bad arguments with one plain sentence', async () => {
    expect(await cliError(compareCommand([], sink()))).toBe('compare needs two testids: compare <baseline testid> <candidate testid>.');
    expect(await cliError(compareCommand([BASELINE.testid], sink()))).toBe('compare needs two testids: compare <baseline testid> <candidate testid>.');
    expect(await cliError(compareCommand(['a', 'b', 'c'], sink()))).toBe('compare takes two testids, not 3: a b c.');
    expect(await cliError(compareCommand(['a', 'b', '--colour'], sink()))).toMatch(/^Unknown option '--colour'; compare takes --json, --file, --out-dir, --sink, --no-color\.$/);
    expect(await cliError(compareCommand(['a', 'b', '--file'], sink()))).toMatch(/--file/);
    expect(await cliError(compareCommand(['a', 'b', '--file', file, '--sink', 'http://x'], sink()))).toBe('Give one of --file, --out-dir and --sink, not more.');
    expect(await cliError(compareCommand(['a', 'b', '--out-dir', dir, '--file', file], sink()))).toBe('Give one of --file, --out-dir and --sink, not more.');
    expect(await cliError(compareCommand(['a', 'b', '--sink', 'localhost:9090'], sink()))).toBe('--sink must be an http:// or https:// URL, not "localhost:9090".');
  });
});

describe('history command', () => {
  it('prints a compact table, oldest first', async () => {
    const out = sink();
    expect(await historyCommand(['--file', file], out)).toBe(0);
    const lines = out.text().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^testid +ended \(UTC\) +exit reason +grade +p95 ms +errors % +rps$/);
    expect(lines[1]).toMatch(/^baseline_20261127_080000_1a2b3c4d +2026-11-27 08:05:00Z +completed +A \(95\/100\) +400\.0 +0\.20 +50\.0$/);
    expect(lines[2]).toMatch(/^black_friday_20261127_090000_5e6f7a8b +2026-11-27 09:05:00Z +thresholds failed +C \(78\/100\) +520\.0 +0\.60 +42\.5$/);
  });

  it('prints CSV with --csv', async () => {
    const out = sink();
    await historyCommand(['--csv', '--file', file], out);
    expect(out.text()).toBe(historyCsv([BEFORE, CANDIDATE]));
  });

  it('says so when nothing was recorded yet, without creating anything', async () => {
    const out = sink();
    const missing = join(dir, 'none', 'history.jsonl');
    expect(await historyCommand(['--file', missing], out)).toBe(0);
    expect(out.text()).toBe(`No runs recorded yet in ${missing}.\n`);
  });

  it('reads the runs of a CLI out dir with --out-dir, those whose embedded sink kept its own history too, for history and compare alike', async () => {
    // A run whose embedded sink found the out dir taken kept its history in <testid>/sink-data/.
    const third: HistoryEntry = { ...CANDIDATE, testid: 'third_20261127_100000_9a8b7c6d', endedAt: '2026-11-27T10:05:00.000Z' };
    mkdirSync(join(dir, third.testid, 'sink-data'), { recursive: true });
    writeFileSync(join(dir, third.testid, 'sink-data', 'history.jsonl'), `${JSON.stringify(third)}\n`);
    const out = sink();
    expect(await historyCommand(['--out-dir', dir], out)).toBe(0);
    expect(out.text().trimEnd().split('\n').slice(1).map((l) => l.split(' ')[0])).toEqual([BASELINE.testid, CANDIDATE.testid, third.testid]);
    const compared = sink();
    expect(await compareCommand([BEFORE.testid, third.testid, '--out-dir', dir, '--json'], compared)).toBe(0);
    expect(JSON.parse(compared.text())).toEqual(JSON.parse(JSON.stringify(compareRuns(BEFORE, third))));
    expect(await cliError(compareCommand([BASELINE.testid, 'nope_20261127_000000_00000000', '--out-dir', dir], sink()))).toBe(
      `No run with testid nope_20261127_000000_00000000 in ${dir}; \`history\` lists the recorded runs.`,
    );
  });

  it('rejects bad arguments with one plain sentence', async () => {
    expect(await cliError(historyCommand(['--out-dir', ''], sink()))).toBe('--out-dir needs a directory.');
    expect(await cliError(historyCommand(['extra'], sink()))).toBe('history takes no arguments besides its options, not "extra".');
    expect(await cliError(historyCommand(['--json'], sink()))).toBe("Unknown option '--json'; history takes --csv, --trend, --scenario, --promo-type, --promo-name, --file, --out-dir, --sink.");
    expect(await cliError(historyCommand(['--csv', '--trend'], sink()))).toBe('Give either --csv or --trend, not both.');
    expect(await cliError(historyCommand(['--trend', '--scenario', ''], sink()))).toBe('--scenario needs a scenario name.');
    expect(await cliError(historyCommand(['--sink', 'ftp://x'], sink()))).toBe('--sink must be an http:// or https:// URL, not "ftp://x".');
  });
});

describe('--sink', () => {
  let server: Server;
  let url: string;
  let seen: IncomingHttpHeaders[];
  let status: number;
  beforeEach(async () => {
    seen = [];
    status = 200;
    server = createServer((req, res) => {
      seen.push(req.headers);
      // As the sink pages it: newest first, here one run per page.
      const page = new URL(req.url ?? '/', 'http://sink');
      if (page.pathname !== '/api/history') {
        res.writeHead(404).end();
        return;
      }
      const offset = Number(page.searchParams.get('offset') ?? 0);
      const newestFirst = [CANDIDATE, BEFORE];
      const next = offset + 1 < newestFirst.length ? `/api/history?offset=${offset + 1}&limit=1` : null;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ runs: newestFirst.slice(offset, offset + 1), total: 2, offset, limit: 1, next }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reads the runs from GET <sink>/api/history, every page of them, with the bearer token', async () => {
    vi.stubEnv('SINK_TOKEN', 's3cret');
    const out = sink();
    await compareCommand([BASELINE.testid, CANDIDATE.testid, '--sink', `${url}/`], out);
    expect(out.text()).toBe(PLAIN);
    expect(seen[0]!.authorization).toBe('Bearer s3cret');

    const csv = sink();
    await historyCommand(['--sink', url, '--csv'], csv);
    expect(csv.text()).toBe(historyCsv([BEFORE, CANDIDATE]));
  });

  it('sends no Authorization header without SINK_TOKEN, and reports a refusal in one sentence', async () => {
    status = 401;
    expect(await cliError(historyCommand(['--sink', url], sink()))).toBe(`The sink answered 401 to GET ${url}/api/history?limit=1000 (set SINK_TOKEN to the sink's token).`);
    expect(seen[0]!.authorization).toBeUndefined();
    expect(await cliError(compareCommand(['a', 'b', '--sink', url], sink()))).toMatch(/^The sink answered 401/);
  });

  it('reports an unreachable sink in one sentence', async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server = createServer();
    server.listen(0); // so afterEach has something to close
    expect(await cliError(historyCommand(['--sink', url], sink()))).toMatch(/^Cannot reach the sink at http:\/\/127\.0\.0\.1:\d+\/api\/history\?limit=1000: .+\.$/);
  });
});
