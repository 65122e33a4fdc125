// Ramps against the demo shop given a known capacity: the breaking point against where k6's
// own raw samples show errors passing 1 % for good, and the throughput limit (the shop
// saturating: requests in flight rising while completed requests/s stay flat) against the
// capacity the shop was given. The heavy ramp runs alone, then the others side by side, each
// against its own shop and sink: about 85 s instead of two minutes one after another.
import { describe, expect, inject, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIO_BUNDLE_DIR } from '../../build/bundle.ts';
import { makeTestId } from '../../lib/tags.ts';
import { INTENSITIES } from '../../lib/profiles.ts';
import { saturationVus } from '../../demo/app.ts';
import { runProcess, type Finished } from '../../fixtures/processes.ts';
import { startDemo } from '../helpers/demo.ts';
import { startSink, remoteWriteEnv, pointsText } from '../helpers/sink.ts';
import { errorsPassOnePercentAt } from '../helpers/k6-samples.ts';
import type { RunJson, RunSeriesJson } from '../../contract/sink-api.ts';

const k6 = inject('k6Bin');
let dir: string;

interface Ramp {
  intensity: 'light' | 'medium' | 'heavy';
  duration: string;
  /** The shop: C slots of S ms, a 503 after Q ms of waiting. */
  concurrency: number;
  serviceTimeMs: number;
  queueTimeoutMs: number;
  why: string;
}

const RAMPS: Ramp[] = [
  { intensity: 'light', duration: '30s', concurrency: 1, serviceTimeMs: 80, queueTimeoutMs: 160, why: 'saturating at about 14 of its 20 VUs' },
  { intensity: 'medium', duration: '40s', concurrency: 4, serviceTimeMs: 50, queueTimeoutMs: 100, why: 'flattening in the mid-80s of its 100 VUs and breaking in the 90s, near its peak' },
  { intensity: 'heavy', duration: '40s', concurrency: 16, serviceTimeMs: 40, queueTimeoutMs: 80, why: 'saturating at about 216 of its 400 VUs' },
];

interface Measured {
  testid: string;
  res: Finished;
  run: RunJson;
  series: RunSeriesJson;
  metrics: string;
  oracle: number | null;
}
const measured = new Map<string, Measured>();

/** A ramp of `env` against a demo shop of the given capacity, with a sink of its own; what the sink and k6's raw samples say of it. */
async function measure(name: string, shopOptions: Parameters<typeof startDemo>[0], env: Record<string, string>, peak: number | null): Promise<void> {
  const shop = await startDemo({ maxQueue: 100_000, cacheTtlS: 0, ...shopOptions });
  // Warm the shop's code paths: a cold start's slow first requests would time out in the queue.
  for (let i = 0; i < 20; i++) await shop.app.inject({ url: '/product/1' });
  const sink = await startSink();
  try {
    const testid = makeTestId(`capacity ${name}`);
    const samples = join(dir, `${testid}.json.gz`);
    const args = ['run', '-q', '-o', 'experimental-prometheus-rw', '--out', `json=${samples}`, '-e', `TESTID=${testid}`, '-e', `BASE_URL=${shop.url}`, '-e', 'MIN_GRADE=none', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), join(SCENARIO_BUNDLE_DIR, 'ramp.js')];
    const res = await runProcess(k6, args, { env: remoteWriteEnv(sink.url, 'native') });
    const run = (await sink.app.inject({ url: `/api/runs/${testid}` })).json() as RunJson;
    const series = (await sink.app.inject({ url: `/api/runs/${testid}/series` })).json() as RunSeriesJson;
    const metrics = (await sink.app.inject({ url: '/metrics' })).body;
    measured.set(name, { testid, res, run, series, metrics, oracle: peak === null || res.code !== 0 ? null : await errorsPassOnePercentAt(samples, peak) });
  } finally {
    await sink.close();
    await shop.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pla-capacity-'));
  const ramp = (r: Ramp) =>
    measure(r.intensity, { concurrency: r.concurrency, serviceTimeMs: r.serviceTimeMs, queueTimeoutMs: r.queueTimeoutMs }, { INTENSITY: r.intensity, DURATION: r.duration }, INTENSITIES[r.intensity].rampMaxVus);
  // The heavy ramp (about 500 requests/s into a demo shop in this process) alone: beside it,
  // the other shops' event loop would stretch their service times and lower their capacity.
  await ramp(RAMPS.find((r) => r.intensity === 'heavy')!);
  await Promise.all([
    ...RAMPS.filter((r) => r.intensity !== 'heavy').map(ramp),
    measure('holds', { concurrency: 64, serviceTimeMs: 5, queueTimeoutMs: 1000 }, { RAMP_MAX_VUS: '10', DURATION: '10s', THINK_TIME_MS: '100' }, null),
  ]);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('capacity from the per-second series of a ramp', () => {
  for (const ramp of RAMPS) {
    const preset = INTENSITIES[ramp.intensity];
    const limitRps = (ramp.concurrency * 1000) / ramp.serviceTimeMs;
    it(`finds the break within 20 % of where errors pass 1 %, and the throughput limit within 10 % of C/S = ${limitRps} req/s, on a ${ramp.intensity} ramp ${ramp.why}`, () => {
      const { testid, res, run, series, metrics, oracle } = measured.get(ramp.intensity)!;
      expect(res.code, res.stderr).toBe(0);
      const { capacity } = run;
      const context = `${ramp.intensity}: sink ${JSON.stringify(capacity)}; raw samples: errors pass 1 % at ${oracle} VUs; saturation at ${saturationVus({ ...ramp, thinkTimeMs: preset.thinkTimeMs })} VUs; the points:\n${pointsText(series.points)}`;
      expect(oracle, context).not.toBeNull();
      expect(capacity.breakingPointVus, context).not.toBeNull();
      expect(Math.abs(capacity.breakingPointVus! - oracle!) / oracle!, context).toBeLessThanOrEqual(0.2);
      expect(capacity.throughputLimitRps, context).not.toBeNull();
      expect(Math.abs(capacity.throughputLimitRps! - limitRps) / limitRps, context).toBeLessThanOrEqual(0.1);
      expect(capacity.maxVus).toBe(preset.rampMaxVus);
      expect(run.verdict.capacityKind).toBe('broke');
      expect(metrics).toContain(`promo_breaking_point_vus{testid="${testid}"} ${capacity.breakingPointVus}`);
      expect(metrics).toMatch(new RegExp(`promo_throughput_limit_rps\\{testid="${testid}"\\} ${capacity.throughputLimitRps}\\b`));
    });
  }

  it('says there was no break, and no limit, when the shop holds the whole ramp', () => {
    const { res, run } = measured.get('holds')!;
    expect(res.code, res.stderr).toBe(0);
    expect(run.capacity).toMatchObject({ breakingPointVus: null, throughputLimitRps: null, maxVus: 10 });
    expect(run.verdict.capacityKind).toBe('no_limit');
  });
});
