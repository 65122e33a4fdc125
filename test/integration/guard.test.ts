// The guard stops the test before it harms the shop (issue 22), in real runs of the CLI
// against targets of the tests' own with a capacity limit (C workers of S ms, 503 after Q ms
// in the queue), reporting to an in-process sink that writes to a real Prometheus:
// - guarded: a ramp to 3 × the target's capacity over 15 s with --instances 2, the guard on
//   by default: stopped within 10 s plus 2 push intervals of the breach, on every instance;
//   the target sees no request more than 1 s after the stop; the breaking point within 20 %
//   of where k6's own raw samples (both instances merged) put it; "Stopped by the guard at N
//   users, X s after the breaking point" in the CLI, the history, the run's JSON (what the
//   status page shows), the report, and the marketing dashboard's annotation in Prometheus;
// - held: a ramp the shop holds, guard on: it runs to its end, and no guard is said;
// - unguarded: the same ramp past the capacity with --no-guard, whose shop errors stayed over
//   5 % for more than 10 s (the guard would have stopped it): it runs to its end, and no
//   guard is said.
// The three go side by side, in about 30 s; the file runs alone (SERIAL_INTEGRATION).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { makeTestId } from '../../lib/tags.ts';
import { parseDurationMs } from '../../lib/env.ts';
import { runCli, type Finished } from '../../fixtures/processes.ts';
import { startPrometheus, type Service } from '../../fixtures/services.ts';
import { startSink, pointsText } from '../helpers/sink.ts';
import { startCapacityTarget, type LatencyTarget } from '../helpers/latency-target.ts';
import { breakOracle, mergedVus, readPoints } from '../helpers/k6-samples.ts';
import { drained } from '../helpers/stores.ts';
import { DASHBOARD_DIR } from '../../grafana/generate.ts';
import { allQueries, expandQuery } from '../../grafana/queries.ts';
import { GUARD_EXIT_CODE } from '../../cli/guard.ts';
import type { HistoryEntry, RunJson, RunSeriesJson } from '../../contract/sink-api.ts';
import type { K6Point } from '../../cli/samples-csv.ts';

const k6 = inject('k6Bin');
const TOKEN = 'guard-test-token-0123456789';
/**
 * 4 workers of 80 ms (50 requests/s), 503 after 480 ms in the queue. With 400 ms of think
 * time the shop saturates at C·(S+T)/S = 24 VUs and breaks near C·(S+T+Q)/S = 48.
 */
const LIMIT = { workers: 4, serviceMs: 80, queueTimeoutMs: 480 };
const THINK = ['--', '-e', 'THINK_TIME_MS=400'];
/** 3 × the capacity's 24 VUs, over 15 s (60 % of 25 s), then held: the break comes near 10 s, the guard's stop near 20 s. */
const GUARDED = { vus: 72, duration: '25s' };
/** Half the capacity: the shop holds. */
const HELD = { vus: 12, duration: '6s' };
/** Past the break from about 7 s to 19 s: the guard would have stopped it. */
const UNGUARDED = { vus: 90, duration: '20s' };
const PUSH_INTERVAL_MS = 1000;
/** The guard's default rule that trips here: the shop's errors over 5 % for 10 s. */
const ERRORS_OVER = 0.05;
const HOLD_MS = 10_000;

const ids = { guarded: makeTestId('guarded'), held: makeTestId('held'), unguarded: makeTestId('unguarded') };
type Name = keyof typeof ids;
const cli = {} as Record<Name, Finished>;
const targets = {} as Record<Name, LatencyTarget>;
let dir: string;
let prom: Service;
let sink: Awaited<ReturnType<typeof startSink>>;
let from: Date;
/** When the sink had written everything of the runs to Prometheus. */
let end: Date;

const runDir = (name: Name) => join(dir, ids[name]);
const entry = (name: Name): HistoryEntry => sink.app.sink.history!.find(ids[name])!;
const runJson = async (name: Name) => (await sink.app.inject({ url: `/api/runs/${ids[name]}` })).json() as RunJson;
const instancesOf = (name: Name, n: number) => (n === 1 ? [join(runDir(name), 'samples.json.gz')] : Array.from({ length: n }, (_, i) => join(runDir(name), `samples-${i}.json.gz`)));
const output = (name: Name) => `${cli[name].stdout}\n${cli[name].stderr}`;

function run(name: Name, args: string[]): Promise<void> {
  return runCli(['ramp', '--target', targets[name].url, '--sink', sink.url, '--testid', ids[name], '--out-dir', dir, ...args, ...THINK], k6, {
    SINK_TOKEN: TOKEN,
    K6_NO_USAGE_REPORT: 'true',
  }).then((res) => void (cli[name] = res));
}

/** Requests from k6's raw samples (every instance): when k6 recorded each, and whether the shop failed it (every failure here is a 503). */
function requests(instances: K6Point[][]): Array<{ t: number; failed: boolean }> {
  return instances
    .flat()
    .filter((p) => p.metric === 'http_req_failed')
    .map((p) => ({ t: Date.parse(p.data.time), failed: p.data.value === 1 }))
    .sort((a, b) => a.t - b.t);
}

/** The shop's error ratio in each whole second of the raw samples from `t0`, up to `until`. */
function secondsOf(reqs: Array<{ t: number; failed: boolean }>, t0: number, until: number): Array<{ start: number; ratio: number; requests: number }> {
  const out: Array<{ start: number; ratio: number; requests: number }> = [];
  for (let start = t0; start + 1000 <= until; start += 1000) {
    const inside = reqs.filter((r) => r.t >= start && r.t < start + 1000);
    if (inside.length > 0) out.push({ start, ratio: inside.filter((r) => r.failed).length / inside.length, requests: inside.length });
  }
  return out;
}

/** Where the last unbroken stretch of seconds over the limit began, ending at the last second before `until`; its length. */
function lastStretchOver(seconds: ReturnType<typeof secondsOf>): { start: number; ms: number } | null {
  let i = seconds.length - 1;
  if (i < 0 || !(seconds[i]!.ratio > ERRORS_OVER)) return null;
  while (i > 0 && seconds[i - 1]!.ratio > ERRORS_OVER && seconds[i - 1]!.start === seconds[i]!.start - 1000) i--;
  return { start: seconds[i]!.start, ms: seconds.at(-1)!.start + 1000 - seconds[i]!.start };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pla-guard-'));
  const [p, ...started] = await Promise.all([startPrometheus(), startCapacityTarget(LIMIT), startCapacityTarget(LIMIT), startCapacityTarget(LIMIT)]);
  prom = p;
  [targets.guarded, targets.held, targets.unguarded] = started as [LatencyTarget, LatencyTarget, LatencyTarget];
  sink = await startSink({ config: { token: TOKEN, dataDir: dir, prometheusUrls: [prom.writeUrl], gradeIntervalMs: 1000 } });
  from = new Date(Date.now() - 5000);
  await Promise.all([
    run('guarded', ['--instances', '2', '--vus', String(GUARDED.vus), '--duration', GUARDED.duration]),
    run('held', ['--vus', String(HELD.vus), '--duration', HELD.duration]),
    run('unguarded', ['--no-guard', '--vus', String(UNGUARDED.vus), '--duration', UNGUARDED.duration]),
  ]);
  await sink.app.sink.grades.emit();
  await drained(sink.app);
  end = new Date();
}, 120_000);

afterAll(async () => {
  await sink?.close();
  await Promise.all([prom?.stop(), ...Object.values(targets).map((t) => t.close())]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the guard stops a ramp past the shop\'s capacity, on every instance', () => {
  it(`exits ${GUARD_EXIT_CODE}, within 10 s plus 2 push intervals of the breach, and the target sees no request more than 1 s after the stop`, async () => {
    expect(cli.guarded.code, output('guarded')).toBe(GUARD_EXIT_CODE);
    const stop = sink.app.sink.control.registrations.get(ids.guarded)!.guardStop!;
    expect(stop, output('guarded')).not.toBeNull();
    const instances = await Promise.all(instancesOf('guarded', 2).map((path) => readPoints(path)));
    const reqs = requests(instances);
    const seconds = secondsOf(reqs, reqs[0]!.t, stop.at);
    const breach = lastStretchOver(seconds);
    const context = `stop at ${stop.at}; the raw samples' seconds (start, requests, shop errors): ${seconds.map((s) => `${s.start - reqs[0]!.t} ${s.requests} ${(s.ratio * 100).toFixed(1)}%`).join('; ')}`;
    expect(breach, context).not.toBeNull();
    console.log(`guard: the shop's errors over 5 % from ${((breach!.start - reqs[0]!.t) / 1000).toFixed(1)} s, stopped ${((stop.at - breach!.start) / 1000).toFixed(2)} s later; last request ${targets.guarded.lastRequestAt()! - stop.at} ms after the stop`);
    // Not before the rule held its 10 s, less the push interval its first window began before the breach and the second k6's raw samples and the pushes may differ by; within 2 push intervals after.
    expect(stop.at - breach!.start, context).toBeGreaterThanOrEqual(HOLD_MS - 2 * PUSH_INTERVAL_MS);
    expect(stop.at - breach!.start, context).toBeLessThanOrEqual(HOLD_MS + 2 * PUSH_INTERVAL_MS);
    expect(targets.guarded.lastRequestAt()! - stop.at).toBeLessThanOrEqual(1000);
    // Every instance stopped there: each sent requests up to the stop (k6's own raw samples), none more than 1 s after it, before the ramp's planned end.
    expect(stop.at - reqs[0]!.t, context).toBeLessThan(parseDurationMs(GUARDED.duration)! - 1000);
    for (const [i, points] of instances.entries()) {
      const last = Math.max(...points.filter((p) => p.metric === 'http_reqs').map((p) => Date.parse(p.data.time)));
      expect(last - stop.at, `instance ${i}`).toBeGreaterThan(-2000);
      expect(last - stop.at, `instance ${i}`).toBeLessThanOrEqual(1000);
    }
    expect(entry('guarded')).toMatchObject({ exitCode: 103, exitReason: 'guard', ending: { kind: 'guard', plannedVus: GUARDED.vus } });
  });

  it("finds the breaking point within 20 % of k6's raw samples, and says how many users and seconds after it the guard stopped the run, everywhere", async () => {
    const stop = sink.app.sink.control.registrations.get(ids.guarded)!.guardStop!;
    const paths = instancesOf('guarded', 2);
    // Second by second: at over 50 requests a second, 1 % is a failure or two, and a 3 s window's middle would put a fast ramp's break a second and a half early.
    const oracle = await breakOracle(paths, GUARDED.vus, stop.at, 1000);
    const vusAtStop = mergedVus(await Promise.all(paths.map((p) => readPoints(p)))).filter((s) => s.t <= stop.at).at(-1)!.v;
    const e = entry('guarded');
    const { points } = (await sink.app.inject({ url: `/api/runs/${ids.guarded}/series` })).json() as RunSeriesJson;
    const context = `sink ${JSON.stringify(e.capacity)} ending ${JSON.stringify(e.ending)}; raw samples: break at ${JSON.stringify(oracle)}, ${vusAtStop} VUs at the stop (${stop.at}); the points:\n${pointsText(points)}`;
    console.log(`guard: break at ${e.breakingPointVus} VUs (k6's raw samples: ${oracle?.vus}), stopped at ${e.ending!.atVus} VUs (raw: ${vusAtStop}), ${e.ending!.sinceBreakS} s after the break (raw: ${oracle ? ((stop.at - oracle.t) / 1000).toFixed(1) : '-'})`);
    expect(oracle, context).not.toBeNull();
    expect(Math.abs(e.breakingPointVus! - oracle!.vus) / oracle!.vus, context).toBeLessThanOrEqual(0.2);
    expect(Math.abs(e.ending!.atVus - vusAtStop), context).toBeLessThanOrEqual(0.1 * vusAtStop);
    expect(Math.abs(e.ending!.sinceBreakS! - (stop.at - oracle!.t) / 1000), context).toBeLessThanOrEqual(2);
    const sentence = `Stopped by the guard at ${e.ending!.atVus} of ${GUARDED.vus} users, ${e.ending!.sinceBreakS} s after the breaking point: the shop's errors stayed above 5 % for 10 s (never under `;
    expect(e.verdict!.headline.startsWith(sentence), e.verdict!.headline).toBe(true);
    expect(e.verdict).toMatchObject({ ending: e.verdict!.headline, endingKind: 'guard' });
    // The CLI's grade block, the run's JSON (the status page's headline), its event stream, and the report.
    expect(cli.guarded.stdout).toContain(`  ${e.verdict!.headline}`);
    expect(cli.guarded.stdout).toMatch(/^guard: The guard stops the run when the shop's errors stay above 5 % for 10 s, or p95 stays above 3 s for 10 s/m);
    expect((await runJson('guarded')).verdict.headline).toBe(e.verdict!.headline);
    expect((await runJson('guarded')).status).toBe('guard');
    const html = readFileSync(join(runDir('guarded'), 'report.html'), 'utf8');
    expect(html).toContain(e.verdict!.headline.replace(/'/g, '&#39;'));
  });

  it('marks the stop on the marketing dashboard: the annotation query finds the guarded run in Prometheus, and no other', async () => {
    const board = JSON.parse(readFileSync(join(DASHBOARD_DIR, 'promo-marketing.json'), 'utf8')) as dashboard.Dashboard;
    const query = allQueries(board).find((q) => q.source === 'annotation' && q.title === 'Stopped by the guard')!;
    expect(query, 'the marketing dashboard has a "Stopped by the guard" annotation').toBeDefined();
    // The dashboard viewed 2 s after the run's last write: a range query's steps start at `from`, so its last may come before a status written in the last second.
    const to = new Date(end.getTime() + 2000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, to.getTime() - Date.now())));
    const expr = expandQuery(query.query, { datasourceType: 'prometheus', variables: { testid: Object.values(ids) }, from, to, interval: '1s', rateInterval: '15s' });
    const params = new URLSearchParams({ query: expr, start: String(from.getTime() / 1000), end: String(to.getTime() / 1000), step: '1' });
    const body = (await (await fetch(`${prom.url}/api/v1/query_range?${params}`)).json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; values: unknown[] }> } };
    expect(body.status).toBe('success');
    const info = (await (await fetch(`${prom.url}/api/v1/query?${new URLSearchParams({ query: 'promo_run_info[10m]', time: String(to.getTime() / 1000) })}`)).json()) as { data: unknown[] };
    expect(body.data.result.map((s) => s.metric.testid), `${expr} from ${from.getTime() / 1000} to ${to.getTime() / 1000}\npromo_run_info in Prometheus: ${JSON.stringify(info.data)}`).toEqual([ids.guarded]);
    expect(body.data.result[0]!.values.length).toBeGreaterThan(0);
  });
});

describe('the guard says nothing where it did not stop the run', () => {
  const GUARD_WORDS = /guard/i;

  it('lets a ramp the shop holds run to its end, guard on, and no sentence speaks of it', async () => {
    expect(cli.held.code, output('held')).toBe(0);
    expect(cli.held.stdout).toMatch(/^guard: The guard stops the run/m);
    const e = entry('held');
    expect([e.exitReason, e.ending?.kind, e.breakingPointVus]).toEqual(['completed', 'completed', null]);
    for (const s of [e.verdict!.headline, e.verdict!.capacity, e.verdict!.ending, (await runJson('held')).verdict.headline]) expect(s ?? '').not.toMatch(GUARD_WORDS);
    expect(sink.app.sink.control.registrations.get(ids.held)!.guardStop).toBeNull();
    expect(cli.held.stdout).not.toMatch(/Stopped by the guard/);
  });

  it('lets a ramp past the capacity run to its end with --no-guard, though its shop errors stayed over 5 % for more than 10 s', async () => {
    expect(cli.unguarded.code, output('unguarded')).not.toBe(GUARD_EXIT_CODE);
    expect(cli.unguarded.stdout).not.toMatch(/^guard:/m);
    const e = entry('unguarded');
    const reqs = requests([await readPoints(instancesOf('unguarded', 1)[0]!)]);
    // The stretch over 5 % that the guard would have stopped: the longest in the raw samples.
    const seconds = secondsOf(reqs, reqs[0]!.t, reqs.at(-1)!.t);
    let longest = 0;
    for (let i = 0; i < seconds.length; i++) longest = Math.max(longest, lastStretchOver(seconds.slice(0, i + 1))?.ms ?? 0);
    expect(longest, seconds.map((s) => (s.ratio * 100).toFixed(1)).join(' ')).toBeGreaterThanOrEqual(HOLD_MS + 2000);
    expect(e.breakingPointVus).not.toBeNull();
    expect([e.exitReason, e.ending?.kind]).not.toContain('guard');
    for (const s of [e.verdict!.headline, e.verdict!.capacity, e.verdict!.ending]) expect(s ?? '').not.toMatch(GUARD_WORDS);
    expect(cli.unguarded.stdout).not.toMatch(/Stopped by the guard/);
    expect(existsSync(join(runDir('unguarded'), 'report.html'))).toBe(true);
    expect(readFileSync(join(runDir('unguarded'), 'report.html'), 'utf8')).not.toMatch(/Stopped by the guard/);
  });
});
