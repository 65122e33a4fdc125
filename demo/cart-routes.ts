import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OriginCapacity } from './capacity.ts';
import { addToCart, emptyCart, MAX_LINE_QTY, priceCart, promoCodeMatches, type Cart, type CartRules, type CartView } from './cart.ts';
import { findProduct } from './catalog.ts';
import { DemoHttpError } from './errors.ts';
import type { BoundedLru } from './lru.ts';
import { numberField, required, stringField, strictObject } from './validate.ts';

interface CartRouteDeps {
  /** Bounded, so a load test with fresh cookie jars cannot grow memory forever. */
  carts: BoundedLru<string, Cart>;
  capacity: OriginCapacity;
  rules: CartRules;
}

const CART_COOKIE = /(?:^|;\s*)cart=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:;|$)/;

/** Every cart route is origin work, so it runs inside a capacity slot. */
export function registerCartRoutes(app: FastifyInstance, { carts, capacity, rules }: CartRouteDeps): void {
  const existingCart = (request: FastifyRequest): Cart | undefined => {
    const cartId = CART_COOKIE.exec(request.headers.cookie ?? '')?.[1];
    return cartId === undefined ? undefined : carts.get(cartId);
  };

  function cartForWriting(request: FastifyRequest, reply: FastifyReply): Cart {
    const found = existingCart(request);
    if (found) return found;
    const cartId = randomUUID();
    const cart = emptyCart();
    carts.set(cartId, cart);
    reply.header('set-cookie', `cart=${cartId}; Path=/; HttpOnly; SameSite=Lax`);
    return cart;
  }

  // Reading never creates a cart, so anonymous GETs cannot evict real carts.
  app.get('/api/cart', (request) => capacity.run((): CartView => priceCart(existingCart(request) ?? emptyCart(), rules)));

  app.post('/api/cart/items', (request, reply) =>
    capacity.run((): CartView => {
      const fields = strictObject(request.body, ['productId', 'qty']);
      const productId = required(numberField(fields, 'productId', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }), 'productId');
      const qty = required(numberField(fields, 'qty', { min: 1, max: MAX_LINE_QTY, integer: true }), 'qty');
      if (!findProduct(productId)) throw new DemoHttpError(404, 'DEMO_ERR_PRODUCT_NOT_FOUND', `Product ${productId} does not exist.`);
      const cart = cartForWriting(request, reply);
      addToCart(cart, productId, qty);
      return priceCart(cart, rules);
    }),
  );

  app.post('/api/cart/promo-code', (request, reply) =>
    capacity.run((): CartView => {
      const code = required(stringField(strictObject(request.body, ['code']), 'code', 64), 'code');
      if (!promoCodeMatches(code, rules)) {
        throw new DemoHttpError(422, 'DEMO_ERR_BAD_PROMO_CODE', 'This promo code does not exist or has expired.');
      }
      const cart = cartForWriting(request, reply);
      cart.promoCodeApplied = true;
      return priceCart(cart, rules);
    }),
  );
}
