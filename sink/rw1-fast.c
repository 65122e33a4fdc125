// The decode worker's fast path for remote write 1.0 (see native-decoder.ts).
//
// One call per body: snappy decompression, the WriteRequest walk, a label-set lookup
// per series and the float samples, straight into the columns the worker posts to
// the event loop. It accepts only what the JavaScript decoder would decode the same
// way without any check of its own:
// - every series' label bytes are those of a label set the JavaScript decoder has
//   already validated and adopted (remember() below), so names, values, order and
//   limits were checked then;
// - nothing but the usual layout: labels first (tag 0x0a), then float samples (tag
//   0x12, each with only 0x09 value and 0x10 timestamp fields).
// Anything else - a new label set, histograms, exemplars, metadata, unknown fields,
// unusual tag encodings, truncation, bad snappy, an oversized preamble - answers
// FALLBACK and the JavaScript decoder decodes the whole body, errors included.
//
// Label sets are known by a fingerprint of their bytes: length plus a 128-bit
// MurmurHash3 with a per-process random seed, so the table keeps 24 bytes per label
// set instead of a copy of its ~300 bytes (the JavaScript cache keeps the copy).
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#define FALLBACK_RAW_VALID 1
#define FALLBACK_RAW_INVALID 0
#define NONE 0xffffffffu

typedef struct {
  /* Per handle (the worker's handle numbers are dense: 0..n). */
  uint64_t *fp1, *fp2;
  uint32_t *len;
  uint32_t *next; /* next handle in the same bucket, or NONE */
  uint8_t *present;
  uint32_t cap;
  uint32_t count;
  uint32_t *buckets; /* first handle of the bucket, or NONE */
  uint32_t nbuckets; /* a power of two */
  uint64_t seed1, seed2;
  /* The last body's protobuf bytes (kept for remember()). */
  uint8_t *raw;
  size_t raw_cap, raw_len;
  int raw_valid;
  /* Column scratch. */
  uint64_t *values, *timestamps; /* values as raw bits: a NaN's payload is kept */
  size_t sample_cap;
  int32_t *handles;
  uint32_t *sample_start;
  size_t series_cap;
} Cache;

/* ---- MurmurHash3 x64 128 --------------------------------------------------- */

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

static void murmur3_128(const uint8_t *data, size_t len, uint64_t seed1, uint64_t seed2, uint64_t *out1, uint64_t *out2) {
  const size_t nblocks = len / 16;
  uint64_t h1 = seed1, h2 = seed2;
  const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
  for (size_t i = 0; i < nblocks; i++) {
    uint64_t k1, k2;
    memcpy(&k1, data + i * 16, 8);
    memcpy(&k2, data + i * 16 + 8, 8);
    k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
    h1 = rotl64(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
    k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
    h2 = rotl64(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
  }
  const uint8_t *tail = data + nblocks * 16;
  uint64_t k1 = 0, k2 = 0;
  switch (len & 15) {
    case 15: k2 ^= (uint64_t)tail[14] << 48; /* fall through */
    case 14: k2 ^= (uint64_t)tail[13] << 40; /* fall through */
    case 13: k2 ^= (uint64_t)tail[12] << 32; /* fall through */
    case 12: k2 ^= (uint64_t)tail[11] << 24; /* fall through */
    case 11: k2 ^= (uint64_t)tail[10] << 16; /* fall through */
    case 10: k2 ^= (uint64_t)tail[9] << 8; /* fall through */
    case 9: k2 ^= (uint64_t)tail[8]; k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2; /* fall through */
    case 8: k1 ^= (uint64_t)tail[7] << 56; /* fall through */
    case 7: k1 ^= (uint64_t)tail[6] << 48; /* fall through */
    case 6: k1 ^= (uint64_t)tail[5] << 40; /* fall through */
    case 5: k1 ^= (uint64_t)tail[4] << 32; /* fall through */
    case 4: k1 ^= (uint64_t)tail[3] << 24; /* fall through */
    case 3: k1 ^= (uint64_t)tail[2] << 16; /* fall through */
    case 2: k1 ^= (uint64_t)tail[1] << 8; /* fall through */
    case 1: k1 ^= (uint64_t)tail[0]; k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
  }
  h1 ^= len; h2 ^= len;
  h1 += h2; h2 += h1;
  h1 = fmix64(h1); h2 = fmix64(h2);
  h1 += h2; h2 += h1;
  *out1 = h1;
  *out2 = h2;
}

/* ---- the fingerprint table ------------------------------------------------- */

static int grow_handles(Cache *c, uint32_t need) {
  if (need <= c->cap) return 1;
  uint32_t cap = c->cap ? c->cap : 1024;
  while (cap < need) cap *= 2;
  uint64_t *fp1 = realloc(c->fp1, cap * sizeof *fp1);
  if (fp1) c->fp1 = fp1;
  uint64_t *fp2 = realloc(c->fp2, cap * sizeof *fp2);
  if (fp2) c->fp2 = fp2;
  uint32_t *len = realloc(c->len, cap * sizeof *len);
  if (len) c->len = len;
  uint32_t *next = realloc(c->next, cap * sizeof *next);
  if (next) c->next = next;
  uint8_t *present = realloc(c->present, cap);
  if (present) c->present = present;
  if (!fp1 || !fp2 || !len || !next || !present) return 0;
  memset(c->present + c->cap, 0, cap - c->cap);
  c->cap = cap;
  return 1;
}

static int rehash(Cache *c, uint32_t nbuckets) {
  uint32_t *b = malloc(nbuckets * sizeof *b);
  if (!b) return 0;
  memset(b, 0xff, nbuckets * sizeof *b);
  for (uint32_t h = 0; h < c->cap; h++) {
    if (!c->present[h]) continue;
    uint32_t i = (uint32_t)c->fp1[h] & (nbuckets - 1);
    c->next[h] = b[i];
    b[i] = h;
  }
  free(c->buckets);
  c->buckets = b;
  c->nbuckets = nbuckets;
  return 1;
}

/* The handle of the label set with fingerprint (a, b) and length n, or NONE. */
static uint32_t find(const Cache *c, uint64_t a, uint64_t b, size_t n) {
  for (uint32_t h = c->buckets[(uint32_t)a & (c->nbuckets - 1)]; h != NONE; h = c->next[h]) {
    if (c->fp1[h] == a && c->fp2[h] == b && c->len[h] == n) return h;
  }
  return NONE;
}

static uint32_t lookup(const Cache *c, const uint8_t *p, size_t n) {
  if (c->count == 0) return NONE;
  uint64_t a, b;
  murmur3_128(p, n, c->seed1, c->seed2, &a, &b);
  return find(c, a, b, n);
}

static void forget(Cache *c, uint32_t h) {
  if (h >= c->cap || !c->present[h]) return;
  uint32_t *link = &c->buckets[(uint32_t)c->fp1[h] & (c->nbuckets - 1)];
  while (*link != h) link = &c->next[*link];
  *link = c->next[h];
  c->present[h] = 0;
  c->count--;
}

static int insert(Cache *c, uint32_t h, const uint8_t *p, size_t n) {
  if (n > UINT32_MAX || h == NONE) return 0;
  if (h < c->cap && c->present[h]) return 0;
  uint64_t a, b;
  murmur3_128(p, n, c->seed1, c->seed2, &a, &b);
  if (find(c, a, b, n) != NONE) return 0;
  if (!grow_handles(c, h + 1)) return 0;
  if (c->count + 1 > c->nbuckets && !rehash(c, c->nbuckets * 2)) return 0;
  c->fp1[h] = a;
  c->fp2[h] = b;
  c->len[h] = (uint32_t)n;
  uint32_t i = (uint32_t)a & (c->nbuckets - 1);
  c->next[h] = c->buckets[i];
  c->buckets[i] = h;
  c->present[h] = 1;
  c->count++;
  return 1;
}

/* ---- snappy (block format) ------------------------------------------------- */

/* Reads the preamble; returns its length in bytes, or 0 when it is not a valid uvarint32. */
static size_t snappy_preamble(const uint8_t *src, size_t n, uint64_t *out) {
  uint64_t v = 0;
  for (size_t i = 0; i < 5 && i < n; i++) {
    v |= (uint64_t)(src[i] & 0x7f) << (7 * i);
    if (src[i] < 0x80) {
      if (v > UINT32_MAX) return 0;
      *out = v;
      return i + 1;
    }
  }
  return 0;
}

/* Decodes the elements after the preamble into exactly dlen bytes; 0 on any error. */
static int snappy_elements(const uint8_t *src, size_t n, size_t s, uint8_t *dst, size_t dlen) {
  size_t d = 0;
  while (s < n) {
    const uint8_t tag = src[s++];
    size_t len, off;
    switch (tag & 3) {
      case 0:
        len = tag >> 2;
        if (len >= 60) {
          const size_t extra = len - 59;
          if (extra > n - s) return 0;
          len = 0;
          for (size_t k = 0; k < extra; k++) len |= (size_t)src[s + k] << (8 * k);
          s += extra;
        }
        len += 1;
        if (len > n - s || len > dlen - d) return 0;
        memcpy(dst + d, src + s, len);
        s += len;
        d += len;
        continue;
      case 1:
        if (s >= n) return 0;
        len = ((tag >> 2) & 7) + 4;
        off = ((size_t)(tag >> 5) << 8) | src[s++];
        break;
      case 2:
        if (n - s < 2) return 0;
        len = (tag >> 2) + 1;
        off = (size_t)src[s] | ((size_t)src[s + 1] << 8);
        s += 2;
        break;
      default:
        if (n - s < 4) return 0;
        len = (tag >> 2) + 1;
        off = (size_t)src[s] | ((size_t)src[s + 1] << 8) | ((size_t)src[s + 2] << 16) | ((size_t)src[s + 3] << 24);
        s += 4;
        break;
    }
    if (off == 0 || off > d || len > dlen - d) return 0;
    uint8_t *q = dst + d;
    const uint8_t *from = q - off;
    if (off >= len) {
      memcpy(q, from, len);
    } else {
      for (size_t k = 0; k < len; k++) q[k] = from[k];
    }
    d += len;
  }
  return d == dlen;
}

/* ---- the WriteRequest walk ------------------------------------------------- */

/* A uvarint of up to 10 bytes ending before `end` (bits past 64 are dropped, as the JavaScript decoder does). */
static inline int varint(const uint8_t *p, size_t *pos, size_t end, uint64_t *out) {
  uint64_t v = 0;
  size_t i = *pos;
  for (int shift = 0; shift < 70; shift += 7) {
    if (i >= end) return 0;
    const uint8_t b = p[i++];
    if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
    if (b < 0x80) {
      *pos = i;
      *out = v;
      return 1;
    }
  }
  return 0;
}

/* A length-delimited field's length, which must fit before `end`. */
static inline int length(const uint8_t *p, size_t *pos, size_t end, size_t *out) {
  uint64_t v;
  if (!varint(p, pos, end, &v) || v > end - *pos) return 0;
  *out = (size_t)v;
  return 1;
}

/*
 * The series at p[start..end): its label bytes [*ls, *le) when it has the usual
 * layout (labels first with tag 0x0a, then only float samples of the usual shape),
 * else 0. With `c`, its samples go into the columns from index *n.
 */
static int series_layout(Cache *c, const uint8_t *p, size_t start, size_t end, size_t *ls, size_t *le, size_t *n) {
  size_t pos = start, len;
  while (pos < end && p[pos] == 0x0a) {
    pos++;
    if (!length(p, &pos, end, &len)) return 0;
    pos += len;
  }
  if (pos == start) return 0; /* no labels: an error the JavaScript decoder words */
  *ls = start;
  *le = pos;
  while (pos < end) {
    if (p[pos] != 0x12) return 0;
    pos++;
    if (!length(p, &pos, end, &len)) return 0;
    const size_t mend = pos + len;
    uint64_t value = 0, ts = 0;
    while (pos < mend) {
      if (p[pos] == 0x09) {
        if (mend - pos < 9) return 0;
        memcpy(&value, p + pos + 1, 8);
        pos += 9;
      } else if (p[pos] == 0x10) {
        pos++;
        if (!varint(p, &pos, mend, &ts)) return 0;
      } else {
        return 0;
      }
    }
    if (c) {
      if (*n >= c->sample_cap) {
        size_t cap = c->sample_cap ? c->sample_cap * 2 : 4096;
        uint64_t *v = realloc(c->values, cap * sizeof *v);
        if (v) c->values = v;
        uint64_t *t = realloc(c->timestamps, cap * sizeof *t);
        if (t) c->timestamps = t;
        if (!v || !t) return 0;
        c->sample_cap = cap;
      }
      /* int64 as a JavaScript number, computed as the JavaScript decoder does: hi * 2^32 + lo. */
      const double t = (double)(int32_t)(uint32_t)(ts >> 32) * 4294967296.0 + (double)(uint32_t)ts;
      c->values[*n] = value;
      memcpy(&c->timestamps[*n], &t, 8);
      (*n)++;
    }
  }
  return 1;
}

static int grow_series(Cache *c, size_t need) {
  if (need <= c->series_cap) return 1;
  size_t cap = c->series_cap ? c->series_cap * 2 : 2048;
  while (cap < need) cap *= 2;
  int32_t *h = realloc(c->handles, cap * sizeof *h);
  if (h) c->handles = h;
  uint32_t *s = realloc(c->sample_start, cap * sizeof *s);
  if (s) c->sample_start = s;
  if (!h || !s) return 0;
  c->series_cap = cap;
  return 1;
}

/* Walks c->raw; 1 with the columns filled, 0 for anything the fast path leaves to JavaScript. */
static int walk(Cache *c, size_t *series, size_t *samples) {
  const uint8_t *p = c->raw;
  const size_t end = c->raw_len;
  size_t pos = 0, s = 0, n = 0, len, ls, le;
  while (pos < end) {
    if (p[pos] != 0x0a) return 0;
    pos++;
    if (!length(p, &pos, end, &len)) return 0;
    if (!grow_series(c, s + 2)) return 0;
    c->sample_start[s] = (uint32_t)n;
    if (!series_layout(c, p, pos, pos + len, &ls, &le, &n)) return 0;
    const uint32_t h = lookup(c, p + ls, le - ls);
    if (h == NONE) return 0;
    c->handles[s++] = (int32_t)h;
    pos += len;
  }
  if (!grow_series(c, s + 1)) return 0;
  c->sample_start[s] = (uint32_t)n;
  *series = s;
  *samples = n;
  return 1;
}

/* Scratch past these sizes is given back after use: one huge body must not keep its memory. */
#define KEEP_RAW_BYTES (4u << 20)
#define KEEP_ENTRIES (256u << 10)

static void trim(Cache *c) {
  if (c->raw_cap > KEEP_RAW_BYTES) {
    free(c->raw);
    c->raw = NULL;
    c->raw_cap = c->raw_len = 0;
    c->raw_valid = 0;
  }
  if (c->sample_cap > KEEP_ENTRIES) {
    free(c->values);
    free(c->timestamps);
    c->values = c->timestamps = NULL;
    c->sample_cap = 0;
  }
  if (c->series_cap > KEEP_ENTRIES) {
    free(c->handles);
    free(c->sample_start);
    c->handles = NULL;
    c->sample_start = NULL;
    c->series_cap = 0;
  }
}

/* ---- N-API ----------------------------------------------------------------- */

static void finalize_cache(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Cache *c = data;
  free(c->fp1); free(c->fp2); free(c->len); free(c->next); free(c->present); free(c->buckets);
  free(c->raw); free(c->values); free(c->timestamps); free(c->handles); free(c->sample_start);
  free(c);
}

static uint64_t random_seed(void) {
  uint64_t v = 0;
  FILE *f = fopen("/dev/urandom", "rb");
  if (f) {
    if (fread(&v, sizeof v, 1, f) != 1) v = 0;
    fclose(f);
  }
  if (v == 0) v = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)&v;
  return v;
}

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "rw1-fast: " #call " failed"); return NULL; } } while (0)

/* Every call but createCache(): its `argc` arguments into argv, and the cache they start with (NULL: thrown). */
static Cache *cache_call(napi_env env, napi_callback_info info, size_t argc, napi_value *argv) {
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "rw1-fast: the first argument is not a cache");
    return NULL;
  }
  return data;
}

static napi_value fallback(napi_env env, int32_t code) {
  napi_value result;
  CHECK(napi_create_int32(env, code, &result));
  return result;
}

/* createCache(): an external the other calls take first. */
static napi_value create_cache(napi_env env, napi_callback_info info) {
  (void)info;
  Cache *c = calloc(1, sizeof *c);
  if (!c) {
    napi_throw_error(env, NULL, "rw1-fast: out of memory");
    return NULL;
  }
  c->seed1 = random_seed();
  c->seed2 = random_seed();
  if (!rehash(c, 1024)) {
    free(c);
    napi_throw_error(env, NULL, "rw1-fast: out of memory");
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_external(env, c, finalize_cache, NULL, &out));
  return out;
}

/*
 * decode(cache, body: Uint8Array, maxUncompressedBytes, counts: Float64Array(3))
 * -> ArrayBuffer of columns (decode-pool.ts's layout), with counts = [series,
 * samples, protobuf bytes]; or 1 (fallback; remember() may use this body) or 0.
 */
static napi_value decode(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  Cache *c = cache_call(env, info, 4, argv);
  if (!c) return NULL;
  napi_typedarray_type body_type, counts_type;
  size_t body_len, counts_len;
  void *body, *counts_data;
  CHECK(napi_get_typedarray_info(env, argv[1], &body_type, &body_len, &body, NULL, NULL));
  double max_bytes;
  CHECK(napi_get_value_double(env, argv[2], &max_bytes));
  CHECK(napi_get_typedarray_info(env, argv[3], &counts_type, &counts_len, &counts_data, NULL, NULL));
  if (body_type != napi_uint8_array || counts_type != napi_float64_array || counts_len < 3) {
    napi_throw_type_error(env, NULL, "rw1-fast: decode(cache, Uint8Array, number, Float64Array(3))");
    return NULL;
  }
  double *counts = counts_data;

  napi_value result;
  c->raw_valid = 0;
  trim(c); /* what a huge earlier body left behind, when remember() did not come */
  uint64_t dlen;
  const size_t pre = snappy_preamble(body, body_len, &dlen);
  if (pre == 0 || (double)dlen > max_bytes) return fallback(env, FALLBACK_RAW_INVALID);
  if (dlen > c->raw_cap) {
    uint8_t *raw = realloc(c->raw, dlen);
    if (!raw) return fallback(env, FALLBACK_RAW_INVALID);
    c->raw = raw;
    c->raw_cap = dlen;
  }
  if (!snappy_elements(body, body_len, pre, c->raw, dlen)) return fallback(env, FALLBACK_RAW_INVALID);
  c->raw_len = dlen;
  c->raw_valid = 1;
  size_t s, n;
  if (!walk(c, &s, &n)) return fallback(env, FALLBACK_RAW_VALID);
  /* float64 values[n], timestamps[n], created[s]; int32 handles[s]; uint32 sampleStart[s+1], histogramStart[s+1]. */
  const size_t ints = 8 * (2 * n + s);
  const size_t bytes = ints + 4 * (3 * s + 2);
  void *cols;
  CHECK(napi_create_arraybuffer(env, bytes, &cols, &result));
  uint8_t *out = cols;
  memcpy(out, c->values, 8 * n);
  memcpy(out + 8 * n, c->timestamps, 8 * n);
  memset(out + 16 * n, 0, 8 * s);
  memcpy(out + ints, c->handles, 4 * s);
  memcpy(out + ints + 4 * s, c->sample_start, 4 * (s + 1));
  memset(out + ints + 4 * (2 * s + 1), 0, 4 * (s + 1));
  counts[0] = (double)s;
  counts[1] = (double)n;
  counts[2] = (double)dlen;
  c->raw_valid = 0;
  trim(c);
  return result;
}

/*
 * remember(cache, handles: Int32Array, count): after the JavaScript decoder decoded
 * the last body decode() left to it, each series of the usual layout with a
 * handle >= 0 is known by that handle from now on. Returns how many were added.
 */
static napi_value remember(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  Cache *c = cache_call(env, info, 3, argv);
  if (!c) return NULL;
  napi_typedarray_type type;
  size_t hlen;
  void *hdata;
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &hlen, &hdata, NULL, NULL));
  uint32_t count;
  CHECK(napi_get_value_uint32(env, argv[2], &count));
  const int32_t *handles = hdata;
  int32_t added = 0;
  if (c->raw_valid && type == napi_int32_array && count <= hlen) {
    const uint8_t *p = c->raw;
    const size_t end = c->raw_len;
    size_t pos = 0, len, ls, le, unused = 0;
    uint32_t i = 0;
    /* The JavaScript decoder made one series per WriteRequest.timeseries field, in order. */
    while (pos < end && i < count) {
      if (p[pos] != 0x0a) break;
      pos++;
      if (!length(p, &pos, end, &len)) break;
      if (handles[i] >= 0 && series_layout(NULL, p, pos, pos + len, &ls, &le, &unused)) {
        added += insert(c, (uint32_t)handles[i], p + ls, le - ls);
      }
      pos += len;
      i++;
    }
  }
  c->raw_valid = 0;
  trim(c);
  napi_value result;
  CHECK(napi_create_int32(env, added, &result));
  return result;
}

/* forget(cache, handles: number[]): the JavaScript cache dropped these label sets. */
static napi_value forget_handles(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Cache *c = cache_call(env, info, 2, argv);
  if (!c) return NULL;
  uint32_t n;
  CHECK(napi_get_array_length(env, argv[1], &n));
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    int32_t h;
    CHECK(napi_get_element(env, argv[1], i, &v));
    CHECK(napi_get_value_int32(env, v, &h));
    if (h >= 0) forget(c, (uint32_t)h);
  }
  return NULL;
}

/* size(cache): label sets known. */
static napi_value size(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Cache *c = cache_call(env, info, 1, argv);
  if (!c) return NULL;
  napi_value result;
  CHECK(napi_create_uint32(env, c->count, &result));
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    {"createCache", NULL, create_cache, NULL, NULL, NULL, napi_default, NULL},
    {"decode", NULL, decode, NULL, NULL, NULL, napi_default, NULL},
    {"remember", NULL, remember, NULL, NULL, NULL, napi_default, NULL},
    {"forget", NULL, forget_handles, NULL, NULL, NULL, napi_default, NULL},
    {"size", NULL, size, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
