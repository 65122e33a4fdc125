import { describe, expect, it } from 'vitest';
import { KeyedHash } from '../../sink/model/keyed-hash.ts';

describe('the keyed hash of label sets', () => {
  it('hashes a string as its length and then its UTF-16 units two to a word, whatever its length', () => {
    const key = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const fast = new KeyedHash(key);
    const byWords = new KeyedHash(key);
    let seed = 42;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let t = 0; t < 2000; t++) {
      const length = next() % 41;
      let s = '';
      for (let i = 0; i < length; i++) s += String.fromCharCode(next() % 0x3000);
      byWords.begin().word(length);
      let i = 0;
      for (; i + 1 < length; i += 2) byWords.word(s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
      if (i < length) byWords.word(s.charCodeAt(i));
      byWords.word(2).word(0x61 | (0x62 << 16));
      expect(fast.begin().string(s).string('ab').finish(), JSON.stringify(s)).toBe(byWords.finish());
    }
  });

  it('hashes bytes as their length and then four bytes to a word, the last padded with zeros', () => {
    const key = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]);
    const fast = new KeyedHash(key);
    const byWords = new KeyedHash(key);
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const buffer = new Uint8Array(64);
    for (let t = 0; t < 2000; t++) {
      for (let i = 0; i < buffer.length; i++) buffer[i] = next() & 0xff;
      const start = next() % 20;
      const end = start + (next() % 41);
      byWords.begin().word(end - start);
      let i = start;
      for (; i + 3 < end; i += 4) byWords.word(buffer[i]! | (buffer[i + 1]! << 8) | (buffer[i + 2]! << 16) | (buffer[i + 3]! << 24));
      let last = 0;
      for (let bits = 0; i < end; i++, bits += 8) last |= buffer[i]! << bits;
      if (((end - start) & 3) !== 0) byWords.word(last);
      expect(fast.begin().bytes(buffer, start, end).finish(), `[${start}, ${end})`).toBe(byWords.finish());
    }
  });

  it('gives other hashes under another key', () => {
    const a = new KeyedHash(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const b = new KeyedHash(new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]));
    const labels = ['__name__', 'k6_http_reqs_total', 'testid', 'bf_2026', 'url', 'http://shop/'];
    const hash = (h: KeyedHash) => labels.reduce((x, s) => x.string(s), h.begin()).finish();
    expect(hash(a)).not.toBe(hash(b));
    expect(hash(a)).toBe(hash(a));
  });
});
