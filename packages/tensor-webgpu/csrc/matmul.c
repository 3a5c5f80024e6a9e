// Packed, cache-blocked GEMM (GotoBLAS/BLIS structure) for wasm32 SIMD128.
//
// - The output is cut into work items of MB rows x nb columns of one batch matrix; each item is
//   computed wholly by one thread, so the bits never depend on the thread count.
// - Per item, K advances KC at a time: the B block (KC x nb) is packed into panels of NR columns and
//   the A block (MB x KC) into panels of MR rows (f16 operands are widened here), then an MR x NR
//   micro-kernel multiplies panel pairs with 8 f32x4 accumulators. Wasm locals are unlimited, but the
//   engine maps them onto 16 SIMD registers on x86-64, and clang hoists every broadcast of A ahead of
//   its use: 4x8 keeps all live values in registers (6x8 spills and ran at about half the speed).
//   SIMD128 has no FMA: mul + add.
// - The first K block stores (adding the bias), later blocks add, so every element of C is the sum of
//   the same block partial sums in the same order on any thread count.
// - Products with fewer rows than the register tile (decode steps, single-channel conv groups) skip
//   packing: each output is a dot product, or a row sweep, read straight from A and B.
#include "common.h"
#include "mathf.h"

#define MR 4  // the A packing transposes 4x4 blocks: MR must stay 4
#define NR 8
#define NV (NR / 4)
#define KC 256
#define MB 96
#define NB_MAX 256

enum {
  MM_HALF_A = 1,
  MM_HALF_B = 2,
  MM_ACC = 4,
  MM_BIAS_ROW = 8,
  MM_BIAS_COL = 16,
};

// IEEE half bits to f32 (subnormals, inf and NaN included).
static float mm_h2f(uint16_t h) {
  uint32_t s = (uint32_t)(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1fu) return bits_to_f(s | 0x7f800000u | (m << 13));
  if (e == 0) {
    float f = (float)m * 5.9604644775390625e-08f;  // m * 2^-24
    return bits_to_f(s | f_to_bits(f));
  }
  return bits_to_f(s | ((e + 112u) << 23) | (m << 13));
}

// Four IEEE halves (widened to u32 lanes) to f32: exponent and mantissa moved into place and scaled
// by 2^112 (exact for normal and subnormal halves), inf/NaN given the f32 all-ones exponent.
INLINE v128_t mm_h2f4(v128_t h) {
  v128_t em = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13);
  v128_t f = wasm_f32x4_mul(em, wasm_f32x4_splat(5.192296858534828e+33f));  // 2^112
  v128_t special = wasm_i32x4_ge(em, wasm_i32x4_splat(0x7c00 << 13));
  f = wasm_v128_bitselect(wasm_v128_or(em, wasm_i32x4_splat(0x7f800000)), f, special);
  return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

// 4 consecutive elements of an f32 or half operand, as f32.
INLINE v128_t mm_load4(const uint8_t *p, size_t i, int half) {
  return half ? mm_h2f4(wasm_u32x4_load16x4(p + 2 * i)) : wasm_v128_load(p + 4 * i);
}

// A view of an operand: element (r, c) at p[r*rs + c*cs], f32 or half.
typedef struct {
  const uint8_t *p;
  uint32_t rs, cs;
  int half;
} mm_view;

INLINE float mm_at(const mm_view *v, uint32_t r, uint32_t c) {
  uint32_t i = r * v->rs + c * v->cs;
  return v->half ? mm_h2f(((const uint16_t *)v->p)[i]) : ((const float *)v->p)[i];
}

// Packs rows [m0, m0+rows) x k [k0, k0+kc) of A into panels of MR rows: Ap[panel][k][MR], zero rows past the end.
static void mm_pack_a(float *restrict Ap, const mm_view *A, uint32_t m0, uint32_t rows, uint32_t k0, uint32_t kc) {
  for (uint32_t i0 = 0; i0 < rows; i0 += MR) {
    uint32_t r = rows - i0 < MR ? rows - i0 : MR;
    float *dst = Ap + (size_t)i0 * kc;
    if (A->cs == 1 && r == MR) {
      // Rows contiguous along k (MR = 4): 4x4 register transposes give one packed vector per k.
      size_t row[MR];
      for (uint32_t i = 0; i < MR; i++) row[i] = (size_t)(m0 + i0 + i) * A->rs + k0;
      uint32_t k = 0;
      for (; k + 4 <= kc; k += 4) {
        v128_t r0 = mm_load4(A->p, row[0] + k, A->half), r1 = mm_load4(A->p, row[1] + k, A->half);
        v128_t r2 = mm_load4(A->p, row[2] + k, A->half), r3 = mm_load4(A->p, row[3] + k, A->half);
        v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
        v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        wasm_v128_store(dst + (k + 0) * MR, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
        wasm_v128_store(dst + (k + 1) * MR, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
        wasm_v128_store(dst + (k + 2) * MR, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
        wasm_v128_store(dst + (k + 3) * MR, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
      }
      for (; k < kc; k++)
        for (uint32_t i = 0; i < MR; i++) dst[k * MR + i] = mm_at(A, m0 + i0 + i, k0 + k);
    } else if (A->rs == 1 && r == MR) {
      // Columns contiguous along m (transposed A): one vector of MR = 4 rows per k.
      size_t at = (size_t)k0 * A->cs + m0 + i0;
      for (uint32_t k = 0; k < kc; k++, at += A->cs) wasm_v128_store(dst + k * MR, mm_load4(A->p, at, A->half));
    } else {
      for (uint32_t k = 0; k < kc; k++)
        for (uint32_t i = 0; i < MR; i++) dst[k * MR + i] = i < r ? mm_at(A, m0 + i0 + i, k0 + k) : 0.0f;
    }
  }
}

// Packs k [k0, k0+kc) x columns [n0, n0+cols) of B into panels of NR columns: Bp[panel][k][NR].
static void mm_pack_b(float *restrict Bp, const mm_view *B, uint32_t k0, uint32_t kc, uint32_t n0, uint32_t cols) {
  for (uint32_t j0 = 0; j0 < cols; j0 += NR) {
    uint32_t c = cols - j0 < NR ? cols - j0 : NR;
    float *dst = Bp + (size_t)j0 * kc;
    if (B->cs == 1 && c == NR) {
      // Rows of B contiguous along n: NV vectors per k.
      size_t at = (size_t)k0 * B->rs + n0 + j0;
      for (uint32_t k = 0; k < kc; k++, at += B->rs)
        for (uint32_t v = 0; v < NV; v++) wasm_v128_store(dst + k * NR + 4 * v, mm_load4(B->p, at + 4 * v, B->half));
    } else if (B->rs == 1 && c == NR) {
      // Transposed B (columns contiguous along k): 4x4 register transposes.
      size_t col[NR];
      for (uint32_t j = 0; j < NR; j++) col[j] = (size_t)(n0 + j0 + j) * B->cs + k0;
      uint32_t k = 0;
      for (; k + 4 <= kc; k += 4) {
        for (uint32_t h = 0; h < NV; h++) {
          v128_t r0 = mm_load4(B->p, col[4 * h] + k, B->half), r1 = mm_load4(B->p, col[4 * h + 1] + k, B->half);
          v128_t r2 = mm_load4(B->p, col[4 * h + 2] + k, B->half), r3 = mm_load4(B->p, col[4 * h + 3] + k, B->half);
          v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
          v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
          wasm_v128_store(dst + (k + 0) * NR + 4 * h, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
          wasm_v128_store(dst + (k + 1) * NR + 4 * h, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
          wasm_v128_store(dst + (k + 2) * NR + 4 * h, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
          wasm_v128_store(dst + (k + 3) * NR + 4 * h, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
        }
      }
      for (; k < kc; k++)
        for (uint32_t j = 0; j < NR; j++) dst[k * NR + j] = mm_at(B, k0 + k, n0 + j0 + j);
    } else {
      for (uint32_t k = 0; k < kc; k++)
        for (uint32_t j = 0; j < NR; j++) dst[k * NR + j] = j < c ? mm_at(B, k0 + k, n0 + j0 + j) : 0.0f;
    }
  }
}

// Bias of a tile: per row (one value per row) or per column (NR values); NULL for none.
typedef struct {
  const float *row;
  const float *col;
} mm_bias;

// C tile (rows x cols, row stride ldc) = or += Ap·Bp over kc. `store`: overwrite (and add the bias).
static void mm_micro(uint32_t kc, const float *restrict Ap, const float *restrict Bp, float *restrict C, uint32_t ldc,
                     uint32_t rows, uint32_t cols, int store, mm_bias bias) {
  v128_t acc[MR][NV];
#pragma clang loop unroll(full)
  for (uint32_t i = 0; i < MR; i++)
#pragma clang loop unroll(full)
    for (uint32_t v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_splat(0.0f);
  for (uint32_t k = 0; k < kc; k++) {
    v128_t b[NV];
#pragma clang loop unroll(full)
    for (uint32_t v = 0; v < NV; v++) b[v] = wasm_v128_load(Bp + 4 * v);
#pragma clang loop unroll(full)
    for (uint32_t i = 0; i < MR; i++) {
      v128_t a = wasm_v128_load32_splat(Ap + i);
#pragma clang loop unroll(full)
      for (uint32_t v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_add(acc[i][v], wasm_f32x4_mul(a, b[v]));
    }
    Ap += MR;
    Bp += NR;
  }
  if (store) {
    float bc[NR] = {0};
    if (bias.col)
      for (uint32_t j = 0; j < cols; j++) bc[j] = bias.col[j];
    for (uint32_t i = 0; i < rows; i++) {
      v128_t br = bias.row ? wasm_f32x4_splat(bias.row[i]) : wasm_f32x4_splat(0.0f);
      for (uint32_t v = 0; v < NV; v++)
        acc[i][v] = wasm_f32x4_add(acc[i][v], wasm_f32x4_add(wasm_v128_load(bc + 4 * v), br));
    }
  }
  if (cols == NR) {
    for (uint32_t i = 0; i < rows; i++) {
      float *c = C + (size_t)i * ldc;
      for (uint32_t v = 0; v < NV; v++)
        wasm_v128_store(c + 4 * v, store ? acc[i][v] : wasm_f32x4_add(wasm_v128_load(c + 4 * v), acc[i][v]));
    }
  } else {
    for (uint32_t i = 0; i < rows; i++) {
      float t[NR];
      for (uint32_t v = 0; v < NV; v++) wasm_v128_store(t + 4 * v, acc[i][v]);
      float *c = C + (size_t)i * ldc;
      for (uint32_t j = 0; j < cols; j++) c[j] = store ? t[j] : c[j] + t[j];
    }
  }
}

// Rows (M < MR) as matrix-vector products read straight from A and B, without packing: decode
// steps and single-channel groups would otherwise spend most of a MR-row tile on padding.
// C points at column n0 of row 0; each output is one dot product in a fixed k order.
static void mm_gemv(const mm_view *A, const mm_view *B, float *C, uint32_t ldc, uint32_t rows, uint32_t K, uint32_t n0,
                    uint32_t cols, int store, const float *biasRow, const float *biasCol) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  for (uint32_t i = 0; i < rows; i++) {
    float *c = C + (size_t)i * ldc;
    const float br = biasRow ? biasRow[i] : 0.0f;
#define MM_OUT(j, v) c[j] = store ? (v) + ((biasCol ? biasCol[j] : 0.0f) + br) : c[j] + (v)
    if (B->rs == 1) {
      // Columns of B contiguous along k (a transposed weight): one dot product per output.
      for (uint32_t j = 0; j < cols; j++) {
        const size_t bAt = (size_t)(n0 + j) * B->cs;
        v128_t acc0 = zero, acc1 = zero;
        uint32_t k = 0;
        if (A->cs == 1) {
          const size_t aAt = (size_t)i * A->rs;
          for (; k + 8 <= K; k += 8) {
            acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(mm_load4(A->p, aAt + k, A->half), mm_load4(B->p, bAt + k, B->half)));
            acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(mm_load4(A->p, aAt + k + 4, A->half),
                                                       mm_load4(B->p, bAt + k + 4, B->half)));
          }
        }
        acc0 = wasm_f32x4_add(acc0, acc1);
        float s = (wasm_f32x4_extract_lane(acc0, 0) + wasm_f32x4_extract_lane(acc0, 1)) +
                  (wasm_f32x4_extract_lane(acc0, 2) + wasm_f32x4_extract_lane(acc0, 3));
        for (; k < K; k++) s += mm_at(A, i, k) * mm_at(B, k, n0 + j);
        MM_OUT(j, s);
      }
    } else if (B->cs == 1) {
      // Rows of B contiguous along n: accumulate A[i, k]·B[k, :] over k, 16 then 4 columns at a time.
      uint32_t j = 0;
      for (; j + 16 <= cols; j += 16) {
        v128_t acc[4] = {zero, zero, zero, zero};
        for (uint32_t k = 0; k < K; k++) {
          const v128_t av = wasm_f32x4_splat(mm_at(A, i, k));
          const size_t bAt = (size_t)k * B->rs + n0 + j;
          for (uint32_t v = 0; v < 4; v++)
            acc[v] = wasm_f32x4_add(acc[v], wasm_f32x4_mul(av, mm_load4(B->p, bAt + 4 * v, B->half)));
        }
        float t[16];
        for (uint32_t v = 0; v < 4; v++) wasm_v128_store(t + 4 * v, acc[v]);
        for (uint32_t q = 0; q < 16; q++) MM_OUT(j + q, t[q]);
      }
      for (; j + 4 <= cols; j += 4) {
        v128_t acc = zero;
        for (uint32_t k = 0; k < K; k++)
          acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_splat(mm_at(A, i, k)),
                                                   mm_load4(B->p, (size_t)k * B->rs + n0 + j, B->half)));
        float t[4];
        wasm_v128_store(t, acc);
        for (uint32_t q = 0; q < 4; q++) MM_OUT(j + q, t[q]);
      }
      for (; j < cols; j++) {
        float s = 0.0f;
        for (uint32_t k = 0; k < K; k++) s += mm_at(A, i, k) * mm_at(B, k, n0 + j);
        MM_OUT(j, s);
      }
    } else {
      for (uint32_t j = 0; j < cols; j++) {
        float s = 0.0f;
        for (uint32_t k = 0; k < K; k++) s += mm_at(A, i, k) * mm_at(B, k, n0 + j);
        MM_OUT(j, s);
      }
    }
#undef MM_OUT
  }
}

// Columns per work item: NB_MAX, halved (down to 32) until the product has enough items to share
// among threads. Depends only on the shape.
static uint32_t mm_item_cols(uint32_t batch, uint32_t m, uint32_t n) {
  uint32_t nb = NB_MAX;
  uint32_t mi = (m + MB - 1) / MB;
  while (nb > 32 && (uint64_t)batch * mi * ((n + nb - 1) / nb) < 8) nb >>= 1;
  return nb;
}

EXPORT(k_mm_gemm) void k_mm_gemm(const struct mm_gemm_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t M = a->m, N = a->n, K = a->k, flags = a->flags;
  uint32_t batch = 1;
  for (uint32_t d = 0; d < a->rank; d++) batch *= a->bshape[d];
  if (batch == 0 || M == 0 || N == 0) return;
  if (a->scratch_floats < MB * KC + KC * NB_MAX) __builtin_trap();
  const uint32_t nb = mm_item_cols(batch, M, N);
  const uint32_t mItems = (M + MB - 1) / MB, nItems = (N + nb - 1) / nb;
  const uint32_t perBatch = mItems * nItems;
  range_t r = split(batch * perBatch, tid, nthreads);
  float *Ap = a->scratch + (size_t)tid * a->scratch_floats;
  float *Bp = Ap + MB * KC;
  const uint32_t ea = flags & MM_HALF_A ? 2 : 4, eb = flags & MM_HALF_B ? 2 : 4;
  for (uint32_t it = r.begin; it < r.end; it++) {
    uint32_t z = it / perBatch, rem = it % perBatch;
    uint32_t ni = rem / mItems, mi = rem % mItems;
    // Batch offsets (elements) of each operand.
    uint32_t ao = 0, bo = 0, co = 0, biaso = 0, zz = z;
    for (int d = (int)a->rank - 1; d >= 0; d--) {
      uint32_t idx = zz % a->bshape[d];
      zz /= a->bshape[d];
      ao += idx * a->astr[d];
      bo += idx * a->bstr[d];
      co += idx * a->cstr[d];
      biaso += idx * a->biasstr[d];
    }
    mm_view A = {a->a + (size_t)ao * ea, a->a_rs, a->a_cs, (flags & MM_HALF_A) != 0};
    mm_view B = {a->b + (size_t)bo * eb, a->b_rs, a->b_cs, (flags & MM_HALF_B) != 0};
    float *C = a->c + co;
    const float *bias = a->bias ? a->bias + biaso : 0;
    uint32_t m0 = mi * MB, rows = M - m0 < MB ? M - m0 : MB;
    uint32_t n0 = ni * nb, cols = N - n0 < nb ? N - n0 : nb;
    if (K == 0) {
      // Empty sum: the bias (or zero), or C unchanged when accumulating.
      if (flags & MM_ACC) continue;
      for (uint32_t i = 0; i < rows; i++)
        for (uint32_t j = 0; j < cols; j++) {
          float v = 0.0f;
          if (bias && (flags & MM_BIAS_ROW)) v += bias[m0 + i];
          if (bias && (flags & MM_BIAS_COL)) v += bias[n0 + j];
          C[(size_t)(m0 + i) * a->ldc + n0 + j] = v;
        }
      continue;
    }
    if (M < MR) {
      mm_gemv(&A, &B, C + n0, a->ldc, rows, K, n0, cols, !(flags & MM_ACC),
              bias && (flags & MM_BIAS_ROW) ? bias : 0, bias && (flags & MM_BIAS_COL) ? bias + n0 : 0);
      continue;
    }
    for (uint32_t k0 = 0; k0 < K; k0 += KC) {
      uint32_t kc = K - k0 < KC ? K - k0 : KC;
      int store = k0 == 0 && !(flags & MM_ACC);
      mm_pack_b(Bp, &B, k0, kc, n0, cols);
      mm_pack_a(Ap, &A, m0, rows, k0, kc);
      for (uint32_t j0 = 0; j0 < cols; j0 += NR) {
        uint32_t c = cols - j0 < NR ? cols - j0 : NR;
        for (uint32_t i0 = 0; i0 < rows; i0 += MR) {
          uint32_t rr = rows - i0 < MR ? rows - i0 : MR;
          mm_bias bs = {0, 0};
          if (bias && (flags & MM_BIAS_ROW)) bs.row = bias + m0 + i0;
          if (bias && (flags & MM_BIAS_COL)) bs.col = bias + n0 + j0;
          mm_micro(kc, Ap + (size_t)i0 * kc, Bp + (size_t)j0 * kc, C + (size_t)(m0 + i0) * a->ldc + n0 + j0, a->ldc,
                   rr, c, store, bs);
        }
      }
    }
  }
}
