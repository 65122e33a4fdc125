import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { distDir } from '../../contract/dist-layout.ts';
import { describe, expect, it } from 'vitest';

// The demo shop as `npm run demo` runs it: the build's dist/demo/server.js.
const serverScript = join(distDir(), 'demo', 'server.js');

function startServer(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [serverScript, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('the demo shop server (dist/demo/server.js)', () => {
  it('exits with code 2 and one sentence on stderr for a bad value', async () => {
    for (const [args, env, sentence] of [
      [['--port', 'abc'], {}, '--port must be a number, got "abc".'],
      [[], { DEMO_SERVICE_TIME_MS: '-5' }, 'serviceTimeMs must be a number from 0 to 60000, got -5.'],
    ] as const) {
      const server = startServer([...args], env);
      expect(await server.exited).toBe(2);
      expect(server.output().stderr).toBe(`${sentence}\n`);
    }
  });

  it('listens where told and takes its settings from the flags and the environment', async () => {
    const server = startServer(['--port', '0', '--host', '127.0.0.1', '--max-carts', '1'], { DEMO_CACHE_TTL_S: '0' });
    try {
      while (!server.output().stdout.includes('\n')) await new Promise((resolve) => setTimeout(resolve, 20));
      const url = /http:\/\/\S+/.exec(server.output().stdout)![0];
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const page = await fetch(`${url}/product/1`);
      expect(page.headers.get('cache-control')).toBe('public, max-age=0, stale-while-revalidate=30');
      // --max-carts 1: a second visitor's cart pushes the first one out.
      for (let visitor = 0; visitor < 2; visitor++) {
        const cookies = (await fetch(`${url}/`)).headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
        const token = cookies.find((cookie) => cookie.startsWith('csrf_token='))!.slice('csrf_token='.length);
        const added = await fetch(`${url}/api/cart/items`, {
          method: 'POST',
          headers: { cookie: cookies.join('; '), 'content-type': 'application/json', 'x-csrf-token': token },
          body: JSON.stringify({ productId: 3, qty: 1 }),
        });
        expect(added.status).toBe(200);
      }
      expect(await (await fetch(`${url}/__admin/carts`)).json()).toMatchObject({ carts: 1, evicted: 1 });
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  });
});
