// The status page: GET / serves the HTML; its script (page.ts, bundled by `npm run
// build` into dist/sink/status-page/page.js) is served with its stylesheet and icon from
// /status-page/. Nothing comes from a CDN: the page works offline. Every response here
// carries a strict Content-Security-Policy and the usual hardening headers.
import type { FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sinkDistDir } from '../../../contract/dist-layout.ts';

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

const escapeAttribute = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function statusPageRoutes(app: FastifyInstance, options: StatusPageOptions): Promise<void> {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });

  const grafanaUrl = options.grafanaUrl && /^https?:\/\//i.test(options.grafanaUrl) ? options.grafanaUrl : '';
  const dir = join(sinkDistDir(), 'status-page');
  const [html, css, script] = await Promise.all(['page.html', 'page.css', 'page.js'].map((file) => readFile(join(dir, file), 'utf8'))).catch((err: Error) => {
    throw new Error(`The status page is not built (${err.message}): run npm run build.`);
  });
  const page = html!.replace('{{GRAFANA_URL}}', escapeAttribute(grafanaUrl));

  app.get('/', async (_request, reply) => {
    reply.header('Cache-Control', 'no-store');
    reply.type('text/html; charset=utf-8');
    return page;
  });
  app.get('/status-page/page.js', async (_request, reply) => {
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
