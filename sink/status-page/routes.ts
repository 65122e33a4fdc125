// The status page: GET / serves the HTML; its script (page.ts) is bundled with esbuild
// once, in memory, when the plugin registers, and served with its stylesheet and icon
// from /status-page/. Nothing comes from a CDN: the page works offline. Every response
// here carries a strict Content-Security-Policy and the usual hardening headers.
import type { FastifyInstance } from 'fastify';
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const STATUS_PAGE_DIR = fileURLToPath(new URL('.', import.meta.url));

export interface StatusPageOptions {
  /** Grafana base URL: the page links to the run's dashboard when it is set. */
  grafanaUrl?: string;
}

/** Only this origin's own script, stylesheet, icon and API; no inline script, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // For browsers older than frame-ancestors.
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="8" y="1" width="16" height="30" rx="5" fill="#1b1f23"/><circle cx="16" cy="8" r="4" fill="#e53935"/><circle cx="16" cy="16" r="4" fill="#fb8c00"/><circle cx="16" cy="24" r="4" fill="#43a047"/></svg>`;

let bundling: Promise<string> | null = null;

/** page.ts and what it imports (build/compare.ts) as one minified browser script; built once per process. */
export function bundlePageScript(): Promise<string> {
  bundling ??= build({
    entryPoints: [`${STATUS_PAGE_DIR}page.ts`],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  }).then(
    (result) => result.outputFiles[0]!.text,
    (err: unknown) => {
      // Not cached: the next registration tries again.
      bundling = null;
      throw err;
    },
  );
  return bundling;
}

const escapeAttribute = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function statusPageRoutes(app: FastifyInstance, options: StatusPageOptions): Promise<void> {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });

  const grafanaUrl = options.grafanaUrl && /^https?:\/\//i.test(options.grafanaUrl) ? options.grafanaUrl : '';
  const [html, css] = await Promise.all([readFile(`${STATUS_PAGE_DIR}page.html`, 'utf8'), readFile(`${STATUS_PAGE_DIR}page.css`, 'utf8')]);
  const page = html.replace('{{GRAFANA_URL}}', escapeAttribute(grafanaUrl));
  let script: string | null = null;
  let failure = '';
  try {
    script = await bundlePageScript();
  } catch (err) {
    // The sink's real work (ingest, grades, API) goes on without its page.
    failure = (err as Error).message.split('\n')[0] ?? 'unknown error';
    app.log.error(`status page: bundling ${STATUS_PAGE_DIR}page.ts failed: ${(err as Error).message}`);
  }

  app.get('/', async (_request, reply) => {
    reply.header('Cache-Control', 'no-store');
    if (script === null) {
      reply.code(503).type('text/plain; charset=utf-8');
      return `The status page could not be built (${failure}); the sink's API works as usual.\n`;
    }
    reply.type('text/html; charset=utf-8');
    return page;
  });
  app.get('/status-page/page.js', async (_request, reply) => {
    if (script === null) return reply.code(503).type('text/plain; charset=utf-8').send('The status page could not be built.\n');
    reply.header('Cache-Control', 'no-cache').type('text/javascript; charset=utf-8');
    return script;
  });
  app.get('/status-page/page.css', async (_request, reply) => {
    reply.header('Cache-Control', 'no-cache').type('text/css; charset=utf-8');
    return css;
  });
  app.get('/status-page/favicon.svg', async (_request, reply) => {
    reply.header('Cache-Control', 'max-age=86400').type('image/svg+xml');
    return FAVICON;
  });
}
