// One `npm run k6 -- <scenario>` run, stage by stage (run-scope.ts): prepare the script,
// start the demo shop and the embedded sink when needed, learn the thresholds, run k6 (N
// instances with execution segments), register them, show the live grade, then print the
// final grade and write the run's files. Whatever a stage started is torn down at the end,
// and when any stage fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { bundleFile } from '../build/k6-bundle.ts';
import { builtScenarioNames, scenarioDistDir } from '../contract/dist-layout.ts';
import { DataDirInUse, startEmbeddedSink, type EmbeddedSink } from './embedded-sink.ts';
import { RunScope, type Defer, type RunStage } from './run-scope.ts';
import { resolveK6 } from './k6-binary.ts';
import { freePort } from './free-port.ts';
import { CliError, type RunArgs } from './args.ts';
import { writeDurationCsv } from './samples-csv.ts';
import { SinkClient, liveLine } from './sink-client.ts';
import { K6_STOP_BODY, type GuardJson, type HistoryEntry, type RegistrationRequest, type RunJson } from '../contract/sink-api.ts';
import { renderReportHtml } from '../report/html.ts';
import { reportData } from '../report/report-data.ts';
import { loadReportAssets } from '../report/assets.ts';
import { makeTestId, STANDARD_TAG_ENV, STANDARD_TAG_NAMES, type RunTags } from '../lib/tags.ts';
import { figuresFromSummary, gradeFromSummary, gradeReport, type SummaryData } from '../lib/summary.ts';
import { buildDemoApp } from '../demo/app.ts';
import { DEFAULT_CART_RULES } from '../demo/cart.ts';
import { marketingDashboardUrl } from '../contract/links.ts';
import { k8sManifests, k8sNameFromTestId } from './k8s.ts';
import { guardOf, GUARD_EXIT_CODE } from './guard.ts';
import { guardSentence } from '../report/sentences.ts';
import { abortLine, gradeBlock, instanceVerdicts, pageLines, scenarioLines, summaryRateThresholds, thresholdLines, verdictLines } from './final-report.ts';
import { prepareRun } from './discover/run-stage.ts';
import { confirmTarget, planLine, plannedLoad } from './discover/safety.ts';

export interface RunOutcome {
  exitCode: number;
  testid: string;
  runDir: string;
}

/** A built scenario's bundle, or a user's own file (bundled into the run's folder when it runs). */
export function scriptEntry(script: string): { name: string; bundle: string } | { name: string; entry: string } {
  const scenarios = builtScenarioNames();
  if (scenarios.includes(script)) return { name: script, bundle: join(scenarioDistDir(), `${script}.js`) };
  const path = resolve(script);
  if (!/\.(ts|js|mjs)$/.test(path) || !existsSync(path)) {
    throw new CliError(`"${script}" is neither a scenario (${scenarios.join(', ')}) nor an existing .ts or .js file.`);
  }
  return { name: basename(path, extname(path)), entry: path };
}

/** The k6 script to run: a scenario as built, a user's file bundled into `dir` now (it may import lib/). */
function scriptBundle(script: ReturnType<typeof scriptEntry>, dir: string): Promise<string> {
  return 'bundle' in script ? Promise.resolve(script.bundle) : bundleFile(script.entry, dir);
}

/** The run's standard tags (lib/tags.ts) from the CLI's flags, testid aside. */
export function runTags(args: RunArgs): RunTags {
  return { environment: args.environment, promo_type: args.promoType, promo_name: args.promoName ?? 'none', intensity: args.intensity };
}

/** The environment the lib/ scenarios read: the CLI's flags, as k6 -e pairs. */
export function k6Environment(args: RunArgs, testid: string, baseUrl: string): Record<string, string> {
  const tags = { testid, ...runTags(args) };
  const env: Record<string, string> = {
    ...Object.fromEntries(STANDARD_TAG_NAMES.map((name) => [STANDARD_TAG_ENV[name], tags[name]])),
    BASE_URL: baseUrl,
    MIN_GRADE: args.minGrade,
    ABORT_ON_FAIL: String(args.abortOnFail),
    PROMO_SUMMARY_STDOUT: 'false',
  };
  // --vus is the steady VUs of constant-load scenarios and the peak of ramp-shaped ones.
  if (args.vus !== undefined) {
    env.TARGET_VUS = String(args.vus);
    env.RAMP_MAX_VUS = String(args.vus);
  }
  if (args.duration !== undefined) env.DURATION = args.duration;
  return env;
}

/** `--execution-segment` for instance i of n, and the sequence they all share. */
export function executionSegments(i: number, n: number): { segment: string; sequence: string } {
  const point = (k: number) => (k === 0 ? '0' : k === n ? '1' : `${k}/${n}`);
  return { segment: `${point(i)}:${point(i + 1)}`, sequence: Array.from({ length: n + 1 }, (_, k) => point(k)).join(',') };
}

interface Instance {
  index: number;
  address: string;
  summaryPath: string;
  samplesPath: string;
  child: ChildProcess;
  /** k6's exit code (128 + the signal's number when a signal ended it). */
  exit: Promise<number>;
}

export interface RunOptions {
  /** Called after each stage's body, inside the stage (see RunScope): tests make each stage throw. */
  afterStage?: (stage: RunStage) => void | Promise<void>;
  /** Print nothing and give k6 no terminal (tests). */
  quiet?: boolean;
}

/** What the prepare stage settles: the script, k6, the testid and the run's folder. */
interface Plan {
  script: ReturnType<typeof scriptEntry>;
  k6: string;
  testid: string;
  outDir: string;
  runDir: string;
  bundle: string;
}

/** The shop the run loads: --target, or the embedded demo shop on a free port. */
interface Target {
  baseUrl: string;
  demo: boolean;
}

/** The sink the run reports to: --sink, the embedded one, or none (--no-sink). */
interface Sink {
  client: SinkClient;
  token: string | undefined;
  /** The embedded sink's token, for the status page link (a --sink's own token is not printed). */
  embeddedToken: string | undefined;
}

type Say = (line: string) => void;

/**
 * One run, as a scope of stages (run-scope.ts): each stage defers the teardown of what it
 * starts, and the scope closes in `finally`, so a failure anywhere leaves no demo shop,
 * sink or k6 behind. A new stage (e.g. finding the shop's journey before k6 starts) is
 * one more `scope.stage(…)` call and one more name in RUN_STAGES.
 */
export async function runScenario(args: RunArgs, options: RunOptions = {}): Promise<RunOutcome> {
  const say: Say = options.quiet ? () => {} : (line) => process.stdout.write(line + '\n');
  const scope = new RunScope({ afterStage: options.afterStage, warn: say });
  try {
    const prepared = await scope.stage('prepare', () => prepare(args));
    const target = await scope.stage('target', (defer) => startTarget(args, defer));
    // Discovery and validation (--url, and promo on the demo shop), or the plan and the confirmation.
    // The scenario asked for: discovery hands promo --url a generated script of its own.
    const scenario = args.script;
    const found = await scope.stage('discover', () => discoverJourney(args, prepared, target, say));
    args = found.args;
    const plan = found.plan;
    const sink = await scope.stage('sink', (defer) => startSink(args, plan, defer, say));
    announce(plan.testid, target, sink, say);
    const guard = guardOf(args.guard, scenario, target.demo);
    if (guard && sink) say(`guard: ${guardSentence(guard.rules)} (--guard RULES to change it, --no-guard to turn it off)`);
    if (guard && !sink) say(`note: with --no-sink this run has no guard: the sink's guard is what stops a run before it harms the shop.`);
    const env = { ...k6Environment(args, plan.testid, target.baseUrl), ...found.env };
    // The sink judges the bundle's thresholds on every instance's data: it learns them from k6 itself, with the run's planned peak.
    const inspected = await scope.stage('thresholds', () => (sink ? inspectOptions(plan.k6, plan.bundle, env, args.extraK6Args, say) : undefined));
    if (args.vus !== undefined && plan.script.name === 'smoke') say(`note: smoke always runs 1 VU; --vus ${args.vus} applies to ramp (its peak), cache-hit and promo.`);
    const started = Date.now();
    const instances = await scope.stage('k6', (defer) => startK6(args, plan, env, sink, options.quiet ?? false, defer));
    const control = await scope.stage('register', () => register(args, plan, target, sink, inspected, instances, guard, say));
    const codes = await scope.stage('watch', () => watch(plan.testid, control === 'stops' ? sink : null, sink, instances, started, say));
    return await scope.stage('report', () => report(args, plan, sink, control, instances, codes, say));
  } finally {
    await scope.close();
  }
}

/** The script, k6, the testid, the run's folder, and the bundle (a user's file is bundled into it). */
async function prepare(args: RunArgs): Promise<Plan> {
  const script = scriptEntry(args.script);
  const k6 = await resolveK6();
  const testid = args.testid ?? makeTestId(args.promoName ?? script.name);
  const outDir = resolve(args.outDir);
  const runDir = join(outDir, testid);
  mkdirSync(runDir, { recursive: true });
  return { script, k6, testid, outDir, runDir, bundle: await scriptBundle(script, runDir) };
}

async function startTarget(args: RunArgs, defer: Defer): Promise<Target> {
  if (args.target) return { baseUrl: args.target, demo: false };
  if (args.url) return { baseUrl: new URL(args.url).origin, demo: false };
  const demo = buildDemoApp({ logger: false });
  defer(() => demo.close());
  return { baseUrl: await demo.listen({ host: '127.0.0.1', port: 0 }), demo: true };
}

/**
 * Before anything loads the shop: a run given a URL (and promo on the demo shop) discovers
 * its journey, writes and validates its scenario (cli/discover/run-stage.ts), which brings
 * its own testid and folder; any other run prints its planned peak and, outside loopback,
 * asks for a confirmation.
 */
async function discoverJourney(args: RunArgs, plan: Plan, target: Target, say: Say): Promise<{ args: RunArgs; plan: Plan; env: Record<string, string> }> {
  const prepared = await prepareRun(args, { k6: plan.k6, demo: target.demo ? { url: target.baseUrl, promoCode: DEFAULT_CART_RULES.promoCode } : null, say, k6Env: k6Environment });
  if (!prepared.confirmed) {
    const load = await plannedLoad(plan.k6, plan.bundle, { ...k6Environment(args, plan.testid, target.baseUrl), ...prepared.env });
    say(planLine(target.baseUrl, load, args.instances));
    await confirmTarget(target.baseUrl, load, args.yes, say);
    return { args, plan, env: prepared.env };
  }
  const next = prepared.args;
  // The folder prepare made for the testid it guessed stays only if something went in it.
  try {
    rmdirSync(plan.runDir);
  } catch {
    // not empty
  }
  const script = scriptEntry(next.script);
  const testid = next.testid ?? plan.testid;
  const runDir = join(plan.outDir, testid);
  mkdirSync(runDir, { recursive: true });
  return { args: next, plan: { ...plan, script, testid, runDir, bundle: await scriptBundle(script, runDir) }, env: prepared.env };
}

/**
 * The embedded sink needs no infrastructure; its token is made up for this run only. It
 * keeps its files as a standalone one does, in a data directory: the out dir.
 */
async function startSink(args: RunArgs, plan: Plan, defer: Defer, say: Say): Promise<Sink | null> {
  if (args.noSink) return null;
  if (args.sink) return { client: new SinkClient(args.sink.replace(/\/+$/, ''), process.env.SINK_TOKEN), token: process.env.SINK_TOKEN, embeddedToken: undefined };
  let embedded: EmbeddedSink;
  try {
    embedded = await startEmbeddedSink(['--data-dir', plan.outDir]);
  } catch (err) {
    if (!(err instanceof DataDirInUse)) throw err;
    // Another run's embedded sink (or a standalone one) has it: this run's history goes with its results.
    say(`note: ${err.message.split('\n')[0]} This run's history goes to ${join(plan.runDir, 'sink-data')}.`);
    embedded = await startEmbeddedSink(['--data-dir', join(plan.runDir, 'sink-data')]);
  }
  defer(() => embedded.stop());
  return { client: new SinkClient(embedded.url.replace(/\/+$/, ''), embedded.token), token: embedded.token, embeddedToken: embedded.token };
}

function announce(testid: string, target: Target, sink: Sink | null, say: Say): void {
  say(`testid ${testid}`);
  say(`target ${target.baseUrl}${target.demo ? ' (embedded demo shop)' : ''}`);
  if (!sink) return;
  say(`status page ${sink.client.url}/?testid=${testid}${sink.embeddedToken ? `#token=${sink.embeddedToken}` : ''}`);
  if (process.env.GRAFANA_URL) say(`dashboard ${marketingDashboardUrl(process.env.GRAFANA_URL, testid)}`);
}

/** The k6 processes, one per instance, each with its own REST API address and output files. */
async function startK6(args: RunArgs, plan: Plan, env: Record<string, string>, sink: Sink | null, quiet: boolean, defer: Defer): Promise<Instance[]> {
  const rwEnv: Record<string, string> = sink
    ? {
        K6_PROMETHEUS_RW_SERVER_URL: `${sink.client.url}/api/v1/write`,
        K6_PROMETHEUS_RW_PUSH_INTERVAL: '1s',
        K6_PROMETHEUS_RW_STALE_MARKERS: 'true',
        ...(sink.token ? { K6_PROMETHEUS_RW_BEARER_TOKEN: sink.token } : {}),
      }
    : {};
  const instances: Instance[] = [];
  for (let i = 0; i < args.instances; i++) {
    const suffix = args.instances > 1 ? `-${i}` : '';
    const address = `127.0.0.1:${await freePort()}`;
    const summaryPath = join(plan.runDir, `summary${suffix}.json`);
    const samplesPath = join(plan.runDir, `samples${suffix}.json.gz`);
    const k6Args = [
      'run',
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      '--address', address,
      `--summary-export=${summaryPath}`,
      '--out', `json=${samplesPath}`,
      ...(sink ? ['-o', 'experimental-prometheus-rw', '--features', 'native-histograms'] : []),
      ...(args.instances > 1 ? segmentArgs(args, plan.testid, i) : []),
      ...args.extraK6Args,
      plan.bundle,
    ];
    // Its own process group: Ctrl-C reaches the CLI, which stops k6 through its REST API.
    const child = spawn(plan.k6, k6Args, { stdio: quiet ? 'ignore' : 'inherit', env: { ...process.env, ...rwEnv }, detached: true });
    const exit = new Promise<number>((resolveExit, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolveExit(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
    // Awaited by the watch stage; a k6 that cannot start must not be an unhandled rejection before then.
    exit.catch(() => {});
    defer(() => stopProcess(child, exit));
    instances.push({ index: i, address, summaryPath, samplesPath, child, exit });
  }
  return instances;
}

/** Instance i's execution segment, and the standard tags again: --tag replaces the script's options.tags rather than adding to them. */
function segmentArgs(args: RunArgs, testid: string, i: number): string[] {
  const { segment, sequence } = executionSegments(i, args.instances);
  const tags = { testid, ...runTags(args), instance: String(i) };
  return ['--execution-segment', segment, '--execution-segment-sequence', sequence, ...Object.entries(tags).flatMap(([k, v]) => ['--tag', `${k}=${v}`]), '--quiet'];
}

/** A k6 still running when the run is torn down (a later stage failed): stopped, then killed. */
async function stopProcess(child: ChildProcess, exit: Promise<number>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exit.catch(() => {});
  clearTimeout(timer);
}

/** Whether the sink stops the run: it does, it has no token (it stops nothing), or the run is not registered with it. */
type SinkControl = 'stops' | 'tokenless' | 'unregistered';
/** What became of the instances when a merged threshold with abortOnFail failed. */
const ABORT_OUTCOME: Record<SinkControl, string | null> = {
  stops: null,
  tokenless: 'the sink has no token, so it stopped nothing',
  unregistered: 'the run is not registered with the sink, so it stopped nothing',
};

/**
 * Registers each instance with the sink, and says whether the sink will stop the run (on
 * Ctrl-C, a merged threshold with abortOnFail, or the guard): a sink without a token stops
 * nothing, which the run says in one line; it is graded all the same.
 */
async function register(args: RunArgs, plan: Plan, target: Target, sink: Sink | null, inspected: InspectedOptions | undefined, instances: Instance[], guard: GuardJson | null, say: Say): Promise<SinkControl> {
  if (!sink) return 'unregistered';
  const { thresholds, plannedVus } = inspected ?? {};
  let control: SinkControl = 'unregistered';
  for (const instance of instances) {
    const reply = await sink.client
      .register({
        testid: plan.testid, scenario: plan.script.name, tags: runTags(args), target: target.baseUrl, k6Address: instance.address, abortOnFail: args.abortOnFail,
        ...(thresholds ? { thresholds } : {}), ...(plannedVus !== undefined ? { plannedVus } : {}), ...(args.expect ? { expect: args.expect } : {}), ...(guard ? { guard } : {}),
      })
      .catch((err: Error) => (say(`warning: could not register the run: ${err.message}`), null));
    // A sink from before sinkStops stops what is registered with it.
    if (reply?.sinkStops === false) control = 'tokenless';
    else if (reply && control === 'unregistered') control = 'stops';
  }
  if (control === 'tokenless') say(`note: the sink at ${sink.client.url} has no token, so it will not stop this run${guard ? ', nor will its guard' : ''}: Ctrl-C stops k6 directly, and a merged threshold that fails is reported, not enforced.`);
  return control;
}

/**
 * Shows the live grade until every k6 exits; Ctrl-C stops the run (twice: kills k6), through
 * `stopper`, the sink that stops it, or directly without one. Returns the exit codes.
 */
async function watch(testid: string, stopper: Sink | null, sink: Sink | null, instances: Instance[], started: number, say: Say): Promise<number[]> {
  let stopping = 0;
  const onInterrupt = () => {
    stopping++;
    if (stopping === 1) {
      say('\nstopping the run (Ctrl-C again to kill k6)…');
      void (stopper ? stopper.client.stop(testid) : stopDirectly(instances)).catch(() => stopDirectly(instances));
    } else {
      for (const i of instances) i.child.kill('SIGINT');
    }
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  let lastLine = '';
  const live = sink
    ? setInterval(() => {
        void sink.client
          .run(testid)
          .then((run: RunJson) => {
            const line = liveLine(run, Date.now() - started);
            if (line !== lastLine) say(line);
            lastLine = line;
          })
          .catch(() => {});
      }, 1000)
    : null;
  try {
    return await Promise.all(instances.map((i) => i.exit));
  } finally {
    if (live) clearInterval(live);
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}

/** The final grade and figures, the end of the run told to the sink, and the run's files. */
async function report(args: RunArgs, plan: Plan, sink: Sink | null, control: SinkControl, instances: Instance[], codes: number[], say: Say): Promise<RunOutcome> {
  const { testid, runDir } = plan;
  let exitCode = codes.find((c) => c !== 0) ?? 0;
  // One instance: k6's own summary is the record, for the CLI and the sink alike.
  const k6Data = args.instances === 1 && existsSync(instances[0]!.summaryPath) ? (JSON.parse(readFileSync(instances[0]!.summaryPath, 'utf8')) as SummaryData) : null;
  let sinkRun: RunJson | null = null;
  let finished: HistoryEntry | null = null;
  if (sink) {
    // A merged threshold with abortOnFail stopped the instances (k6 exits 103 then): the run failed its thresholds.
    const before = await sink.client.run(testid).catch(() => null);
    if (before?.abortedBy) exitCode = 99;
    const f = k6Data ? figuresFromSummary(k6Data) : null;
    const med = k6Data?.metrics.http_req_duration?.med;
    const k6Summary = f
      ? { requests: f.requests, p50Ms: typeof med === 'number' ? med : null, p95Ms: Number.isFinite(f.p95Ms) ? f.p95Ms : null, p99Ms: f.p99Ms, errorRatio: f.errorRatio, rps: f.rps, checksRate: f.checksRate, iterations: f.iterations }
      : undefined;
    finished = await sink.client.finish(testid, exitCode, k6Summary).catch((err: Error) => (say(`warning: could not report the end of the run: ${err.message}`), null));
    sinkRun = await sink.client.run(testid).catch(() => null);
  }
  // The guard stopped every instance (k6 exits 103 then): the CLI's own code says so.
  const guarded = finished?.ending?.kind === 'guard';
  // One source for every figure: the sink's record of the run (its merged histograms) when
  // there is one, so the headline, the thresholds and the per-page table agree; k6's own
  // summary without a sink.
  if (finished) {
    say('');
    for (const line of gradeBlock(finished, args.instances > 1 ? `  (${args.instances} instances, merged by the sink)` : '')) say(line);
  } else if (k6Data) {
    say('\n' + gradeReport(figuresFromSummary(k6Data), gradeFromSummary(k6Data), testid).trimEnd());
  }
  // The sink's merged verdicts when it ran; else the one instance's own.
  for (const line of scenarioLines(sinkRun?.thresholds ?? (k6Data ? summaryRateThresholds(k6Data as Parameters<typeof summaryRateThresholds>[0]) : []))) say(line);
  if (sinkRun) {
    const verdicts = instances.map((i) => (existsSync(i.summaryPath) ? instanceVerdicts(JSON.parse(readFileSync(i.summaryPath, 'utf8'))) : null));
    for (const line of [...thresholdLines(sinkRun.thresholds, verdicts), ...pageLines(sinkRun.pages), ...(finished ? verdictLines(finished) : [])]) say(line);
    if (sinkRun.abortedBy) say(abortLine(sinkRun.abortedBy, ABORT_OUTCOME[control]));
  }
  const samples = instances.map((i) => i.samplesPath).filter((p) => existsSync(p));
  if (samples.length > 0) {
    const { cutShort } = await writeDurationCsv(samples, join(runDir, 'http_req_duration.csv'));
    for (const file of cutShort) say(`warning: http_req_duration.csv has the samples of ${file} only up to where that file is cut short.`);
  }
  if (sink && finished) {
    // The report a marketing lead can open and forward (`report` makes it again, with a baseline).
    const series = await sink.client.series(testid).catch(() => null);
    const reportPath = join(runDir, 'report.html');
    writeFileSync(reportPath, renderReportHtml(reportData({ entry: finished, series }, null), await loadReportAssets()));
    say(`report ${reportPath}`);
  }
  say(`results in ${runDir}`);
  say(guarded ? `k6 exited with ${exitCode}; exit code ${GUARD_EXIT_CODE}: the guard stopped the run` : `k6 exited with ${exitCode}`);
  if (guarded) exitCode = GUARD_EXIT_CODE;
  return { exitCode, testid, runDir };
}

/** `--k8s`: the bundle in a ConfigMap and a k6-operator TestRun, as YAML. Nothing runs. */
export async function k8sYaml(args: RunArgs): Promise<string> {
  const script = scriptEntry(args.script);
  const testid = args.testid ?? makeTestId(args.promoName ?? script.name);
  const bundle = await scriptBundle(script, mkdtempSync(join(tmpdir(), 'promo-k8s-')));
  const { parallelism, namespace, sinkUrl } = args.k8s!;
  return k8sManifests({
    name: k8sNameFromTestId(testid, parallelism),
    namespace,
    parallelism,
    sinkUrl,
    testid,
    env: k6Environment(args, testid, args.target!),
    tags: {},
    scriptName: basename(bundle),
    script: readFileSync(bundle, 'utf8'),
    extraArgs: args.extraK6Args,
  });
}

/** What the CLI learns of the bundle's options with `k6 inspect`. */
interface InspectedOptions {
  thresholds?: RegistrationRequest['thresholds'];
  /** The most VUs the run is to reach: "stopped at 12 of 20 users". */
  plannedVus?: number;
}

interface InspectedScenario {
  vus?: number | null;
  startVUs?: number | null;
  maxVUs?: number | null;
  preAllocatedVUs?: number | null;
  stages?: Array<{ target?: number | null }> | null;
}

/** The peak VUs of k6's resolved options: the scenarios' peaks added up (they may overlap), or the top-level vus and stages. */
export function plannedVusOf(options: InspectedScenario & { scenarios?: Record<string, InspectedScenario> | null }): number | undefined {
  const peak = (s: InspectedScenario) => Math.max(0, s.vus ?? 0, s.startVUs ?? 0, s.maxVUs ?? 0, s.preAllocatedVUs ?? 0, ...(s.stages ?? []).map((st) => st.target ?? 0));
  const scenarios = Object.values(options.scenarios ?? {});
  const total = scenarios.length > 0 ? scenarios.reduce((n, s) => n + peak(s), 0) : peak(options);
  return total > 0 ? total : undefined;
}

/** options.thresholds and the planned peak of the bundle as k6 resolves them (`k6 inspect`, with the run's -e values). */
async function inspectOptions(k6: string, bundle: string, env: Record<string, string>, extraK6Args: string[], say: (line: string) => void): Promise<InspectedOptions> {
  // -e pairs given after `--` count too (they may change the thresholds).
  const extraEnv: string[] = [];
  for (let i = 0; i < extraK6Args.length; i++) if ((extraK6Args[i] === '-e' || extraK6Args[i] === '--env') && extraK6Args[i + 1]) extraEnv.push('-e', extraK6Args[++i]!);
  const args = ['inspect', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), ...extraEnv, bundle];
  const out = await new Promise<{ code: number; stdout: string }>((resolveOut) => {
    const child = spawn(k6, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', () => resolveOut({ code: -1, stdout }));
    child.on('exit', (code) => resolveOut({ code: code ?? -1, stdout }));
  });
  try {
    if (out.code !== 0) throw new Error(`k6 inspect exited with ${out.code}`);
    const options = JSON.parse(out.stdout) as { thresholds?: RegistrationRequest['thresholds'] | null } & Parameters<typeof plannedVusOf>[0];
    const plannedVus = plannedVusOf(options);
    return { ...(options.thresholds ? { thresholds: options.thresholds } : {}), ...(plannedVus !== undefined ? { plannedVus } : {}) };
  } catch (err) {
    // k6 run reports a broken script itself; without thresholds the sink only misses the merged verdicts.
    say(`note: the sink will not judge the thresholds over all instances (${(err as Error).message}).`);
    return {};
  }
}

/** Without a sink, the CLI stops k6 itself, the same way the sink would. */
async function stopDirectly(instances: Instance[]): Promise<void> {
  await Promise.all(
    instances.map((i) =>
      fetch(`http://${i.address}/v1/status`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(K6_STOP_BODY) })
        .then((r) => r.text())
        .catch(() => i.child.kill('SIGINT')),
    ),
  );
}
