// Fused layer / RMS / group normalisation: forward (Y and the per-row STATS = mean, rstd), backward to
// the input (DX) and the partial parameter gradients (P), with the buffer layouts of the WGSL
// kernels. Rows are contiguous runs of d elements and each row (or P column block, or P plane) is
// computed by one thread in a fixed order, so results do not depend on the thread count.
// The order of float operations is the definition of each result: no reassociation, in this file
// or in the SIMD intrinsics it inlines (the pragma comes before the headers that define them).
#pragma clang fp reassociate(off)
#include "common.h"
#include "mathf.h"

enum { NM_LAYER, NM_RMS, NM_GROUP };

// Rows of the layer/rms param-grad stage summed into one partial (the WGSL NORM_PGRAD_ROWS).
#define NM_PGRAD_ROWS 32u
// Columns per work item of the layer/rms param-grad stage.
#define NM_PGRAD_COLS 64u

INLINE float nm_hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) + (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

// Σ x, and Σ (x − m)², over n contiguous floats: 16 lanes, then a fixed combination.
static float nm_sum(const float *x, uint32_t n) {
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
  uint32_t j = 0;
  for (; j + 16 <= n; j += 16) {
    a0 = wasm_f32x4_add(a0, wasm_v128_load(x + j));
    a1 = wasm_f32x4_add(a1, wasm_v128_load(x + j + 4));
    a2 = wasm_f32x4_add(a2, wasm_v128_load(x + j + 8));
    a3 = wasm_f32x4_add(a3, wasm_v128_load(x + j + 12));
  }
  for (; j + 4 <= n; j += 4) a0 = wasm_f32x4_add(a0, wasm_v128_load(x + j));
  float t = 0.0f;
  for (; j < n; j++) t += x[j];
  return nm_hsum(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3))) + t;
}

static float nm_sqdev(const float *x, uint32_t n, float m) {
  const v128_t mv = wasm_f32x4_splat(m);
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
  uint32_t j = 0;
#define NM_SQ(acc, o) { v128_t c = wasm_f32x4_sub(wasm_v128_load(x + j + (o)), mv); acc = wasm_f32x4_add(acc, wasm_f32x4_mul(c, c)); }
  for (; j + 16 <= n; j += 16) {
    NM_SQ(a0, 0) NM_SQ(a1, 4) NM_SQ(a2, 8) NM_SQ(a3, 12)
  }
  for (; j + 4 <= n; j += 4) NM_SQ(a0, 0)
#undef NM_SQ
  float t = 0.0f;
  for (; j < n; j++) {
    float c = x[j] - m;
    t += c * c;
  }
  return nm_hsum(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3))) + t;
}

// A row is `segs` segments of `len` elements; segment s uses parameter ppar + s (group: one per
// channel) or, with `per_elem`, parameter ppar + j for element j (layer / rms).
typedef struct { uint32_t segs, len, ppar; int per_elem; } nm_segs_t;

INLINE nm_segs_t nm_segments(uint32_t kind, uint32_t row, uint32_t d, uint32_t hw, uint32_t cpg, uint32_t groups) {
  nm_segs_t s;
  if (kind == NM_GROUP) {
    s.segs = cpg;
    s.len = hw;
    s.ppar = (row % groups) * cpg;
    s.per_elem = 0;
  } else {
    s.segs = 1;
    s.len = d;
    s.ppar = 0;
    s.per_elem = 1;
  }
  return s;
}

EXPORT(k_nm_fwd) void k_nm_fwd(const struct nm_fwd_args *a, uint32_t tid, uint32_t nthreads) {
  range_t r = split(a->rows, tid, nthreads);
  const uint32_t d = a->d;
  for (uint32_t row = r.begin; row < r.end; row++) {
    const float *x = a->x + (size_t)row * d;
    float *y = a->y + (size_t)row * d;
    const float mean = a->kind == NM_RMS ? 0.0f : nm_sum(x, d) / (float)d;
    const float rstd = 1.0f / sqrt_f(nm_sqdev(x, d, mean) / (float)d + a->eps);
    const v128_t mv = wasm_f32x4_splat(mean), rv = wasm_f32x4_splat(rstd);
    nm_segs_t sg = nm_segments(a->kind, row, d, a->hw, a->cpg, a->groups);
    for (uint32_t s = 0; s < sg.segs; s++) {
      const uint32_t o = s * sg.len;
      const float *w = a->w ? a->w + sg.ppar + (sg.per_elem ? o : s) : 0;
      const float *b = a->b ? a->b + sg.ppar + (sg.per_elem ? o : s) : 0;
      const v128_t ws = w ? wasm_v128_load32_splat(w) : wasm_f32x4_splat(1.0f);
      const v128_t bs = b ? wasm_v128_load32_splat(b) : wasm_f32x4_splat(0.0f);
      uint32_t j = 0;
      for (; j + 4 <= sg.len; j += 4) {
        v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + o + j), mv), rv);
        if (w) v = wasm_f32x4_mul(v, sg.per_elem ? wasm_v128_load(w + j) : ws);
        if (b) v = wasm_f32x4_add(v, sg.per_elem ? wasm_v128_load(b + j) : bs);
        wasm_v128_store(y + o + j, v);
      }
      for (; j < sg.len; j++) {
        float v = (x[o + j] - mean) * rstd;
        if (w) v = v * (sg.per_elem ? w[j] : wasm_f32x4_extract_lane(ws, 0));
        if (b) v = v + (sg.per_elem ? b[j] : wasm_f32x4_extract_lane(bs, 0));
        y[o + j] = v;
      }
    }
    a->stats[2 * row] = mean;
    a->stats[2 * row + 1] = rstd;
  }
}

EXPORT(k_nm_bwd) void k_nm_bwd(const struct nm_bwd_args *a, uint32_t tid, uint32_t nthreads) {
  range_t r = split(a->rows, tid, nthreads);
  const uint32_t d = a->d;
  for (uint32_t row = r.begin; row < r.end; row++) {
    const float *x = a->x + (size_t)row * d;
    const float *dy = a->dy + (size_t)row * d;
    float *dx = a->dx + (size_t)row * d;
    const float mean = a->stats[2 * row], rstd = a->stats[2 * row + 1];
    const v128_t mv = wasm_f32x4_splat(mean), rv = wasm_f32x4_splat(rstd);
    nm_segs_t sg = nm_segments(a->kind, row, d, a->hw, a->cpg, a->groups);
    // Σ g·(x − mean)·rstd and Σ g, with g = dy·w.
    v128_t ax0 = wasm_f32x4_splat(0.0f), ax1 = ax0, ay0 = ax0, ay1 = ax0;
    float tx = 0.0f, ty = 0.0f;
    for (uint32_t s = 0; s < sg.segs; s++) {
      const uint32_t o = s * sg.len;
      const float *w = a->w ? a->w + sg.ppar + (sg.per_elem ? o : s) : 0;
      const v128_t ws = w ? wasm_v128_load32_splat(w) : wasm_f32x4_splat(1.0f);
      uint32_t j = 0;
#define NM_G(jj) (w ? wasm_f32x4_mul(wasm_v128_load(dy + o + (jj)), sg.per_elem ? wasm_v128_load(w + (jj)) : ws) : wasm_v128_load(dy + o + (jj)))
      for (; j + 8 <= sg.len; j += 8) {
        v128_t g0 = NM_G(j), g1 = NM_G(j + 4);
        ax0 = wasm_f32x4_add(ax0, wasm_f32x4_mul(wasm_f32x4_mul(g0, wasm_f32x4_sub(wasm_v128_load(x + o + j), mv)), rv));
        ax1 = wasm_f32x4_add(ax1, wasm_f32x4_mul(wasm_f32x4_mul(g1, wasm_f32x4_sub(wasm_v128_load(x + o + j + 4), mv)), rv));
        ay0 = wasm_f32x4_add(ay0, g0);
        ay1 = wasm_f32x4_add(ay1, g1);
      }
      for (; j + 4 <= sg.len; j += 4) {
        v128_t g0 = NM_G(j);
        ax0 = wasm_f32x4_add(ax0, wasm_f32x4_mul(wasm_f32x4_mul(g0, wasm_f32x4_sub(wasm_v128_load(x + o + j), mv)), rv));
        ay0 = wasm_f32x4_add(ay0, g0);
      }
      for (; j < sg.len; j++) {
        float g = dy[o + j];
        if (w) g = g * (sg.per_elem ? w[j] : wasm_f32x4_extract_lane(ws, 0));
        tx += g * (x[o + j] - mean) * rstd;
        ty += g;
      }
    }
    const float sx = (nm_hsum(wasm_f32x4_add(ax0, ax1)) + tx) / (float)d;
    const float sy = (nm_hsum(wasm_f32x4_add(ay0, ay1)) + ty) / (float)d;
    const float c2 = a->kind == NM_RMS ? 0.0f : sy;
    const v128_t sxv = wasm_f32x4_splat(sx), c2v = wasm_f32x4_splat(c2);
    for (uint32_t s = 0; s < sg.segs; s++) {
      const uint32_t o = s * sg.len;
      const float *w = a->w ? a->w + sg.ppar + (sg.per_elem ? o : s) : 0;
      const v128_t ws = w ? wasm_v128_load32_splat(w) : wasm_f32x4_splat(1.0f);
      uint32_t j = 0;
      for (; j + 4 <= sg.len; j += 4) {
        v128_t g = NM_G(j);
        v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + o + j), mv), rv);
        wasm_v128_store(dx + o + j, wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_sub(g, c2v), wasm_f32x4_mul(xh, sxv)), rv));
      }
      for (; j < sg.len; j++) {
        float g = dy[o + j];
        if (w) g = g * (sg.per_elem ? w[j] : wasm_f32x4_extract_lane(ws, 0));
        float xh = (x[o + j] - mean) * rstd;
        dx[o + j] = ((g - c2) - xh * sx) * rstd;
      }
#undef NM_G
    }
  }
}

// Partial parameter gradients. layer/rms: items are (chunk of 32 rows, block of 64 columns); each
// column sums its rows in order, four columns per vector (a lone column: a splat, the same bits).
// group: an item per (n, c) plane.
EXPORT(k_nm_pgrad) void k_nm_pgrad(const struct nm_pgrad_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t d = a->d;
  if (a->kind != NM_GROUP) {
    const uint32_t chunks = (a->rows + NM_PGRAD_ROWS - 1) / NM_PGRAD_ROWS;
    const uint32_t blocks = (d + NM_PGRAD_COLS - 1) / NM_PGRAD_COLS;
    range_t r = split(chunks * blocks, tid, nthreads);
    for (uint32_t it = r.begin; it < r.end; it++) {
      const uint32_t chunk = it / blocks, j0 = (it % blocks) * NM_PGRAD_COLS;
      const uint32_t j1 = j0 + NM_PGRAD_COLS < d ? j0 + NM_PGRAD_COLS : d;
      const uint32_t r0 = chunk * NM_PGRAD_ROWS, r1 = r0 + NM_PGRAD_ROWS < a->rows ? r0 + NM_PGRAD_ROWS : a->rows;
      float *px = a->p + (size_t)chunk * d, *py = a->p + (size_t)(chunks + chunk) * d;
      for (uint32_t j = j0; j < j1;) {
        const int wide = j + 4 <= j1;
        v128_t ax = wasm_f32x4_splat(0.0f), ay = ax;
        for (uint32_t row = r0; row < r1; row++) {
          const float *xr = a->x + (size_t)row * d + j, *gr = a->dy + (size_t)row * d + j;
          v128_t g = wide ? wasm_v128_load(gr) : wasm_v128_load32_splat(gr);
          v128_t xv = wide ? wasm_v128_load(xr) : wasm_v128_load32_splat(xr);
          v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(xv, wasm_v128_load32_splat(a->stats + 2 * row)), wasm_v128_load32_splat(a->stats + 2 * row + 1));
          ax = wasm_f32x4_add(ax, wasm_f32x4_mul(g, xh));
          ay = wasm_f32x4_add(ay, g);
        }
        if (wide) {
          wasm_v128_store(px + j, ax);
          wasm_v128_store(py + j, ay);
          j += 4;
        } else {
          px[j] = wasm_f32x4_extract_lane(ax, 0);
          py[j] = wasm_f32x4_extract_lane(ay, 0);
          j += 1;
        }
      }
    }
    return;
  }
  const uint32_t channels = a->groups * a->cpg, planes = a->rows / a->groups * channels, hw = a->hw;
  range_t r = split(planes, tid, nthreads);
  for (uint32_t plane = r.begin; plane < r.end; plane++) {
    const uint32_t n = plane / channels, c = plane % channels, row = n * a->groups + c / a->cpg;
    const float mean = a->stats[2 * row], rstd = a->stats[2 * row + 1];
    const v128_t mv = wasm_f32x4_splat(mean), rv = wasm_f32x4_splat(rstd);
    const float *x = a->x + (size_t)plane * hw, *dy = a->dy + (size_t)plane * hw;
    v128_t ax0 = wasm_f32x4_splat(0.0f), ax1 = ax0, ay0 = ax0, ay1 = ax0;
    uint32_t j = 0;
    for (; j + 8 <= hw; j += 8) {
      v128_t g0 = wasm_v128_load(dy + j), g1 = wasm_v128_load(dy + j + 4);
      ax0 = wasm_f32x4_add(ax0, wasm_f32x4_mul(wasm_f32x4_mul(g0, wasm_f32x4_sub(wasm_v128_load(x + j), mv)), rv));
      ax1 = wasm_f32x4_add(ax1, wasm_f32x4_mul(wasm_f32x4_mul(g1, wasm_f32x4_sub(wasm_v128_load(x + j + 4), mv)), rv));
      ay0 = wasm_f32x4_add(ay0, g0);
      ay1 = wasm_f32x4_add(ay1, g1);
    }
    for (; j + 4 <= hw; j += 4) {
      v128_t g0 = wasm_v128_load(dy + j);
      ax0 = wasm_f32x4_add(ax0, wasm_f32x4_mul(wasm_f32x4_mul(g0, wasm_f32x4_sub(wasm_v128_load(x + j), mv)), rv));
      ay0 = wasm_f32x4_add(ay0, g0);
    }
    float tx = 0.0f, ty = 0.0f;
    for (; j < hw; j++) {
      tx += dy[j] * (x[j] - mean) * rstd;
      ty += dy[j];
    }
    a->p[plane] = nm_hsum(wasm_f32x4_add(ax0, ax1)) + tx;
    a->p[planes + plane] = nm_hsum(wasm_f32x4_add(ay0, ay1)) + ty;
  }
}
