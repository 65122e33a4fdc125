/**
 * The sink's main workload: what k6 sends by default, with native histograms. The
 * pushes recorded from a real k6 run (fixtures/k6-native/, record-k6-pushes.ts)
 * are replayed as CONCURRENCY k6 instances of one run (k6-native-replay.ts), each
 * client one instance sending its pushes one after the other with increasing
 * timestamps, to the sink and to Prometheus 2.42 with --enable-feature=native-histograms,
 * in the same run on the same bodies (rounds alternate; the figure is the median).
 * A "sample" is a float sample or a native histogram, as both count them.
 *
 * Then the sink's RSS with 100k active native-histogram series: the recording's
 * histogram series, as many instances as it takes, sent twice to a fresh sink.
 */
import { performance } from 'node:perf_hooks';
import { loadK6Recording, replayPush, type K6Recording } from '../fixtures/k6-native-replay.ts';
import { CONCURRENCY, MB, baselineRatio, benchFloatIngest, compareTargets, fmt, printTable, rateOf, sinkLimitArgs, sinkRss, sinkTargets, ROUNDS_BUDGET_MS } from './sink-ingest.ts';
import { startPrometheus } from '../fixtures/services.ts';

export const NATIVE_WARMUP_PER_CLIENT = 8;
export const NATIVE_TIMED_PER_CLIENT = 150;
const RSS_SERIES = 100_000;

export interface NativeWorkload {
  rec: K6Recording;
  clients: Buffer[][];
  timedSamples: number;
  totalSamples: number;
  histograms: number;
  compressedBytes: number;
  rawBytes: number;
}

/** CONCURRENCY instances × (warm-up + timed) pushes, sample times ending now. */
export function nativeWorkload(): NativeWorkload {
  const rec = loadK6Recording();
  const perClient = NATIVE_WARMUP_PER_CLIENT + NATIVE_TIMED_PER_CLIENT;
  const startMs = Date.now() - perClient * 1000;
  let timedSamples = 0;
  let totalSamples = 0;
  let histograms = 0;
  let compressedBytes = 0;
  let rawBytes = 0;
  const clients = Array.from({ length: CONCURRENCY }, (_, c) =>
    Array.from({ length: perClient }, (_, r) => {
      const push = replayPush(rec, c, r, startMs);
      if (r >= NATIVE_WARMUP_PER_CLIENT) timedSamples += push.samples;
      totalSamples += push.samples;
      histograms += push.histograms;
      compressedBytes += push.body.length;
      rawBytes += push.rawBytes;
      return push.body;
    }),
  );
  return { rec, clients, timedSamples, totalSamples, histograms, compressedBytes, rawBytes };
}

export function describeNative(w: NativeWorkload): string {
  const requests = w.clients.length * w.clients[0]!.length;
  const series = w.rec.seriesPerPush;
  return (
    `${w.rec.pushes} pushes recorded from real k6 with native histograms (${Math.min(...series)}–${Math.max(...series)} series each, ` +
    `${Math.round((100 * w.histograms) / w.totalSamples)} % histograms), replayed as ${CONCURRENCY} instances: ${requests} requests ` +
    `(${(w.compressedBytes / requests / 1024).toFixed(0)} KiB snappy, ${(w.rawBytes / requests / 1024).toFixed(0)} KiB protobuf each), ` +
    `${NATIVE_WARMUP_PER_CLIENT} untimed + ${NATIVE_TIMED_PER_CLIENT} timed per instance: ${fmt(w.timedSamples)} timed samples per target`
  );
}

export async function benchNativeIngest(w: NativeWorkload): Promise<{ sink: number; prometheus: number; rssBytes: number }> {
  console.log(`\n-- native histograms (what k6 sends by default through the CLI): ${describeNative(w)}`);
  const args = sinkLimitArgs(Math.max(CONCURRENCY * w.rec.series.length, RSS_SERIES * 1.1));
  const results = await compareTargets(
    [
      ...sinkTargets(args),
      ['prometheus', () => startPrometheus()],
    ],
    w.clients,
    NATIVE_WARMUP_PER_CLIENT,
    w.timedSamples,
    ROUNDS_BUDGET_MS,
  );
  printTable(results, w.timedSamples, w.totalSamples);
  const sink = rateOf(results, 'sink');
  const prometheus = rateOf(results, 'prometheus');
  console.log(`  sink / prometheus = ${(sink / prometheus).toFixed(2)} (goal ≥ 4.0)${baselineRatio(results)}`);

  // Memory: the histogram series of the last recorded push, once per instance, twice over.
  const start = Date.now();
  const last = w.rec.pushes - 1;
  const rssSets = Math.ceil(RSS_SERIES / w.rec.histogramsPerPush[last]!);
  const passes = [0, 1].map((pass) => Array.from({ length: rssSets }, (_, i) => replayPush(w.rec, 1000 + i, last + pass * w.rec.pushes, start, true).body));
  const expected = rssSets * w.rec.histogramsPerPush[last]!;
  const rss = await sinkRss(args, passes, expected);
  console.log(
    `  RSS at ${fmt(rss.active)} active native-histogram series: ${(rss.rssBytes / MB).toFixed(0)} MB (goal ≤ 200 MB)   ` +
      `[${rssSets} instances × ${w.rec.histogramsPerPush[last]} histogram series sent twice; idle after start ${(rss.idleBytes / MB).toFixed(0)} MB; ` +
      `peak ${(rss.hwmBytes / MB).toFixed(0)} MB; started as npm run sink does]`,
  );
  return { sink, prometheus, rssBytes: rss.rssBytes };
}

export async function benchSinkIngest(): Promise<void> {
  const started = performance.now();
  const gen0 = performance.now();
  const w = nativeWorkload();
  console.log(`(recorded pushes replayed and encoded in ${((performance.now() - gen0) / 1000).toFixed(1)} s)`);
  await benchNativeIngest(w);
  await benchFloatIngest();
  console.log(`(bench took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
