// The sink a run reports to when no --sink is given: dist/sink/server.js in a child
// process on a free loopback port, with a token made up for this run. The CLI talks to
// it over HTTP like to any other sink (contract/sink-api.ts).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from './free-port.ts';
import { SINK_NODE_FLAGS, sinkServer } from '../contract/dist-layout.ts';

/** The sink did not start: another sink owns the data directory (it exits 3 and says which). */
export class DataDirInUse extends Error {}

export interface EmbeddedSink {
  url: string;
  token: string;
  /** SIGTERM: the sink writes what it holds and exits. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

export async function startEmbeddedSink(flags: string[]): Promise<EmbeddedSink> {
  const token = randomBytes(18).toString('hex');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...SINK_NODE_FLAGS, sinkServer(), '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn', ...flags], {
    // The token goes by environment, not argv: other local users can read a process's arguments.
    env: { ...process.env, SINK_TOKEN: token },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  let gone: number | null = null;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (gone === 3) throw new DataDirInUse(stderr.trim());
    if (gone !== null) throw new Error(`the embedded sink exited with ${gone} before it was ready: ${stderr.trim() || 'no output'}`);
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the embedded sink did not answer at ${url} within ${READY_TIMEOUT_MS / 1000} s: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    token,
    async stop() {
      if (gone !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
