// Index kernels: gather (any axis, strided views, 32-bit or f16 elements) and a deterministic
// scatter-add (each destination summed by one thread, in source order).
#include "common.h"

#define GX_MAX_RANK 8

// Gather: each thread takes a contiguous share of the outputs, unravels its first index once and then
// walks the coordinates like an odometer, carrying the x and idx offsets along.
EXPORT(k_gx_gather) void k_gx_gather(const struct gx_gather_args *a, uint32_t tid, uint32_t nthreads) {
  range_t r = split(a->n, tid, nthreads);
  if (r.begin >= r.end) return;
  uint32_t rank = a->rank ? a->rank : 1;
  uint32_t shape[GX_MAX_RANK], coord[GX_MAX_RANK];
  for (uint32_t d = 0; d < rank; d++) shape[d] = a->rank ? a->shape[d] : 1;
  int32_t xo = 0, io = 0;
  uint32_t rem = r.begin;
  for (int32_t d = (int32_t)rank - 1; d >= 0; d--) {
    coord[d] = rem % shape[d];
    rem /= shape[d];
    xo += (int32_t)coord[d] * a->x_st[d];
    io += (int32_t)coord[d] * a->idx_st[d];
  }
  const uint32_t last = rank - 1;
  const uint32_t inner = shape[last];
  const int32_t xs = a->x_st[last], is = a->idx_st[last], ax = a->x_axis_st;
  uint32_t i = r.begin;
  while (i < r.end) {
    // The rest of the current innermost row, then one carry.
    uint32_t run = inner - coord[last];
    if (run > r.end - i) run = r.end - i;
    if (is == 0 && xs == 1) {
      // One index for the whole run (index_select along an outer axis, embeddings): a row copy.
      int32_t id = a->idx[io];
      uint8_t *out = a->out + (size_t)i * a->esize;
      if (id < 0 || (uint32_t)id >= a->axis_size) {
        for (uint32_t k = 0; k < run * a->esize; k++) out[k] = 0;
      } else {
        const uint8_t *x = a->x + (size_t)(xo + id * ax) * a->esize;
        for (uint32_t k = 0; k < run * a->esize; k++) out[k] = x[k];
      }
    } else if (a->esize == 4) {
      const uint32_t *x = (const uint32_t *)a->x;
      uint32_t *out = (uint32_t *)a->out + i;
      for (uint32_t k = 0; k < run; k++) {
        int32_t id = a->idx[io + (int32_t)k * is];
        out[k] = (id < 0 || (uint32_t)id >= a->axis_size) ? 0u : x[xo + (int32_t)k * xs + id * ax];
      }
    } else {
      const uint16_t *x = (const uint16_t *)a->x;
      uint16_t *out = (uint16_t *)a->out + i;
      for (uint32_t k = 0; k < run; k++) {
        int32_t id = a->idx[io + (int32_t)k * is];
        out[k] = (id < 0 || (uint32_t)id >= a->axis_size) ? (uint16_t)0 : x[xo + (int32_t)k * xs + id * ax];
      }
    }
    i += run;
    if (i >= r.end) break;
    xo += (int32_t)run * xs;
    io += (int32_t)run * is;
    coord[last] += run;
    for (int32_t d = (int32_t)last; d > 0 && coord[d] == shape[d]; d--) {
      xo -= (int32_t)shape[d] * a->x_st[d];
      io -= (int32_t)shape[d] * a->idx_st[d];
      coord[d] = 0;
      coord[d - 1]++;
      xo += a->x_st[d - 1];
      io += a->idx_st[d - 1];
    }
  }
}

// Scatter-add: the coordinates off the axis ("lanes") name disjoint sets of destinations, so threads
// split the lanes; within a lane the source is walked along the axis in order. Lanes that are
// neighbours in the innermost off-axis dim are processed together, so the inner loop is contiguous.
EXPORT(k_gx_scatter_add) void k_gx_scatter_add(const struct gx_scatter_add_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t rank = a->rank, axis = a->axis;
  // Off-axis dims, outermost first.
  uint32_t dims[GX_MAX_RANK], nd = 0, lanes = 1;
  for (uint32_t d = 0; d < rank; d++) {
    if (d == axis) continue;
    dims[nd++] = d;
    lanes *= a->shape[d];
  }
  const uint32_t along = a->shape[axis];
  if (lanes == 0 || along == 0) return;
  range_t r = split(lanes, tid, nthreads);
  // The innermost off-axis dim (runs of lanes), or a single lane when the axis is the only dim.
  const uint32_t in_dim = nd ? dims[nd - 1] : 0;
  const uint32_t in_n = nd ? a->shape[in_dim] : 1;
  const int32_t s_in = nd ? a->src_st[in_dim] : 0, i_in = nd ? a->idx_st[in_dim] : 0, o_in = nd ? a->out_st[in_dim] : 0;
  const int32_t s_ax = a->src_st[axis], i_ax = a->idx_st[axis], o_ax = a->out_st[axis];
  uint32_t k = r.begin;
  while (k < r.end) {
    uint32_t t0 = k % in_n;
    uint32_t run = in_n - t0;
    if (run > r.end - k) run = r.end - k;
    // Offsets of lane k.
    int32_t so = 0, io = 0, oo = 0;
    uint32_t rem = k;
    for (int32_t j = (int32_t)nd - 1; j >= 0; j--) {
      uint32_t d = dims[j];
      uint32_t c = rem % a->shape[d];
      rem /= a->shape[d];
      so += (int32_t)c * a->src_st[d];
      io += (int32_t)c * a->idx_st[d];
      oo += (int32_t)c * a->out_st[d];
    }
    for (uint32_t j = 0; j < along; j++) {
      const uint32_t *src = a->src + so + (int32_t)j * s_ax;
      const int32_t *idx = a->idx + io + (int32_t)j * i_ax;
      if (a->is_float) {
        float *out = (float *)a->out + oo;
        const float *s = (const float *)src;
        for (uint32_t t = 0; t < run; t++) {
          int32_t id = idx[(int32_t)t * i_in];
          if (id < 0 || (uint32_t)id >= a->axis_size) continue;
          out[(int32_t)t * o_in + id * o_ax] += s[(int32_t)t * s_in];
        }
      } else {
        uint32_t *out = a->out + oo;
        for (uint32_t t = 0; t < run; t++) {
          int32_t id = idx[(int32_t)t * i_in];
          if (id < 0 || (uint32_t)id >= a->axis_size) continue;
          out[(int32_t)t * o_in + id * o_ax] += src[(int32_t)t * s_in];
        }
      }
    }
    k += run;
  }
}
