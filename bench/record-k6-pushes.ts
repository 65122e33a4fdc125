/**
 * Records what real k6 sends to the sink by default, for the benches to replay:
 * `node --import tsx bench/record-k6-pushes.ts` runs k6 (the real binary, with
 * native histograms and a 1 s push, as the CLI runs it) against a target of its own
 * with a long latency tail (lognormal, median 6 ms, σ = 0.9, and 2 % of product
 * pages answering 404), and writes the steady pushes, exactly as k6 sent them
 * (snappy-compressed remote write 1.0), to fixtures/k6-native/.
 *
 * Each push holds every series that got a sample in its second: with 120 products
 * and 12 categories over 40 VUs that is about 1,500 series, 80 % native histograms.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFile } from '../build/bundle.ts';
import { resolveK6 } from '../cli/k6-binary.ts';
import { ROOT } from '../fixtures/services.ts';

export const FIXTURE_DIR = join(ROOT, 'fixtures', 'k6-native');
/** Pushes kept: the first is partial (k6's first second), the last carries stale markers. */
const KEEP = 6;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Box–Muller: a standard normal deviate. */
function normal(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

async function record(): Promise<void> {
  const target = createServer((req, res) => {
    const ms = 6 * Math.exp(0.9 * normal());
    const missing = /^\/product\/(\d+)$/.exec(req.url ?? '') !== null && Math.random() < 0.02;
    setTimeout(() => res.writeHead(missing ? 404 : 200, { 'Content-Type': 'text/html' }).end('<html>ok</html>'), ms);
  });
  const pushes: Buffer[] = [];
  const receiver = createServer((req, res) => {
    void body(req).then((b) => {
      pushes.push(b);
      res.writeHead(204).end();
    });
  });
  const [targetPort, receiverPort] = [await listen(target), await listen(receiver)];
  const bundle = await bundleFile(join(ROOT, 'bench', 'record-scenario.ts'), join(ROOT, 'dist', 'bench'));
  const k6 = await resolveK6();
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(k6, ['run', '--quiet', '-o', 'experimental-prometheus-rw', '--features', 'native-histograms', bundle], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        K6_NO_USAGE_REPORT: 'true',
        K6_PROMETHEUS_RW_SERVER_URL: `http://127.0.0.1:${receiverPort}/api/v1/write`,
        K6_PROMETHEUS_RW_PUSH_INTERVAL: '1s',
        K6_PROMETHEUS_RW_STALE_MARKERS: 'true',
        BASE_URL: `http://127.0.0.1:${targetPort}`,
        TARGET_VUS: '40',
        DURATION: `${KEEP + 2}s`,
        TESTID: 'promo_20261203_120000_5eed1e55',
        PROMO_TYPE: 'striked_price',
        PROMO_NAME: 'black_friday',
        MIN_GRADE: 'none',
      },
    });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c ?? -1));
  });
  target.close();
  receiver.close();
  if (code !== 0) throw new Error(`k6 exited with ${code}`);
  // Drop the first (partial) push and the last ones (end of run, stale markers).
  const steady = pushes.slice(1, 1 + KEEP);
  if (steady.length < KEEP) throw new Error(`k6 sent ${pushes.length} pushes; ${KEEP + 2} were expected`);
  mkdirSync(FIXTURE_DIR, { recursive: true });
  for (const f of readdirSync(FIXTURE_DIR)) rmSync(join(FIXTURE_DIR, f));
  steady.forEach((b, i) => writeFileSync(join(FIXTURE_DIR, `push-${String(i).padStart(2, '0')}.rw1.snappy`), b));
  console.log(`wrote ${steady.length} pushes (${steady.map((b) => `${(b.length / 1024).toFixed(0)} KiB`).join(', ')}) to ${FIXTURE_DIR}`);
}

await record();
