// Decoding off the event loop: a worker thread decompresses and decodes remote-write
// bodies (snappy + protobuf + label validation, about half the CPU of a write) while
// the event loop does HTTP and grading. The grading state stays on the main thread.
//
// - Same decoder, same results: the worker runs RemoteWriteDecoder with the route's
//   limits, so a body gets the batch, or the DecodeError, it would get on the event
//   loop. A body the worker refuses is decoded again on the event loop (without a
//   label cache, which never changes the outcome) for the error itself, with all its
//   details; refusals are rare, and then cost what they cost before.
// - Label sets: the worker's cache keeps a handle per label set. A batch carries one
//   handle per series, plus the definition (names and values) of each handle it uses
//   for the first time and the handles the worker's cache dropped. The main thread keeps
//   one frozen SeriesLabels per live handle, so a label set still in the cache gets the
//   same object every time, as with the decoder on the event loop.
// - Replies come back in request order (one worker, one queue); each resolves with a
//   DecodedBatch of its own, over the columns the worker transferred. The body goes to
//   the worker without a copy when it owns its memory, and comes back in the reply:
//   the batch's `body` is the one to forward.
// - Other work that belongs off the event loop (the fan-out's request bodies) runs on the
//   same worker as jobs (run()), in order with the bodies; what a job does is the thread's
//   own (sink/decode-thread.ts), not the pool's.
// - The worker runs dist/sink/decode-worker.js, built from sink/decode-thread.ts by `npm
//   run build` with the sink. If the worker cannot start, or stops, decoding goes back to
//   the event loop, and a job is refused with WorkerGone (its caller does it itself).
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { sinkDistDir } from '../../contract/dist-layout.ts';
import { RemoteWriteDecoder, type DecoderOptions } from './decode.ts';
import { SeriesLabelsFactory } from './labels.ts';
import { DecodedBatch, type RemoteWriteVersion } from '../model/batch.ts';
import type { SeriesLabels } from '../model/labels.ts';
import { DecodeError, type DecodeErrorReason } from '../codec/decode-errors.ts';
import { asBuffer } from '../codec/snappy.ts';

/** The route's decoder limits (the worker's decoder gets exactly these). */
export type PoolDecoderOptions = Pick<DecoderOptions, 'maxLabels' | 'maxLabelValueBytes' | 'maxUncompressedBytes' | 'seriesCacheSize'>;

/** @internal The worker's workerData: the route's limits. */
export type DecodeWorkerData = PoolDecoderOptions;

/** @internal Main thread -> worker: a body to decode, and the columns buffers released since the last one, to fill again. */
export interface DecodeRequest {
  id: number;
  version: RemoteWriteVersion;
  body: Uint8Array;
  spares: ArrayBuffer[];
}

/** @internal handle, metricName, names, values. */
export type LabelDefinition = [number, string, readonly string[], string[]];

/** @internal Worker -> main thread, in request order. */
export type DecodeReply =
  | {
      id: number;
      ok: true;
      version: RemoteWriteVersion;
      protobufByteLength: number;
      seriesCount: number;
      sampleCount: number;
      histogramCount: number;
      histogramRecordsLength: number;
      /** Every column in one buffer, as columnLayout() places them. */
      columns: ArrayBuffer;
      definitions: LabelDefinition[];
      freed: number[];
    }
  | { id: number; ok: false; reason?: DecodeErrorReason; message: string; definitions?: LabelDefinition[]; freed?: number[] };

/** @internal Main thread -> worker: a job for the thread's handler. */
export interface JobRequest {
  id: number;
  job: unknown;
}

/** @internal Worker -> main thread: a job's result, or why it failed. */
export type JobReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; message: string };

/** The worker is gone (it failed, stopped, or the pool closed): the job was not done. */
export class WorkerGone extends Error {}

/** Columns buffers released and not yet sent back to the worker, at most. */
const MAX_SPARES = 8;

/** @internal Every reply brings the request's body back. */
export type DecodeReplyWithBody = DecodeReply & { body: Uint8Array };

/**
 * @internal Where each column of a reply sits in its one buffer (byte offsets): the
 * float64 ones first (aligned), then the 32-bit ones. s series, n samples, h
 * histograms whose records take `records` numbers.
 */
export function columnLayout(s: number, n: number, h: number, records: number) {
  const sampleValues = 0;
  const sampleTimestamps = sampleValues + 8 * n;
  const createdTimestamps = sampleTimestamps + 8 * n;
  const histogramRecords = createdTimestamps + 8 * s;
  const handles = histogramRecords + 8 * records;
  const sampleStart = handles + 4 * s;
  const histogramStart = sampleStart + 4 * (s + 1);
  const histogramAt = histogramStart + 4 * (s + 1);
  return { sampleValues, sampleTimestamps, createdTimestamps, histogramRecords, handles, sampleStart, histogramStart, histogramAt, bytes: histogramAt + 4 * h };
}

interface PendingDecode {
  id: number;
  /** The body, unless it went to the worker (it comes back with the reply). */
  body: Buffer | null;
  version: RemoteWriteVersion;
  resolve: (batch: DecodedBatch) => void;
  reject: (err: Error) => void;
}

interface PendingJob {
  id: number;
  job: true;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

type Pending = PendingDecode | PendingJob;

export class DecodePool {
  private worker: Worker | null;
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private readonly labels: (SeriesLabels | undefined)[] = [];
  private readonly factory = new SeriesLabelsFactory();
  /** Decoding on the event loop, once the worker is gone. */
  private fallback: RemoteWriteDecoder | null = null;
  /** The event loop's decoder for refused bodies (no cache: only their error is wanted). */
  private errorDecoder: RemoteWriteDecoder | null = null;
  private closed = false;
  /** Columns buffers the worker filled, until release() gives them back. */
  private spares: ArrayBuffer[] = [];
  private readonly fromWorker = new WeakSet<ArrayBufferLike>();

  private constructor(
    worker: Worker,
    private readonly options: PoolDecoderOptions,
    private readonly log: (line: string) => void,
  ) {
    this.worker = worker;
    worker.on('message', (reply: DecodeReplyWithBody) => this.onReply(reply));
    worker.on('error', (err) => this.stopped(`the decode worker failed: ${err.message}`));
    worker.on('exit', (code) => this.stopped(`the decode worker exited with code ${code}`));
  }

  /** A pool with one worker, or null (and a log line) when the worker cannot start. */
  static async start(options: PoolDecoderOptions, log: (line: string) => void): Promise<DecodePool | null> {
    let worker: Worker;
    try {
      const workerData: DecodeWorkerData = options;
      worker = new Worker(join(sinkDistDir(), 'decode-worker.js'), { workerData, name: 'sink-decode' });
      // Up and running (its module evaluated) before the pool is used.
      await new Promise<void>((resolve, reject) => {
        worker.once('online', resolve);
        worker.once('error', reject);
      });
    } catch (err) {
      log(`decoding on the event loop: the decode worker did not start (${(err as Error).message})`);
      return null;
    }
    worker.unref();
    return new DecodePool(worker, options, log);
  }

  /**
   * Decompresses and decodes `body` (snappy, checked for its length already), as
   * RemoteWriteDecoder.decodeSnappy would; rejects with its DecodeError.
   */
  decode(body: Buffer, version: RemoteWriteVersion): Promise<DecodedBatch> {
    if (this.worker === null) return this.decodeHere(body, version);
    // A body that owns its memory travels to the worker and back (the batch's `body`
    // then holds it, and `body` itself is left detached); one that shares its memory
    // (Node's pool holds small buffers) goes as a copy.
    const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
    const sent = owned ? body : new Uint8Array(body);
    const id = this.nextId++;
    return new Promise<DecodedBatch>((resolve, reject) => {
      this.queue.push({ id, body: owned ? null : body, version, resolve, reject });
      const spares = this.spares.splice(0);
      this.worker!.postMessage({ id, version, body: sent, spares } satisfies DecodeRequest, [sent.buffer as ArrayBuffer, ...spares]);
    });
  }

  /**
   * Runs a job on the worker, in order with the bodies: what the thread's job handler
   * returns for it. Rejects with WorkerGone when there is no worker (do it yourself
   * then), and with the handler's error when the job failed.
   */
  run<T>(job: unknown, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.worker === null) return Promise.reject(new WorkerGone('the decode worker is gone'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ id, job: true, resolve: resolve as (result: unknown) => void, reject });
      this.worker!.postMessage({ id, job } satisfies JobRequest, transfer);
    });
  }

  /**
   * Gives a batch's columns back to the worker, to fill again (so that every body does
   * not allocate, and leave behind, an ArrayBuffer of its own). The batch must not be
   * read afterwards: its columns are gone.
   */
  release(batch: DecodedBatch): void {
    const buffer = batch.sampleValues.buffer;
    if (!this.fromWorker.has(buffer)) return;
    this.fromWorker.delete(buffer);
    batch.clearAfterError();
    // They travel with the next request: no message of their own.
    if (this.spares.length < MAX_SPARES) this.spares.push(buffer as ArrayBuffer);
  }

  /** Waits for the bodies in flight (up to timeoutMs), then stops the worker. */
  async close(timeoutMs = 5000): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
    this.failAll(new WorkerGone('the sink is shutting down'));
  }

  private decodeHere(body: Buffer, version: RemoteWriteVersion): Promise<DecodedBatch> {
    this.fallback ??= new RemoteWriteDecoder(this.options);
    try {
      return Promise.resolve(this.fallback.decodeSnappy(body, version));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private onReply(reply: DecodeReplyWithBody | JobReply): void {
    const pending = this.queue.shift();
    if (pending === undefined || pending.id !== reply.id || 'job' in pending !== !('body' in reply)) {
      // Cannot happen with one worker and one queue; if it does, nothing can be trusted.
      this.stopped(`the decode worker answered request ${reply.id}, expected ${pending?.id}`);
      void this.worker?.terminate();
      pending?.reject(new Error('the decode worker answered out of order'));
      return;
    }
    if ('job' in pending) {
      const answer = reply as JobReply;
      if (answer.ok) pending.resolve(answer.result);
      else pending.reject(new Error(answer.message));
      return;
    }
    this.onDecoded(pending, reply as DecodeReplyWithBody);
  }

  private onDecoded(pending: PendingDecode, reply: DecodeReplyWithBody): void {
    for (const [handle, metricName, names, values] of reply.definitions ?? []) {
      if (handle >= 0) this.labels[handle] = this.factory.make(metricName, names, values);
    }
    const body = pending.body ?? asBuffer(reply.body);
    if (!reply.ok) {
      this.forget(reply.freed ?? []);
      pending.reject(reply.reason !== undefined ? this.refusal(body, pending.version, reply.reason, reply.message) : new Error(reply.message));
      return;
    }
    const { seriesCount: s, sampleCount: n, histogramCount: h, histogramRecordsLength: records, columns } = reply;
    const at = columnLayout(s, n, h, records);
    const handles = new Int32Array(columns, at.handles, s);
    const series = new Array<SeriesLabels>(s);
    let temporary: Map<number, SeriesLabels> | null = null;
    for (let i = 0; i < s; i++) {
      const handle = handles[i]!;
      if (handle >= 0) {
        series[i] = this.labels[handle]!;
      } else {
        // Not kept by the worker's cache: defined in this reply, for this batch only.
        temporary ??= new Map(reply.definitions.filter((d) => d[0] < 0).map(([h, m, names, values]) => [h, this.factory.make(m, names, values)]));
        series[i] = temporary.get(handle)!;
      }
    }
    // Only now: a handle may be dropped after a series of this very batch used it.
    this.forget(reply.freed);
    const batch = DecodedBatch.fromColumns({
      version: reply.version,
      protobufByteLength: reply.protobufByteLength,
      series,
      sampleValues: new Float64Array(columns, at.sampleValues, n),
      sampleTimestamps: new Float64Array(columns, at.sampleTimestamps, n),
      createdTimestamps: new Float64Array(columns, at.createdTimestamps, s),
      histogramRecords: new Float64Array(columns, at.histogramRecords, records),
      sampleStart: new Uint32Array(columns, at.sampleStart, s + 1),
      histogramStart: new Uint32Array(columns, at.histogramStart, s + 1),
      histogramAt: new Uint32Array(columns, at.histogramAt, h),
    });
    batch.body = body;
    batch.bodyByteLength = body.length;
    this.fromWorker.add(columns);
    pending.resolve(batch);
  }

  /** The DecodeError of a body the worker refused, from decoding it again here. */
  private refusal(body: Buffer, version: RemoteWriteVersion, reason: DecodeErrorReason, message: string): Error {
    this.errorDecoder ??= new RemoteWriteDecoder({ ...this.options, seriesCacheSize: 0 });
    try {
      this.errorDecoder.decodeSnappy(body, version, new DecodedBatch());
    } catch (err) {
      return err as Error;
    }
    // Not reached: the same decoder with the same limits refuses the same body.
    return new DecodeError(reason, message);
  }

  private forget(handles: number[]): void {
    for (const handle of handles) this.labels[handle] = undefined;
  }

  private stopped(why: string): void {
    if (this.worker === null) return;
    this.worker = null;
    if (!this.closed) this.log(`${why}; decoding on the event loop from now on`);
    this.failAll(new WorkerGone(why));
  }

  private failAll(err: Error): void {
    for (const pending of this.queue.splice(0)) pending.reject(err);
  }
}
