// The decode worker (see decode-pool.ts): decompresses and decodes remote-write bodies
// with a RemoteWriteDecoder of its own and posts the batch back as columns. Its label
// cache keeps a handle number per label set, not the strings: the strings cross to the
// main thread once, with the first batch that uses the label set, and live there.
// Other work the pool is given (a job) goes to the handler the thread was started with
// (sink/decode-thread.ts), in order with the bodies.
import type { MessagePort } from 'node:worker_threads';
import { RemoteWriteDecoder, type DecoderOptions } from './decode.ts';
import { DecodedBatch } from '../model/batch.ts';
import type { SeriesLabels } from '../model/labels.ts';
import { isDecodeError } from '../codec/decode-errors.ts';
import { columnLayout, type DecodeReply, type DecodeRequest, type DecodeWorkerData, type JobReply, type JobRequest, type LabelDefinition } from './decode-pool.ts';

/** What the worker's cache keeps instead of a label set: the handle the main thread knows it by. */
class Handle {
  constructor(readonly handle: number) {}
}
const handleOf = (labels: SeriesLabels): number => (labels as unknown as Handle).handle;

let nextHandle = 0;
const free: number[] = [];
/** Dropped while decoding the current body: the main thread forgets them after this batch. */
let freed: number[] = [];
let definitions: LabelDefinition[] = [];
/** Label sets the cache does not keep get a negative handle, valid for one batch. */
let temporary = 0;

/** What the thread does with a job: its result, and the buffers to move rather than copy. */
export type JobHandler = (job: unknown) => { result: unknown; transfer: ArrayBuffer[] };

/** Serves the pool's requests on `port` (the thread's parentPort) until the thread ends. */
export function serveDecodeRequests(port: MessagePort, options: DecodeWorkerData, jobs: JobHandler): void {
  const decoder = new RemoteWriteDecoder({
    ...(options as DecoderOptions),
    adopt(labels, cached) {
      // A handle dropped during this body is not reused before the reply: a batch never
      // uses one handle for two label sets.
      const handle = cached ? (free.pop() ?? nextHandle++) : -1 - temporary++;
      // The main thread gets a copy of the values (postMessage clones them) and keeps it.
      definitions.push([handle, labels.metricName, labels.names, labels.values as string[]]);
      return new Handle(handle) as unknown as SeriesLabels;
    },
    dropped(labels) {
      freed.push(handleOf(labels));
    },
  });
  const batch = new DecodedBatch();

  /** Columns buffers the main thread gave back (DecodePool.release), to fill again. */
  const spares: ArrayBuffer[] = [];
  const MAX_SPARES = 16;

  /** A buffer of at least `bytes` for a reply's columns: a spare when one is big enough. */
  function columnsBuffer(bytes: number): ArrayBuffer {
    for (let i = spares.length - 1; i >= 0; i--) {
      if (spares[i]!.byteLength >= bytes) return spares.splice(i, 1)[0]!;
    }
    // Rounded up, so that the next push of about the same size fits as well.
    return new ArrayBuffer(Math.ceil((bytes * 1.25) / 65536) * 65536);
  }

  port.on('message', (request: DecodeRequest | JobRequest) => {
    if ('job' in request) {
      let answer: JobReply;
      let moved: ArrayBuffer[] = [];
      try {
        const done = jobs(request.job);
        answer = { id: request.id, ok: true, result: done.result };
        moved = done.transfer;
      } catch (err) {
        answer = { id: request.id, ok: false, message: err instanceof Error ? err.message : String(err) };
      }
      port.postMessage(answer, moved);
      return;
    }
    for (const spare of request.spares) if (spares.length < MAX_SPARES) spares.push(spare);
    let reply: DecodeReply;
    let transfer: ArrayBuffer[] = [];
    try {
      decoder.decodeSnappy(request.body, request.version, batch);
      const s = batch.seriesCount;
      const n = batch.sampleCount;
      const h = batch.histogramCount;
      const records = batch.histogramRecordsLength;
      // One buffer for every column, moved to the main thread, not cloned.
      const at = columnLayout(s, n, h, records);
      const columns = columnsBuffer(at.bytes);
      new Float64Array(columns, at.sampleValues, n).set(batch.sampleValues.subarray(0, n));
      new Float64Array(columns, at.sampleTimestamps, n).set(batch.sampleTimestamps.subarray(0, n));
      new Float64Array(columns, at.createdTimestamps, s).set(batch.createdTimestamps.subarray(0, s));
      new Float64Array(columns, at.histogramRecords, records).set(batch.histogramRecords.subarray(0, records));
      const handles = new Int32Array(columns, at.handles, s);
      for (let i = 0; i < s; i++) handles[i] = handleOf(batch.series[i]!);
      new Uint32Array(columns, at.sampleStart, s + 1).set(batch.sampleStart.subarray(0, s + 1));
      new Uint32Array(columns, at.histogramStart, s + 1).set(batch.histogramStart.subarray(0, s + 1));
      new Uint32Array(columns, at.histogramAt, h).set(batch.histogramAt.subarray(0, h));
      reply = {
        id: request.id,
        ok: true,
        version: request.version,
        protobufByteLength: batch.protobufByteLength,
        seriesCount: s,
        sampleCount: n,
        histogramCount: h,
        histogramRecordsLength: records,
        columns,
        definitions,
        freed,
      };
      transfer = [columns];
    } catch (err) {
      reply = isDecodeError(err)
        ? { id: request.id, ok: false, reason: err.reason, message: err.message }
        : { id: request.id, ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    // Batches that failed made definitions and drops too (the cache kept what it decoded):
    // they go with the reply either way.
    if (!reply.ok) {
      reply.definitions = definitions;
      reply.freed = freed;
    }
    for (const handle of freed) if (handle >= 0) free.push(handle);
    definitions = [];
    freed = [];
    temporary = 0;
    // The body goes back: the main thread forwards it.
    port.postMessage({ ...reply, body: request.body }, [...transfer, request.body.buffer as ArrayBuffer]);
  });
}
