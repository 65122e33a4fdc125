// A shop's journey as discovery found it, replayed in k6: each request is a named step
// (tagged `step` and `page_type`), forms are sent with the fields the page holds on this
// iteration (CSRF tokens read with lib/extract.ts), and redirects are followed by hand so
// that the load never leaves the shop's host (ALLOWED_HOSTS names others).
import http from 'k6/http';
import { check } from 'k6';
import type { RefinedParams, RefinedResponse, ResponseType } from 'k6/http';
import { type Env, k6Env } from './env.ts';
import { extractFrom, fromPage, inputValue, type Expectations, type Extract, type FormSubmission } from './extract.ts';
import { resolveUrl, splitUrl } from './urls.ts';
import type { PageType } from './tags.ts';

type Response = RefinedResponse<ResponseType | undefined>;
type Params = RefinedParams<ResponseType | undefined>;

export interface Call {
  method: string;
  /** A path on the shop, or a full URL. */
  url: string;
  headers?: Record<string, string>;
  body?: string | null;
}

const MAX_REDIRECTS = 10;

function urlEncode(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

export function responseBody(res: Response): string {
  return typeof res.body === 'string' ? res.body : '';
}

/** The shop's journey: its base URL and the hosts the load may reach. */
export class Journey {
  readonly base: string;
  readonly allowedHosts: readonly string[];

  /** `base` is the shop's origin; ALLOWED_HOSTS (comma-separated host[:port]) names other hosts the journey may reach. */
  constructor(base: string, env: Env = k6Env()) {
    this.base = base.replace(/\/+$/, '');
    const own = splitUrl(this.base)?.host;
    const extra = (env.ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
    this.allowedHosts = [...(own ? [own] : []), ...extra];
  }

  url(pathOrUrl: string): string {
    return /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : this.base + (pathOrUrl.startsWith('/') ? '' : '/') + pathOrUrl;
  }

  allows(url: string): boolean {
    const host = splitUrl(url)?.host;
    return host !== undefined && this.allowedHosts.includes(host);
  }

  /**
   * One request and its redirects, followed here rather than by k6: a Location on
   * another host is not followed, and the step's check says so.
   */
  request(step: string, pageType: PageType, method: string, url: string, body: string | Record<string, string> | null, params: Params = {}): Response | null {
    const tagged: Params = { ...params, redirects: 0, tags: { ...(params.tags ?? {}), page_type: pageType, step } };
    let target = this.url(url);
    if (!this.allows(target)) {
      check(null, { [`${step} stays on the shop's hosts`]: () => false }, { step });
      return null;
    }
    let res = http.request(method, target, body as never, tagged);
    for (let hop = 0; hop < MAX_REDIRECTS && res.status >= 300 && res.status < 400; hop++) {
      const location = res.headers.Location ?? res.headers.location;
      if (!location) break;
      target = resolveUrl(res.url, location);
      if (!this.allows(target)) {
        check(res, { [`${step} stays on the shop's hosts`]: () => false }, { step });
        return res;
      }
      // 307 and 308 repeat the request; the others turn it into a GET, as browsers do.
      const repeat = res.status === 307 || res.status === 308;
      res = http.request(repeat ? method : 'GET', target, (repeat ? body : null) as never, tagged);
    }
    return res;
  }

  /** The step's checks: the status it should end on, and each expected piece of the body. */
  expect(step: string, res: Response | null, status: number, expectations: Expectations = {}): boolean {
    if (res === null) return false;
    const sets: Record<string, (r: Response) => boolean> = { [`${step} answers ${status}`]: (r) => r.status === status };
    for (const [label, piece] of Object.entries(expectations)) sets[`${step}: ${label}`] = (r) => responseBody(r).includes(piece);
    return check(res, sets, { step });
  }

  /** GET a page of the journey. */
  visit(step: string, path: string, pageType: PageType, expectations: Expectations = {}): Response | null {
    const res = this.request(step, pageType, 'GET', path, null);
    this.expect(step, res, 200, expectations);
    return res;
  }

  /** Sends a form of `page` as a browser would, its `fromPage` fields read from the page now. */
  submit(step: string, page: Response | null, form: FormSubmission, pageType: PageType, expectations: Expectations = {}): Response | null {
    const body = page ? responseBody(page) : '';
    const fields: Record<string, string> = {};
    const missing: string[] = [];
    for (const [name, value] of Object.entries(form.fields)) {
      if (value !== fromPage) fields[name] = value;
      else {
        const read = inputValue(body, name, form.form);
        if (read === null) missing.push(name);
        else fields[name] = read;
      }
    }
    if (missing.length > 0 || page === null) {
      check(page, { [`${step}: the page holds the form's ${missing.join(', ') || 'fields'}`]: () => false }, { step });
      return null;
    }
    const action = resolveUrl(page.url, form.action);
    const params: Params = { headers: { Referer: page.url } };
    const res =
      form.method === 'GET'
        ? this.request(step, pageType, 'GET', action + (action.includes('?') ? '&' : '?') + urlEncode(fields), null, params)
        : this.request(step, pageType, 'POST', action, fields, params);
    this.expect(step, res, 200, expectations);
    return res;
  }

  /** A request the page's own script sends (captured in Chromium), replayed as it was. */
  call(step: string, call: Call, pageType: PageType, status: number, expectations: Expectations = {}): Response | null {
    const res = this.request(step, pageType, call.method, call.url, call.body ?? null, { headers: call.headers ?? {} });
    this.expect(step, res, status, expectations);
    return res;
  }

  /** A value the next request needs, read from a response; a check fails when it is not there. */
  read(step: string, res: Response | null, what: string, how: Extract): string {
    const cookies: Record<string, string> = {};
    if (res && 'cookie' in how) {
      const jar = http.cookieJar().cookiesForURL(res.url);
      for (const [name, values] of Object.entries(jar)) if (values.length > 0) cookies[name] = values[0]!;
    }
    const value = res ? extractFrom(responseBody(res), res.headers, how, cookies) : null;
    check(res, { [`${step}: ${what} is found`]: () => value !== null }, { step });
    return value ?? '';
  }
}
