// Bearer and basic credentials, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

export interface Credentials {
  /** Accepted `Authorization: Bearer <token>`. */
  token?: string;
  /** Accepted `Authorization: Basic base64(user:pass)`, given as "user:pass". */
  basic?: string;
}

/** Hashing first gives equal lengths, so timingSafeEqual never leaks the secret's length. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function authRequired(creds: Credentials): boolean {
  return Boolean(creds.token || creds.basic);
}

/** True when no credentials are configured, or the header matches one of them. */
export function authorized(header: string | undefined, creds: Credentials): boolean {
  if (!authRequired(creds)) return true;
  if (!header) return false;
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (space < 0) return false;
  if (scheme === 'bearer' && creds.token) return sameSecret(value, creds.token);
  if (scheme === 'basic' && creds.basic) return sameSecret(Buffer.from(value, 'base64').toString('utf8'), creds.basic);
  return false;
}
