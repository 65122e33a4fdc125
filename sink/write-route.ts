// POST /api/v1/write: remote write 1.0 and 2.0, as k6's experimental-prometheus-rw sends it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import { RemoteWriteDecoder } from './remote-write/decode.ts';
import { DecodedBatch, type RemoteWriteVersion } from './model/batch.ts';
import type { DecodePool } from './remote-write/decode-pool.ts';
import { asBuffer, checkSnappyLength } from './codec/snappy.ts';
import { isDecodeError } from './codec/decode-errors.ts';
import { SinkErrors, errorForDecodeReason } from './errors.ts';
import { authorized, type Credentials } from './auth.ts';
import type { RunRegistry } from './grade/runs.ts';
import type { SinkMetrics } from './metrics.ts';

export interface WriteRouteOptions {
  credentials: Credentials;
  maxBodyBytes: number;
  maxLabels: number;
  maxLabelValueBytes: number;
  runs: RunRegistry;
  metrics: SinkMetrics;
  /**
   * Where the request body goes before grading (the fan-out's spool); the reply waits for
   * it (the spool's fsync), and grading too: a request is graded only once it is kept.
   * It reads the batch's series for their order.
   */
  forward?: {
    accept(version: RemoteWriteVersion, weight: number, body: Buffer, batch: DecodedBatch): Promise<void>;
  };
  /** Decode in this worker thread (decode-pool.ts) while the event loop does HTTP and grading; none: on the event loop. */
  pool: DecodePool | null;
}

const PROTO_V1 = 'prometheus.WriteRequest';
const PROTO_V2 = 'io.prometheus.write.v2.Request';

/** `application/x-protobuf;proto=…` → the remote-write version, or an error from the catalogue. */
export function versionFromContentType(header: string | undefined): RemoteWriteVersion {
  const [type = '', ...params] = (header ?? '').split(';').map((p) => p.trim());
  if (type.toLowerCase() !== 'application/x-protobuf') throw new SinkErrors.UNSUPPORTED_CONTENT_TYPE(JSON.stringify(header ?? ''));
  const proto = params.find((p) => p.toLowerCase().startsWith('proto='))?.slice(6).replace(/^"|"$/g, '');
  if (proto === undefined || proto === PROTO_V1) return 1;
  if (proto === PROTO_V2) return 2;
  throw new SinkErrors.UNSUPPORTED_PROTO(JSON.stringify(proto));
}

/** Batches kept for reuse by the event loop's decoder (a batch waits for its spool append before it is graded). */
const SPARE_BATCHES = 8;

export async function writeRoute(app: FastifyInstance, options: WriteRouteOptions): Promise<void> {
  const pool = options.pool;
  // Without the pool: decoding is synchronous, into a batch of its own per request in
  // flight (it is graded after the spool append), whose buffers serve again afterwards.
  const decoder = pool ? null : new RemoteWriteDecoder(decoderLimits(options));
  const spareBatches: DecodedBatch[] = [];
  const release = (batch: DecodedBatch) => {
    if (pool) pool.release(batch);
    else if (spareBatches.length < SPARE_BATCHES) spareBatches.push(batch);
  };

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: snappyBound(options.maxBodyBytes) }, (_req, body, done) => done(null, body));

  // Credentials, content type and encoding are checked before the body is read.
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!authorized(request.headers.authorization, options.credentials)) throw new SinkErrors.UNAUTHORIZED('remote write');
    versionFromContentType(request.headers['content-type']);
    const encoding = request.headers['content-encoding'];
    if ((encoding ?? '').toLowerCase() !== 'snappy') throw new SinkErrors.UNSUPPORTED_ENCODING(JSON.stringify(encoding ?? ''));
  });

  app.post('/api/v1/write', async (request, reply) => {
    const version = versionFromContentType(request.headers['content-type']);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const started = performance.now();
    let batch: DecodedBatch;
    try {
      checkSnappyLength(body, options.maxBodyBytes);
      batch = pool ? await pool.decode(body, version) : decoder!.decodeSnappy(body, version, spareBatches.pop());
    } catch (err) {
      if (isDecodeError(err)) throw errorForDecodeReason(err.reason, err.message);
      throw err;
    }
    const decodeMs = performance.now() - started;
    const samples = batch.sampleCount;
    const histograms = batch.histogramCount;
    // Whole or not at all: the body goes into the spool first, and only a request the spool
    // kept is graded and counted. A failed append (a full disk) is a 503 that leaves nothing
    // of the request behind, and the sender sends it again.
    if (options.forward) {
      // The batch's body: the decode worker may have taken `body` and given it back there.
      const forwarded = asBuffer(batch.body ?? body);
      try {
        // The fan-out reads the batch's series (their order) before its first await.
        await options.forward.accept(version, samples + histograms, forwarded, batch);
      } catch (err) {
        release(batch);
        throw new SinkErrors.SPOOL_WRITE_FAILED((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      }
    }
    const graded = performance.now();
    await options.runs.ingestInSlices(batch);
    // Nothing reads the batch from here on: its columns go back to the decode worker.
    release(batch);
    // Decoding and grading, not the wait for the spool's fsync.
    options.metrics.decodeSeconds.observe((decodeMs + performance.now() - graded) / 1000);
    options.metrics.requests.inc({ version: String(version) });
    options.metrics.samples.inc(samples);
    options.metrics.histograms.inc(histograms);
    if (version === 2) {
      reply.header('X-Prometheus-Remote-Write-Samples-Written', String(samples));
      reply.header('X-Prometheus-Remote-Write-Histograms-Written', String(histograms));
      reply.header('X-Prometheus-Remote-Write-Exemplars-Written', '0');
    }
    reply.code(204).send();
  });
}

/** The decoder's limits for a request body: the same in the decode worker and on the event loop. */
export function decoderLimits(o: { maxLabels: number; maxLabelValueBytes: number; maxBodyBytes: number }) {
  return { maxLabels: o.maxLabels, maxLabelValueBytes: o.maxLabelValueBytes, maxUncompressedBytes: o.maxBodyBytes };
}

/** The largest snappy encoding of maxBytes (snappy's MaxEncodedLen). */
function snappyBound(maxBytes: number): number {
  return 32 + maxBytes + Math.ceil(maxBytes / 6);
}
