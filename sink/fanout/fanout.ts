// The fan-out: every accepted request goes into one write-ahead spool, and each
// destination's pipeline reads it at its own pace. The grades join the same spool when
// grading publishes them (the graded run event). With no destination there is no
// fan-out at all (embedded mode).
import { openDiskSpool, createMemorySpool, type Spool } from './spool.ts';
import { Pipeline, newPipelineCounters, type PipelineCounters } from './pipeline.ts';
import { destinationLabel, destinationName, positionalNames, type Destination } from './destinations.ts';
import { RecordKind, gradeSeries, type BodyEncoder } from './bodies.ts';
import { fileSettingError, type SinkConfig } from '../config.ts';
import { redactUrl } from '../redact.ts';
import type { RunEvents } from '../model/run-events.ts';
import { RecordOrder, type RecordToken } from './record-order.ts';
import type { DecodedBatch } from '../model/batch.ts';

export interface FanOut {
  /**
   * Resolves once the request body is in the spool (durably, with a spool dir). Reads
   * the batch's series before it returns (a shared batch may be reused after that),
   * to know which earlier records the body must follow.
   */
  accept(version: 1 | 2, weight: number, body: Buffer, batch: DecodedBatch): Promise<void>;
  /** Each destination's name (destinationName: stable across restarts), in flag order. */
  readonly names: string[];
  /** What each name is: kind and URL, and database or bucket (no credentials, query values redacted). */
  readonly keys: string[];
  readonly counters: Record<string, PipelineCounters>;
  readonly spool: Spool;
  /** What the cursors of destinations no longer configured had not taken, when the spool was opened. */
  readonly released: { records: number; samples: number };
  /** Waits up to timeoutMs for every destination to catch up, then stops the pipelines. */
  close(timeoutMs: number): Promise<void>;
}

export function destinationsFromConfig(config: SinkConfig): Destination[] {
  const headers = Object.fromEntries(config.prometheusHeaders.map((h) => {
    const colon = h.indexOf(':');
    return [h.slice(0, colon).trim(), h.slice(colon + 1).trim()];
  }));
  const out: Destination[] = config.prometheusUrls.map((url) => ({
    kind: 'prometheus' as const,
    url,
    bearerToken: config.prometheusBearerToken,
    basicAuth: config.prometheusBasicAuth,
    headers,
  }));
  if (config.influxUrl) {
    out.push({
      kind: 'influx',
      url: config.influxUrl,
      db: config.influxDb,
      rp: config.influxRp,
      user: config.influxUser,
      password: config.influxPassword,
      org: config.influxOrg,
      bucket: config.influxBucket,
      token: config.influxToken,
    });
  }
  return out;
}

/**
 * The fan-out of the configured destinations (null without one): it spools the grades
 * `events` publishes, and `encoder` builds the request bodies that need a record decoded.
 */
export async function createFanOut(config: SinkConfig, events: RunEvents, encoder: BodyEncoder, log: (line: string) => void): Promise<FanOut | null> {
  const destinations = destinationsFromConfig(config);
  if (destinations.length === 0) return null;
  const names = destinations.map(destinationName);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new Error(`two destinations are the same (${destinationLabel(destinations[names.indexOf(duplicate)]!)}): give each once`);
  const legacy = positionalNames(destinations);
  const counters: Record<string, PipelineCounters> = Object.fromEntries(names.map((n) => [n, newPipelineCounters()]));
  const onDrop = (consumer: string, records: number, weight: number) => {
    counters[consumer]!.dropped += weight;
    log(`${consumer}: the spool is full (--spool-max-bytes ${config.spoolMaxBytes}); dropped the oldest ${records} records (${weight} samples)`);
  };
  const released = { records: 0, samples: 0 };
  const spoolDir = config.spoolDir;
  const spool = spoolDir
    ? await openDiskSpool(spoolDir, {
        maxBytes: config.spoolMaxBytes,
        consumers: names,
        describe: Object.fromEntries(names.map((n, i) => [n, destinationLabel(destinations[i]!)])),
        adopt: Object.fromEntries(names.map((n, i) => [n, legacy[i]!])),
        onRelease: (_name, _what, records, weight) => {
          released.records += records;
          released.samples += weight;
        },
        onDrop,
        log,
      }).catch((err) => {
        throw fileSettingError(err, '--spool-dir', spoolDir, spoolDir) ?? err;
      })
    : createMemorySpool({ maxBytes: config.spoolMaxBytes, consumers: names, onDrop });
  const order = new RecordOrder();
  const pipelines = destinations.map(
    (destination, i) =>
      new Pipeline({
        name: names[i]!,
        destination,
        encoder,
        spool,
        batchRecords: 64,
        batchBytes: 4 * 1024 * 1024,
        // VictoriaMetrics takes ~2 MiB requests best (per sample, twice the CPU at 4 MiB and more).
        batchContentBytes: 2 * 1024 * 1024,
        batchAgeMs: 50,
        maxInFlight: config.maxInFlight,
        order,
        minBackoffMs: 250,
        maxBackoffMs: 30_000,
        requestTimeoutMs: 30_000,
        log,
        counters: counters[names[i]!]!,
      }),
  );
  names.forEach((name, i) => log(`forwarding to ${name}: ${redactUrl(destinations[i]!.url)}`));
  for (const p of pipelines) p.start();
  const notify = () => {
    for (const p of pipelines) p.notify();
  };
  /** Appends a record and tells the pipelines; a record without a token waits for everything before it. */
  const append = async (kind: number, weight: number, body: Buffer, token: RecordToken | null) => {
    let seq: number;
    try {
      seq = await spool.append(kind, weight, body);
    } catch (err) {
      if (token) order.failed(token);
      throw err;
    }
    if (token) order.appended(token, seq);
    order.forgetBefore(spool.stats().firstSeq);
    notify();
  };
  const fanOut: FanOut = {
    names,
    keys: destinations.map(destinationLabel),
    counters,
    spool,
    released,
    accept(version, weight, body, batch) {
      return append(version === 2 ? RecordKind.RW2 : RecordKind.RW1, weight, body, order.track(batch.series, batch.seriesCount));
    },
    async close(timeoutMs) {
      await Promise.all(pipelines.map((p) => p.drained(timeoutMs)));
      await Promise.all(pipelines.map((p) => p.stop()));
      for (const name of names) {
        const lag = spool.lag(name);
        if (lag.records > 0) {
          log(`${name}: ${lag.records} records (${lag.weight} samples) not delivered at shutdown; ${config.spoolDir ? 'they stay in the spool for the next start' : 'without --spool-dir they are lost'}`);
          if (!config.spoolDir) counters[name]!.dropped += lag.weight;
        }
      }
      await spool.close();
    },
  };
  // Weighed in Prometheus samples, so drop counts compare with what Prometheus misses.
  events.on('graded', (record) => append(RecordKind.GRADE, gradeSeries(record).length, Buffer.from(JSON.stringify(record)), order.beginGrade()));
  return fanOut;
}
