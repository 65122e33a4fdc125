// Requests to shop pages, each tagged with its page_type.
import http from 'k6/http';
import type { RefinedParams, RefinedResponse, ResponseType } from 'k6/http';
import { type Env, k6Env, text } from './env.ts';
import type { PageType } from './tags.ts';

export interface ShopPaths {
  homepage: string;
  category: string;
  product: string;
  cartItems: string;
  promoCode: string;
}

/** Paths of the demo shop; HOME_PATH, CATEGORY_PATH, PRODUCT_PATH, … point them at a real shop. */
export function shopPaths(env: Env = k6Env()): ShopPaths {
  return {
    homepage: text(env, 'HOME_PATH', '/'),
    category: text(env, 'CATEGORY_PATH', '/category/shoes'),
    product: text(env, 'PRODUCT_PATH', '/product/1'),
    cartItems: text(env, 'CART_ITEMS_PATH', '/api/cart/items'),
    promoCode: text(env, 'PROMO_CODE_PATH', '/api/cart/promo-code'),
  };
}

type Params = RefinedParams<ResponseType | undefined>;

function tagged(pageType: PageType, params: Params = {}): Params {
  return { ...params, tags: { ...(params.tags ?? {}), page_type: pageType } };
}

export function getPage(url: string, pageType: PageType, params?: Params): RefinedResponse<ResponseType | undefined> {
  return http.get(url, tagged(pageType, params));
}

export function postJson(url: string, body: unknown, pageType: PageType, params: Params = {}) {
  const headers = { 'Content-Type': 'application/json', ...(params.headers ?? {}) };
  return http.post(url, JSON.stringify(body), tagged(pageType, { ...params, headers }));
}
