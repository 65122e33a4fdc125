// A fetched page, parsed once: its DOM (cheerio, with each element's place in the raw
// HTML), its structured data (JSON-LD, microdata, OpenGraph), its forms and its links.
import { load, type CheerioAPI } from 'cheerio';
import type { AnyNode, Element } from 'domhandler';

export interface JsonLdNode {
  '@type'?: string | string[];
  [key: string]: unknown;
}

export interface PageForm {
  /** A piece of the opening tag, unique in the page, that finds the form again in k6. */
  marker: string;
  method: 'GET' | 'POST';
  /** The absolute URL the form goes to. */
  action: string;
  enctype: string;
  fields: FormField[];
  /** The submit buttons' text and names. */
  buttons: Array<{ text: string; name: string | null; value: string | null }>;
  /** id, class, data-* and name attributes of the form, for matching. */
  attributes: string;
  element: Element;
}

export interface FormField {
  name: string;
  value: string;
  type: string;
  /** text, hidden, number, select, … */
  hidden: boolean;
  placeholder: string;
  id: string;
  label: string;
}

export interface Page {
  url: string;
  raw: string;
  $: CheerioAPI;
  jsonLd: JsonLdNode[];
  /** itemtype values of top-level microdata items, shortened to the type name (`Product`). */
  microdata: string[];
  og: Record<string, string>;
  meta: Record<string, string>;
  bodyClasses: string[];
  bodyId: string;
  title: string;
  forms: PageForm[];
  /** Same-host links: absolute URL → link text. */
  links: Array<{ url: string; text: string; element: Element }>;
}

/** `schema.org/Product` → `Product`. */
function shortType(t: string): string {
  return t.replace(/^https?:\/\/schema\.org\//i, '').replace(/^schema:/, '');
}

export function typesOf(node: JsonLdNode): string[] {
  const t = node['@type'];
  return (Array.isArray(t) ? t : t ? [t] : []).map((x) => shortType(String(x)));
}

/** Every JSON-LD node of the page, @graph entries and arrays flattened, broken blocks skipped. */
function jsonLdNodes($: CheerioAPI): JsonLdNode[] {
  const out: JsonLdNode[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const node = value as JsonLdNode;
      if (Array.isArray(node['@graph'])) (node['@graph'] as unknown[]).forEach(visit);
      if (node['@type']) out.push(node);
    }
  };
  $('script[type="application/ld+json"]').each((_, el) => {
    try {
      visit(JSON.parse($(el).text()));
    } catch {
      // A broken block is the shop's problem; the other evidence still counts.
    }
  });
  return out;
}

/** Whitespace collapsed, icon-font glyphs (private-use characters) dropped. */
export function normaliseText(text: string): string {
  return text.replace(/[\ue000-\uf8ff]/g, '').replace(/\s+/g, ' ').trim();
}

export function absolute(base: string, ref: string | undefined): string | null {
  if (ref === undefined) return null;
  try {
    const u = new URL(ref, base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    u.hash = '';
    return u.href;
  } catch {
    return null;
  }
}

/** A piece of the form's opening tag, as written in the raw HTML, that no other form has. */
function formMarker(raw: string, el: Element, $: CheerioAPI, action: string | undefined): string {
  const open = openingTag(raw, el);
  const candidates = [
    el.attribs.id ? `id="${el.attribs.id}"` : null,
    action !== undefined ? `action="${action}"` : null,
    el.attribs['data-type'] ? `data-type="${el.attribs['data-type']}"` : null,
    el.attribs.class ? `class="${el.attribs.class}"` : null,
  ].filter((c): c is string => c !== null);
  for (const c of candidates) {
    if (!open.includes(c)) continue;
    const forms = $('form').toArray().filter((f) => openingTag(raw, f).includes(c));
    if (forms.length === 1) return c;
  }
  return open;
}

/** The element's opening tag as the raw HTML has it. */
export function openingTag(raw: string, el: Element): string {
  const start = el.sourceCodeLocation?.startTag?.startOffset ?? el.sourceCodeLocation?.startOffset;
  const end = el.sourceCodeLocation?.startTag?.endOffset;
  return start === undefined || end === undefined ? '' : raw.slice(start, end);
}

/** The element as the raw HTML has it. */
export function rawHtml(raw: string, el: AnyNode): string {
  const loc = (el as Element).sourceCodeLocation;
  return loc ? raw.slice(loc.startOffset, loc.endOffset) : '';
}

function readForms(url: string, raw: string, $: CheerioAPI): PageForm[] {
  return $('form')
    .toArray()
    .map((el) => {
      const form = $(el);
      const actionAttr = el.attribs.action;
      const fields: FormField[] = [];
      const id = el.attribs.id;
      // Fields inside the form, and those outside that name it with form="id".
      const controls = form.find('input, select, textarea').toArray().concat(id ? $(`[form="${id}"]`).toArray().filter((c) => ['input', 'select', 'textarea'].includes((c as Element).tagName)) : []);
      for (const c of controls as Element[]) {
        const name = c.attribs.name;
        if (!name || c.attribs.disabled !== undefined) continue;
        const type = c.tagName === 'input' ? (c.attribs.type ?? 'text').toLowerCase() : c.tagName;
        if (['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
        if ((type === 'checkbox' || type === 'radio') && c.attribs.checked === undefined) continue;
        let value = c.attribs.value ?? '';
        if (c.tagName === 'select') {
          const opt = $(c).find('option[selected]').first().length ? $(c).find('option[selected]').first() : $(c).find('option').first();
          value = opt.attr('value') ?? normaliseText(opt.text());
        } else if (c.tagName === 'textarea') value = $(c).text();
        const cid = c.attribs.id ?? '';
        const label = cid ? normaliseText($(`label[for="${cid}"]`).text()) : '';
        fields.push({ name, value, type, hidden: type === 'hidden', placeholder: c.attribs.placeholder ?? '', id: cid, label });
      }
      const buttons = form
        .find('button, input[type="submit"], input[type="image"]')
        .toArray()
        .filter((b) => (b as Element).tagName !== 'button' || ((b as Element).attribs.type ?? 'submit') === 'submit')
        .map((b) => ({ text: normaliseText($(b).text() || (b as Element).attribs.value || (b as Element).attribs['aria-label'] || ''), name: (b as Element).attribs.name ?? null, value: (b as Element).attribs.value ?? null }));
      const attributes = Object.entries(el.attribs)
        .filter(([k]) => k === 'id' || k === 'class' || k === 'name' || k.startsWith('data-'))
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      return {
        marker: formMarker(raw, el, $, actionAttr),
        method: (el.attribs.method ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET',
        action: absolute(url, actionAttr ?? '') ?? url,
        enctype: el.attribs.enctype ?? 'application/x-www-form-urlencoded',
        fields,
        buttons,
        attributes,
        element: el,
      } satisfies PageForm;
    });
}

export function parsePage(url: string, raw: string): Page {
  const $ = load(raw, { sourceCodeLocationInfo: true });
  const og: Record<string, string> = {};
  const meta: Record<string, string> = {};
  $('meta').each((_, el) => {
    const key = el.attribs.property ?? el.attribs.name;
    if (key && el.attribs.content !== undefined) {
      if (/^(og|product):/i.test(key)) og[key.toLowerCase()] = el.attribs.content;
      else meta[key.toLowerCase()] = el.attribs.content;
    }
  });
  const microdata = $('[itemscope][itemtype]')
    .toArray()
    .filter((el) => $(el).parents('[itemscope]').length === 0 || $(el).attr('itemprop') === undefined)
    .flatMap((el) => String((el as Element).attribs.itemtype).split(/\s+/).map(shortType));
  const host = new URL(url).host;
  const links: Page['links'] = [];
  $('a[href]').each((_, el) => {
    const abs = absolute(url, el.attribs.href);
    if (abs && new URL(abs).host === host) links.push({ url: abs, text: normaliseText($(el).text() || el.attribs.title || ''), element: el });
  });
  const body = $('body');
  return {
    url,
    raw,
    $,
    jsonLd: jsonLdNodes($),
    microdata,
    og,
    meta,
    bodyClasses: (body.attr('class') ?? '').split(/\s+/).filter(Boolean),
    bodyId: body.attr('id') ?? '',
    title: normaliseText($('title').first().text()),
    forms: readForms(url, raw, $),
    links,
  };
}

/** An amount as shops print it: `2 199,00 €`, `$1,299.00`, `1.299,00`, `129.00`, `-€10.00`. */
export function parseMoney(text: string): number | null {
  const m = /[-−–]?\s*(?:[^\d\s-]{1,3}\s?)?(\d{1,3}(?:[\s\u00a0\u202f.,']\d{3})+|\d+)(?:([.,])(\d{1,2}))?(?!\d)/.exec(text);
  if (!m) return null;
  const whole = m[1]!.replace(/[\s\u00a0\u202f.,']/g, '');
  const value = Number(`${whole}.${m[3] ?? '0'}`);
  return Number.isFinite(value) ? value : null;
}

/** Whether the text is essentially an amount (a price, a discount), not a sentence. */
export function looksLikeMoney(text: string): boolean {
  const t = normaliseText(text);
  return t.length > 0 && t.length <= 32 && /\d/.test(t) && /^[-−–(]?\s*(?:[A-Z]{3}|[€$£¥₹]|CHF|zł|kr)?\s*[-−–]?\s*\d[\d\s\u00a0\u202f.,']*\s*(?:[A-Z]{3}|[€$£¥₹]|CHF|zł|kr)?\)?(?:\s*(?:TTC|HT|incl\.?|excl\.?|tax.*))?$/i.test(t);
}
