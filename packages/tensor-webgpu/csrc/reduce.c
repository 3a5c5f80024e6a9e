// Reductions (sum, max, min, argmax, argmin over any set of strided axes), softmax / logSoftmax and
// cumsum along one axis.
//
// Determinism: a value never depends on how rows are split over threads. A float sum is defined by
// the layout alone: the reduction index is cut into chunks of a fixed length, each chunk is summed in a
// fixed order, and the chunk sums are combined pairwise in a fixed tree. A whole row on one thread and
// a row whose chunks were summed by several threads (mode 1, then mode 2) give the same bits.
// max / min / integer sums / argmax / argmin are exact and order-independent.
//
// Layouts: "row" reductions walk a row's reduced elements with SIMD loads when the innermost reduced
// dim is contiguous; "column" reductions (innermost kept dim contiguous, reduced dims strided; the TS
// side decides and passes `col`) take 16 or 4 adjacent rows per pass, one per lane, each lane
// combining its elements in sequence, so a row computed alone (a splat in every lane) gives the same
// bits as one computed in a group.
//
// The order of float operations is the definition of each result: no reassociation, in this file
// or in the SIMD intrinsics it inlines (the pragma comes before the headers that define them).
#pragma clang fp reassociate(off)
#include "common.h"
#include "mathf.h"

enum {
  R_SUM_F, R_SUM_I, R_MAX_F, R_MIN_F, R_MAX_I, R_MIN_I, R_MAX_U, R_MIN_U,
  R_ARGMAX_F, R_ARGMIN_F, R_ARGMAX_I, R_ARGMIN_I, R_ARGMAX_U, R_ARGMIN_U, R_OPS
};

#define RED_MAX_RANK 8

INLINE int red_is_arg(uint32_t op) { return op >= R_ARGMAX_F; }

INLINE v128_t red_identity(uint32_t op) {
  switch (op) {
    case R_SUM_F: return wasm_f32x4_splat(0.0f);
    case R_MAX_F: return wasm_f32x4_splat(-inf_f());
    case R_MIN_F: return wasm_f32x4_splat(inf_f());
    case R_MAX_I: return wasm_i32x4_splat(INT32_MIN);
    case R_MIN_I: return wasm_i32x4_splat(INT32_MAX);
    case R_MIN_U: return wasm_i32x4_splat(-1);
    default: return wasm_i32x4_splat(0); // integer sums, unsigned max
  }
}

// NaN lanes of v (a bit test).
INLINE v128_t red_nan(v128_t v) {
  return wasm_u32x4_gt(wasm_v128_and(v, wasm_i32x4_splat(0x7fffffff)), wasm_i32x4_splat(0x7f800000));
}

// max / min skip NaN like the WGSL kernels on WebGPU (a row of NaN only gives ∓inf, the identity):
// a NaN b is replaced by a, which never holds NaN. f32x4.max/min order -0 below +0, so the result
// is exact and independent of the order of the operands.
INLINE v128_t red_comb(uint32_t op, v128_t a, v128_t b) {
  switch (op) {
    case R_SUM_F: return wasm_f32x4_add(a, b);
    case R_SUM_I: return wasm_i32x4_add(a, b);
    case R_MAX_F: return wasm_f32x4_max(a, wasm_v128_bitselect(a, b, red_nan(b)));
    case R_MIN_F: return wasm_f32x4_min(a, wasm_v128_bitselect(a, b, red_nan(b)));
    case R_MAX_I: return wasm_i32x4_max(a, b);
    case R_MIN_I: return wasm_i32x4_min(a, b);
    case R_MAX_U: return wasm_u32x4_max(a, b);
    default: return wasm_u32x4_min(a, b);
  }
}

// argmax / argmin maximise an unsigned key, ties to the smaller index. Float keys order the values
// (−0 = +0) and give NaN the key 0, below every number: NaN never wins, as in the WGSL comparison,
// and a row of NaN only (best key 0) reports -1 like the WGSL initial index.
INLINE v128_t red_key(uint32_t op, v128_t v) {
  const v128_t sign_bit = wasm_i32x4_splat((int32_t)0x80000000u);
  switch (op) {
    case R_ARGMAX_F:
    case R_ARGMIN_F: {
      v128_t nan = red_nan(v);
      v = wasm_v128_andnot(v, wasm_i32x4_eq(wasm_v128_and(v, wasm_i32x4_splat(0x7fffffff)), wasm_i32x4_splat(0)));
      v128_t k = wasm_v128_xor(v, wasm_v128_or(wasm_i32x4_shr(v, 31), sign_bit));
      if (op == R_ARGMIN_F) k = wasm_v128_not(k);
      return wasm_v128_andnot(k, nan);
    }
    case R_ARGMAX_I: return wasm_v128_xor(v, sign_bit);
    case R_ARGMIN_I: return wasm_v128_not(wasm_v128_xor(v, sign_bit));
    case R_ARGMAX_U: return v;
    default: return wasm_v128_not(v);
  }
}

typedef struct { v128_t key, idx; } red_arg_t;

INLINE red_arg_t red_arg_identity(void) {
  red_arg_t r = { wasm_i32x4_splat(0), wasm_i32x4_splat(-1) };
  return r;
}

INLINE red_arg_t red_better(red_arg_t b, v128_t k, v128_t i) {
  v128_t take = wasm_v128_or(wasm_u32x4_gt(k, b.key), wasm_v128_and(wasm_i32x4_eq(k, b.key), wasm_u32x4_lt(i, b.idx)));
  b.key = wasm_v128_bitselect(k, b.key, take);
  b.idx = wasm_v128_bitselect(i, b.idx, take);
  return b;
}

// Lane 0 (and every lane) of the result combines the four lanes as (l0 ∘ l1) ∘ (l2 ∘ l3).
INLINE v128_t red_hcomb(uint32_t op, v128_t v) {
  v = red_comb(op, v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return red_comb(op, v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
}

INLINE red_arg_t red_arg_hcomb(red_arg_t b) {
  b = red_better(b, wasm_i32x4_shuffle(b.key, b.key, 1, 0, 3, 2), wasm_i32x4_shuffle(b.idx, b.idx, 1, 0, 3, 2));
  return red_better(b, wasm_i32x4_shuffle(b.key, b.key, 2, 3, 0, 1), wasm_i32x4_shuffle(b.idx, b.idx, 2, 3, 0, 1));
}

// Odometer over a strided index space: coordinates and the element offset they address.
typedef struct {
  uint32_t c[RED_MAX_RANK];
  uint32_t off;
} red_pos_t;

INLINE red_pos_t red_unravel(uint32_t k, uint32_t rank, const uint32_t *shape, const uint32_t *st) {
  red_pos_t p;
  p.off = 0;
  for (int d = (int)rank - 1; d >= 0; d--) {
    p.c[d] = k % shape[d];
    k /= shape[d];
    p.off += p.c[d] * st[d];
  }
  return p;
}

// Moves the innermost coordinate on by n (it stays within its dim, or reaches its end and carries).
INLINE void red_advance(red_pos_t *p, uint32_t n, uint32_t rank, const uint32_t *shape, const uint32_t *st) {
  int d = (int)rank - 1;
  p->c[d] += n;
  p->off += n * st[d];
  while (p->c[d] == shape[d] && d > 0) {
    p->off -= shape[d] * st[d];
    p->c[d] = 0;
    d--;
    p->c[d]++;
    p->off += st[d];
  }
}

// Pairwise combination of chunk values in a fixed tree: push each value, merging equal levels.
typedef struct {
  v128_t v[32];
  uint32_t level[32];
  int top;
} red_stack_t;

INLINE void red_push(red_stack_t *s, uint32_t op, v128_t v) {
  uint32_t level = 0;
  while (s->top > 0 && s->level[s->top - 1] == level) {
    v = red_comb(op, s->v[s->top - 1], v);
    s->top--;
    level++;
  }
  s->v[s->top] = v;
  s->level[s->top] = level;
  s->top++;
}

INLINE v128_t red_pop_all(red_stack_t *s, uint32_t op) {
  if (s->top == 0) return red_identity(op);
  v128_t v = s->v[s->top - 1];
  for (int i = s->top - 2; i >= 0; i--) v = red_comb(op, s->v[i], v);
  return v;
}

// ---- row layout: the value (in every lane) of reduction indices [k0, k1) of the row at p.
INLINE v128_t red_row_span(uint32_t op, const struct red_reduce_args *a, const uint32_t *p, uint32_t k0, uint32_t k1) {
  const uint32_t R = a->red_rank, last = R - 1;
  const uint32_t s = a->red_st[last], n0 = a->red_shape[last];
  red_pos_t pos = red_unravel(k0, R, a->red_shape, a->red_st);
  v128_t a0 = red_identity(op), a1 = a0, a2 = a0, a3 = a0, tail = a0;
  for (uint32_t k = k0; k < k1;) {
    uint32_t run = n0 - pos.c[last];
    if (run > k1 - k) run = k1 - k;
    const uint32_t *q = p + pos.off;
    uint32_t j = 0;
    if (s == 1) {
      for (; j + 16 <= run; j += 16) {
        a0 = red_comb(op, a0, wasm_v128_load(q + j));
        a1 = red_comb(op, a1, wasm_v128_load(q + j + 4));
        a2 = red_comb(op, a2, wasm_v128_load(q + j + 8));
        a3 = red_comb(op, a3, wasm_v128_load(q + j + 12));
      }
      for (; j + 4 <= run; j += 4) a0 = red_comb(op, a0, wasm_v128_load(q + j));
    } else {
      for (; j + 4 <= run; j += 4) {
        const uint32_t *r = q + j * s;
        a0 = red_comb(op, a0, wasm_u32x4_make(r[0], r[s], r[2 * s], r[3 * s]));
      }
    }
    for (; j < run; j++) tail = red_comb(op, tail, wasm_v128_load32_splat(q + j * s));
    k += run;
    if (k < k1) red_advance(&pos, run, R, a->red_shape, a->red_st);
  }
  v128_t v = red_hcomb(op, red_comb(op, red_comb(op, a0, a1), red_comb(op, a2, a3)));
  return red_comb(op, v, tail);
}

INLINE red_arg_t red_row_span_arg(uint32_t op, const struct red_reduce_args *a, const uint32_t *p, uint32_t k0, uint32_t k1) {
  const uint32_t R = a->red_rank, last = R - 1;
  const uint32_t s = a->red_st[last], n0 = a->red_shape[last];
  red_pos_t pos = red_unravel(k0, R, a->red_shape, a->red_st);
  red_arg_t b0 = red_arg_identity(), b1 = b0;
  const v128_t iota = wasm_i32x4_make(0, 1, 2, 3);
  for (uint32_t k = k0; k < k1;) {
    uint32_t run = n0 - pos.c[last];
    if (run > k1 - k) run = k1 - k;
    const uint32_t *q = p + pos.off;
    uint32_t j = 0;
    if (s == 1) {
      for (; j + 8 <= run; j += 8) {
        v128_t i0 = wasm_i32x4_add(wasm_i32x4_splat((int32_t)(k + j)), iota);
        b0 = red_better(b0, red_key(op, wasm_v128_load(q + j)), i0);
        b1 = red_better(b1, red_key(op, wasm_v128_load(q + j + 4)), wasm_i32x4_add(i0, wasm_i32x4_splat(4)));
      }
      for (; j + 4 <= run; j += 4)
        b0 = red_better(b0, red_key(op, wasm_v128_load(q + j)), wasm_i32x4_add(wasm_i32x4_splat((int32_t)(k + j)), iota));
    } else {
      for (; j + 4 <= run; j += 4) {
        const uint32_t *r = q + j * s;
        v128_t v = wasm_u32x4_make(r[0], r[s], r[2 * s], r[3 * s]);
        b0 = red_better(b0, red_key(op, v), wasm_i32x4_add(wasm_i32x4_splat((int32_t)(k + j)), iota));
      }
    }
    for (; j < run; j++) b1 = red_better(b1, red_key(op, wasm_v128_load32_splat(q + j * s)), wasm_i32x4_splat((int32_t)(k + j)));
    k += run;
    if (k < k1) red_advance(&pos, run, R, a->red_shape, a->red_st);
  }
  b0 = red_better(b0, b1.key, b1.idx);
  return red_arg_hcomb(b0);
}

// ---- column layout: lane j holds row j of a group of `width` adjacent rows (16 or 4: four or one
// vectors), or (width 1) the one row at p in every lane; each lane combines its elements in index
// order, so a row has the same bits in any group.
INLINE void red_col_span(uint32_t op, const struct red_reduce_args *a, const uint32_t *p, uint32_t k0, uint32_t k1, int width, v128_t *out) {
  const uint32_t R = a->red_rank, last = R - 1;
  const uint32_t s = a->red_st[last], n0 = a->red_shape[last];
  red_pos_t pos = red_unravel(k0, R, a->red_shape, a->red_st);
  v128_t a0 = red_identity(op), a1 = a0, a2 = a0, a3 = a0;
  for (uint32_t k = k0; k < k1;) {
    uint32_t run = n0 - pos.c[last];
    if (run > k1 - k) run = k1 - k;
    const uint32_t *q = p + pos.off;
    if (width == 16) {
      for (uint32_t j = 0; j < run; j++) {
        const uint32_t *e = q + j * s;
        a0 = red_comb(op, a0, wasm_v128_load(e));
        a1 = red_comb(op, a1, wasm_v128_load(e + 4));
        a2 = red_comb(op, a2, wasm_v128_load(e + 8));
        a3 = red_comb(op, a3, wasm_v128_load(e + 12));
      }
    } else if (width == 4) {
      for (uint32_t j = 0; j < run; j++) a0 = red_comb(op, a0, wasm_v128_load(q + j * s));
    } else {
      for (uint32_t j = 0; j < run; j++) a0 = red_comb(op, a0, wasm_v128_load32_splat(q + j * s));
    }
    k += run;
    if (k < k1) red_advance(&pos, run, R, a->red_shape, a->red_st);
  }
  out[0] = a0;
  out[1] = a1;
  out[2] = a2;
  out[3] = a3;
}

INLINE red_arg_t red_col_span_arg(uint32_t op, const struct red_reduce_args *a, const uint32_t *p, uint32_t k0, uint32_t k1, int wide) {
  const uint32_t R = a->red_rank, last = R - 1;
  const uint32_t s = a->red_st[last], n0 = a->red_shape[last];
  red_pos_t pos = red_unravel(k0, R, a->red_shape, a->red_st);
  red_arg_t b = red_arg_identity();
  for (uint32_t k = k0; k < k1;) {
    uint32_t run = n0 - pos.c[last];
    if (run > k1 - k) run = k1 - k;
    const uint32_t *q = p + pos.off;
    for (uint32_t j = 0; j < run; j++) {
      v128_t v = wide ? wasm_v128_load(q + j * s) : wasm_v128_load32_splat(q + j * s);
      b = red_better(b, red_key(op, v), wasm_i32x4_splat((int32_t)(k + j)));
    }
    k += run;
    if (k < k1) red_advance(&pos, run, R, a->red_shape, a->red_st);
  }
  return b;
}

INLINE red_arg_t red_span_arg(uint32_t op, const struct red_reduce_args *a, const uint32_t *p, uint32_t k0, uint32_t k1, int col, int wide) {
  return col ? red_col_span_arg(op, a, p, k0, k1, wide) : red_row_span_arg(op, a, p, k0, k1);
}

// ---- writing results: `n` lanes (rows r .. r + n - 1, n = 1 or 4) of a value.
INLINE void red_write_val(uint32_t op, const struct red_reduce_args *a, uint32_t r, v128_t v, uint32_t n) {
  if (op == R_SUM_F) v = wasm_f32x4_mul(v, wasm_f32x4_splat(a->scale));
  if (n == 4) wasm_v128_store(a->dst + r, v);
  else wasm_v128_store32_lane(a->dst + r, v, 0);
}

INLINE void red_write_arg(uint32_t op, const struct red_reduce_args *a, uint32_t r, red_arg_t b, uint32_t n) {
  v128_t out = b.idx;
  if (op == R_ARGMAX_F || op == R_ARGMIN_F) out = wasm_v128_or(out, wasm_i32x4_eq(b.key, wasm_i32x4_splat(0)));
  if (n == 4) wasm_v128_store(a->dst + r, out);
  else wasm_v128_store32_lane(a->dst + r, out, 0);
}

// The value of a whole row: chunk values combined pairwise for float sums, one span otherwise (exact
// operations give the same bits in any grouping).
INLINE v128_t red_row_whole(uint32_t op, const struct red_reduce_args *a, const uint32_t *p) {
  if (op != R_SUM_F) return red_row_span(op, a, p, 0, a->len);
  red_stack_t st;
  st.top = 0;
  for (uint32_t c = 0; c < a->chunks; c++) {
    uint32_t k0 = c * a->chunk, k1 = k0 + a->chunk;
    if (k1 > a->len) k1 = a->len;
    red_push(&st, op, red_row_span(op, a, p, k0, k1));
  }
  return red_pop_all(&st, op);
}

// The same for a group of `width` rows in the column layout (one stack per vector).
INLINE void red_col_whole(uint32_t op, const struct red_reduce_args *a, const uint32_t *p, int width, v128_t *out) {
  if (op != R_SUM_F) {
    red_col_span(op, a, p, 0, a->len, width, out);
    return;
  }
  const int nv = width == 16 ? 4 : 1;
  red_stack_t st[4];
  for (int i = 0; i < nv; i++) st[i].top = 0;
  for (uint32_t c = 0; c < a->chunks; c++) {
    uint32_t k0 = c * a->chunk, k1 = k0 + a->chunk;
    if (k1 > a->len) k1 = a->len;
    v128_t v[4];
    red_col_span(op, a, p, k0, k1, width, v);
    for (int i = 0; i < nv; i++) red_push(&st[i], op, v[i]);
  }
  for (int i = 0; i < nv; i++) out[i] = red_pop_all(&st[i], op);
}

// Values of rows (whole, or of chunk k0..k1) in the column layout, specialised per group width.
INLINE void red_col_values(uint32_t op, const struct red_reduce_args *a, const uint32_t *p, int whole, uint32_t k0, uint32_t k1, int width, v128_t *out) {
  if (whole) {
    if (width == 16) red_col_whole(op, a, p, 16, out);
    else if (width == 4) red_col_whole(op, a, p, 4, out);
    else red_col_whole(op, a, p, 1, out);
  } else {
    if (width == 16) red_col_span(op, a, p, k0, k1, 16, out);
    else if (width == 4) red_col_span(op, a, p, k0, k1, 4, out);
    else red_col_span(op, a, p, k0, k1, 1, out);
  }
}

// Rows [rb, re) of chunk `chunk` (mode 1), or whole rows (chunk < 0, mode 0).
INLINE void red_rows(uint32_t op, const struct red_reduce_args *a, uint32_t rb, uint32_t re, int32_t chunk) {
  const uint32_t KR = a->kept_rank, klast = KR - 1;
  const int col = a->col != 0;
  const uint32_t kin = a->kept_shape[klast];
  uint32_t k0 = 0, k1 = a->len;
  if (chunk >= 0) {
    k0 = (uint32_t)chunk * a->chunk;
    k1 = k0 + a->chunk;
    if (k1 > a->len) k1 = a->len;
  }
  red_pos_t pos = red_unravel(rb, KR, a->kept_shape, a->kept_st);
  for (uint32_t r = rb; r < re;) {
    const uint32_t *p = a->src + pos.off;
    // Group width: 16 rows (whole cache lines) for values, 4, or 1.
    uint32_t n = 1;
    if (col && pos.c[klast] + 4 <= kin && r + 4 <= re) n = 4;
    if (n == 4 && !red_is_arg(op) && pos.c[klast] + 16 <= kin && r + 16 <= re) n = 16;
    if (red_is_arg(op)) {
      red_arg_t b = red_span_arg(op, a, p, k0, k1, col, n == 4);
      if (chunk < 0) red_write_arg(op, a, r, b, n);
      else {
        uint32_t keys[4], idx[4];
        wasm_v128_store(keys, b.key);
        wasm_v128_store(idx, b.idx);
        for (uint32_t j = 0; j < n; j++) {
          uint32_t at = 2 * ((r + j) * a->chunks + (uint32_t)chunk);
          a->part[at] = keys[j];
          a->part[at + 1] = idx[j];
        }
      }
    } else {
      v128_t v[4];
      if (col) red_col_values(op, a, p, chunk < 0, k0, k1, (int)n, v);
      else v[0] = chunk < 0 ? red_row_whole(op, a, p) : red_row_span(op, a, p, k0, k1);
      if (chunk < 0) {
        for (uint32_t i = 0; i < (n + 3) / 4; i++) red_write_val(op, a, r + 4 * i, v[i], n == 1 ? 1 : 4);
      } else {
        uint32_t lanes[16];
        for (uint32_t i = 0; i < 4; i++) wasm_v128_store(lanes + 4 * i, v[i]);
        for (uint32_t j = 0; j < n; j++) a->part[(r + j) * a->chunks + (uint32_t)chunk] = lanes[j];
      }
    }
    r += n;
    if (r < re) red_advance(&pos, n, KR, a->kept_shape, a->kept_st);
  }
}

// Mode 2: rows [rb, re) from their chunk values in `part`.
INLINE void red_combine(uint32_t op, const struct red_reduce_args *a, uint32_t rb, uint32_t re) {
  for (uint32_t r = rb; r < re; r++) {
    if (red_is_arg(op)) {
      red_arg_t b = red_arg_identity();
      const uint32_t *q = a->part + 2 * r * a->chunks;
      for (uint32_t c = 0; c < a->chunks; c++) b = red_better(b, wasm_v128_load32_splat(q + 2 * c), wasm_v128_load32_splat(q + 2 * c + 1));
      red_write_arg(op, a, r, b, 1);
    } else {
      const uint32_t *q = a->part + r * a->chunks;
      v128_t v;
      if (op == R_SUM_F) {
        red_stack_t st;
        st.top = 0;
        for (uint32_t c = 0; c < a->chunks; c++) red_push(&st, op, wasm_v128_load32_splat(q + c));
        v = red_pop_all(&st, op);
      } else {
        v = red_identity(op);
        for (uint32_t c = 0; c < a->chunks; c++) v = red_comb(op, v, wasm_v128_load32_splat(q + c));
      }
      red_write_val(op, a, r, v, 1);
    }
  }
}

INLINE void red_run(uint32_t op, const struct red_reduce_args *a, uint32_t tid, uint32_t nthreads) {
  if (a->mode == 0) {
    range_t r = split(a->rows, tid, nthreads);
    if (r.begin < r.end) red_rows(op, a, r.begin, r.end, -1);
  } else if (a->mode == 1) {
    // Items are (chunk, row), chunk-major, so that adjacent items are adjacent rows.
    range_t r = split(a->rows * a->chunks, tid, nthreads);
    if (r.begin >= r.end) return;
    for (uint32_t c = r.begin / a->rows; c <= (r.end - 1) / a->rows; c++) {
      uint32_t lo = c * a->rows, rb = r.begin > lo ? r.begin - lo : 0, re = r.end - lo < a->rows ? r.end - lo : a->rows;
      red_rows(op, a, rb, re, (int32_t)c);
    }
  } else {
    range_t r = split(a->rows, tid, nthreads);
    red_combine(op, a, r.begin, r.end);
  }
}

EXPORT(k_red_reduce) void k_red_reduce(const struct red_reduce_args *a, uint32_t tid, uint32_t nthreads) {
  // One specialised copy of the loops per operation.
  switch (a->op) {
    case R_SUM_F: red_run(R_SUM_F, a, tid, nthreads); break;
    case R_SUM_I: red_run(R_SUM_I, a, tid, nthreads); break;
    case R_MAX_F: red_run(R_MAX_F, a, tid, nthreads); break;
    case R_MIN_F: red_run(R_MIN_F, a, tid, nthreads); break;
    case R_MAX_I: red_run(R_MAX_I, a, tid, nthreads); break;
    case R_MIN_I: red_run(R_MIN_I, a, tid, nthreads); break;
    case R_MAX_U: red_run(R_MAX_U, a, tid, nthreads); break;
    case R_MIN_U: red_run(R_MIN_U, a, tid, nthreads); break;
    case R_ARGMAX_F: red_run(R_ARGMAX_F, a, tid, nthreads); break;
    case R_ARGMIN_F: red_run(R_ARGMIN_F, a, tid, nthreads); break;
    case R_ARGMAX_I: red_run(R_ARGMAX_I, a, tid, nthreads); break;
    case R_ARGMIN_I: red_run(R_ARGMIN_I, a, tid, nthreads); break;
    case R_ARGMAX_U: red_run(R_ARGMAX_U, a, tid, nthreads); break;
    case R_ARGMIN_U: red_run(R_ARGMIN_U, a, tid, nthreads); break;
    default: __builtin_trap();
  }
}

// ---------------------------------------------------------------------------------------------
// Softmax / logSoftmax along a line: max, then Σ exp(x − max), then the outputs (f32).

// exp of t = x − max (≤ 0, or NaN): exp_f4's reduction and polynomial, with the one clamp it needs
// as a pmax (a single instruction; f32x4.max is a long sequence in V8), NaN kept; below −87.34
// (where 2^n would leave the normal range) the result is 0.
INLINE v128_t sm_exp(v128_t t) {
  const v128_t lo = wasm_f32x4_splat(-87.33654022216797f);
  v128_t x = wasm_f32x4_pmax(t, lo); // t < lo ? lo : t (NaN stays NaN)
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.4426950408889634f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693145751953125f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(1.428606765330187e-06f)));
  v128_t p = wasm_f32x4_splat(0.001388888888888889f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.008333333333333333f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.041666666666666664f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.16666666666666666f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(p, e), wasm_f32x4_lt(t, lo));
}

// log of a line total (≥ 1, or NaN when the line holds NaN or +inf: then NaN).
INLINE float sm_log(float total) {
  return (f_to_bits(total) & 0x7fffffffu) > 0x7f800000u ? nan_f() : log_f(total);
}

INLINE float sm_lane(v128_t v) { return wasm_f32x4_extract_lane(v, 0); }

// Elements per block of a line's Σ exp: contiguous lines (16 lanes; a multiple of 16), strided lines.
#define SM_BLOCK 1024u
#define SM_LINE_BLOCK 64u

// A contiguous line.
static void sm_row(const float *x, float *y, uint32_t n, uint32_t logout) {
  // The max skips NaN (pmax keeps its first operand); a NaN element still makes the line NaN below.
  v128_t m0 = wasm_f32x4_splat(-inf_f()), m1 = m0, m2 = m0, m3 = m0;
  uint32_t j = 0;
  for (; j + 16 <= n; j += 16) {
    m0 = wasm_f32x4_pmax(m0, wasm_v128_load(x + j));
    m1 = wasm_f32x4_pmax(m1, wasm_v128_load(x + j + 4));
    m2 = wasm_f32x4_pmax(m2, wasm_v128_load(x + j + 8));
    m3 = wasm_f32x4_pmax(m3, wasm_v128_load(x + j + 12));
  }
  for (; j + 4 <= n; j += 4) m0 = wasm_f32x4_pmax(m0, wasm_v128_load(x + j));
  for (; j < n; j++) m1 = wasm_f32x4_pmax(m1, wasm_v128_load32_splat(x + j));
  v128_t mx = red_hcomb(R_MAX_F, wasm_f32x4_max(wasm_f32x4_pmax(m0, m1), wasm_f32x4_pmax(m2, m3)));
  // Σ exp over blocks of SM_BLOCK elements (16 lanes each), the block sums combined pairwise: long
  // lines (vocabularies) keep f32 accuracy.
  red_stack_t blocks;
  blocks.top = 0;
  v128_t st = wasm_f32x4_splat(0.0f);
  j = 0;
  while (j + 4 <= n) {
    const uint32_t end = j + SM_BLOCK < n ? j + SM_BLOCK : n;
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
    for (; j + 16 <= end; j += 16) {
      v128_t e0 = sm_exp(wasm_f32x4_sub(wasm_v128_load(x + j), mx));
      v128_t e1 = sm_exp(wasm_f32x4_sub(wasm_v128_load(x + j + 4), mx));
      v128_t e2 = sm_exp(wasm_f32x4_sub(wasm_v128_load(x + j + 8), mx));
      v128_t e3 = sm_exp(wasm_f32x4_sub(wasm_v128_load(x + j + 12), mx));
      if (!logout) {
        wasm_v128_store(y + j, e0);
        wasm_v128_store(y + j + 4, e1);
        wasm_v128_store(y + j + 8, e2);
        wasm_v128_store(y + j + 12, e3);
      }
      s0 = wasm_f32x4_add(s0, e0);
      s1 = wasm_f32x4_add(s1, e1);
      s2 = wasm_f32x4_add(s2, e2);
      s3 = wasm_f32x4_add(s3, e3);
    }
    for (; j + 4 <= end; j += 4) {
      v128_t e = sm_exp(wasm_f32x4_sub(wasm_v128_load(x + j), mx));
      if (!logout) wasm_v128_store(y + j, e);
      s0 = wasm_f32x4_add(s0, e);
    }
    red_push(&blocks, R_SUM_F, wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
  }
  for (; j < n; j++) {
    v128_t e = sm_exp(wasm_f32x4_sub(wasm_v128_load32_splat(x + j), mx));
    if (!logout) y[j] = sm_lane(e);
    st = wasm_f32x4_add(st, e);
  }
  v128_t total = wasm_f32x4_add(red_hcomb(R_SUM_F, red_pop_all(&blocks, R_SUM_F)), st);
  if (logout) {
    v128_t lt = wasm_f32x4_splat(sm_log(sm_lane(total)));
    j = 0;
    for (; j + 4 <= n; j += 4) wasm_v128_store(y + j, wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + j), mx), lt));
    for (; j < n; j++) y[j] = sm_lane(wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load32_splat(x + j), mx), lt));
  } else {
    j = 0;
    for (; j + 4 <= n; j += 4) wasm_v128_store(y + j, wasm_f32x4_div(wasm_v128_load(y + j), total));
    for (; j < n; j++) y[j] = y[j] / sm_lane(total);
  }
}

// Strided lines: `width` (16 or 4) adjacent lines, one per lane, or (width 1) one line in every lane.
INLINE v128_t sm_ld(const float *p, int width) { return width == 1 ? wasm_v128_load32_splat(p) : wasm_v128_load(p); }
INLINE void sm_st(float *p, v128_t v, int width) {
  if (width == 1) wasm_v128_store32_lane(p, v, 0);
  else wasm_v128_store(p, v);
}

INLINE void sm_lines(const float *x, float *y, uint32_t n, uint32_t is, uint32_t os, uint32_t logout, int width) {
  const int nv = width == 16 ? 4 : 1;
  v128_t mx[4], total[4];
  for (int i = 0; i < nv; i++) mx[i] = wasm_f32x4_splat(-inf_f());
  for (uint32_t k = 0; k < n; k++)
    for (int i = 0; i < nv; i++) mx[i] = wasm_f32x4_pmax(mx[i], sm_ld(x + k * is + 4 * i, width));
  // Each lane sums blocks of SM_LINE_BLOCK in sequence, the block sums pairwise.
  red_stack_t blocks[4];
  for (int i = 0; i < nv; i++) blocks[i].top = 0;
  for (uint32_t k0 = 0; k0 < n; k0 += SM_LINE_BLOCK) {
    const uint32_t k1 = k0 + SM_LINE_BLOCK < n ? k0 + SM_LINE_BLOCK : n;
    v128_t part[4];
    for (int i = 0; i < nv; i++) part[i] = wasm_f32x4_splat(0.0f);
    for (uint32_t k = k0; k < k1; k++) {
      for (int i = 0; i < nv; i++) {
        v128_t e = sm_exp(wasm_f32x4_sub(sm_ld(x + k * is + 4 * i, width), mx[i]));
        if (!logout) sm_st(y + k * os + 4 * i, e, width);
        part[i] = wasm_f32x4_add(part[i], e);
      }
    }
    for (int i = 0; i < nv; i++) red_push(&blocks[i], R_SUM_F, part[i]);
  }
  for (int i = 0; i < nv; i++) total[i] = red_pop_all(&blocks[i], R_SUM_F);
  if (logout) {
    v128_t lt[4];
    for (int i = 0; i < nv; i++) {
      float t[4];
      wasm_v128_store(t, total[i]);
      lt[i] = width == 1 ? wasm_f32x4_splat(sm_log(t[0])) : wasm_f32x4_make(sm_log(t[0]), sm_log(t[1]), sm_log(t[2]), sm_log(t[3]));
    }
    for (uint32_t k = 0; k < n; k++)
      for (int i = 0; i < nv; i++)
        sm_st(y + k * os + 4 * i, wasm_f32x4_sub(wasm_f32x4_sub(sm_ld(x + k * is + 4 * i, width), mx[i]), lt[i]), width);
  } else {
    for (uint32_t k = 0; k < n; k++)
      for (int i = 0; i < nv; i++) sm_st(y + k * os + 4 * i, wasm_f32x4_div(sm_ld(y + k * os + 4 * i, width), total[i]), width);
  }
}

// Width of the group of strided lines starting at coordinate c of the innermost dim (of size dim),
// line g of a thread's [.., end): 16, 4 or 1.
INLINE uint32_t line_group(int col, uint32_t c, uint32_t dim, uint32_t g, uint32_t end) {
  if (!col || c + 4 > dim || g + 4 > end) return 1;
  return c + 16 <= dim && g + 16 <= end ? 16 : 4;
}

// Lines are enumerated over the coalesced other dims; groups need the innermost of them contiguous
// in input and output.
EXPORT(k_red_softmax) void k_red_softmax(const struct red_softmax_args *a, uint32_t tid, uint32_t nthreads) {
  range_t r = split(a->rows, tid, nthreads);
  if (r.begin >= r.end || a->len == 0) return;
  const uint32_t R = a->rank, last = R - 1;
  const int contig = a->in_axis_st == 1 && a->out_axis_st == 1;
  const int col = !contig && a->in_st[last] == 1 && a->out_st[last] == 1;
  red_pos_t pi = red_unravel(r.begin, R, a->shape, a->in_st);
  red_pos_t po = red_unravel(r.begin, R, a->shape, a->out_st);
  for (uint32_t g = r.begin; g < r.end;) {
    const float *x = a->src + pi.off;
    float *y = a->dst + po.off;
    uint32_t n = 1;
    if (contig) sm_row(x, y, a->len, a->log);
    else {
      n = line_group(col, pi.c[last], a->shape[last], g, r.end);
      if (n == 16) sm_lines(x, y, a->len, a->in_axis_st, a->out_axis_st, a->log, 16);
      else if (n == 4) sm_lines(x, y, a->len, a->in_axis_st, a->out_axis_st, a->log, 4);
      else sm_lines(x, y, a->len, a->in_axis_st, a->out_axis_st, a->log, 1);
    }
    g += n;
    if (g < r.end) {
      red_advance(&pi, n, R, a->shape, a->in_st);
      red_advance(&po, n, R, a->shape, a->out_st);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cumsum: a sequential inclusive scan per line (f32, or wrapping 32-bit integers; bool reads 0/1).

INLINE v128_t cs_add(v128_t a, v128_t b, uint32_t kind) { return kind == 0 ? wasm_f32x4_add(a, b) : wasm_i32x4_add(a, b); }

INLINE void cs_lines(const uint32_t *x, uint32_t *y, uint32_t n, uint32_t is, uint32_t os, uint32_t kind, uint32_t reverse, int width) {
  const int nv = width / 4;
  v128_t acc[4];
  for (int i = 0; i < nv; i++) acc[i] = wasm_i32x4_splat(0);
  for (uint32_t j = 0; j < n; j++) {
    uint32_t k = reverse ? n - 1 - j : j;
    for (int i = 0; i < nv; i++) {
      acc[i] = cs_add(acc[i], wasm_v128_load(x + k * is + 4 * i), kind);
      wasm_v128_store(y + k * os + 4 * i, acc[i]);
    }
  }
}

// One line, scalar (the same operations as one lane of cs_lines).
static void cs_line(const uint32_t *x, uint32_t *y, uint32_t n, uint32_t is, uint32_t os, uint32_t kind, uint32_t reverse) {
  if (kind == 0) {
    const float *xf = (const float *)x;
    float *yf = (float *)y;
    float acc = 0.0f;
    if (reverse)
      for (uint32_t k = n; k-- > 0;) yf[k * os] = acc = acc + xf[k * is];
    else
      for (uint32_t k = 0; k < n; k++) yf[k * os] = acc = acc + xf[k * is];
  } else {
    uint32_t acc = 0;
    if (reverse)
      for (uint32_t k = n; k-- > 0;) y[k * os] = acc = acc + x[k * is];
    else
      for (uint32_t k = 0; k < n; k++) y[k * os] = acc = acc + x[k * is];
  }
}

EXPORT(k_red_cumsum) void k_red_cumsum(const struct red_cumsum_args *a, uint32_t tid, uint32_t nthreads) {
  range_t r = split(a->rows, tid, nthreads);
  if (r.begin >= r.end || a->len == 0) return;
  const uint32_t R = a->rank, last = R - 1;
  const int col = a->in_axis_st != 1 && a->in_st[last] == 1 && a->out_st[last] == 1;
  red_pos_t pi = red_unravel(r.begin, R, a->shape, a->in_st);
  red_pos_t po = red_unravel(r.begin, R, a->shape, a->out_st);
  for (uint32_t g = r.begin; g < r.end;) {
    const uint32_t *x = a->src + pi.off;
    uint32_t *y = a->dst + po.off;
    const uint32_t n = line_group(col, pi.c[last], a->shape[last], g, r.end);
    if (n == 16) cs_lines(x, y, a->len, a->in_axis_st, a->out_axis_st, a->kind, a->reverse, 16);
    else if (n == 4) cs_lines(x, y, a->len, a->in_axis_st, a->out_axis_st, a->kind, a->reverse, 4);
    else cs_line(x, y, a->len, a->in_axis_st, a->out_axis_st, a->kind, a->reverse);
    g += n;
    if (g < r.end) {
      red_advance(&pi, n, R, a->shape, a->in_st);
      red_advance(&po, n, R, a->shape, a->out_st);
    }
  }
}
