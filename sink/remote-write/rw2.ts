// Remote write 2.0: `io.prometheus.write.v2.Request`, a symbol table and series that
// refer to it. Symbols are decoded once per request; a series' label set is looked up
// by its refs translated to decoder-wide symbol ids (label-cache.ts).
import { DecodeError, quoteForMessage } from '../codec/decode-errors.ts';
import type { DecodedBatch } from '../model/batch.ts';
import type { SeriesLabels } from '../model/labels.ts';
import { NAME_RE, makeSeriesLabels } from './labels.ts';
import type { DecoderState } from './decoder-state.ts';
import { readSample } from './sample-message.ts';

/** Decoder-wide symbol ids are dropped (with the RW2 cache) beyond this many distinct symbols. */
const MAX_SYMBOL_IDS = 1_000_000;

export class Rw2Decoder {
  /** Symbol string -> decoder-wide id. */
  private symbolIds = new Map<string, number>();
  /** Per symbol of the current request: its decoder-wide id. */
  private symbolGids = new Int32Array(1024);
  /** Decoder-wide ids of the current series' label refs. */
  private refIds = new Int32Array(128);
  /** Label refs of the current series. */
  private refs = new Uint32Array(128);
  /** Series message ranges of the current request. */
  private seriesRanges = new Int32Array(2048);
  private symbols: string[] = [];
  private symbolBytes = new Int32Array(1024);
  /** Per symbol: 0 not checked, 1 valid label name, 2 invalid. */
  private symbolNameState = new Uint8Array(1024);

  constructor(private readonly d: DecoderState) {}

  clear(): void {
    this.symbolIds.clear();
  }

  /** Decodes the message in d.reader (already set) into `batch`. */
  decode(batch: DecodedBatch): void {
    const r = this.d.reader;
    const end = r.buf.length;
    const symbols = this.symbols;
    symbols.length = 0;
    let nSeries = 0;
    if (this.symbolIds.size > MAX_SYMBOL_IDS) {
      this.symbolIds.clear();
      this.d.byRefs.clear();
    }
    try {
      // Pass 1: symbols (decoded now) and series ranges (decoded once all symbols are known).
      while (r.pos < end) {
        const tagStart = r.pos;
        const tag = r.tag(end);
        const field = tag >>> 3;
        if (field === 4) {
          if ((tag & 7) !== 2) throw r.wrongWireType('Request.symbols', tag, tagStart);
          const len = r.length(end);
          const s = r.string(r.pos, r.pos + len);
          if (s === null) throw r.error(`Symbol ${symbols.length} is not valid UTF-8.`, r.pos);
          const k = symbols.length;
          if (k >= this.symbolBytes.length) {
            const nb = new Int32Array(this.symbolBytes.length * 2);
            nb.set(this.symbolBytes);
            this.symbolBytes = nb;
            this.symbolNameState = new Uint8Array(nb.length);
            const ng = new Int32Array(nb.length);
            ng.set(this.symbolGids);
            this.symbolGids = ng;
          }
          this.symbolBytes[k] = len;
          let gid = this.symbolIds.get(s);
          if (gid === undefined) {
            gid = this.symbolIds.size + 1;
            this.symbolIds.set(s, gid);
          }
          this.symbolGids[k] = gid;
          symbols.push(s);
          r.pos += len;
        } else if (field === 5) {
          if ((tag & 7) !== 2) throw r.wrongWireType('Request.timeseries', tag, tagStart);
          const len = r.length(end);
          if (2 * nSeries + 2 > this.seriesRanges.length) {
            const nr = new Int32Array(this.seriesRanges.length * 2);
            nr.set(this.seriesRanges);
            this.seriesRanges = nr;
          }
          this.seriesRanges[2 * nSeries] = r.pos;
          this.seriesRanges[2 * nSeries + 1] = r.pos + len;
          nSeries++;
          r.pos += len;
        } else {
          r.skipField(tag, end);
        }
      }
      if (symbols.length > 0 && symbols[0] !== '') {
        throw new DecodeError('bad_symbol_ref', `The first symbol must be the empty string, but it is ${quoteForMessage(symbols[0]!)}.`);
      }
      this.symbolNameState.fill(0, 0, symbols.length);
      for (let i = 0; i < nSeries; i++) {
        r.pos = this.seriesRanges[2 * i]!;
        this.series(batch, this.seriesRanges[2 * i + 1]!);
      }
    } finally {
      symbols.length = 0;
    }
  }

  private series(batch: DecodedBatch, end: number): void {
    const r = this.d.reader;
    const seriesIndex = batch.seriesCount;
    batch.beginSeries();
    let nRefs = 0;
    while (r.pos < end) {
      const tagStart = r.pos;
      const tag = r.tag(end);
      switch (tag >>> 3) {
        case 1: {
          if ((tag & 7) === 0) {
            nRefs = this.pushRef(nRefs, r.varint(end), seriesIndex);
          } else if ((tag & 7) === 2) {
            const len = r.length(end);
            const pend = r.pos + len;
            while (r.pos < pend) nRefs = this.pushRef(nRefs, r.varint(pend), seriesIndex);
          } else {
            throw r.wrongWireType('TimeSeries.labels_refs', tag, tagStart);
          }
          break;
        }
        case 2: {
          if ((tag & 7) !== 2) throw r.wrongWireType('TimeSeries.samples', tag, tagStart);
          const len = r.length(end);
          readSample(r, r.pos + len, batch);
          break;
        }
        case 3: {
          if ((tag & 7) !== 2) throw r.wrongWireType('TimeSeries.histograms', tag, tagStart);
          const len = r.length(end);
          this.d.histograms.read(r, r.pos + len, batch, seriesIndex);
          break;
        }
        case 4:
          if ((tag & 7) !== 2) throw r.wrongWireType('TimeSeries.exemplars', tag, tagStart);
          r.skipField(tag, end);
          break;
        case 5:
          if ((tag & 7) !== 2) throw r.wrongWireType('TimeSeries.metadata', tag, tagStart);
          r.skipField(tag, end);
          break;
        case 6:
          if ((tag & 7) !== 0) throw r.wrongWireType('TimeSeries.created_timestamp', tag, tagStart);
          batch.createdTimestamps[seriesIndex] = r.int64(end);
          break;
        default:
          r.skipField(tag, end);
      }
    }
    batch.endSeries(this.resolveLabels(seriesIndex, nRefs));
  }

  private pushRef(n: number, ref: number, seriesIndex: number): number {
    const vHi = this.d.reader.vHi;
    if (vHi !== 0 || ref >= this.symbols.length) {
      const shown = vHi !== 0 ? 'beyond 2^32' : String(ref);
      throw new DecodeError('bad_symbol_ref', `Series ${seriesIndex} refers to symbol ${shown}, but the request has only ${this.symbols.length} symbols.`, { seriesIndex });
    }
    if (n >= 2 * this.d.maxLabels) {
      throw new DecodeError('too_many_labels', `Series ${seriesIndex} has more than ${this.d.maxLabels} labels.`, { seriesIndex });
    }
    if (n >= this.refs.length) {
      const nr = new Uint32Array(this.refs.length * 2);
      nr.set(this.refs);
      this.refs = nr;
    }
    this.refs[n] = ref;
    return n + 1;
  }

  private resolveLabels(seriesIndex: number, nRefs: number): SeriesLabels {
    const d = this.d;
    if (nRefs % 2 !== 0) {
      throw new DecodeError('bad_symbol_ref', `Series ${seriesIndex} has an odd number (${nRefs}) of label references.`, { seriesIndex });
    }
    if (nRefs === 0) {
      throw new DecodeError('missing_metric_name', `Series ${seriesIndex} has no labels, so no __name__ label.`, { seriesIndex });
    }
    const refs = this.refs;
    // Same decoder-wide symbol ids in the same order = same label set, already validated.
    if (this.refIds.length < nRefs) this.refIds = new Int32Array(this.refs.length);
    const ids = this.refIds;
    const gids = this.symbolGids;
    for (let k = 0; k < nRefs; k++) ids[k] = gids[refs[k]!]!;
    const h = d.byRefs.hash(ids, nRefs);
    const cached = d.byRefs.get(h, ids, nRefs);
    if (cached !== undefined) {
      d.hits++;
      return cached;
    }
    d.misses++;
    let labels = this.validateLabels(seriesIndex, nRefs);
    if (d.adopt) labels = d.adopt(labels, d.byRefs.enabled);
    d.byRefs.set(h, ids, nRefs, labels);
    return labels;
  }

  private validateLabels(seriesIndex: number, nRefs: number): SeriesLabels {
    const d = this.d;
    const symbols = this.symbols;
    const refs = this.refs;
    const state = this.symbolNameState;
    let metricName: string | undefined;
    let prev = '';
    for (let k = 0; k < nRefs; k += 2) {
      const nameRef = refs[k]!;
      const name = symbols[nameRef]!;
      let st = state[nameRef];
      if (st === 0) {
        st = NAME_RE.test(name) ? 1 : 2;
        state[nameRef] = st;
      }
      if (st !== 1) {
        throw new DecodeError('invalid_label_name', `Series ${seriesIndex} has an invalid label name ${quoteForMessage(name)}.`, { seriesIndex, labelName: name });
      }
      // Valid names are ASCII, so string order is byte order.
      if (k > 0) {
        if (name === prev) {
          throw new DecodeError('duplicate_label', `Series ${seriesIndex} has the label ${quoteForMessage(name)} more than once.`, { seriesIndex, labelName: name });
        }
        if (name < prev) {
          throw new DecodeError(
            'unsorted_labels',
            `Series ${seriesIndex} has label ${quoteForMessage(name)} after ${quoteForMessage(prev)}, but label names must be sorted.`,
            { seriesIndex, labelName: name },
          );
        }
      }
      prev = name;
      const valueRef = refs[k + 1]!;
      if (this.symbolBytes[valueRef]! > d.maxLabelValueBytes) {
        throw new DecodeError(
          'label_value_too_long',
          `Series ${seriesIndex} has a value of ${this.symbolBytes[valueRef]} bytes for label ${quoteForMessage(name)}, more than the limit of ${d.maxLabelValueBytes}.`,
          { seriesIndex, labelName: name },
        );
      }
      if (name === '__name__') {
        const v = symbols[valueRef]!;
        if (v === '') throw new DecodeError('invalid_label_name', `Series ${seriesIndex} has an empty __name__ label.`, { seriesIndex, labelName: name });
        metricName = v;
      }
    }
    if (metricName === undefined) throw new DecodeError('missing_metric_name', `Series ${seriesIndex} has no __name__ label.`, { seriesIndex });
    const names = d.scratchNames;
    const values = d.scratchValues;
    names.length = 0;
    values.length = 0;
    for (let k = 0; k < nRefs; k += 2) {
      names.push(symbols[refs[k]!]!);
      values.push(d.valueStrings.intern(symbols[refs[k + 1]!]!));
    }
    return makeSeriesLabels(metricName, d.nameLists.intern(names), values.slice());
  }
}
