// Checks that read the same for every scenario, so the checks rate means one thing.
import { check } from 'k6';
import type { RefinedResponse, ResponseType } from 'k6/http';

type Response = RefinedResponse<ResponseType | undefined>;

export function bodyText(res: Response): string {
  return typeof res.body === 'string' ? res.body : '';
}

export function checkPage(res: Response, what: string, mustContain?: string): boolean {
  return check(res, {
    [`${what} answers 200`]: (r) => r.status === 200,
    ...(mustContain === undefined ? {} : { [`${what} shows ${mustContain}`]: (r: Response) => bodyText(r).includes(mustContain) }),
  });
}

export function checkStatus(res: Response, what: string, status: number): boolean {
  return check(res, { [`${what} answers ${status}`]: (r) => r.status === status });
}

export function jsonBody<T>(res: Response): T | null {
  try {
    return JSON.parse(bodyText(res)) as T;
  } catch {
    return null;
  }
}
