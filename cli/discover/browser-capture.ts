// Storefronts driven by script: the add-to-cart button posts no form, the page's script
// sends a JSON request. Discovery drives the page once in headless Chromium, clicks the
// button, captures what the page sends (method, URL, body, headers), and finds where each
// identifier in it came from (a meta tag, an input, an earlier JSON answer, a cookie), so
// that k6 reads them again from each response. Requests to other hosts are blocked.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Extract } from '../../lib/extract.ts';
import { BrowserFetch, BROWSER_USER_AGENT, DiscoveryError, type FetchedPage } from './browser-fetch.ts';
import { replay, withQuantity, type Body, type JourneyStep, type Read, type Value } from './steps.ts';

export const CHROMIUM_FLAGS = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const ADD_TO_CART_BUTTON = /add to (cart|basket|bag)|ajouter au (panier|caddie)|in den warenkorb|in winkelwagen|aggiungi al carrello|añadir al carrito|adicionar ao carrinho/i;
const SETTLE_MS = 5_000;
const QUANTITY_KEY = /^(qty|quantity|quantite|menge)$/i;
/** Request headers the browser adds by itself: k6 sends its own. */
const BROWSER_HEADERS = /^(host|connection|content-length|cookie|user-agent|accept-encoding|accept-language|referer|origin|sec-.*|priority|upgrade-insecure-requests|pragma|cache-control|dnt)$/i;

export function chromiumPath(): string | null {
  for (const path of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (path && existsSync(path)) return path;
  const found = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

interface Seen {
  method: string;
  url: string;
  resourceType: string;
  headers: Record<string, string>;
  postData: string | null;
  status: number | null;
  responseHeaders: Record<string, string>;
  responseBody: string | null;
}

export interface ScriptCart {
  addStep: JourneyStep;
  probe: (quantity: number) => Promise<{ cart: FetchedPage; empty: FetchedPage | null; client: BrowserFetch; failure: string | null }>;
  evidence: string[];
  log: string[];
}

/** Where `value` sits in a response: the extraction that finds it again, or null. */
export function locate(value: string, body: string, headers: Record<string, string>): Extract | null {
  if (!body.includes(value)) {
    for (const [name, v] of Object.entries(headers)) if (v === value && !/^set-cookie$/i.test(name)) return { header: name };
    return null;
  }
  try {
    const path = jsonPath(JSON.parse(body), value, []);
    if (path !== null) return { json: path };
  } catch {
    // Not JSON: HTML or text.
  }
  const at = body.indexOf(value);
  const tagStart = body.lastIndexOf('<', at);
  const tagEnd = body.indexOf('>', at);
  const tag = body.slice(tagStart, tagEnd + 1);
  const name = /\s(?:name|property)\s*=\s*["']([^"']+)["']/i.exec(tag)?.[1];
  if (/^<meta\b/i.test(tag) && name) return { meta: name };
  if (/^<input\b/i.test(tag) && name) return { input: name };
  // Boundaries: what stands just before and after it, as k6 Studio's correlation rules do.
  const left = body.slice(Math.max(0, at - 24), at).replace(/^[^\n]*\n/, '');
  const right = body.slice(at + value.length, at + value.length + 1);
  return left.length >= 4 && right ? { between: [left, right] } : null;
}

function jsonPath(node: unknown, value: string, path: string[]): string | null {
  if (node === null || node === undefined) return null;
  if (typeof node !== 'object') return String(node) === value ? path.join('.') : null;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    const found = jsonPath(v, value, [...path, k]);
    if (found !== null) return found;
  }
  return null;
}

/** Values worth reading again each time: tokens and ids, not `1` or `true`. */
function variableLooking(value: string): boolean {
  return value.length >= 6 && /\d/.test(value) && /^[\w.:~+/=-]+$/.test(value) && !/^\d{1,4}$/.test(value);
}

function variableName(what: string, taken: Set<string>): string {
  const base = what.replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : '')).replace(/^[A-Z0-9]/, (c) => (/\d/.test(c) ? `v${c}` : c.toLowerCase())) || 'value';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
  taken.add(name);
  return name;
}

/**
 * Where Chromium's own traffic goes: a proxy on loopback that drops every connection.
 * The page's requests to other hosts are refused by the route below, but the browser
 * also calls home by itself (update checks, sign-in, autofill) whatever its flags say;
 * with this as its proxy, bypassed only for the shop's hosts, none of it leaves.
 */
async function blackHole(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Everything through `proxy` but the shop's own hosts. `<-loopback>` comes first: it sends
 * loopback through the proxy too (other local services are other hosts), and Chromium
 * applies it to the rules before it, so the shop's host:port after it stays direct.
 * (Playwright's own proxy option puts it last, which sends the shop to the proxy too.)
 */
export function proxyFlags(proxy: string, allowedHosts: readonly string[]): string[] {
  return [`--proxy-server=${proxy}`, `--proxy-bypass-list=${['<-loopback>', ...allowedHosts].join(';')}`];
}

export async function captureScriptCart(args: {
  productUrl: string;
  cartUrl: string | null;
  allowedHosts: readonly string[];
  productStep: JourneyStep;
  origin: string;
  say: (line: string) => void;
}): Promise<ScriptCart> {
  const executable = chromiumPath();
  if (!executable) throw new DiscoveryError(`${args.productUrl} adds to the cart through its script, which discovery reads in Chromium: install the Debian package chromium (apt-get install chromium).`);
  const { chromium } = await import('playwright-core');
  const nowhere = await blackHole();
  const browser = await chromium.launch({ executablePath: executable, args: [...CHROMIUM_FLAGS, ...proxyFlags(nowhere.url, args.allowedHosts)], headless: true }).catch(async (err: unknown) => {
    await nowhere.close();
    throw err;
  });
  const log: string[] = [];
  const blocked = new Set<string>();
  const seen: Seen[] = [];
  let cartUrl = args.cartUrl;
  try {
    const context = await browser.newContext({ userAgent: BROWSER_USER_AGENT, serviceWorkers: 'block' });
    // Nothing leaves the shop's hosts: CDNs, analytics and payment scripts are refused, not fetched.
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if ((url.protocol === 'http:' || url.protocol === 'https:') && !args.allowedHosts.includes(url.host.toLowerCase())) {
        blocked.add(url.host);
        return route.abort('blockedbyclient');
      }
      return route.continue();
    });
    const page = await context.newPage();
    page.on('requestfinished', async (request) => {
      const type = request.resourceType();
      if (!['xhr', 'fetch', 'document'].includes(type)) return;
      const response = await request.response();
      const entry: Seen = { method: request.method(), url: request.url(), resourceType: type, headers: await request.allHeaders(), postData: request.postData(), status: response?.status() ?? null, responseHeaders: response ? await response.allHeaders() : {}, responseBody: null };
      seen.push(entry);
      log.push(`${entry.method} ${entry.url} ${entry.status ?? ''} (Chromium, ${type})`);
      entry.responseBody = response ? await response.text().catch(() => null) : null;
    });
    await page.goto(args.productUrl, { waitUntil: 'load', timeout: 20_000 });
    await page.waitForLoadState('networkidle', { timeout: SETTLE_MS }).catch(() => {});
    const mark = seen.length;
    const button = page.getByRole('button', { name: ADD_TO_CART_BUTTON }).or(page.locator('[data-add-to-cart], button[name="add"], .add-to-cart, #add-to-cart, [data-action="add-to-cart"]')).first();
    if ((await button.count()) === 0) throw new DiscoveryError(`${args.productUrl} shows no add-to-cart button that discovery recognises, in its HTML or once its script ran.`);
    const label = ((await button.textContent()) ?? '').replace(/\s+/g, ' ').trim();
    await button.click({ timeout: 5_000 });
    await page.waitForLoadState('networkidle', { timeout: SETTLE_MS }).catch(() => {});
    await page.waitForTimeout(300);
    if (!cartUrl) {
      const href = await page.locator('a[href*="cart" i], a[href*="basket" i], a[href*="panier" i]').first().getAttribute('href').catch(() => null);
      cartUrl = href ? new URL(href, args.productUrl).href : null;
    }
    const sent = seen.slice(mark).filter((s) => s.method !== 'GET' && new URL(s.url).host === new URL(args.productUrl).host);
    if (sent.length === 0) throw new DiscoveryError(`Clicking "${label}" on ${args.productUrl} sent no request to the shop: discovery cannot see how it adds to the cart.`);
    const call = sent[0]!;
    const earlier = seen.slice(0, seen.indexOf(call)).filter((s) => s.responseBody !== null);
    const cookies = await context.cookies(call.url);
    const taken = new Set(['home', 'category', 'product', 'added', 'cart', 'applied', 'journey', 'setup']);
    const reads: Read[] = [];
    // Each identifier the request carries, read again from where the page got it.
    const resolveValue = (value: string, what: string): Value => {
      if (!variableLooking(value)) return value;
      for (const source of [...earlier].reverse()) {
        const how = locate(value, source.responseBody!, source.responseHeaders);
        if (!how) continue;
        const from = source.url === args.productUrl || (source.resourceType === 'document' && source.method === 'GET') ? 'product page' : null;
        if (!from) continue;
        const variable = variableName(what, taken);
        reads.push({ variable, from, what, how });
        return { variable };
      }
      const cookie = cookies.find((c) => c.value === value);
      if (cookie) {
        const variable = variableName(`${cookie.name} cookie`, taken);
        reads.push({ variable, from: 'product page', what: `the ${cookie.name} cookie`, how: { cookie: cookie.name } });
        return { variable };
      }
      return value;
    };
    const headers: Record<string, Value> = {};
    for (const [k, v] of Object.entries(call.headers)) {
      if (BROWSER_HEADERS.test(k) || k.startsWith(':')) continue;
      const name = k.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
      headers[name] = resolveValue(v, `the ${name} header`);
    }
    const contentType = call.headers['content-type'] ?? '';
    let body: Body = null;
    let quantityKey: string | null = null;
    if (call.postData !== null) {
      if (/json/i.test(contentType)) {
        const walk = (node: unknown, path: string): unknown => {
          if (Array.isArray(node)) return node.map((n, i) => walk(n, `${path}.${i}`));
          if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => {
            if (QUANTITY_KEY.test(k) && (typeof v === 'number' || /^\d+$/.test(String(v)))) quantityKey = k;
            return [k, walk(v, k)];
          }));
          return typeof node === 'string' ? resolveValue(node, `the ${path.replace(/^\./, '')} field`) : node;
        };
        body = { json: walk(JSON.parse(call.postData), '') };
      } else if (/x-www-form-urlencoded/i.test(contentType)) {
        const form: Record<string, Value> = {};
        for (const [k, v] of new URLSearchParams(call.postData)) form[k] = resolveValue(v, `the ${k} field`);
        body = { form };
      } else body = { text: call.postData };
    }
    const url = new URL(call.url);
    const urlParts: Value[] = [];
    for (const piece of (url.pathname + url.search).split(/(?=[/?&=])/)) {
      const m = /^([/?&=])(.*)$/.exec(piece);
      if (m && variableLooking(decodeURIComponent(m[2]!))) {
        urlParts.push(m[1]!, resolveValue(decodeURIComponent(m[2]!), 'the id in the URL'));
      } else urlParts.push(piece);
    }
    const merged: Value[] = [];
    for (const part of urlParts) {
      const last = merged[merged.length - 1];
      if (typeof part === 'string' && typeof last === 'string') merged[merged.length - 1] = last + part;
      else merged.push(part);
    }
    const make = (quantity: number): JourneyStep => ({
      kind: 'call',
      name: 'add to cart',
      variable: 'added',
      pageType: 'cart',
      reads,
      method: call.method,
      url: merged,
      headers,
      body: quantityKey && body && 'json' in body ? { json: withQuantity(body.json, quantityKey, quantity) } : body,
      status: call.status ?? 200,
      quantityKey,
      repeat: quantityKey ? 1 : quantity,
      expect: {},
      evidence: [
        `clicking "${label}" in Chromium sent ${call.method} ${url.pathname}${contentType ? ` (${contentType.split(';')[0]})` : ''}, answered ${call.status}`,
        ...reads.map((r) => `${r.what} is read from the ${r.from} each time (${JSON.stringify(r.how)})`),
        ...(blocked.size ? [`requests to ${[...blocked].sort().join(', ')} were blocked: other hosts are never loaded`] : []),
      ],
    });
    const addStep = make(1);
    const finalCart = cartUrl;
    const probe = async (quantity: number) => {
      const c = new BrowserFetch(args.allowedHosts);
      const empty = finalCart ? await c.get(finalCart).catch(() => null) : null;
      const r = await replay([args.productStep, make(quantity)], c, args.origin);
      if (!finalCart) throw new DiscoveryError(`${args.productUrl} has no link to a cart page: discovery cannot find where the cart is.`);
      const cart = await c.get(finalCart);
      log.push(...c.log);
      return { cart, empty, client: c, failure: r.failure };
    };
    const check = await probe(1);
    if (check.failure) throw new DiscoveryError(`The add-to-cart request captured in Chromium does not work when replayed: ${check.failure}`);
    return { addStep, probe, evidence: addStep.evidence, log };
  } finally {
    await browser.close();
    await nowhere.close();
  }
}
