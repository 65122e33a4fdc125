// Starting the sink (dist/sink/server.js, as `npm run sink` runs it) with settings it
// cannot use: one sentence on stderr and exit 2, never a stack trace. And a listener
// beyond loopback needs a token.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SINK_NODE_FLAGS, projectRoot, sinkServer } from '../../contract/dist-layout.ts';
import { ConfigError, isLoopback, parseSinkConfig } from '../../sink/config.ts';

/** Runs the built sink with `args` until it exits (or 15 s): its exit code and stderr. */
function runSink(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...SINK_NODE_FLAGS, sinkServer(), '--log-level', 'warn', ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('the sink refuses settings it cannot use, in one sentence with exit 2', () => {
  let dir: string;
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sink-startup-'));
    writeFileSync(join(dir, 'a-file'), '');
    mkdirSync(join(dir, 'a-directory'));
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => busy?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a port in use, a --data-dir that is a file, a history file that is a directory, a --spool-dir that is a file', async () => {
    const data = (name: string) => ['--data-dir', join(dir, name)];
    const results = await Promise.all([
      runSink(['--port', String(busyPort), ...data('d1')]),
      runSink(['--port', '0', '--data-dir', join(dir, 'a-file')]),
      runSink(['--port', '0', '--data-dir', join(dir, 'a-file', 'below')]),
      runSink(['--port', '0', ...data('d2'), '--history-file', join(dir, 'a-directory')]),
      runSink(['--port', '0', ...data('d3'), '--spool-dir', join(dir, 'a-file'), '--prometheus-url', 'http://127.0.0.1:9/api/v1/write']),
    ]);
    expect(results).toEqual([
      { code: 2, stderr: `Port ${busyPort} on 127.0.0.1 is in use by another process: stop it, or give the sink another --port.\n` },
      { code: 2, stderr: `--data-dir ${join(dir, 'a-file')} is a file, not a directory.\n` },
      { code: 2, stderr: `--data-dir ${join(dir, 'a-file', 'below')} cannot be used: ${join(dir, 'a-file')} is a file, not a directory.\n` },
      { code: 2, stderr: `--history-file ${join(dir, 'a-directory')} is a directory, not a file.\n` },
      { code: 2, stderr: `--spool-dir ${join(dir, 'a-file')} is a file, not a directory.\n` },
    ]);
  });
});

describe('a listener beyond loopback', () => {
  const sentence = (host: string) => `--host ${host} listens beyond this machine, so the sink needs --token (or SINK_TOKEN); add --insecure-no-token to listen without one.`;

  it('needs a token, or --insecure-no-token to insist', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'sink.example']) {
      expect(() => parseSinkConfig(['--host', host], {})).toThrow(new ConfigError(sentence(host)));
      expect(parseSinkConfig(['--host', host], { SINK_TOKEN: 'a-token-of-some-length' }).host).toBe(host);
      expect(parseSinkConfig(['--host', host, '--insecure-no-token'], {}).insecureNoToken).toBe(true);
    }
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopback(host)).toBe(true);
    expect(parseSinkConfig([], {}).host).toBe('127.0.0.1');
  });

  it("is what the Dockerfile's default command starts, so it needs SINK_TOKEN", async () => {
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(readFileSync(join(projectRoot(), 'Dockerfile'), 'utf8'))![1]!) as string[];
    const args = cmd.slice(cmd.indexOf('dist/sink/server.js') + 1);
    expect(args).toEqual(['--host', '0.0.0.0']);
    expect(() => parseSinkConfig(args, { SINK_DATA_DIR: '/var/lib/sink' })).toThrow(new ConfigError(sentence('0.0.0.0')));
    expect(parseSinkConfig(args, { SINK_DATA_DIR: '/var/lib/sink', SINK_TOKEN: 'a-token-of-some-length' }).token).toBe('a-token-of-some-length');
    expect(await runSink([...args, '--port', '0'])).toEqual({ code: 2, stderr: sentence('0.0.0.0') + '\n' });
  });
});
