// Does the generated scenario cost k6 throughput? The journey discovery writes for the
// demo shop's product page (what `npm run k6 -- promo` runs) against bench/plain-promo.js,
// the same requests, token reads and checks written by hand in plain k6, on the same demo
// shop in the same run.
//
// The machine is shared, and the plain script alone moves about 10 % between runs, so:
// - the two sides alternate (ABBA…), so that both see the same drift in the load beside them;
// - rounds are long (15 s at 10 VUs, a few thousand iterations each) and the median of 3 is kept;
// - beside iterations/s, each round reports the CPU time k6 spent per iteration (user +
//   system, from the shell's `times`), which does not depend on what else runs, and the
//   shop's CPU time per iteration (its /proc/<pid>/stat), which says that both sides asked
//   the shop for the same work.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { bundleFile, DIST_DIR, ROOT } from '../build/bundle.ts';
import { resolveK6 } from '../cli/k6-binary.ts';
import { discover } from '../cli/discover/journey.ts';
import { scenarioSource } from '../cli/discover/scenario.ts';
import { DEFAULT_CART_RULES } from '../demo/cart.ts';
import { standardTags } from '../lib/tags.ts';

const VUS = 10;
const DURATION_S = 15;
const ROUNDS = 3;
const CLOCK_TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s

interface Round {
  iterations: number;
  perSecond: number;
  /** k6's user + system CPU time per iteration, in ms. */
  k6CpuMs: number;
  /** The shop's CPU time per iteration, in ms. */
  shopCpuMs: number;
}

interface Side {
  name: string;
  script: string;
  env: Record<string, string>;
  rounds: Round[];
}

/** The demo shop in its own process, as users run it, so that its CPU time can be read apart. */
async function startShop(): Promise<{ url: string; child: ChildProcess; cpuSeconds: () => number; resetCarts: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(DIST_DIR, 'demo', 'server.js'), '--port', '0', '--max-carts', '100000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the demo shop exited ${code} before listening`)));
  });
  const cpuSeconds = () => {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  };
  const resetCarts = async () => {
    const res = await fetch(`${url}/__admin/carts`, { method: 'DELETE' });
    if (!res.ok) throw new Error(`DELETE /__admin/carts answered ${res.status}`);
  };
  return { url, child, cpuSeconds, resetCarts };
}

/** One k6 run; bash's `times` gives the CPU time of its child (k6) once it has exited. */
function runK6(k6: string, script: string, env: Record<string, string>, tags: Record<string, string>, summary: string): Promise<{ cpuSeconds: number }> {
  const args = ['run', '-q', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), ...Object.entries(tags).flatMap(([k, v]) => ['--tag', `${k}=${v}`]), '--summary-export', summary, script];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', '"$@" >/dev/null; rc=$?; times; exit $rc', 'k6-timed', k6, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, K6_NO_USAGE_REPORT: 'true', PROMO_SUMMARY_STDOUT: 'false' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`k6 exited ${code} for ${script}: ${err.slice(-500)}`));
      // `times`: the shell's own user and system time, then its children's.
      const children = out.trim().split('\n').at(-1)!.split(/\s+/).map((t) => {
        const m = /^(\d+)m([\d.]+)s$/.exec(t);
        return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
      });
      resolve({ cpuSeconds: children[0]! + children[1]! });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchPromoVsPlain(): Promise<void> {
  const k6 = await resolveK6();
  const shop = await startShop();
  const dir = join(DIST_DIR, 'bench');
  mkdirSync(dir, { recursive: true });
  try {
    // The scenario `npm run k6 -- promo` runs: discovery of the demo's product page with its code.
    const promoCode = DEFAULT_CART_RULES.promoCode;
    const discovery = await discover({ url: `${shop.url}/product/1`, promoCode, allowHosts: [], say: () => {} });
    const source = join(dir, 'generated-promo.ts');
    writeFileSync(source, scenarioSource({ command: 'npm run bench -- promo-vs-plain', discovery, promoCode }));
    const generated = await bundleFile(source, dir);

    const common = { BASE_URL: shop.url, TARGET_VUS: String(VUS), DURATION: `${DURATION_S}s`, THINK_TIME_MS: '0', PROMO_CODE: promoCode };
    // Every sample of a run the CLI makes carries the run's standard tags (the sink sorts runs by
    // them), whatever the script: both sides get the same ones, as --tag, so that what differs is
    // the scripts' own work. (--tag replaces the generated scenario's options.tags, same names.)
    const runTags = standardTags('promo', { PROMO_TYPE: discovery.promo.type, PROMO_NAME: discovery.promo.words });
    const sides: Side[] = [
      { name: 'plain k6 script', script: join(ROOT, 'bench', 'plain-promo.js'), env: common, rounds: [] },
      // Thresholds off, as the plain script has none: what is compared is the journey's own work.
      { name: 'generated scenario', script: generated, env: { ...common, PROMO_TYPE: discovery.promo.type, MIN_GRADE: 'none' }, rounds: [] },
    ];
    const load = [loadavg()[0]!];
    for (let round = 0; round < ROUNDS; round++) {
      // ABBA: each side goes first as often as the other.
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        await shop.resetCarts();
        const summary = join(dir, 'bench-summary.json');
        const shopBefore = shop.cpuSeconds();
        const { cpuSeconds } = await runK6(k6, side.script, side.env, { ...runTags }, summary);
        const shopSeconds = shop.cpuSeconds() - shopBefore;
        const metrics = JSON.parse(readFileSync(summary, 'utf8')).metrics;
        if (metrics.checks.fails > 0) throw new Error(`${side.name}: ${metrics.checks.fails} checks failed: the bench compares journeys that work.`);
        const iterations = metrics.iterations.count as number;
        side.rounds.push({ iterations, perSecond: metrics.iterations.rate, k6CpuMs: (cpuSeconds * 1000) / iterations, shopCpuMs: (shopSeconds * 1000) / iterations });
        load.push(loadavg()[0]!);
      }
    }

    const [plain, gen] = sides as [Side, Side];
    const med = (side: Side, key: keyof Round) => median(side.rounds.map((r) => r[key]));
    const cell = (side: Side, key: keyof Round, digits: number) => `${med(side, key).toFixed(digits).padStart(7)}  [${side.rounds.map((r) => r[key].toFixed(digits)).join(', ')}]`;
    console.log(`generated scenario vs plain k6 script on the demo shop (${VUS} VUs, ${DURATION_S} s rounds, ${ROUNDS} rounds each, alternating ABBA; median [rounds])`);
    console.log(`  machine load (1-min average) during the bench: ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} on ${(await import('node:os')).cpus().length} cores`);
    console.log(`  ${''.padEnd(20)} ${'iterations/s'.padEnd(32)} ${'k6 CPU ms/iteration'.padEnd(32)} shop CPU ms/iteration`);
    for (const side of sides) console.log(`  ${side.name.padEnd(20)} ${cell(side, 'perSecond', 1).padEnd(32)} ${cell(side, 'k6CpuMs', 3).padEnd(32)} ${cell(side, 'shopCpuMs', 3)}`);
    console.log(`  ratio (generated / plain): iterations/s ${(med(gen, 'perSecond') / med(plain, 'perSecond')).toFixed(3)} (goal ≥ 0.95); k6 CPU per iteration ${(med(gen, 'k6CpuMs') / med(plain, 'k6CpuMs')).toFixed(3)}; shop CPU per iteration ${(med(gen, 'shopCpuMs') / med(plain, 'shopCpuMs')).toFixed(3)}`);
  } finally {
    shop.child.kill('SIGTERM');
  }
}
