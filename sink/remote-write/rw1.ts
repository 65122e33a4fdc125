// Remote write 1.0: `prometheus.WriteRequest`, each series with its labels inline.
// A series' label fields are looked up by the fingerprint of their raw bytes
// (label-cache.ts), so a label set k6 sends again costs a fingerprint, not a decode.
import { DecodeError, quoteForMessage } from '../codec/decode-errors.ts';
import type { DecodedBatch } from '../model/batch.ts';
import type { SeriesLabels } from '../model/labels.ts';
import { makeSeriesLabels } from './labels.ts';
import type { DecoderState } from './decoder-state.ts';
import { readSample } from './sample-message.ts';

export class Rw1Decoder {
  /** Label message ranges of the current series. */
  private labelStarts: Int32Array;
  private labelEnds: Int32Array;

  constructor(private readonly d: DecoderState) {
    this.labelStarts = new Int32Array(d.maxLabels + 1);
    this.labelEnds = new Int32Array(d.maxLabels + 1);
  }

  /** Decodes the message in d.reader (already set) into `batch`. */
  decode(batch: DecodedBatch): void {
    const r = this.d.reader;
    const end = r.buf.length;
    while (r.pos < end) {
      const tagStart = r.pos;
      const tag = r.tag(end);
      if (tag >>> 3 === 1) {
        if ((tag & 7) !== 2) throw r.wrongWireType('WriteRequest.timeseries', tag, tagStart);
        const len = r.length(end);
        this.series(batch, r.pos + len);
      } else {
        if (tag >>> 3 === 3 && (tag & 7) !== 2) throw r.wrongWireType('WriteRequest.metadata', tag, tagStart);
        r.skipField(tag, end);
      }
    }
  }

  private series(batch: DecodedBatch, end: number): void {
    const d = this.d;
    const r = d.reader;
    const buf = r.buf;
    const seriesIndex = batch.seriesCount;
    batch.beginSeries();
    let labelCount = 0;
    let rawStart = -1;
    let rawEnd = -1;
    let contiguous = true;
    const maxLabels = d.maxLabels;
    if (r.pos < end && buf[r.pos] === 0x0a) {
      // Fast path for the usual layout, labels first, each with a one-byte tag (field 1,
      // length-delimited) and a one-byte length: the same checks as the loop below, which
      // takes over at the first field that is anything else (and reports any error).
      const starts = this.labelStarts;
      const ends = this.labelEnds;
      let p = r.pos;
      rawStart = p;
      while (labelCount < maxLabels && p + 1 < end && buf[p] === 0x0a) {
        const len = buf[p + 1]!;
        if (len >= 0x80 || len > end - p - 2) break;
        starts[labelCount] = p + 2;
        ends[labelCount] = p + 2 + len;
        labelCount++;
        p += 2 + len;
      }
      r.pos = p;
      rawEnd = p;
      if (labelCount === 0) rawStart = -1;
    }
    while (r.pos < end) {
      const tagStart = r.pos;
      const tag = r.tag(end);
      switch (tag >>> 3) {
        case 1: {
          if ((tag & 7) !== 2) throw r.wrongWireType('TimeSeries.labels', tag, tagStart);
          const len = r.length(end);
          if (labelCount === 0) rawStart = tagStart;
          else if (rawEnd !== tagStart) contiguous = false;
          if (labelCount >= maxLabels) {
            throw new DecodeError('too_many_labels', `Series ${seriesIndex} has more than ${maxLabels} labels.`, { seriesIndex });
          }
          this.labelStarts[labelCount] = r.pos;
          this.labelEnds[labelCount] = r.pos + len;
          labelCount++;
          r.pos += len;
          rawEnd = r.pos;
          break;
        }
        case 2: {
          if ((tag & 7) !== 2) throw r.wrongWireType('TimeSeries.samples', tag, tagStart);
          const len = r.length(end);
          readSample(r, r.pos + len, batch);
          break;
        }
        case 4: {
          if ((tag & 7) !== 2) throw r.wrongWireType('TimeSeries.histograms', tag, tagStart);
          const len = r.length(end);
          d.histograms.read(r, r.pos + len, batch, seriesIndex);
          break;
        }
        case 3:
          if ((tag & 7) !== 2) throw r.wrongWireType('TimeSeries.exemplars', tag, tagStart);
          r.skipField(tag, end);
          break;
        default:
          r.skipField(tag, end);
      }
    }
    if (labelCount === 0) {
      throw new DecodeError('missing_metric_name', `Series ${seriesIndex} has no labels, so no __name__ label.`, { seriesIndex });
    }
    let labels: SeriesLabels | undefined;
    if (contiguous) {
      r.fingerprint(rawStart, rawEnd);
      labels = d.byRaw.get(r.fp, rawEnd - rawStart);
    }
    if (labels === undefined) {
      d.misses++;
      labels = this.labels(seriesIndex, labelCount);
      if (d.adopt) labels = d.adopt(labels, contiguous && d.byRaw.enabled);
      if (contiguous) d.byRaw.set(r.fp, rawEnd - rawStart, labels);
    } else {
      d.hits++;
    }
    r.pos = end;
    batch.endSeries(labels);
  }

  /** Decodes and validates the label messages recorded for the current series. */
  private labels(seriesIndex: number, labelCount: number): SeriesLabels {
    const d = this.d;
    const r = d.reader;
    const names = d.scratchNames;
    const values = d.scratchValues;
    names.length = 0;
    values.length = 0;
    let metricName: string | undefined;
    let prevStart = 0;
    let prevEnd = 0;
    for (let k = 0; k < labelCount; k++) {
      const end = this.labelEnds[k]!;
      r.pos = this.labelStarts[k]!;
      let nameStart = r.pos;
      let nameEnd = r.pos;
      let valueStart = r.pos;
      let valueEnd = r.pos;
      while (r.pos < end) {
        const tagStart = r.pos;
        const tag = r.tag(end);
        const field = tag >>> 3;
        if (field === 1 || field === 2) {
          if ((tag & 7) !== 2) throw r.wrongWireType(field === 1 ? 'Label.name' : 'Label.value', tag, tagStart);
          const len = r.length(end);
          if (field === 1) {
            nameStart = r.pos;
            nameEnd = r.pos + len;
          } else {
            valueStart = r.pos;
            valueEnd = r.pos + len;
          }
          r.pos += len;
        } else {
          r.skipField(tag, end);
        }
      }
      if (!r.isValidName(nameStart, nameEnd)) {
        const shown = r.utf8(nameStart, nameEnd);
        throw new DecodeError('invalid_label_name', `Series ${seriesIndex} has an invalid label name ${quoteForMessage(shown)}.`, { seriesIndex, labelName: shown });
      }
      const name = d.labelNames.intern(r, nameStart, nameEnd);
      if (k > 0) {
        const cmp = r.compareBytes(prevStart, prevEnd, nameStart, nameEnd);
        if (cmp === 0) {
          throw new DecodeError('duplicate_label', `Series ${seriesIndex} has the label ${quoteForMessage(name)} more than once.`, { seriesIndex, labelName: name });
        }
        if (cmp > 0) {
          throw new DecodeError(
            'unsorted_labels',
            `Series ${seriesIndex} has label ${quoteForMessage(name)} after ${quoteForMessage(names[k - 1]!)}, but label names must be sorted.`,
            { seriesIndex, labelName: name },
          );
        }
      }
      prevStart = nameStart;
      prevEnd = nameEnd;
      if (valueEnd - valueStart > d.maxLabelValueBytes) {
        throw new DecodeError(
          'label_value_too_long',
          `Series ${seriesIndex} has a value of ${valueEnd - valueStart} bytes for label ${quoteForMessage(name)}, more than the limit of ${d.maxLabelValueBytes}.`,
          { seriesIndex, labelName: name },
        );
      }
      let value: string;
      if (r.isAscii(valueStart, valueEnd)) {
        value = valueStart === valueEnd ? '' : r.latin1(valueStart, valueEnd);
      } else {
        if (!r.isUtf8(valueStart, valueEnd)) {
          throw new DecodeError('bad_protobuf', `Series ${seriesIndex} has a value for label ${quoteForMessage(name)} that is not valid UTF-8.`, {
            seriesIndex,
            labelName: name,
            offset: valueStart,
          });
        }
        value = r.utf8(valueStart, valueEnd);
      }
      value = d.valueStrings.intern(value);
      if (name === '__name__') {
        if (value === '') throw new DecodeError('invalid_label_name', `Series ${seriesIndex} has an empty __name__ label.`, { seriesIndex, labelName: name });
        metricName = value;
      }
      names.push(name);
      values.push(value);
    }
    if (metricName === undefined) throw new DecodeError('missing_metric_name', `Series ${seriesIndex} has no __name__ label.`, { seriesIndex });
    return makeSeriesLabels(metricName, d.nameLists.intern(names), values.slice());
  }
}
