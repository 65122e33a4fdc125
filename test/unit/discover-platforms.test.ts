// Page types and promo types on fixtures written by hand after the public templates of
// PrestaShop 8 (classic), WooCommerce, Shopify (Dawn), Magento 2 (Luma) and Shopware 6:
// each page's type, its promo, its platform, and the evidence discovery prints for it.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../build/bundle.ts';
import { parsePage } from '../../cli/discover/page.ts';
import { classifyPage } from '../../cli/discover/classify.ts';
import { pagePromo } from '../../cli/discover/promo.ts';
import { evidenceLines, promoWords } from '../../cli/discover/journey.ts';

const fixture = (platform: string, page: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'platforms', platform, `${page}.html`), 'utf8');

const cases = [
  { dir: 'prestashop', platform: 'PrestaShop', page: 'product', url: 'https://shop.example/fr/vetements/1-sweat-ours-brun.html', kind: 'product', promo: 'striked_price', evidence: ['body class page-product', 'og:type product', 'an add-to-cart form (button "Ajouter au panier"; form id=add-to-cart-or-refresh; field id_product=1)', 'old price 35.85 struck through (.regular-price), price now 28.68: −20 %'] },
  { dir: 'prestashop', platform: 'PrestaShop', page: 'category', url: 'https://shop.example/fr/3-vetements', kind: 'category', promo: 'striked_price', evidence: ['body class page-category', '3 links to products with their prices', '1 struck-through price among the products listed'] },
  { dir: 'prestashop', platform: 'PrestaShop', page: 'cart', url: 'https://shop.example/fr/panier?action=show', kind: 'cart', promo: 'manual_code', evidence: ['body class page-cart', 'a promo code form (field discount_name ("Code promo")'] },
  { dir: 'woocommerce', platform: 'WooCommerce', page: 'product', url: 'https://store.example/product/hoodie-with-logo/', kind: 'product', promo: 'striked_price', evidence: ['JSON-LD Product "Hoodie with Logo" with an Offer at 36', 'body class product-template-default', 'an add-to-cart form (button "Add to cart")', 'old price 45.00 struck through (<del>), price now 36.00 (the JSON-LD Offer): −20 %'] },
  { dir: 'woocommerce', platform: 'WooCommerce', page: 'category', url: 'https://store.example/product-category/clothing/', kind: 'category', promo: 'striked_price', evidence: ['body class tax-product_cat', '3 links to products with their prices'] },
  { dir: 'woocommerce', platform: 'WooCommerce', page: 'cart', url: 'https://store.example/cart/', kind: 'cart', promo: 'auto_cart', evidence: ['body class woocommerce-cart', 'the path /cart/ names a cart', 'a discount line "Three or more: 10% off" (−10.80)'] },
  { dir: 'shopify', platform: 'Shopify', page: 'product', url: 'https://dawn-store.example/products/ocean-blue-shirt', kind: 'product', promo: 'striked_price', evidence: ['JSON-LD Product "Ocean Blue Shirt" with an Offer at 40', 'og:type product', 'action /cart/add', 'old price 50.00 struck through (<s>), price now 40.00 (the JSON-LD Offer): −20 %'] },
  { dir: 'shopify', platform: 'Shopify', page: 'category', url: 'https://dawn-store.example/collections/shirts', kind: 'category', promo: 'striked_price', evidence: ['JSON-LD CollectionPage', '3 links to products with their prices'] },
  { dir: 'shopify', platform: 'Shopify', page: 'cart', url: 'https://dawn-store.example/cart', kind: 'cart', promo: 'auto_cart', evidence: ['the path /cart names a cart', 'a cart form with its line fields (updates[])', 'a discount line "BUY2SAVE10" (−8.00)'] },
  { dir: 'magento', platform: 'Magento 2', page: 'product', url: 'https://luma.example/radiant-tee.html', kind: 'product', promo: 'striked_price', evidence: ['body class catalog-product-view', 'og:type product', 'action /checkout/cart/add/uenc/', 'old price 22.00 struck through (.old-price), price now 17.60: −20 %'] },
  { dir: 'magento', platform: 'Magento 2', page: 'category', url: 'https://luma.example/women/tops-women/tees-women.html', kind: 'category', promo: 'none', evidence: ['body class catalog-category-view', '3 add-to-cart forms, one per product'] },
  { dir: 'magento', platform: 'Magento 2', page: 'cart', url: 'https://luma.example/checkout/cart/', kind: 'cart', promo: 'manual_code', evidence: ['body class checkout-cart-index', 'a promo code form (action /checkout/cart/couponPost/; field coupon_code ("Enter discount code"); form id=discount-coupon-form)'] },
  { dir: 'shopware', platform: 'Shopware 6', page: 'product', url: 'https://demostore.example/de/Hauptprodukt-mit-Rabatt/SWDEMO10002', kind: 'product', promo: 'striked_price', evidence: ['JSON-LD Product "Hauptprodukt mit Rabatt" with an Offer at 16', 'body class is-ctl-product', 'action /de/checkout/line-item/add', 'old price 20.00 struck through (.list-price-price), price now 16.00 (the JSON-LD Offer): −20 %'] },
  { dir: 'shopware', platform: 'Shopware 6', page: 'category', url: 'https://demostore.example/de/Lebensmittel/Snacks/', kind: 'category', promo: 'striked_price', evidence: ['body class is-ctl-navigation', '3 add-to-cart forms, one per product'] },
  { dir: 'shopware', platform: 'Shopware 6', page: 'cart', url: 'https://demostore.example/de/checkout/cart', kind: 'cart', promo: 'manual_code', evidence: ['body class is-act-cartpage', 'a promo code form (action /de/checkout/promotion/add; field code ("Gutschein-/Aktionscode"); form class=cart-add-promotion)'] },
] as const;

describe('platform markup', () => {
  it.each(cases)('$platform $page page: page type $kind, promo $promo, with its evidence', ({ dir, platform, page, url, kind, promo, evidence }) => {
    const parsed = parsePage(url, fixture(dir, page));
    const cls = classifyPage(parsed, url);
    const found = pagePromo(parsed, cls.kind);
    const printed = evidenceLines(cls.evidence, found).join('\n');
    expect({ kind: cls.kind, promo: found.type, platform: cls.platform.platform }).toEqual({ kind, promo, platform });
    for (const piece of evidence) expect(printed).toContain(piece);
    expect(printed).toContain(`platform ${platform} (`);
  });

  it('does not call a related product\'s struck price the product\'s own', () => {
    const html = fixture('woocommerce', 'product').replace(/<del aria-hidden="true">.*?<\/del> <span class="screen-reader-text">Original price was: &#036;45.00.<\/span>/, '');
    const parsed = parsePage('https://store.example/product/hoodie-with-logo/', html);
    expect(pagePromo(parsed, 'product').type).toBe('none');
  });

  it("quotes a discount line's name with its own parentheses, and without the one its amount left open", () => {
    const cart = (line: string) =>
      parsePage('https://shop.example/basket/', `<html><body><table class="basket-totals"><tr class="discount"><th>${line}</th><td>−659.70 €</td></tr><tr><th>Total</th><td>3 738.30 €</td></tr></table></body></html>`);
    expect(pagePromo(cart('Black Friday BF2026 (BF2026)'), 'cart').evidence).toContain('a discount line "Black Friday BF2026 (BF2026)" (−659.70)');
    expect(pagePromo(cart('Black Friday (−659.70 €)'), 'cart').evidence).toContain('a discount line "Black Friday" (−659.70)');
  });

  it('says "no promo found" only where discovery looked in the cart too; without a cart it says what it did not look for', () => {
    const nothing = { name: 'Hoodie', code: null, auto: null, striked: null, promoCode: undefined, typeGiven: false };
    expect(promoWords('none', { ...nothing, cartLookedAt: true })).toBe('Hoodie: no promo found');
    const pagesOnly = promoWords('none', { ...nothing, cartLookedAt: false });
    expect(pagesOnly).toBe('Hoodie: no struck-through price on the product page; this scenario visits no cart, so a cart discount or a code was not looked for (promo --url looks there)');
    expect(pagesOnly).not.toMatch(/no promo found/);
    expect(promoWords('none', { ...nothing, promoCode: 'BF2026', cartLookedAt: false })).not.toMatch(/no promo found/);
    expect(promoWords('none', { ...nothing, cartLookedAt: false, typeGiven: true })).toBe('Hoodie: no promo');
    expect(promoWords('striked_price', { ...nothing, striked: { percent: 20, oldPrice: 50 }, cartLookedAt: false })).toBe('Hoodie: −20 %, was 50.00');
  });
});
