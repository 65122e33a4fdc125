// A real InfluxDB 1.x (Debian's `influxd`) on loopback, with its own temporary
// meta/data/wal directories and no auth, for integration tests of the line
// protocol the sink writes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../../cli/free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const INFLUXD = '/usr/bin/influxd';

export interface InfluxDB {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** GET /query with `q` (and `db`); resolves to the parsed JSON, throws on a non-2xx status. */
  query(q: string, db?: string): Promise<any>;
  /** POST /write?db=…&precision=… (default ms) with the lines as the body; the raw Response. */
  write(lines: string, db: string, precision?: string): Promise<Response>;
  /** The last few KiB of influxd's stdout and stderr. */
  output(): string;
  /** SIGTERM, SIGKILL after 10 s, then delete the directories. Idempotent. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function config(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  log-queries-after = "0s"

[retention]
  enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false
  log-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  write-tracing = false
  pprof-enabled = false
  flux-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`;
}

/** Start influxd and wait until GET /ping answers 204. */
export async function startInfluxDB(options: { readyTimeoutMs?: number } = {}): Promise<InfluxDB> {
  const dir = mkdtempSync(join(tmpdir(), 'influxdb-test-'));
  let httpPort: number;
  let rpcPort: number;
  try {
    httpPort = await freePort();
    do rpcPort = await freePort();
    while (rpcPort === httpPort);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const confPath = join(dir, 'influxdb.conf');
  writeFileSync(confPath, config(dir, httpPort, rpcPort));
  const url = `http://127.0.0.1:${httpPort}`;

  const child = spawn(INFLUXD, ['run', '-config', confPath], {
    cwd: dir,
    env: { ...process.env, HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 16384) output = output.slice(-8192);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited: string | null = null;
  const exit = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      exited = `exited with code ${code}, signal ${signal}`;
      done();
    });
    child.once('error', (err) => {
      exited = `could not start: ${err.message}`;
      done();
    });
  });
  // Never leave influxd behind if the test process exits first.
  const onExit = () => {
    if (exited === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (exited === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (exited === null) child.kill('SIGKILL');
        }, 10_000);
        await exit;
        clearTimeout(timer);
      }
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    })());

  const query = async (q: string, db?: string): Promise<any> => {
    const params = new URLSearchParams({ q });
    if (db !== undefined) params.set('db', db);
    const res = await fetch(`${url}/query?${params}`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`InfluxDB query ${JSON.stringify(q)} failed with HTTP ${res.status}: ${text}`);
    return JSON.parse(text);
  };
  const write = (lines: string, db: string, precision = 'ms'): Promise<Response> =>
    fetch(`${url}/write?${new URLSearchParams({ db, precision })}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: lines,
      signal: AbortSignal.timeout(30_000),
    });

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exited !== null) throw new Error(`influxd ${exited} before it was ready:\n${output.slice(-8192)}`);
      try {
        const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 204) break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`influxd did not answer ${url}/ping within the time limit:\n${output.slice(-8192)}`);
      await Promise.race([sleep(100), exit]);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, query, write, output: () => output.slice(-8192), stop };
}
