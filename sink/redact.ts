// Secrets out of logs and /metrics: what the sink prints of a URL, a destination's or a
// request's, never holds its credentials or its query string's values.

export const REDACTED = 'redacted';

/**
 * `url` without userinfo and with every query value replaced by "redacted" (the names stay,
 * so a reader still sees that `api_key` was given). Works on absolute URLs and on request
 * paths (`/api/runs?token=…`). Which query values are secrets cannot be known (`api_key`,
 * `X-Amz-Signature`, `sig`, …), so none is printed.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const hash = url.indexOf('#', q < 0 ? 0 : q);
  let base = q < 0 ? (hash < 0 ? url : url.slice(0, hash)) : url.slice(0, q);
  // userinfo: scheme://user:pass@host → scheme://host
  base = base.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1');
  if (q < 0) return base;
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=${REDACTED}`;
    })
    .join('&');
  return `${base}?${redacted}`;
}
