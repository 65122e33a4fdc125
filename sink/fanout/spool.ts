// The sink's write-ahead spool: every accepted batch is appended once, and each
// destination (consumer) reads it at its own cursor, sends it, and acks. A slow or
// dead destination never delays the others or the 204; it only falls behind, until
// the spool is full and its oldest records are dropped (and counted through onDrop).
//
// On disk (openDiskSpool):
//   <dir>/<first seq, 20 digits>.seg   append-only segment files, named by their first seq
//   <dir>/<consumer>.ack               the consumer's cursor: "<seq>\n", everything ≤ seq is delivered
//   <dir>/consumers.json               the manifest: what each consumer's cursor is for (its destination)
//   <dir>/sink.lock                    the sink that owns the spool (lock.ts): one at a time
//   <dir>/*.corrupt                    what open set aside after a corrupt record: the bytes from it on, later segments
// A segment is a run of records, each framed as (little-endian)
//   0 u32 magic "PLA1" · 4 u32 payload length · 8 u64 seq · 16 u16 kind · 18 u16 zero
//   20 u32 weight · 24 u32 CRC-32 of bytes 0..24 then the payload · 28 payload
// Seqs are consecutive within and across segments (a gap is corruption).
//
// Choices:
// - Group commit: appends wait for the next flush; a flush takes every append made
//   since the previous one (same tick, or while it was writing), assigns their seqs,
//   writes them with one writev and one fdatasync, then resolves them all. Records
//   become readable only once durable. A failed write truncates back and rejects only
//   that batch; if even the truncation fails, the spool refuses further appends.
// - Open scans every segment. A bad record is a torn tail only when it is the end of
//   the spool: in the LAST segment, with no intact record after it. That is an append
//   whose promise never resolved (a flush is written in order and synced before the next
//   one starts): the file is truncated there, with one log line, counted in
//   stats().tornTails / discardedBytes. A bad record followed by an intact one (a flipped
//   byte, a bad sector), a bad record in an earlier segment, or a seq gap is corruption:
//   the records after it were written by later flushes, so they were acknowledged. We
//   refuse to skip over it: the spool keeps the valid records before it and stops there;
//   the bytes from the bad record on go to <segment>.corrupt, every later segment is
//   renamed *.corrupt (kept for a human, never replayed, counted in stats().corruptions,
//   setAsideRecords and discardedBytes), and one log line says how many acknowledged
//   records that is. Refusing to start would lose every new batch as well.
// - A consumer without a cursor file (a new destination) starts at the end of the spool:
//   what the spool holds was meant for the destinations configured when it was written.
//   A cursor below the oldest record (its records were dropped or deleted before the
//   cursor file was rewritten) moves up silently: they were counted (or delivered) back
//   then. A cursor past the end of the spool (its records were set aside as corrupt)
//   moves down and is rewritten at once, so new records are not skipped. A cursor file
//   whose consumer is not configured any more is released: its backlog is reported once
//   (onRelease), the file deleted, and the segments only it still held freed.
// - ack() resolves once the cursor file is rewritten (temp file + fdatasync + rename;
//   concurrent acks of one consumer share writes; the directory is not fsynced, so a
//   power loss may bring back an older cursor: duplicates, never losses). Then every
//   segment but the one being written that all consumers have acked is deleted.
// - Bound: before a flush, while the spool plus the batch exceeds maxBytes, the oldest
//   segment is deleted, acked or not (if only the segment being written is left, the
//   spool rolls to a new one first). Consumers whose cursor was inside it are moved past
//   it and told through onDrop(consumer, records, weight); consumers already past it are
//   not. The batch being appended is never dropped: a batch (or a single record) larger
//   than maxBytes is kept on its own, so the bound can be exceeded by one batch. Drops
//   happen a segment at a time, so segmentBytes defaults to min(8 MiB, maxBytes / 8).
// - Sizes (maxBytes, stats().bytes, lag().bytes) count framed bytes: payload + 28.
// - The most recent records (memoryCacheBytes of payload) stay in memory, so consumers
//   that keep up never read the files. Payload buffers are kept by reference: callers
//   must not modify a buffer after appending it, nor the buffers read() returns.
// - read() returns records after the consumer's ACKED cursor: reading again without
//   acking returns the same records. It returns at least one record even if that one is
//   larger than maxBytes. A read from the files stops at a segment boundary (read again
//   for the rest). wait() resolves when there is something to read, on close, or
//   when the signal aborts.
// - The in-memory index costs 24 bytes per retained record (prefix sums of size and
//   weight, and the file offset), so lag() and drop counts are O(1).
import { mkdir, open, readdir, readFile, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock, type Lock } from '../lock.ts';

export interface SpoolRecord { seq: number; kind: number; weight: number; payload: Buffer }
export interface SpoolStats {
  bytes: number;
  records: number;
  segments: number;
  /** The oldest retained record (equal to nextSeq when the spool is empty). */
  firstSeq: number;
  nextSeq: number;
  /** Group-commit flushes (one write + one fdatasync each on disk). */
  flushes: number;
  /** Torn tails (unacknowledged appends cut by a crash) truncated when the spool was opened. */
  tornTails: number;
  /** Corruptions found when the spool was opened (a bad record before intact ones, a seq gap). */
  corruptions: number;
  /** Records kept aside as *.corrupt by those corruptions: acknowledged, and not replayed. */
  setAsideRecords: number;
  /** Bytes cut as torn tails or set aside as corrupt. */
  discardedBytes: number;
}
export interface Spool {
  /** Resolves with the record's seq once it is durable (disk: group commit, one fdatasync per flush). */
  append(kind: number, weight: number, payload: Buffer): Promise<number>;
  /**
   * Up to maxRecords records (and maxBytes of payload, but at least one) after the
   * consumer's acked cursor, or after `after` when that is further on (reading ahead
   * of what is acked), in order; [] if none.
   */
  read(consumer: string, maxRecords: number, maxBytes: number, after?: number): Promise<SpoolRecord[]>;
  /** Resolves when the consumer has something to read, when the spool closes, or when the signal aborts. */
  wait(consumer: string, signal?: AbortSignal): Promise<void>;
  /** Everything up to and including seq is delivered for this consumer (persisted when the promise resolves). */
  ack(consumer: string, seq: number): Promise<void>;
  lag(consumer: string): { records: number; bytes: number; weight: number };
  /** The consumer's cursor: the seq through which it acked, or the bound dropped its records. */
  position(consumer: string): number;
  stats(): SpoolStats;
  close(): Promise<void>;
}
export interface SpoolOptions {
  maxBytes: number;
  consumers: string[];
  onDrop?: (consumer: string, records: number, weight: number) => void;
  log?: (line: string) => void;
}
export interface DiskSpoolOptions extends SpoolOptions {
  segmentBytes?: number;
  memoryCacheBytes?: number;
  /** What each consumer is (its destination), recorded in the manifest for the next start and for people. */
  describe?: Record<string, string>;
  /**
   * A cursor file a consumer takes over when the spool has no manifest yet (a spool
   * written before cursors were named by destination): its old name, without `.ack`.
   */
  adopt?: Record<string, string>;
  /** A cursor found on disk whose consumer is not configured any more: its backlog, then it is gone. */
  onRelease?: (consumer: string, description: string, records: number, weight: number) => void;
}

export const HEADER_BYTES = 28;
const MAGIC = 0x31414c50; // "PLA1"
const SEGMENT = /^\d{20}\.seg$/;
const MANIFEST = 'consumers.json';
const CONSUMER = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE, as zlib); pass the previous result as `crc` to continue over more bytes. */
export function crc32(buf: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function frameHeader(seq: number, kind: number, weight: number, payload: Buffer): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h.writeUInt32LE(MAGIC, 0);
  h.writeUInt32LE(payload.length, 4);
  h.writeUInt32LE(seq % 2 ** 32, 8);
  h.writeUInt32LE(Math.floor(seq / 2 ** 32), 12);
  h.writeUInt16LE(kind, 16);
  h.writeUInt16LE(0, 18);
  h.writeUInt32LE(weight, 20);
  h.writeUInt32LE(crc32(payload, crc32(h.subarray(0, 24))), 24);
  return h;
}

/** The record framed at `off`, or null if it is incomplete or fails its checks. */
function parseFrame(buf: Buffer, off: number): (SpoolRecord & { size: number }) | null {
  if (off + HEADER_BYTES > buf.length || buf.readUInt32LE(off) !== MAGIC) return null;
  const end = off + HEADER_BYTES + buf.readUInt32LE(off + 4);
  if (end > buf.length) return null;
  const payload = buf.subarray(off + HEADER_BYTES, end);
  if (buf.readUInt32LE(off + 24) !== crc32(payload, crc32(buf.subarray(off, off + 24)))) return null;
  const seq = buf.readUInt32LE(off + 8) + buf.readUInt32LE(off + 12) * 2 ** 32;
  return { seq, kind: buf.readUInt16LE(off + 16), weight: buf.readUInt32LE(off + 20), payload, size: end - off };
}

/** Intact records from `off` on: the first found by searching for the magic, then the ones framed after it. */
function intactRecordsFrom(buf: Buffer, off: number, minSeq: number): { count: number; lastSeq: number } {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(MAGIC);
  let count = 0;
  let lastSeq = 0;
  for (let at = buf.indexOf(magic, off); at >= 0; ) {
    const f = parseFrame(buf, at);
    if (f && f.seq >= Math.max(minSeq, lastSeq + 1)) {
      count++;
      lastSeq = f.seq;
      at += f.size;
      if (at < buf.length && parseFrame(buf, at)) continue;
    }
    at = buf.indexOf(magic, at + 1);
  }
  return { count, lastSeq };
}

function checkRecord(kind: number, weight: number, payload: Buffer): void {
  if (!Number.isInteger(kind) || kind < 0 || kind > 0xffff) throw new RangeError(`spool: kind must be an integer in 0..65535, got ${kind}`);
  if (!Number.isInteger(weight) || weight < 0 || weight > 0xffffffff) throw new RangeError(`spool: weight must be an integer in 0..2^32-1, got ${weight}`);
  if (!Buffer.isBuffer(payload)) throw new TypeError('spool: payload must be a Buffer');
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Prefix sums of size and weight of the retained records, oldest first, plus each one's file offset. */
class RecordIndex {
  first = 1;
  private head = 0;
  private baseBytes = 0;
  private baseWeight = 0;
  private cumBytes: number[] = [];
  private cumWeight: number[] = [];
  private offsets: number[] = [];

  get count(): number { return this.cumBytes.length - this.head; }
  get last(): number { return this.first + this.count - 1; }
  get bytes(): number { return this.bytesAt(this.last) - this.baseBytes; }
  reset(first: number): void { this.first = first; }

  push(size: number, weight: number, offset: number): void {
    const bytes = this.bytesAt(this.last) + size;
    const total = this.weightAt(this.last) + weight;
    this.cumBytes.push(bytes);
    this.cumWeight.push(total);
    this.offsets.push(offset);
  }
  /** Totals through `seq` (seq ≥ first - 1) since the index was created. */
  bytesAt(seq: number): number { return seq < this.first ? this.baseBytes : this.cumBytes[this.head + seq - this.first]; }
  weightAt(seq: number): number { return seq < this.first ? this.baseWeight : this.cumWeight[this.head + seq - this.first]; }
  size(seq: number): number { return this.bytesAt(seq) - this.bytesAt(seq - 1); }
  offset(seq: number): number { return this.offsets[this.head + seq - this.first]; }

  shiftThrough(seq: number): void {
    if (seq < this.first) return;
    this.baseBytes = this.bytesAt(seq);
    this.baseWeight = this.weightAt(seq);
    this.head += seq - this.first + 1;
    this.first = seq + 1;
    if (this.head > 4096 && this.head * 2 > this.cumBytes.length) {
      for (const a of [this.cumBytes, this.cumWeight, this.offsets]) a.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** The most recent records, a contiguous run ending at the newest one. */
class RecordCache {
  private recs: SpoolRecord[] = [];
  private head = 0;
  private bytes = 0;
  constructor(private readonly limit: number) {}

  get first(): number { return this.head < this.recs.length ? this.recs[this.head].seq : Infinity; }
  add(r: SpoolRecord): void {
    this.recs.push(r);
    this.bytes += r.payload.length;
    while (this.bytes > this.limit && this.head < this.recs.length) this.evict();
  }
  dropThrough(seq: number): void {
    while (this.head < this.recs.length && this.recs[this.head].seq <= seq) this.evict();
  }
  slice(from: number, maxRecords: number, maxBytes: number): SpoolRecord[] {
    const out: SpoolRecord[] = [];
    let bytes = 0;
    for (let i = this.head + from - this.first; i < this.recs.length && out.length < maxRecords; i++) {
      const r = this.recs[i];
      if (out.length > 0 && bytes + r.payload.length > maxBytes) break;
      out.push(r);
      bytes += r.payload.length;
    }
    return out;
  }
  private evict(): void {
    this.bytes -= this.recs[this.head++].payload.length;
    if (this.head > 1024 && this.head * 2 > this.recs.length) {
      this.recs.splice(0, this.head);
      this.head = 0;
    }
  }
}

abstract class BaseSpool implements Spool {
  protected readonly index = new RecordIndex();
  protected readonly cursors = new Map<string, number>();
  protected readonly cache: RecordCache;
  protected readonly log: (line: string) => void;
  protected closing = false;
  protected flushes = 0;
  protected tornTails = 0;
  protected corruptions = 0;
  protected setAsideRecords = 0;
  protected discardedBytes = 0;
  private readonly waiters = new Set<() => void>();

  constructor(protected readonly opts: SpoolOptions, cacheBytes: number) {
    if (!(opts.maxBytes > 0)) throw new RangeError('spool: maxBytes must be positive');
    for (const c of opts.consumers) if (!CONSUMER.test(c)) throw new Error(`spool: bad consumer name "${c}"`);
    if (new Set(opts.consumers).size !== opts.consumers.length) throw new Error('spool: duplicate consumer names');
    this.log = opts.log ?? (() => {});
    this.cache = new RecordCache(cacheBytes);
  }

  abstract append(kind: number, weight: number, payload: Buffer): Promise<number>;
  abstract ack(consumer: string, seq: number): Promise<void>;
  abstract close(): Promise<void>;
  protected abstract segmentCount(): number;
  /** Records from `seq` on that are no longer in the cache. */
  protected abstract readStored(seq: number, maxRecords: number, maxBytes: number): Promise<SpoolRecord[]>;

  async read(consumer: string, maxRecords: number, maxBytes: number, after = 0): Promise<SpoolRecord[]> {
    for (let attempt = 0; ; attempt++) {
      const from = Math.max(this.cursor(consumer), after) + 1;
      if (from > this.index.last || maxRecords < 1) return [];
      if (from >= this.cache.first) return this.cache.slice(from, maxRecords, maxBytes);
      try {
        const recs = await this.readStored(from, maxRecords, maxBytes);
        const cursor = this.cursor(consumer); // records dropped while we read were counted: skip them
        return recs.filter((r) => r.seq > cursor);
      } catch (e) {
        // The segment was dropped while we read it: the cursor has moved on, try again.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw e;
      }
    }
  }

  wait(consumer: string, signal?: AbortSignal): Promise<void> {
    const ready = () => this.index.last > this.cursor(consumer) || this.closing || !!signal?.aborted;
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(check);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const check = () => { if (ready()) done(); };
      this.waiters.add(check);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  lag(consumer: string): { records: number; bytes: number; weight: number } {
    const cursor = this.cursor(consumer);
    const last = this.index.last;
    return { records: last - cursor, bytes: this.index.bytesAt(last) - this.index.bytesAt(cursor), weight: this.index.weightAt(last) - this.index.weightAt(cursor) };
  }

  position(consumer: string): number {
    return this.cursor(consumer);
  }

  stats(): SpoolStats {
    const { index } = this;
    return {
      bytes: index.bytes, records: index.count, segments: this.segmentCount(), firstSeq: index.first, nextSeq: index.last + 1,
      flushes: this.flushes, tornTails: this.tornTails, corruptions: this.corruptions, setAsideRecords: this.setAsideRecords, discardedBytes: this.discardedBytes,
    };
  }

  protected cursor(consumer: string): number {
    const c = this.cursors.get(consumer);
    if (c === undefined) throw new Error(`spool: unknown consumer "${consumer}"`);
    return c;
  }

  /** Moves the consumer's cursor forward to seq (never back, never past the newest record); returns the new cursor. */
  protected advance(consumer: string, seq: number): number {
    const cursor = this.cursor(consumer);
    if (!Number.isInteger(seq)) throw new RangeError(`spool: bad seq ${seq}`);
    const target = Math.min(seq, this.index.last);
    if (target > cursor) this.cursors.set(consumer, target);
    return Math.max(target, cursor);
  }

  /** The seq up to which every consumer is done. */
  protected acked(): number {
    let min = this.index.last;
    for (const c of this.cursors.values()) min = Math.min(min, c);
    return min;
  }

  protected commit(rec: SpoolRecord, offset: number): void {
    this.index.push(HEADER_BYTES + rec.payload.length, rec.weight, offset);
    this.cache.add(rec);
  }

  protected notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Forgets every record through seq; consumers still behind it are moved past it and told through onDrop. */
  protected discardThrough(seq: number): void {
    if (seq < this.index.first) return;
    for (const [consumer, cursor] of this.cursors) {
      if (cursor >= seq) continue;
      this.cursors.set(consumer, seq);
      try {
        this.opts.onDrop?.(consumer, seq - cursor, this.index.weightAt(seq) - this.index.weightAt(cursor));
      } catch (e) {
        this.log(`spool: onDrop threw: ${message(e)}`);
      }
    }
    this.index.shiftThrough(seq);
    this.cache.dropThrough(seq);
  }
}

/** The same semantics without files: nothing survives a restart. */
class MemorySpool extends BaseSpool {
  constructor(opts: SpoolOptions) {
    super(opts, Infinity);
    for (const c of opts.consumers) this.cursors.set(c, 0);
  }

  append(kind: number, weight: number, payload: Buffer): Promise<number> {
    try {
      checkRecord(kind, weight, payload);
      if (this.closing) throw new Error('spool: closed');
    } catch (e) {
      return Promise.reject(e);
    }
    const size = HEADER_BYTES + payload.length;
    let upTo = this.index.first - 1;
    while (upTo < this.index.last && this.index.bytesAt(this.index.last) - this.index.bytesAt(upTo) + size > this.opts.maxBytes) upTo++;
    this.discardThrough(upTo);
    const seq = this.index.last + 1;
    this.commit({ seq, kind, weight, payload }, 0);
    this.flushes++;
    this.notify();
    return Promise.resolve(seq);
  }

  async ack(consumer: string, seq: number): Promise<void> {
    this.advance(consumer, seq);
    this.discardThrough(this.acked());
  }

  async close(): Promise<void> {
    this.closing = true;
    this.notify();
  }

  protected segmentCount(): number { return 0; }
  protected readStored(): Promise<SpoolRecord[]> { throw new Error('spool: unreachable, the memory spool caches every record'); }
}

interface Segment { first: number; path: string; bytes: number; count: number }
interface Pending { kind: number; weight: number; payload: Buffer; resolve: (seq: number) => void; reject: (e: unknown) => void }

const segmentName = (first: number) => `${String(first).padStart(20, '0')}.seg`;

class DiskSpool extends BaseSpool {
  private readonly segments: Segment[] = [];
  private readonly segmentBytes: number;
  private fh!: FileHandle;
  private pending: Pending[] = [];
  private gcWaiters: Array<() => void> = [];
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private broken: Error | null = null;
  private closed: Promise<void> | null = null;
  private readonly persisted = new Map<string, number>();
  private readonly saving = new Map<string, Promise<void>>();
  private lock: Lock | null = null;

  constructor(private readonly dir: string, opts: DiskSpoolOptions) {
    super(opts, opts.memoryCacheBytes ?? 64 * 2 ** 20);
    this.segmentBytes = opts.segmentBytes ?? Math.min(8 * 2 ** 20, Math.max(4096, Math.floor(opts.maxBytes / 8)));
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.lock = await acquireLock(this.dir, 'spool directory', join(this.dir, 'sink.lock'));
    try {
      await this.load();
    } catch (e) {
      await this.lock.release();
      throw e;
    }
  }

  private async load(): Promise<void> {
    const names = (await readdir(this.dir)).sort();
    for (const n of names) if (n.endsWith('.tmp')) await unlink(join(this.dir, n));
    const segNames = names.filter((n) => SEGMENT.test(n));
    for (let i = 0; i < segNames.length; i++) {
      const name = segNames[i];
      const seg: Segment = { first: Number(name.slice(0, 20)), path: join(this.dir, name), bytes: 0, count: 0 };
      const expected = i === 0 ? seg.first : this.index.last + 1;
      if (seg.first !== expected) {
        await this.setAside(segNames.slice(i), `${name} starts at seq ${seg.first}, expected ${expected}`, 0, '');
        break;
      }
      if (i === 0) this.index.reset(seg.first);
      const data = await readFile(seg.path);
      for (let f = parseFrame(data, 0); f && f.seq === seg.first + seg.count; f = parseFrame(data, seg.bytes)) {
        this.index.push(f.size, f.weight, seg.bytes);
        seg.bytes += f.size;
        seg.count++;
      }
      this.segments.push(seg);
      if (seg.bytes === data.length) continue;
      const lost = data.length - seg.bytes;
      const bad = seg.first + seg.count;
      const after = intactRecordsFrom(data, seg.bytes + 1, bad + 1);
      if (i === segNames.length - 1 && after.count === 0) {
        this.log(`spool: ${name}: torn tail at byte ${seg.bytes} after ${seg.count} valid records: discarded ${lost} bytes (appends that were never acknowledged)`);
        await truncate(seg.path, seg.bytes);
        this.tornTails++;
        this.discardedBytes += lost;
      } else {
        // Keep the bytes from the bad record on, durable, before cutting them off.
        const aside = await open(`${seg.path}.corrupt`, 'w');
        try {
          await aside.writeFile(data.subarray(seg.bytes));
          await aside.datasync();
        } finally {
          await aside.close();
        }
        await truncate(seg.path, seg.bytes);
        this.discardedBytes += lost;
        // Through the last intact record, every record from the bad one on was acknowledged.
        const acknowledged = after.count > 0 ? after.lastSeq - bad + 1 : 1;
        await this.setAside(
          segNames.slice(i + 1),
          `${name}: record ${bad} at byte ${seg.bytes} is damaged, after ${seg.count} valid records, and ${after.count} intact records follow it`,
          acknowledged,
          `${name}.corrupt (${lost} bytes from the damaged record on)`,
        );
        break;
      }
    }
    if (this.segments.length === 0) {
      const first = this.index.last + 1;
      await (await open(join(this.dir, segmentName(first)), 'w')).close();
      this.segments.push({ first, path: join(this.dir, segmentName(first)), bytes: 0, count: 0 });
    }
    this.fh = await open(this.segments[this.segments.length - 1].path, 'r+');
    await this.syncDir();

    const oldest = this.index.first - 1;
    const opts = this.opts as DiskSpoolOptions;
    const manifestPath = join(this.dir, MANIFEST);
    let manifest: Record<string, string> | null = null;
    try {
      manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, string>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log(`spool: ${MANIFEST} is unreadable (${message(e)}); reading the cursor files without it`);
    }
    for (const c of this.opts.consumers) {
      let saved = await this.readCursor(c);
      const legacy = opts.adopt?.[c];
      if (saved === undefined && manifest === null && legacy !== undefined && (await this.readCursor(legacy)) !== undefined) {
        // A spool from before cursors were named by destination: this one was the one configured in the same place.
        saved = await this.readCursor(legacy);
        await rename(join(this.dir, `${legacy}.ack`), join(this.dir, `${c}.ack`));
        this.log(`spool: ${legacy}.ack is now ${c}.ack (${opts.describe?.[c] ?? c}), at seq ${saved}`);
      }
      if (saved === undefined && this.index.count > 0) {
        this.log(`spool: ${opts.describe?.[c] ?? c} is new to this spool: it starts at its end, seq ${this.index.last}; the ${this.index.count} records already in it are not sent there`);
      }
      const cursor = Math.min(Math.max(saved ?? this.index.last, oldest), this.index.last);
      this.cursors.set(c, cursor);
      if (saved === undefined || saved > cursor) {
        if (saved !== undefined) this.log(`spool: ${c}.ack is at seq ${saved} but the spool ends at ${cursor}: moved back so new records are not skipped`);
        await this.writeCursor(c, cursor);
      } else if (saved === cursor) this.persisted.set(c, cursor);
    }
    // Cursors of destinations no longer configured: report what they had not taken, and let go.
    const configured = new Set(this.opts.consumers);
    for (const name of (await readdir(this.dir)).filter((n) => n.endsWith('.ack')).map((n) => n.slice(0, -4))) {
      if (configured.has(name) || (manifest === null && Object.values(opts.adopt ?? {}).includes(name))) continue;
      const saved = await this.readCursor(name);
      const cursor = Math.min(Math.max(saved ?? oldest, oldest), this.index.last);
      const records = this.index.last - cursor;
      const weight = this.index.weightAt(this.index.last) - this.index.weightAt(cursor);
      const what = manifest?.[name] ?? name;
      this.log(`spool: ${what} is not configured any more: releasing its cursor with ${records} records (${weight} samples) it had not taken`);
      opts.onRelease?.(name, what, records, weight);
      await unlink(join(this.dir, `${name}.ack`));
    }
    await this.writeManifest(Object.fromEntries(this.opts.consumers.map((c) => [c, opts.describe?.[c] ?? c])));
    // Segments only a released cursor still held.
    while (this.segments.length > 1 && this.segments[0]!.first + this.segments[0]!.count - 1 <= this.acked()) await this.removeOldest();
  }

  private async readCursor(name: string): Promise<number | undefined> {
    try {
      const text = await readFile(join(this.dir, `${name}.ack`), 'utf8');
      if (/^\d+\s*$/.test(text)) return Number(text);
      this.log(`spool: ${name}.ack is unreadable, taken as absent`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return undefined;
  }

  private async writeManifest(manifest: Record<string, string>): Promise<void> {
    const tmp = join(this.dir, `${MANIFEST}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(manifest, null, 2) + '\n');
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, MANIFEST));
  }

  /**
   * Renames the segments `names` *.corrupt and logs the corruption once: `records` acknowledged
   * records already kept aside in `keptIn`, plus the intact records of those segments.
   */
  private async setAside(names: string[], why: string, records: number, keptIn: string): Promise<void> {
    let bytes = 0;
    for (const n of names) {
      const path = join(this.dir, n);
      const data = await readFile(path);
      bytes += data.length;
      records += intactRecordsFrom(data, 0, 0).count;
      await rename(path, `${path}.corrupt`);
    }
    this.corruptions++;
    this.setAsideRecords += records;
    this.discardedBytes += bytes;
    const where = [keptIn, names.length > 0 ? `${names.length} later segment(s) renamed *.corrupt (${bytes} bytes)` : ''].filter(Boolean).join(' and ');
    this.log(
      `spool: CORRUPTION, not a torn tail: ${why}. ${records} records that had been acknowledged are kept aside in ${where}, and not replayed; ` +
        `the spool keeps the ${this.index.count} records before it.`,
    );
  }

  append(kind: number, weight: number, payload: Buffer): Promise<number> {
    try {
      checkRecord(kind, weight, payload);
      if (this.closing) throw new Error('spool: closed');
      if (this.broken) throw this.broken;
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ kind, weight, payload, resolve, reject });
      this.kick();
    });
  }

  async ack(consumer: string, seq: number): Promise<void> {
    const cursor = this.advance(consumer, seq);
    await this.saveCursor(consumer, cursor);
    await new Promise<void>((resolve) => {
      if (this.closing) return resolve();
      this.gcWaiters.push(resolve);
      this.kick();
    });
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      while (this.running) await this.loopDone;
      for (const c of this.opts.consumers) {
        await this.saveCursor(c, this.cursor(c)).catch((e) => this.log(`spool: saving ${c}.ack failed: ${message(e)}`));
      }
      await this.fh.close();
      await this.lock?.release();
      this.notify();
    })();
    return this.closed;
  }

  protected segmentCount(): number { return this.segments.length; }

  protected async readStored(seq: number, maxRecords: number, maxBytes: number): Promise<SpoolRecord[]> {
    let lo = 0;
    for (let hi = this.segments.length - 1; lo < hi;) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].first <= seq) lo = mid;
      else hi = mid - 1;
    }
    const seg = this.segments[lo];
    const segLast = seg.first + seg.count - 1;
    let end = seq;
    for (let bytes = this.index.size(seq) - HEADER_BYTES; end < segLast && end - seq + 1 < maxRecords; end++) {
      bytes += this.index.size(end + 1) - HEADER_BYTES;
      if (bytes > maxBytes) break;
    }
    const start = this.index.offset(seq);
    const buf = Buffer.allocUnsafe(this.index.offset(end) + this.index.size(end) - start);
    const fh = await open(seg.path, 'r');
    try {
      const { bytesRead } = await fh.read(buf, 0, buf.length, start);
      if (bytesRead !== buf.length) throw new Error(`spool: short read in ${seg.path}`);
    } finally {
      await fh.close();
    }
    const out: SpoolRecord[] = [];
    for (let off = 0, s = seq; s <= end; s++) {
      const f = parseFrame(buf, off);
      if (!f || f.seq !== s) throw new Error(`spool: record ${s} in ${seg.path} is corrupt (it was valid when written)`);
      out.push({ seq: f.seq, kind: f.kind, weight: f.weight, payload: f.payload });
      off += f.size;
    }
    return out;
  }

  /** One flush or collection at a time; appends gather while one runs. */
  private kick(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = new Promise((resolve) => setImmediate(() => void this.loop().finally(resolve)));
  }

  private async loop(): Promise<void> {
    try {
      while (this.pending.length > 0 || this.gcWaiters.length > 0) {
        if (this.pending.length > 0) {
          const batch = this.pending;
          this.pending = [];
          await this.flush(batch);
        }
        if (this.gcWaiters.length > 0) {
          const waiters = this.gcWaiters;
          this.gcWaiters = [];
          // Every segment but the active one that all consumers have acked.
          while (this.segments.length > 1 && this.segments[0].first + this.segments[0].count - 1 <= this.acked()) await this.removeOldest();
          for (const w of waiters) w();
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    const total = batch.reduce((n, b) => n + HEADER_BYTES + b.payload.length, 0);
    try {
      if (this.broken) throw this.broken;
      while (this.index.count > 0 && this.index.bytes + total > this.opts.maxBytes) {
        if (this.segments.length === 1) await this.roll();
        const seg = this.segments[0];
        this.log(`spool: full (${this.index.bytes} + ${total} > ${this.opts.maxBytes} bytes): dropping ${segmentName(seg.first)} (${seg.count} records)`);
        await this.removeOldest();
      }
      if (this.active.bytes > 0 && this.active.bytes + total > this.segmentBytes) await this.roll();
      const first = this.index.last + 1;
      const iov = batch.flatMap((b, i) => [frameHeader(first + i, b.kind, b.weight, b.payload), b.payload]);
      const { bytesWritten } = await this.fh.writev(iov, this.active.bytes);
      if (bytesWritten !== total) throw new Error(`spool: short write (${bytesWritten} of ${total} bytes)`);
      await this.fh.datasync();
    } catch (e) {
      this.log(`spool: appending ${batch.length} records failed: ${message(e)}`);
      if (!this.broken) {
        await this.fh.truncate(this.active.bytes).catch((t) => {
          this.broken = new Error(`spool: unusable, a failed append could not be undone: ${message(t)}`);
          this.log(this.broken.message);
        });
      }
      for (const b of batch) b.reject(e);
      return;
    }
    this.flushes++;
    const seg = this.active;
    batch.forEach((b, i) => {
      this.commit({ seq: this.index.last + 1, kind: b.kind, weight: b.weight, payload: b.payload }, seg.bytes);
      seg.bytes += HEADER_BYTES + b.payload.length;
      seg.count++;
      b.resolve(this.index.last);
    });
    this.notify();
  }

  private get active(): Segment { return this.segments[this.segments.length - 1]; }

  private async roll(): Promise<void> {
    const first = this.index.last + 1;
    const path = join(this.dir, segmentName(first));
    const fh = await open(path, 'wx+');
    await this.fh.close().catch(() => {});
    this.fh = fh;
    this.segments.push({ first, path, bytes: 0, count: 0 });
    await this.syncDir();
  }

  private async removeOldest(): Promise<void> {
    const seg = this.segments.shift()!;
    this.discardThrough(seg.first + seg.count - 1);
    await unlink(seg.path).catch((e) => this.log(`spool: deleting ${seg.path} failed: ${message(e)}`));
  }

  private async syncDir(): Promise<void> {
    const d = await open(this.dir, 'r');
    try { await d.sync(); } finally { await d.close(); }
  }

  /** Rewrites the cursor file unless it already covers `seq`; concurrent calls share writes. */
  private async saveCursor(consumer: string, seq: number): Promise<void> {
    while ((this.persisted.get(consumer) ?? -1) < seq) {
      const inflight = this.saving.get(consumer);
      if (inflight) {
        await inflight.catch(() => {});
        continue;
      }
      const write = this.writeCursor(consumer, this.cursor(consumer));
      this.saving.set(consumer, write);
      try { await write; } finally { this.saving.delete(consumer); }
    }
  }

  private async writeCursor(consumer: string, seq: number): Promise<void> {
    const tmp = join(this.dir, `${consumer}.ack.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(`${seq}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, `${consumer}.ack`));
    this.persisted.set(consumer, seq);
  }
}

export async function openDiskSpool(dir: string, options: DiskSpoolOptions): Promise<Spool> {
  const spool = new DiskSpool(dir, options);
  await spool.open();
  return spool;
}

export function createMemorySpool(options: SpoolOptions): Spool {
  return new MemorySpool(options);
}
