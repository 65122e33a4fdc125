// What happens before a route runs: Fastify's framework errors (a bad %-escape, a path
// segment longer than a testid), Node's HTTP parser (bad framing, oversized headers) and
// the timeouts that cut slow clients. Every answer is a {code, message} from the catalogue.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type SinkApp } from '../../sink/app.ts';
import type { SinkConfig } from '../../sink/config.ts';

const TOKEN = 'token-for-tests-0001';

async function listening(config: Partial<SinkConfig>): Promise<{ app: SinkApp; port: number }> {
  const app = buildApp({ config });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as { port: number }).port };
}

interface RawExchange {
  /** Everything the sink sent back. */
  text: string;
  /** When the sink closed the connection, in ms after it opened (null: still open at the deadline). */
  closedAfterMs: number | null;
}

/**
 * Sends `first` on a fresh connection, then one byte of `trickle` every `everyMs`, until
 * the sink closes the connection or `deadlineMs` passes.
 */
function exchange(port: number, first: string, options: { trickle?: string; everyMs?: number; deadlineMs?: number } = {}): Promise<RawExchange> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(first));
    let text = '';
    let sent = 0;
    const trickle = options.trickle === undefined ? null : setInterval(() => socket.write(options.trickle![sent++ % options.trickle!.length]!), options.everyMs ?? 5000);
    const deadline = setTimeout(() => finish(null), options.deadlineMs ?? 10_000);
    const finish = (closedAfterMs: number | null) => {
      if (trickle) clearInterval(trickle);
      clearTimeout(deadline);
      socket.destroy();
      resolve({ text, closedAfterMs });
    };
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => finish(Date.now() - started));
  });
}

/** Status and parsed JSON body of each response in `text`. */
function responses(text: string): Array<{ status: number; body: unknown }> {
  return text
    .split(/(?=HTTP\/1\.1 \d{3} )/)
    .filter(Boolean)
    .map((r) => ({ status: Number(r.slice(9, 12)), body: JSON.parse(r.slice(r.indexOf('\r\n\r\n') + 4)) }));
}

describe('errors before a route runs', () => {
  let app: SinkApp;
  let port: number;
  beforeAll(async () => ({ app, port } = await listening({})));
  afterAll(async () => app?.close());

  it('answers a path with a bad %-escape with SINK_ERR_BAD_URL', async () => {
    const res = await app.inject('/api/runs/%E0%A4%A/series');
    expect({ status: res.statusCode, body: res.json() }).toEqual({
      status: 400,
      body: { code: 'SINK_ERR_BAD_URL', message: 'The URL "/api/runs/%E0%A4%A/series" is not valid: a %-escape in its path does not decode to UTF-8.' },
    });
  });

  it('routes a testid of 128 characters, as the schemas allow, and answers a longer path segment from the catalogue', async () => {
    const longest = 'a'.repeat(128);
    const routed = await app.inject(`/api/runs/${longest}/series`);
    expect({ status: routed.statusCode, body: routed.json() }).toEqual({ status: 404, body: { code: 'SINK_ERR_RUN_NOT_FOUND', message: `No run has the testid "${longest}".` } });
    const tooLong = await app.inject(`/api/runs/${longest}b/series?x=1`);
    expect({ status: tooLong.statusCode, body: tooLong.json() }).toEqual({
      status: 400,
      body: { code: 'SINK_ERR_PATH_SEGMENT_TOO_LONG', message: `A segment of the path "/api/runs/${longest}b/series" is longer than 128 characters, the most a testid has.` },
    });
  });

  it('says a JSON body is over its own limit, not that a compressed body is', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/runs', headers: { 'content-type': 'application/json' }, payload: `{"testid":"${'x'.repeat(1024 * 1024)}"}` });
    expect({ status: res.statusCode, body: res.json() }).toEqual({
      status: 413,
      body: { code: 'SINK_ERR_BODY_TOO_LARGE', message: 'The body is too large: the JSON body is over 1048576 bytes (1 MiB)' },
    });
  });

  it('answers bad framing and an 18 KB header from the catalogue, closes the connection, and counts both', async () => {
    const [chunked, header] = await Promise.all([
      exchange(port, 'POST /api/runs HTTP/1.1\r\nHost: sink\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'),
      exchange(port, `GET /api/runs HTTP/1.1\r\nHost: sink\r\nX-Big: ${'a'.repeat(18 * 1024)}\r\n\r\n`),
    ]);
    expect(responses(chunked.text)).toEqual([
      { status: 400, body: { code: 'SINK_ERR_MALFORMED_HTTP', message: 'The request is not valid HTTP/1.1 (Invalid character in chunk size: HPE_INVALID_CHUNK_SIZE); the connection is closed.' } },
    ]);
    expect(responses(header.text)).toEqual([
      { status: 431, body: { code: 'SINK_ERR_HEADERS_TOO_LARGE', message: 'The request headers are larger than 16384 bytes; the connection is closed.' } },
    ]);
    expect([chunked.closedAfterMs, header.closedAfterMs].every((ms) => ms !== null)).toBe(true);
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toContain('sink_connection_errors_total{reason="SINK_ERR_MALFORMED_HTTP"} 1\n');
    expect(metrics).toContain('sink_connection_errors_total{reason="SINK_ERR_HEADERS_TOO_LARGE"} 1\n');
  });
});

describe('slow clients', () => {
  const REQUEST_TIMEOUT_MS = 1500;
  const timeout = { status: 408, body: { code: 'SINK_ERR_REQUEST_TIMEOUT', message: 'The request did not arrive whole within 1.5 s (--request-timeout); the connection is closed.' } };
  let app: SinkApp;
  let port: number;
  let idle: { app: SinkApp; port: number };
  beforeAll(async () => {
    ({ app, port } = await listening({ token: TOKEN, requestTimeoutMs: REQUEST_TIMEOUT_MS }));
    idle = await listening({ connectionTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await app?.close();
    await idle?.app.close();
  });

  it('cuts a client that sends a byte every 5 s, in its headers or in a body that got a 401, and one that says nothing', async () => {
    const [headers, body, silent] = await Promise.all([
      exchange(port, 'GET /api/runs HTTP/1.1\r\nHost: sink\r\n', { trickle: 'X-Slow: 1\r\n', everyMs: 5000 }),
      exchange(port, 'POST /api/v1/write HTTP/1.1\r\nHost: sink\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nContent-Length: 100000\r\n\r\nab', { trickle: 'abc', everyMs: 5000 }),
      exchange(idle.port, ''),
    ]);
    // Cut at the timeout (Node looks once a second), long before the sink would have the whole request.
    expect(responses(headers.text)).toEqual([timeout]);
    expect(headers.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
    expect(headers.closedAfterMs).toBeLessThan(9000);
    expect(responses(body.text)).toEqual([{ status: 401, body: { code: 'SINK_ERR_UNAUTHORIZED', message: 'Missing or wrong credentials for remote write.' } }, timeout]);
    expect(body.closedAfterMs).toBeLessThan(9000);
    // Not a byte either way: closed after --connection-timeout, long before --request-timeout (30 s).
    expect(silent.text).toBe('');
    expect(silent.closedAfterMs).toBeGreaterThanOrEqual(1000);
    expect(silent.closedAfterMs).toBeLessThan(9000);
  });
});
