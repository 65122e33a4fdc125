// Which earlier records a spooled record must wait for, so that several requests can
// be in flight to one destination while every series still arrives in order.
//
// Prometheus refuses a whole request that holds a sample older than its series' newest
// one (400, no retry), and drops such samples silently when two requests commit at
// once. So two requests in flight together must not share a series. Ingest already
// finds each series' state; the state remembers the last record that carried the
// series, and a new record lists those records as the ones it follows. Records from
// different k6 instances, or different runs, share no series and go in parallel; the
// pushes of one k6 instance all share their series and go one after the other.
//
// A record whose series are not all known this way waits for everything before it
// (a barrier): series ingest refused (limits), series it created (a series forgotten
// after --series-ttl may still be in an older record that is not delivered yet), and
// records whose token is missing (replayed from a disk spool after a restart).

/** One spooled record, as far as order goes. */
export class RecordToken {
  /** The spool's seq once appended; 0 until then; -1 when the append failed (never sent). */
  seq = 0;
  /** Waits for every earlier record. */
  barrier = false;
  /** Earlier records that share a series with this one. Emptied once they are all delivered everywhere. */
  after: RecordToken[] = [];
}

/** The part of a series' state that order tracking keeps. */
export interface OrderedSeries {
  lastRecord: RecordToken | null;
}

/** Collects a record's predecessors while its batch is ingested. */
export class RecordDeps {
  readonly token = new RecordToken();
  private lastAdded: RecordToken | null = null;
  private readonly added = new Set<RecordToken>();

  /** A series of the record: its state (null when ingest keeps none), and whether ingest created it just now. */
  series(state: OrderedSeries | null, created: boolean): void {
    if (state === null || created) this.token.barrier = true;
    if (state === null) return;
    const previous = state.lastRecord;
    state.lastRecord = this.token;
    // Consecutive series mostly come from the same earlier record: skip the set then.
    if (previous === null || previous === this.token || previous === this.lastAdded) return;
    this.lastAdded = previous;
    if (this.added.has(previous)) return;
    this.added.add(previous);
    this.token.after.push(previous);
  }
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

  begin(): RecordDeps {
    return new RecordDeps();
  }

  /** A grade record: it follows the previous grade record only (its series are the sink's own). */
  beginGrade(): RecordToken {
    const token = new RecordToken();
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
