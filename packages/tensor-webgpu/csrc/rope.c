// Rotary position embeddings (rotate-half convention) and their cos/sin tables, as the WGSL kernels
// of src/kernels/rope.ts compute them.
//
// rope_rotary  an item per row of x (every dim but the last): y[j] = x[j]·cos[j] − x[j+h]·sin[j] and
//              y[j+h] = x[j+h]·cos[j'] + x[j]·sin[j'] (h = D/2, table index mod its width), or the
//              transposed map for the gradient. Contiguous rows and tables run 4-wide; any other
//              strides take the element loop.
// rope_tables  cos/sin [npos, half] of f32(pos[axis(s)][p]) · inv_freq[s], axis by the M-RoPE rule.
#include "common.h"
#include "mathf.h"

// sin and cos of a table angle. The angle is reduced modulo π/2 in f64 (exact enough for any f32
// angle a table can hold: |k·π/2 − f64(k·π/2)| stays below 1e-9 rad for |k| < 2^26), then Cephes' minimax polynomials run on [−π/4, π/4] in f32.
// The quadrant comes from k mod 4 in f64, so no float→int conversion can trap on huge or NaN angles.
static void rope_sincos(float a, float *sn, float *cs) {
  double k = __builtin_rint((double)a * 0.63661977236758134);
  float r = (float)((double)a - k * 1.5707963267948966);
  float z = r * r;
  float s = r + r * z * (-1.6666654611e-1f + z * (8.3321608736e-3f + z * -1.9515295891e-4f));
  float c = 1.0f - 0.5f * z + z * z * (4.166664568298827e-2f + z * (-1.388731625493765e-3f + z * 2.443315711809948e-5f));
  double q = k - 4.0 * __builtin_floor(k * 0.25);
  if (q == 0.0) { *sn = s; *cs = c; }
  else if (q == 1.0) { *sn = c; *cs = -s; }
  else if (q == 2.0) { *sn = -s; *cs = -c; }
  else { *sn = -c; *cs = s; }
}

/** One row, contiguous x/cos/sin: cLo/sLo index slot j, cHi/sHi slot j + h (the same for half tables). */
static void rope_row_fast(const float *x, const float *cLo, const float *cHi, const float *sLo, const float *sHi,
                          float *y, uint32_t h, int transpose) {
  uint32_t j = 0;
  if (!transpose) {
    for (; j + 4 <= h; j += 4) {
      v128_t a = wasm_v128_load(x + j), b = wasm_v128_load(x + j + h);
      wasm_v128_store(y + j, wasm_f32x4_sub(wasm_f32x4_mul(a, wasm_v128_load(cLo + j)), wasm_f32x4_mul(b, wasm_v128_load(sLo + j))));
      wasm_v128_store(y + j + h, wasm_f32x4_add(wasm_f32x4_mul(b, wasm_v128_load(cHi + j)), wasm_f32x4_mul(a, wasm_v128_load(sHi + j))));
    }
    for (; j < h; j++) {
      float a = x[j], b = x[j + h];
      y[j] = a * cLo[j] - b * sLo[j];
      y[j + h] = b * cHi[j] + a * sHi[j];
    }
  } else {
    // Transposed: the partner's sine is the partner slot's (rotation by −θ for half tables).
    for (; j + 4 <= h; j += 4) {
      v128_t a = wasm_v128_load(x + j), b = wasm_v128_load(x + j + h);
      wasm_v128_store(y + j, wasm_f32x4_add(wasm_f32x4_mul(a, wasm_v128_load(cLo + j)), wasm_f32x4_mul(b, wasm_v128_load(sHi + j))));
      wasm_v128_store(y + j + h, wasm_f32x4_sub(wasm_f32x4_mul(b, wasm_v128_load(cHi + j)), wasm_f32x4_mul(a, wasm_v128_load(sLo + j))));
    }
    for (; j < h; j++) {
      float a = x[j], b = x[j + h];
      y[j] = a * cLo[j] + b * sHi[j];
      y[j + h] = b * cHi[j] - a * sLo[j];
    }
  }
}

EXPORT(k_rope_rotary) void k_rope_rotary(const struct rope_rotary_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t rank = a->rank, last = rank - 1, d = a->shape[last], h = d / 2, tw = a->tw;
  uint32_t rows = 1;
  for (uint32_t i = 0; i < last; i++) rows *= a->shape[i];
  const uint32_t xs = a->xst[last], cs = a->cst[last], ss = a->sst[last];
  const int transpose = a->transpose != 0;
  const int fast = xs == 1 && cs == 1 && ss == 1 && (tw == h || tw == d);
  range_t r = split(rows, tid, nthreads);
  for (uint32_t row = r.begin; row < r.end; row++) {
    uint32_t rem = row, xo = 0, co = 0, so = 0;
    for (int i = (int)last - 1; i >= 0; i--) {
      uint32_t n = a->shape[i], c = rem % n;
      rem /= n;
      xo += c * a->xst[i];
      co += c * a->cst[i];
      so += c * a->sst[i];
    }
    const float *x = a->x + xo, *cp = a->cos + co, *sp = a->sin + so;
    float *y = a->y + row * d;
    if (fast) {
      uint32_t hi = tw == d ? h : 0;
      rope_row_fast(x, cp, cp + hi, sp, sp + hi, y, h, transpose);
      continue;
    }
    for (uint32_t j = 0; j < d; j++) {
      uint32_t jp = j < h ? j + h : j - h;
      float c = cp[(j % tw) * cs];
      float s = sp[((transpose ? jp : j) % tw) * ss];
      float sign = (j < h) == (transpose != 0) ? 1.0f : -1.0f;
      y[j] = x[j * xs] * c + sign * x[jp * xs] * s;
    }
  }
}

EXPORT(k_rope_tables) void k_rope_tables(const struct rope_tables_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t half = a->half, npos = a->npos;
  range_t r = split(npos * half, tid, nthreads);
  for (uint32_t idx = r.begin; idx < r.end; idx++) {
    uint32_t s = idx % half, p = idx / half;
    uint32_t axis = 0;
    if (s % 3u == 1u && s < a->hLimit) axis = 1;
    if (s % 3u == 2u && s < a->wLimit) axis = 2;
    uint32_t raw = a->pos[axis * npos + p];
    float pos = a->posKind == 0 ? (float)(int32_t)raw : a->posKind == 1 ? (float)raw : bits_to_f(raw);
    float sn, cs;
    rope_sincos(pos * a->invf[s], &sn, &cs);
    a->cos[idx] = cs;
    a->sin[idx] = sn;
  }
}
