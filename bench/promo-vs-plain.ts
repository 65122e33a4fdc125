// Does lib/ cost k6 throughput? The promo bundle against a hand-written script that
// makes the same requests to the same demo shop, alternating runs in one process.
import { join } from 'node:path';
import { bundleFile, DIST_DIR, SCENARIO_DIR, ROOT } from '../build/bundle.ts';
import { resolveK6 } from '../cli/k6-binary.ts';
import { buildDemoApp } from '../demo/app.ts';
import { runProcess } from '../fixtures/processes.ts';

const VUS = 10;
const DURATION = '8s';
const ROUNDS = 3;

async function iterationsPerSecond(k6: string, script: string, baseUrl: string): Promise<number> {
  const env = { BASE_URL: baseUrl, TARGET_VUS: String(VUS), DURATION, THINK_TIME_MS: '0', PROMO_TYPE: 'striked_price', MIN_GRADE: 'none' };
  const summary = join(DIST_DIR, 'bench-summary.json');
  const res = await runProcess(k6, ['run', '-q', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), '--summary-export', summary, script], {
    env: { K6_NO_USAGE_REPORT: 'true', PROMO_SUMMARY_STDOUT: 'false' },
  });
  if (res.code !== 0) throw new Error(`k6 exited ${res.code} for ${script}: ${res.stderr.slice(-500)}`);
  const { readFileSync } = await import('node:fs');
  return JSON.parse(readFileSync(summary, 'utf8')).metrics.iterations.rate as number;
}

export async function benchPromoVsPlain(): Promise<void> {
  const k6 = await resolveK6();
  const promo = await bundleFile(join(SCENARIO_DIR, 'promo.ts'), join(DIST_DIR, 'bench'));
  const plain = join(ROOT, 'bench', 'plain-promo.js');
  const shop = buildDemoApp({ logger: false });
  const url = await shop.listen({ host: '127.0.0.1', port: 0 });
  try {
    const promoRates: number[] = [];
    const plainRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      plainRates.push(await iterationsPerSecond(k6, plain, url));
      promoRates.push(await iterationsPerSecond(k6, promo, url));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(promoRates) / median(plainRates);
    console.log(`promo bundle vs plain k6 script (${VUS} VUs, ${DURATION}, ${ROUNDS} alternating rounds, median):`);
    console.log(`  promo bundle   ${median(promoRates).toFixed(1)} iterations/s   [${promoRates.map((r) => r.toFixed(1)).join(', ')}]`);
    console.log(`  plain script   ${median(plainRates).toFixed(1)} iterations/s   [${plainRates.map((r) => r.toFixed(1)).join(', ')}]`);
    console.log(`  ratio          ${ratio.toFixed(3)}   (goal ≥ 0.95)`);
  } finally {
    await shop.close();
  }
}
