// The senders' HTTP client: one POST over node:http(s) with a keep-alive agent per
// destination. Not fetch: undici's fetch builds a Request, Headers and web streams
// for every call, which cost the relay about a tenth of its CPU (see bench/relay.ts);
// a plain request takes the body as chunks, so a batch of records is never copied
// into one buffer.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface PostResult {
  status: number;
  retryAfter: string | null;
  /** The first 300 characters of the answer's body, for logs. */
  text: string;
}

export class HttpPoster {
  private readonly http = new HttpAgent({ keepAlive: true });
  private readonly https = new HttpsAgent({ keepAlive: true });

  /** Rejects on network errors, on timeoutMs without an answer, and when the signal aborts. */
  post(url: string, headers: Record<string, string>, body: readonly Buffer[], timeoutMs: number, signal?: AbortSignal): Promise<PostResult> {
    const length = body.reduce((n, chunk) => n + chunk.length, 0);
    return new Promise((resolve, reject) => {
      const target = new URL(url);
      const tls = target.protocol === 'https:';
      const req = (tls ? httpsRequest : httpRequest)(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'Content-Length': String(length) },
          agent: tls ? this.https : this.http,
          timeout: timeoutMs,
          signal,
        },
        (res: IncomingMessage) => {
          let text = '';
          res.setEncoding('utf8');
          // Reading the whole answer, even an empty one, lets the connection be reused.
          res.on('data', (chunk: string) => {
            if (text.length < 300) text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: headerValue(res.headers['retry-after']), text: text.slice(0, 300) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      // Written before the agent hands out a socket: Node sends the chunks in one writev.
      for (const chunk of body) req.write(chunk);
      req.end();
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

function headerValue(v: string | string[] | undefined): string | null {
  if (v === undefined) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}
