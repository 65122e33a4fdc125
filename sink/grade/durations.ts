// A run's http_req_duration histograms, merged: the whole run, each page_type, each
// name (URL group), and each tagged sub-metric a threshold asks for
// (http_req_duration{page_type:product}). Each series adds its newest cumulative
// histogram and takes its previous one out of every merge it belongs to, so every merge
// is the sum of its series' latest histograms: exact across series and k6 instances.
import { HistogramAccumulator, Increase, increaseSameLayout, isReset } from '../model/histogram-math.ts';
import { copyRecord, recordLength } from '../model/histogram.ts';
import { label, matches, type SeriesLabels, type Selector } from '../model/labels.ts';

/** One duration series' place in the merges: what it last added, and where. */
export interface DurationSeries {
  readonly labels: SeriesLabels;
  last: Float64Array | null;
  readonly into: HistogramAccumulator[];
}

/** Names (URL groups) kept apart per run at most; the rest are only in the run's total and their page_type. */
export const MAX_NAMES = 1000;

export class DurationIndex {
  readonly total = new HistogramAccumulator();
  readonly byPageType = new Map<string, HistogramAccumulator>();
  readonly byName = new Map<string, HistogramAccumulator>();
  readonly bySelector = new Map<string, { selector: Selector; merged: HistogramAccumulator }>();
  private readonly series: DurationSeries[] = [];
  /** Scratch for a series' increase since its last push (increaseSameLayout). */
  private increase = new Float64Array(64);

  get empty(): boolean {
    return this.series.length === 0;
  }

  add(labels: SeriesLabels): DurationSeries {
    const into = [this.total];
    const pageType = label(labels, 'page_type');
    if (pageType !== undefined) into.push(mapped(this.byPageType, pageType));
    const name = label(labels, 'name');
    if (name !== undefined && (this.byName.has(name) || this.byName.size < MAX_NAMES)) into.push(mapped(this.byName, name));
    for (const { selector, merged } of this.bySelector.values()) if (matches(labels, selector)) into.push(merged);
    const s: DurationSeries = { labels, last: null, into };
    this.series.push(s);
    return s;
  }

  /** The merge of the series a sub-metric selects (key: its text, e.g. `page_type:product`), made when first asked for. */
  selected(key: string, selector: Selector): HistogramAccumulator {
    const known = this.bySelector.get(key);
    if (known) return known.merged;
    const merged = new HistogramAccumulator();
    this.bySelector.set(key, { selector, merged });
    for (const s of this.series) {
      if (!matches(s.labels, selector)) continue;
      s.into.push(merged);
      if (s.last) merged.addRecord(s.last, 0, 1);
    }
    return merged;
  }

  /**
   * The series' newest cumulative histogram: the record at `at` of `records`. Returns
   * whether the series reset (a k6 restarted under the same testid; Prometheus' rule,
   * see isReset): what it had counted before stays counted.
   */
  update(s: DurationSeries, records: Float64Array, at: number): boolean {
    const previous = s.last;
    let reset = false;
    if (previous === null) {
      for (const merged of s.into) merged.addRecord(records, at, 1);
    } else {
      // Most pushes keep the series' layout: one pass finds the increase (or the reset),
      // and each merge adds that one record.
      const length = recordLength(records, at);
      if (this.increase.length < length) this.increase = new Float64Array(Math.max(length, 2 * this.increase.length));
      const found = increaseSameLayout(records, at, previous, this.increase);
      if (found === Increase.WRITTEN) {
        for (const merged of s.into) merged.addRecord(this.increase, 0, 1);
      } else {
        reset = found === Increase.RESET || isReset(records, at, previous);
        for (const merged of s.into) {
          merged.addRecord(records, at, 1);
          if (!reset) merged.addRecord(previous, 0, -1);
        }
      }
    }
    s.last = copyRecord(records, at, previous);
    return reset;
  }
}

function mapped(map: Map<string, HistogramAccumulator>, key: string): HistogramAccumulator {
  let merged = map.get(key);
  if (!merged) map.set(key, (merged = new HistogramAccumulator()));
  return merged;
}
