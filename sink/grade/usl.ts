// The Universal Scalability Law (Gunther): throughput X against concurrency N,
//
//   X(N) = λN / (1 + σ(N−1) + κN(N−1))
//
// λ the throughput of one request in flight alone, σ contention (the share that queues for
// something shared: Amdahl's serial part) and κ coherency (the cost of keeping each pair of
// requests consistent, which makes throughput fall past a peak). Where κ > 0 the peak is at
// N* = √((1−σ)/κ); with κ = 0 throughput only levels off, at λ/σ.
//
// fitUsl() is bounded nonlinear least squares: a grid over σ and κ (λ has a closed form for
// each), then Levenberg–Marquardt from the best of it, every step projected into the bounds
// λ > 0, 0 ≤ σ ≤ 1, κ ≥ 0. Plain arithmetic over a few hundred points at most: well under a
// millisecond, so a bootstrap of a couple of hundred fits stays cheap (forecast.ts).

export interface UslPoint {
  /** Concurrency: requests in flight. */
  n: number;
  /** Throughput: completed requests/s. */
  x: number;
}

export interface UslParams {
  lambda: number;
  sigma: number;
  kappa: number;
}

export interface UslFit extends UslParams {
  /** Coefficient of determination of X over the points: 1 − SSres/SStot. */
  r2: number;
  /** Sum of squared residuals. */
  sse: number;
}

/** X(N) of the law. */
export function usl(p: UslParams, n: number): number {
  return (p.lambda * n) / (1 + p.sigma * (n - 1) + p.kappa * n * (n - 1));
}

/**
 * Where throughput peaks: N* and X(N*); N* is Infinity when it only levels off (κ = 0), and X
 * too when it never does (σ = κ = 0). The law counts whole requests: a peak below one in
 * flight (σ near 1: every request waits for every other) is at one.
 */
export function uslPeak(p: UslParams): { n: number; x: number } {
  if (p.kappa > 0) {
    const n = Math.max(1, Math.sqrt(Math.max(0, 1 - p.sigma) / p.kappa));
    return { n, x: usl(p, n) };
  }
  return { n: Infinity, x: p.sigma > 0 ? p.lambda / p.sigma : Infinity };
}

const SIGMA_GRID = [0, 0.01, 0.03, 0.06, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9];
/** κ for peaks at these multiples of the largest concurrency measured (and none). */
const PEAK_AT = [0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10];
const MAX_ITERATIONS = 60;

function sumSquares(points: readonly UslPoint[], p: UslParams): number {
  let s = 0;
  for (const q of points) {
    const r = q.x - usl(p, q.n);
    s += r * r;
  }
  return s;
}

/** The λ that fits best for a σ and κ: the model is linear in it. */
function bestLambda(points: readonly UslPoint[], sigma: number, kappa: number): number {
  let xg = 0;
  let gg = 0;
  for (const q of points) {
    const g = q.n / (1 + sigma * (q.n - 1) + kappa * q.n * (q.n - 1));
    xg += q.x * g;
    gg += g * g;
  }
  return gg > 0 ? Math.max(Number.MIN_VALUE, xg / gg) : 0;
}

function clamp(p: UslParams): UslParams {
  return { lambda: Math.max(Number.MIN_VALUE, p.lambda), sigma: Math.min(1, Math.max(0, p.sigma)), kappa: Math.max(0, p.kappa) };
}

/** Solves the 3×3 system A·d = b (Gaussian elimination with partial pivoting); null when singular. */
function solve3(a: number[][], b: number[]): number[] | null {
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < 3; c++) {
    let pivot = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
    if (!(Math.abs(m[pivot]![c]!) > 0)) return null;
    [m[c], m[pivot]] = [m[pivot]!, m[c]!];
    for (let r = c + 1; r < 3; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k < 4; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const d = [0, 0, 0];
  for (let r = 2; r >= 0; r--) {
    let s = m[r]![3]!;
    for (let k = r + 1; k < 3; k++) s -= m[r]![k]! * d[k]!;
    d[r] = s / m[r]![r]!;
  }
  return d.every(Number.isFinite) ? d : null;
}

/** Levenberg–Marquardt from `start`, every step projected into the bounds. */
function refine(points: readonly UslPoint[], start: UslParams): UslParams {
  let p = clamp(start);
  let sse = sumSquares(points, p);
  let damping = 1e-3;
  for (let it = 0; it < MAX_ITERATIONS; it++) {
    // Normal equations JᵀJ·d = Jᵀr over (λ, σ, κ).
    const jtj = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    const jtr = [0, 0, 0];
    for (const q of points) {
      const d = 1 + p.sigma * (q.n - 1) + p.kappa * q.n * (q.n - 1);
      const f = (p.lambda * q.n) / d;
      const j = [q.n / d, (-f * (q.n - 1)) / d, (-f * q.n * (q.n - 1)) / d];
      const r = q.x - f;
      for (let a = 0; a < 3; a++) {
        jtr[a]! += j[a]! * r;
        for (let b = 0; b < 3; b++) jtj[a]![b]! += j[a]! * j[b]!;
      }
    }
    let improved = false;
    while (damping < 1e8) {
      // Marquardt's scaling: the parameters differ by orders of magnitude (κ is often 1e-4).
      const a = jtj.map((row, i) => row.map((v, k) => (i === k ? v * (1 + damping) + 1e-300 : v)));
      const d = solve3(a, jtr);
      if (d) {
        const next = clamp({ lambda: p.lambda + d[0]!, sigma: p.sigma + d[1]!, kappa: p.kappa + d[2]! });
        const nextSse = sumSquares(points, next);
        if (nextSse < sse) {
          const gain = sse - nextSse;
          p = next;
          sse = nextSse;
          damping = Math.max(1e-12, damping / 10);
          // Converged once a step gains less than a millionth of what is left.
          improved = gain > 1e-6 * sse;
          break;
        }
      }
      damping *= 10;
    }
    if (!improved) break;
  }
  return p;
}

/** R² of a fit: 1 − SSres/SStot (1 when every point has the same throughput and the fit meets it). */
function rSquared(points: readonly UslPoint[], sse: number): number {
  const mean = points.reduce((s, q) => s + q.x, 0) / points.length;
  const tot = points.reduce((s, q) => s + (q.x - mean) ** 2, 0);
  return tot > 0 ? 1 - sse / tot : sse === 0 ? 1 : 0;
}

/**
 * The USL fitted to the points by bounded least squares; null with fewer than three points
 * of positive concurrency and throughput. `start`: begin Levenberg–Marquardt there instead
 * of searching the grid (a bootstrap's resamples start from the fit of every point).
 */
export function fitUsl(points: readonly UslPoint[], start?: UslParams): UslFit | null {
  const usable = points.filter((q) => q.n > 0 && q.x >= 0 && Number.isFinite(q.n) && Number.isFinite(q.x));
  if (usable.length < 3) return null;
  let best = start;
  if (best === undefined) {
    const maxN = Math.max(...usable.map((q) => q.n));
    let bestSse = Infinity;
    for (const sigma of SIGMA_GRID) {
      for (const kappa of [0, ...PEAK_AT.map((m) => (1 - sigma) / (m * maxN) ** 2)]) {
        const candidate = { lambda: bestLambda(usable, sigma, kappa), sigma, kappa };
        const sse = sumSquares(usable, candidate);
        if (sse < bestSse) {
          bestSse = sse;
          best = candidate;
        }
      }
    }
  }
  const p = refine(usable, best!);
  const sse = sumSquares(usable, p);
  return { ...p, sse, r2: rSquared(usable, sse) };
}
