// Casts into the dtypes stored narrower than a 32-bit word: u8 (bytes) and f16 (IEEE half bits,
// storage only on the CPU engine). Reads any (strided) view, writes a new contiguous tensor; each
// element is written by the thread that owns it, so the split never changes the bits. Semantics of
// the WGSL pack kernel (src/kernels/cast.ts): u8 rounds floats to nearest even and saturates to
// 0..255 (NaN gives 0); f16 rounds to nearest even, |x| >= 65520 gives ±Inf, NaN gives 0x7e00.
#include "common.h"
#include "mathf.h"

#define CAST_RANK 8

enum { CAST_F32 = 0, CAST_I32 = 1, CAST_U32 = 2, CAST_U8 = 3, CAST_F16 = 4 };

// f16 bits → f32 bits, exact.
INLINE uint32_t cast_half_to_f32(uint32_t h) {
  uint32_t sign = (h & 0x8000u) << 16, a = h & 0x7fffu;
  if (a >= 0x7c00u) return sign | 0x7f800000u | ((a & 0x3ffu) << 13);
  return sign | f_to_bits(bits_to_f(a << 13) * 0x1p112f);
}

// f32 → f16 bits, round to nearest even (the host's toHalfBits), subnormal halves included.
static uint32_t cast_f32_to_half(uint32_t x) {
  uint32_t sign = (x >> 16) & 0x8000u;
  if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7e00u;
  int32_t e = (int32_t)((x >> 23) & 0xffu) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (e >= 0x1f) return sign | 0x7c00u;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000u;
    uint32_t shift = (uint32_t)(14 - e);
    uint32_t half = 1u << (shift - 1);
    uint32_t m = mant >> shift, rest = mant & ((1u << shift) - 1);
    if (rest > half || (rest == half && (m & 1))) m++;
    return sign | m;
  }
  uint32_t m = mant >> 13, rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (m & 1))) {
    m++;
    if (m == 0x400u) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00u;
    }
  }
  return sign | ((uint32_t)e << 10) | m;
}

// Float → u8: round half to even, saturate to 0..255, NaN → 0 (saturating truncation of the rounded value).
INLINE uint32_t cast_f32_to_u8(float f) {
  uint32_t v = wasm_u32x4_extract_lane(wasm_u32x4_trunc_sat_f32x4(wasm_f32x4_splat(round_even_f(f))), 0);
  return v > 255u ? 255u : v;
}

// Element `e` of the source, converted for the destination (0: u8 value, 1: half bits).
INLINE uint32_t cast_one(const uint8_t *p, uint32_t kind, int32_t e, uint32_t to_half) {
  uint32_t w;
  switch (kind) {
    case CAST_U8: w = p[e]; break;
    case CAST_F16: w = ((const uint16_t *)p)[e]; break;
    default: w = ((const uint32_t *)p)[e]; break;
  }
  if (to_half) {
    switch (kind) {
      case CAST_F32: return cast_f32_to_half(w);
      case CAST_F16: return cast_f32_to_half(cast_half_to_f32(w));
      case CAST_I32: return cast_f32_to_half(f_to_bits((float)(int32_t)w));
      default: return cast_f32_to_half(f_to_bits((float)w)); // u32, bool, u8
    }
  }
  switch (kind) {
    case CAST_F32: return cast_f32_to_u8(bits_to_f(w));
    case CAST_F16: return cast_f32_to_u8(bits_to_f(cast_half_to_f32(w)));
    case CAST_I32: return (int32_t)w < 0 ? 0u : (int32_t)w > 255 ? 255u : w;
    default: return w > 255u ? 255u : w; // u32, bool, u8
  }
}

// Four f32 → f16 conversions at once, bit-identical to cast_f32_to_half (round to nearest even):
// subnormal halves by one float addition that rounds at the right bit, normal ones by integer
// rounding of the mantissa (a carry into the exponent gives Inf at the top, as it should).
static v128_t cast_f32_to_half4(v128_t x) {
  v128_t sign = wasm_u32x4_shr(wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000u)), 16);
  v128_t a = wasm_v128_and(x, wasm_i32x4_splat(0x7fffffff));
  // |x| < 2^-14: add 0.5 (2^-1): the half's mantissa lands in the low bits, rounded to nearest even.
  v128_t magic = wasm_i32x4_splat(126 << 23);
  v128_t sub = wasm_i32x4_sub(wasm_f32x4_add(a, magic), magic);
  // Normal: rebias the exponent, add 0xfff plus the lowest kept mantissa bit, shift.
  v128_t odd = wasm_v128_and(wasm_u32x4_shr(a, 13), wasm_i32x4_splat(1));
  v128_t nrm = wasm_i32x4_add(a, wasm_i32x4_splat((int32_t)(((uint32_t)(15 - 127) << 23) + 0xfffu)));
  nrm = wasm_u32x4_shr(wasm_i32x4_add(nrm, odd), 13);
  v128_t h = wasm_v128_bitselect(sub, nrm, wasm_i32x4_lt(a, wasm_i32x4_splat(113 << 23)));
  h = wasm_v128_bitselect(wasm_i32x4_splat(0x7c00), h, wasm_i32x4_ge(a, wasm_i32x4_splat(0x47800000)));
  h = wasm_v128_or(h, sign);
  return wasm_v128_bitselect(wasm_i32x4_splat(0x7e00), h, wasm_i32x4_gt(a, wasm_i32x4_splat(0x7f800000)));
}

// A contiguous run of f32 → f16: whole vectors, then the rest through a zero-padded vector.
static void cast_f32_run_to_half(const uint32_t *src, uint16_t *o, uint32_t m) {
  uint32_t i = 0;
  for (; i + 4 <= m; i += 4) {
    v128_t h = cast_f32_to_half4(wasm_v128_load(src + i));
    wasm_v128_store64_lane(o + i, wasm_u16x8_narrow_i32x4(h, h), 0);
  }
  if (i < m) {
    uint32_t t[4] = { 0, 0, 0, 0 }, r[4];
    for (uint32_t j = 0; i + j < m; j++) t[j] = src[i + j];
    wasm_v128_store(r, cast_f32_to_half4(wasm_v128_load(t)));
    for (uint32_t j = 0; i + j < m; j++) o[i + j] = (uint16_t)r[j];
  }
}

EXPORT(k_cast_pack) void k_cast_pack(const struct cast_pack_args *a, uint32_t tid, uint32_t nthreads) {
  range_t r = split(a->n, tid, nthreads);
  const uint32_t to_half = a->dst_type == 1;
  if (r.begin < r.end) {
    uint32_t rank = a->rank ? a->rank : 1;
    uint32_t shape[CAST_RANK];
    int32_t st[CAST_RANK];
    for (uint32_t i = 0; i < rank; i++) {
      shape[i] = a->rank ? a->shape[i] : 1;
      st[i] = a->rank ? a->st[i] : 0;
    }
    uint32_t idx[CAST_RANK], rem = r.begin;
    for (uint32_t i = rank; i-- > 0;) { idx[i] = rem % shape[i]; rem /= shape[i]; }
    const uint32_t last = rank - 1;
    const int32_t sl = st[last];
    uint32_t pos = r.begin;
    while (pos < r.end) {
      uint32_t m = shape[last] - idx[last];
      if (m > r.end - pos) m = r.end - pos;
      int32_t off = 0;
      for (uint32_t i = 0; i < rank; i++) off += (int32_t)idx[i] * st[i];
      if (to_half && a->src_type == CAST_F32 && sl == 1) {
        cast_f32_run_to_half((const uint32_t *)a->src + off, (uint16_t *)a->dst + pos, m);
      } else if (to_half) {
        uint16_t *o = (uint16_t *)a->dst + pos;
        for (uint32_t i = 0; i < m; i++) o[i] = (uint16_t)cast_one(a->src, a->src_type, off + (int32_t)i * sl, 1);
      } else {
        uint8_t *o = a->dst + pos;
        for (uint32_t i = 0; i < m; i++) o[i] = (uint8_t)cast_one(a->src, a->src_type, off + (int32_t)i * sl, 0);
      }
      pos += m;
      idx[last] += m;
      if (idx[last] == shape[last]) {
        idx[last] = 0;
        for (uint32_t i = last; i-- > 0;) {
          if (++idx[i] < shape[i]) break;
          idx[i] = 0;
        }
      }
    }
  }
  // The last thread zeroes the bytes after the last element up to the word boundary, as the WGSL
  // kernel writes whole words.
  if (tid == nthreads - 1) {
    uint32_t bytes = a->n * (to_half ? 2u : 1u);
    for (uint32_t b = bytes; b & 3u; b++) a->dst[b] = 0;
  }
}
