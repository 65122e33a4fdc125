// AssemblyScript, compiled by `npm run build` into dist/sink/codec.wasm (see
// ../codec.ts, which loads it). The two loops of decoding that JavaScript does slowly
// on k6's pushes: snappy decompression (copies of up to 64 bytes, which memory.copy
// does natively), and the fingerprint of a series' raw label bytes (64-bit
// multiplications, which JavaScript does not have). Pointers are offsets in this
// module's own memory.

/**
 * Decompresses the snappy elements in [src, srcEnd) (after the length preamble) into
 * dst, which has room for dLen bytes. Returns the bytes written, or -1 for anything
 * corrupt (the caller then asks the JavaScript decoder which error it is).
 */
export function uncompress(src: usize, srcEnd: usize, dst: usize, dLen: usize): isize {
  let s = src;
  let d: usize = 0;
  while (s < srcEnd) {
    const tag = <u32>load<u8>(s++);
    let len: usize;
    let offset: usize;
    const kind = tag & 3;
    if (kind == 0) {
      len = <usize>(tag >> 2);
      if (len >= 60) {
        const extra = len - 59; // 1..4 little-endian length bytes
        if (s + extra > srcEnd) return -1;
        len = <usize>load<u8>(s);
        if (extra > 1) len |= <usize>load<u8>(s + 1) << 8;
        if (extra > 2) len |= <usize>load<u8>(s + 2) << 16;
        if (extra > 3) len |= <usize>load<u8>(s + 3) << 24;
        s += extra;
      }
      len += 1;
      if (len > srcEnd - s || len > dLen - d) return -1;
      memory.copy(dst + d, s, len);
      s += len;
      d += len;
      continue;
    }
    if (kind == 1) {
      if (s >= srcEnd) return -1;
      len = 4 + ((tag >> 2) & 7);
      offset = (<usize>(tag & 0xe0) << 3) | <usize>load<u8>(s);
      s += 1;
    } else if (kind == 2) {
      if (s + 2 > srcEnd) return -1;
      len = 1 + (tag >> 2);
      offset = <usize>load<u16>(s);
      s += 2;
    } else {
      if (s + 4 > srcEnd) return -1;
      len = 1 + (tag >> 2);
      offset = <usize>load<u32>(s);
      s += 4;
    }
    if (offset == 0 || offset > d || len > dLen - d) return -1;
    if (offset >= len) {
      memory.copy(dst + d, dst + d - offset, len);
    } else {
      // Overlapping: the copy repeats a pattern, byte by byte.
      let from = dst + d - offset;
      let to = dst + d;
      const end = to + len;
      while (to < end) store<u8>(to++, load<u8>(from++));
    }
    d += len;
  }
  return <isize>d;
}

// MurmurHash3 x64_128 of a series' raw label bytes, with a seed drawn for each
// instance: the 128-bit fingerprint the decoder knows a label set by (label-cache.ts).

const C1: u64 = 0x87c37b91114253d5;
const C2: u64 = 0x4cf5ad432745937f;
let seed1: u64 = 0;
let seed2: u64 = 0;

/** Sets the seed (four 32-bit halves: JavaScript passes no 64-bit integers here). */
export function seed(a: u32, b: u32, c: u32, d: u32): void {
  seed1 = (<u64>a << 32) | <u64>b;
  seed2 = (<u64>c << 32) | <u64>d;
}

function fmix(k: u64): u64 {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccd;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53;
  k ^= k >> 33;
  return k;
}

/** Writes the fingerprint of the n bytes at p as two little-endian u64 at `out`. */
export function fingerprint(p: usize, n: u32, out: usize): void {
  let h1 = seed1;
  let h2 = seed2;
  const blocks = n >> 4;
  for (let i: u32 = 0; i < blocks; i++) {
    const at = p + (<usize>i << 4);
    let k1 = load<u64>(at);
    let k2 = load<u64>(at + 8);
    k1 *= C1;
    k1 = rotl<u64>(k1, 31);
    k1 *= C2;
    h1 ^= k1;
    h1 = rotl<u64>(h1, 27);
    h1 += h2;
    h1 = h1 * 5 + 0x52dce729;
    k2 *= C2;
    k2 = rotl<u64>(k2, 33);
    k2 *= C1;
    h2 ^= k2;
    h2 = rotl<u64>(h2, 31);
    h2 += h1;
    h2 = h2 * 5 + 0x38495ab5;
  }
  const tail = p + (<usize>blocks << 4);
  const rest = n & 15;
  let k1: u64 = 0;
  let k2: u64 = 0;
  for (let i: u32 = rest; i > 8; i--) k2 ^= <u64>load<u8>(tail + i - 1) << (<u64>(i - 9) << 3);
  if (rest > 8) {
    k2 *= C2;
    k2 = rotl<u64>(k2, 33);
    k2 *= C1;
    h2 ^= k2;
  }
  for (let i: u32 = rest < 8 ? rest : 8; i > 0; i--) k1 ^= <u64>load<u8>(tail + i - 1) << (<u64>(i - 1) << 3);
  if (rest > 0) {
    k1 *= C1;
    k1 = rotl<u64>(k1, 31);
    k1 *= C2;
    h1 ^= k1;
  }
  h1 ^= <u64>n;
  h2 ^= <u64>n;
  h1 += h2;
  h2 += h1;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 += h2;
  h2 += h1;
  store<u64>(out, h1);
  store<u64>(out + 8, h2);
}
