// Image kernels on NCHW planes: average pooling (forward, and a backward that gathers from the
// windows covering each input pixel), nearest/bilinear resizing (forward, and a backward that
// re-evaluates the forward weights of the few outputs near each input pixel), and RGB8 frames to
// planar f32 with box downscaling. Every output is written by one thread (threads split output rows),
// so results do not depend on the thread count.
#include "common.h"
#include "mathf.h"

// Same expressions as the WGSL kernels, evaluated in the same order.
#pragma clang fp reassociate(off)

INLINE int32_t img_max(int32_t a, int32_t b) { return a > b ? a : b; }
INLINE int32_t img_min(int32_t a, int32_t b) { return a < b ? a : b; }

EXPORT(k_img_avgpool) void k_img_avgpool(const struct img_avgpool_args *a, uint32_t tid, uint32_t nthreads) {
  const int32_t h = (int32_t)a->h, w = (int32_t)a->w, ho = (int32_t)a->ho, wo = (int32_t)a->wo;
  const int32_t kh = (int32_t)a->kh, kw = (int32_t)a->kw, sh = (int32_t)a->sh, sw = (int32_t)a->sw;
  const int32_t ph = (int32_t)a->ph, pw = (int32_t)a->pw;
  const float div = (float)(a->kh * a->kw);
  if (!a->backward) {
    range_t r = split(a->planes * a->ho, tid, nthreads);
    for (uint32_t row = r.begin; row < r.end; row++) {
      const uint32_t p = row / a->ho;
      const int32_t oh = (int32_t)(row % a->ho);
      const float *x = a->x + (size_t)p * a->h * a->w;
      float *y = a->y + (size_t)row * a->wo;
      const int32_t h0 = oh * sh - ph;
      const int32_t i0 = img_max(h0, 0), i1 = img_min(h0 + kh, h);
      for (int32_t ow = 0; ow < wo; ow++) {
        const int32_t w0 = ow * sw - pw;
        const int32_t j0 = img_max(w0, 0), j1 = img_min(w0 + kw, w);
        float acc = 0.0f;
        for (int32_t i = i0; i < i1; i++)
          for (int32_t j = j0; j < j1; j++) acc += x[i * w + j];
        y[ow] = acc / div;
      }
    }
    return;
  }
  // Backward: dx[ih, iw] = Σ dy / (kh·kw) over the windows oh with oh·s − pad ≤ ih < oh·s − pad + k.
  // (a + s) / s equals ⌊a / s⌋ + 1 whenever a + s ≥ 0; smaller numerators are clamped to 0 anyway.
  range_t r = split(a->planes * a->h, tid, nthreads);
  for (uint32_t row = r.begin; row < r.end; row++) {
    const uint32_t p = row / a->h;
    const int32_t ih = (int32_t)(row % a->h);
    const float *dy = a->x + (size_t)p * a->ho * a->wo;
    float *dx = a->y + (size_t)row * a->w;
    const int32_t oh_lo = img_max(0, (ih + ph - kh + sh) / sh), oh_hi = img_min(ho - 1, (ih + ph) / sh);
    for (int32_t iw = 0; iw < w; iw++) {
      const int32_t ow_lo = img_max(0, (iw + pw - kw + sw) / sw), ow_hi = img_min(wo - 1, (iw + pw) / sw);
      float acc = 0.0f;
      for (int32_t oh = oh_lo; oh <= oh_hi; oh++)
        for (int32_t ow = ow_lo; ow <= ow_hi; ow++) acc += dy[oh * wo + ow];
      dx[iw] = acc / div;
    }
  }
}

// Candidate outputs whose weights a backward row caches.
#define IMG_CACHE 64

// The two taps of output index d along an axis of n inputs, and their weights (nearest: one tap).
typedef struct { uint32_t i0, i1; float w0, w1; } img_taps;

static img_taps img_taps_of(uint32_t mode, uint32_t d, uint32_t n, float scale) {
  img_taps t;
  if (mode == 0) {
    float s = (float)d * scale;
    uint32_t i = (uint32_t)floor_f(s);
    if (i > n - 1) i = n - 1;
    t.i0 = t.i1 = i;
    t.w0 = 1.0f;
    t.w1 = 0.0f;
    return t;
  }
  float s = mode == 2 ? (float)d * scale : scale * ((float)d + 0.5f) - 0.5f;
  if (mode == 1 && !(s > 0.0f)) s = 0.0f;
  uint32_t i0 = (uint32_t)floor_f(s);
  if (i0 > n - 1) i0 = n - 1;
  t.i0 = i0;
  t.i1 = i0 + 1 < n ? i0 + 1 : i0;
  float l1 = s - (float)i0;
  t.w0 = 1.0f - l1;
  t.w1 = l1;
  return t;
}

// Weight with which output index d reads input index i.
static float img_weight(uint32_t mode, uint32_t d, uint32_t i, uint32_t n, float scale) {
  img_taps t = img_taps_of(mode, d, n, scale);
  return (t.i0 == i ? t.w0 : 0.0f) + (t.i1 == i ? t.w1 : 0.0f);
}

// Output indices whose source coordinate can touch input i (a superset, with a margin of 2).
static void img_candidates(uint32_t mode, uint32_t i, uint32_t n_out, float scale, int32_t *lo, int32_t *hi) {
  if (!(scale > 0.0f)) {
    *lo = 0;
    *hi = (int32_t)n_out - 1;
    return;
  }
  float c0 = mode == 1 ? 0.5f * scale - 0.5f : 0.0f;
  int32_t l = (int32_t)floor_f(((float)i - 1.0f - c0) / scale) - 2;
  int32_t h = (int32_t)__builtin_ceilf(((float)i + 1.0f - c0) / scale) + 2;
  *lo = img_max(l, 0);
  *hi = img_min(h, (int32_t)n_out - 1);
}

EXPORT(k_img_resize) void k_img_resize(const struct img_resize_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t mode = a->mode, in_h = a->in_h, in_w = a->in_w, out_h = a->out_h, out_w = a->out_w;
  const float sh = a->scale_h, sw = a->scale_w;
  if (!a->backward) {
    range_t r = split(a->planes * out_h, tid, nthreads);
    for (uint32_t row = r.begin; row < r.end; row++) {
      const uint32_t p = row / out_h, oh = row % out_h;
      const float *x = a->x + (size_t)p * in_h * in_w;
      float *y = a->y + (size_t)row * out_w;
      img_taps th = img_taps_of(mode, oh, in_h, sh);
      const float *r0 = x + th.i0 * in_w, *r1 = x + th.i1 * in_w;
      if (mode == 0) {
        // Nearest copies (a weight-0 second tap would turn an infinite input into NaN).
        for (uint32_t ow = 0; ow < out_w; ow++) y[ow] = r0[img_taps_of(0, ow, in_w, sw).i0];
        continue;
      }
      for (uint32_t ow = 0; ow < out_w; ow++) {
        img_taps tw = img_taps_of(mode, ow, in_w, sw);
        float top = tw.w0 * r0[tw.i0] + tw.w1 * r0[tw.i1];
        float bottom = tw.w0 * r1[tw.i0] + tw.w1 * r1[tw.i1];
        y[ow] = th.w0 * top + th.w1 * bottom;
      }
    }
    return;
  }
  range_t r = split(a->planes * in_h, tid, nthreads);
  for (uint32_t row = r.begin; row < r.end; row++) {
    const uint32_t p = row / in_h, ih = row % in_h;
    const float *dy = a->x + (size_t)p * out_h * out_w;
    float *dx = a->y + (size_t)row * in_w;
    int32_t h_lo, h_hi;
    img_candidates(mode, ih, out_h, sh, &h_lo, &h_hi);
    // Row weights of this input row, when the candidate range is small (it is unless upscaling by
    // more than ~30x); the column weights likewise per input column.
    float hcache[IMG_CACHE];
    const int cache_h = h_hi - h_lo < IMG_CACHE;
    if (cache_h)
      for (int32_t oh = h_lo; oh <= h_hi; oh++) hcache[oh - h_lo] = img_weight(mode, (uint32_t)oh, ih, in_h, sh);
    for (uint32_t iw = 0; iw < in_w; iw++) {
      int32_t w_lo, w_hi;
      img_candidates(mode, iw, out_w, sw, &w_lo, &w_hi);
      float wcache[IMG_CACHE];
      const int cache_w = w_hi - w_lo < IMG_CACHE;
      if (cache_w)
        for (int32_t ow = w_lo; ow <= w_hi; ow++) wcache[ow - w_lo] = img_weight(mode, (uint32_t)ow, iw, in_w, sw);
      float acc = 0.0f;
      for (int32_t oh = h_lo; oh <= h_hi; oh++) {
        float wh = cache_h ? hcache[oh - h_lo] : img_weight(mode, (uint32_t)oh, ih, in_h, sh);
        if (wh == 0.0f) continue;
        const float *dyr = dy + (uint32_t)oh * out_w;
        for (int32_t ow = w_lo; ow <= w_hi; ow++) {
          float ww = cache_w ? wcache[ow - w_lo] : img_weight(mode, (uint32_t)ow, iw, in_w, sw);
          if (ww != 0.0f) acc += wh * ww * dyr[ow];
        }
      }
      dx[iw] = acc;
    }
  }
}

EXPORT(k_img_rgb_planar) void k_img_rgb_planar(const struct img_rgb_planar_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t h = a->h, w = a->w, box = a->box, oh = a->oh, ow = a->ow;
  const float scale = a->scale;
  // Rows of the output: (frame, channel, output row).
  range_t r = split(a->n * 3u * oh, tid, nthreads);
  for (uint32_t row = r.begin; row < r.end; row++) {
    const uint32_t oy = row % oh, c = (row / oh) % 3u, n = row / (oh * 3u);
    float *out = a->out + (size_t)row * ow;
    const uint8_t *src = a->src + ((size_t)(n * h + oy * box) * w) * 3u + c;
    if (box == 1) {
      for (uint32_t ox = 0; ox < ow; ox++) out[ox] = (float)src[ox * 3u] * scale;
      continue;
    }
    for (uint32_t ox = 0; ox < ow; ox++) {
      // Summed in the WGSL kernel's order (byte sums are exact in f32 up to 65793 bytes per box).
      float sum = 0.0f;
      for (uint32_t dy = 0; dy < box; dy++) {
        const uint8_t *s = src + ((size_t)dy * w + ox * box) * 3u;
        for (uint32_t dx = 0; dx < box; dx++) sum += (float)s[dx * 3u];
      }
      out[ox] = sum * scale;
    }
  }
}
