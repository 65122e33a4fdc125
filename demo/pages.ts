import {
  allProducts,
  CATEGORY_SLUGS,
  findProduct,
  formatCents,
  isCategorySlug,
  productsIn,
  type Product,
} from './catalog.ts';
import type { CartRules } from './cart.ts';

/** What the origin produces for a page; the cache stores exactly this. */
export interface RenderedPage {
  statusCode: number;
  html: string;
}

type PageType = 'homepage' | 'category' | 'product' | 'not_found';

// Everything interpolated below comes from the catalogue or validated
// parameters, never from raw request text, so no HTML escaping is needed.
function layout(pageType: PageType, title: string, main: string, rules: CartRules): string {
  const nav = CATEGORY_SLUGS.map((slug) => `<a href="/category/${slug}">${slug}</a>`).join(' | ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} · Demo Shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="page-type" content="${pageType}"></head>
<body data-page-type="${pageType}">
<header><a href="/">Demo Shop</a> <nav>${nav}</nav> <a href="/api/cart" class="cart-link">Cart</a></header>
<aside class="promo-banner">
<p data-promo="auto_cart">${rules.autoCartPercent}% off every cart from ${formatCents(rules.autoCartThresholdCents)}, applied automatically.</p>
<p data-promo="manual_code">Use code <code>${rules.promoCode}</code> at the cart for ${rules.promoCodePercent}% off.</p>
</aside>
<main>
${main}
</main>
<footer><p>Demo Shop is a load-testing target. Prices in EUR, taxes included. Free shipping from 50.00.</p></footer>
</body></html>
`;
}

function priceHtml(product: Product): string {
  if (product.promoCents === undefined) return `<span class="price">${formatCents(product.regularCents)}</span>`;
  return `<s class="price-old">${formatCents(product.regularCents)}</s> <span class="price-promo" data-promo="striked_price">${formatCents(product.promoCents)}</span>`;
}

function productList(products: readonly Product[]): string {
  const items = products.map(
    (product) => `<li class="product-card"><a href="/product/${product.id}">${product.name}</a> ${priceHtml(product)}</li>`,
  );
  return `<ul class="product-list">\n${items.join('\n')}\n</ul>`;
}

function notFound(rules: CartRules): RenderedPage {
  return { statusCode: 404, html: layout('not_found', 'Not found', '<h1>This page does not exist</h1>', rules) };
}

export function renderHomepage(rules: CartRules): RenderedPage {
  const featured = allProducts().slice(0, 12);
  const main = `<h1>Welcome to the Demo Shop</h1>\n<h2>Featured products</h2>\n${productList(featured)}`;
  return { statusCode: 200, html: layout('homepage', 'Home', main, rules) };
}

export function renderCategory(slug: string, rules: CartRules): RenderedPage {
  if (!isCategorySlug(slug)) return notFound(rules);
  const main = `<h1 class="category-title">Category: ${slug}</h1>\n${productList(productsIn(slug))}`;
  return { statusCode: 200, html: layout('category', slug, main, rules) };
}

export function renderProduct(idParam: string, rules: CartRules): RenderedPage {
  // Strict digits only: "1abc" or "01" must not alias product 1 in the cache.
  const product = /^[1-9]\d{0,3}$/.test(idParam) ? findProduct(Number(idParam)) : undefined;
  if (!product) return notFound(rules);
  const related = productsIn(product.category).filter((other) => other.id !== product.id).slice(0, 3);
  const main = `<article class="product" data-product-id="${product.id}">
<h1>${product.name}</h1>
<p class="prices">${priceHtml(product)}</p>
<p>A dependable ${product.category} item, in stock and ready to ship within 24 hours.</p>
<form method="post" action="/api/cart/items" data-product-id="${product.id}"><input type="number" name="qty" value="1" min="1"> <button type="submit">Add to cart</button></form>
</article>
<h2>You may also like</h2>
${productList(related)}`;
  return { statusCode: 200, html: layout('product', product.name, main, rules) };
}
