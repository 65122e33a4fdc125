// The shop engine behind a page, from the markers each one leaves in its pages: a
// generator meta, body classes, global scripts, asset paths and known form actions.
// The platform is evidence for the page type; discovery never depends on it.
import type { Page } from './page.ts';

export const PLATFORMS = ['PrestaShop', 'WooCommerce', 'Shopify', 'Magento 2', 'Shopware 6', 'django-oscar'] as const;
export type Platform = (typeof PLATFORMS)[number];

interface Marker {
  test: (page: Page) => boolean;
  says: string;
}

const hasForm = (page: Page, re: RegExp) => page.forms.some((f) => re.test(new URL(f.action).pathname));
const rawHas = (page: Page, re: RegExp) => re.test(page.raw);

const MARKERS: Record<Platform, Marker[]> = {
  PrestaShop: [
    { test: (p) => /prestashop/i.test(p.meta.generator ?? ''), says: 'generator meta PrestaShop' },
    { test: (p) => rawHas(p, /\bvar prestashop\s*=|prestashop\.urls|window\.prestashop\b/), says: 'the global prestashop script object' },
    { test: (p) => p.forms.some((f) => /id=add-to-cart-or-refresh/.test(f.attributes)), says: 'form #add-to-cart-or-refresh' },
    { test: (p) => p.forms.some((f) => /data-link-action=add-voucher/.test(f.attributes)), says: 'form [data-link-action=add-voucher]' },
    { test: (p) => p.bodyClasses.some((c) => /^page-(index|category|product|cart)$/.test(c)) && /^(index|category|product|cart)$/.test(p.bodyId), says: 'body id and page-* class of the classic theme' },
  ],
  WooCommerce: [
    { test: (p) => /woocommerce/i.test(p.meta.generator ?? ''), says: 'generator meta WooCommerce' },
    { test: (p) => p.bodyClasses.includes('woocommerce') || p.bodyClasses.includes('woocommerce-page'), says: 'body class woocommerce' },
    { test: (p) => p.forms.some((f) => /woocommerce-cart-form/.test(f.attributes)), says: 'form .woocommerce-cart-form' },
    { test: (p) => p.forms.some((f) => f.buttons.some((b) => b.name === 'add-to-cart')), says: 'a button named add-to-cart' },
    { test: (p) => rawHas(p, /wc-add-to-cart|woocommerce_params|wc_add_to_cart_params/), says: 'the wc-add-to-cart script' },
  ],
  Shopify: [
    { test: (p) => rawHas(p, /\bwindow\.Shopify\b|\bShopify\.shop\s*=|var Shopify\s*=/), says: 'the global Shopify script object' },
    { test: (p) => rawHas(p, /cdn\.shopify\.com|\/cdn\/shop\//), says: 'assets from the Shopify CDN' },
    { test: (p) => hasForm(p, /^\/cart\/add(\.js)?$/), says: 'a form posting to /cart/add' },
    { test: (p) => p.forms.some((f) => f.fields.some((x) => x.name === 'form_type' && x.value === 'product')), says: 'form_type=product' },
  ],
  'Magento 2': [
    { test: (p) => /magento/i.test(p.meta.generator ?? ''), says: 'generator meta Magento' },
    { test: (p) => p.bodyClasses.some((c) => /^(catalog-product-view|catalog-category-view|checkout-cart-index|cms-index-index)$/.test(c)), says: 'a Magento layout-handle body class' },
    { test: (p) => rawHas(p, /data-mage-init|text\/x-magento-init/), says: 'x-magento-init scripts' },
    { test: (p) => p.forms.some((f) => f.fields.some((x) => x.name === 'form_key')), says: 'a form_key field' },
    { test: (p) => hasForm(p, /\/checkout\/cart\/(add|couponPost)\b/), says: 'a form posting to /checkout/cart/add or couponPost' },
  ],
  'Shopware 6': [
    { test: (p) => /shopware/i.test(p.meta.generator ?? '') || /shopware/i.test(p.meta.author ?? ''), says: 'generator meta Shopware' },
    { test: (p) => p.bodyClasses.some((c) => /^is-ctl-/.test(c)) && p.bodyClasses.some((c) => /^is-act-/.test(c)), says: 'body classes is-ctl-* is-act-*' },
    { test: (p) => hasForm(p, /\/checkout\/(line-item|promotion)\/add$/), says: 'a form posting to /checkout/line-item/add or /checkout/promotion/add' },
    { test: (p) => rawHas(p, /data-add-to-cart="true"|window\.router\s*=|data-offcanvas-cart/), says: 'Shopware storefront plugins (data-add-to-cart, data-offcanvas-cart)' },
  ],
  'django-oscar': [
    { test: (p) => rawHas(p, /\/static\/oscar\//), says: 'assets under /static/oscar/' },
    { test: (p) => rawHas(p, /\boscar\.init\(\)/), says: 'the oscar.init() script' },
    { test: (p) => hasForm(p, /\/basket\/(add\/\d+|vouchers\/add)\/$/), says: 'a form posting to basket/add/<id>/ or basket/vouchers/add/' },
    { test: (p) => p.$('article.product_page, article.product_pod').length > 0, says: 'article.product_page or article.product_pod' },
  ],
};

export interface PlatformFinding {
  platform: Platform | null;
  evidence: string[];
}

/** The platform with the most markers (at least two, or one generator meta). */
export function detectPlatform(page: Page): PlatformFinding {
  let best: PlatformFinding = { platform: null, evidence: [] };
  for (const platform of PLATFORMS) {
    const evidence = MARKERS[platform].filter((m) => m.test(page)).map((m) => m.says);
    const strong = evidence.some((e) => e.startsWith('generator meta'));
    if ((evidence.length >= 2 || strong) && evidence.length > best.evidence.length) best = { platform, evidence };
  }
  return best;
}
