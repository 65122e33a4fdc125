// A k6/http stand-in: requests are recorded and answered by a function the test sets.
export interface ShimResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}
export interface ShimRequest {
  method: string;
  url: string;
  body?: string;
  params: { headers?: Record<string, string>; tags?: Record<string, string> };
}

export const requests: ShimRequest[] = [];
let responder: (req: ShimRequest) => ShimResponse = () => ({ status: 200, headers: {}, body: '' });

export function respondWith(fn: (req: ShimRequest) => ShimResponse): void {
  responder = fn;
}

function request(method: string, url: string, body: string | undefined, params: ShimRequest['params'] = {}) {
  const req = { method, url, body, params };
  requests.push(req);
  return responder(req);
}

export default {
  get: (url: string, params?: ShimRequest['params']) => request('GET', url, undefined, params),
  post: (url: string, body: string, params?: ShimRequest['params']) => request('POST', url, body, params),
};
