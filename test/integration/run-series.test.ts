// A run's time series with real k6: a point per second of sample time, streamed over the
// status page's Server-Sent Events, served by /api/runs/:testid/series, and kept with the
// history across a restart of the sink.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestId } from '../../lib/tags.ts';
import { runCli } from '../../fixtures/processes.ts';
import { startSink } from '../helpers/sink.ts';
import { startLatencyTarget } from '../helpers/latency-target.ts';
import type { RunSeriesJson, SeriesPointJson } from '../../contract/sink-api.ts';

const k6 = inject('k6Bin');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pla-series-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Follows the events as the status page does: keeps points[0, from) and appends the rest. */
function followSeries(url: string) {
  const controller = new AbortController();
  let points: SeriesPointJson[] = [];
  let messages = 0;
  const done = (async () => {
    const res = await fetch(url, { signal: controller.signal });
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const message = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (!message.startsWith('data: ')) continue;
        const delta = (JSON.parse(message.slice(6)) as { seriesDelta?: { from: number; points: SeriesPointJson[] } }).seriesDelta;
        if (!delta) continue;
        messages++;
        points = [...points.slice(0, delta.from), ...delta.points];
      }
    }
  })().catch((err: Error) => {
    if (err.name !== 'AbortError') throw err;
  });
  return { points: () => points, messages: () => messages, stop: async () => (controller.abort(), done) };
}

describe("a run's time series", () => {
  it('has a point per second, ends on k6’s own request count, streams the same points, and is still served after a restart', async () => {
    const target = await startLatencyTarget({ kind: 'exponential', meanMs: 40 });
    const dataDir = join(dir, 'data');
    let sink = await startSink({ config: { dataDir } });
    const testid = makeTestId('series');
    try {
      const events = followSeries(`${sink.url}/api/runs/${testid}/events`);
      const seconds = 8;
      const res = await runCli(['ramp', '--target', target.url, '--sink', sink.url, '--testid', testid, '--vus', '6', '--duration', `${seconds}s`, '--min-grade', 'none', '--out-dir', dir], k6, { K6_NO_USAGE_REPORT: 'true' });
      expect(res.code, res.stderr).toBe(0);
      await new Promise((r) => setTimeout(r, 2500)); // the last event goes out within a second
      await events.stop();

      const series = (await (await fetch(`${sink.url}/api/runs/${testid}/series`)).json()) as RunSeriesJson;
      const summary = JSON.parse(readFileSync(join(dir, testid, 'summary.json'), 'utf8')) as { metrics: Record<string, { count?: number; max?: number; value?: number }> };
      expect(series.stepMs).toBe(1000);
      // One point per second of sample time (one push a second), from the first push to the last.
      expect(series.points.length).toBeGreaterThanOrEqual(seconds - 1);
      expect(series.points.length).toBeLessThanOrEqual(seconds + 3);
      // Pushes a second apart, give or take; a point's slot is half a second (series.ts).
      for (let i = 1; i < series.points.length; i++) expect(series.points[i]!.t - series.points[i - 1]!.t).toBeGreaterThanOrEqual(500);
      expect(series.points.at(-1)!.requests).toBe(summary.metrics.http_reqs!.count);
      expect(Math.max(...series.points.map((p) => p.vus))).toBe(summary.metrics.vus_max!.max ?? summary.metrics.vus_max!.value);
      expect(series.points.some((p) => p.p95Ms !== null && p.p95Ms > 0)).toBe(true);

      // What the events streamed, put together as the page does, is the served series.
      expect(events.messages()).toBeGreaterThanOrEqual(seconds - 2);
      expect(events.points()).toEqual(series.points);

      await sink.close();
      sink = await startSink({ config: { dataDir } });
      expect(sink.app.sink.runs.run(testid)).toBeUndefined();
      expect(await (await fetch(`${sink.url}/api/runs/${testid}/series`)).json()).toEqual(series);
      const missing = await fetch(`${sink.url}/api/runs/no_such_run/series`);
      expect([missing.status, await missing.json()]).toEqual([404, { code: 'SINK_ERR_RUN_NOT_FOUND', message: 'No run has the testid "no_such_run".' }]);
    } finally {
      await sink.close();
      await target.close();
    }
  });
});
