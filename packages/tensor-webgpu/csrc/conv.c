// Layout kernels that lower the convolutions to the packed GEMM of matmul.c: im2col (convolution and
// transposed-convolution taps), the transposed-convolution weight reorder, and NCHW → CNHW for dy.
// Each thread writes whole rows of the destination, so results never depend on the thread count.
#include "common.h"
#include "mathf.h"

static float conv_h2f(uint16_t h) {
  uint32_t s = (uint32_t)(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1fu) return bits_to_f(s | 0x7f800000u | (m << 13));
  if (e == 0) return bits_to_f(s | f_to_bits((float)m * 5.9604644775390625e-08f));
  return bits_to_f(s | ((e + 112u) << 23) | (m << 13));
}

EXPORT(k_conv_im2col) void k_conv_im2col(const struct conv_im2col_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t kk = a->kh * a->kw, hwo = a->ho * a->wo, L = a->nimg * hwo;
  const int32_t H = (int32_t)a->h, W = (int32_t)a->w, WO = (int32_t)a->wo;
  const int32_t sh = (int32_t)a->sh, sw = (int32_t)a->sw;
  range_t r = split(a->cin * kk, tid, nthreads);
  for (uint32_t row = r.begin; row < r.end; row++) {
    const uint32_t c = row / kk, t = row % kk;
    const int32_t th = (int32_t)((t / a->kw) * a->dh), tw = (int32_t)((t % a->kw) * a->dw);
    float *dst = a->col + (size_t)row * L;
    for (uint32_t img = 0; img < a->nimg; img++) {
      const float *plane = a->x + ((size_t)img * a->cin + c) * a->h * a->w;
      for (uint32_t oh = 0; oh < a->ho; oh++, dst += a->wo) {
        int32_t ih;
        if (a->tconv) {
          int32_t q = (int32_t)oh + (int32_t)a->ph - th;
          ih = q >= 0 && q % sh == 0 ? q / sh : -1;
        } else {
          ih = (int32_t)oh * sh + th - (int32_t)a->ph;
        }
        if (ih < 0 || ih >= H) {
          for (int32_t ow = 0; ow < WO; ow++) dst[ow] = 0.0f;
          continue;
        }
        const float *src = plane + (size_t)ih * a->w;
        if (a->tconv) {
          for (int32_t ow = 0; ow < WO; ow++) {
            int32_t q = ow + (int32_t)a->pw - tw;
            int32_t iw = q >= 0 && q % sw == 0 ? q / sw : -1;
            dst[ow] = iw >= 0 && iw < W ? src[iw] : 0.0f;
          }
          continue;
        }
        // iw = ow·sw + off is inside [0, W) for ow in [lo, hi).
        const int32_t off = tw - (int32_t)a->pw;
        int32_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
        int32_t hi = W - off > 0 ? (W - off + sw - 1) / sw : 0;
        if (hi > WO) hi = WO;
        if (lo > hi) lo = hi;
        for (int32_t ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
        if (sw == 1) {
          const float *s = src + off;
          for (int32_t ow = lo; ow < hi; ow++) dst[ow] = s[ow];
        } else {
          for (int32_t ow = lo; ow < hi; ow++) dst[ow] = src[ow * sw + off];
        }
        for (int32_t ow = hi; ow < WO; ow++) dst[ow] = 0.0f;
      }
    }
  }
}

EXPORT(k_conv_tweight) void k_conv_tweight(const struct conv_tweight_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t kk = a->kk, K = a->cing * kk;
  range_t r = split(a->groups * a->coutg, tid, nthreads);
  for (uint32_t row = r.begin; row < r.end; row++) {
    const uint32_t g = row / a->coutg, m = row % a->coutg;
    float *dst = a->wt + (size_t)row * K;
    for (uint32_t ci = 0; ci < a->cing; ci++) {
      size_t src = ((size_t)(g * a->cing + ci) * a->coutg + m) * kk;
      if (a->half) {
        const uint16_t *w = (const uint16_t *)a->w + src;
        for (uint32_t t = 0; t < kk; t++) dst[ci * kk + t] = conv_h2f(w[t]);
      } else {
        const float *w = (const float *)a->w + src;
        for (uint32_t t = 0; t < kk; t++) dst[ci * kk + t] = w[t];
      }
    }
  }
}

EXPORT(k_conv_nchw_cnhw) void k_conv_nchw_cnhw(const struct conv_nchw_cnhw_args *a, uint32_t tid, uint32_t nthreads) {
  range_t r = split(a->c * a->n, tid, nthreads);
  for (uint32_t row = r.begin; row < r.end; row++) {
    const uint32_t c = row / a->n, img = row % a->n;
    const float *s = a->src + ((size_t)img * a->c + c) * a->hw;
    float *d = a->dst + (size_t)row * a->hw;
    for (uint32_t p = 0; p < a->hw; p++) d[p] = s[p];
  }
}
