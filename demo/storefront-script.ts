import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { CSRF_COOKIE, CSRF_HEADER } from './session.ts';

export const STOREFRONT_SCRIPT_PATH = '/assets/shop.js';

/**
 * The storefront's own script, served to browsers: the add-to-cart button posts
 * no form; on click, the script sends the product and quantity as JSON to the
 * cart API with the session's CSRF token in a header, as script-driven
 * storefronts do (Shopify's /cart/add.js, WooCommerce's Store API). Plain
 * browser JavaScript, kept as text: it never runs in Node.
 */
const STOREFRONT_SCRIPT = `// Demo Shop storefront: add to cart through the JSON cart API.
(() => {
  const cookie = (name) => {
    const prefix = name + '=';
    const found = document.cookie.split('; ').find((pair) => pair.startsWith(prefix));
    return found ? decodeURIComponent(found.slice(prefix.length)) : '';
  };
  const units = (cart) => cart.items.reduce((sum, item) => sum + item.qty, 0);

  async function addToCart(button) {
    const product = button.closest('.product');
    const quantity = product ? product.querySelector('input[name="quantity"]') : null;
    const status = product ? product.querySelector('[role="status"]') : null;
    const qty = Math.max(1, Number.parseInt(quantity ? quantity.value : '1', 10) || 1);
    button.disabled = true;
    try {
      const response = await fetch('/api/cart/items', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', '${CSRF_HEADER}': cookie('${CSRF_COOKIE}') },
        body: JSON.stringify({ productId: Number(button.dataset.productId), qty }),
      });
      const cart = await response.json();
      if (!response.ok) throw new Error(cart.message || 'The cart answered ' + response.status + '.');
      for (const count of document.querySelectorAll('[data-cart-count]')) count.textContent = '(' + units(cart) + ')';
      if (status) status.textContent = 'Added to your cart: ' + units(cart) + ' items, total €' + cart.total.toFixed(2) + '.';
    } catch (error) {
      if (status) status.textContent = 'Could not add to your cart: ' + error.message;
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('[data-add-to-cart]') : null;
    if (!button) return;
    event.preventDefault();
    void addToCart(button);
  });
})();
`;

const SCRIPT_BYTES = Buffer.from(STOREFRONT_SCRIPT);
const ETAG = `"${createHash('sha1').update(SCRIPT_BYTES).digest('base64url')}"`;

/** Static, as a CDN serves it: no origin slot, no session, a validator for 304s. */
export function registerStorefrontScript(app: FastifyInstance): void {
  app.get(STOREFRONT_SCRIPT_PATH, (request, reply) => {
    reply.header('cache-control', 'public, max-age=3600').header('etag', ETAG);
    if (request.headers['if-none-match'] === ETAG) return reply.code(304).send();
    return reply.type('text/javascript; charset=utf-8').send(SCRIPT_BYTES);
  });
}
