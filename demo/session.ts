import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DemoHttpError } from './errors.ts';

/** The HttpOnly cookie naming the visitor's session; carts are keyed by its value. */
const SESSION_COOKIE = 'shop_session';
/** Readable by the page's script (not HttpOnly), which sends it back in CSRF_HEADER, as Django's csrftoken or Magento's form_key. */
export const CSRF_COOKIE = 'csrf_token';
export const CSRF_HEADER = 'X-CSRF-Token';
/** The hidden field of the cart page's code form. */
export const CSRF_FIELD = 'csrf_token';

export interface Session {
  id: string;
  csrfToken: string;
}

const SESSION_IN_COOKIES = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:;|$)`);

const csrfRefused = (message: string): DemoHttpError => new DemoHttpError(403, 'DEMO_ERR_CSRF', message);

/**
 * Sessions without server-side state: the id is a random UUID in a cookie, and
 * the CSRF token is an HMAC of it under a secret of this process, so any number
 * of visitors cost no memory until they write to a cart.
 */
export class Sessions {
  private readonly secret: Buffer;

  constructor(secret: Buffer = randomBytes(32)) {
    this.secret = secret;
  }

  /**
   * The request's session, or a new one whose cookies go out with this reply:
   * the first visit to any shop page starts a session, as on a real shop's edge.
   * Called once per request.
   */
  resolve(request: FastifyRequest, reply: FastifyReply): Session {
    const existing = this.fromRequest(request);
    if (existing) return existing;
    const session = this.session(randomUUID());
    reply.header('set-cookie', [
      `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Lax`,
      `${CSRF_COOKIE}=${session.csrfToken}; Path=/; SameSite=Lax`,
    ]);
    return session;
  }

  /** The session named by the request's cookie, or undefined; never starts one. */
  fromRequest(request: FastifyRequest): Session | undefined {
    const id = SESSION_IN_COOKIES.exec(request.headers.cookie ?? '')?.[1];
    return id === undefined ? undefined : this.session(id);
  }

  /**
   * The request's session when `presented` is its CSRF token; otherwise a 403
   * saying what is missing or wrong. `where` says whether the token should have
   * come in the header (the page's script) or in the form's hidden field.
   */
  verified(request: FastifyRequest, presented: unknown, where: 'header' | 'field'): Session {
    const session = this.fromRequest(request);
    const page = where === 'header' ? 'page' : 'cart page';
    if (session === undefined) {
      throw csrfRefused(`This request has no shop session: load the ${page} first, then send its CSRF token back.`);
    }
    const carrier = where === 'header' ? `The ${CSRF_HEADER} header` : `The form's ${CSRF_FIELD} field`;
    if (typeof presented !== 'string' || presented === '') {
      const fix = where === 'header' ? `send the value of the ${CSRF_COOKIE} cookie in it` : 'reload the cart page and send the form again';
      throw csrfRefused(`${carrier} is missing: ${fix}.`);
    }
    if (!sameToken(presented, session.csrfToken)) {
      throw csrfRefused(`${carrier} does not match this session's CSRF token: reload the ${page} and try again.`);
    }
    return session;
  }

  private session(id: string): Session {
    return { id, csrfToken: createHmac('sha256', this.secret).update(id).digest('base64url') };
  }
}

// Token lengths are public (every token has the same length), so only the bytes need constant time.
function sameToken(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
