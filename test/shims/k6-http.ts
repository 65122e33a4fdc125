// A k6/http stand-in: requests are recorded and answered by a function the test sets.
export interface ShimResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The request's URL (k6 gives the final one); set by the shim. */
  url?: string;
}
export interface ShimRequest {
  method: string;
  url: string;
  body?: string | Record<string, string> | null;
  params: { headers?: Record<string, string>; tags?: Record<string, string>; redirects?: number; responseType?: string };
}

export const requests: ShimRequest[] = [];
let responder: (req: ShimRequest) => ShimResponse = () => ({ status: 200, headers: {}, body: '' });

export function respondWith(fn: (req: ShimRequest) => ShimResponse): void {
  responder = fn;
}

function request(method: string, url: string, body: ShimRequest['body'], params: ShimRequest['params'] = {}) {
  const req = { method, url, body, params };
  requests.push(req);
  const res = responder(req);
  // As k6: responseType 'none' keeps no body.
  return { url, ...res, body: params.responseType === 'none' ? null : res.body };
}

/** Cookies the test sets for cookieJar().cookiesForURL(), whatever the URL. */
export const jarCookies: Record<string, string[]> = {};

export default {
  get: (url: string, params?: ShimRequest['params']) => request('GET', url, undefined, params),
  post: (url: string, body: string, params?: ShimRequest['params']) => request('POST', url, body, params),
  request: (method: string, url: string, body: ShimRequest['body'], params?: ShimRequest['params']) => request(method, url, body, params),
  cookieJar: () => ({ cookiesForURL: (_url: string) => jarCookies }),
};
