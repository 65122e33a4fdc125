// The promo path: homepage → category → product page with the promo, then the cart
// where an automatic rule or a manual code applies.
import { sleep, check } from 'k6';
import http from 'k6/http';
import {
  scenarioSetup, constantLoad, shopPaths, getPage, postJson, checkPage, jsonBody, text, k6Env,
  handleSummary, pageThresholdsFromEnv, bodyText, recordPromoApplied, promoThresholds, type PageType,
} from '../lib/index.ts';

interface Cart {
  discounts?: Array<{ type: string }>;
}

const promoTypeEnv = k6Env().PROMO_TYPE;
// Each page the run visits has a p95 goal of its own (the cart only when the promo uses it).
const visited: PageType[] = ['homepage', 'category', 'product', ...(promoTypeEnv === 'auto_cart' || promoTypeEnv === 'manual_code' ? (['cart'] as const) : [])];
// Each page's p95 goal, and the promo applied on (nearly) every visit: its own result.
const setup = scenarioSetup('promo', constantLoad, { thresholds: { ...pageThresholdsFromEnv(visited), ...promoThresholds(promoTypeEnv) } as never });
const paths = shopPaths();
const base = setup.profile.baseUrl;
const promoCode = text(k6Env(), 'PROMO_CODE', 'BLACKFRIDAY');
const promoType = setup.tags.promo_type;
export const options = setup.options;

// The demo shop refuses cart writes without the session's CSRF token: the csrf_token cookie
// set on the first page goes back in the X-CSRF-Token header, as the product page's script does.
function csrfHeader(): { headers?: Record<string, string> } {
  const token = http.cookieJar().cookiesForURL(base + paths.cartItems).csrf_token?.[0];
  return token === undefined ? {} : { headers: { 'X-CSRF-Token': token } };
}

function hasDiscount(res: Parameters<typeof jsonBody>[0], type: string): boolean {
  return (jsonBody<Cart>(res)?.discounts ?? []).some((d) => d.type === type);
}

export default function () {
  setup.announce();
  checkPage(getPage(base + paths.homepage, 'homepage'), 'homepage');
  checkPage(getPage(base + paths.category, 'category'), 'category');
  const product = getPage(base + paths.product, 'product');
  checkPage(product, 'product page', promoType === 'striked_price' ? 'data-promo="striked_price"' : undefined);
  if (promoType === 'striked_price') recordPromoApplied(product.status === 200 && bodyText(product).includes('data-promo="striked_price"'));

  if (promoType === 'auto_cart' || promoType === 'manual_code') {
    // Enough items to cross the automatic rule's threshold.
    const added = postJson(base + paths.cartItems, { productId: 1, qty: 2 }, 'cart', csrfHeader());
    if (promoType === 'auto_cart') {
      check(added, { 'cart applies the automatic promo': (r) => recordPromoApplied(r.status === 200 && hasDiscount(r, 'auto_cart')) });
    } else {
      const applied = postJson(base + paths.promoCode, { code: promoCode }, 'cart', csrfHeader());
      check(applied, { 'cart accepts the promo code': (r) => recordPromoApplied(r.status === 200 && hasDiscount(r, 'manual_code')) });
    }
  }
  sleep(setup.profile.thinkTimeMs / 1000);
}

export { handleSummary };
