// Optimizer kernels: fused AdamW and SGD steps (in place, 4 lanes at a time), the global gradient
// norm as fixed-block sums of squares, and gradient clipping. Threads split the elements in blocks
// of OPT_ALIGN, so every element takes the same code path (SIMD body or scalar tail) whatever the
// thread count, and the block sums of the norm never depend on the split: results are bit-identical
// for any number of threads.
#include "common.h"
#include "mathf.h"

#define OPT_ALIGN 64u

static range_t opt_split(uint32_t n, uint32_t tid, uint32_t nthreads) {
  uint32_t blocks = (n + OPT_ALIGN - 1) / OPT_ALIGN;
  range_t r = split(blocks, tid, nthreads);
  r.begin *= OPT_ALIGN;
  r.end *= OPT_ALIGN;
  if (r.end > n) r.end = n;
  if (r.begin > n) r.begin = n;
  return r;
}

// PyTorch's clip_grad_norm_ coefficient min(1, max_norm / (norm + 1e-6)).
static float opt_clip_coef(const float *gnorm, float max_norm) {
  float c = max_norm / (gnorm[0] + 1e-6f);
  return c < 1.0f ? c : 1.0f;
}

EXPORT(k_opt_adamw) void k_opt_adamw(const struct opt_adamw_args *a, uint32_t tid, uint32_t nthreads) {
  range_t r = opt_split(a->n, tid, nthreads);
  const float coef = a->clip ? opt_clip_coef(a->gnorm, a->max_norm) : 1.0f;
  const float b1 = a->beta1, b2 = a->beta2, c1 = 1.0f - b1, c2 = 1.0f - b2;
  const float decay = 1.0f - a->lr * a->wd, step = a->step_size, bc2 = a->bc2_sqrt, eps = a->eps;
  const int first = a->first != 0;
  float *p = a->param, *m = a->m, *v = a->v;
  const float *g = a->grad;
  uint32_t i = r.begin;
  const v128_t vcoef = wasm_f32x4_splat(coef), vb1 = wasm_f32x4_splat(b1), vb2 = wasm_f32x4_splat(b2);
  const v128_t vc1 = wasm_f32x4_splat(c1), vc2 = wasm_f32x4_splat(c2), vdecay = wasm_f32x4_splat(decay);
  const v128_t vstep = wasm_f32x4_splat(step), vbc2 = wasm_f32x4_splat(bc2), veps = wasm_f32x4_splat(eps);
  for (; i + 4 <= r.end; i += 4) {
    v128_t gi = wasm_f32x4_mul(wasm_v128_load(g + i), vcoef);
    v128_t mi = wasm_f32x4_mul(vc1, gi);
    v128_t vi = wasm_f32x4_mul(wasm_f32x4_mul(vc2, gi), gi);
    if (!first) {
      mi = wasm_f32x4_add(mi, wasm_f32x4_mul(vb1, wasm_v128_load(m + i)));
      vi = wasm_f32x4_add(vi, wasm_f32x4_mul(vb2, wasm_v128_load(v + i)));
    }
    wasm_v128_store(m + i, mi);
    wasm_v128_store(v + i, vi);
    v128_t pi = wasm_f32x4_mul(wasm_v128_load(p + i), vdecay);
    v128_t den = wasm_f32x4_add(wasm_f32x4_div(wasm_f32x4_sqrt(vi), vbc2), veps);
    wasm_v128_store(p + i, wasm_f32x4_sub(pi, wasm_f32x4_div(wasm_f32x4_mul(vstep, mi), den)));
  }
  for (; i < r.end; i++) {
    float gi = g[i] * coef;
    float mi = c1 * gi, vi = c2 * gi * gi;
    if (!first) {
      mi = mi + b1 * m[i];
      vi = vi + b2 * v[i];
    }
    m[i] = mi;
    v[i] = vi;
    float pi = p[i] * decay;
    p[i] = pi - step * mi / (sqrt_f(vi) / bc2 + eps);
  }
}

EXPORT(k_opt_sgd) void k_opt_sgd(const struct opt_sgd_args *a, uint32_t tid, uint32_t nthreads) {
  range_t r = opt_split(a->n, tid, nthreads);
  const float coef = a->clip ? opt_clip_coef(a->gnorm, a->max_norm) : 1.0f;
  const float lr = a->lr, mom = a->momentum, damp = 1.0f - a->dampening, wd = a->wd;
  float *p = a->param, *buf = a->buf;
  const float *g = a->grad;
  for (uint32_t i = r.begin; i < r.end; i++) {
    float pi = p[i];
    // Coupled (L2) weight decay, as torch.optim.SGD.
    float d = g[i] * coef + wd * pi;
    if (a->has_buf) {
      float b = a->first ? d : mom * buf[i] + damp * d;
      buf[i] = b;
      d = a->nesterov ? d + mom * b : b;
    }
    p[i] = pi - lr * d;
  }
}

EXPORT(k_opt_sumsq) void k_opt_sumsq(const struct opt_sumsq_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t block = a->block;
  const uint32_t blocks = (a->n + block - 1) / block;
  range_t r = split(blocks, tid, nthreads);
  for (uint32_t b = r.begin; b < r.end; b++) {
    const uint32_t lo = b * block, hi = lo + block < a->n ? lo + block : a->n;
    const float *x = a->x;
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
    uint32_t i = lo;
    for (; i + 8 <= hi; i += 8) {
      v128_t u = wasm_v128_load(x + i), w = wasm_v128_load(x + i + 4);
      s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(u, u));
      s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(w, w));
    }
    s0 = wasm_f32x4_add(s0, s1);
    float s = (wasm_f32x4_extract_lane(s0, 0) + wasm_f32x4_extract_lane(s0, 1)) + (wasm_f32x4_extract_lane(s0, 2) + wasm_f32x4_extract_lane(s0, 3));
    for (; i < hi; i++) s += x[i] * x[i];
    a->partials[b] = s;
  }
}

EXPORT(k_opt_sqrtsum) void k_opt_sqrtsum(const struct opt_sqrtsum_args *a, uint32_t tid, uint32_t nthreads) {
  if (tid != 0) return;
  (void)nthreads;
  float s = 0.0f;
  for (uint32_t i = 0; i < a->count; i++) s += a->partials[i];
  a->out[0] = sqrt_f(s);
}

EXPORT(k_opt_clip_scale) void k_opt_clip_scale(const struct opt_clip_scale_args *a, uint32_t tid, uint32_t nthreads) {
  range_t r = opt_split(a->n, tid, nthreads);
  const float coef = opt_clip_coef(a->gnorm, a->max_norm);
  for (uint32_t i = r.begin; i < r.end; i++) a->out[i] = a->grad[i] * coef;
}
