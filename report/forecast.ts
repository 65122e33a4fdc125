// Will the shop hold the promo? The expected peak (`--expect-users N` or `--expect-rps R`)
// against a ramp's capacity model (ForecastJson, sink/grade/forecast.ts), and the forecast
// before a test from past ramps (`npm run k6 -- forecast`). Pure: the sink (each run's
// history entry), the CLI and the pages run this code; the words are report/sentences.ts's.
import type { ExpectationJson, ExpectRequest, ForecastJson, HistoryEntry } from '../contract/sink-api.ts';

/**
 * The verdict (docs/capacity.md, "Will it hold the promo?"). The expected load, as requests/s
 * (users × their pace: ForecastJson.usersPerRps), against the forecast:
 * - a peak: `holds` below the band's low end, `will-not-hold` above its high end,
 *   `at-risk` inside it;
 * - a floor: `holds` up to it (the ramp served that much), `at-risk` past it (the ramp never
 *   went that far: it cannot tell);
 * - none: `unknown`.
 * headroomPct: (capacity − expected) / expected × 100, the capacity being the peak (or the
 * floor); null when unknown.
 */
export function expectationOf(forecast: ForecastJson | null | undefined, expect: ExpectRequest): ExpectationJson {
  const what = expect.users !== undefined ? { users: expect.users } : { rps: expect.rps! };
  if (!forecast || !(forecast.usersPerRps > 0)) return { ...what, verdict: 'unknown', headroomPct: null };
  const demand = expect.users !== undefined ? expect.users / forecast.usersPerRps : expect.rps!;
  const capacity = forecast.kind === 'peak' ? forecast.peakRps! : forecast.lowRps!;
  const headroomPct = demand > 0 ? ((capacity - demand) / demand) * 100 : null;
  if (forecast.kind === 'floor') return { ...what, verdict: demand <= capacity ? 'holds' : 'at-risk', headroomPct };
  const verdict = demand < forecast.lowRps! ? 'holds' : demand > forecast.highRps! ? 'will-not-hold' : 'at-risk';
  return { ...what, verdict, headroomPct };
}

// ---------------------------------------------------------------- before the test

/** What `forecast` looks for in the history: past ramps against one target and journey. */
export interface ForecastScope {
  /** The target's URL; without it, the newest ramp's. */
  target?: string;
  /** The scenario (default ramp). */
  scenario?: string;
  promoName?: string;
}

/** The forecast from past ramps: the capacity, its band, the runs it rests on and the ramp to try next. */
export interface PastForecast {
  target: string | null;
  scenario: string;
  /** The page types of the journey the runs share. */
  journey: string[];
  /** The runs it rests on, oldest first, each with its own forecast. */
  runs: Array<{ testid: string; endedAt: string; forecast: ForecastJson; breakingPointVus: number | null }>;
  /** The combined forecast (the median peak, the band covering every run's own), as a ramp's is read. */
  forecast: ForecastJson | null;
  /** The peak VUs to ramp to next: just past the predicted break (1.2 ×), or past the band's top, or twice a floor's users. */
  suggestedVus: number | null;
  /** The predicted break (the median of the runs' breaking points), when they broke. */
  breakVus: number | null;
}

/** The most recent past ramps a forecast combines. */
export const FORECAST_RUNS = 5;

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A run's journey: the page types it visited, sorted. */
export function journeyOf(e: HistoryEntry): string[] {
  return (e.pages?.pageTypes ?? []).map((p) => p.key).sort();
}

/**
 * The forecast from the newest FORECAST_RUNS ramps with a capacity model against the same
 * target and journey (the newest such ramp's page types) of the scenario and promo name:
 * - peaks: the median of their peaks, the band from the lowest low to the highest high (it
 *   covers each run's own band: runs against a shop that changes disagree, and the band
 *   says so), users alike; floors below the peaks add nothing;
 * - only floors: the highest floor ("at least");
 * - none: a null forecast.
 */
export function forecastFromHistory(entries: readonly HistoryEntry[], scope: ForecastScope): PastForecast {
  const scenario = scope.scenario ?? 'ramp';
  const modelled = entries.filter(
    (e) =>
      e.scenario === scenario &&
      e.capacity?.forecast != null &&
      (scope.promoName === undefined || e.tags?.promo_name === scope.promoName) &&
      (scope.target === undefined || e.target === scope.target),
  );
  const newest = modelled[modelled.length - 1];
  const target = scope.target ?? newest?.target ?? null;
  const journey = newest ? journeyOf(newest) : [];
  const same = modelled.filter((e) => e.target === target && journeyOf(e).join(' ') === journey.join(' ')).slice(-FORECAST_RUNS);
  const runs = same.map((e) => ({ testid: e.testid, endedAt: e.endedAt, forecast: e.capacity!.forecast!, breakingPointVus: e.breakingPointVus }));
  const breaks = runs.map((r) => r.breakingPointVus).filter((b): b is number => b !== null);
  const breakVus = breaks.length > 0 ? median(breaks) : null;
  const peaks = runs.map((r) => r.forecast).filter((f) => f.kind === 'peak');
  const base = { target, scenario, journey, runs, breakVus };
  if (peaks.length > 0) {
    const pick = (f: (x: ForecastJson) => number | null) => peaks.map(f).filter((v): v is number => v !== null);
    const forecast: ForecastJson = {
      kind: 'peak',
      peakRps: median(pick((f) => f.peakRps)),
      peakVus: median(pick((f) => f.peakVus)),
      lowRps: Math.min(...pick((f) => f.lowRps)),
      highRps: Math.max(...pick((f) => f.highRps)),
      lowVus: Math.min(...pick((f) => f.lowVus)),
      highVus: Math.max(...pick((f) => f.highVus)),
      peakConcurrency: median(pick((f) => f.peakConcurrency)),
      lambda: median(pick((f) => f.lambda)),
      sigma: median(pick((f) => f.sigma)),
      kappa: median(pick((f) => f.kappa)),
      r2: median(pick((f) => f.r2)),
      points: peaks.reduce((n, f) => n + f.points, 0),
      usersPerRps: median(pick((f) => f.usersPerRps)),
    };
    // Just past the break finds the limit without going far beyond it; without a break, just past the band's top.
    const suggestedVus = Math.ceil(1.2 * Math.max(breakVus ?? 0, forecast.highVus!));
    return { ...base, forecast, suggestedVus };
  }
  if (runs.length > 0) {
    const top = runs.reduce((a, b) => (b.forecast.lowRps! > a.forecast.lowRps! ? b : a)).forecast;
    const reached = Math.max(...same.map((e) => e.capacity?.maxVus ?? e.maxVus));
    return { ...base, forecast: top, suggestedVus: Math.ceil(2 * Math.max(reached, top.lowVus ?? 0)) };
  }
  return { ...base, forecast: null, suggestedVus: null };
}
