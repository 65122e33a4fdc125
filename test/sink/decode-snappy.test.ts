import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { SNAPPY_MAX_LENGTH, checkSnappyLength, readSnappyLength, snappyCompress, snappyConcatChunks, snappyUncompress, snappyjsUncompress } from '../../sink/codec/snappy.ts';
import { DecodeError } from '../../sink/codec/decode-errors.ts';
import { mulberry32 } from './fixtures/mutations.ts';

const snappyjs = createRequire(import.meta.url)('snappyjs') as { uncompress(b: Uint8Array): Uint8Array };

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** Inputs of many shapes: incompressible, repetitive, short periods (overlapping copies), long. */
function samples(): Uint8Array[] {
  const rnd = mulberry32(7);
  const random = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  const text = Buffer.from('k6_http_req_duration{method="GET",status="200",url="https://shop.test/promo"} '.repeat(300));
  const mixed = new Uint8Array(200_000);
  for (let i = 0; i < mixed.length; i++) mixed[i] = i % 1000 < 500 ? Math.floor(rnd() * 256) : (i * 7) % 13;
  return [
    new Uint8Array(0),
    Uint8Array.of(42),
    random(59),
    random(60),
    random(61),
    random(300),
    random(70_000),
    new Uint8Array(100_000).fill(0xab),
    Uint8Array.from({ length: 5000 }, (_, i) => i % 3),
    text,
    mixed,
  ];
}

describe('snappy block decompression', () => {
  it('round-trips data compressed by snappyjs, byte for byte', () => {
    for (const data of samples()) {
      const body = snappyCompress(data);
      expect(readSnappyLength(body)).toBe(data.length);
      expect(Buffer.from(snappyUncompress(body, data.length)).equals(Buffer.from(data))).toBe(true);
      expect(Buffer.from(snappyjsUncompress(body, data.length)).equals(Buffer.from(data))).toBe(true);
    }
  });

  it('decodes every literal-length form and 1-, 2- and 4-byte-offset copies, overlapping ones included', () => {
    const lit = (bytes: number[]) => [(bytes.length - 1) << 2, ...bytes];
    const abc = Array.from({ length: 70 }, (_, i) => 97 + (i % 26));
    // A short literal, 70-byte literals in the 4-, 3-, 2- and 1-byte length forms, then copies of each kind.
    const body = [
      ...lit(abc.slice(0, 3)), // "abc"
      0x01 | ((5 - 4) << 2), 3, // copy1: len 5, offset 3 (overlapping) -> "abcab"
      ...[0xfc, 69, 0, 0, 0], ...abc, // literal, 4-byte length form (70 bytes)
      ...[0xf8, 69, 0, 0], ...abc, // literal, 3-byte length form
      ...[0xf4, 69, 0], ...abc, // literal, 2-byte length form
      ...[0xf0, 69], ...abc, // literal, 1-byte length form
      0x02 | ((64 - 1) << 2), 70, 0, // copy2: len 64, offset 70 (non-overlapping)
      0x03 | ((10 - 1) << 2), 1, 0, 0, 0, // copy4: len 10, offset 1 (run of one byte)
      0x02 | ((20 - 1) << 2), 7, 0, // copy2: len 20, offset 7 (overlapping pattern)
    ];
    const expected: number[] = [];
    const copy = (len: number, offset: number) => {
      for (let i = 0; i < len; i++) expected.push(expected[expected.length - offset]);
    };
    expected.push(...abc.slice(0, 3));
    copy(5, 3);
    expected.push(...abc, ...abc, ...abc, ...abc);
    copy(64, 70);
    copy(10, 1);
    copy(20, 7);
    const stream = Uint8Array.from([...varint(expected.length), ...body]);
    expect([...snappyUncompress(stream, 1 << 20)]).toEqual(expected);
    expect([...snappyjs.uncompress(stream)]).toEqual(expected);
  });

  it('decompresses into a scratch buffer when it is large enough, and allocates otherwise', () => {
    const data = Buffer.from('hello hello hello hello hello');
    const body = snappyCompress(data);
    const scratch = Buffer.alloc(1024);
    const out = snappyUncompress(body, 1 << 20, scratch);
    expect(out.buffer).toBe(scratch.buffer);
    expect(out.toString()).toBe(data.toString());
    const small = Buffer.alloc(4);
    const other = snappyUncompress(body, 1 << 20, small);
    expect(other.buffer).not.toBe(small.buffer);
    expect(other.toString()).toBe(data.toString());
  });

  it('accepts a Uint8Array view at any offset of a larger buffer', () => {
    const body = snappyCompress(Buffer.from('offset test '.repeat(20)));
    const big = new Uint8Array(body.length + 13);
    big.set(body, 13);
    expect(Buffer.from(snappyUncompress(big.subarray(13), 1 << 20)).toString()).toBe('offset test '.repeat(20));
  });

  it('reads the largest preamble the format allows', () => {
    const body = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(readSnappyLength(body)).toBe(SNAPPY_MAX_LENGTH);
    expect(() => checkSnappyLength(body, 2 ** 20)).toThrow(DecodeError);
  });

  it('detects a truncated stream that snappyjs silently returns zero-filled', () => {
    const data = Buffer.from('abcdefgh'.repeat(50) + 'the end');
    const body = snappyCompress(data);
    const cut = body.subarray(0, body.length - 8); // drop the trailing literal
    const fromSnappyjs = Buffer.from(snappyjs.uncompress(cut));
    expect(fromSnappyjs.length).toBe(data.length);
    expect(fromSnappyjs.equals(data)).toBe(false);
    expect(() => snappyUncompress(cut, 1 << 20)).toThrow(/shorter than|ends inside/);
  });
});

describe('snappy block concatenation', () => {
  it('writes blocks as one block whose content is theirs one after the other, without copying them', () => {
    const random = mulberry32(7);
    const contents = [300, 70_000, 1, 5000].map((n) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 4))));
    const blocks = contents.map((c) => snappyCompress(c));
    const chunks = snappyConcatChunks(blocks);
    const whole = Buffer.concat(chunks);
    expect(readSnappyLength(whole)).toBe(70_000 + 300 + 1 + 5000);
    expect(Buffer.compare(snappyUncompress(whole, SNAPPY_MAX_LENGTH), Buffer.concat(contents))).toBe(0);
    // The parts' elements are views of the blocks, not copies.
    expect(chunks[1]!.buffer).toBe(blocks[0]!.buffer);
  });

  it('passes a single block through as it is', () => {
    const block = snappyCompress(Buffer.from('one block'));
    expect(snappyConcatChunks([block])).toEqual([block]);
  });
});
