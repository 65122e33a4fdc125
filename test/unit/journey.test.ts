// lib/journey.ts with k6 shimmed: the requests a step sends, the redirects it follows by
// itself (never to another host), its checks and the values it reads. The fast paths it
// takes on every iteration give what the general ones give.
import { beforeEach, describe, expect, it } from 'vitest';
import { jarCookies, requests, respondWith, type ShimResponse } from '../shims/k6-http.ts';
import { checks } from '../shims/k6.ts';
import { Journey } from '../../lib/journey.ts';
import { fromPage } from '../../lib/extract.ts';
import { resolveUrl, splitUrl } from '../../lib/urls.ts';

const BASE = 'http://127.0.0.1:8765';
const cartPage = '<form class="promo-code-form" method="post" action="/cart/code"><input type="hidden" name="csrf_token" value="T1"><input name="code"></form>';

function serve(routes: Record<string, ShimResponse>): void {
  respondWith((req) => routes[`${req.method} ${req.url}`] ?? { status: 404, headers: {}, body: '' });
}

beforeEach(() => {
  requests.length = 0;
  checks.length = 0;
  for (const name of Object.keys(jarCookies)) delete jarCookies[name];
});

describe('Journey', () => {
  it("sends a form with its token read from the page, follows the 303 back itself and checks the page it lands on, the step's name starting every check", () => {
    serve({
      [`GET ${BASE}/cart`]: { status: 200, headers: {}, body: cartPage + ' Code BF: −20 %' },
      [`POST ${BASE}/cart/code`]: { status: 303, headers: { Location: '/cart' }, body: '' },
    });
    const journey = new Journey(BASE, {});
    const cart = journey.visit('cart', '/cart', 'cart');
    const form = { form: 'action="/cart/code"', method: 'POST' as const, action: '/cart/code', fields: { csrf_token: fromPage, code: 'BF' } };
    journey.submit('apply code', cart, form, 'cart', { 'the code is accepted': 'Code BF: −20 %' });
    expect(requests.map((r) => [r.method, r.url, r.body ?? null, r.params.redirects, r.params.tags, r.params.headers])).toEqual([
      ['GET', `${BASE}/cart`, null, 0, { page_type: 'cart', step: 'cart' }, undefined],
      ['POST', `${BASE}/cart/code`, { csrf_token: 'T1', code: 'BF' }, 0, { page_type: 'cart', step: 'apply code' }, { Referer: `${BASE}/cart` }],
      ['GET', `${BASE}/cart`, null, 0, { page_type: 'cart', step: 'apply code' }, { Referer: `${BASE}/cart` }],
    ]);
    expect(checks).toEqual([
      { name: 'cart answers 200', ok: true },
      { name: 'apply code answers 200', ok: true },
      { name: 'apply code: the code is accepted', ok: true },
    ]);
    expect(journey.passed).toBe(true);
  });

  it('does not follow a redirect to another host: the step fails its check instead', () => {
    serve({ [`POST ${BASE}/api/cart/items`]: { status: 302, headers: { Location: 'https://queue.example/wait' }, body: '' } });
    const journey = new Journey(BASE, {});
    journey.call('add to cart', { method: 'POST', url: '/api/cart/items', body: '{}' }, 'cart', 200);
    expect(requests.map((r) => r.url)).toEqual([`${BASE}/api/cart/items`]);
    expect(checks).toEqual([
      { name: "add to cart stays on the shop's hosts", ok: false },
      { name: 'add to cart answers 200', ok: false },
    ]);
    expect(journey.passed).toBe(false);
  });

  it('reaches the hosts ALLOWED_HOSTS names, and refuses any other URL before sending it', () => {
    serve({ [`GET https://cart.example/basket`]: { status: 200, headers: {}, body: '' } });
    const journey = new Journey(`${BASE}/`, { ALLOWED_HOSTS: 'Cart.Example' });
    journey.visit('cart', 'https://cart.example/basket', 'cart');
    journey.visit('elsewhere', 'https://cdn.example/x.js', 'homepage');
    expect(requests.map((r) => r.url)).toEqual(['https://cart.example/basket']);
    expect(checks).toEqual([
      { name: 'cart answers 200', ok: true },
      { name: "elsewhere stays on the shop's hosts", ok: false },
    ]);
  });

  it('reads a cookie from the jar, a header or a piece of the body, and says when it is missing', () => {
    serve({ [`GET ${BASE}/product/1`]: { status: 200, headers: { 'X-Cart': 'c-9' }, body: '<meta name="csrf-token" content="M">' } });
    jarCookies.csrf_token = ['C1'];
    const journey = new Journey(BASE, {});
    const page = journey.visit('product page', '/product/1', 'product');
    expect(journey.read('add to cart', page, 'the csrf_token cookie', { cookie: 'csrf_token' })).toBe('C1');
    expect(journey.read('add to cart', page, 'the cart header', { header: 'x-cart' })).toBe('c-9');
    expect(journey.read('add to cart', page, 'the csrf-token meta', { meta: 'csrf-token' })).toBe('M');
    expect(journey.read('add to cart', page, 'the missing cookie', { cookie: 'nope' })).toBe('');
    expect(checks.slice(1).map((c) => `${c.name}: ${c.ok}`)).toEqual([
      'add to cart: the csrf_token cookie is found: true',
      'add to cart: the cart header is found: true',
      'add to cart: the csrf-token meta is found: true',
      'add to cart: the missing cookie is found: false',
    ]);
  });

  it('asks k6 to keep no body of a page or an answer nothing reads after its status, down its redirects too, and still checks the status', () => {
    serve({
      [`GET ${BASE}/`]: { status: 200, headers: {}, body: '<html>home</html>' },
      [`GET ${BASE}/cart`]: { status: 200, headers: {}, body: cartPage },
      [`POST ${BASE}/api/cart/items`]: { status: 200, headers: {}, body: '{"ok":true}' },
      [`POST ${BASE}/cart/code`]: { status: 303, headers: { Location: '/cart' }, body: '' },
    });
    const journey = new Journey(BASE, {});
    const home = journey.visitUnread('homepage', '/', 'homepage');
    journey.call('add to cart', { method: 'POST', url: '/api/cart/items', body: '{}', keepBody: false }, 'cart', 200);
    const cart = journey.visit('cart', '/cart', 'cart');
    const form = { form: 'action="/cart/code"', method: 'POST' as const, action: '/cart/code', fields: { csrf_token: fromPage, code: 'BF' }, keepBody: false };
    journey.submit('apply code', cart, form, 'cart');
    expect(requests.map((r) => `${r.method} ${r.url} ${r.params.responseType ?? 'text'}`)).toEqual([
      `GET ${BASE}/ none`,
      `POST ${BASE}/api/cart/items none`,
      `GET ${BASE}/cart text`,
      `POST ${BASE}/cart/code none`,
      `GET ${BASE}/cart none`,
    ]);
    expect(home?.body).toBeNull();
    expect(checks.map((c) => `${c.name}: ${c.ok}`)).toEqual(['homepage answers 200: true', 'add to cart answers 200: true', 'cart answers 200: true', 'apply code answers 200: true']);
  });

  it('checks each expectation against the page of its own step, with check sets made once per step', () => {
    serve({
      [`GET ${BASE}/a`]: { status: 200, headers: {}, body: 'alpha' },
      [`GET ${BASE}/b`]: { status: 200, headers: {}, body: 'beta' },
    });
    const journey = new Journey(BASE, {});
    const wantsAlpha = { 'shows alpha': 'alpha' };
    for (let i = 0; i < 3; i++) {
      journey.visit('a', '/a', 'product', wantsAlpha);
      journey.visit('b', '/b', 'product', wantsAlpha);
    }
    // A step checked with a different status or other expectations gets its own set.
    journey.visit('a', '/b', 'product', { 'shows beta': 'beta' });
    expect(checks.map((c) => `${c.name}: ${c.ok}`)).toEqual([
      ...Array.from({ length: 3 }, () => ['a answers 200: true', 'a: shows alpha: true', 'b answers 200: true', 'b: shows alpha: false']).flat(),
      'a answers 200: true',
      'a: shows beta: true',
    ]);
  });

  it("resolves a path against a page of the shop as resolveUrl does, with or without its fast path", () => {
    const journey = new Journey(BASE, {});
    const other = new Journey('http://Shop.Example:8080/fr', {}); // a base with a path: no fast path
    for (const [from, ref] of [
      [`${BASE}/cart`, '/cart/code'],
      [`${BASE}/fr/catalogue/p_1/`, '../basket/'],
      [`${BASE}/a?x=1`, '?page=2'],
      [`${BASE}/a`, '//cdn.example/x.js'],
      ['http://other.example/a', '/b'],
      [`${BASE.toUpperCase()}/a`, '/b'],
    ] as const) {
      expect(journey.resolve(from, ref)).toBe(resolveUrl(from, ref));
      expect(other.resolve(from, ref)).toBe(resolveUrl(from, ref));
    }
    expect(journey.url('/cart')).toBe(`${BASE}/cart`);
    expect(journey.url(`${BASE}/cart`)).toBe(`${BASE}/cart`);
    expect(journey.url('cart')).toBe(`${BASE}/cart`);
    expect(journey.allows(`${BASE}/cart`)).toBe(true);
    expect(journey.allows('http://127.0.0.1:87650/cart')).toBe(false);
    expect(journey.allows('http://127.0.0.1:8765')).toBe(true);
  });
});

describe('splitUrl', () => {
  // What it gave as one regular expression, before it was written with indexOf for k6's runtime.
  const byRegex = (url: string) => {
    const m = /^(https?):\/\/([^/?#]+)(.*)$/i.exec(url);
    return m ? { origin: `${m[1]!.toLowerCase()}://${m[2]!.toLowerCase()}`, host: m[2]!.toLowerCase(), path: m[3] || '/' } : null;
  };

  it.each([
    'http://127.0.0.1:8765/fr/basket/?x=1', 'HTTPS://Shop.Example/A', 'http://h', 'http://h?x=1', 'http://h#top', 'http://h/a#b?c',
    'http://h:80/a/b', 'http:///path', 'ftp://h/a', 'h/a', '/a', '', 'https://h/a\nb', 'http://user@h/a', 'httpx://h/', 'http:/h/a',
  ])('splits %j as the regular expression did', (url) => {
    expect(splitUrl(url)).toEqual(byRegex(url));
  });
});
