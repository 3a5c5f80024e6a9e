// Elementwise kernels of the CPU engine: one kernel per arity, the op chosen by a code (the order of
// EW_OP_CODES in src/cpu/elementwise.ts). The output's coalesced shape is walked row by row (the
// innermost dim); each row is cut into blocks of at most EW_BLOCK elements. Per block, every operand
// is either read in place (a contiguous 32-bit operand) or gathered into a scratch block in its
// compute type (strides, broadcasting, u8 bytes, f16 halves), the op runs over whole blocks (the op
// switch is outside the inner loops), and the result is written in place or converted and scattered.
// Transposing layouts (an operand with a long innermost stride) go a tile of rows at a time.
// f32 ops apply one 4-wide function to every element (a row's last partial vector is padded), so an
// element's bits never depend on where a thread's share or a block begins: results are the same for
// every thread count. Integer ops are exact. Semantics follow the WGSL op table of
// src/kernels/elementwise.ts (same formulas, same integer division rules, same casts).
#include "common.h"
#include "mathf.h"

#define EW_BLOCK 1024
#define EW_RANK 8

// Compute and storage types (operand kinds): 0..4 storage dtypes, EW_SCALAR | compute type a scalar.
enum { EW_F32 = 0, EW_I32 = 1, EW_U32 = 2, EW_U8 = 3, EW_F16 = 4, EW_SCALAR = 8 };

// Op codes: the order of EW_OP_CODES (src/cpu/elementwise.ts) and of EW_OPS.
enum {
  OP_COPY, OP_CAST, OP_TOBOOL, OP_INDEX, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW, OP_MAXIMUM, OP_MINIMUM,
  OP_NEG, OP_ABS, OP_SIGN, OP_EXP, OP_LOG, OP_SQRT, OP_RSQRT, OP_TANH, OP_SIGMOID, OP_SILU, OP_RELU,
  OP_ERF, OP_GELU, OP_GELU_TANH, OP_GELU_GRAD, OP_GELU_TANH_GRAD, OP_SILU_GRAD, OP_CLAMP, OP_WHERE,
  OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
};

typedef struct {
  const uint8_t *p;
  uint32_t kind, scalar;
  const int32_t *st;
} ew_operand;

typedef struct {
  uint32_t op, n, rank, out_type, arity;
  const uint32_t *shape;
  uint8_t *out;
  const int32_t *out_st;
  ew_operand in[3];
} ew_desc;

static uint32_t ew_ctype(uint32_t kind) {
  if (kind & EW_SCALAR) return kind & 3;
  return kind == EW_F16 ? EW_F32 : kind == EW_U8 ? EW_U32 : kind;
}

// ---- 4-wide float math (the WGSL table's formulas; NaN tests on bits) ----

INLINE v128_t f4(float x) { return wasm_f32x4_splat(x); }
INLINE v128_t ew_isnan4(v128_t x) { return wasm_u32x4_gt(wasm_v128_and(x, wasm_i32x4_splat(0x7fffffff)), wasm_i32x4_splat(0x7f800000)); }
INLINE v128_t ew_abs4(v128_t x) { return wasm_v128_and(x, wasm_i32x4_splat(0x7fffffff)); }
INLINE v128_t ew_copysign4(v128_t mag, v128_t sgn) {
  return wasm_v128_or(ew_abs4(mag), wasm_v128_and(sgn, wasm_i32x4_splat((int32_t)0x80000000u)));
}

// e^x: x = n ln2 + r, e^r by the degree-6 polynomial of exp_f, 2^n as two exponent factors so that
// subnormal results are exact; +Inf above 88.72, 0 below -103.97, NaN kept.
static v128_t ew_exp4(v128_t x) {
  v128_t xc = wasm_f32x4_pmax(wasm_f32x4_pmin(x, f4(88.72283935546875f)), f4(-103.97208404541016f));
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(xc, f4(1.4426950408889634f)));
  v128_t r = wasm_f32x4_sub(xc, wasm_f32x4_mul(n, f4(0.693145751953125f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, f4(1.428606765330187e-06f)));
  v128_t p = f4(0.001388888888888889f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), f4(0.008333333333333333f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), f4(0.041666666666666664f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), f4(0.16666666666666666f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), f4(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), f4(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), f4(1.0f));
  v128_t e = wasm_i32x4_trunc_sat_f32x4(n);
  v128_t e1 = wasm_i32x4_shr(e, 1);
  v128_t e2 = wasm_i32x4_sub(e, e1);
  v128_t bias = wasm_i32x4_splat(127);
  p = wasm_f32x4_mul(p, wasm_i32x4_shl(wasm_i32x4_add(e1, bias), 23));
  p = wasm_f32x4_mul(p, wasm_i32x4_shl(wasm_i32x4_add(e2, bias), 23));
  p = wasm_v128_bitselect(f4(inf_f()), p, wasm_f32x4_gt(x, f4(88.72283935546875f)));
  p = wasm_v128_andnot(p, wasm_f32x4_lt(x, f4(-103.97208404541016f)));
  return wasm_v128_bitselect(x, p, ew_isnan4(x));
}

// Natural log as log_f: x = m 2^e, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(f / (2 + f)).
static v128_t ew_log4(v128_t x) {
  v128_t b = x;
  v128_t sub = wasm_u32x4_lt(b, wasm_i32x4_splat(0x00800000));
  v128_t xs = wasm_v128_bitselect(wasm_f32x4_mul(x, f4(8388608.0f)), x, sub);
  v128_t e0 = wasm_v128_and(sub, wasm_i32x4_splat(-23));
  v128_t bs = xs;
  v128_t e = wasm_i32x4_add(e0, wasm_i32x4_sub(wasm_v128_and(wasm_u32x4_shr(bs, 23), wasm_i32x4_splat(0xff)), wasm_i32x4_splat(127)));
  v128_t m = wasm_v128_or(wasm_v128_and(bs, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f800000));
  v128_t big = wasm_f32x4_gt(m, f4(1.41421356f));
  m = wasm_v128_bitselect(wasm_f32x4_mul(m, f4(0.5f)), m, big);
  e = wasm_i32x4_sub(e, big); // big is -1 where set
  v128_t f = wasm_f32x4_sub(m, f4(1.0f));
  v128_t s = wasm_f32x4_div(f, wasm_f32x4_add(f4(2.0f), f));
  v128_t s2 = wasm_f32x4_mul(s, s);
  v128_t series = f4(0.1818357216161805f);
  series = wasm_f32x4_add(wasm_f32x4_mul(s2, series), f4(0.22222198432149784f));
  series = wasm_f32x4_add(wasm_f32x4_mul(s2, series), f4(0.2857142874366239f));
  series = wasm_f32x4_add(wasm_f32x4_mul(s2, series), f4(0.3999999999940942f));
  series = wasm_f32x4_add(wasm_f32x4_mul(s2, series), f4(0.6666666666666735f));
  series = wasm_f32x4_mul(s2, series);
  v128_t y = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(e), f4(0.6931471805599453f)),
                            wasm_f32x4_sub(f, wasm_f32x4_mul(s, wasm_f32x4_sub(f, series))));
  v128_t ab = ew_abs4(b);
  y = wasm_v128_bitselect(f4(inf_f()), y, wasm_i32x4_eq(b, wasm_i32x4_splat(0x7f800000)));
  y = wasm_v128_bitselect(f4(nan_f()), y, wasm_v128_or(ew_isnan4(b), wasm_i32x4_lt(b, wasm_i32x4_splat(0))));
  return wasm_v128_bitselect(f4(-inf_f()), y, wasm_i32x4_eq(ab, wasm_i32x4_splat(0)));
}

// tanh = expm1(2|x|) / (expm1(2|x|) + 2) with expm1's Taylor series near 0; ±1 beyond 15.
static v128_t ew_tanh4(v128_t x) {
  v128_t a = ew_abs4(x);
  v128_t t2 = wasm_f32x4_add(a, a);
  v128_t q = f4(2.7557319e-06f);
  q = wasm_f32x4_add(wasm_f32x4_mul(t2, q), f4(2.4801587e-05f));
  q = wasm_f32x4_add(wasm_f32x4_mul(t2, q), f4(0.0001984127f));
  q = wasm_f32x4_add(wasm_f32x4_mul(t2, q), f4(0.0013888889f));
  q = wasm_f32x4_add(wasm_f32x4_mul(t2, q), f4(0.008333334f));
  q = wasm_f32x4_add(wasm_f32x4_mul(t2, q), f4(0.041666668f));
  q = wasm_f32x4_add(wasm_f32x4_mul(t2, q), f4(0.16666667f));
  q = wasm_f32x4_add(wasm_f32x4_mul(t2, q), f4(0.5f));
  q = wasm_f32x4_add(wasm_f32x4_mul(t2, q), f4(1.0f));
  q = wasm_f32x4_mul(t2, q);
  v128_t em = wasm_f32x4_sub(ew_exp4(wasm_f32x4_pmin(t2, f4(30.0f))), f4(1.0f));
  v128_t t = wasm_v128_bitselect(q, em, wasm_f32x4_lt(t2, f4(0.5f)));
  v128_t y = wasm_f32x4_div(t, wasm_f32x4_add(t, f4(2.0f)));
  y = wasm_v128_bitselect(f4(1.0f), y, wasm_f32x4_gt(a, f4(15.0f)));
  y = ew_copysign4(y, x);
  return wasm_v128_bitselect(x, y, ew_isnan4(x));
}

INLINE v128_t ew_sigmoid4(v128_t x) {
  return wasm_f32x4_div(f4(1.0f), wasm_f32x4_add(f4(1.0f), ew_exp4(wasm_f32x4_neg(x))));
}

// erf: Abramowitz & Stegun 7.1.26 away from 0, a Taylor series for |x| < 0.5.
static v128_t ew_erf4(v128_t x) {
  v128_t a = ew_abs4(x);
  v128_t x2 = wasm_f32x4_mul(x, x);
  v128_t s = f4(-0.0008548327f);
  s = wasm_f32x4_add(wasm_f32x4_mul(x2, s), f4(0.0052239776f));
  s = wasm_f32x4_add(wasm_f32x4_mul(x2, s), f4(-0.0268661706f));
  s = wasm_f32x4_add(wasm_f32x4_mul(x2, s), f4(0.1128379167f));
  s = wasm_f32x4_add(wasm_f32x4_mul(x2, s), f4(-0.3761263890f));
  s = wasm_f32x4_add(wasm_f32x4_mul(x2, s), f4(1.1283791671f));
  s = wasm_f32x4_mul(x, s);
  v128_t t = wasm_f32x4_div(f4(1.0f), wasm_f32x4_add(f4(1.0f), wasm_f32x4_mul(f4(0.3275911f), a)));
  v128_t p = f4(1.061405429f);
  p = wasm_f32x4_add(wasm_f32x4_mul(t, p), f4(-1.453152027f));
  p = wasm_f32x4_add(wasm_f32x4_mul(t, p), f4(1.421413741f));
  p = wasm_f32x4_add(wasm_f32x4_mul(t, p), f4(-0.284496736f));
  p = wasm_f32x4_add(wasm_f32x4_mul(t, p), f4(0.254829592f));
  p = wasm_f32x4_mul(t, p);
  v128_t big = wasm_f32x4_sub(f4(1.0f), wasm_f32x4_mul(p, ew_exp4(wasm_f32x4_neg(wasm_f32x4_mul(a, a)))));
  big = ew_copysign4(big, x);
  big = wasm_v128_bitselect(x, big, ew_isnan4(x));
  return wasm_v128_bitselect(s, big, wasm_f32x4_lt(a, f4(0.5f)));
}

INLINE v128_t ew_gelu4(v128_t x) {
  v128_t e = ew_erf4(wasm_f32x4_mul(x, f4(0.7071067811865476f)));
  return wasm_f32x4_mul(wasm_f32x4_mul(f4(0.5f), x), wasm_f32x4_add(f4(1.0f), e));
}

// tanh(0.7978845608028654 * (x + 0.044715 x^3)), shared by geluTanh and its gradient.
INLINE v128_t ew_gelu_tanh_inner4(v128_t x) {
  v128_t x3 = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(f4(0.044715f), x), x), x);
  return ew_tanh4(wasm_f32x4_mul(f4(0.7978845608028654f), wasm_f32x4_add(x, x3)));
}

INLINE v128_t ew_gelu_tanh4(v128_t x) {
  return wasm_f32x4_mul(wasm_f32x4_mul(f4(0.5f), x), wasm_f32x4_add(f4(1.0f), ew_gelu_tanh_inner4(x)));
}

INLINE v128_t ew_gelu_grad4(v128_t x, v128_t g) {
  v128_t cdf = wasm_f32x4_mul(f4(0.5f), wasm_f32x4_add(f4(1.0f), ew_erf4(wasm_f32x4_mul(x, f4(0.7071067811865476f)))));
  v128_t pdf = wasm_f32x4_mul(wasm_f32x4_mul(x, ew_exp4(wasm_f32x4_mul(wasm_f32x4_mul(f4(-0.5f), x), x))), f4(0.3989422804014327f));
  return wasm_f32x4_mul(g, wasm_f32x4_add(cdf, pdf));
}

INLINE v128_t ew_gelu_tanh_grad4(v128_t x, v128_t g) {
  v128_t th = ew_gelu_tanh_inner4(x);
  v128_t a = wasm_f32x4_mul(f4(0.5f), wasm_f32x4_add(f4(1.0f), th));
  v128_t b = wasm_f32x4_mul(wasm_f32x4_mul(f4(0.5f), x), wasm_f32x4_sub(f4(1.0f), wasm_f32x4_mul(th, th)));
  b = wasm_f32x4_mul(wasm_f32x4_mul(b, f4(0.7978845608028654f)), wasm_f32x4_add(f4(1.0f), wasm_f32x4_mul(wasm_f32x4_mul(f4(0.134145f), x), x)));
  return wasm_f32x4_mul(g, wasm_f32x4_add(a, b));
}

INLINE v128_t ew_silu_grad4(v128_t x, v128_t g) {
  v128_t s = ew_sigmoid4(x);
  v128_t inner = wasm_f32x4_add(f4(1.0f), wasm_f32x4_mul(x, wasm_f32x4_sub(f4(1.0f), s)));
  return wasm_f32x4_mul(wasm_f32x4_mul(g, s), inner);
}

// pow with the real-valued answers of the WGSL pow_f: x^0 = 1, 0^b, negative bases with integer
// exponents (odd exponents keep the sign), NaN otherwise.
static v128_t ew_pow4(v128_t a, v128_t b) {
  v128_t m = ew_exp4(wasm_f32x4_mul(b, ew_log4(ew_abs4(a))));
  v128_t isint = wasm_f32x4_eq(wasm_f32x4_nearest(b), b);
  v128_t half = wasm_f32x4_mul(b, f4(0.5f));
  v128_t odd = wasm_f32x4_ne(wasm_f32x4_floor(half), half);
  v128_t neg = wasm_v128_bitselect(wasm_f32x4_neg(m), m, odd);
  v128_t y = wasm_v128_bitselect(neg, f4(nan_f()), wasm_v128_and(wasm_f32x4_lt(a, f4(0.0f)), isint));
  y = wasm_v128_bitselect(m, y, wasm_f32x4_gt(a, f4(0.0f)));
  v128_t zero = wasm_v128_and(f4(inf_f()), wasm_f32x4_lt(b, f4(0.0f)));
  y = wasm_v128_bitselect(zero, y, wasm_f32x4_eq(a, f4(0.0f)));
  return wasm_v128_bitselect(f4(1.0f), y, wasm_f32x4_eq(b, f4(0.0f)));
}

INLINE v128_t ew_sign4(v128_t x) {
  v128_t pos = wasm_v128_and(f4(1.0f), wasm_f32x4_gt(x, f4(0.0f)));
  return wasm_v128_bitselect(f4(-1.0f), pos, wasm_f32x4_lt(x, f4(0.0f)));
}

// ---- loops: whole vectors, then the last partial vector through a zero-padded copy ----

INLINE v128_t ew_load_part(const uint32_t *p, uint32_t r) {
  uint32_t t[4] = { 0, 0, 0, 0 };
  for (uint32_t j = 0; j < r; j++) t[j] = p[j];
  return wasm_v128_load(t);
}
INLINE void ew_store_part(uint32_t *p, v128_t v, uint32_t r) {
  uint32_t t[4];
  wasm_v128_store(t, v);
  for (uint32_t j = 0; j < r; j++) p[j] = t[j];
}

#define EW_MAP1(EXPR)                                                                              \
  do {                                                                                             \
    uint32_t i = 0;                                                                                \
    for (; i + 4 <= m; i += 4) {                                                                   \
      v128_t x = wasm_v128_load(a + i);                                                            \
      wasm_v128_store(o + i, (EXPR));                                                              \
    }                                                                                              \
    if (i < m) {                                                                                   \
      v128_t x = ew_load_part(a + i, m - i);                                                       \
      ew_store_part(o + i, (EXPR), m - i);                                                         \
    }                                                                                              \
  } while (0)

#define EW_MAP2(EXPR)                                                                              \
  do {                                                                                             \
    uint32_t i = 0;                                                                                \
    for (; i + 4 <= m; i += 4) {                                                                   \
      v128_t x = wasm_v128_load(a + i), y = wasm_v128_load(b + i);                                 \
      wasm_v128_store(o + i, (EXPR));                                                              \
    }                                                                                              \
    if (i < m) {                                                                                   \
      v128_t x = ew_load_part(a + i, m - i), y = ew_load_part(b + i, m - i);                       \
      ew_store_part(o + i, (EXPR), m - i);                                                         \
    }                                                                                              \
  } while (0)

#define EW_MAP3(EXPR)                                                                              \
  do {                                                                                             \
    uint32_t i = 0;                                                                                \
    for (; i + 4 <= m; i += 4) {                                                                   \
      v128_t x = wasm_v128_load(a + i), y = wasm_v128_load(b + i), z = wasm_v128_load(c + i);      \
      wasm_v128_store(o + i, (EXPR));                                                              \
    }                                                                                              \
    if (i < m) {                                                                                   \
      v128_t x = ew_load_part(a + i, m - i), y = ew_load_part(b + i, m - i);                       \
      v128_t z = ew_load_part(c + i, m - i);                                                       \
      ew_store_part(o + i, (EXPR), m - i);                                                         \
    }                                                                                              \
  } while (0)

// Scalar loops for the integer types (exact, so their bits never depend on the split either).
#define EW_IMAP1(T, EXPR) for (uint32_t i = 0; i < m; i++) { T x = ((const T *)a)[i]; ((T *)o)[i] = (T)(EXPR); }
#define EW_IMAP2(T, EXPR) for (uint32_t i = 0; i < m; i++) { T x = ((const T *)a)[i], y = ((const T *)b)[i]; ((T *)o)[i] = (T)(EXPR); }
#define EW_IMAP3(T, EXPR) for (uint32_t i = 0; i < m; i++) { T x = ((const T *)a)[i], y = ((const T *)b)[i], z = ((const T *)c)[i]; ((T *)o)[i] = (T)(EXPR); }

// Comparisons (all types through SIMD; the result is u32 0/1).
#define EW_CMP(F32, I32, U32)                                                                      \
  do {                                                                                             \
    if (vt == EW_F32) EW_MAP2(wasm_v128_and(F32(x, y), one));                                      \
    else if (vt == EW_I32) EW_MAP2(wasm_v128_and(I32(x, y), one));                                 \
    else EW_MAP2(wasm_v128_and(U32(x, y), one));                                                   \
  } while (0)

// Is "not zero" in the compute type `t` (f32: -0 is zero, NaN is not).
INLINE v128_t ew_nonzero4(v128_t x, uint32_t t) {
  return t == EW_F32 ? wasm_f32x4_ne(x, f4(0.0f)) : wasm_i32x4_ne(x, wasm_i32x4_splat(0));
}

// Runs the op over m elements: operands a, b, c in their compute types, result o in the op's type.
static void ew_apply(const ew_desc *d, uint32_t vt, uint32_t ct0, uint32_t m, uint32_t first, uint32_t *o,
                     const uint32_t *a, const uint32_t *b, const uint32_t *c) {
  const v128_t one = wasm_i32x4_splat(1);
  switch (d->op) {
    case OP_COPY:
    case OP_CAST:
      if (o != a) for (uint32_t i = 0; i < m; i++) o[i] = a[i];
      return;
    case OP_INDEX:
      for (uint32_t i = 0; i < m; i++) o[i] = first + i;
      return;
    case OP_TOBOOL: EW_MAP1(wasm_v128_and(ew_nonzero4(x, ct0), one)); return;
    case OP_WHERE: EW_MAP3(wasm_v128_bitselect(y, z, ew_nonzero4(x, ct0))); return;
    case OP_EQ: EW_CMP(wasm_f32x4_eq, wasm_i32x4_eq, wasm_i32x4_eq); return;
    case OP_NE: EW_CMP(wasm_f32x4_ne, wasm_i32x4_ne, wasm_i32x4_ne); return;
    case OP_LT: EW_CMP(wasm_f32x4_lt, wasm_i32x4_lt, wasm_u32x4_lt); return;
    case OP_LE: EW_CMP(wasm_f32x4_le, wasm_i32x4_le, wasm_u32x4_le); return;
    case OP_GT: EW_CMP(wasm_f32x4_gt, wasm_i32x4_gt, wasm_u32x4_gt); return;
    case OP_GE: EW_CMP(wasm_f32x4_ge, wasm_i32x4_ge, wasm_u32x4_ge); return;
    default: break;
  }
  if (vt == EW_F32) {
    switch (d->op) {
      case OP_ADD: EW_MAP2(wasm_f32x4_add(x, y)); return;
      case OP_SUB: EW_MAP2(wasm_f32x4_sub(x, y)); return;
      case OP_MUL: EW_MAP2(wasm_f32x4_mul(x, y)); return;
      case OP_DIV: EW_MAP2(wasm_f32x4_div(x, y)); return;
      case OP_POW: EW_MAP2(ew_pow4(x, y)); return;
      case OP_MAXIMUM: EW_MAP2(wasm_f32x4_max(x, y)); return;
      case OP_MINIMUM: EW_MAP2(wasm_f32x4_min(x, y)); return;
      case OP_NEG: EW_MAP1(wasm_f32x4_neg(x)); return;
      case OP_ABS: EW_MAP1(ew_abs4(x)); return;
      case OP_SIGN: EW_MAP1(ew_sign4(x)); return;
      case OP_EXP: EW_MAP1(ew_exp4(x)); return;
      case OP_LOG: EW_MAP1(ew_log4(x)); return;
      case OP_SQRT: EW_MAP1(wasm_f32x4_sqrt(x)); return;
      case OP_RSQRT: EW_MAP1(wasm_f32x4_div(f4(1.0f), wasm_f32x4_sqrt(x))); return;
      case OP_TANH: EW_MAP1(ew_tanh4(x)); return;
      case OP_SIGMOID: EW_MAP1(ew_sigmoid4(x)); return;
      case OP_SILU: EW_MAP1(wasm_f32x4_mul(x, ew_sigmoid4(x))); return;
      case OP_RELU: EW_MAP1(wasm_f32x4_max(x, f4(0.0f))); return;
      case OP_ERF: EW_MAP1(ew_erf4(x)); return;
      case OP_GELU: EW_MAP1(ew_gelu4(x)); return;
      case OP_GELU_TANH: EW_MAP1(ew_gelu_tanh4(x)); return;
      case OP_GELU_GRAD: EW_MAP2(ew_gelu_grad4(x, y)); return;
      case OP_GELU_TANH_GRAD: EW_MAP2(ew_gelu_tanh_grad4(x, y)); return;
      case OP_SILU_GRAD: EW_MAP2(ew_silu_grad4(x, y)); return;
      case OP_CLAMP: EW_MAP3(wasm_f32x4_min(wasm_f32x4_max(x, y), z)); return;
      default: return;
    }
  }
  if (vt == EW_I32) {
    switch (d->op) {
      case OP_ADD: EW_IMAP2(int32_t, (uint32_t)x + (uint32_t)y); return;
      case OP_SUB: EW_IMAP2(int32_t, (uint32_t)x - (uint32_t)y); return;
      case OP_MUL: EW_IMAP2(int32_t, (uint32_t)x * (uint32_t)y); return;
      // WGSL: x / 0 = x, and INT_MIN / -1 = INT_MIN.
      case OP_DIV: EW_IMAP2(int32_t, (y == 0 || (x == INT32_MIN && y == -1)) ? x : x / y); return;
      case OP_MAXIMUM: EW_IMAP2(int32_t, x > y ? x : y); return;
      case OP_MINIMUM: EW_IMAP2(int32_t, x < y ? x : y); return;
      case OP_NEG: EW_IMAP1(int32_t, 0u - (uint32_t)x); return;
      case OP_ABS: EW_IMAP1(int32_t, x < 0 ? 0u - (uint32_t)x : (uint32_t)x); return;
      case OP_SIGN: EW_IMAP1(int32_t, x > 0 ? 1 : x < 0 ? -1 : 0); return;
      case OP_RELU: EW_IMAP1(int32_t, x > 0 ? x : 0); return;
      case OP_CLAMP: EW_IMAP3(int32_t, (x > y ? x : y) < z ? (x > y ? x : y) : z); return;
      default: return;
    }
  }
  switch (d->op) {
    case OP_ADD: EW_IMAP2(uint32_t, x + y); return;
    case OP_SUB: EW_IMAP2(uint32_t, x - y); return;
    case OP_MUL: EW_IMAP2(uint32_t, x * y); return;
    case OP_DIV: EW_IMAP2(uint32_t, y == 0 ? x : x / y); return;
    case OP_MAXIMUM: EW_IMAP2(uint32_t, x > y ? x : y); return;
    case OP_MINIMUM: EW_IMAP2(uint32_t, x < y ? x : y); return;
    case OP_NEG: EW_IMAP1(uint32_t, 0u - x); return;
    case OP_ABS: EW_IMAP1(uint32_t, x); return;
    case OP_SIGN: EW_IMAP1(uint32_t, x > 0 ? 1u : 0u); return;
    case OP_RELU: EW_IMAP1(uint32_t, x); return;
    case OP_CLAMP: EW_IMAP3(uint32_t, (x > y ? x : y) < z ? (x > y ? x : y) : z); return;
    default: return;
  }
}

// ---- loads, stores and conversions ----

// f16 bits → f32 bits, exact (subnormals by one multiply, Inf/NaN kept).
INLINE uint32_t ew_half_to_f32(uint32_t h) {
  uint32_t sign = (h & 0x8000u) << 16, a = h & 0x7fffu;
  if (a >= 0x7c00u) return sign | 0x7f800000u | ((a & 0x3ffu) << 13);
  return sign | f_to_bits(bits_to_f(a << 13) * 0x1p112f);
}

// Reads m elements of an operand from element offset `off`, stride `st`, in its compute type.
static void ew_gather(const ew_operand *x, int32_t off, int32_t st, uint32_t m, uint32_t *t) {
  switch (x->kind) {
    case EW_U8: {
      const uint8_t *p = x->p + off;
      for (uint32_t i = 0; i < m; i++) t[i] = p[(int32_t)i * st];
      return;
    }
    case EW_F16: {
      const uint16_t *p = (const uint16_t *)x->p + off;
      for (uint32_t i = 0; i < m; i++) t[i] = ew_half_to_f32(p[(int32_t)i * st]);
      return;
    }
    default: {
      const uint32_t *p = (const uint32_t *)x->p + off;
      if (st == 0) { uint32_t v = p[0]; for (uint32_t i = 0; i < m; i++) t[i] = v; return; }
      for (uint32_t i = 0; i < m; i++) t[i] = p[(int32_t)i * st];
      return;
    }
  }
}

// Converts m values of type `from` to the storage type `to` in place, as WGSL's conversions do:
// floats to integers truncate toward zero and saturate at the largest f32 values inside the integer
// range (2^31 - 128, 2^32 - 256; NaN gives 0), i32 <-> u32 keep the bits.
static void ew_convert(uint32_t *v, uint32_t m, uint32_t from, uint32_t to) {
  if (from == to || (from != EW_F32 && to != EW_F32)) return;
  for (uint32_t i = 0; i < m; i += 4) { // the scratch block has slack for a whole last vector
    v128_t x = wasm_v128_load(v + i), y;
    if (from == EW_F32) {
      y = to == EW_I32 ? wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_pmin(x, f4(2147483520.0f)))
                       : wasm_u32x4_trunc_sat_f32x4(wasm_f32x4_pmin(x, f4(4294967040.0f)));
    }
    else y = from == EW_I32 ? wasm_f32x4_convert_i32x4(x) : wasm_f32x4_convert_u32x4(x);
    wasm_v128_store(v + i, y);
  }
}

// The layout and types of one call, shared by its row segments.
typedef struct {
  uint32_t rank, k, vt, et;
  uint32_t shape[EW_RANK];
  int32_t st[4][EW_RANK]; // output, then each operand
  uint32_t ct[3];
  uint32_t (*tmp)[EW_BLOCK + 4]; // scratch blocks: output, then each operand
} ew_ctx;

// One segment of m <= EW_BLOCK elements along the innermost dim, starting at coordinates idx
// (linear output index pos).
static void ew_segment(const ew_desc *d, const ew_ctx *c, const uint32_t *idx, uint32_t pos, uint32_t m) {
  const uint32_t last = c->rank - 1, k = c->k;
  int32_t off[4] = { 0, 0, 0, 0 };
  for (uint32_t i = 0; i < c->rank; i++)
    for (uint32_t j = 0; j <= k; j++) off[j] += (int32_t)idx[i] * c->st[j][i];
  const uint32_t *src[3] = { 0, 0, 0 };
  for (uint32_t j = 0; j < k; j++) {
    const ew_operand *x = &d->in[j];
    int32_t s = c->st[j + 1][last];
    if (x->kind & EW_SCALAR) src[j] = c->tmp[j + 1];
    else if (x->kind <= EW_U32 && s == 1) src[j] = (const uint32_t *)x->p + off[j + 1];
    else { ew_gather(x, off[j + 1], s, m, c->tmp[j + 1]); src[j] = c->tmp[j + 1]; }
  }
  uint32_t *outp = (uint32_t *)d->out + off[0];
  int32_t ost = c->st[0][last];
  int direct = c->et == d->out_type && ost == 1;
  uint32_t *dst = direct ? outp : c->tmp[0];
  ew_apply(d, c->vt, c->ct[0], m, pos, dst, src[0], src[1], src[2]);
  if (!direct) {
    ew_convert(c->tmp[0], m, c->et, d->out_type);
    for (uint32_t i = 0; i < m; i++) outp[(int32_t)i * ost] = c->tmp[0][i];
  }
}

// Tile edge of the transposing path (rows and columns of the last two dims).
#define EW_TILE 32

// True when an operand walks the innermost dim with a long stride but the dim before it densely
// (a transpose): rows are then done a tile at a time, so the lines read for one row segment are
// reused by the next rows instead of being evicted.
static int ew_transposing(const ew_ctx *c) {
  if (c->rank < 2) return 0;
  const uint32_t last = c->rank - 1;
  for (uint32_t j = 0; j <= c->k; j++) {
    int32_t s = c->st[j][last], s2 = c->st[j][last - 1];
    if (s < 0) s = -s;
    if (s2 < 0) s2 = -s2;
    if (s >= 16 && s2 < s) return 1;
  }
  return 0;
}

static void ew_run(const ew_desc *d, uint32_t tid, uint32_t nthreads) {
  const uint32_t k = d->arity;
  __attribute__((aligned(16))) uint32_t tmp[4][EW_BLOCK + 4];
  ew_ctx c;
  c.k = k;
  c.tmp = tmp;
  // Coalesced layout; rank 0 (one element) is walked as rank 1.
  c.rank = d->rank ? d->rank : 1;
  for (uint32_t i = 0; i < c.rank; i++) {
    c.shape[i] = d->rank ? d->shape[i] : 1;
    c.st[0][i] = d->rank ? d->out_st[i] : 0;
    for (uint32_t j = 0; j < k; j++) c.st[j + 1][i] = d->rank && d->in[j].st ? d->in[j].st[i] : 0;
  }
  c.ct[0] = c.ct[1] = c.ct[2] = 0;
  for (uint32_t j = 0; j < k; j++) c.ct[j] = ew_ctype(d->in[j].kind);
  // Type of the values the op works on (where: its second operand; the condition has its own).
  uint32_t op = d->op;
  c.vt = k == 0 ? EW_U32 : op == OP_WHERE ? c.ct[1] : c.ct[0];
  c.et = (op == OP_INDEX || op == OP_TOBOOL || (op >= OP_EQ && op <= OP_GE)) ? EW_U32 : c.vt;
  const uint32_t rank = c.rank, last = rank - 1;
  const int tiled = ew_transposing(&c);
  // The share of this thread: elements, or (tiled) groups of EW_TILE rows of the last two dims.
  // Every element is computed the same way on either path, so the bits never depend on the split.
  const uint32_t rows = tiled ? c.shape[last - 1] : 1, cols = c.shape[last];
  const uint32_t groups = (rows + EW_TILE - 1) / EW_TILE;
  range_t r = split(tiled ? d->n / (rows * cols) * groups : d->n, tid, nthreads);
  if (r.begin >= r.end) return;
  // Scalars are read as blocks of their value (no segment is longer than this).
  uint32_t fill = tiled ? EW_TILE : r.end - r.begin < EW_BLOCK ? r.end - r.begin : EW_BLOCK;
  for (uint32_t j = 0; j < k; j++) {
    if (d->in[j].kind & EW_SCALAR) for (uint32_t i = 0; i < fill; i++) tmp[j + 1][i] = d->in[j].scalar;
  }
  uint32_t idx[EW_RANK];
  if (tiled) {
    for (uint32_t g = r.begin; g < r.end; g++) {
      // Coordinates of the group's first element: outer dims from g / groups, then the row.
      uint32_t outer = g / groups, row0 = (g % groups) * EW_TILE;
      uint32_t row1 = row0 + EW_TILE < rows ? row0 + EW_TILE : rows;
      for (uint32_t i = last - 1; i-- > 0;) { idx[i] = outer % c.shape[i]; outer /= c.shape[i]; }
      uint32_t base = (g / groups) * rows * cols;
      for (uint32_t col = 0; col < cols; col += EW_TILE) {
        uint32_t m = cols - col < EW_TILE ? cols - col : EW_TILE;
        idx[last] = col;
        for (uint32_t row = row0; row < row1; row++) {
          idx[last - 1] = row;
          ew_segment(d, &c, idx, base + row * cols + col, m);
        }
      }
    }
    return;
  }
  uint32_t rem = r.begin;
  for (uint32_t i = rank; i-- > 0;) { idx[i] = rem % c.shape[i]; rem /= c.shape[i]; }
  uint32_t pos = r.begin;
  while (pos < r.end) {
    uint32_t m = c.shape[last] - idx[last];
    if (m > r.end - pos) m = r.end - pos;
    if (m > EW_BLOCK) m = EW_BLOCK;
    ew_segment(d, &c, idx, pos, m);
    pos += m;
    idx[last] += m;
    if (idx[last] == c.shape[last]) {
      idx[last] = 0;
      for (uint32_t i = last; i-- > 0;) {
        if (++idx[i] < c.shape[i]) break;
        idx[i] = 0;
      }
    }
  }
}

#define EW_HEAD(D, A, K)                                                                           \
  ew_desc D;                                                                                       \
  D.op = A->op; D.n = A->n; D.rank = A->rank; D.out_type = A->out_type; D.arity = K;               \
  D.shape = A->shape; D.out = A->out; D.out_st = A->out_st
#define EW_IN(D, A, J)                                                                             \
  D.in[J].p = A->p##J; D.in[J].kind = A->k##J; D.in[J].scalar = A->s##J; D.in[J].st = A->st##J

EXPORT(k_ew_nullary) void k_ew_nullary(const struct ew_nullary_args *a, uint32_t tid, uint32_t nthreads) {
  EW_HEAD(d, a, 0);
  ew_run(&d, tid, nthreads);
}

EXPORT(k_ew_unary) void k_ew_unary(const struct ew_unary_args *a, uint32_t tid, uint32_t nthreads) {
  EW_HEAD(d, a, 1);
  EW_IN(d, a, 0);
  ew_run(&d, tid, nthreads);
}

EXPORT(k_ew_binary) void k_ew_binary(const struct ew_binary_args *a, uint32_t tid, uint32_t nthreads) {
  EW_HEAD(d, a, 2);
  EW_IN(d, a, 0);
  EW_IN(d, a, 1);
  ew_run(&d, tid, nthreads);
}

EXPORT(k_ew_ternary) void k_ew_ternary(const struct ew_ternary_args *a, uint32_t tid, uint32_t nthreads) {
  EW_HEAD(d, a, 3);
  EW_IN(d, a, 0);
  EW_IN(d, a, 1);
  EW_IN(d, a, 2);
  ew_run(&d, tid, nthreads);
}
