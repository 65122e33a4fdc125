// The decode worker takes a body that owns its memory without copying it and gives it
// back with the batch; a body in Node's shared buffer pool goes as a copy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodePool } from '../../sink/remote-write/decode-pool.ts';
import { snappyCompress } from '../../sink/codec/snappy.ts';
import { encodeV1 } from '../../fixtures/remote-write-proto.ts';
import { T0, series } from './fixtures/series.ts';

let pool: DecodePool;
beforeAll(async () => {
  pool = (await DecodePool.start({ maxLabels: 64, maxLabelValueBytes: 2048, maxUncompressedBytes: 1 << 24 }, (line) => {
    throw new Error(line);
  }))!;
});
afterAll(() => pool.close());

const body = (count: number) =>
  snappyCompress(encodeV1({ timeseries: Array.from({ length: count }, (_, i) => series('k6_http_reqs_total', { testid: 'pool', url: `/p${i}` }, [[T0, i]])) }));

describe('the decode worker and the bodies it is given', () => {
  it('gives a body that owns its memory back with the batch, byte for byte, and leaves the original detached', async () => {
    const owned = Buffer.from(body(2000)); // Buffer.from(Buffer) of this size gets its own ArrayBuffer
    expect(owned.byteLength).toBe(owned.buffer.byteLength);
    const expected = Buffer.from(owned);
    const batch = await pool.decode(owned, 1);
    expect(batch.seriesCount).toBe(2000);
    expect(Buffer.compare(Buffer.from(batch.body!), expected)).toBe(0);
    expect(owned.byteLength).toBe(0); // transferred: the batch's body is the one to forward
  });

  it('copies a body that shares its memory, and leaves the original as it was', async () => {
    const pooled = Buffer.allocUnsafe(body(3).length);
    body(3).copy(pooled);
    expect(pooled.byteLength).toBeLessThan(pooled.buffer.byteLength);
    const expected = Buffer.from(pooled);
    const batch = await pool.decode(pooled, 1);
    expect(batch.seriesCount).toBe(3);
    expect(batch.body).toBe(pooled);
    expect(Buffer.compare(pooled, expected)).toBe(0);
  });
});
