// The promotion a page shows: a striked price on the product page, a discount line in
// the cart, and what tells an accepted code from a refused one. Each finding carries
// the piece of raw HTML that the generated scenario checks on every iteration.
import type { AnyNode, Element, Text } from 'domhandler';
import { looksLikeMoney, normaliseText, parseMoney, rawHtml, type Page } from './page.ts';
import { offerPrice, productNodes } from './classify.ts';
import { codeForms } from './forms.ts';

export interface StrikedPrice {
  oldPrice: number;
  newPrice: number;
  percent: number;
  /** Raw HTML the product page holds while the promo runs: the struck-through price. */
  snippet: string;
  evidence: string;
}

export interface DiscountLine {
  /** The line's text: `Réductions Deux objectifs -10 % -439,80 €`. */
  text: string;
  /** Its name without amounts: `Deux objectifs -10 %`. */
  label: string;
  /** The amount taken off, when the line shows one. */
  amount: number | null;
  /** A piece of raw HTML that only this line puts in the page. */
  snippet: string;
}

/** A class token naming a former price: old-price, regular-price, price-item--regular, list-price-price, … */
const STRIKE_TOKEN = /^((old|regular|was|compare|compare-at|list|before|original|strike|crossed|barr)[-_]?price(s|-price)?|price[-_]{1,2}(old|was|regular|compare|before|strike|list)|price-item--regular)$/i;
const STRIKE_CLASS = { test: (classes: string) => classes.split(/\s+/).some((c) => STRIKE_TOKEN.test(c)) };
const NEW_PRICE_CLASS = /(special|sale|current|promo|new|final|actual)[-_]?price|price[-_]?(special|sale|current|promo|new|final)|price-item--sale|price-item--last/i;
const DISCOUNT_CLASS = /discount|reduction|réduction|promo|coupon|voucher|offer|saving|rabatt|remise|rebate/i;
const DISCOUNT_WORDS = /discount|réduction|remise|rabais|promo|coupon|voucher|bon de|offre|offer|saving|économ|rabatt|gutschein|sconto|descuento|korting/i;
/** `-439,80 €`, `−€10.00`, `(-10.00)`: an amount taken off (a bare `-10 %` is a name, not an amount). */
const NEGATIVE_AMOUNT = /(^|[\s(])[-−–]\s?(?:[€$£]\s?)?\d[\d\s\u00a0\u202f.,]*?(?:[.,]\d{2}(?!\d)(?:\s?(?:€|\$|£|EUR|USD|GBP|CHF))?|\s?(?:€|\$|£|EUR|USD|GBP|CHF))/;
const MONEY = /\d[.,]\d{2}(?!\d)|[€$£]|\b(EUR|USD|GBP|CHF)\b/;
const TOTAL_WORDS = /\b(sub-?total|total|sous-total|summe|gesamt|totale)\b/i;

function classOf(el: Element): string {
  return `${el.attribs.class ?? ''} ${el.attribs.id ?? ''}`;
}

/** Text nodes under `el`, as the raw HTML writes them (entities and all), trimmed. */
export function rawTexts(page: Page, el: AnyNode): string[] {
  const out: string[] = [];
  const walk = (node: AnyNode) => {
    if (node.type === 'text') {
      const loc = (node as Text).sourceCodeLocation;
      if (loc) {
        const text = page.raw.slice(loc.startOffset, loc.endOffset).trim();
        if (text) out.push(text);
      }
    } else if ('children' in node && (node as Element).tagName !== 'script' && (node as Element).tagName !== 'style') (node as Element).children.forEach(walk);
  };
  walk(el);
  return out;
}

/** The element's text with a space between text nodes: cells and spans do not run together. */
export function spacedText(el: AnyNode): string {
  const out: string[] = [];
  const walk = (node: AnyNode) => {
    if (node.type === 'text') out.push((node as Text).data);
    else if ('children' in node && (node as Element).tagName !== 'script' && (node as Element).tagName !== 'style') (node as Element).children.forEach(walk);
  };
  walk(el);
  return normaliseText(out.join(' ')).replace(/([-−–(]) (?=[€$£\d])/g, '$1').replace(/([€$£]) (?=\d)/g, '$1');
}

/** The raw HTML of an element, or its opening tag and first text when long. */
function snippetOf(page: Page, el: Element): string {
  const whole = rawHtml(page.raw, el);
  if (whole.length <= 160 && !whole.includes('\n')) return whole;
  const text = rawTexts(page, el).find((t) => parseMoney(t) !== null);
  return text ?? whole.slice(0, 160);
}

/** An element in a card that links to another product: a related product, not this one. */
function inOtherProductCard(page: Page, el: Element): boolean {
  const { $ } = page;
  const self = page.url.replace(/[?#].*$/, '');
  let node = $(el).parent();
  for (let depth = 0; depth < 6 && node.length && (node[0] as Element).tagName !== 'body' && (node[0] as Element).tagName !== 'main'; depth++, node = node.parent()) {
    const links = node.find('a[href]').toArray().map((a) => {
      try {
        return new URL((a as Element).attribs.href!, page.url).href.replace(/[?#].*$/, '');
      } catch {
        return self;
      }
    });
    if (links.some((l) => l !== self && !/#/.test(l))) return links.length <= 6 && /product|card|item|tile|pod|related|upsell/i.test(classOf(node[0] as Element) + ' ' + (node[0] as Element).tagName);
  }
  return false;
}

export function findStrikedPrice(page: Page): StrikedPrice | null {
  const { $ } = page;
  const jsonPrice = productNodes(page).map(offerPrice).find((p) => p !== null) ?? null;
  const candidates = $('del, s, strike, [class]')
    .toArray()
    .filter((el) => {
      const e = el as Element;
      return (['del', 's', 'strike'].includes(e.tagName) || STRIKE_CLASS.test(e.attribs.class ?? '')) && $(e).parents('del, s, strike').length === 0;
    }) as Element[];
  for (const el of candidates) {
    const text = normaliseText($(el).text());
    if (!looksLikeMoney(text) && !(text.length < 40 && parseMoney(text) !== null && /\d[.,]\d\d|€|\$|£/.test(text))) continue;
    const oldPrice = parseMoney(text);
    if (oldPrice === null || oldPrice <= 0 || inOtherProductCard(page, el)) continue;
    // The price now: JSON-LD's Offer, else a sale-price element near the struck one, else the next amount after it.
    let newPrice = jsonPrice !== null && jsonPrice < oldPrice ? jsonPrice : null;
    let scope = $(el).parent();
    for (let depth = 0; newPrice === null && depth < 3 && scope.length; depth++, scope = scope.parent()) {
      const sale = scope
        .find('ins, [class]')
        .toArray()
        .find((c) => c !== el && ((c as Element).tagName === 'ins' || NEW_PRICE_CLASS.test((c as Element).attribs.class ?? '')) && parseMoney(normaliseText($(c).text())) !== null);
      const amount = sale ? parseMoney(normaliseText($(sale).text())) : null;
      if (amount !== null && amount < oldPrice) newPrice = amount;
      if (newPrice === null) {
        const others = rawTexts(page, scope[0]!)
          .map((t) => normaliseText(t.replace(/&nbsp;|&#160;/g, ' ')))
          .filter((t) => looksLikeMoney(t) && !t.startsWith('-'))
          .map(parseMoney)
          .filter((n): n is number => n !== null && n < oldPrice && n > 0);
        if (others.length > 0) newPrice = others[0]!;
      }
    }
    if (newPrice === null) continue;
    const percent = Math.round(((oldPrice - newPrice) / oldPrice) * 100);
    if (percent <= 0 || percent >= 100) continue;
    const tag = el.tagName === 'del' || el.tagName === 's' || el.tagName === 'strike' ? `<${el.tagName}>` : `.${(el.attribs.class ?? '').split(/\s+/).find((c) => STRIKE_TOKEN.test(c)) ?? el.attribs.class}`;
    return {
      oldPrice,
      newPrice,
      percent,
      snippet: snippetOf(page, el),
      evidence: `old price ${oldPrice.toFixed(2)} struck through (${tag}), price now ${newPrice.toFixed(2)}${jsonPrice === newPrice ? ' (the JSON-LD Offer)' : ''}: −${percent} %`,
    };
  }
  return null;
}

/** The smallest elements of the page that read as a discount line: a negative amount, or a discount word with an amount. */
export function discountLines(page: Page): DiscountLine[] {
  const { $ } = page;
  const found: Element[] = [];
  const rows = $('tr, li, dl, div, p, section, td, th, span, dt, dd').toArray() as Element[];
  for (const el of rows) {
    if ($(el).closest('form').length && $(el).closest('form').find('input[type="text"], input:not([type])').length) continue;
    if ($(el).closest('script, style, noscript, select, option, nav, header, footer').length) continue;
    const text = spacedText(el);
    if (text.length === 0 || text.length > 240) continue;
    const negative = NEGATIVE_AMOUNT.test(text);
    // A discount named in words but with a positive amount: not a product line (those link to the product).
    const named = (DISCOUNT_CLASS.test(classOf(el)) || DISCOUNT_WORDS.test(text)) && MONEY.test(text) && !TOTAL_WORDS.test(text) && $(el).find('a[href]').length === 0 && $(el).closest('a[href]').length === 0;
    if (!negative && !named) continue;
    // A line holds its name and its amount: a lone amount cell is part of a row.
    if (looksLikeMoney(text)) continue;
    found.push(el);
  }
  // Keep the innermost lines: drop any element that holds another one.
  const leaves = found.filter((el) => !found.some((other) => other !== el && $(el).find(other).length > 0));
  const out: DiscountLine[] = [];
  for (const el of leaves) {
    // The row around a name cell holds the amount: read them together.
    const row = el.tagName === 'td' || el.tagName === 'th' || el.tagName === 'dt' ? ($(el).closest('tr, dl')[0] as Element | undefined) ?? el : el;
    const text = spacedText(row);
    const negative = NEGATIVE_AMOUNT.exec(text)?.[0];
    const amount = negative ? parseMoney(negative) : null;
    const pieces = rawTexts(page, row).filter((t) => !looksLikeMoney(t) && t.length >= 3 && !/^[-−–]?\s*\d+([.,]\d+)?\s*%$/.test(t));
    const label = pieces.map((t) => normaliseText(normaliseText(t).replace(NEGATIVE_AMOUNT, ' ')).replace(/\(\s*\)/g, '')).map(withoutDanglingParen).filter((t) => !DISCOUNT_WORDS.test(t) || t.split(' ').length > 1).sort((a, b) => b.length - a.length)[0] ?? normaliseText(pieces[0] ?? text);
    const raw = pieces.sort((a, b) => b.length - a.length).find((t) => page.raw.includes(t) && normaliseText(t).includes(label)) ?? pieces.find((t) => page.raw.includes(t));
    const cls = row.attribs.class ? `class="${row.attribs.class}"` : null;
    out.push({ text, label, amount, snippet: raw ?? cls ?? text });
  }
  // One line per label: a name cell and its row are the same line.
  const byLabel = new Map<string, DiscountLine>();
  for (const line of out) if (!byLabel.has(line.label) || (line.amount !== null && byLabel.get(line.label)!.amount === null)) byLabel.set(line.label, line);
  // Lines that show an amount first: they are the discounts; the others only name one.
  return [...byLabel.values()].sort((a, b) => Number(b.amount !== null) - Number(a.amount !== null));
}

/** A label without the parenthesis its amount left open or closed ("Black Friday (" of "Black Friday (−10.00)"); a balanced one ("BF2026 (BF2026)") stays. */
function withoutDanglingParen(text: string): string {
  const count = (c: string) => text.split(c).length - 1;
  if (/\(\s*$/.test(text) || (/\)\s*$/.test(text) && count(')') > count('('))) return text.replace(/\s*[()]\s*$/, '').trim();
  return text.trim();
}

/** Lines of `after` whose label `before` does not have. */
export function newDiscountLines(before: Page | null, after: Page): DiscountLine[] {
  const known = new Set(before ? discountLines(before).map((l) => l.label) : []);
  return discountLines(after).filter((l) => !known.has(l.label));
}

/**
 * A piece of raw HTML that the cart shows once the code is accepted, and neither before
 * it nor after a made-up code: what the scenario checks to say "the code is accepted".
 */
export function acceptanceSnippet(before: Page, accepted: Page, refused: Page, code: string): { snippet: string; line: DiscountLine | null } | null {
  const absentElsewhere = (s: string) => !before.raw.includes(s) && !refused.raw.includes(s);
  const lines = newDiscountLines(before, accepted).filter((l) => absentElsewhere(l.snippet));
  const withCode = lines.find((l) => l.text.toUpperCase().includes(code.toUpperCase()));
  const line = withCode ?? lines[0];
  if (line) return { snippet: line.snippet, line };
  // No line reads as a discount: any text the accepted cart alone shows, the code's first.
  const texts = rawTexts(accepted, accepted.$('body')[0]!).filter((t) => t.length >= 4 && t.length <= 120 && absentElsewhere(t) && !looksLikeMoney(t));
  const pick = texts.find((t) => t.toUpperCase().includes(code.toUpperCase())) ?? null;
  return pick ? { snippet: pick, line: null } : null;
}

/** Whether the cart page lists the product: its name or a link to it. */
export function cartHoldsProduct(cart: Page, productName: string, productUrl: string): boolean {
  const text = normaliseText(cart.$('body').text()).toLowerCase();
  const name = productName.toLowerCase();
  if (name.length >= 3 && (text.includes(name) || text.includes(name.slice(0, Math.min(20, name.length))))) return true;
  const path = new URL(productUrl).pathname;
  return cart.links.some((l) => new URL(l.url).pathname === path);
}

export interface PagePromo {
  type: 'striked_price' | 'auto_cart' | 'manual_code' | 'none';
  evidence: string[];
}

/**
 * The promo one page shows by itself: a struck-through price on a product page (or on the
 * products a listing shows), a discount line in a cart, else a code form in a cart.
 */
export function pagePromo(page: Page, kind: string): PagePromo {
  if (kind === 'product') {
    const striked = findStrikedPrice(page);
    return striked ? { type: 'striked_price', evidence: [striked.evidence] } : { type: 'none', evidence: ['no struck-through price'] };
  }
  if (kind === 'category' || kind === 'homepage') {
    const { $ } = page;
    const struck = $('del, s, strike, [class]')
      .toArray()
      .filter((el) => {
        const e = el as Element;
        const text = normaliseText($(e).text());
        return (['del', 's', 'strike'].includes(e.tagName) || STRIKE_CLASS.test(e.attribs.class ?? '')) && MONEY.test(text) && text.length < 40;
      });
    return struck.length > 0 ? { type: 'striked_price', evidence: [`${struck.length} struck-through price${struck.length > 1 ? 's' : ''} among the products listed`] } : { type: 'none', evidence: ['no struck-through price among the products listed'] };
  }
  if (kind === 'cart') {
    const lines = discountLines(page);
    if (lines.length > 0) return { type: 'auto_cart', evidence: lines.map((l) => `a discount line "${l.label}"${l.amount !== null ? ` (−${l.amount.toFixed(2)})` : ''}`) };
    const forms = codeForms(page);
    if (forms.length > 0) return { type: 'manual_code', evidence: [`a promo code form (${forms[0]!.evidence.join('; ')})`] };
  }
  return { type: 'none', evidence: [] };
}
