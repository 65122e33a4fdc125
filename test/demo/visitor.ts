// One visitor of the demo shop through app.inject(): a cookie jar, and the CSRF token
// taken where the shop's own pages take it (the csrf_token cookie for the page's
// script, the hidden field for the cart page's form).
import type { InjectOptions } from 'fastify';
import type { DemoApp } from '../../demo/app.ts';

type Headers = Record<string, string>;

export function visitor(app: DemoApp) {
  const jar = new Map<string, string>();

  function remember(setCookie: string | string[] | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      const [pair, ...attributes] = line.split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (attributes.some((attribute) => attribute.trim().toLowerCase() === 'max-age=0')) jar.delete(name);
      else jar.set(name, value);
    }
  }

  async function request(options: InjectOptions & { headers?: Headers }) {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = await app.inject({ ...options, headers: { ...(cookie ? { cookie } : {}), ...options.headers } });
    remember(res.headers['set-cookie']);
    return res;
  }

  const get = (url: string, headers: Headers = {}) => request({ method: 'GET', url, headers });

  /** A JSON write as the product page's script sends it: the csrf_token cookie in X-CSRF-Token. */
  const postJson = (url: string, payload: unknown, headers: Headers = {}) =>
    request({ method: 'POST', url, payload: payload as object, headers: { 'x-csrf-token': jar.get('csrf_token') ?? '', ...headers } });

  /**
   * The cart page's code form, filled in and sent as a browser does: its hidden
   * token, form-urlencoded. `token` replaces the hidden field's value; null leaves the field out.
   */
  async function sendCodeForm(code: string, { token, headers = {} }: { token?: string | null; headers?: Headers } = {}) {
    const cartPage = await get('/cart');
    const hidden = /<input type="hidden" name="csrf_token" value="([^"]+)">/.exec(cartPage.body)?.[1];
    const csrf = token === undefined ? hidden : token;
    const fields = new URLSearchParams(csrf === null || csrf === undefined ? { code } : { csrf_token: csrf, code });
    return request({ method: 'POST', url: '/cart/code', payload: fields.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  }

  return { get, postJson, sendCodeForm, request, cookie: (name: string) => jar.get(name), forget: (name: string) => jar.delete(name) };
}
