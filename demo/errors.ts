export interface ErrorBody {
  code: string;
  message: string;
}

/** An error whose status and JSON body are meant to reach the client as they are. */
export class DemoHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const invalidBody = (message: string): DemoHttpError => new DemoHttpError(400, 'DEMO_ERR_INVALID_BODY', message);

const BAD_JSON = new Set(['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']);

/**
 * Maps anything thrown inside a route to a status and a `{code, message}` body.
 * Fastify's own client errors (bad JSON, wrong media type, too large) keep
 * their 4xx status but get our shape, so k6 checks see one error format.
 */
export function toErrorResponse(error: unknown): { statusCode: number; body: ErrorBody } {
  if (error instanceof DemoHttpError) return { statusCode: error.statusCode, body: { code: error.code, message: error.message } };
  const { code, statusCode, message } = error as { code?: string; statusCode?: number; message?: string };
  if (code && BAD_JSON.has(code)) {
    return { statusCode: 400, body: { code: 'DEMO_ERR_BAD_JSON', message: 'The request body is not valid JSON.' } };
  }
  if (statusCode && statusCode >= 400 && statusCode < 500) {
    return { statusCode, body: { code: 'DEMO_ERR_BAD_REQUEST', message: message ?? 'The request is not valid.' } };
  }
  return { statusCode: 500, body: { code: 'DEMO_ERR_INTERNAL', message: 'The demo shop failed unexpectedly.' } };
}
