// Which earlier records a spooled record must wait for, so that several requests can
// be in flight to one destination while every series still arrives in order.
//
// Prometheus refuses a whole request that holds a sample older than its series' newest
// one (400, no retry), and drops such samples silently when two requests commit at
// once. So two requests in flight together must not share a series. Each label set
// the decoder hands out has a place for this (SeriesLabels.orderState): it remembers the
// last record that carried the series, and a new record lists those records as the
// ones it follows. Grading knows nothing of this; it reads the same batch side by side.
// Records from different k6 instances, or different runs, share no series and go in
// parallel; the pushes of one k6 instance all share their series and go one after the
// other.
//
// A record whose series are not all known this way waits for everything before it
// (a barrier): a label set seen for the first time (the decoder's cache may have
// dropped an earlier object for the same series, which an older record not delivered
// yet may still carry), and records whose token is missing (replayed from a disk
// spool after a restart).

import type { SeriesLabels } from '../model/labels.ts';

/** One spooled record, as far as order goes. */
export class RecordToken {
  /** The spool's seq once appended; 0 until then; -1 when the append failed (never sent). */
  seq = 0;
  /** Waits for every earlier record. */
  barrier = false;
  /** Earlier records that share a series with this one. Emptied once they are all delivered everywhere. */
  after: RecordToken[] = [];
  constructor(readonly owner: RecordOrder) {}
}

/** What the pipelines need to know of a record. */
export interface RecordOrderView {
  /** The record's token; undefined when unknown (a barrier). */
  of(seq: number): RecordToken | undefined;
}

/** The tokens of the records in the spool, by seq. */
export class RecordOrder implements RecordOrderView {
  private readonly bySeq = new Map<number, RecordToken>();
  /** Grade records share their series with each other: each follows the previous one. */
  private lastGrade: RecordToken | null = null;

  /** The token of a record that carries these series (count of them), and the earlier records it follows. */
  track(series: readonly SeriesLabels[], count: number): RecordToken {
    const token = new RecordToken(this);
    const added = new Set<RecordToken>();
    let lastAdded: RecordToken | null = null;
    for (let i = 0; i < count; i++) {
      const labels = series[i]!;
      const known = labels.orderState as RecordToken | undefined;
      labels.orderState = token;
      if (known === undefined || known.owner !== this) {
        token.barrier = true;
        continue;
      }
      // Consecutive series mostly come from the same earlier record: skip the set then.
      if (known === token || known === lastAdded) continue;
      lastAdded = known;
      if (added.has(known)) continue;
      added.add(known);
      token.after.push(known);
    }
    return token;
  }

  /** A grade record: it follows the previous grade record only (its series are the sink's own). */
  beginGrade(): RecordToken {
    const token = new RecordToken(this);
    if (this.lastGrade !== null) token.after.push(this.lastGrade);
    this.lastGrade = token;
    return token;
  }

  /** The record is in the spool under seq. */
  appended(token: RecordToken, seq: number): void {
    token.seq = seq;
    this.bySeq.set(seq, token);
  }

  /** The append failed: the record will never be sent, so nothing waits for it. */
  failed(token: RecordToken): void {
    token.seq = -1;
    token.after = [];
  }

  of(seq: number): RecordToken | undefined {
    return this.bySeq.get(seq);
  }

  /** Forgets the records before firstSeq (delivered everywhere, or dropped): nothing waits for them any more. */
  forgetBefore(firstSeq: number): void {
    for (const [seq, token] of this.bySeq) {
      if (seq >= firstSeq) break;
      // Cut the chain: newer tokens still point here, but not through here to the past.
      token.after = [];
      this.bySeq.delete(seq);
    }
  }

  get size(): number {
    return this.bySeq.size;
  }
}
