/**
 * Pure decoding of Prometheus remote-write bodies (1.0 `prometheus.WriteRequest`
 * and 2.0 `io.prometheus.write.v2.Request`) into a reusable columnar batch.
 *
 * No HTTP here. The handler is expected to:
 *   1. `checkSnappyLength(body, limit)` (from `./snappy.ts`) before anything else,
 *   2. `decoder.decodeSnappy(body, version, batch)` (decompress + decode + validate),
 *   3. hand `batch` synchronously to grading and the fan-out, and forward `body` (the
 *      original bytes, never re-encoded) elsewhere.
 * Every failure is a `DecodeError` (`./decode-errors.ts`); the whole request is
 * rejected on the first error and the batch is left empty.
 *
 * The parts, one concern each: wire.ts (protobuf primitives), rw1.ts and rw2.ts (the
 * two protocol versions), sample-message.ts and histogram-message.ts (the messages
 * both share), labels.ts (label sets, their identity, interning), label-cache.ts
 * (label sets by raw bytes or by symbol refs), batch.ts (the columns).
 *
 * Speed: the wire format is read by hand over one Buffer (no protobufjs, no object
 * per label or histogram). k6 resends identical label sets on every push, so the
 * decoder keeps a bounded cache of immutable `SeriesLabels` (decoded, validated):
 *   - RW1: keyed by the raw bytes of the series' label fields. A hit costs a
 *     32-bit hash of those bytes (4 at a time, alignment-independent), a probe
 *     of an open-addressing table over typed arrays and one native byte
 *     comparison: no string is created, no UTF-8 decoded, nothing validated
 *     again.
 *   - RW2: keyed by the label refs translated to decoder-wide symbol ids
 *     (symbol strings are decoded once per request anyway): a hit is a hash
 *     and comparison of a few integers.
 * Label sets whose fields are not contiguous (RW1 labels interleaved with
 * samples) are decoded every time. Histograms go into flat records
 * (model/histogram.ts), not objects.
 *
 * Memory (per cached label set): the key bytes in shared arenas, ~30 bytes of
 * table, and the SeriesLabels, whose value strings and name lists are shared
 * with the label sets decoded before (bounded interning) and whose identity
 * string is not kept (see SeriesLabels.id).
 *
 * Strings: label names must be ASCII (they are validated against
 * [a-zA-Z_][a-zA-Z0-9_]*). Label values and RW2 symbols must be valid UTF-8:
 * invalid UTF-8 is rejected as `bad_protobuf` (proto3 requires valid UTF-8 in
 * `string` fields, and Prometheus rejects such label values too), rather than
 * being replaced by U+FFFD, which would silently merge distinct series.
 */
import { checkSnappyLength, snappyCanHold, snappyElementsStart, snappyUncompress } from '../codec/snappy.ts';
import { WASM_MAX_BYTES } from '../codec/wasm-codec.ts';
import { DecodedBatch, type RemoteWriteVersion } from '../model/batch.ts';
import { DecoderState, type DecoderOptions } from './decoder-state.ts';
import { Rw1Decoder } from './rw1.ts';
import { Rw2Decoder } from './rw2.ts';

export type { DecoderOptions } from './decoder-state.ts';

export interface DecoderStats {
  /** Series whose labels came from the raw-bytes cache. */
  cacheHits: number;
  /** Series whose labels were decoded and validated. */
  cacheMisses: number;
  /** Cache entries (RW1 and RW2; an entry promoted to the young generation may count twice). */
  cachedLabelSets: number;
  /** Memory of the WebAssembly codec (codec.ts). */
  codecMemoryBytes: number;
}

/**
 * Decoder with its own label-set cache and scratch buffers. Options are fixed
 * at construction (cached label sets were validated with them). Not safe to
 * share between worker threads; fine to share within one event loop.
 */
export class RemoteWriteDecoder {
  readonly maxLabels: number;
  readonly maxLabelValueBytes: number;
  readonly maxUncompressedBytes: number;
  private readonly state: DecoderState;
  private readonly rw1: Rw1Decoder;
  private readonly rw2: Rw2Decoder;
  private scratch: Buffer = Buffer.alloc(0);

  constructor(options: DecoderOptions = {}) {
    this.state = new DecoderState(options);
    this.maxLabels = this.state.maxLabels;
    this.maxLabelValueBytes = this.state.maxLabelValueBytes;
    this.maxUncompressedBytes = this.state.maxUncompressedBytes;
    this.rw1 = new Rw1Decoder(this.state);
    this.rw2 = new Rw2Decoder(this.state);
  }

  get stats(): DecoderStats {
    const s = this.state;
    return { cacheHits: s.hits, cacheMisses: s.misses, cachedLabelSets: s.byRaw.size + s.byRefs.size, codecMemoryBytes: s.codec.memoryBytes };
  }

  clearCache(): void {
    const s = this.state;
    s.byRaw.clear();
    s.byRefs.clear();
    this.rw2.clear();
    s.labelNames.clear();
    s.valueStrings.clear();
    s.nameLists.clear();
  }

  /**
   * Decompress (snappy block format, limited to `maxUncompressedBytes`) and
   * decode a request body. `batch.body` is set to `body` itself.
   */
  decodeSnappy(body: Uint8Array, version: RemoteWriteVersion, into?: DecodedBatch): DecodedBatch {
    const batch = into ?? new DecodedBatch();
    batch.reset(version);
    const length = checkSnappyLength(body, this.maxUncompressedBytes);
    const start = snappyElementsStart(body);
    // The codec for what it takes; snappy.ts for big bodies, and for the exact error of a corrupt one.
    const codec = this.state.codec;
    let raw = length <= WASM_MAX_BYTES && snappyCanHold(body.length, start, length) ? codec.uncompress(body, start, length) : null;
    let offset = raw === null ? -1 : codec.outputOffset;
    if (raw === null) {
      raw = snappyUncompress(body, this.maxUncompressedBytes, this.scratch);
      if (raw.buffer !== this.scratch.buffer && raw.length <= 4 * 1024 * 1024 && raw.length > this.scratch.length) {
        this.scratch = raw; // reuse next time (the decoded batch never points into it)
      }
      offset = -1;
    }
    this.decodeMessage(raw, version, batch, offset);
    batch.body = body;
    batch.bodyByteLength = body.length;
    return batch;
  }

  /** Decode an uncompressed protobuf message. */
  decode(message: Uint8Array, version: RemoteWriteVersion, into?: DecodedBatch): DecodedBatch {
    return this.decodeMessage(message, version, into ?? new DecodedBatch(), -1);
  }

  /** `offset`: where `message` lies in the codec's memory, or -1. */
  private decodeMessage(message: Uint8Array, version: RemoteWriteVersion, batch: DecodedBatch, offset: number): DecodedBatch {
    batch.reset(version);
    const r = this.state.reader;
    r.setInput(message, offset);
    try {
      if (version === 2) this.rw2.decode(batch);
      else this.rw1.decode(batch);
      batch.protobufByteLength = message.length;
      return batch;
    } catch (err) {
      batch.clearAfterError();
      throw err;
    } finally {
      r.clearInput();
    }
  }

  /** Decode an uncompressed `prometheus.WriteRequest` (remote write 1.0). */
  decodeV1(message: Uint8Array, into?: DecodedBatch): DecodedBatch {
    return this.decode(message, 1, into);
  }

  /** Decode an uncompressed `io.prometheus.write.v2.Request` (remote write 2.0). */
  decodeV2(message: Uint8Array, into?: DecodedBatch): DecodedBatch {
    return this.decode(message, 2, into);
  }
}
