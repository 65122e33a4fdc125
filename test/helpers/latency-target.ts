// HTTP targets of the tests' own: one whose latency has a real tail, unlike the demo
// shop's even timings (every answer waits a delay drawn from the chosen shape), and one
// of known capacity (C workers of S ms, 503 after Q ms in the queue).
import { createServer, type Server, type ServerResponse } from 'node:http';

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
  /** When the latest request arrived (ms since the epoch); null before the first. */
  lastRequestAt(): number | null;
  close(): Promise<void>;
}

/**
 * Answers every request with 200 and a small HTML body after a delay of `shape`;
 * paths under /error/ answer 500. `pathShape` may give some paths a shape of their own,
 * and `status` some paths a status of their own (a journey whose product pages are gone).
 */
export async function startLatencyTarget(
  shape: LatencyShape,
  pathShape: (path: string) => LatencyShape | undefined = () => undefined,
  status: (path: string) => number | undefined = () => undefined,
): Promise<LatencyTarget> {
  let served = 0;
  let lastRequestAt: number | null = null;
  const server: Server = createServer((req, res) => {
    lastRequestAt = Date.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const delay = drawDelayMs(pathShape(path) ?? shape);
    // Drain a POST's body so the connection stays usable.
    req.resume();
    setTimeout(() => {
      served++;
      res.writeHead(status(path) ?? (path.startsWith('/error/') ? 500 : 200), { 'Content-Type': 'text/html; charset=utf-8' }).end('<html><body>ok</body></html>');
    }, delay);
  });
  return listening(server, () => served, () => lastRequestAt);
}

async function listening(server: Server, served: () => number, lastRequestAt: () => number | null): Promise<LatencyTarget> {
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    lastRequestAt,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A shop of known capacity: C workers, each busy S ms per request; a request that waits Q ms in the queue gets 503. */
export interface CapacityLimit {
  workers: number;
  serviceMs: number;
  queueTimeoutMs: number;
}

/**
 * A target whose throughput tops out at C/S requests/s (C workers of S ms each), queueing
 * what it cannot serve and answering 503 to a request that waited Q ms: a real capacity
 * limit and a real breaking point, with nothing but timers (so it measures the same on a
 * busy machine as the demo shop's heavier code would not).
 */
export async function startCapacityTarget(limit: CapacityLimit): Promise<LatencyTarget & { capacityRps: number }> {
  let served = 0;
  let lastRequestAt: number | null = null;
  let free = limit.workers;
  const queue: Array<{ res: ServerResponse; timer: NodeJS.Timeout }> = [];
  const serve = (res: ServerResponse) => {
    free--;
    setTimeout(() => {
      served++;
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<html><body>ok</body></html>');
      free++;
      const next = queue.shift();
      if (next) {
        clearTimeout(next.timer);
        serve(next.res);
      }
    }, limit.serviceMs);
  };
  const server: Server = createServer((req, res) => {
    lastRequestAt = Date.now();
    req.resume();
    if (free > 0) return serve(res);
    const waiting = {
      res,
      timer: setTimeout(() => {
        queue.splice(queue.indexOf(waiting), 1);
        res.writeHead(503, { 'Content-Type': 'text/plain' }).end('busy');
      }, limit.queueTimeoutMs),
    };
    queue.push(waiting);
  });
  return { ...(await listening(server, () => served, () => lastRequestAt)), capacityRps: (limit.workers * 1000) / limit.serviceMs };
}

/** A shop whose service time grows with its concurrency as the Universal Scalability Law has it: S₀ alone, and with n requests in service each goes 1 + σ(n−1) + κn(n−1) times slower. */
export interface ScalabilityLaw {
  serviceMs: number;
  sigma: number;
  kappa: number;
}

/**
 * A target whose throughput falls past its peak: every request in service needs S₀ ms of
 * work and, with n of them in service, each progresses at 1 / (1 + σ(n−1) + κn(n−1)) of
 * the speed of one alone (processor sharing, worked out again at every arrival and
 * departure). Its throughput with N in flight is N / (S₀(1 + σ(N−1) + κN(N−1))): the law's,
 * with λ = 1/S₀, peaking at N* = √((1−σ)/κ) requests in flight.
 */
export async function startScalabilityTarget(law: ScalabilityLaw): Promise<LatencyTarget & { peakConcurrency: number; peakRps: number }> {
  let served = 0;
  let lastRequestAt: number | null = null;
  const active: Array<{ left: number; res: ServerResponse }> = [];
  let last = performance.now();
  let timer: NodeJS.Timeout | null = null;
  const slowdown = (n: number) => 1 + law.sigma * (n - 1) + law.kappa * n * (n - 1);
  /** Every request's remaining work (ms of work alone) goes down by the time since the last event at the speed n requests allow. */
  const advance = () => {
    const now = performance.now();
    const done = (now - last) / slowdown(active.length);
    last = now;
    for (const a of active) a.left -= done;
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    for (let i = active.length - 1; i >= 0; i--) {
      if (active[i]!.left > 0.01) continue;
      const [finished] = active.splice(i, 1);
      served++;
      finished!.res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<html><body>ok</body></html>');
    }
    if (active.length === 0) return;
    const next = Math.min(...active.map((a) => a.left)) * slowdown(active.length);
    timer = setTimeout(() => {
      advance();
      schedule();
    }, Math.max(0, next));
  };
  const server: Server = createServer((req, res) => {
    lastRequestAt = Date.now();
    req.resume();
    advance();
    active.push({ left: law.serviceMs, res });
    schedule();
  });
  const peakConcurrency = Math.sqrt((1 - law.sigma) / law.kappa);
  const peakRps = (1000 * peakConcurrency) / (law.serviceMs * slowdown(peakConcurrency));
  return { ...(await listening(server, () => served, () => lastRequestAt)), peakConcurrency, peakRps };
}
