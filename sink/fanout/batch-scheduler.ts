// Which spooled records go together in a destination's next request, with several
// requests in flight: a record goes only once the records it follows (record-order.ts)
// are delivered or travel in the same request, before it. Pure bookkeeping, no I/O:
// the pipeline reads the spool ahead into it, sends what it hands out, and acks the
// spool through the delivered prefix.
import type { SpoolRecord } from './spool.ts';
import type { RecordOrderView, RecordToken } from './record-order.ts';
import { RecordKind } from './bodies.ts';
import { readSnappyLength } from '../codec/snappy.ts';

export interface BatchLimits {
  /** Most records and bytes (as spooled, compressed) in one request. */
  batchRecords: number;
  batchBytes: number;
  /** Most uncompressed bytes in one request (at least one record goes anyway). */
  batchContentBytes: number;
}

const WAITING = 0;
const IN_FLIGHT = 1;
const DONE = 2;

interface Entry {
  record: SpoolRecord;
  content: number;
  readAt: number;
  state: number;
}

export type Plan = { records: SpoolRecord[]; full: boolean } | { waitMs: number } | null;

/** What a record decompresses to (remote write: its snappy preamble), else its size. */
function contentBytes(record: SpoolRecord): number {
  if (record.kind !== RecordKind.RW1 && record.kind !== RecordKind.RW2) return record.payload.length;
  try {
    return readSnappyLength(record.payload);
  } catch {
    return record.payload.length;
  }
}

export class BatchScheduler {
  /** Every record through this seq is delivered (or dropped, or given up). */
  acked: number;
  /** The newest record read ahead. */
  lastRead: number;
  /** Records after `acked`, oldest first. */
  private entries: Entry[] = [];
  private readonly bySeq = new Map<number, Entry>();
  private bytes = 0;

  constructor(
    private readonly limits: BatchLimits,
    /** Without it every record waits for all before it: one request at a time. */
    private readonly order: RecordOrderView | null,
    startAfter: number,
  ) {
    this.acked = startAfter;
    this.lastRead = startAfter;
  }

  get size(): number {
    return this.entries.length;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** Records read ahead, in seq order, each after lastRead. */
  add(records: SpoolRecord[], now: number): void {
    for (const record of records) {
      if (record.seq <= this.lastRead) continue;
      const entry: Entry = { record, content: contentBytes(record), readAt: now, state: WAITING };
      this.entries.push(entry);
      this.bySeq.set(record.seq, entry);
      this.bytes += record.payload.length;
      this.lastRead = record.seq;
    }
  }

  /** The spool moved the cursor to seq (it dropped the records before): they count as done. */
  skipThrough(seq: number): void {
    if (seq <= this.acked) return;
    while (this.entries.length > 0 && this.entries[0]!.record.seq <= seq) this.remove(this.entries.shift()!);
    this.acked = seq;
    if (this.lastRead < seq) this.lastRead = seq;
  }

  /** These records were delivered, or given up on: records that follow them may go. */
  complete(records: readonly SpoolRecord[]): void {
    for (const r of records) {
      const entry = this.bySeq.get(r.seq);
      if (entry !== undefined) entry.state = DONE;
    }
  }

  /** Folds the delivered prefix into `acked`; true when it moved. */
  advance(): boolean {
    let n = 0;
    while (n < this.entries.length && this.entries[n]!.state === DONE) n++;
    if (n === 0) return false;
    const gone = this.entries.splice(0, n);
    for (const entry of gone) this.remove(entry);
    this.acked = gone[gone.length - 1]!.record.seq;
    return true;
  }

  /**
   * The next request: the oldest record that may go, then the records that continue
   * its chain (they follow it or each other), within the limits. With `mix` (no other
   * request could go beside it), any other record that may go fills it up; otherwise
   * those are left for requests of their own, in parallel. A batch that is not full
   * waits until its oldest record is minAgeMs old. null when nothing may go. The
   * records handed out are in flight until complete().
   */
  next(now: number, minAgeMs: number, mix = true): Plan {
    const { entries } = this;
    const inBatch = new Set<number>();
    const chosen: Entry[] = [];
    let content = 0;
    let bytes = 0;
    let full = false;
    const fits = (e: Entry): boolean => {
      if (chosen.length === 0) return true;
      if (chosen.length >= this.limits.batchRecords || bytes + e.record.payload.length > this.limits.batchBytes || content + e.content > this.limits.batchContentBytes) {
        full = true;
        return false;
      }
      return true;
    };
    const take = (e: Entry) => {
      chosen.push(e);
      inBatch.add(e.record.seq);
      content += e.content;
      bytes += e.record.payload.length;
      if (chosen.length >= this.limits.batchRecords || bytes >= this.limits.batchBytes || content >= this.limits.batchContentBytes) full = true;
    };

    // Pass 1: the head, and its chain.
    let head = -1;
    this.scan(inBatch, (e, i, token) => {
      if (head < 0) {
        head = i;
        take(e);
        return true;
      }
      if (full) return false;
      if (token !== undefined && token.after.some((t) => inBatch.has(t.seq)) && fits(e)) take(e);
      return !full;
    });
    if (head < 0) return null;
    // Pass 2: fill up with whatever else may go.
    if (!full && mix) {
      this.scan(inBatch, (e) => {
        if (!inBatch.has(e.record.seq) && fits(e)) take(e);
        return !full;
      }, head);
    }
    const oldest = entries[head]!;
    if (!full && now - oldest.readAt < minAgeMs) return { waitMs: oldest.readAt + minAgeMs - now };
    chosen.sort((a, b) => a.record.seq - b.record.seq);
    for (const e of chosen) e.state = IN_FLIGHT;
    return { records: chosen.map((e) => e.record), full };
  }

  /**
   * Calls visit(entry, index, token) for each waiting record (from index `from`) that
   * may go given what is delivered and what is in the batch, in seq order, while visit
   * returns true.
   */
  private scan(inBatch: Set<number>, visit: (e: Entry, i: number, token: RecordToken | undefined) => boolean, from = 0): void {
    const { entries } = this;
    // Something before the current record is neither delivered nor in the batch.
    let unsettledBefore = false;
    // ... and that something waits for everything before it (so everything after waits for it).
    let barrierBefore = false;
    for (let i = 0; i < from; i++) {
      const e = entries[i]!;
      if (e.state !== DONE && !inBatch.has(e.record.seq)) {
        unsettledBefore = true;
        if (this.isBarrier(this.order?.of(e.record.seq))) barrierBefore = true;
      }
    }
    for (let i = from; i < entries.length; i++) {
      const e = entries[i]!;
      const settled = e.state === DONE || inBatch.has(e.record.seq);
      const token = this.order?.of(e.record.seq);
      const barrier = this.isBarrier(token);
      if (e.state === WAITING && !inBatch.has(e.record.seq)) {
        const mayGo = barrier ? !unsettledBefore : !barrierBefore && token!.after.every((t) => this.delivered(t) || inBatch.has(t.seq));
        if (mayGo && !visit(e, i, token)) return;
      }
      // visit() may have put e in the batch.
      if (!settled && !inBatch.has(e.record.seq)) {
        unsettledBefore = true;
        if (barrier) barrierBefore = true;
      }
    }
  }

  private isBarrier(token: RecordToken | undefined): boolean {
    return token === undefined || token.barrier;
  }

  /** Whether the record behind token needs no waiting for any more. */
  private delivered(token: RecordToken): boolean {
    if (token.seq === -1) return true; // never appended
    if (token.seq === 0) return false; // its append has not finished
    if (token.seq <= this.acked) return true;
    const entry = this.bySeq.get(token.seq);
    return entry !== undefined && entry.state === DONE;
  }

  private remove(entry: Entry): void {
    this.bySeq.delete(entry.record.seq);
    this.bytes -= entry.record.payload.length;
  }
}
