import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeriesStore } from '../../sink/control/series-store.ts';
import { History } from '../../sink/control/history.ts';
import { buildApp } from '../../sink/app.ts';
import { BASELINE } from '../helpers/history-entry.ts';
import { reportCommand } from '../../cli/report.ts';
import { CliError } from '../../cli/args.ts';
import { RunSeries, MAX_POINTS } from '../../sink/grade/series.ts';
import type { RunSeriesJson, SeriesPointJson } from '../../contract/sink-api.ts';

const T0 = Date.UTC(2026, 11, 4, 8);
const point = (i: number): SeriesPointJson => ({ t: T0 + i * 1000, vus: i, rps: i, okRps: i, p50Ms: 10, p95Ms: 20 + i, p99Ms: 30, errorRatio: 0, checksRate: 1, requests: i * 10, failed: 0, grade: 'A', score: 100 });
const run = (testid: string, points: number): RunSeriesJson => ({ testid, stepMs: 1000, points: Array.from({ length: points }, (_, i) => point(i)) });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pla-series-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the store of finished runs’ series', () => {
  it('holds at most its bound of points in memory, letting the oldest runs go first, and reads them back from their files', async () => {
    const store = new SeriesStore({ dir, maxMemoryPoints: 1000 });
    for (let i = 0; i < 8; i++) await store.put(run(`run-${i}`, 300));
    expect(store.pointsInMemory).toBeLessThanOrEqual(1000);
    expect(store.runsInMemory).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `run-${i}.json`));
    // The oldest is no longer in memory: it comes back from disk, whole.
    expect(await store.get('run-0')).toEqual(run('run-0', 300));
    expect(store.pointsInMemory).toBeLessThanOrEqual(1000);
  });

  it('keeps series across a restart of the sink', async () => {
    await new SeriesStore({ dir }).put(run('kept', 5));
    expect(await new SeriesStore({ dir }).get('kept')).toEqual(run('kept', 5));
  });

  it('keeps at most its bound of files, deleting the oldest', async () => {
    const store = new SeriesStore({ dir, maxFiles: 3 });
    for (let i = 0; i < 5; i++) {
      await store.put(run(`run-${i}`, 2));
      await new Promise((r) => setTimeout(r, 15)); // distinct modification times
    }
    expect(readdirSync(dir).sort()).toEqual(['run-2.json', 'run-3.json', 'run-4.json']);
  });

  it('keeps only memory without a directory, and answers null for what it never had or cannot name as a file', async () => {
    const store = new SeriesStore({ dir: null });
    await store.put(run('here', 2));
    expect(await store.get('here')).toEqual(run('here', 2));
    expect(await store.get('never')).toBeNull();
    const withDir = new SeriesStore({ dir });
    await withDir.put(run('../escape', 2));
    expect(existsSync(join(dir, '..', 'escape.json'))).toBe(false);
    expect(await withDir.get('../escape')).toEqual(run('../escape', 2));
  });

  it('answers a broken series file of a run in the history with a catalogued error that names it, and logs it once', async () => {
    const history = await History.open(join(dir, 'history.jsonl'), () => {});
    const broken = { ...BASELINE, testid: 'broken_run' };
    await history.append(broken);
    await history.append({ ...BASELINE, testid: 'no_series_run' });
    await history.close();
    mkdirSync(join(dir, 'series'));
    const file = join(dir, 'series', 'broken_run.json');
    writeFileSync(file, '{"testid": "cut sho');
    const lines: string[] = [];
    const app = buildApp({ config: { historyFile: join(dir, 'history.jsonl') }, logger: { level: 'warn', stream: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) } });
    try {
      const unreadable = {
        code: 'SINK_ERR_SERIES_UNREADABLE',
        message: `The run "broken_run" is in the history, but its stored series ${file} is not readable (Unterminated string in JSON at position 19); move the file away to see the run without charts.`,
      };
      for (const url of ['/api/runs/broken_run/series', '/api/runs/broken_run/series', '/api/runs/broken_run/report']) {
        const res = await app.inject(url);
        expect({ url, status: res.statusCode, body: res.json() }).toEqual({ url, status: 500, body: unreadable });
      }
      const missing = await app.inject('/api/runs/no_series_run/series');
      expect({ status: missing.statusCode, body: missing.json() }).toEqual({ status: 404, body: { code: 'SINK_ERR_RUN_NOT_FOUND', message: 'No run has the testid "no_series_run".' } });
      // The CLI's report from that sink says the same, instead of a report without charts.
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      await expect(reportCommand(['broken_run', '--sink', url, '--out', join(dir, 'r.html')], () => {})).rejects.toThrow(new CliError(`The sink at ${url}: ${unreadable.message}`));
      expect(lines.map((l) => JSON.parse(l).msg).filter((m: string) => m.includes('broken_run'))).toEqual([
        `series of broken_run: ${file} is not readable (Unterminated string in JSON at position 19); its run is answered with SINK_ERR_SERIES_UNREADABLE until the file is moved away`,
      ]);
    } finally {
      await app.close();
    }
  });

  it('gets a bounded series from a live run of any length: the step doubles instead', () => {
    const series = new RunSeries();
    for (let i = 0; i < 3 * MAX_POINTS; i++) series.add(point(i));
    expect(series.all().length).toBeLessThanOrEqual(MAX_POINTS);
    expect(series.step).toBe(4000);
    expect(series.all().at(-1)!.t).toBe(T0 + (3 * MAX_POINTS - 1) * 1000);
  });
});

describe('a run’s series of points', () => {
  const at = (ms: number, requests: number): SeriesPointJson => ({ ...point(0), t: T0 + ms, requests });

  it('keeps a point for every push of one instance, though the pushes come a few ms more or less than a second apart', () => {
    const series = new RunSeries();
    const times = [0, 999, 2001, 2998, 3990, 5003];
    times.forEach((t, i) => series.add(at(t, i)));
    expect(series.all().map((p) => p.t - T0)).toEqual(times);
  });

  it('lets the pushes of several instances within half a second share one point, the latest of them', () => {
    const series = new RunSeries();
    // Four instances pushing once a second each, a quarter of a second apart.
    for (let i = 0; i < 12; i++) series.add(at(i * 250, i));
    expect(series.all().map((p) => [p.t - T0, p.requests])).toEqual([
      [250, 1], [750, 3], [1250, 5], [1750, 7], [2250, 9], [2750, 11],
    ]);
  });
});
