// Order with several requests in flight: which records may share a request, and which
// must wait (record-order.ts, batch-scheduler.ts), from batches ingested for real.
import { describe, expect, it } from 'vitest';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { RunRegistry } from '../../sink/grade/runs.ts';
import { DEFAULT_CONFIG } from '../../sink/config.ts';
import { RecordOrder } from '../../sink/fanout/record-order.ts';
import { BatchScheduler, type Plan } from '../../sink/fanout/batch-scheduler.ts';
import { RecordKind } from '../../sink/fanout/bodies.ts';
import type { SpoolRecord } from '../../sink/fanout/spool.ts';
import { encodeV1 } from '../../fixtures/remote-write-proto.ts';
import { T0, series } from './fixtures/series.ts';

const ONE_PER_REQUEST = { batchRecords: 1, batchBytes: 1 << 30, batchContentBytes: 1 << 30 };
const ROOMY = { batchRecords: 100, batchBytes: 1 << 30, batchContentBytes: 1 << 30 };

/** A sink's ingest and order tracking, with records numbered as a spool would number them. */
function sink(limits: Partial<typeof DEFAULT_CONFIG> = {}) {
  const runs = new RunRegistry({ ...DEFAULT_CONFIG, ...limits });
  const decoder = new RemoteWriteDecoder();
  const order = new RecordOrder();
  let seq = 0;
  /** Grades push `n` of k6 instance `instance` (`count` series of its own) and returns its body and order collector. */
  const graded = (instance: string, n: number, count: number) => {
    const body = encodeV1({
      timeseries: Array.from({ length: count }, (_, i) => series('k6_http_reqs_total', { testid: 'run', instance, url: `/p${i}` }, [[T0 + n * 1000, n]])),
    });
    const batch = decoder.decode(body, 1);
    runs.ingest(batch);
    return { body, deps: { token: order.track(batch.series, batch.seriesCount) } };
  };
  /** One k6 push, graded and spooled. */
  const push = (instance: string, n: number, count = 3): SpoolRecord => {
    const { body, deps } = graded(instance, n, count);
    order.appended(deps.token, ++seq);
    return { seq, kind: RecordKind.RW1, weight: count, payload: Buffer.from(body) };
  };
  /** A push that was graded but never reached the spool (an append that failed). */
  const abandoned = (instance: string, n: number, count = 3): void => {
    order.failed(graded(instance, n, count).deps.token);
  };
  /** A record the spool holds but the sink knows nothing of (replayed from disk after a restart). */
  const unknown = (): SpoolRecord => ({ seq: ++seq, kind: RecordKind.RW1, weight: 1, payload: Buffer.alloc(0) });
  return { runs, order, push, unknown, abandoned };
}

/** A scheduler that has sent `record` in a request of its own, and seen it delivered. */
function afterDelivering(limits: typeof ROOMY, order: RecordOrder, record: SpoolRecord): BatchScheduler {
  const scheduler = new BatchScheduler(limits, order, 0);
  scheduler.add([record], 0);
  expect(seqs(scheduler.next(0, 0))).toEqual([record.seq]);
  scheduler.complete([record]);
  return scheduler;
}

const seqs = (plan: Plan): number[] | string => (plan === null ? 'nothing' : 'waitMs' in plan ? `wait ${plan.waitMs}` : plan.records.map((r) => r.seq));

describe('which records may be in flight together', () => {
  it('sends the pushes of different k6 instances side by side, and one instance’s pushes one after the other', () => {
    const { order, push } = sink();
    const a1 = push('1', 1);
    const b1 = push('2', 1);
    const scheduler = new BatchScheduler(ONE_PER_REQUEST, order, 0);
    scheduler.add([a1, b1], 0);
    // Their series are new to the sink: each waits for everything before it.
    expect(seqs(scheduler.next(0, 0))).toEqual([1]);
    expect(seqs(scheduler.next(0, 0))).toBe('nothing');
    scheduler.complete([a1]);
    expect(seqs(scheduler.next(0, 0))).toEqual([2]);
    scheduler.complete([b1]);

    const later = [push('1', 2), push('2', 2), push('1', 3), push('2', 3)];
    scheduler.add(later, 0);
    expect(seqs(scheduler.next(0, 0))).toEqual([3]);
    expect(seqs(scheduler.next(0, 0))).toEqual([4]);
    // Instance 1's third push shares every series with its second, which is in flight.
    expect(seqs(scheduler.next(0, 0))).toBe('nothing');
    scheduler.complete([later[1]!]);
    expect(seqs(scheduler.next(0, 0))).toEqual([6]);
    scheduler.complete([later[0]!]);
    expect(seqs(scheduler.next(0, 0))).toEqual([5]);
  });

  it('puts one instance’s consecutive pushes in one request, before the other instance’s', () => {
    const { order, push } = sink();
    const first = [push('1', 1), push('2', 1)];
    const scheduler = new BatchScheduler({ ...ROOMY, batchRecords: 3 }, order, 0);
    scheduler.add(first, 0);
    scheduler.complete(first);
    scheduler.add([push('1', 2), push('2', 2), push('1', 3), push('2', 3), push('1', 4), push('2', 4)], 0);
    // The oldest record, then the records that follow it (its chain), up to the limit.
    expect(seqs(scheduler.next(0, 0))).toEqual([3, 5, 7]);
    expect(seqs(scheduler.next(0, 0))).toEqual([4, 6, 8]);
  });

  it('lets a record travel in the same request as the record it follows, after it', () => {
    const { order, push } = sink();
    const first = push('1', 1);
    const scheduler = afterDelivering(ROOMY, order, first);
    const next = [push('1', 2), push('1', 3), push('2', 1)];
    scheduler.add(next, 0);
    // The new instance's record waits for everything before it (a barrier), so it joins
    // the request that carries all of them.
    expect(seqs(scheduler.next(0, 0))).toEqual([2, 3, 4]);
  });

  it('makes a record with a series new to the sink wait for every record before it', () => {
    const { order, push } = sink();
    const a1 = push('1', 1);
    const scheduler = afterDelivering(ONE_PER_REQUEST, order, a1);
    const a2 = push('1', 2);
    const b1 = push('2', 1);
    scheduler.add([a2, b1], 0);
    expect(seqs(scheduler.next(0, 0))).toEqual([2]);
    expect(seqs(scheduler.next(0, 0))).toBe('nothing');
    scheduler.complete([a2]);
    expect(seqs(scheduler.next(0, 0))).toEqual([3]);
  });

  it('orders the series grading refused (its series limits) like any other: they are forwarded, and followed by their own earlier records only', () => {
    const { order, push, runs } = sink({ maxSeries: 3 });
    const a1 = push('1', 1, 3);
    const scheduler = afterDelivering(ONE_PER_REQUEST, order, a1);
    const a2 = push('1', 2, 3);
    const b1 = push('2', 1, 3); // refused by grading: the sink grades 3 series at most
    const b2 = push('2', 2, 3);
    expect(runs.counters.refusedSeries.total_limit).toBeGreaterThan(0);
    expect(order.of(b1.seq)!.barrier).toBe(true); // first seen
    expect(order.of(b2.seq)!.barrier).toBe(false);
    expect(order.of(b2.seq)!.after).toEqual([order.of(b1.seq)]);
    scheduler.add([a2, b1, b2], 0);
    expect(seqs(scheduler.next(0, 0))).toEqual([2]);
    expect(seqs(scheduler.next(0, 0))).toBe('nothing');
    scheduler.complete([a2]);
    expect(seqs(scheduler.next(0, 0))).toEqual([3]);
    expect(seqs(scheduler.next(0, 0))).toBe('nothing');
    scheduler.complete([b1]);
    expect(seqs(scheduler.next(0, 0))).toEqual([4]);
  });

  it('makes everything wait for a record it knows nothing of (replayed from a disk spool), and that record for everything before it', () => {
    const { order, push, unknown } = sink();
    const known = push('1', 1);
    const scheduler = afterDelivering(ONE_PER_REQUEST, order, known);
    const replayed = unknown();
    const after = push('1', 2);
    scheduler.add([replayed, after], 0);
    expect(seqs(scheduler.next(0, 0))).toEqual([2]);
    expect(seqs(scheduler.next(0, 0))).toBe('nothing');
    scheduler.complete([replayed]);
    expect(seqs(scheduler.next(0, 0))).toEqual([3]);
  });

  it('does not hold a record back for an earlier one that never reached the spool', () => {
    const { order, push, abandoned } = sink();
    const first = push('1', 1);
    const scheduler = afterDelivering(ONE_PER_REQUEST, order, first);
    abandoned('1', 2);
    const third = push('1', 3);
    expect(order.of(third.seq)!.after.map((t) => t.seq)).toEqual([-1]);
    scheduler.add([third], 0);
    expect(seqs(scheduler.next(0, 0))).toEqual([2]);
  });

  it('sends everything one request at a time without order information', () => {
    const { push } = sink();
    const scheduler = new BatchScheduler(ONE_PER_REQUEST, null, 0);
    const records = [push('1', 1), push('2', 1), push('1', 2)];
    scheduler.add(records, 0);
    expect(seqs(scheduler.next(0, 0))).toEqual([1]);
    expect(seqs(scheduler.next(0, 0))).toBe('nothing');
  });

  it('lets grade records follow each other only', () => {
    const order = new RecordOrder();
    const g1 = order.beginGrade();
    const g2 = order.beginGrade();
    expect(g1.after).toEqual([]);
    expect(g2.after).toEqual([g1]);
    expect(g2.barrier).toBe(false);
  });
});

describe('acknowledging, dropping and waiting', () => {
  it('acks through the delivered prefix only', () => {
    const { order, push } = sink();
    const scheduler = new BatchScheduler(ONE_PER_REQUEST, order, 0);
    const first = [push('1', 1), push('2', 1)];
    scheduler.add(first, 0);
    for (const r of first) {
      scheduler.next(0, 0);
      scheduler.complete([r]);
    }
    expect(scheduler.advance()).toBe(true);
    expect(scheduler.acked).toBe(2);
    const [a2, b2] = [push('1', 2), push('2', 2)];
    scheduler.add([a2, b2], 0);
    scheduler.next(0, 0);
    scheduler.next(0, 0);
    scheduler.complete([b2]);
    expect(scheduler.advance()).toBe(false);
    expect(scheduler.acked).toBe(2);
    scheduler.complete([a2]);
    expect(scheduler.advance()).toBe(true);
    expect(scheduler.acked).toBe(4);
    expect(scheduler.size).toBe(0);
  });

  it('counts records the spool bound dropped as done, so what follows them may go', () => {
    const { order, push } = sink();
    const scheduler = new BatchScheduler(ONE_PER_REQUEST, order, 0);
    const records = [push('1', 1), push('1', 2), push('1', 3)];
    scheduler.add(records, 0);
    expect(seqs(scheduler.next(0, 0))).toEqual([1]);
    expect(seqs(scheduler.next(0, 0))).toBe('nothing'); // 2 follows 1, which is in flight
    scheduler.skipThrough(2);
    expect(scheduler.acked).toBe(2);
    expect(seqs(scheduler.next(0, 0))).toEqual([3]);
  });

  it('holds a small batch back until its oldest record is old enough, and a full one not at all', () => {
    const { order, push } = sink();
    const scheduler = new BatchScheduler({ ...ROOMY, batchRecords: 2 }, order, 0);
    scheduler.add([push('1', 1)], 1000);
    expect(seqs(scheduler.next(1010, 50))).toBe('wait 40');
    const plan = scheduler.next(1050, 50);
    expect(seqs(plan)).toEqual([1]);
    scheduler.complete((plan as { records: SpoolRecord[] }).records);
    scheduler.add([push('1', 2), push('1', 3)], 2000);
    expect(seqs(scheduler.next(2000, 50))).toEqual([2, 3]);
  });

  it('cuts the chain of tokens once records are delivered everywhere', () => {
    const { order, push } = sink();
    push('1', 1);
    push('1', 2);
    const third = push('1', 3);
    expect(order.of(third.seq)!.after.map((t) => t.seq)).toEqual([2]);
    expect(order.of(2)!.after.map((t) => t.seq)).toEqual([1]);
    order.forgetBefore(3);
    expect(order.of(2)).toBeUndefined();
    // The token the third record points to no longer holds on to the first one.
    expect(order.of(third.seq)!.after[0]!.after).toEqual([]);
    expect(order.size).toBe(1);
  });
});
