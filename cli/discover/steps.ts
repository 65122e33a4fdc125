// The journey as data: the steps discovery found, which the scenario generator writes
// out as k6 code and which discovery replays itself (with lib/extract.ts, as k6 will)
// to probe the quantity an automatic promo needs and whether a code is accepted.
import { extractFrom, fromPage, inputValue, type Expectations, type Extract, type FormSubmission } from '../../lib/extract.ts';
import { resolveUrl } from '../../lib/urls.ts';
import type { PageType } from '../../lib/tags.ts';
import type { BrowserFetch, FetchedPage } from './browser-fetch.ts';

/** A literal, or the value of a variable read from an earlier response. */
export type Value = string | { variable: string };

export interface Read {
  variable: string;
  /** The step whose response holds it. */
  from: string;
  /** In words, for the check: `the csrf-token meta`. */
  what: string;
  how: Extract;
}

export type Body = { json: unknown } | { form: Record<string, Value> } | { text: string } | null;

interface StepBase {
  /** The step's name: the tag `step` of its requests, and the start of its checks' names. */
  name: string;
  /** The variable holding its response in the generated code. */
  variable: string;
  pageType: PageType;
  expect: Expectations;
  /** Why discovery took this step, printed and written as a comment. */
  evidence: string[];
}

export type JourneyStep =
  | (StepBase & { kind: 'visit'; path: string })
  | (StepBase & { kind: 'form'; page: string; form: FormSubmission; quantityField: string | null; repeat: number })
  | (StepBase & { kind: 'call'; reads: Read[]; method: string; url: Value[]; headers: Record<string, Value>; body: Body; status: number; quantityKey: string | null; repeat: number });

/** JSON leaves that are `{ variable }` are filled in; the rest is kept. */
function fill(value: unknown, vars: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (value && typeof value === 'object') {
    if ('variable' in value && Object.keys(value).length === 1) return vars[(value as { variable: string }).variable] ?? '';
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
  }
  return value;
}

export function valueOf(v: Value, vars: Record<string, string>): string {
  return typeof v === 'string' ? v : (vars[v.variable] ?? '');
}

/** A JSON body with its quantity key set. */
export function withQuantity(json: unknown, key: string, quantity: number): unknown {
  if (Array.isArray(json)) return json.map((j) => withQuantity(j, key, quantity));
  if (json && typeof json === 'object' && !('variable' in json)) {
    return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, k === key && (typeof v === 'number' || typeof v === 'string') ? (typeof v === 'number' ? quantity : String(quantity)) : withQuantity(v, key, quantity)]));
  }
  return json;
}

export interface Replayed {
  pages: Map<string, FetchedPage>;
  /** The first step that went wrong, in one sentence; null when all answered as expected. */
  failure: string | null;
}

/** Runs the steps with discovery's client, as the generated scenario will in k6. */
export async function replay(steps: JourneyStep[], client: BrowserFetch, origin: string): Promise<Replayed> {
  const pages = new Map<string, FetchedPage>();
  const vars: Record<string, string> = {};
  for (const step of steps) {
    for (let round = 0; round < (step.kind === 'visit' ? 1 : step.repeat); round++) {
      let page: FetchedPage;
      if (step.kind === 'visit') {
        page = await client.get(resolveUrl(origin + '/', step.path));
      } else if (step.kind === 'form') {
        const holder = pages.get(step.page);
        const fields: Record<string, string> = {};
        for (const [name, value] of Object.entries(step.form.fields)) {
          if (value !== fromPage) fields[name] = value;
          else {
            const read = holder ? inputValue(holder.body, name, step.form.form) : null;
            if (read === null) return { pages, failure: `${step.name}: the ${step.page} page does not hold the form's field ${name}.` };
            fields[name] = read;
          }
        }
        const action = resolveUrl(holder?.finalUrl ?? origin + '/', step.form.action);
        const query = new URLSearchParams(fields).toString();
        page =
          step.form.method === 'GET'
            ? await client.request('GET', action + (action.includes('?') ? '&' : '?') + query, { referer: holder?.finalUrl })
            : await client.request('POST', action, { body: query, referer: holder?.finalUrl });
      } else {
        for (const read of step.reads) {
          const holder = pages.get(read.from);
          const headers: Record<string, string> = {};
          holder?.headers.forEach((v, k) => (headers[k] = v));
          const value = holder ? extractFrom(holder.body, headers, read.how, client.cookies(holder.finalUrl)) : null;
          if (value === null) return { pages, failure: `${step.name}: ${read.what} is not in the ${read.from} response.` };
          vars[read.variable] = value;
        }
        const url = resolveUrl(origin + '/', step.url.map((v) => valueOf(v, vars)).join(''));
        const headers = Object.fromEntries(Object.entries(step.headers).map(([k, v]) => [k, valueOf(v, vars)]));
        const body = step.body === null ? undefined : 'json' in step.body ? JSON.stringify(fill(step.body.json, vars)) : 'form' in step.body ? new URLSearchParams(Object.fromEntries(Object.entries(step.body.form).map(([k, v]) => [k, valueOf(v, vars)]))).toString() : step.body.text;
        page = await client.request(step.method, url, { body, contentType: headers['Content-Type'] ?? headers['content-type'], headers });
      }
      pages.set(step.name, page);
      const status = step.kind === 'call' ? step.status : 200;
      if (page.status !== status) return { pages, failure: `${step.name}: ${new URL(page.finalUrl).pathname} answered ${page.status}, not ${status}.` };
    }
  }
  return { pages, failure: null };
}
