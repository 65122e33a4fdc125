import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { compareRuns, formatComparison, overheadLine } from '../../report/compare.ts';
import { compareCommand, historyCommand } from '../../cli/history.ts';
import { CliError } from '../../cli/args.ts';
import { History } from '../../sink/control/history.ts';
import { historyCsv } from '../../report/history-csv.ts';
import type { HistoryEntry } from '../../contract/sink-api.ts';
import { BASELINE } from '../helpers/history-entry.ts';


const CANDIDATE: HistoryEntry = {
  ...BASELINE,
  testid: 'black_friday_20261127_090000_5e6f7a8b',
  tags: { environment: 'preprod', promo_type: 'manual_code', promo_name: 'Black Friday', intensity: 'medium' },
  startedAt: '2026-11-27T09:00:00.000Z',
  endedAt: '2026-11-27T09:05:00.000Z',
  exitCode: 99,
  exitReason: 'thresholds failed',
  requests: 13500,
  p50Ms: 150,
  p95Ms: 520,
  p99Ms: 1200,
  errorRatio: 0.006,
  rps: 45,
  maxVus: 20,
  checksRate: 0.99,
  grade: { letter: 'C', score: 78, colour: 'orange', text: 'C (78/100)' },
};

/** Hand-computed: candidate − baseline, and that over the baseline × 100. */
const EXPECTED = [
  // metric, baseline, candidate, delta, delta %, better
  ['p50 (ms)', 120, 150, 30, 25, 'lower'], // 30 / 120 = 25 %
  ['p95 (ms)', 400, 520, 120, 30, 'lower'], // 120 / 400 = 30 %
  ['p99 (ms)', 800, 1200, 400, 50, 'lower'], // 400 / 800 = 50 %
  ['errors (%)', 0.2, 0.6, 0.4, 200, 'lower'], // 0.2 % → 0.6 %: +0.4 pt, 0.4 / 0.2 = +200 %
  ['rps', 50, 45, -5, -10, 'higher'], // -5 / 50 = -10 %
  ['max VUs', 20, 20, 0, 0, 'higher'],
  ['checks (%)', 99.8, 99, -0.8, (-0.8 / 99.8) * 100, 'higher'], // ≈ -0.8016 %
  ['score', 95, 78, -17, (-17 / 95) * 100, 'higher'], // ≈ -17.89 %
] as const;

const PLAIN = `Baseline:  baseline_20261127_080000_1a2b3c4d      A (95/100)  completed
Candidate: black_friday_20261127_090000_5e6f7a8b  C (78/100)  thresholds failed

metric      baseline  candidate   delta   delta %
p50 (ms)       120.0      150.0   +30.0   +25.0 %
p95 (ms)       400.0      520.0  +120.0   +30.0 %
p99 (ms)       800.0     1200.0  +400.0   +50.0 %
errors (%)      0.20       0.60   +0.40  +200.0 %
rps             50.0       45.0    -5.0   -10.0 %
max VUs           20         20       0     0.0 %
checks (%)     99.80      99.00   -0.80    -0.8 %
score             95         78     -17   -17.9 %

Promo overhead: p95 +30.0 %, errors +0.40 pt (+200.0 %)
`;

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const RESET = '\x1b[0m';

describe('compareRuns', () => {
  it('computes every row from the two summaries', () => {
    const c = compareRuns(BASELINE, CANDIDATE);
    expect(c.baseline).toBe(BASELINE);
    expect(c.candidate).toBe(CANDIDATE);
    expect(c.rows.map((r) => r.metric)).toEqual(EXPECTED.map((e) => e[0]));
    c.rows.forEach((row, i) => {
      const [, baseline, candidate, delta, deltaPct, better] = EXPECTED[i]!;
      expect(row.baseline).toBeCloseTo(baseline, 9);
      expect(row.candidate).toBeCloseTo(candidate, 9);
      expect(row.delta).toBeCloseTo(delta, 9);
      expect(row.deltaPct).toBeCloseTo(deltaPct, 9);
      expect(row.better).toBe(better);
    });
  });

  it('gives the promo overhead on p95 and on the error ratio, relative to the baseline', () => {
    const { promoOverheadPct } = compareRuns(BASELINE, CANDIDATE);
    expect(promoOverheadPct.p95).toBeCloseTo(((520 - 400) / 400) * 100, 9); // 30 %
    expect(promoOverheadPct.errorRatio).toBeCloseTo(((0.006 - 0.002) / 0.002) * 100, 9); // 200 %
  });

  it('has no relative figures against a baseline of 0 or a missing value', () => {
    const clean = { ...BASELINE, errorRatio: 0, p95Ms: null };
    const c = compareRuns(clean, CANDIDATE);
    expect(c.promoOverheadPct).toEqual({ p95: null, errorRatio: null });
    const p95 = c.rows.find((r) => r.metric === 'p95 (ms)')!;
    expect(p95).toMatchObject({ baseline: null, candidate: 520, delta: null, deltaPct: null });
    const errors = c.rows.find((r) => r.metric === 'errors (%)')!;
    expect(errors.baseline).toBe(0);
    expect(errors.delta).toBeCloseTo(0.6, 9);
    expect(errors.deltaPct).toBeNull();
    expect(overheadLine(c)).toBe('Promo overhead: p95 n/a, errors +0.60 pt (baseline had no errors)');
    expect(overheadLine(compareRuns(BASELINE, { ...CANDIDATE, errorRatio: null }))).toBe('Promo overhead: p95 +30.0 %, errors n/a');
    const na = formatComparison(c, { colour: false });
    expect(na).toMatch(/^p95 \(ms\) +n\/a +520\.0 +n\/a +n\/a$/m);
  });
});

describe('formatComparison', () => {
  it('prints the side-by-side table and the overhead line', () => {
    expect(formatComparison(compareRuns(BASELINE, CANDIDATE), { colour: false })).toBe(PLAIN);
  });

  it('has no escape codes without colour', () => {
    expect(formatComparison(compareRuns(BASELINE, CANDIDATE), { colour: false })).not.toContain('\x1b[');
  });

  it('paints improvements green, regressions red and leaves unchanged rows alone', () => {
    // Faster p95 and more rps, but more errors.
    const better = { ...CANDIDATE, p95Ms: 350, rps: 60, grade: { letter: 'A', score: 96, colour: 'green', text: 'A (96/100)' } };
    const text = formatComparison(compareRuns(BASELINE, better), { colour: true });
    const line = (metric: string) => text.split('\n').find((l) => l.startsWith(metric))!;
    expect(line('p95 (ms)')).toContain(`${GREEN}-50.0${RESET}`);
    expect(line('p95 (ms)')).toContain(`${GREEN}-12.5 %${RESET}`); // -50 / 400
    expect(line('rps')).toContain(`${GREEN}+10.0${RESET}`);
    expect(line('rps')).toContain(`${GREEN}+20.0 %${RESET}`);
    expect(line('errors (%)')).toContain(`${RED}+0.40${RESET}`);
    expect(line('p50 (ms)')).toContain(`${RED}+30.0${RESET}`);
    expect(line('checks (%)')).toContain(`${RED}-0.80${RESET}`);
    expect(line('max VUs')).not.toContain('\x1b[');
    expect(line('Baseline:')).toContain(`${GREEN}A (95/100)${RESET}`);
    // Stripped of colour, the table lines up exactly as without colour.
    expect(text.replace(/\x1b\[\d+m/g, '')).toBe(formatComparison(compareRuns(BASELINE, better), { colour: false }));
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
  await h.append(BASELINE);
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
    expect(JSON.parse(out.text())).toEqual(compareRuns(BASELINE, CANDIDATE));
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
    expect(await cliError(compareCommand(['a', 'b', '--colour'], sink()))).toMatch(/^Unknown option '--colour'; compare takes --json, --file, --sink, --no-color\.$/);
    expect(await cliError(compareCommand(['a', 'b', '--file'], sink()))).toMatch(/--file/);
    expect(await cliError(compareCommand(['a', 'b', '--file', file, '--sink', 'http://x'], sink()))).toBe('Give either --file or --sink, not both.');
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
    expect(lines[2]).toMatch(/^black_friday_20261127_090000_5e6f7a8b +2026-11-27 09:05:00Z +thresholds failed +C \(78\/100\) +520\.0 +0\.60 +45\.0$/);
  });

  it('prints CSV with --csv', async () => {
    const out = sink();
    await historyCommand(['--csv', '--file', file], out);
    expect(out.text()).toBe(historyCsv([BASELINE, CANDIDATE]));
  });

  it('says so when nothing was recorded yet, without creating anything', async () => {
    const out = sink();
    const missing = join(dir, 'none', 'history.jsonl');
    expect(await historyCommand(['--file', missing], out)).toBe(0);
    expect(out.text()).toBe(`No runs recorded yet in ${missing}.\n`);
  });

  it('rejects bad arguments with one plain sentence', async () => {
    expect(await cliError(historyCommand(['extra'], sink()))).toBe('history takes no arguments besides its options, not "extra".');
    expect(await cliError(historyCommand(['--json'], sink()))).toBe("Unknown option '--json'; history takes --csv, --trend, --scenario, --promo-name, --file, --sink.");
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
      const newestFirst = [CANDIDATE, BASELINE];
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
    expect(csv.text()).toBe(historyCsv([BASELINE, CANDIDATE]));
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
