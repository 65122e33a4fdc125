// PromQL selectors built in one place: every dashboard query gets its label matchers
// from here, so a filter variable is added (or renamed) once for all panels.

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
}

/** Dashboard variables the k6 panels filter on, in the order they appear in selectors. */
export const K6_FILTER_VARIABLES = ['testid', 'environment', 'promo_type', 'scenario'] as const;
export type K6FilterVariable = (typeof K6_FILTER_VARIABLES)[number];

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `{a="1", b=~"x"}`; an empty list gives `{}`, which PromQL only accepts after a metric name. */
export function selector(matchers: readonly Matcher[]): string {
  return `{${matchers.map((m) => `${m.label}${m.op}${quote(m.value)}`).join(', ')}}`;
}

export const eq = (label: string, value: string): Matcher => ({ label, op: '=', value });
export const re = (label: string, value: string): Matcher => ({ label, op: '=~', value });

export interface K6SelectorOptions {
  /** Filter variables to leave out: k6 sends vus and vus_max with test-wide tags only (no scenario). */
  omit?: readonly K6FilterVariable[];
  /** Matchers added after the variable filters. */
  extra?: readonly Matcher[];
}

/** `{testid=~"$testid", environment=~"$environment", promo_type=~"$promo_type", scenario=~"$scenario", ...extra}` */
export function k6Matchers(options: K6SelectorOptions = {}): Matcher[] {
  const omit = new Set(options.omit ?? []);
  return [...K6_FILTER_VARIABLES.filter((v) => !omit.has(v)).map((v) => re(v, `$${v}`)), ...(options.extra ?? [])];
}

/** A k6 metric with the dashboard's filters: `k6_vus{testid=~"$testid", ...}`. */
export function k6(metric: string, options: K6SelectorOptions = {}): string {
  return `${metric}${selector(k6Matchers(options))}`;
}

/** A metric of the application under test (the demo shop), filtered on the `app_job` variable. */
export function app(metric: string, extra: readonly Matcher[] = []): string {
  return `${metric}${selector([re('job', '$app_job'), ...extra])}`;
}

/** A sink-computed series of one run: `promo_p95_ms{testid="$promo", window="run"}`. */
export function run(metric: string, testidVariable: string, window: 'live' | 'run', extra: readonly Matcher[] = []): string {
  return `${metric}${selector([re('testid', `$${testidVariable}`), eq('window', window), ...extra])}`;
}

/** `sum(rate(<series>[$__rate_interval]))`, optionally `by (labels)`. */
export function sumRate(series: string, by: readonly string[] = [], range = '$__rate_interval'): string {
  return `sum${by.length ? ` by (${by.join(', ')})` : ''}(rate(${series}[${range}]))`;
}

/** `sum(increase(<series>[range]))`, optionally `by (labels)`. */
export function sumIncrease(series: string, by: readonly string[] = [], range = '$__rate_interval'): string {
  return `sum${by.length ? ` by (${by.join(', ')})` : ''}(increase(${series}[${range}]))`;
}

/** Quantile of k6's native histogram (`k6_http_req_duration_seconds`), merged across series. */
export function nativeQuantile(q: number, series: string, by: readonly string[] = [], range = '$__rate_interval'): string {
  return `histogram_quantile(${q}, ${sumRate(series, by, range)})`;
}
