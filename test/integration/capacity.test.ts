// Ramps against a shop of known capacity: the breaking point against where k6's own raw
// samples show errors passing 1 % for good, and the throughput limit against the
// capacity the shop was given.
import { describe, expect, inject, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIO_BUNDLE_DIR } from '../../build/bundle.ts';
import { makeTestId } from '../../lib/tags.ts';
import { INTENSITIES } from '../../lib/profiles.ts';
import { saturationVus } from '../../demo/app.ts';
import { runProcess } from '../../fixtures/processes.ts';
import { startDemo } from '../helpers/demo.ts';
import { startSink, remoteWriteEnv } from '../helpers/sink.ts';
import { errorsPassOnePercentAt } from '../helpers/k6-samples.ts';
import type { RunJson } from '../../contract/sink-api.ts';

const k6 = inject('k6Bin');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pla-capacity-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

describe('capacity from the per-second series of a ramp', () => {
  for (const ramp of RAMPS) {
    const preset = INTENSITIES[ramp.intensity];
    const limitRps = (ramp.concurrency * 1000) / ramp.serviceTimeMs;
    it(`finds the break within 20 % of where errors pass 1 %, and the throughput limit within 10 % of C/S = ${limitRps} req/s, on a ${ramp.intensity} ramp ${ramp.why}`, async () => {
      const shop = await startDemo({ concurrency: ramp.concurrency, serviceTimeMs: ramp.serviceTimeMs, queueTimeoutMs: ramp.queueTimeoutMs, maxQueue: 100_000, cacheTtlS: 0 });
      // Warm the shop's code paths: a cold start's slow first requests would time out in the queue.
      for (let i = 0; i < 20; i++) await shop.app.inject({ url: '/product/1' });
      const sink = await startSink();
      try {
        const testid = makeTestId(`capacity ${ramp.intensity}`);
        const samples = join(dir, `${testid}.json.gz`);
        const res = await runProcess(
          k6,
          ['run', '-q', '-o', 'experimental-prometheus-rw', '--out', `json=${samples}`, '-e', `TESTID=${testid}`, '-e', `BASE_URL=${shop.url}`, '-e', `INTENSITY=${ramp.intensity}`,
            '-e', `DURATION=${ramp.duration}`, '-e', 'MIN_GRADE=none', join(SCENARIO_BUNDLE_DIR, 'ramp.js')],
          { env: remoteWriteEnv(sink.url, 'native') },
        );
        expect(res.code, res.stderr).toBe(0);
        const oracle = await errorsPassOnePercentAt(samples, preset.rampMaxVus);
        const { capacity } = (await sink.app.inject({ url: `/api/runs/${testid}` })).json() as RunJson;
        const context = `${ramp.intensity}: sink ${JSON.stringify(capacity)}; raw samples: errors pass 1 % at ${oracle} VUs; saturation at ${saturationVus({ ...ramp, thinkTimeMs: preset.thinkTimeMs })} VUs`;
        expect(oracle, context).not.toBeNull();
        expect(capacity.breakingPointVus, context).not.toBeNull();
        expect(Math.abs(capacity.breakingPointVus! - oracle!) / oracle!, context).toBeLessThanOrEqual(0.2);
        expect(capacity.throughputLimitRps, context).not.toBeNull();
        expect(Math.abs(capacity.throughputLimitRps! - limitRps) / limitRps, context).toBeLessThanOrEqual(0.1);
        expect(capacity.maxVus).toBe(preset.rampMaxVus);
        const metrics = (await sink.app.inject({ url: '/metrics' })).body;
        expect(metrics).toContain(`promo_breaking_point_vus{testid="${testid}"} ${capacity.breakingPointVus}`);
        expect(metrics).toMatch(new RegExp(`promo_throughput_limit_rps\\{testid="${testid}"\\} ${capacity.throughputLimitRps}\\b`));
      } finally {
        await sink.close();
        await shop.close();
      }
    });
  }

  it('says there was no break when the shop holds the whole ramp', async () => {
    const shop = await startDemo({ concurrency: 64, serviceTimeMs: 5, queueTimeoutMs: 1000, maxQueue: 100_000, cacheTtlS: 0 });
    const sink = await startSink();
    try {
      const testid = makeTestId('capacity holds');
      const res = await runProcess(k6, ['run', '-q', '-o', 'experimental-prometheus-rw', '-e', `TESTID=${testid}`, '-e', `BASE_URL=${shop.url}`, '-e', 'RAMP_MAX_VUS=10', '-e', 'DURATION=10s', '-e', 'THINK_TIME_MS=100', '-e', 'MIN_GRADE=none', join(SCENARIO_BUNDLE_DIR, 'ramp.js')], {
        env: remoteWriteEnv(sink.url, 'native'),
      });
      expect(res.code, res.stderr).toBe(0);
      const { capacity } = (await sink.app.inject({ url: `/api/runs/${testid}` })).json() as RunJson;
      expect(capacity).toMatchObject({ breakingPointVus: null, maxVus: 10 });
    } finally {
      await sink.close();
      await shop.close();
    }
  });
});
