// The sink on a free loopback port, and the env that points k6's remote-write output at it.
import { createServer } from 'node:http';
import { buildApp, type SinkDeps } from '../../sink/app.ts';

export async function startSink(deps: SinkDeps = {}) {
  const app = buildApp(deps);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, close: () => app.close() };
}

export type RwMode = 'native' | 'trend-stats' | 'default';

/** k6 env for experimental-prometheus-rw; a short push interval keeps test runs short. */
export function remoteWriteEnv(sinkUrl: string, mode: RwMode): Record<string, string> {
  const env: Record<string, string> = {
    K6_PROMETHEUS_RW_SERVER_URL: `${sinkUrl}/api/v1/write`,
    K6_PROMETHEUS_RW_PUSH_INTERVAL: '1s',
    K6_PROMETHEUS_RW_STALE_MARKERS: 'true',
    K6_NO_USAGE_REPORT: 'true',
  };
  if (mode === 'native') env.K6_FEATURES = 'native-histograms';
  if (mode === 'trend-stats') env.K6_PROMETHEUS_RW_TREND_STATS = 'p(95),p(99)';
  return env;
}

/** A run's points in a few lines, for the message of a failed capacity assertion: what the detectors saw. */
export function pointsText(points: ReadonlyArray<{ t: number; vus: number; okRps: number | null; rps: number | null; meanMs?: number | null; p95Ms: number | null; errorRatio: number | null }>): string {
  const t0 = points[0]?.t ?? 0;
  const n = (x: number | null | undefined, d = 0) => (x === null || x === undefined ? '-' : x.toFixed(d));
  return ['s vus rps okRps meanMs p95Ms errors', ...points.map((p) => [n((p.t - t0) / 1000), p.vus, n(p.rps), n(p.okRps), n(p.meanMs), n(p.p95Ms), n(p.errorRatio, 3)].join(' '))].join('\n');
}

/** A webhook receiver on a free loopback port: every notification the sink sends, parsed, in arrival order. */
export async function startWebhookReceiver(): Promise<{ url: string; notifications: Array<{ event: string; message: string; testid: string }>; close: () => void }> {
  const notifications: Array<{ event: string; message: string; testid: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      notifications.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, notifications, close: () => server.close() };
}
