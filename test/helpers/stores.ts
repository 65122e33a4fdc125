// Reading back what landed in the real stores: PromQL over Prometheus' HTTP API,
// and polling until the sink's destinations caught up.
import type { SinkApp } from '../../sink/app.ts';

export interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
  /** Native histogram samples of a range vector (Prometheus ≥ 2.40). */
  histograms?: Array<[number, unknown]>;
}

export async function promQuery(baseUrl: string, query: string, timeSeconds?: number): Promise<PromSeries[]> {
  const params = new URLSearchParams({ query });
  if (timeSeconds !== undefined) params.set('time', String(timeSeconds));
  const res = await fetch(`${baseUrl}/api/v1/query?${params}`);
  const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: PromSeries[] } };
  if (body.status !== 'success') throw new Error(`PromQL ${query} failed: ${body.error}`);
  return body.data.result;
}

/** A single number from an instant query, or null when the result is empty. */
export async function promScalar(baseUrl: string, query: string, timeSeconds?: number): Promise<number | null> {
  const result = await promQuery(baseUrl, query, timeSeconds);
  if (result.length === 0) return null;
  if (result.length > 1) throw new Error(`PromQL ${query} returned ${result.length} series, not one`);
  return Number(result[0]!.value![1]);
}

/** Raw samples stored for a selector (count_over_time would merge series that differ only by name). */
export async function promSampleCount(baseUrl: string, selector: string, timeSeconds?: number): Promise<number> {
  const series = await promQuery(baseUrl, `${selector}[1h]`, timeSeconds);
  return series.reduce((n, s) => n + (s.values?.length ?? 0), 0);
}

/** Raw native-histogram samples stored for a selector. */
export async function promHistogramCount(baseUrl: string, selector: string, timeSeconds?: number): Promise<number> {
  const series = await promQuery(baseUrl, `${selector}[1h]`, timeSeconds);
  return series.reduce((n, s) => n + (s.histograms?.length ?? 0), 0);
}

export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 90_000, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every destination of an in-process sink has acked everything in the spool. */
export async function drained(app: SinkApp, timeoutMs = 90_000): Promise<void> {
  const fanOut = app.sink.fanOut!;
  await waitFor('the destinations to catch up', () => fanOut.names.every((n) => fanOut.spool.lag(n).records === 0), timeoutMs);
}
