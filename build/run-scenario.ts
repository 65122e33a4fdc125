// One `npm run k6 -- <scenario>` run: build, start the demo shop if needed, run k6,
// then print the grade and write the run's files.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { bundleFile, DIST_DIR, SCENARIO_DIR, scenarioNames } from './bundle.ts';
import { resolveK6 } from './k6-binary.ts';
import { CliError, type RunArgs } from './cli-args.ts';
import { writeDurationCsv } from './samples-csv.ts';
import { makeTestId } from '../lib/tags.ts';
import { figuresFromSummary, gradeFromSummary, gradeReport, type SummaryData } from '../lib/summary.ts';
import { buildDemoApp } from '../demo/app.ts';

export interface RunOutcome {
  exitCode: number;
  testid: string;
  runDir: string;
}

export function scriptEntry(script: string): { name: string; entry: string; bundled: boolean } {
  if (scenarioNames().includes(script)) return { name: script, entry: join(SCENARIO_DIR, `${script}.ts`), bundled: true };
  const path = resolve(script);
  if (!/\.(ts|js|mjs)$/.test(path) || !existsSync(path)) {
    throw new CliError(`"${script}" is neither a scenario (${scenarioNames().join(', ')}) nor an existing .ts or .js file.`);
  }
  return { name: basename(path, extname(path)), entry: path, bundled: false };
}

/** The environment the lib/ scenarios read: the CLI's flags, as k6 -e pairs. */
export function k6Environment(args: RunArgs, testid: string, baseUrl: string): Record<string, string> {
  const env: Record<string, string> = {
    TESTID: testid,
    BASE_URL: baseUrl,
    ENVIRONMENT: args.environment,
    INTENSITY: args.intensity,
    PROMO_TYPE: args.promoType,
    PROMO_NAME: args.promoName ?? 'none',
    MIN_GRADE: args.minGrade,
    ABORT_ON_FAIL: String(args.abortOnFail),
    PROMO_SUMMARY_STDOUT: 'false',
  };
  if (args.vus !== undefined) env.TARGET_VUS = String(args.vus);
  if (args.duration !== undefined) env.DURATION = args.duration;
  return env;
}

export async function runScenario(args: RunArgs): Promise<RunOutcome> {
  const script = scriptEntry(args.script);
  const bundle = await bundleFile(script.entry, script.bundled ? DIST_DIR : join(DIST_DIR, 'user'));
  const k6 = await resolveK6();
  const testid = makeTestId(args.promoName ?? script.name);
  const runDir = resolve(args.outDir, testid);
  mkdirSync(runDir, { recursive: true });

  const demo = args.target ? null : await buildDemoApp({ logger: false });
  const baseUrl = args.target ?? (await demo!.listen({ host: '127.0.0.1', port: 0 }));
  process.stdout.write(`testid ${testid}\ntarget ${baseUrl}${demo ? ' (embedded demo shop)' : ''}\n`);

  const summaryPath = join(runDir, 'summary.json');
  const samplesPath = join(runDir, 'samples.json.gz');
  const env = k6Environment(args, testid, baseUrl);
  const k6Args = [
    'run',
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    `--summary-export=${summaryPath}`,
    '--out', `json=${samplesPath}`,
    ...args.extraK6Args,
    bundle,
  ];
  let exitCode: number;
  try {
    exitCode = await runK6(k6, k6Args);
  } finally {
    await demo?.close();
  }

  if (existsSync(summaryPath)) {
    const data = JSON.parse(readFileSync(summaryPath, 'utf8')) as SummaryData;
    process.stdout.write('\n' + gradeReport(figuresFromSummary(data), gradeFromSummary(data), testid));
  }
  if (existsSync(samplesPath)) await writeDurationCsv(samplesPath, join(runDir, 'http_req_duration.csv'));
  process.stdout.write(`results in ${runDir}\n`);
  return { exitCode, testid, runDir };
}

/** Runs k6 with our terminal; Ctrl-C reaches k6, which stops gracefully and still summarises. */
function runK6(k6: string, args: string[]): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(k6, args, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolvePromise(code ?? (signal ? 128 + 2 : 1));
    });
  });
}
