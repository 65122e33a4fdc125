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
  /** false when nothing reads the answer's body (no expectation, no value read from it): k6 keeps none. */
  keepBody?: boolean;
}

const MAX_REDIRECTS = 10;
/** Check sets kept per step (one per end status and expectations object; a generated scenario has one). */
const MAX_CHECK_SETS = 8;

/** A step's tags and request params, made once. */
interface StepPlan {
  readonly tags: { page_type: PageType; step: string };
  readonly params: Params;
  /** The same, with no body kept: `responseType: 'none'`. */
  readonly paramsWithoutBody: Params;
}

/** A step's checks for one end status and expectations object, made once. */
interface StepChecks {
  readonly status: number;
  readonly expectations: Expectations;
  readonly readsBody: boolean;
  readonly sets: Record<string, (r: Response) => boolean>;
}

/** No params of the caller's: the request's own are built without copying any. */
const NO_PARAMS: Params = Object.freeze({});
const NO_EXPECTATIONS: Expectations = Object.freeze({});
const NO_LABELS: readonly string[] = Object.freeze([]);
const statusChecks = new Map<number, (r: Response) => boolean>();

/** `(r) => r.status === status`, made once per status: the journey checks one on every request. */
function statusIs(status: number): (r: Response) => boolean {
  let fn = statusChecks.get(status);
  if (fn === undefined) {
    fn = (r) => r.status === status;
    statusChecks.set(status, fn);
  }
  return fn;
}

function urlEncode(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

/**
 * The body as text. Each read of `res.body` copies the body out of k6 into a new
 * JavaScript string (a page of 20 KB with non-ASCII text is decoded again every time), so
 * the journey reads it once per use, and only when something looks at it.
 */
export function responseBody(res: Response): string {
  const body = res.body;
  return typeof body === 'string' ? body : '';
}

/** The shop's journey: its base URL and the hosts the load may reach. */
export class Journey {
  readonly base: string;
  readonly allowedHosts: readonly string[];
  /** `base/` when the base is an origin: a URL that starts with it is on the shop's own host. */
  private readonly ownPrefix: string | null;
  /** The base's origin as resolveUrl writes it (scheme and host in lower case). */
  private readonly ownOrigin: string | null;
  /**
   * Whether the last step's checks all passed (its status and expectations): a scenario
   * records from it whether the shop applied the promo on this visit.
   */
  passed = false;
  private readonly steps = new Map<string, StepPlan>();
  private readonly checkSets = new Map<string, StepChecks[]>();
  /** The body the running check()'s expectations look into: set just before it is called. */
  private checkedBody = '';

  /** `base` is the shop's origin; ALLOWED_HOSTS (comma-separated host[:port]) names other hosts the journey may reach. */
  constructor(base: string, env: Env = k6Env()) {
    this.base = base.replace(/\/+$/, '');
    const own = splitUrl(this.base);
    const extra = (env.ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
    this.allowedHosts = [...(own ? [own.host] : []), ...extra];
    this.ownPrefix = own && own.path === '/' ? this.base + '/' : null;
    this.ownOrigin = this.ownPrefix !== null ? own!.origin : null;
  }

  /** resolveUrl(from, ref), without splitting `from` in the usual case: a path on the shop, from a page of the shop. */
  resolve(from: string, ref: string): string {
    if (this.ownPrefix !== null && ref.startsWith('/') && !ref.startsWith('//') && from.startsWith(this.ownPrefix)) return this.ownOrigin + ref;
    return resolveUrl(from, ref);
  }

  url(pathOrUrl: string): string {
    if (pathOrUrl.startsWith('/')) return this.base + pathOrUrl;
    if (this.ownPrefix !== null && pathOrUrl.startsWith(this.ownPrefix)) return pathOrUrl;
    return /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : this.base + '/' + pathOrUrl;
  }

  allows(url: string): boolean {
    // Every request of a journey on one shop takes the first test; the others split the URL.
    if (this.ownPrefix !== null && url.startsWith(this.ownPrefix)) return true;
    const host = splitUrl(url)?.host;
    return host !== undefined && this.allowedHosts.includes(host);
  }

  /**
   * What a step sends and checks, made on its first iteration: k6 runs the journey
   * thousands of times a second, and each object, closure and joined string made per
   * request is interpreted and collected again (a step of another page type gets a plan
   * of its own).
   */
  private planOf(step: string, pageType: PageType): StepPlan {
    // Keyed by the step alone, the common case; by page type and step when one step is sent as two page types.
    let plan = this.steps.get(step);
    if (plan !== undefined && plan.tags.page_type === pageType) return plan;
    const key = plan === undefined ? step : pageType + '\u0000' + step;
    plan = this.steps.get(key);
    if (plan === undefined) {
      const tags = { page_type: pageType, step };
      plan = { tags, params: { redirects: 0, tags }, paramsWithoutBody: { redirects: 0, tags, responseType: 'none' } };
      this.steps.set(key, plan);
    }
    return plan;
  }

  /** The step's checks for an end status and expectations (the same object each iteration), made once. */
  private checksOf(step: string, status: number, expectations: Expectations): StepChecks {
    let known = this.checkSets.get(step);
    if (known === undefined) this.checkSets.set(step, (known = []));
    for (let i = 0; i < known.length; i++) {
      const set = known[i]!;
      if (set.status === status && set.expectations === expectations) return set;
    }
    const sets: Record<string, (r: Response) => boolean> = {};
    sets[step + ' answers ' + status] = statusIs(status);
    const labels = expectations === NO_EXPECTATIONS ? NO_LABELS : Object.keys(expectations);
    for (const label of labels) {
      const piece = expectations[label]!;
      // check() calls these at once, after expect() has set the body they look into.
      sets[step + ': ' + label] = () => this.checkedBody.includes(piece);
    }
    const made = { status, expectations, readsBody: labels.length > 0, sets };
    // A step checked against ever new expectation objects would grow this without end: keep a few.
    if (known.length < MAX_CHECK_SETS) known.push(made);
    return made;
  }

  /**
   * One request and its redirects, followed here rather than by k6: a Location on
   * another host is not followed, and the step's check says so.
   */
  request(step: string, pageType: PageType, method: string, url: string, body: string | Record<string, string> | null, params: Params = NO_PARAMS): Response | null {
    const plan = this.planOf(step, pageType);
    const tagged: Params = params === NO_PARAMS ? plan.params : { ...params, redirects: 0, tags: params.tags ? { ...params.tags, ...plan.tags } : plan.tags };
    return this.send(step, method, url, body, tagged);
  }

  private send(step: string, method: string, url: string, body: string | Record<string, string> | null, tagged: Params): Response | null {
    let target = this.url(url);
    if (!this.allows(target)) {
      check(null, { [`${step} stays on the shop's hosts`]: () => false });
      return null;
    }
    let res = http.request(method, target, body as never, tagged);
    // Each read of a response's field goes through k6: the status is read once a response.
    let status = res.status;
    for (let hop = 0; hop < MAX_REDIRECTS && status >= 300 && status < 400; hop++) {
      const headers = res.headers;
      const location = headers.Location ?? headers.location;
      if (!location) break;
      target = this.resolve(res.url, location);
      if (!this.allows(target)) {
        check(res, { [`${step} stays on the shop's hosts`]: () => false });
        return res;
      }
      // 307 and 308 repeat the request; the others turn it into a GET, as browsers do.
      const repeat = status === 307 || status === 308;
      res = http.request(repeat ? method : 'GET', target, (repeat ? body : null) as never, tagged);
      status = res.status;
    }
    return res;
  }

  /** The step's checks: the status it should end on, and each expected piece of the body. */
  expect(step: string, res: Response | null, status: number, expectations: Expectations = NO_EXPECTATIONS): boolean {
    this.passed = false;
    if (res === null) return false;
    const checks = this.checksOf(step, status, expectations);
    this.checkedBody = checks.readsBody ? responseBody(res) : '';
    this.passed = check(res, checks.sets);
    this.checkedBody = '';
    return this.passed;
  }

  /** GET a page of the journey. */
  visit(step: string, path: string, pageType: PageType, expectations: Expectations = NO_EXPECTATIONS): Response | null {
    const res = this.request(step, pageType, 'GET', path, null);
    this.expect(step, res, 200, expectations);
    return res;
  }

  /**
   * GET a page on the way whose body nothing reads (no expectation, no form or value
   * taken from it): its status is checked, and k6 keeps no body (`responseType: 'none'`),
   * so the load generator neither copies nor collects a page it never looks at.
   */
  visitUnread(step: string, path: string, pageType: PageType): Response | null {
    const res = this.send(step, 'GET', path, null, this.planOf(step, pageType).paramsWithoutBody);
    this.expect(step, res, 200);
    return res;
  }

  /** Sends a form of `page` as a browser would, its `fromPage` fields read from the page now. */
  submit(step: string, page: Response | null, form: FormSubmission, pageType: PageType, expectations: Expectations = NO_EXPECTATIONS): Response | null {
    const body = page ? responseBody(page) : '';
    const fields: Record<string, string> = {};
    const missing: string[] = [];
    const names = Object.keys(form.fields);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const value = form.fields[name]!;
      if (value !== fromPage) fields[name] = value;
      else {
        const read = inputValue(body, name, form.form);
        if (read === null) missing.push(name);
        else fields[name] = read;
      }
    }
    if (missing.length > 0 || page === null) {
      check(page, { [`${step}: the page holds the form's ${missing.join(', ') || 'fields'}`]: () => false });
      return null;
    }
    const pageUrl = page.url;
    const action = this.resolve(pageUrl, form.action);
    const params: Params = { headers: { Referer: pageUrl }, redirects: 0, tags: this.planOf(step, pageType).tags };
    if (form.keepBody === false) params.responseType = 'none';
    const res =
      form.method === 'GET'
        ? this.send(step, 'GET', action + (action.includes('?') ? '&' : '?') + urlEncode(fields), null, params)
        : this.send(step, 'POST', action, fields, params);
    this.expect(step, res, 200, expectations);
    return res;
  }

  /** A request the page's own script sends (captured in Chromium), replayed as it was. */
  call(step: string, call: Call, pageType: PageType, status: number, expectations: Expectations = NO_EXPECTATIONS): Response | null {
    const params: Params = { headers: call.headers ?? {}, redirects: 0, tags: this.planOf(step, pageType).tags };
    if (call.keepBody === false) params.responseType = 'none';
    const res = this.send(step, call.method, call.url, call.body ?? null, params);
    this.expect(step, res, status, expectations);
    return res;
  }

  /** A value the next request needs, read from a response; a check fails when it is not there. */
  read(step: string, res: Response | null, what: string, how: Extract): string {
    // Only what `how` reads is copied out of k6: the cookie, the headers or the body.
    let value: string | null = null;
    if (res !== null) {
      if ('cookie' in how) value = http.cookieJar().cookiesForURL(res.url)[how.cookie]?.[0] ?? null;
      else if ('header' in how) value = extractFrom('', res.headers, how);
      else value = extractFrom(responseBody(res), {}, how);
    }
    check(res, { [`${step}: ${what} is found`]: () => value !== null });
    return value ?? '';
  }
}
