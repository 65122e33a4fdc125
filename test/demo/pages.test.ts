import { describe, expect, it } from 'vitest';
import { buildDemoApp } from '../../demo/app.ts';
import { visitor } from './visitor.ts';

const app = buildDemoApp();
const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

type JsonLd = Record<string, any>;

/** Every node of every JSON-LD block, @graph flattened, as a schema.org reader sees them. */
function jsonLdNodes(html: string): JsonLd[] {
  const blocks = [...html.matchAll(/<script type="application\/ld\+json">(.*?)<\/script>/gs)].map((match) => JSON.parse(match[1]) as JsonLd);
  return blocks.flatMap((block) => {
    expect(block['@context']).toBe('https://schema.org');
    return block['@graph'] ?? [block];
  });
}
const nodeOf = (html: string, type: string): JsonLd | undefined => jsonLdNodes(html).find((node) => node['@type'] === type);
const openGraph = (html: string): Record<string, string> =>
  Object.fromEntries([...html.matchAll(/<meta property="([^"]+)" content="([^"]*)">/g)].map((match) => [match[1], match[2]]));
const mainOf = (html: string): string => html.slice(html.indexOf('<main>'), html.indexOf('</main>'));
const gridLinks = (html: string): number[] => [...html.matchAll(/<a class="product-card__link" href="\/product\/(\d+)">/g)].map((match) => Number(match[1]));
const breadcrumbText = (html: string): string[] =>
  [...(/<nav class="breadcrumbs"[^>]*>(.*?)<\/nav>/.exec(html)?.[1] ?? '').matchAll(/<li[^>]*>(.*?)<\/li>/g)].map((match) => match[1].replace(/<[^>]+>/g, ''));
const euros = (text: string): number => Number(text.replace('€', ''));

describe('the product page', () => {
  it('describes the product in JSON-LD and OpenGraph with the price the cart then charges', async () => {
    const shopper = visitor(app);
    for (const id of [1, 2]) {
      const page = (await shopper.get(`/product/${id}`)).body;
      const product = nodeOf(page, 'Product')!;
      expect(product).toMatchObject({ sku: `DS-000${id}`, productID: String(id), offers: { '@type': 'Offer', priceCurrency: 'EUR', availability: 'https://schema.org/InStock' } });
      const added = (await shopper.postJson('/api/cart/items', { productId: id, qty: 1 })).json();
      const line = added.items.find((item: { productId: number }) => item.productId === id);
      expect(line.name).toBe(product.name);
      expect(Number(product.offers.price)).toBe(line.unitPrice);
      expect(openGraph(page)).toMatchObject({ 'og:type': 'product', 'og:title': product.name, 'product:price:amount': product.offers.price, 'product:price:currency': 'EUR' });
      expect(page).toContain(`<h1 class="product__title">${product.name}</h1>`);
    }
  });

  it('shows a striked price on promo: the old price in <del>, the new one after it, the same pair in JSON-LD and OpenGraph', async () => {
    const page = (await get('/product/1')).body;
    expect(page).toContain(
      '<div class="product__price"><del class="price price--old">€129.00</del> <ins class="price price--sale" data-promo="striked_price">€99.00</ins> <span class="badge badge--sale">−23 %</span></div>',
    );
    expect(nodeOf(page, 'Product')!.offers).toMatchObject({
      price: '99.00',
      priceSpecification: [
        { '@type': 'UnitPriceSpecification', price: '99.00', priceCurrency: 'EUR' },
        { '@type': 'UnitPriceSpecification', priceType: 'https://schema.org/StrikethroughPrice', price: '129.00', priceCurrency: 'EUR' },
      ],
    });
    expect(openGraph(page)).toMatchObject({ 'product:original_price:amount': '129.00', 'product:sale_price:amount': '99.00' });
  });

  it('gives exactly the odd product ids a striked price, always above the price JSON-LD gives', async () => {
    for (let id = 1; id <= 50; id++) {
      const page = (await get(`/product/${id}`)).body;
      const prices = /<div class="product__price">(.*?)<\/div>/.exec(page)![1];
      const offer = nodeOf(page, 'Product')!.offers;
      const striked = /<del class="price price--old">([^<]+)<\/del> <ins class="price price--sale" data-promo="striked_price">([^<]+)<\/ins>/.exec(prices);
      expect(striked !== null, `product ${id}`).toBe(id % 2 === 1);
      if (striked) {
        expect(euros(striked[1])).toBeGreaterThan(euros(striked[2]));
        expect(euros(striked[2])).toBe(Number(offer.price));
        expect(offer.priceSpecification[1].price).toBe(euros(striked[1]).toFixed(2));
      } else {
        expect(prices).toBe(`<span class="price">€${offer.price}</span>`);
        expect(offer.priceSpecification).toBeUndefined();
      }
    }
  });

  it('posts no form: its add-to-cart button carries the product id for the storefront script the page loads', async () => {
    const page = (await get('/product/7')).body;
    expect(page).not.toContain('<form');
    expect(page).toContain('<button type="button" class="add-to-cart" data-add-to-cart data-product-id="7">Add to cart</button>');
    expect(page).toContain('<input id="quantity" class="quantity" type="number" name="quantity" value="1" min="1" max="99">');
    expect(page).toContain('<script src="/assets/shop.js" defer></script>');
    const script = await get('/assets/shop.js');
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toContain("fetch('/api/cart/items'");
    expect(script.body).toContain("'X-CSRF-Token': cookie('csrf_token')");
    const again = await get('/assets/shop.js', { 'if-none-match': String(script.headers.etag) });
    expect(again.statusCode).toBe(304);
  });

  it('has breadcrumbs Home › category › product, in the page and as a BreadcrumbList', async () => {
    const page = (await get('/product/6')).body;
    expect(breadcrumbText(page)).toEqual(['Home', 'Electronics', 'Headphones No. 6']);
    expect(nodeOf(page, 'BreadcrumbList')!.itemListElement).toEqual([
      { '@type': 'ListItem', position: 1, name: 'Home', item: '/' },
      { '@type': 'ListItem', position: 2, name: 'Electronics', item: '/category/electronics' },
      { '@type': 'ListItem', position: 3, name: 'Headphones No. 6' },
    ]);
  });
});

describe('the category page', () => {
  it('lists its products as links, the same in the page and in the CollectionPage ItemList', async () => {
    const page = (await get('/category/shoes')).body;
    const shoes = [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49];
    expect(gridLinks(mainOf(page))).toEqual(shoes);
    const collection = nodeOf(page, 'CollectionPage')!;
    expect(collection.mainEntity['@type']).toBe('ItemList');
    expect(collection.mainEntity.numberOfItems).toBe(shoes.length);
    expect(collection.mainEntity.itemListElement.map((item: JsonLd) => item.url)).toEqual(shoes.map((id) => `/product/${id}`));
    expect(breadcrumbText(page)).toEqual(['Home', 'Shoes']);
    expect(nodeOf(page, 'BreadcrumbList')!.itemListElement).toHaveLength(2);
    expect(openGraph(page)['og:type']).toBe('website');
    expect(nodeOf(page, 'Product')).toBeUndefined();
  });
});

describe('the homepage', () => {
  it('links to every category and to featured products, and describes itself as a WebSite, neither a collection nor a product', async () => {
    const page = (await get('/')).body;
    const nav = /<nav class="site-nav"[^>]*>(.*?)<\/nav>/.exec(page)![1];
    expect([...nav.matchAll(/href="([^"]+)"/g)].map((match) => match[1])).toEqual(['/category/shoes', '/category/electronics', '/category/books', '/category/kitchen']);
    expect(gridLinks(mainOf(page))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(jsonLdNodes(page).map((node) => node['@type'])).toEqual(['Organization', 'WebSite']);
    expect(openGraph(page)['og:type']).toBe('website');
  });
});

describe('every page', () => {
  it('stays between 2 and 8 KB, so the demo stays cheap to serve and to read', async () => {
    for (const url of ['/', '/category/electronics', '/product/7', '/product/8']) {
      const page = await get(url);
      expect(page.statusCode).toBe(200);
      expect(page.body.length, url).toBeGreaterThan(2_000);
      expect(page.body.length, url).toBeLessThan(8_000);
    }
  });

  it('answers 404 for unknown products and categories, including ids that only look numeric', async () => {
    for (const url of ['/product/0', '/product/51', '/product/01', '/product/1abc', '/category/hats']) {
      const page = await get(url);
      expect(page.statusCode, url).toBe(404);
      expect(page.body).toContain('<h1>This page does not exist</h1>');
    }
  });

  it('answers 404 with a JSON body for routes the shop does not have, and with an HTML page to a browser', async () => {
    const page = await get('/nowhere?x=1');
    expect(page.statusCode).toBe(404);
    expect(page.json()).toEqual({ code: 'DEMO_ERR_NOT_FOUND', message: 'No route for GET /nowhere.' });
    const browser = await get('/nowhere', { accept: 'text/html' });
    expect(browser.statusCode).toBe(404);
    expect(browser.body).toContain('<h1>This page does not exist</h1>');
  });

  it('answers 200 on /health', async () => {
    const health = await get('/health');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
  });
});
