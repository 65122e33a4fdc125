// Discovery from one URL: classify it, find the homepage, a category and the product,
// add to the cart through the page's own form (or, for a storefront driven by script,
// through the requests Chromium saw it send), find the cart and its code form, and find
// the promo. Every decision is printed with its evidence.
import { fromPage, type FormSubmission } from '../../lib/extract.ts';
import type { PromoType } from '../../lib/tags.ts';
import { BrowserFetch, DiscoveryError, type FetchedPage } from './browser-fetch.ts';
import { classifyPage, isSiteRoot, languageRoot, offerPrice, productCardLinks, productName, productNodes, type Classification, type PageKind } from './classify.ts';
import { addToCartForms, codeForms, codeInput, quantityField, TOKEN_FIELD } from './forms.ts';
import { normaliseText, parseMoney, parsePage, typesOf, type Page, type PageForm } from './page.ts';
import type { PlatformFinding } from './platform.ts';
import { acceptanceSnippet, cartHoldsProduct, findStrikedPrice, newDiscountLines, pagePromo, type DiscountLine, type PagePromo, type StrikedPrice } from './promo.ts';
import { replay, withQuantity, type JourneyStep } from './steps.ts';
import { captureScriptCart } from './browser-capture.ts';

export interface DiscoverOptions {
  url: string;
  promoCode?: string;
  /** --promo-type: the promo to test, whatever discovery finds. */
  promoType?: PromoType;
  /** Hosts besides the URL's that discovery and the load may reach (--allow-host). */
  allowHosts: string[];
  say: (line: string) => void;
  /** Only the pages (homepage, category, product): smoke, ramp and cache-hit need no cart. */
  pagesOnly?: boolean;
}

export interface FoundPage {
  role: string;
  kind: PageKind;
  url: string;
  evidence: string[];
}

export interface Discovery {
  origin: string;
  platform: PlatformFinding;
  product: { url: string; name: string; price: number | null };
  pages: FoundPage[];
  steps: JourneyStep[];
  promo: { type: PromoType; words: string; evidence: string[] };
  /** How the cart was reached: the page's HTML form, or the requests its script sends (Chromium). */
  cartVia: 'form' | 'script' | null;
  /** Every request discovery sent. */
  requests: string[];
}

const MAX_AUTO_QUANTITY = 5;
const MADE_UP_CODE = 'PLA-NOT-A-CODE-7Q';
const CART_LINK = /\/(cart|basket|panier|warenkorb|winkelwagen|carrello|carrito|checkout\/cart)\/?(\?.*)?$/i;
const CART_TEXT = /\b(cart|basket|panier|warenkorb|bag|winkelwagen|carrello|carrito)\b/i;

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** The page, or one sentence on why it is not a page discovery can read. */
async function fetchHtml(client: BrowserFetch, url: string, role: string): Promise<FetchedPage> {
  const page = await client.get(url);
  const where = page.finalUrl === url ? url : `${url} (redirected to ${page.finalUrl})`;
  if (page.status === 401 || page.status === 403) throw new DiscoveryError(`${where} answered ${page.status}: the ${role} is behind a login wall, which discovery does not go past.`);
  if (page.status === 404 || page.status === 410) throw new DiscoveryError(`${where} answered ${page.status} Not Found: give the URL of a page the shop serves.`);
  if (page.status >= 400) throw new DiscoveryError(`${where} answered ${page.status}: the ${role} could not be read.`);
  const type = page.contentType.split(';')[0]!.trim().toLowerCase();
  if (type !== 'text/html' && type !== 'application/xhtml+xml') throw new DiscoveryError(`${where} is not an HTML page (${type || 'no content type'}): give the URL of a product page.`);
  return page;
}

interface ReadPage {
  fetched: FetchedPage;
  page: Page;
  cls: Classification;
}

/** The first of up to three links that reads as a page of `kind`; a link that cannot be read is passed over. */
async function firstPageOfKind(client: BrowserFetch, urls: readonly string[], kind: PageKind, role: string): Promise<ReadPage | null> {
  for (const url of urls.slice(0, 3)) {
    const fetched = await fetchHtml(client, url, role).catch(() => null);
    if (!fetched) continue;
    const page = parsePage(fetched.finalUrl, fetched.body);
    const cls = classifyPage(page, url, fetched.status);
    if (cls.kind === kind) return { fetched, page, cls };
  }
  return null;
}

function breadcrumbLinks(page: Page): string[] {
  const fromJson = page.jsonLd
    .filter((n) => typesOf(n).includes('BreadcrumbList'))
    .flatMap((n) => (Array.isArray(n.itemListElement) ? n.itemListElement : []) as Array<Record<string, unknown>>)
    .sort((a, b) => Number(a.position ?? 0) - Number(b.position ?? 0))
    .map((e) => (typeof e.item === 'string' ? e.item : ((e.item as Record<string, unknown> | undefined)?.['@id'] ?? (e.item as Record<string, unknown> | undefined)?.url ?? e.url)) as string | undefined)
    .filter((u): u is string => typeof u === 'string');
  if (fromJson.length > 0) return fromJson.map((u) => new URL(u, page.url).href);
  const { $ } = page;
  return $('[class*="breadcrumb" i] a[href], nav[aria-label*="readcrumb" i] a[href], [itemtype*="BreadcrumbList"] a[href]')
    .toArray()
    .map((a) => new URL($(a).attr('href')!, page.url).href);
}

/** The link to the cart page: a path that names a cart, in the header first. */
function cartLink(page: Page): string | null {
  const { $ } = page;
  const candidates = page.links.filter((l) => CART_LINK.test(new URL(l.url).pathname) && !/add|ajout/i.test(new URL(l.url).pathname));
  const inHeader = candidates.find((l) => $(l.element).closest('header, nav, [class*="header" i], [class*="cart" i], [class*="basket" i]').length > 0);
  const named = candidates.find((l) => CART_TEXT.test(l.text) || CART_TEXT.test($(l.element).attr('class') ?? ''));
  const pick = inHeader ?? named ?? candidates[0];
  if (pick) return pick.url;
  // A button that navigates to the cart in its onclick, as some themes have.
  const onclick = $('[onclick*="cart" i], [onclick*="basket" i], [onclick*="panier" i]').first().attr('onclick');
  const m = onclick ? /['"](\/[^'"]+)['"]/.exec(onclick) : null;
  return m ? new URL(m[1]!, page.url).href : null;
}

export function productPrice(page: Page, striked: StrikedPrice | null): number | null {
  const json = productNodes(page).map(offerPrice).find((p) => p !== null);
  if (json !== undefined && json !== null) return json;
  if (striked) return striked.newPrice;
  const micro = page.$('[itemprop="price"]').first();
  const m = micro.length ? parseMoney(micro.attr('content') ?? micro.text()) : null;
  if (m !== null) return m;
  const og = page.og['product:price:amount'];
  if (og && parseMoney(og) !== null) return parseMoney(og);
  const priced = page.$('[class*="price" i]').first();
  return priced.length ? parseMoney(normaliseText(priced.text())) : null;
}

/** The form as the scenario sends it: tokens read from the page, the rest as found. */
function submission(form: PageForm, tokenNames: Set<string>, overrides: Record<string, string>): FormSubmission {
  const fields: Record<string, string> = {};
  for (const f of form.fields) fields[f.name] = f.name in overrides ? overrides[f.name]! : f.hidden && (TOKEN_FIELD.test(f.name) || tokenNames.has(f.name)) ? fromPage : f.value;
  // The button that was pressed is part of what the browser sends (WooCommerce's add-to-cart=<id>).
  const named = form.buttons.find((b) => b.name);
  if (named && named.name && !(named.name in fields)) fields[named.name] = named.value ?? '';
  for (const [k, v] of Object.entries(overrides)) if (!(k in fields)) fields[k] = v;
  return { form: form.marker, method: form.method, action: pathOf(form.action), fields };
}

/** Hidden fields whose value another visitor gets differently: session tokens, read from the page each time. */
function sessionFields(form: PageForm, other: Page | null): Set<string> {
  const out = new Set<string>();
  if (!other) return out;
  const twin = other.forms.find((f) => f.marker === form.marker);
  for (const f of form.fields) {
    if (!f.hidden) continue;
    const again = twin?.fields.find((x) => x.name === f.name);
    if (!again || again.value !== f.value) out.add(f.name);
  }
  return out;
}

function percentOf(amount: number | null, base: number | null): number | null {
  return amount !== null && base !== null && base > 0 ? Math.round((amount / base) * 100) : null;
}

/** What discovery prints under a page: the evidence for its type, then the promo it shows by itself. */
export function evidenceLines(evidence: string[], promo: PagePromo | null): string[] {
  return [...evidence, ...(promo && promo.type !== 'none' ? [`promo on this page: ${promo.type} (${promo.evidence.join('; ')})`] : [])];
}

export async function discover(options: DiscoverOptions): Promise<Discovery> {
  const { say } = options;
  const start = new URL(options.url);
  const origin = start.origin;
  const client = new BrowserFetch([start.host.toLowerCase(), ...options.allowHosts.map((h) => h.toLowerCase())]);
  const pages: FoundPage[] = [];
  const show = (role: string, kind: PageKind, fetched: FetchedPage, c: Pick<Classification, 'evidence'>, note = '') => {
    const hops = fetched.redirects.length ? `  (${fetched.redirects.map((r) => `${r.status} → ${pathOf(r.to)}`).join(', ')})` : '';
    say(`  ${role.padEnd(11)} ${kind.padEnd(9)} ${pathOf(fetched.url)}${hops}${note}`);
    // The platform is the shop's, not the page's: said once, with the first page.
    const promo = kind === 'other' ? null : pagePromo(parsePage(fetched.finalUrl, fetched.body), kind);
    for (const line of evidenceLines(c.evidence.filter((e) => pages.length === 0 || !e.startsWith('platform ')), promo)) say(`${' '.repeat(24)}${line}`);
    pages.push({ role, kind, url: fetched.url, evidence: c.evidence });
  };
  say(`discovering ${options.url}`);

  const first = await fetchHtml(client, options.url, 'page');
  const firstPage = parsePage(first.finalUrl, first.body);
  const firstClass = classifyPage(firstPage, options.url, first.status);
  show('start', firstClass.kind, first, firstClass);
  if (firstClass.wall) throw new DiscoveryError(`${options.url} is ${firstClass.wall}: discovery does not go past login walls or consent pages; give the URL of a public product page.`);

  // The product: the page itself, or the first product a listing links to.
  let product: ReadPage | null = firstClass.kind === 'product' ? { fetched: first, page: firstPage, cls: firstClass } : null;
  let categoryFound: ReadPage | null = firstClass.kind === 'category' ? { fetched: first, page: firstPage, cls: firstClass } : null;
  if (!product && (firstClass.kind === 'category' || firstClass.kind === 'homepage')) {
    const listed = productNodes(firstPage).map((n) => (typeof n.url === 'string' ? new URL(n.url, first.finalUrl).href : null)).filter((u): u is string => u !== null);
    const candidates = [...new Set([...listed, ...productCardLinks(firstPage)])].filter((u) => client.allows(u));
    product = await firstPageOfKind(client, candidates, 'product', 'product page');
  }
  if (!product) {
    const what = firstClass.kind === 'other' ? 'shows no product' : `is a ${firstClass.kind} page${firstClass.kind === 'cart' ? '' : ' and none of the products it lists could be read'}`;
    throw new DiscoveryError(`${options.url} ${what}: give the URL of a product page.`);
  }
  if (product.fetched !== first) show('product', 'product', product.fetched, product.cls);
  const name = productName(product.page) ?? pathOf(product.fetched.finalUrl);
  const striked = findStrikedPrice(product.page);
  const price = productPrice(product.page, striked);

  // The category: the breadcrumb's last link before the product, else the listing we came from.
  if (!categoryFound) {
    const crumbs = breadcrumbLinks(product.page).filter((u) => client.allows(u) && !isSiteRoot(new URL(u).pathname) && u.replace(/[?#].*$/, '') !== product!.fetched.finalUrl.replace(/[?#].*$/, ''));
    const firstCategory = async (urls: string[], from: string): Promise<void> => {
      categoryFound = await firstPageOfKind(client, urls, 'category', 'category page');
      if (categoryFound) show('category', 'category', categoryFound.fetched, { evidence: [from, ...categoryFound.cls.evidence] });
    };
    await firstCategory(crumbs.reverse(), 'from the breadcrumb');
    // No breadcrumb: the navigation's links, the first that reads as a category.
    if (!categoryFound) {
      const { $ } = product.page;
      const nav = product.page.links
        .filter((l) => $(l.element).closest('nav, header, [role="navigation"], [class*="menu" i], [class*="nav" i]').length > 0)
        .map((l) => l.url)
        .filter((u, i, all) => all.indexOf(u) === i && client.allows(u) && !isSiteRoot(new URL(u).pathname) && !CART_LINK.test(new URL(u).pathname) && !/login|account|compte|search|recherche|contact|wishlist/i.test(u) && u !== product!.fetched.finalUrl);
      await firstCategory(nav, 'from the navigation');
    }
  } else show('category', 'category', categoryFound.fetched, { evidence: ['the page given'] });
  if (!categoryFound) say(`  category    none      no breadcrumb or navigation link to a category page: the journey goes from the homepage to the product`);

  // The homepage: the site's root in the product's language.
  const homeUrl = origin + languageRoot(new URL(product.fetched.finalUrl).pathname);
  const homeFetched = await fetchHtml(client, homeUrl, 'homepage');
  const homeCls = classifyPage(parsePage(homeFetched.finalUrl, homeFetched.body), homeUrl, homeFetched.status);
  show('homepage', homeCls.kind, homeFetched, homeCls);

  const wantsCart = !options.pagesOnly && options.promoType !== 'striked_price' && options.promoType !== 'none';
  const evidence: string[] = [];
  if (striked) evidence.push(`striked price: ${striked.evidence}`);
  const steps: JourneyStep[] = [
    { kind: 'visit', name: 'homepage', variable: 'home', pageType: 'homepage', path: pathOf(homeUrl), expect: {}, evidence: homeCls.evidence },
    ...(categoryFound ? [{ kind: 'visit' as const, name: 'category', variable: 'category', pageType: 'category' as const, path: pathOf(categoryFound.fetched.finalUrl), expect: {}, evidence: categoryFound.cls.evidence }] : []),
    { kind: 'visit', name: 'product page', variable: 'product', pageType: 'product', path: pathOf(product.fetched.finalUrl), expect: striked ? { 'the striked price still shows': striked.snippet } : {}, evidence: product.cls.evidence },
  ];

  let cartVia: Discovery['cartVia'] = null;
  let auto: { line: DiscountLine; quantity: number; percent: number | null } | null = null;
  let code: { snippet: string; percent: number | null; amount: number | null } | null = null;
  let cartSteps: JourneyStep[] = [];
  if (wantsCart) {
    const found = await findCart(client, origin, steps, product, name, say, options);
    cartVia = found.via;
    cartSteps = found.steps;
    auto = found.auto;
    code = found.code;
    pages.push(...found.pages);
    for (const e of found.evidence) evidence.push(e);
  }

  // The promo: a code given and accepted, else an automatic cart discount, else a striked price.
  const detected: PromoType = code ? 'manual_code' : auto ? 'auto_cart' : striked ? 'striked_price' : 'none';
  const type = options.promoType ?? detected;
  if (options.promoType === 'manual_code' && !code) throw new DiscoveryError('--promo-type manual_code needs --promo-code with a code the cart accepts.');
  if (options.promoType === 'auto_cart' && !auto) throw new DiscoveryError(`--promo-type auto_cart, but no discount line appears in the cart with up to ${MAX_AUTO_QUANTITY} items of ${name}.`);
  if (options.promoType === 'striked_price' && !striked) throw new DiscoveryError(`--promo-type striked_price, but ${pathOf(product.fetched.finalUrl)} shows no struck-through price.`);
  const words = promoWords(type, { name, code, auto, striked, promoCode: options.promoCode, cartLookedAt: wantsCart, typeGiven: options.promoType !== undefined });
  // Only the cart promos need the cart in the journey, as scripts-src/promo.ts does.
  if (type === 'auto_cart' || type === 'manual_code') steps.push(...cartSteps.filter((s) => type === 'manual_code' || s.name !== 'apply code'));
  say(`  promo       ${type.padEnd(9)} ${words}${options.promoType ? ' (--promo-type)' : ''}`);
  for (const e of evidence) say(`${' '.repeat(24)}${e}`);
  return { origin, platform: product.cls.platform, product: { url: product.fetched.finalUrl, name, price }, pages, steps, promo: { type, words, evidence }, cartVia, requests: client.log };
}

/**
 * The promo line of discovery. "No promo found" only where discovery looked everywhere a
 * promo shows: smoke, ramp and cache-hit visit no cart, so there it says what was not
 * looked for rather than that there is nothing.
 */
export function promoWords(
  type: PromoType,
  f: {
    name: string;
    code: { percent: number | null } | null;
    auto: { line: DiscountLine; quantity: number; percent: number | null } | null;
    striked: { percent: number; oldPrice: number } | null;
    promoCode: string | undefined;
    cartLookedAt: boolean;
    typeGiven: boolean;
  },
): string {
  const { name, code, auto, striked } = f;
  if (type === 'manual_code') return `${name}: ${code!.percent !== null ? `−${code!.percent} %` : 'a discount'} with the code ${f.promoCode}`;
  if (type === 'auto_cart') return `${name}: ${auto!.percent !== null ? `−${auto!.percent} %` : `"${auto!.line.label}"`} in the cart from ${auto!.quantity} item${auto!.quantity > 1 ? 's' : ''}`;
  if (type === 'striked_price') return `${name}: −${striked!.percent} %, was ${striked!.oldPrice.toFixed(2)}`;
  if (f.typeGiven) return `${name}: no promo`;
  if (f.cartLookedAt) return `${name}: no promo found`;
  return `${name}: no struck-through price on the product page; this scenario visits no cart, so a cart discount or a code was not looked for (promo --url looks there)`;
}

interface CartFinding {
  via: 'form' | 'script';
  steps: JourneyStep[];
  auto: { line: DiscountLine; quantity: number; percent: number | null } | null;
  code: { snippet: string; percent: number | null; amount: number | null } | null;
  pages: FoundPage[];
  evidence: string[];
}

async function findCart(
  client: BrowserFetch,
  origin: string,
  pageSteps: JourneyStep[],
  product: { fetched: FetchedPage; page: Page },
  name: string,
  say: (line: string) => void,
  options: DiscoverOptions,
): Promise<CartFinding> {
  const productStep = pageSteps.find((s) => s.name === 'product page')!;
  const cartUrl = cartLink(product.page);
  const evidence: string[] = [];
  const pages: FoundPage[] = [];
  const price = productPrice(product.page, findStrikedPrice(product.page));

  // The page's own HTML form first; a storefront driven by script next, through Chromium.
  const forms = addToCartForms(product.page).sort((a, b) => b.evidence.length - a.evidence.length);
  const form = forms[0]?.form;
  let via: 'form' | 'script' = 'form';
  let addStep: JourneyStep | null = null;
  let probe: ((quantity: number) => Promise<{ cart: FetchedPage; empty: FetchedPage | null; client: BrowserFetch; failure: string | null }>) | null = null;
  if (form && cartUrl) {
    const other = await client.fresh().get(product.fetched.finalUrl).catch(() => null);
    client.log.push(...(other ? [`GET ${product.fetched.finalUrl} ${other.status} (a second visitor, to tell session tokens apart)`] : []));
    const tokens = sessionFields(form, other ? parsePage(other.finalUrl, other.body) : null);
    const qty = quantityField(form);
    const make = (quantity: number): JourneyStep => ({
      kind: 'form',
      name: 'add to cart',
      variable: 'added',
      pageType: 'cart',
      page: 'product page',
      form: submission(form, tokens, qty ? { [qty.name]: String(quantity) } : {}),
      quantityField: qty?.name ?? null,
      repeat: qty ? 1 : quantity,
      expect: {},
      evidence: forms[0]!.evidence,
    });
    addStep = make(1);
    probe = async (quantity) => {
      const c = client.fresh();
      const empty = await c.get(cartUrl).catch(() => null);
      const r = await replay([productStep, make(quantity)], c, origin);
      const cart = await c.get(cartUrl);
      client.log.push(...c.log);
      return { cart, empty, client: c, failure: r.failure };
    };
    const tried = await probe(1);
    if (tried.failure || !cartHoldsProduct(parsePage(tried.cart.finalUrl, tried.cart.body), name, product.fetched.finalUrl)) {
      evidence.push(`the form ${form.method} ${pathOf(form.action)} did not put ${name} in the cart (${tried.failure ?? `${pathOf(cartUrl)} does not list it`}): trying the page's script in Chromium`);
      addStep = null;
    }
  }
  if (!addStep) {
    via = 'script';
    const captured = await captureScriptCart({ productUrl: product.fetched.finalUrl, cartUrl, allowedHosts: client.allowedHosts, productStep, origin, say });
    client.log.push(...captured.log);
    addStep = captured.addStep;
    probe = captured.probe;
    evidence.push(...captured.evidence);
  }
  const finalCartUrl = cartUrl ?? (probe ? (await probe(1)).cart.finalUrl : null);
  if (!finalCartUrl || !probe) throw new DiscoveryError(`${pathOf(product.fetched.finalUrl)} has no link to a cart page: discovery cannot find where the cart is.`);
  say(`  add to cart ${via === 'form' ? `form      ${addStep.kind === 'form' ? `${addStep.form.method} ${addStep.form.action}` : ''}` : 'script    captured in Chromium'}`);
  for (const e of addStep.evidence) say(`${' '.repeat(24)}${e}`);
  if (addStep.kind === 'form') say(`${' '.repeat(24)}fields ${Object.entries(addStep.form.fields).map(([k, v]) => (v === fromPage ? `${k} (read from the page each time)` : `${k}=${v}`)).join(', ')}`);

  // An automatic discount: the smallest quantity whose cart shows a new discount line.
  let auto: CartFinding['auto'] = null;
  let last = await probe(1);
  for (let quantity = 1; quantity <= MAX_AUTO_QUANTITY; quantity++) {
    if (quantity > 1) last = await probe(quantity);
    if (last.failure) break;
    const lines = newDiscountLines(last.empty ? parsePage(last.empty.finalUrl, last.empty.body) : null, parsePage(last.cart.finalUrl, last.cart.body));
    if (lines.length > 0) {
      const line = lines[0]!;
      auto = { line, quantity, percent: percentOf(line.amount, price !== null ? price * quantity : null) };
      evidence.push(`automatic cart discount: "${line.label}" appears with ${quantity} item${quantity > 1 ? 's' : ''}${line.amount !== null ? ` (−${line.amount.toFixed(2)}${auto.percent !== null ? `, −${auto.percent} %` : ''})` : ''}`);
      break;
    }
  }
  if (!auto) last = await probe(1);
  const quantity = auto?.quantity ?? 1;
  const cartPage = parsePage(last.cart.finalUrl, last.cart.body);
  const cartCls = classifyPage(cartPage, finalCartUrl, last.cart.status);
  say(`  cart        ${cartCls.kind.padEnd(9)} ${pathOf(finalCartUrl)}`);
  for (const e of cartCls.evidence) if (!e.startsWith('platform ')) say(`${' '.repeat(24)}${e}`);
  pages.push({ role: 'cart', kind: cartCls.kind, url: finalCartUrl, evidence: cartCls.evidence });

  const sized: JourneyStep = addStep.kind === 'form' && addStep.quantityField ? { ...addStep, form: { ...addStep.form, fields: { ...addStep.form.fields, [addStep.quantityField]: String(quantity) } } } : addStep.kind === 'call' && addStep.quantityKey ? { ...addStep, body: addStep.body && 'json' in addStep.body ? { json: withQuantity(addStep.body.json, addStep.quantityKey, quantity) } : addStep.body } : addStep.kind === 'visit' ? addStep : { ...addStep, repeat: quantity };
  const cartStep: JourneyStep = { kind: 'visit', name: 'cart', variable: 'cart', pageType: 'cart', path: pathOf(finalCartUrl), expect: auto ? { 'the discount line appears': auto.line.snippet } : {}, evidence: cartCls.evidence };
  const steps: JourneyStep[] = [sized, cartStep];

  // The code form: a made-up code first, then the real one; what the real one alone shows is the check.
  let code: CartFinding['code'] = null;
  const forms2 = codeForms(cartPage);
  if (forms2.length === 0) {
    if (options.promoCode) throw new DiscoveryError(`--promo-code ${options.promoCode} was given, but the cart page ${pathOf(finalCartUrl)} has no promo code form.`);
  } else if (!options.promoCode) {
    evidence.push(`a promo code form on the cart (${forms2[0]!.evidence.join('; ')}): pass --promo-code to test a code`);
  } else {
    const codeForm = forms2[0]!.form;
    const input = codeInput(codeForm)!;
    const other = await client.fresh().get(finalCartUrl).catch(() => null);
    const tokens = sessionFields(codeForm, other ? parsePage(other.finalUrl, other.body) : null);
    const apply = (value: string): JourneyStep => ({ kind: 'form', name: 'apply code', variable: 'applied', pageType: 'cart', page: 'cart', form: submission(codeForm, tokens, { [input.name]: value }), quantityField: null, repeat: 1, expect: {}, evidence: forms2[0]!.evidence });
    const c = client.fresh();
    const base = [productStep, sized, cartStep];
    const refusedRun = await replay([...base, apply(MADE_UP_CODE)], c, origin);
    const before = refusedRun.pages.get('cart');
    const refused = refusedRun.pages.get('apply code');
    const acceptedRun = await replay([cartStep, apply(options.promoCode)], c, origin);
    client.log.push(...c.log);
    const accepted = acceptedRun.pages.get('apply code');
    if (!before || !refused || !accepted || acceptedRun.failure) {
      throw new DiscoveryError(`The code form of ${pathOf(finalCartUrl)} could not be sent: ${acceptedRun.failure ?? refusedRun.failure ?? 'no answer'}`);
    }
    const beforePage = parsePage(before.finalUrl, before.body);
    const found = acceptanceSnippet(beforePage, parsePage(accepted.finalUrl, accepted.body), parsePage(refused.finalUrl, refused.body), options.promoCode);
    if (!found) throw new DiscoveryError(`The cart at ${pathOf(finalCartUrl)} did not accept the code ${options.promoCode}: after it the page shows nothing that a made-up code does not.`);
    const amount = found.line?.amount ?? null;
    code = { snippet: found.snippet, amount, percent: percentOf(amount, price !== null ? price * quantity : null) };
    steps.push({ ...apply(options.promoCode), expect: { 'the code is accepted': found.snippet } });
    evidence.push(`code ${options.promoCode}: accepted, the cart then shows "${normaliseText(found.line?.label ?? found.snippet)}"${amount !== null ? ` (−${amount.toFixed(2)}${code.percent !== null ? `, −${code.percent} %` : ''})` : ''}; a made-up code does not`);
  }
  return { via, steps, auto, code, pages, evidence };
}
