// What the RW1 and RW2 decoders of one RemoteWriteDecoder share: the reader, the
// limits, the label-set caches and the interners.
import { ProtoReader } from './wire.ts';
import { WasmCodec } from '../codec/wasm-codec.ts';
import { RawLabelCache, RefsLabelCache } from './label-cache.ts';
import { HistogramReader } from './histogram-message.ts';
import { LabelNameInterner, NAMES_INTERN_MAX, NamesInterner, StringInterner, VALUE_INTERN_MAX } from './labels.ts';
import type { SeriesLabels } from '../model/labels.ts';

export interface DecoderOptions {
  /** Most labels per series (including __name__). Default 64. */
  maxLabels?: number;
  /** Longest label value, in UTF-8 bytes. Default 2048. */
  maxLabelValueBytes?: number;
  /** Largest uncompressed protobuf accepted by `decodeSnappy`. Default 32 MiB. */
  maxUncompressedBytes?: number;
  /**
   * Label sets kept in the cache: two generations of half this size, so a
   * working set of up to half of it always hits. 0 disables it. Default 200,000.
   */
  seriesCacheSize?: number;
  /**
   * @internal For decode workers (see decode-pool.ts). Called on every cache miss
   * with the label set just decoded; returns the object to keep in the cache and to
   * put in the batch instead. `cached` is false for label sets the cache will not
   * keep (cache disabled, or label fields not contiguous).
   */
  adopt?: (labels: SeriesLabels, cached: boolean) => SeriesLabels;
  /** @internal Called once for each adopted object the cache drops for good. */
  dropped?: (labels: SeriesLabels) => void;
}

export class DecoderState {
  readonly codec = new WasmCodec();
  readonly reader = new ProtoReader(this.codec);
  readonly maxLabels: number;
  readonly maxLabelValueBytes: number;
  readonly maxUncompressedBytes: number;
  readonly byRaw: RawLabelCache;
  readonly byRefs: RefsLabelCache;
  readonly adopt: DecoderOptions['adopt'];
  readonly histograms = new HistogramReader();
  readonly labelNames = new LabelNameInterner();
  readonly valueStrings = new StringInterner(VALUE_INTERN_MAX);
  readonly nameLists = new NamesInterner(NAMES_INTERN_MAX);
  /** Scratch lists for the label set being decoded (copied, exact size, when kept). */
  readonly scratchNames: string[] = [];
  readonly scratchValues: string[] = [];
  hits = 0;
  misses = 0;

  constructor(options: DecoderOptions) {
    this.maxLabels = options.maxLabels ?? 64;
    this.maxLabelValueBytes = options.maxLabelValueBytes ?? 2048;
    this.maxUncompressedBytes = options.maxUncompressedBytes ?? 32 * 1024 * 1024;
    const cacheSize = options.seriesCacheSize ?? 200_000;
    this.byRaw = new RawLabelCache(Math.ceil(cacheSize / 2), options.dropped);
    this.byRefs = new RefsLabelCache(Math.ceil(cacheSize / 2), options.dropped);
    this.adopt = options.adopt;
  }
}
