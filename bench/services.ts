/**
 * Reference servers for benches (and, later, tests): Prometheus, VictoriaMetrics,
 * vmagent and the sink itself as child processes, each on a free loopback port
 * with its own temporary data directory.
 *
 * Every start*() waits until the server answers its readiness endpoint and
 * returns a Service; stop() sends SIGTERM, then SIGKILL after a timeout, and
 * deletes the data directory. Children still alive when this process exits are
 * killed and their directories deleted, so an error or Ctrl-C leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../cli/free-port.ts';
import { SINK_NODE_FLAGS, sinkServer } from '../contract/dist-layout.ts';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface Service {
  name: string;
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** Where remote-write 1.0 bodies go. */
  writeUrl: string;
  pid: number;
  /** The temporary data directory, deleted by stop(). */
  dataDir: string;
  /** The last few KiB of the child's stdout and stderr. */
  output(): string;
  /** SIGTERM, SIGKILL after `timeoutMs` (default 10 s), then delete dataDir. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Listen on this port instead of a free one (to restart a service where it was). */
  port?: number;
  /** Keep the data directory when stopping (to restart a service with its data). */
  keepData?: boolean;
  /** Extra command-line arguments. */
  args?: string[];
  /** How long to wait for readiness. Default 30 s. */
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export { freePort };

// Children alive right now: killed (and their directories removed) if this process exits first.
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [child, dir] of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
  // Without these handlers a signal would end the process without running 'exit' hooks.
  // Only when nobody else handles them (a test runner may).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    if (process.listenerCount(signal) === 0) process.once(signal, () => process.exit(130));
  }
}

const OUTPUT_KEEP = 8192;

/** Spawns `cmd`, waits until `readyPath` answers 200, and returns the Service. */
export async function startService(
  name: string,
  cmd: string,
  args: (port: number, dataDir: string) => string[],
  options: StartOptions & { readyPath: string; writePath?: string; dataDir?: string; cwd?: string },
): Promise<Service> {
  installExitHook();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), `bench-${name}-`));
  let port: number;
  try {
    port = options.port ?? (await freePort());
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(cmd, [...args(port, dataDir), ...(options.args ?? [])], {
    cwd: options.cwd ?? dataDir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.set(child, dataDir);
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2 * OUTPUT_KEEP) output = output.slice(-OUTPUT_KEEP);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  const exitPromise = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      done();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited ??= { code: null, signal: null };
      done();
    });
  });

  let stopping: Promise<void> | null = null;
  const stop = (timeoutMs = 10_000): Promise<void> =>
    (stopping ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exitPromise;
        clearTimeout(timer);
      }
      live.delete(child);
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    })());

  const service: Service = {
    name,
    url,
    writeUrl: url + (options.writePath ?? '/api/v1/write'),
    pid: child.pid ?? -1,
    dataDir,
    output: () => output.slice(-OUTPUT_KEEP),
    stop,
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (spawnError) throw new Error(`${name}: could not start ${cmd}: ${(spawnError as Error).message}`);
      if (exited) {
        const e = exited as { code: number | null; signal: NodeJS.Signals | null };
        throw new Error(`${name} exited (code ${e.code}, signal ${e.signal}) before it was ready:\n${service.output()}`);
      }
      if (await answers(url + options.readyPath)) return service;
      if (Date.now() > deadline) throw new Error(`${name} was not ready at ${url}${options.readyPath} within ${options.readyTimeoutMs ?? 30_000} ms:\n${service.output()}`);
      await Promise.race([sleep(100), exitPromise]);
    }
  } catch (err) {
    await stop(2000);
    throw err;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Prometheus (2.42 from Debian) as a remote-write receiver with native histograms, no scrapes. */
export function startPrometheus(options: StartOptions & { bin?: string; dataDir?: string } = {}): Promise<Service> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'bench-prometheus-'));
  const configFile = join(dataDir, 'prometheus.yml');
  writeFileSync(configFile, 'global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\nscrape_configs: []\n');
  return startService(
    'prometheus',
    options.bin ?? 'prometheus',
    (port, dir) => [
      '--web.enable-remote-write-receiver',
      '--enable-feature=native-histograms',
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--config.file=${configFile}`,
      '--log.level=warn',
    ],
    { ...options, dataDir, readyPath: '/-/ready', writePath: '/api/v1/write' },
  );
}

/** Single-node VictoriaMetrics; remote write at /api/v1/write. */
export function startVictoriaMetrics(options: StartOptions & { bin?: string } = {}): Promise<Service> {
  return startService(
    'victoria-metrics',
    options.bin ?? 'victoria-metrics',
    (port, dir) => [`-storageDataPath=${join(dir, 'data')}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=WARN'],
    { ...options, readyPath: '/health', writePath: '/api/v1/write' },
  );
}

/** vmagent forwarding whatever it receives at /api/v1/write to `remoteWriteUrl`. */
export function startVmagent(remoteWriteUrl: string, options: StartOptions & { bin?: string } = {}): Promise<Service> {
  return startService(
    'vmagent',
    options.bin ?? 'vmagent',
    (port, dir) => [
      `-remoteWrite.url=${remoteWriteUrl}`,
      `-remoteWrite.tmpDataPath=${join(dir, 'queue')}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-loggerLevel=WARN',
    ],
    { ...options, readyPath: '/health', writePath: '/api/v1/write' },
  );
}

/**
 * The sink in its own Node process, started the way `npm run sink` starts it (`node
 * [its flags] dist/sink/server.js`), so a load generator does not share its event
 * loop. `nodeArgs` go before the script (e.g. --cpu-prof), after the flags of `npm run
 * sink`; `args` after it (sink flags such as --max-series).
 */
export function startSinkProcess(options: StartOptions & { nodeArgs?: string[]; logLevel?: string } = {}): Promise<Service> {
  return startService(
    'sink',
    process.execPath,
    (port) => [
      ...SINK_NODE_FLAGS,
      ...(options.nodeArgs ?? []),
      sinkServer(),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-level',
      options.logLevel ?? 'warn',
    ],
    // Its working directory is its own temporary one: the sink keeps its data directory (./data) there.
    { ...options, readyPath: '/-/ready', writePath: '/api/v1/write' },
  );
}

/** Resident and peak resident memory of a process, in bytes, from /proc/<pid>/status (Linux). */
export function processMemory(pid: number): { rssBytes: number; hwmBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const m = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
}

/** User + system CPU time a process has used so far, in seconds, from /proc/<pid>/stat (Linux). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** GET <url>/metrics as text. */
export async function scrape(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

/**
 * Sum of the samples of metric `name` in Prometheus text exposition, over the
 * series whose labels contain every `match` pair; null when there is none.
 */
export function metricSum(text: string, name: string, match: Record<string, string> = {}): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const labels = rest[0] === '{' ? rest.slice(1, rest.indexOf('}')) : '';
    if (!Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) continue;
    const value = Number(rest.slice(rest[0] === '{' ? rest.indexOf('}') + 1 : 0).trim().split(' ')[0]);
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}
