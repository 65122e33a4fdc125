// Discovery's HTTP client: fetches pages as a browser would (a browser User-Agent and
// Accept headers, a cookie jar, redirects followed one by one), and refuses any host the
// run may not reach. It never fetches assets: only the pages and forms of the journey.
import { CliError } from '../args.ts';

export const BROWSER_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 promo-load-analyzer-discover';
const PAGE_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const MAX_REDIRECTS = 10;
const TIMEOUT_MS = 15_000;
/** Pages larger than this are cut: no storefront page needs more to be read. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface FetchedPage {
  /** The URL asked for. */
  url: string;
  /** The URL answered, after redirects. */
  finalUrl: string;
  status: number;
  /** Every hop: `302 /fr/ → /fr/catalogue/`. */
  redirects: Array<{ status: number; from: string; to: string }>;
  contentType: string;
  body: string;
  headers: Headers;
}

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
}

/** Discovery stopped on purpose: one sentence for the user, exit 2. */
export class DiscoveryError extends CliError {}

export class BrowserFetch {
  private jar: Cookie[] = [];
  /** Every request discovery sent, in order: `GET http://…/fr/ 302`. */
  readonly log: string[] = [];

  constructor(readonly allowedHosts: readonly string[]) {}

  /** A client with the same allowed hosts and an empty cookie jar: a second visitor. */
  fresh(): BrowserFetch {
    return new BrowserFetch(this.allowedHosts);
  }

  allows(url: string): boolean {
    try {
      return this.allowedHosts.includes(new URL(url).host.toLowerCase());
    } catch {
      return false;
    }
  }

  cookieHeader(url: URL): string {
    return this.jar
      .filter((c) => c.host === url.host && url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** The cookies the next request to `url` sends, by name. */
  cookies(url: string): Record<string, string> {
    const u = new URL(url);
    return Object.fromEntries(this.jar.filter((c) => c.host === u.host && u.pathname.startsWith(c.path)).map((c) => [c.name, c.value]));
  }

  private store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq <= 0) continue;
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      let path = '/';
      let expired = value === '';
      for (const attr of attributes) {
        const [key, val = ''] = attr.split('=');
        const k = key!.trim().toLowerCase();
        if (k === 'path' && val.trim().startsWith('/')) path = val.trim();
        if (k === 'max-age' && Number(val) <= 0) expired = true;
        if (k === 'expires' && Date.parse(val) < Date.now()) expired = true;
      }
      this.jar = this.jar.filter((c) => !(c.name === name && c.host === url.host && c.path === path));
      if (!expired) this.jar.push({ name, value, host: url.host, path });
    }
  }

  /** One request and its redirects; a redirect to a host the run may not reach stops discovery. */
  async request(method: string, url: string, init: { body?: string; contentType?: string; referer?: string; headers?: Record<string, string> } = {}): Promise<FetchedPage> {
    let current = new URL(url);
    let currentMethod = method;
    let body = init.body;
    const redirects: FetchedPage['redirects'] = [];
    for (let hop = 0; ; hop++) {
      if (!this.allows(current.href)) {
        throw new DiscoveryError(`${url} leads to ${current.host}, another host than the shop's: discovery and the load stay on ${this.allowedHosts.join(', ')} (name others with --allow-host).`);
      }
      const headers: Record<string, string> = { 'User-Agent': BROWSER_USER_AGENT, Accept: PAGE_ACCEPT, 'Accept-Language': 'fr,en;q=0.8', ...(init.headers ?? {}) };
      const cookie = this.cookieHeader(current);
      if (cookie) headers.Cookie = cookie;
      if (init.referer) headers.Referer = init.referer;
      if (body !== undefined) headers['Content-Type'] = init.contentType ?? 'application/x-www-form-urlencoded';
      let res: Response;
      try {
        res = await fetch(current, { method: currentMethod, headers, body, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
        this.log.push(`${currentMethod} ${current.href} (no answer)`);
        const why = cause === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : cause === 'ECONNREFUSED' ? 'connection refused' : cause === 'ENOTFOUND' ? 'the name does not resolve' : String(cause);
        throw new DiscoveryError(`${current.href} does not answer (${why}): check the URL and that the shop is running.`);
      }
      this.log.push(`${currentMethod} ${current.href} ${res.status}`);
      this.store(current, res.headers);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        if (hop >= MAX_REDIRECTS) throw new DiscoveryError(`${url} redirects more than ${MAX_REDIRECTS} times: discovery stops there.`);
        const next = new URL(location, current);
        redirects.push({ status: res.status, from: current.href, to: next.href });
        if (!(res.status === 307 || res.status === 308)) {
          currentMethod = 'GET';
          body = undefined;
        }
        current = next;
        continue;
      }
      const text = await readCapped(res);
      return { url, finalUrl: current.href, status: res.status, redirects, contentType: res.headers.get('content-type') ?? '', body: text, headers: res.headers };
    }
  }

  get(url: string, referer?: string): Promise<FetchedPage> {
    return this.request('GET', url, { referer });
  }
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Loopback addresses: the only targets that need no confirmation. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::1';
}
