import type { FastifyInstance, FastifyReply } from 'fastify';
import type { OriginCapacity } from './capacity.ts';
import { addToCart, BAD_CODE_MESSAGE, emptyCart, MAX_LINE_QTY, priceCart, promoCodeMatches, type Cart, type CartRules, type CartView } from './cart.ts';
import { findProduct } from './catalog.ts';
import { DemoHttpError } from './errors.ts';
import type { BoundedLru } from './lru.ts';
import { CSRF_HEADER, type Session, type Sessions } from './session.ts';
import { numberField, required, stringField, strictObject } from './validate.ts';

export interface CartRouteDeps {
  /** Keyed by session id. Bounded, so a load test with fresh cookie jars cannot grow memory forever. */
  carts: BoundedLru<string, Cart>;
  capacity: OriginCapacity;
  rules: CartRules;
  sessions: Sessions;
}

/** The session's cart, created on its first write. */
export function writableCart(carts: BoundedLru<string, Cart>, session: Session): Cart {
  let cart = carts.get(session.id);
  if (!cart) {
    cart = emptyCart();
    carts.set(session.id, cart);
  }
  return cart;
}

const badPromoCode = (): DemoHttpError => new DemoHttpError(422, 'DEMO_ERR_BAD_PROMO_CODE', BAD_CODE_MESSAGE);

// A cart belongs to one visitor: no shared cache may keep it.
const privateAnswer = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'private, no-store');

/**
 * The JSON cart API the product page's script calls. Every write needs the
 * session's CSRF token in the X-CSRF-Token header. Every route is origin work,
 * so it runs inside a capacity slot.
 */
export function registerCartRoutes(app: FastifyInstance, { carts, capacity, rules, sessions }: CartRouteDeps): void {
  const presentedToken = (headers: Record<string, string | string[] | undefined>): unknown => headers[CSRF_HEADER.toLowerCase()];

  // Reading never creates a cart, so anonymous GETs cannot evict real carts.
  app.get('/api/cart', (request, reply) => {
    const session = sessions.resolve(request, privateAnswer(reply));
    return capacity.run((): CartView => priceCart(carts.get(session.id) ?? emptyCart(), rules));
  });

  app.post('/api/cart/items', (request, reply) =>
    capacity.run((): CartView => {
      privateAnswer(reply);
      const session = sessions.verified(request, presentedToken(request.headers), 'header');
      const fields = strictObject(request.body, ['productId', 'qty']);
      const productId = required(numberField(fields, 'productId', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }), 'productId');
      const qty = required(numberField(fields, 'qty', { min: 1, max: MAX_LINE_QTY, integer: true }), 'qty');
      if (!findProduct(productId)) throw new DemoHttpError(404, 'DEMO_ERR_PRODUCT_NOT_FOUND', `Product ${productId} does not exist.`);
      const cart = writableCart(carts, session);
      addToCart(cart, productId, qty);
      return priceCart(cart, rules);
    }),
  );

  app.post('/api/cart/promo-code', (request, reply) =>
    capacity.run((): CartView => {
      privateAnswer(reply);
      const session = sessions.verified(request, presentedToken(request.headers), 'header');
      const code = required(stringField(strictObject(request.body, ['code']), 'code', 64), 'code');
      if (!promoCodeMatches(code, rules)) throw badPromoCode();
      const cart = writableCart(carts, session);
      cart.code = rules.promoCode;
      return priceCart(cart, rules);
    }),
  );
}
