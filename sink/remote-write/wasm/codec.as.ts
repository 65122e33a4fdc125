// AssemblyScript, compiled by `npm run build` into dist/sink/codec.wasm (see
// ../codec.ts, which loads it). The two loops of decoding that JavaScript does slowly
// on k6's pushes: snappy decompression (copies of up to 64 bytes, which memory.copy
// does natively), and the hash of a series' raw label bytes. Pointers are offsets in
// this module's own memory. The hash is bit for bit the one of ProtoReader.hash in
// ../wire.ts, so label sets hash the same whichever of the two computed it.

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

/** The hash of the n bytes at p (see ProtoReader.hash). */
export function hash(p: usize, n: u32): i32 {
  let h1: u32 = 0x9e3779b9 ^ n;
  let h2: u32 = 0x85ebca6b;
  const words = n >> 2;
  let k: u32 = 0;
  for (; k + 1 < words; k += 2) {
    h1 = rotl<u32>((h1 ^ load<u32>(p + (<usize>k << 2))) * 0x9e3779b1, 13);
    h2 = rotl<u32>((h2 ^ load<u32>(p + (<usize>k << 2) + 4)) * 0x85ebca77, 13);
  }
  for (let i: u32 = k << 2; i < n; i++) h2 = (h2 ^ <u32>load<u8>(p + i)) * 0x27d4eb2f;
  let h: u32 = h1 * 3 ^ h2;
  h ^= h >> 15;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  return <i32>h;
}
