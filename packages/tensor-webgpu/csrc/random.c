// Counter-based random numbers: Philox4x32-10 keyed by the 64-bit seed, with the same counters and
// distribution transforms as the WGSL kernel (src/kernels/random.ts), so a seed gives the same
// stream on either engine (bit-identical raw bits and uniforms; normals and betas to the rounding of
// log, cos and exp).
#include "common.h"
#include "mathf.h"

// Same rounding as the WGSL kernel: no reassociation of the f32 expressions.
#pragma clang fp reassociate(off)

typedef struct { uint32_t x, y, z, w; } rnd_u4;

static rnd_u4 rnd_philox10(rnd_u4 c, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)0xD2511F53u * c.x;
    uint64_t p1 = (uint64_t)0xCD9E8D57u * c.z;
    rnd_u4 n = { (uint32_t)(p1 >> 32) ^ c.y ^ k0, (uint32_t)p1, (uint32_t)(p0 >> 32) ^ c.w ^ k1, (uint32_t)p0 };
    c = n;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c;
}

// The same rounds on four counters at once (lanes), with 32x32 -> 64-bit products from extmul.
static void rnd_philox10_x4(v128_t cx, uint32_t k0, uint32_t k1, uint32_t out[4][4]) {
  const v128_t m0 = wasm_i32x4_splat((int32_t)0xD2511F53u), m1 = wasm_i32x4_splat((int32_t)0xCD9E8D57u);
  v128_t x = cx, y = wasm_i32x4_splat(0), z = y, w = y;
  for (int r = 0; r < 10; r++) {
    v128_t lo0 = wasm_i32x4_mul(m0, x), lo1 = wasm_i32x4_mul(m1, z);
    v128_t hi0 = wasm_i32x4_shuffle(wasm_u64x2_extmul_low_u32x4(m0, x), wasm_u64x2_extmul_high_u32x4(m0, x), 1, 3, 5, 7);
    v128_t hi1 = wasm_i32x4_shuffle(wasm_u64x2_extmul_low_u32x4(m1, z), wasm_u64x2_extmul_high_u32x4(m1, z), 1, 3, 5, 7);
    x = wasm_v128_xor(wasm_v128_xor(hi1, y), wasm_i32x4_splat((int32_t)k0));
    y = lo1;
    z = wasm_v128_xor(wasm_v128_xor(hi0, w), wasm_i32x4_splat((int32_t)k1));
    w = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  wasm_v128_store(out[0], x);
  wasm_v128_store(out[1], y);
  wasm_v128_store(out[2], z);
  wasm_v128_store(out[3], w);
}

// [0, 1) and (0, 1] from the top 24 bits (exact in f32).
INLINE float rnd_unit(uint32_t x) { return (float)(x >> 8) * 5.9604644775390625e-8f; }
INLINE float rnd_unit_open0(uint32_t x) { return (float)((x >> 8) + 1u) * 5.9604644775390625e-8f; }

#define RND_TWO_PI 6.283185307179586f

// log of a Gamma(shape) sample (Marsaglia–Tsang; shape < 1 boosted by U^(1/shape)); `stream`
// separates the two Gamma draws of a Beta, `e` is the element.
static float rnd_log_gamma(float shape, uint32_t e, uint32_t stream, uint32_t k0, uint32_t k1) {
  int boost = shape < 1.0f;
  float a = boost ? shape + 1.0f : shape;
  float d = a - 1.0f / 3.0f;
  float c = 1.0f / sqrt_f(9.0f * d);
  float result = log_f(d);
  float log_boost = 0.0f;
  for (uint32_t attempt = 0; attempt < 64u; attempt++) {
    rnd_u4 ctr = { e, attempt, stream, 0x5eedu };
    rnd_u4 r = rnd_philox10(ctr, k0, k1);
    if (attempt == 0 && boost) log_boost = log_f(rnd_unit_open0(r.w)) / shape;
    float x = sqrt_f(-2.0f * log_f(rnd_unit_open0(r.x))) * cos_f(RND_TWO_PI * rnd_unit(r.y));
    float t = 1.0f + c * x;
    if (t <= 0.0f) continue;
    float v = t * t * t;
    float uu = rnd_unit_open0(r.z);
    if (log_f(uu) < 0.5f * x * x + d - d * v + d * log_f(v)) {
      result = log_f(d * v);
      break;
    }
  }
  return result + log_boost;
}

EXPORT(k_rnd_philox) void k_rnd_philox(const struct rnd_philox_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t n = a->n, k0 = a->k0, k1 = a->k1;
  if (a->dist == 3) {
    // Beta: one element per counter family.
    float *out = (float *)a->out;
    range_t r = split(n, tid, nthreads);
    for (uint32_t t = r.begin; t < r.end; t++) {
      float lx = rnd_log_gamma(a->p0, t, 1u, k0, k1);
      float ly = rnd_log_gamma(a->p1, t, 2u, k0, k1);
      out[t] = 1.0f / (1.0f + exp_f(ly - lx));
    }
    return;
  }
  // Four values per counter (t, 0, 0, 0); four counters at a time through the SIMD rounds (the
  // integers are the same either way, and the transforms below are scalar).
  range_t r = split((uint32_t)(((uint64_t)n + 3) / 4), tid, nthreads);
  uint32_t words[4][4];
  for (uint32_t t = r.begin; t < r.end; t++) {
    const uint32_t lane = (t - r.begin) & 3u;
    const int full = t - lane + 4u <= r.end;
    if (lane == 0 && full) rnd_philox10_x4(wasm_i32x4_make((int32_t)t, (int32_t)(t + 1), (int32_t)(t + 2), (int32_t)(t + 3)), k0, k1, words);
    rnd_u4 b;
    if (full) {
      b.x = words[0][lane]; b.y = words[1][lane]; b.z = words[2][lane]; b.w = words[3][lane];
    } else {
      rnd_u4 ctr = { t, 0, 0, 0 };
      b = rnd_philox10(ctr, k0, k1);
    }
    uint32_t v[4];
    if (a->dist == 0) {
      v[0] = b.x; v[1] = b.y; v[2] = b.z; v[3] = b.w;
    } else if (a->dist == 1) {
      float span = a->p1 - a->p0;
      v[0] = f_to_bits(rnd_unit(b.x) * span + a->p0);
      v[1] = f_to_bits(rnd_unit(b.y) * span + a->p0);
      v[2] = f_to_bits(rnd_unit(b.z) * span + a->p0);
      v[3] = f_to_bits(rnd_unit(b.w) * span + a->p0);
    } else {
      // Box–Muller on the pairs (x, y) and (z, w).
      float ra = sqrt_f(-2.0f * log_f(rnd_unit_open0(b.x)));
      float rb = sqrt_f(-2.0f * log_f(rnd_unit_open0(b.z)));
      float sa, ca, sb, cb;
      sincos_f(RND_TWO_PI * rnd_unit(b.y), &sa, &ca);
      sincos_f(RND_TWO_PI * rnd_unit(b.w), &sb, &cb);
      v[0] = f_to_bits(ra * ca * a->p1 + a->p0);
      v[1] = f_to_bits(ra * sa * a->p1 + a->p0);
      v[2] = f_to_bits(rb * cb * a->p1 + a->p0);
      v[3] = f_to_bits(rb * sb * a->p1 + a->p0);
    }
    uint32_t base = t * 4u;
    uint32_t m = n - base < 4u ? n - base : 4u;
    for (uint32_t j = 0; j < m; j++) a->out[base + j] = v[j];
  }
}
