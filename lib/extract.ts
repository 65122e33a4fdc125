// Reading tokens and identifiers out of a response on every iteration, cheaply: indexOf
// and small regular expressions over the body, never a DOM parse. A generated scenario
// reads its CSRF tokens, form keys and cart ids with these, so the load generator spends
// its time sending requests rather than parsing pages.

/** A form field whose value is read from the page on every iteration (a CSRF token, a form key). */
export const fromPage = '<read from the page>';

/** label → a piece of the body that must be there: `{ 'the striked price still shows': '<del>129.00</del>' }`. */
export type Expectations = Record<string, string>;

export interface FormSubmission {
  /** A piece of the form's opening tag that finds it in the page: `id="add_to_basket_form"`. */
  form: string;
  method: 'GET' | 'POST';
  /** Where the form goes: a path on the shop, or a full URL. */
  action: string;
  /** Every field the form sends; `fromPage` ones are read from the page each time. */
  fields: Record<string, string>;
  /** false when nothing reads the answer's body (no expectation, no value read from it): k6 keeps none. */
  keepBody?: boolean;
}

/** Where a value is read from, in the response that carries it. */
export type Extract =
  /** An `<input name=…>` (its value attribute), inside the form whose opening tag holds `form`. */
  | { input: string; form?: string }
  /** A `<meta name=… content=…>` (or property=…). */
  | { meta: string }
  /** The text between two boundaries, the first occurrence. */
  | { between: readonly [string, string] }
  /** A dotted path into a JSON body: `cart.id`, `items.0.key`. */
  | { json: string }
  /** A response header (Set-Cookie excluded: the cookie jar keeps cookies). */
  | { header: string }
  /** A cookie the shop set, as the cookie jar holds it (a CSRF cookie echoed in a header). */
  | { cookie: string };

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", '#x27': "'", '#34': '"', '#x2F': '/', '#47': '/' };

/** The few entities an attribute value holds in practice (tokens are base64 or hex). */
export function decodeAttribute(value: string): string {
  return value.indexOf('&') === -1 ? value : value.replace(/&(#?[a-zA-Z0-9]+);/g, (whole, name: string) => ENTITIES[name] ?? whole);
}

// A pattern per attribute name, compiled once: k6's runtime compiles `new RegExp` anew on
// every call, which cost more than the reads themselves on every iteration.
const valuePatterns = new Map<string, RegExp>();
const presencePatterns = new Map<string, RegExp>();

function cached(cache: Map<string, RegExp>, name: string, source: () => string): RegExp {
  let re = cache.get(name);
  if (re === undefined) {
    re = new RegExp(source(), 'i');
    cache.set(name, re);
  }
  return re;
}

/** The value of one attribute inside a single tag's text (`<input …>`), or null. */
export function attribute(tag: string, name: string): string | null {
  const re = cached(valuePatterns, name, () => `\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`);
  const m = re.exec(tag);
  if (!m) return null;
  return decodeAttribute(m[1] ?? m[2] ?? m[3] ?? '');
}

/** Whether a tag has the attribute, with or without a value (`disabled`, `checked`). */
export function hasAttribute(tag: string, name: string): boolean {
  return cached(presencePatterns, name, () => `\\s${name}(?=[\\s=/>])`).test(tag);
}

/** The body from the form whose opening tag holds `marker` up to its `</form>`; the whole body without a marker. */
export function formSlice(body: string, marker?: string): string | null {
  if (!marker) return body;
  const at = body.indexOf(marker);
  if (at === -1) return null;
  const start = body.lastIndexOf('<form', at);
  const from = start === -1 ? at : start;
  const end = body.indexOf('</form>', at);
  return body.slice(from, end === -1 ? body.length : end);
}

/** The value of the named input (hidden, text, …): first match inside the form, or null. */
export function inputValue(body: string, name: string, form?: string): string | null {
  const slice = formSlice(body, form);
  if (slice === null) return null;
  // Indexed, not for…of over an array: this runs for each token on every iteration.
  for (let q = 0; q < 3; q++) {
    const quoted = q === 0 ? `name="${name}"` : q === 1 ? `name='${name}'` : `name=${name}`;
    let at = slice.indexOf(quoted);
    while (at !== -1) {
      const open = slice.lastIndexOf('<', at);
      const close = slice.indexOf('>', at);
      const tag = slice.slice(open, close === -1 ? slice.length : close + 1);
      // `name=x` also matches inside `name=xy`: only a whole attribute value counts.
      if (/^<(input|textarea|select|button)\b/i.test(tag) && attribute(tag, 'name') === name) {
        if (/^<textarea/i.test(tag)) {
          const end = slice.indexOf('</textarea>', close);
          return decodeAttribute(slice.slice(close + 1, end === -1 ? undefined : end));
        }
        return attribute(tag, 'value') ?? '';
      }
      at = slice.indexOf(quoted, at + quoted.length);
    }
  }
  return null;
}

/** `<meta name="csrf-token" content="…">` (or property=…), or null. */
export function metaContent(body: string, name: string): string | null {
  let at = body.indexOf(`"${name}"`);
  while (at !== -1) {
    const open = body.lastIndexOf('<', at);
    const close = body.indexOf('>', at);
    const tag = body.slice(open, close + 1);
    if (/^<meta\b/i.test(tag) && (attribute(tag, 'name') === name || attribute(tag, 'property') === name)) return attribute(tag, 'content');
    at = body.indexOf(`"${name}"`, at + 1);
  }
  return null;
}

/** The text between the first `left` and the next `right`, or null. */
export function between(body: string, left: string, right: string): string | null {
  const start = body.indexOf(left);
  if (start === -1) return null;
  const from = start + left.length;
  const end = body.indexOf(right, from);
  return end === -1 ? null : body.slice(from, end);
}

/** A dotted path into parsed JSON (`cart.items.0.id`); numbers come back as text. */
export function jsonValue(body: string, path: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  for (const key of path === '' ? [] : path.split('.')) {
    if (value === null || typeof value !== 'object') return null;
    value = (value as Record<string, unknown>)[key];
  }
  if (value === undefined || value === null) return null;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Reads one value as `how` says, from a body, its headers and the cookies sent with the next request. */
export function extractFrom(body: string, headers: Record<string, string>, how: Extract, cookies: Record<string, string> = {}): string | null {
  if ('cookie' in how) return cookies[how.cookie] ?? null;
  if ('input' in how) return inputValue(body, how.input, how.form);
  if ('meta' in how) return metaContent(body, how.meta);
  if ('between' in how) return between(body, how.between[0], how.between[1]);
  if ('json' in how) return jsonValue(body, how.json);
  const wanted = how.header.toLowerCase();
  for (const key of Object.keys(headers)) if (key.toLowerCase() === wanted) return headers[key] ?? null;
  return null;
}

/** Every named field of a form, as the page has them now (unchecked boxes and radios left out). */
export function formFields(body: string, form?: string): Record<string, string> | null {
  const slice = formSlice(body, form);
  if (slice === null) return null;
  const fields: Record<string, string> = {};
  const tags = /<(input|select|textarea)\b[^>]*>/gi;
  for (let m = tags.exec(slice); m !== null; m = tags.exec(slice)) {
    const tag = m[0];
    const name = attribute(tag, 'name');
    if (!name || hasAttribute(tag, 'disabled')) continue;
    const kind = m[1]!.toLowerCase();
    if (kind === 'input') {
      const type = (attribute(tag, 'type') ?? 'text').toLowerCase();
      if ((type === 'checkbox' || type === 'radio') && !hasAttribute(tag, 'checked')) continue;
      if (type === 'submit' || type === 'button' || type === 'image' || type === 'file' || type === 'reset') continue;
      fields[name] = attribute(tag, 'value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : '');
    } else if (kind === 'textarea') {
      const end = slice.indexOf('</textarea>', m.index);
      fields[name] = decodeAttribute(slice.slice(m.index + tag.length, end === -1 ? undefined : end));
    } else {
      const end = slice.indexOf('</select>', m.index);
      const options = slice.slice(m.index, end === -1 ? undefined : end);
      const chosen = /<option\b[^>]*\sselected\b[^>]*>/i.exec(options) ?? /<option\b[^>]*>/i.exec(options);
      if (chosen) fields[name] = attribute(chosen[0], 'value') ?? '';
    }
  }
  return fields;
}
