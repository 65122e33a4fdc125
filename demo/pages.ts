import {
  allProducts,
  CATEGORY_NAMES,
  CATEGORY_SLUGS,
  findProduct,
  formatCents,
  isCategorySlug,
  percentOff,
  productsIn,
  type CategorySlug,
  type Product,
} from './catalog.ts';
import type { CartRules } from './cart.ts';
import type { ErrorBody } from './errors.ts';
import { STOREFRONT_SCRIPT_PATH } from './storefront-script.ts';

/** What the origin produces for a page; the cache stores exactly this. */
export interface RenderedPage {
  statusCode: number;
  html: string;
}

const SHOP_NAME = 'Demo Shop';
const CURRENCY = 'EUR';

export const money = (cents: number): string => `€${formatCents(cents)}`;

const ERROR_TITLES: Record<number, string> = { 400: 'Bad request', 403: 'Forbidden', 404: 'Page not found', 422: 'Not accepted', 503: 'Try again in a moment' };

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** For the little text that does not come from the catalogue (error messages). */
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]);

/** schema.org JSON-LD; "<" is escaped so that no value can close the script element. */
const jsonLd = (data: object): string =>
  `<script type="application/ld+json">${JSON.stringify({ '@context': 'https://schema.org', ...data }).replaceAll('<', '\\u003c')}</script>`;

interface Crumb {
  name: string;
  path?: string;
}

const breadcrumbNav = (crumbs: Crumb[]): string =>
  `<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>${crumbs
    .map((crumb) => (crumb.path ? `<li><a href="${crumb.path}">${crumb.name}</a></li>` : `<li aria-current="page">${crumb.name}</li>`))
    .join('')}</ol></nav>`;

const breadcrumbList = (crumbs: Crumb[]): object => ({
  '@type': 'BreadcrumbList',
  itemListElement: crumbs.map((crumb, index) => ({
    '@type': 'ListItem',
    position: index + 1,
    name: crumb.name,
    ...(crumb.path ? { item: crumb.path } : {}),
  })),
});

interface Layout {
  title: string;
  description: string;
  /** page--home, page--category, page--product, page--cart, page--error */
  bodyClass: string;
  /** Extra <head> content: OpenGraph, robots, JSON-LD. */
  head?: string;
  main: string;
}

// Everything interpolated below comes from the catalogue, the rules or escaped
// text, never from raw request text.
export function layout({ title, description, bodyClass, head = '', main }: Layout, rules: CartRules): string {
  const nav = CATEGORY_SLUGS.map((slug) => `<li><a href="/category/${slug}">${CATEGORY_NAMES[slug]}</a></li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} · ${SHOP_NAME}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="${description}">
${head}
</head>
<body class="page ${bodyClass}">
<header class="site-header"><a class="site-logo" href="/">${SHOP_NAME}</a>
<nav class="site-nav" aria-label="Categories"><ul>${nav}</ul></nav>
<a class="cart-link" href="/cart">Cart <span class="cart-count" data-cart-count></span></a></header>
<aside class="promo-banner">
<p>${rules.autoCartPercent}% off every cart from ${money(rules.autoCartThresholdCents)}, applied automatically.</p>
<p>Use the code <strong>${rules.promoCode}</strong> in your cart for ${rules.promoCodePercent}% off.</p>
</aside>
<main>
${main}
</main>
<footer class="site-footer"><p>${SHOP_NAME} is a load-testing target. Prices in EUR, taxes included. Free shipping from €50.00.</p></footer>
<script src="${STOREFRONT_SCRIPT_PATH}" defer></script>
</body></html>
`;
}

function priceHtml(product: Product): string {
  if (product.promoCents === undefined) return `<span class="price">${money(product.regularCents)}</span>`;
  return `<del class="price price--old">${money(product.regularCents)}</del> <ins class="price price--sale">${money(product.promoCents)}</ins>`;
}

function productGrid(products: readonly Product[]): string {
  const cards = products.map(
    (product) => `<li class="product-card"><a class="product-card__link" href="/product/${product.id}">${product.name}</a> ${priceHtml(product)}</li>`,
  );
  return `<ul class="product-grid">\n${cards.join('\n')}\n</ul>`;
}

const openGraph = (properties: Record<string, string>): string =>
  Object.entries(properties)
    .map(([property, content]) => `<meta property="${property}" content="${content}">`)
    .join('\n');

/** The product page's offer in schema.org terms; a striked price is a StrikethroughPrice, as Google documents. */
function offer(product: Product): object {
  const price = formatCents(product.promoCents ?? product.regularCents);
  return {
    '@type': 'Offer',
    url: `/product/${product.id}`,
    price,
    priceCurrency: CURRENCY,
    availability: 'https://schema.org/InStock',
    itemCondition: 'https://schema.org/NewCondition',
    ...(product.promoCents === undefined
      ? {}
      : {
          priceSpecification: [
            { '@type': 'UnitPriceSpecification', price, priceCurrency: CURRENCY },
            {
              '@type': 'UnitPriceSpecification',
              priceType: 'https://schema.org/StrikethroughPrice',
              price: formatCents(product.regularCents),
              priceCurrency: CURRENCY,
            },
          ],
        }),
  };
}

const describeProduct = (product: Product): string =>
  `A dependable ${CATEGORY_NAMES[product.category].toLowerCase()} item from the ${SHOP_NAME}, in stock and ready to ship within 24 hours.`;

/**
 * The catalogue's pages, each rendered once and then reused: they depend only on
 * the catalogue and the rules, so with the page cache off (cacheTtlS 0) a request
 * still costs a lookup, not a render.
 */
export class ShopPages {
  private readonly rendered = new Map<string, RenderedPage>();

  constructor(private readonly rules: CartRules) {}

  homepage(): RenderedPage {
    return this.memo('/', () => this.renderHomepage());
  }

  category(slug: string): RenderedPage {
    return isCategorySlug(slug) ? this.memo(`/category/${slug}`, () => this.renderCategory(slug)) : this.notFound();
  }

  product(idParam: string): RenderedPage {
    // Strict digits only: "1abc" or "01" must not alias product 1 in the cache.
    const product = /^[1-9]\d{0,3}$/.test(idParam) ? findProduct(Number(idParam)) : undefined;
    return product ? this.memo(`/product/${product.id}`, () => this.renderProduct(product)) : this.notFound();
  }

  notFound(): RenderedPage {
    return this.memo('404', () => ({
      statusCode: 404,
      html: layout(
        { title: 'Page not found', description: 'This page does not exist.', bodyClass: 'page--error', head: '<meta name="robots" content="noindex">', main: '<h1>This page does not exist</h1>\n<p><a href="/">Back to the shop</a></p>' },
        this.rules,
      ),
    }));
  }

  /** An error as a browser shows it: the same code and message as the JSON answer. Rare, so rendered each time. */
  error(statusCode: number, { code, message }: ErrorBody): string {
    const title = ERROR_TITLES[statusCode] ?? 'Something went wrong';
    const main = `<h1>${title}</h1>\n<p class="error-message" data-error-code="${code}">${escapeHtml(message)}</p>\n<p><a href="/">Back to the shop</a></p>`;
    return layout({ title, description: escapeHtml(message), bodyClass: 'page--error', head: '<meta name="robots" content="noindex">', main }, this.rules);
  }

  private memo(key: string, render: () => RenderedPage): RenderedPage {
    let page = this.rendered.get(key);
    if (!page) {
      page = render();
      this.rendered.set(key, page);
    }
    return page;
  }

  private renderHomepage(): RenderedPage {
    const featured = allProducts().slice(0, 8);
    const categories = CATEGORY_SLUGS.map((slug) => `<li><a class="category-link" href="/category/${slug}">${CATEGORY_NAMES[slug]}</a></li>`).join('\n');
    const description = `${SHOP_NAME}: shoes, electronics, books and kitchen, with this week's promotions.`;
    const head = `${openGraph({ 'og:type': 'website', 'og:site_name': SHOP_NAME, 'og:title': SHOP_NAME, 'og:description': description })}
${jsonLd({ '@graph': [{ '@type': 'Organization', name: SHOP_NAME, url: '/' }, { '@type': 'WebSite', name: SHOP_NAME, url: '/' }] })}`;
    const main = `<h1>Welcome to the ${SHOP_NAME}</h1>
<section class="featured"><h2>Featured products</h2>
${productGrid(featured)}
</section>
<section class="categories"><h2>Shop by category</h2>
<ul class="category-list">
${categories}
</ul>
</section>`;
    return { statusCode: 200, html: layout({ title: 'Home', description, bodyClass: 'page--home', head, main }, this.rules) };
  }

  private renderCategory(slug: CategorySlug): RenderedPage {
    const name = CATEGORY_NAMES[slug];
    const products = productsIn(slug);
    const crumbs: Crumb[] = [{ name: 'Home', path: '/' }, { name }];
    const description = `${name} at the ${SHOP_NAME}: ${products.length} products.`;
    const itemList = {
      '@type': 'ItemList',
      numberOfItems: products.length,
      itemListElement: products.map((product, index) => ({ '@type': 'ListItem', position: index + 1, url: `/product/${product.id}`, name: product.name })),
    };
    const head = `${openGraph({ 'og:type': 'website', 'og:site_name': SHOP_NAME, 'og:title': name, 'og:description': description })}
${jsonLd({ '@graph': [{ '@type': 'CollectionPage', name, url: `/category/${slug}`, mainEntity: itemList }, breadcrumbList(crumbs)] })}`;
    const main = `${breadcrumbNav(crumbs)}
<h1 class="category-title">${name}</h1>
<p class="category-count">${products.length} products</p>
${productGrid(products)}`;
    return { statusCode: 200, html: layout({ title: name, description, bodyClass: 'page--category', head, main }, this.rules) };
  }

  private renderProduct(product: Product): RenderedPage {
    const categoryName = CATEGORY_NAMES[product.category];
    const crumbs: Crumb[] = [{ name: 'Home', path: '/' }, { name: categoryName, path: `/category/${product.category}` }, { name: product.name }];
    const related = productsIn(product.category).filter((other) => other.id !== product.id).slice(0, 3);
    const description = describeProduct(product);
    const price = formatCents(product.promoCents ?? product.regularCents);
    const saleTags: Record<string, string> =
      product.promoCents === undefined ? {} : { 'product:original_price:amount': formatCents(product.regularCents), 'product:original_price:currency': CURRENCY, 'product:sale_price:amount': price, 'product:sale_price:currency': CURRENCY };
    const head = `${openGraph({ 'og:type': 'product', 'og:site_name': SHOP_NAME, 'og:title': product.name, 'og:description': description, 'product:price:amount': price, 'product:price:currency': CURRENCY, ...saleTags })}
${jsonLd({
  '@graph': [
    { '@type': 'Product', name: product.name, sku: product.sku, productID: String(product.id), description, category: categoryName, brand: { '@type': 'Brand', name: SHOP_NAME }, offers: offer(product) },
    breadcrumbList(crumbs),
  ],
})}`;
    // data-promo="striked_price" is what the hand-written promo scenario checks for; discovery reads the <del>/<ins> pair and the JSON-LD.
    const prices =
      product.promoCents === undefined
        ? `<span class="price">${money(product.regularCents)}</span>`
        : `<del class="price price--old">${money(product.regularCents)}</del> <ins class="price price--sale" data-promo="striked_price">${money(product.promoCents)}</ins> <span class="badge badge--sale">−${percentOff(product)} %</span>`;
    const main = `${breadcrumbNav(crumbs)}
<article class="product" data-product-id="${product.id}">
<h1 class="product__title">${product.name}</h1>
<p class="product__sku">SKU ${product.sku}</p>
<div class="product__price">${prices}</div>
<p class="product__stock">In stock</p>
<p class="product__description">${description}</p>
<div class="product__buy"><label for="quantity">Quantity</label> <input id="quantity" class="quantity" type="number" name="quantity" value="1" min="1" max="99">
<button type="button" class="add-to-cart" data-add-to-cart data-product-id="${product.id}">Add to cart</button></div>
<p class="product__status" role="status" aria-live="polite"></p>
</article>
<section class="related"><h2>You may also like</h2>
${productGrid(related)}
</section>`;
    return { statusCode: 200, html: layout({ title: product.name, description, bodyClass: 'page--product', head, main }, this.rules) };
  }
}
