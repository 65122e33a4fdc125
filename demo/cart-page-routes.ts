import type { FastifyInstance } from 'fastify';
import { clearedNoticeCookie, noticeCookie, noticeIn, renderCartPage, type CartNotice } from './cart-page.ts';
import { writableCart, type CartRouteDeps } from './cart-routes.ts';
import { emptyCart, priceCart, promoCodeMatches } from './cart.ts';
import { CSRF_FIELD } from './session.ts';

const FORM_BODY_LIMIT = 4096;

const isRecord = (body: unknown): body is Record<string, unknown> => typeof body === 'object' && body !== null && !Array.isArray(body);

/**
 * The cart page in HTML and its promo-code form: a plain form post
 * (application/x-www-form-urlencoded, hidden CSRF field) answered with a
 * redirect back to the cart (Post/Redirect/Get), as server-rendered shops do.
 * Both are origin work, never cached.
 */
export async function cartPageRoutes(app: FastifyInstance, { carts, capacity, rules, sessions }: CartRouteDeps): Promise<void> {
  // Only this plugin reads form bodies: the JSON cart API stays JSON-only.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get('/cart', async (request, reply) => {
    const session = sessions.resolve(request, reply);
    const notice = noticeIn(request.headers.cookie);
    const html = await capacity.run(() => renderCartPage(priceCart(carts.get(session.id) ?? emptyCart(), rules), session.csrfToken, notice, rules));
    if (notice) reply.header('set-cookie', clearedNoticeCookie);
    // X-Cache BYPASS: the edge passes a visitor's cart straight to the origin, as CDNs say for private pages.
    return reply.header('cache-control', 'private, no-store').header('x-cache', 'BYPASS').type('text/html; charset=utf-8').send(html);
  });

  app.post('/cart/code', async (request, reply) => {
    const notice = await capacity.run((): CartNotice => {
      const fields = isRecord(request.body) ? request.body : {};
      const session = sessions.verified(request, fields[CSRF_FIELD], 'field');
      const code = typeof fields.code === 'string' ? fields.code.trim() : '';
      if (code === '') return 'code_missing';
      if (code.length > 64 || !promoCodeMatches(code, rules)) return 'code_refused';
      writableCart(carts, session).code = rules.promoCode;
      return 'code_applied';
    });
    return reply.code(303).header('location', '/cart').header('set-cookie', noticeCookie(notice)).header('cache-control', 'private, no-store').send();
  });
}
