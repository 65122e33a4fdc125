// What kind of page this is — product, category, homepage, cart or other — with the
// evidence behind the decision: schema.org (JSON-LD and microdata), OpenGraph, the
// platform's own markers, and the page's structure.
import type { Element } from 'domhandler';
import { addToCartForms, codeForms, loginForms } from './forms.ts';
import { normaliseText, parseMoney, typesOf, type JsonLdNode, type Page } from './page.ts';
import { detectPlatform, type PlatformFinding } from './platform.ts';

export const PAGE_KINDS = ['product', 'category', 'homepage', 'cart', 'other'] as const;
export type PageKind = (typeof PAGE_KINDS)[number];

export interface Classification {
  kind: PageKind;
  /** One line per piece of evidence for the kind decided. */
  evidence: string[];
  /** Scores of every kind, for the curious (and the tests). */
  scores: Record<PageKind, number>;
  platform: PlatformFinding;
  /** Set when the page is a login wall or a consent page: what it is, in words. */
  wall?: string;
}

/** `/`, `/fr/`, `/en-gb/`, `/de_DE/`: a site's root, or its root in one language. */
export function isSiteRoot(pathname: string): boolean {
  return /^\/(?:[a-z]{2}(?:[-_][a-zA-Z]{2})?\/?)?$/.test(pathname);
}

/** `/fr/` for `/fr/catalogue/x/`, `/` when the path has no language prefix. */
export function languageRoot(pathname: string): string {
  const m = /^\/([a-z]{2}(?:[-_][a-zA-Z]{2})?)(?:\/|$)/.exec(pathname);
  return m ? `/${m[1]}/` : '/';
}

const PRODUCT_CLASSES = /^(page-product|single-product|catalog-product-view|is-ctl-product|template-product|product-template-default)$/;
const CATEGORY_CLASSES = /^(page-category|tax-product_cat|post-type-archive-product|catalog-category-view|template-collection|is-ctl-navigation)$/;
const HOME_CLASSES = /^(home|page-index|cms-index-index|template-index|cms-home)$/;
const CART_CLASSES = /^(page-cart|woocommerce-cart|checkout-cart-index|is-act-cartpage|template-cart)$/;
const CART_PATH = /\/(cart|basket|panier|warenkorb|winkelwagen|carrello|carrito|checkout\/cart)\/?$/i;
const CART_FIELDS = /^(form-\d+-quantity|updates\[\]|updates\[.+\]|cart\[.+\]\[qty\]|quantity\[.+\]|update_cart|cart\[.+\]|qty\[.+\])$/;

export function productNodes(page: Page): JsonLdNode[] {
  return page.jsonLd.filter((n) => typesOf(n).some((t) => t === 'Product' || t === 'ProductGroup' || t === 'IndividualProduct'));
}

function offersOf(node: JsonLdNode): JsonLdNode[] {
  const o = node.offers;
  return (Array.isArray(o) ? o : o && typeof o === 'object' ? [o] : []) as JsonLdNode[];
}

/** The price JSON-LD's Offer gives: price, or lowPrice of an AggregateOffer. */
export function offerPrice(node: JsonLdNode): number | null {
  for (const offer of offersOf(node)) {
    const v = offer.price ?? offer.lowPrice ?? (offer.priceSpecification as JsonLdNode | undefined)?.price;
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.replace(',', '.')) : NaN;
    if (Number.isFinite(n)) return n;
  }
  return null;
}

/** Links that sit in a product card: an element around the link, named like a card, that also shows a price. */
export function productCardLinks(page: Page): string[] {
  const { $ } = page;
  const urls = new Set<string>();
  for (const link of page.links) {
    let node = $(link.element).parent();
    for (let depth = 0; depth < 6 && node.length && !['body', 'main', 'html'].includes((node[0] as Element).tagName); depth++, node = node.parent()) {
      if (node.find('a[href]').length > 12) break;
      const el = node[0] as Element;
      if (!/product|card|item|tile|pod|miniature/i.test(el.attribs.class ?? '') && el.tagName !== 'li' && el.tagName !== 'article') continue;
      const text = normaliseText(node.text());
      if (/\d[\d\s.,]*\s?(€|\$|£|EUR|USD|GBP|CHF)|(€|\$|£)\s?\d|\d[.,]\d{2}(?!\d)/.test(text) && parseMoney(text) !== null) {
        urls.add(link.url);
        break;
      }
    }
  }
  // Links that add to the cart or only change the page's query are not products.
  const self = page.url.replace(/[?#].*$/, '');
  return [...urls].filter((u) => u.replace(/[?#].*$/, '') !== self && !/[?&](add-to-cart|add_to_cart|addToCart)=/i.test(u));
}

function consentWall(page: Page): string | undefined {
  const path = new URL(page.url).pathname;
  const text = normaliseText(page.$('body').text()).slice(0, 4000);
  const asks = /\b(consent|cookies?|gdpr|rgpd|datenschutz|privacy)\b/i.test(text) && page.forms.some((f) => f.buttons.some((b) => /accept|agree|accepter|j'accepte|akzeptieren|zustimmen|allow/i.test(b.text)));
  if (/consent|cookie-?wall|gdpr/i.test(path) || (asks && page.links.length < 15)) return `a consent page (${path})`;
  return undefined;
}

function loginWall(page: Page, status: number): string | undefined {
  const path = new URL(page.url).pathname;
  if (status === 401 || status === 403) return `a login wall (${status} at ${path})`;
  const login = loginForms(page);
  if (login.length > 0 && (/login|signin|sign-in|connexion|anmelden|account/i.test(path) || productNodes(page).length === 0 && addToCartForms(page).length === 0)) {
    return `a login wall (a password form at ${path})`;
  }
  return undefined;
}

export function classifyPage(page: Page, requestedUrl: string, status = 200): Classification {
  const scores: Record<PageKind, number> = { product: 0, category: 0, homepage: 0, cart: 0, other: 0 };
  const evidence: Record<PageKind, string[]> = { product: [], category: [], homepage: [], cart: [], other: [] };
  const add = (kind: PageKind, weight: number, why: string) => {
    scores[kind] += weight;
    evidence[kind].push(why);
  };
  const platform = detectPlatform(page);

  const products = productNodes(page);
  if (products.length === 1 || products.length === 2) {
    const p = products[0]!;
    const price = offerPrice(p);
    add('product', 3, `JSON-LD ${typesOf(p)[0]} "${String(p.name ?? '?')}"${offersOf(p).length ? ` with an Offer${price !== null ? ` at ${price}` : ''}` : ''}`);
  }
  const listTypes = page.jsonLd.flatMap(typesOf).filter((t) => t === 'ItemList' || t === 'CollectionPage' || t === 'OfferCatalog');
  if (listTypes.length > 0) add('category', 3, `JSON-LD ${[...new Set(listTypes)].join(', ')}`);
  if (products.length >= 3) add('category', 3, `${products.length} JSON-LD Product items`);

  const microProducts = page.microdata.filter((t) => t === 'Product').length;
  if (microProducts === 1 && products.length === 0) add('product', 2, 'microdata itemtype Product');
  if (microProducts >= 3) add('category', 2, `${microProducts} microdata Product items`);
  if (page.microdata.includes('ItemList') || page.microdata.includes('CollectionPage')) add('category', 2, 'microdata itemtype ItemList');

  const ogType = (page.og['og:type'] ?? '').toLowerCase();
  if (ogType === 'product' || ogType === 'og:product' || ogType === 'product.item') add('product', 2, `og:type ${ogType}`);

  const bodyClass = (re: RegExp) => page.bodyClasses.find((c) => re.test(c));
  const pc = bodyClass(PRODUCT_CLASSES);
  if (pc) add('product', 2, `body class ${pc}`);
  const cc = bodyClass(CATEGORY_CLASSES);
  const url = new URL(requestedUrl);
  const root = isSiteRoot(url.pathname);
  if (cc && !(cc === 'is-ctl-navigation' && root)) add('category', 2, `body class ${cc}`);
  const hc = bodyClass(HOME_CLASSES) ?? (page.bodyId === 'index' ? 'id index' : undefined);
  if (hc) add('homepage', 2, `body ${hc.startsWith('id ') ? hc : `class ${hc}`}`);
  const kc = bodyClass(CART_CLASSES) ?? (page.bodyId === 'cart' ? 'id cart' : undefined);
  if (kc) add('cart', 3, `body ${kc.startsWith('id ') ? kc : `class ${kc}`}`);

  if (root) add('homepage', 5, `the URL is the site's root (${url.pathname})`);
  const finalPath = new URL(page.url).pathname;
  if (CART_PATH.test(finalPath) || CART_PATH.test(url.pathname)) add('cart', 2, `the path ${CART_PATH.test(finalPath) ? finalPath : url.pathname} names a cart`);

  const adds = addToCartForms(page);
  if (adds.length === 1) add('product', 2, `an add-to-cart form (${adds[0]!.evidence.join('; ')})`);
  if (adds.length >= 3) add('category', 2, `${adds.length} add-to-cart forms, one per product`);
  const cards = productCardLinks(page);
  if (cards.length >= 3) add('category', 2, `${cards.length} links to products with their prices`);

  const codes = codeForms(page);
  if (codes.length > 0) add('cart', 1, `a promo code form (${codes[0]!.evidence.join('; ')})`);
  const cartForm = page.forms.find((f) => f.fields.some((x) => CART_FIELDS.test(x.name)));
  if (cartForm) add('cart', 2, `a cart form with its line fields (${cartForm.fields.find((x) => CART_FIELDS.test(x.name))!.name})`);

  const ranked = (['product', 'cart', 'category', 'homepage'] as const).slice().sort((a, b) => scores[b] - scores[a]);
  const best = ranked[0]!;
  const wall = loginWall(page, status) ?? consentWall(page);
  let kind: PageKind = scores[best] >= 2 ? best : 'other';
  if (wall && kind !== 'product' && kind !== 'cart') kind = 'other';
  const why = kind === 'other' ? [wall ?? `no evidence of a product, category, homepage or cart (best: ${best} ${scores[best]})`] : evidence[kind];
  if (platform.platform) why.push(`platform ${platform.platform} (${platform.evidence.join('; ')})`);
  return { kind, evidence: why, scores, platform, ...(wall ? { wall } : {}) };
}

/** The product's name: JSON-LD, then microdata, OpenGraph, the first h1. */
export function productName(page: Page): string | null {
  const node = productNodes(page)[0];
  if (node && typeof node.name === 'string' && node.name.trim()) return normaliseText(node.name);
  const micro = page.$('[itemtype*="schema.org/Product"] [itemprop="name"]').first();
  if (micro.length) return normaliseText(micro.attr('content') ?? micro.text());
  if (page.og['og:title']) return normaliseText(page.og['og:title']);
  const h1 = normaliseText(page.$('h1').first().text());
  return h1 || null;
}
