// Bad input to `promo --url`: one sentence on stderr, exit 2, and no load. The target's
// own access log is the oracle: it holds discovery's few requests (a browser's
// User-Agent) and nothing from k6.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { runCli } from '../../fixtures/processes.ts';
import { freePort } from '../../cli/free-port.ts';
import { BROWSER_USER_AGENT } from '../../cli/discover/browser-fetch.ts';

const k6 = inject('k6Bin');
const log: Array<{ method: string; path: string; agent: string }> = [];
let server: Server;
let base: string;
let outDir: string;

const page = (body: string) => `<!doctype html><html><head><title>Shop</title></head><body><header><a href="/">Shop</a></header>${body}</body></html>`;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'pla-bad-input-'));
  server = createServer((req, res) => {
    log.push({ method: req.method!, path: req.url!, agent: req.headers['user-agent'] ?? '' });
    if (req.url === '/api/products/1') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1,"name":"Lamp"}');
    if (req.url === '/account') return res.writeHead(302, { location: '/accounts/login/?next=/account' }).end();
    if (req.url!.startsWith('/accounts/login/')) {
      return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page('<h1>Sign in</h1><form method="post" action="/accounts/login/"><input name="username"><input type="password" name="password"><button>Sign in</button></form>'));
    }
    if (req.url === '/about') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page('<h1>About us</h1><p>A family business since 1952.</p><a href="/contact">Contact</a>'));
    res.writeHead(404, { 'content-type': 'text/html' }).end(page('<h1>Not found</h1>'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(outDir, { recursive: true, force: true });
});

describe('bad input to promo --url', () => {
  it.each([
    { what: 'a URL that does not answer', url: async () => `http://127.0.0.1:${await freePort()}/product/1`, says: /does not answer \(connection refused\)/ },
    { what: 'a 404', url: async () => `${base}/product/404`, says: /answered 404 Not Found/ },
    { what: 'a page that is not HTML', url: async () => `${base}/api/products/1`, says: /is not an HTML page \(application\/json\)/ },
    { what: 'a login wall', url: async () => `${base}/account`, says: /is a login wall \(a password form at \/accounts\/login\/\)/ },
    { what: 'a page with no product', url: async () => `${base}/about`, says: /shows no product: give the URL of a product page\./ },
  ])('$what: one sentence, exit 2, and only discovery reached the shop', async ({ url, says }) => {
    log.length = 0;
    const res = await runCli(['promo', '--url', await url(), '--vus', '2', '--duration', '2s', '--out-dir', outDir], k6, { K6_NO_USAGE_REPORT: 'true' });
    expect(res.code, res.stdout + res.stderr).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(says);
    expect(res.stdout).not.toMatch(/^testid /m);
    expect(log.length).toBeLessThanOrEqual(2);
    for (const entry of log) expect(entry).toMatchObject({ method: 'GET', agent: BROWSER_USER_AGENT });
  });
});

describe('a target outside loopback', () => {
  it.each([
    { args: ['promo', '--url', 'http://shop.invalid/product/1'], peak: '5 VUs' },
    { args: ['ramp', '--target', 'http://shop.invalid', '--vus', '30'], peak: '30 VUs' },
  ])('needs --yes without a terminal: $args.0 stops before sending anything', async ({ args, peak }) => {
    const res = await runCli([...args, '--out-dir', outDir], k6, { K6_NO_USAGE_REPORT: 'true' });
    expect(res.code, res.stdout + res.stderr).toBe(2);
    expect(res.stderr).toBe(`shop.invalid is outside loopback: confirm the load on it (${peak} at peak) with --yes.\n`);
    expect(res.stdout).toContain(`load on shop.invalid: planned peak ${peak}`);
    expect(res.stdout).not.toContain('discovering');
  });
});
