// An HTTP target of the tests' own whose latency has a real tail, unlike the demo
// shop's even timings: every answer waits a delay drawn from the chosen shape.
import { createServer, type Server } from 'node:http';

export type LatencyShape =
  /** Exponential with this mean (ms). */
  | { kind: 'exponential'; meanMs: number }
  /** Lognormal: median e^μ (ms) and σ; σ ≥ 1 gives a heavy tail. */
  | { kind: 'lognormal'; medianMs: number; sigma: number }
  /** Two modes, like cache hits and misses: `slowShare` of the answers take about slowMs, the rest about fastMs (±20 %). */
  | { kind: 'bimodal'; fastMs: number; slowMs: number; slowShare: number }
  /** Always the same delay. */
  | { kind: 'constant'; ms: number };

/** Box–Muller: a standard normal deviate. */
function normal(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

export function drawDelayMs(shape: LatencyShape): number {
  switch (shape.kind) {
    case 'exponential':
      return -Math.log(1 - Math.random()) * shape.meanMs;
    case 'lognormal':
      return shape.medianMs * Math.exp(shape.sigma * normal());
    case 'constant':
      return shape.ms;
    case 'bimodal': {
      const base = Math.random() < shape.slowShare ? shape.slowMs : shape.fastMs;
      return base * (0.8 + 0.4 * Math.random());
    }
  }
}

export interface LatencyTarget {
  url: string;
  /** Requests answered so far. */
  served(): number;
  close(): Promise<void>;
}

/**
 * Answers every request with 200 and a small HTML body after a delay of `shape`;
 * paths under /error/ answer 500. `pathShape` may give some paths a shape of their own.
 */
export async function startLatencyTarget(shape: LatencyShape, pathShape: (path: string) => LatencyShape | undefined = () => undefined): Promise<LatencyTarget> {
  let served = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const delay = drawDelayMs(pathShape(path) ?? shape);
    setTimeout(() => {
      served++;
      res.writeHead(path.startsWith('/error/') ? 500 : 200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<html><body>ok</body></html>');
    }, delay);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    served: () => served,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
