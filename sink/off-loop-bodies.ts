// The fan-out's request bodies off the event loop: the pool's worker builds what needs a
// spooled record decoded (RW2 re-encoded as RW1, InfluxDB lines) as jobs, in order with
// the write route's bodies. Without the worker (one CPU, or it stopped) they are built
// here, on the event loop, by the same code.
import { WorkerGone, type DecodePool } from './remote-write/decode-pool.ts';
import { RemoteWriteDecoder } from './remote-write/decode.ts';
import { DecodedBatch } from './model/batch.ts';
import { localBodyEncoder, type BodyEncoder, type DecodeBody, type EncodableRecord } from './fanout/bodies.ts';

// Decoding what the spool holds again: the records were checked when they were accepted,
// under the sink's own limits, so the replay never refuses one for a limit (which may have
// been lowered since).
const REPLAY_LIMITS = { maxUncompressedBytes: 256 * 1024 * 1024, maxLabels: 10_000, maxLabelValueBytes: 1 << 24 };

type LocalEncoder = ReturnType<typeof localBodyEncoder>;

/** A body encoder on this thread, with its own replay decoder (one batch, reused: each body is used up before the next). */
export function replayEncoder(): LocalEncoder {
  const decoder = new RemoteWriteDecoder(REPLAY_LIMITS);
  const batch = new DecodedBatch();
  const decode: DecodeBody = (payload, version) => decoder.decodeSnappy(payload, version, batch);
  return localBodyEncoder(decode);
}

/** A job: the records' bodies, each in memory of its own (moved to the worker, not cloned). */
interface EncodeJob {
  encode: 'rw1' | 'influx';
  records: Array<{ kind: number; payload: Uint8Array }>;
}

/** A buffer the worker or the event loop can move to the other: its own memory, whole. */
function movable(u: Uint8Array): Uint8Array<ArrayBuffer> {
  return u.byteOffset === 0 && u.byteLength === u.buffer.byteLength && u.buffer instanceof ArrayBuffer ? (u as Uint8Array<ArrayBuffer>) : new Uint8Array(u);
}

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** In the worker: a job's result, and the buffers to move back. */
export function encodeJob(job: unknown, local: LocalEncoder): { result: Uint8Array[]; transfer: ArrayBuffer[] } {
  const { encode, records } = job as EncodeJob;
  const input: EncodableRecord[] = records.map((r) => ({ kind: r.kind, payload: asBuffer(r.payload) }));
  const out = (encode === 'rw1' ? local.rw1BlocksNow(input) : [local.influxTextNow(input)]).map(movable);
  return { result: out, transfer: out.map((u) => u.buffer) };
}

/** The fan-out's encoder: on the pool's worker while there is one, on the event loop otherwise. */
export function offLoopBodies(pool: DecodePool | null, local: LocalEncoder): BodyEncoder {
  const run = async (encode: EncodeJob['encode'], records: readonly EncodableRecord[]): Promise<Buffer[]> => {
    if (pool !== null) {
      // Copies of the spooled bodies travel (the spool keeps its own until they are delivered).
      const sent = records.map((r) => ({ kind: r.kind, payload: new Uint8Array(r.payload) }));
      try {
        const built = await pool.run<Uint8Array[]>({ encode, records: sent } satisfies EncodeJob, sent.map((r) => r.payload.buffer));
        return built.map(asBuffer);
      } catch (err) {
        if (!(err instanceof WorkerGone)) throw err;
      }
    }
    return encode === 'rw1' ? local.rw1BlocksNow(records) : [local.influxTextNow(records)];
  };
  return {
    rw1Blocks: (records) => run('rw1', records),
    influxText: async (records) => (await run('influx', records))[0]!,
  };
}
