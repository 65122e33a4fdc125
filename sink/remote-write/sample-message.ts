// The Sample message (the same field numbers in remote write 1.0 and 2.0).
import type { DecodedBatch } from '../model/batch.ts';
import type { ProtoReader } from './wire.ts';

/** Reads the Sample message that ends at `end` into the batch's sample columns. */
export function readSample(r: ProtoReader, end: number, batch: DecodedBatch): void {
  let value = 0;
  let timestamp = 0;
  while (r.pos < end) {
    const b = r.buf[r.pos];
    if (b === 0x09) {
      r.pos++;
      value = r.double(end);
    } else if (b === 0x10) {
      r.pos++;
      timestamp = r.int64(end);
    } else {
      // Unknown fields, wrong wire types, or (valid but unusual) over-long tag varints.
      const tagStart = r.pos;
      const tag = r.tag(end);
      const field = tag >>> 3;
      if (field === 1) {
        if ((tag & 7) !== 1) throw r.wrongWireType('Sample.value', tag, tagStart);
        value = r.double(end);
      } else if (field === 2) {
        if ((tag & 7) !== 0) throw r.wrongWireType('Sample.timestamp', tag, tagStart);
        timestamp = r.int64(end);
      } else {
        r.skipField(tag, end);
      }
    }
  }
  const k = batch.sampleCount;
  if (k >= batch.sampleValues.length) batch.growSamples();
  batch.sampleValues[k] = value;
  batch.sampleTimestamps[k] = timestamp;
  batch.sampleCount = k + 1;
}
