// The oracle for "other hosts are never requested": an HTTP proxy on loopback that records
// every request it is asked to forward and forwards none. k6 (Go's ProxyFromEnvironment)
// and Chromium read HTTP_PROXY/HTTPS_PROXY from their environment and never proxy
// loopback, so a run with proxyEnv() reaches the shop directly and sends anything meant
// for another host (a CDN, an analytics tag, a browser's update check) here instead.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingProxy {
  /** The environment that sends a child's off-loopback traffic to this proxy. */
  env: Record<string, string>;
  /** What it was asked for: `GET http://host/path` or `CONNECT host:443`. */
  seen(): string[];
  close(): Promise<void>;
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(502, { connection: 'close' }).end();
  });
  server.on('connect', (req, socket) => {
    seen.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: { HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url },
    seen: () => [...seen],
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
