// Single-precision elementary functions for the freestanding kernels (no libm in wasm32 without
// a libc): exp, log, sin, cos, tanh, pow, scalar and 4-wide. Accuracy: a few ulp over the ranges the
// models use (f32 reference tests compare at 1e-5 relative); NaN and infinities follow IEEE.
#pragma once
#include <stdint.h>
#include <wasm_simd128.h>

#define MATHF static inline __attribute__((always_inline))

MATHF float bits_to_f(uint32_t b) { union { uint32_t u; float f; } v = { b }; return v.f; }
MATHF uint32_t f_to_bits(float f) { union { float f; uint32_t u; } v = { f }; return v.u; }
MATHF float inf_f(void) { return bits_to_f(0x7f800000u); }
MATHF float nan_f(void) { return bits_to_f(0x7fc00000u); }
MATHF int is_nan_f(float x) { return x != x; }
MATHF float fabs_f(float x) { return __builtin_fabsf(x); }
MATHF float sqrt_f(float x) { return __builtin_sqrtf(x); }
MATHF float floor_f(float x) { return __builtin_floorf(x); }
/** Round half to even (WGSL `round`). */
MATHF float round_even_f(float x) { return __builtin_rintf(x); }

// exp: x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n by exponent bits.
MATHF float exp_f(float x) {
  // The two-part ln2 reduction only works evaluated as written.
#pragma clang fp reassociate(off)
  if (is_nan_f(x)) return x;
  if (x > 88.72283935546875f) return inf_f();
  if (x < -103.97208404541016f) return 0.0f;
  float n = round_even_f(x * 1.4426950408889634f);
  float r = x - n * 0.693145751953125f;
  r = r - n * 1.428606765330187e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666666666666666f + r * (0.041666666666666664f + r * (0.008333333333333333f + r * 0.001388888888888889f)))));
  int32_t e = (int32_t)n;
  // Split 2^e in two factors so that subnormal results and e = 128 stay exact.
  int32_t e1 = e / 2, e2 = e - e1;
  return p * bits_to_f((uint32_t)(e1 + 127) << 23) * bits_to_f((uint32_t)(e2 + 127) << 23);
}

// log: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(f / (2 + f)) by its series.
MATHF float log_f(float x) {
  if (is_nan_f(x) || x < 0.0f) return nan_f();
  if (x == 0.0f) return -inf_f();
  if (x == inf_f()) return x;
  uint32_t b = f_to_bits(x);
  int32_t e = 0;
  if (b < 0x00800000u) { // subnormal: scale up by 2^23
    x *= 8388608.0f;
    b = f_to_bits(x);
    e = -23;
  }
  e += (int32_t)((b >> 23) & 0xff) - 127;
  float m = bits_to_f((b & 0x007fffffu) | 0x3f800000u);
  if (m > 1.41421356f) { m *= 0.5f; e += 1; }
  float f = m - 1.0f;
  float s = f / (2.0f + f);
  float s2 = s * s;
  float series = s2 * (0.6666666666666735f + s2 * (0.3999999999940942f + s2 * (0.2857142874366239f + s2 * (0.22222198432149784f + s2 * 0.1818357216161805f))));
  return (float)e * 0.6931471805599453f + (f - s * (f - series));
}

// sin and cos: reduce by pi/2 in f64 (one rounding, accurate to |x| ~ 1e9), then minimax
// polynomials on [-pi/4, pi/4].
MATHF float sin_poly(float r) {
  float r2 = r * r;
  return r + r * r2 * (-0.16666667f + r2 * (0.0083333310f + r2 * (-0.00019840874f + r2 * 2.7525562e-06f)));
}
MATHF float cos_poly(float r) {
  float r2 = r * r;
  return 1.0f + r2 * (-0.5f + r2 * (0.041666638f + r2 * (-0.0013888378f + r2 * 2.4390448e-05f)));
}
MATHF void sincos_f(float x, float *s, float *c) {
  if (is_nan_f(x) || fabs_f(x) == inf_f()) { *s = nan_f(); *c = nan_f(); return; }
  double q = __builtin_rint((double)x * 0.63661977236758134308);
  float r = (float)((double)x - q * 1.57079632679489661923);
  float sp = sin_poly(r), cp = cos_poly(r);
  int32_t k = (int32_t)((int64_t)q & 3);
  switch (k) {
    case 0: *s = sp; *c = cp; break;
    case 1: *s = cp; *c = -sp; break;
    case 2: *s = -sp; *c = -cp; break;
    default: *s = -cp; *c = sp; break;
  }
}
MATHF float sin_f(float x) { float s, c; sincos_f(x, &s, &c); return s; }
MATHF float cos_f(float x) { float s, c; sincos_f(x, &s, &c); return c; }

// expm1 with full relative accuracy near 0 (Taylor to x^9 for |x| < 0.5).
MATHF float expm1_f(float x) {
  if (fabs_f(x) < 0.5f) {
    return x * (1.0f + x * (0.5f + x * (0.16666667f + x * (0.041666668f + x * (0.008333334f + x * (0.0013888889f + x * (0.0001984127f + x * (2.4801587e-05f + x * 2.7557319e-06f))))))));
  }
  return exp_f(x) - 1.0f;
}

// tanh = expm1(2x) / (expm1(2x) + 2); ±1 beyond |x| = 15 (as the WGSL kernels clamp).
MATHF float tanh_f(float x) {
  if (is_nan_f(x)) return x;
  float a = fabs_f(x);
  if (a > 15.0f) return x > 0 ? 1.0f : -1.0f;
  float t = expm1_f(2.0f * a);
  float y = t / (t + 2.0f);
  return x < 0 ? -y : y;
}

MATHF float sigmoid_f(float x) { return 1.0f / (1.0f + exp_f(-x)); }

// pow with the real-valued answers the WGSL kernels give: x^0 = 1, 0^b, negative bases with
// integer exponents, NaN otherwise.
MATHF float pow_f(float a, float b) {
  if (b == 0.0f) return 1.0f;
  if (a == 0.0f) return b < 0.0f ? inf_f() : 0.0f;
  if (a > 0.0f) return exp_f(b * log_f(a));
  if (round_even_f(b) != b) return nan_f();
  float m = exp_f(b * log_f(-a));
  float half = b * 0.5f;
  return floor_f(half) != half ? -m : m;
}

// 4-wide exp with the same reduction as exp_f; NaN propagates, -inf and tiny inputs give 0.
MATHF v128_t exp_f4(v128_t x) {
  // Below the smallest normal result the answer is 0 (a flushed subnormal, as exp_f is not).
  v128_t under = wasm_f32x4_lt(x, wasm_f32x4_splat(-87.33654022216797f));
  // pmin/pmax clamp (NaN passes through) and compile to one instruction each, unlike min/max.
  x = wasm_f32x4_pmin(x, wasm_f32x4_splat(88.72283935546875f));
  x = wasm_f32x4_pmax(x, wasm_f32x4_splat(-87.33654022216797f));
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.4426950408889634f)));
  // r = x - n ln2 in f64 (two lanes at a time): one rounding, nothing to reassociate.
  const v128_t ln2 = wasm_f64x2_splat(0.69314718055994530942);
  v128_t xh = wasm_i32x4_shuffle(x, x, 2, 3, 0, 1), nh = wasm_i32x4_shuffle(n, n, 2, 3, 0, 1);
  v128_t rl = wasm_f64x2_sub(wasm_f64x2_promote_low_f32x4(x), wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(n), ln2));
  v128_t rh = wasm_f64x2_sub(wasm_f64x2_promote_low_f32x4(xh), wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(nh), ln2));
  v128_t r = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(rl), wasm_f32x4_demote_f64x2_zero(rh), 0, 1, 4, 5);
  v128_t p = wasm_f32x4_splat(0.001388888888888889f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.008333333333333333f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.041666666666666664f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.16666666666666666f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  // 2^n as exponent bits; n >= -126 after the clamp, and n = 128 only at the clamp edge.
  v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(p, e), under);
}
