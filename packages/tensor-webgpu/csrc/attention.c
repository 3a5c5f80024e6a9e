// Fused scaled-dot-product attention with grouped-query heads, flash style (the WGSL kernels in
// src/kernels/attention.ts compute the same thing on the GPU):
//
// fwd   an item per (batch, q head, block of query rows) streams over blocks of key rows with an
//       online softmax: a running max m and sum l per row, the output accumulator rescaled by
//       e^(m_old − m_new) when the max grows. The score matrix exists one [rows × keys] block at a time.
//       Saves the log-sum-exp per row in base 2 (as the WGSL kernels do) for the backward.
// dkdv  an item per (batch, kv head, block of key rows) loops over every q head of its GQA group and
//       every query row, recomputes P = e^(s − lse), and accumulates dV += Pᵀ·dO, dK += dSᵀ·Q with
//       dS = P·(dO·Vᵀ − Δ): the group sum runs in a fixed order on one thread, so no atomics.
// dq    an item per (batch, q head, block of query rows) loops over key rows: dQ += dS·K.
//
// Every output row is written by the one thread that owns its item, and its value does not depend on
// the split, so any thread count gives the same bits. Rows of q, k, v, dO are contiguous (the op
// copies a non-contiguous last dim), so dot products and row updates run 4-wide straight from memory.
//
// Masking: a logit is masked when its bool entry is 0 or its additive value is ≤ −1e30 (−inf
// included). Masked logits get probability exactly 0; a row whose keys are all masked outputs 0
// and gets zero gradients. A hidden key costs no dot product, and a block of keys a row does not see
// is skipped: the policy's block masks hide about a third of its logits.
#include "common.h"
#include "mathf.h"

typedef struct at_fwd_args at_args;

#define AT_MASKED (-3.0e38f)
#define AT_LOG2E 1.4426950408889634f
#define AT_LN2 0.6931471805599453f
/** Key rows per streamed block (fwd, dq). */
#define AT_BC 64
/** Floats of accumulator rows an item keeps on its stack (bounds the rows per block for a large D). */
#define AT_ACC_FLOATS 16384u

enum { AT_MASK_NONE = 0, AT_MASK_ADD = 1, AT_MASK_BOOL = 2 };

INLINE float at_hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/** a·b over n floats. */
static float at_dot(const float *x, const float *y, uint32_t n) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(x + i), wasm_v128_load(y + i)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(x + i + 4), wasm_v128_load(y + i + 4)));
  }
  if (i + 4 <= n) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(x + i), wasm_v128_load(y + i)));
    i += 4;
  }
  float s = at_hsum(wasm_f32x4_add(s0, s1));
  for (; i < n; i++) s += x[i] * y[i];
  return s;
}

/** q·k0 .. q·k3 over n floats (q is loaded once for four keys). */
static void at_dot4(const float *q, const float *const *k, uint32_t n, float *out) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
  const float *k0 = k[0], *k1 = k[1], *k2 = k[2], *k3 = k[3];
  uint32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t x = wasm_v128_load(q + i);
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(x, wasm_v128_load(k0 + i)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(x, wasm_v128_load(k1 + i)));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(x, wasm_v128_load(k2 + i)));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(x, wasm_v128_load(k3 + i)));
  }
  float r0 = at_hsum(s0), r1 = at_hsum(s1), r2 = at_hsum(s2), r3 = at_hsum(s3);
  for (; i < n; i++) {
    r0 += q[i] * k0[i];
    r1 += q[i] * k1[i];
    r2 += q[i] * k2[i];
    r3 += q[i] * k3[i];
  }
  out[0] = r0;
  out[1] = r1;
  out[2] = r2;
  out[3] = r3;
}

/** y = a·x over n floats (y may be x). */
static void at_scale_to(float *y, float a, const float *x, uint32_t n) {
  v128_t av = wasm_f32x4_splat(a);
  uint32_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_mul(av, wasm_v128_load(x + i)));
  for (; i < n; i++) y[i] = a * x[i];
}

/**
 * y = alpha·y + Σ_c w[c]·rows[c] over n floats, 16 columns at a time held in registers across all
 * `m` rows (one load and store of y per block of columns instead of one per row).
 */
static void at_gemv_acc(float *y, float alpha, const float *w, const float *const *rows, uint32_t m, uint32_t n) {
  const v128_t av = wasm_f32x4_splat(alpha);
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t a0 = wasm_f32x4_mul(av, wasm_v128_load(y + i)), a1 = wasm_f32x4_mul(av, wasm_v128_load(y + i + 4));
    v128_t a2 = wasm_f32x4_mul(av, wasm_v128_load(y + i + 8)), a3 = wasm_f32x4_mul(av, wasm_v128_load(y + i + 12));
    for (uint32_t c = 0; c < m; c++) {
      const v128_t wc = wasm_f32x4_splat(w[c]);
      const float *r = rows[c] + i;
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wc, wasm_v128_load(r)));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wc, wasm_v128_load(r + 4)));
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wc, wasm_v128_load(r + 8)));
      a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wc, wasm_v128_load(r + 12)));
    }
    wasm_v128_store(y + i, a0);
    wasm_v128_store(y + i + 4, a1);
    wasm_v128_store(y + i + 8, a2);
    wasm_v128_store(y + i + 12, a3);
  }
  for (; i + 4 <= n; i += 4) {
    v128_t a0 = wasm_f32x4_mul(av, wasm_v128_load(y + i));
    for (uint32_t c = 0; c < m; c++) a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_splat(w[c]), wasm_v128_load(rows[c] + i)));
    wasm_v128_store(y + i, a0);
  }
  for (; i < n; i++) {
    float a0 = alpha * y[i];
    for (uint32_t c = 0; c < m; c++) a0 += w[c] * rows[c][i];
    y[i] = a0;
  }
}

static void at_zero(float *y, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) y[i] = 0.0f;
}

INLINE const float *at_row(const float *base, const uint32_t *st, uint32_t b, uint32_t h, uint32_t r) {
  return base + b * st[0] + h * st[1] + r * st[2];
}

/** Key (or value) row j of the logical sequence: the cached prefix first, then k/v. */
INLINE const float *at_key(const at_args *a, int value, uint32_t b, uint32_t hk, uint32_t j) {
  if (j < a->sp) return value ? at_row(a->pv, a->pvst, b, hk, j) : at_row(a->pk, a->pkst, b, hk, j);
  return value ? at_row(a->v, a->vst, b, hk, j - a->sp) : at_row(a->k, a->kst, b, hk, j - a->sp);
}

/** Logit (natural units) of a raw dot product with key j, or AT_MASKED. `mrow`: the mask row. */
INLINE float at_logit(const at_args *a, const uint32_t *mrow, uint32_t j, float dotv) {
  float s = dotv * a->scale;
  if (a->maskKind == AT_MASK_ADD) {
    float m = bits_to_f(mrow[j * a->mst[3]]);
    if (m <= -1e30f) return AT_MASKED;
    s += m;
  } else if (a->maskKind == AT_MASK_BOOL) {
    if (mrow[j * a->mst[3]] == 0u) return AT_MASKED;
  }
  return s;
}

INLINE const uint32_t *at_mask_row(const at_args *a, uint32_t b, uint32_t h, uint32_t i) {
  if (a->maskKind == AT_MASK_NONE) return a->mask;
  return a->mask + b * a->mst[0] + h * a->mst[1] + i * a->mst[2];
}

/** Query rows per block: 16, fewer when the head dim is large (the accumulators live on the stack). */
INLINE uint32_t at_block_rows(uint32_t d) {
  uint32_t r = d ? AT_ACC_FLOATS / d : 16u;
  return r > 16u ? 16u : r < 1u ? 1u : r;
}

/** Whether the mask hides key j from the row `mrow`. */
INLINE int at_hidden(const at_args *a, const uint32_t *mrow, uint32_t j) {
  if (a->maskKind == AT_MASK_ADD) return bits_to_f(mrow[j * a->mst[3]]) <= -1e30f;
  if (a->maskKind == AT_MASK_BOOL) return mrow[j * a->mst[3]] == 0u;
  return 0;
}

/**
 * Logits of one query row against `kn` keys (s padded with AT_MASKED to a multiple of 4). Keys the
 * mask hides cost no dot product: the policy's block masks hide whole runs of keys. Returns how many
 * keys are visible (0: the row sees nothing of this block).
 */
static uint32_t at_scores(const at_args *a, const float *qrow, const float *const *kr, uint32_t kn, uint32_t k0,
                          const uint32_t *mrow, float *s) {
  uint32_t d = a->d, c = 0, seen = 0;
  for (; c + 4 <= kn; c += 4) {
    uint32_t hidden = 0;
    for (uint32_t j = 0; j < 4; j++) hidden += (uint32_t)at_hidden(a, mrow, k0 + c + j);
    if (hidden == 4) {
      s[c] = s[c + 1] = s[c + 2] = s[c + 3] = AT_MASKED;
      continue;
    }
    at_dot4(qrow, kr + c, d, s + c);
    for (uint32_t j = c; j < c + 4; j++) s[j] = at_logit(a, mrow, k0 + j, s[j]);
    seen += 4 - hidden;
  }
  for (; c < kn; c++) {
    if (at_hidden(a, mrow, k0 + c)) {
      s[c] = AT_MASKED;
      continue;
    }
    s[c] = at_logit(a, mrow, k0 + c, at_dot(qrow, kr[c], d));
    seen++;
  }
  for (; c % 4 != 0; c++) s[c] = AT_MASKED;
  return seen;
}

static void at_forward(const at_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t d = a->d, sq = a->sq, sk = a->sk;
  const uint32_t br = at_block_rows(d);
  const uint32_t nqb = (sq + br - 1) / br;
  const uint32_t grp = a->hq / a->hkv;
  range_t items = split(a->batch * a->hq * nqb, tid, nthreads);
  float acc[br * (d ? d : 1)];
  float rm[br], rl[br];
  float s[AT_BC];
  const float *kr[AT_BC], *vr[AT_BC];
  const v128_t masked = wasm_f32x4_splat(AT_MASKED);
  for (uint32_t it = items.begin; it < items.end; it++) {
    uint32_t qb = it % nqb, h = (it / nqb) % a->hq, b = it / (nqb * a->hq), hk = h / grp;
    uint32_t q0 = qb * br, rows = sq - q0 < br ? sq - q0 : br;
    at_zero(acc, rows * d);
    for (uint32_t r = 0; r < rows; r++) {
      rm[r] = AT_MASKED;
      rl[r] = 0.0f;
    }
    for (uint32_t k0 = 0; k0 < sk; k0 += AT_BC) {
      uint32_t kn = sk - k0 < AT_BC ? sk - k0 : AT_BC;
      for (uint32_t c = 0; c < kn; c++) {
        kr[c] = at_key(a, 0, b, hk, k0 + c);
        vr[c] = at_key(a, 1, b, hk, k0 + c);
      }
      for (uint32_t r = 0; r < rows; r++) {
        uint32_t i = q0 + r;
        // A block the row does not see adds nothing (p = 0 for each of its keys).
        if (!at_scores(a, at_row(a->q, a->qst, b, h, i), kr, kn, k0, at_mask_row(a, b, h, i), s)) continue;
        float mOld = rm[r], mNew = mOld;
        for (uint32_t c = 0; c < kn; c++) mNew = s[c] > mNew ? s[c] : mNew;
        // p = e^(s − m), exactly 0 where masked (also the padding past kn).
        v128_t mv = wasm_f32x4_splat(mNew), sum4 = wasm_f32x4_splat(0.0f);
        for (uint32_t c = 0; c < kn; c += 4) {
          v128_t sv = wasm_v128_load(s + c);
          v128_t p = wasm_v128_andnot(exp_f4(wasm_f32x4_sub(sv, mv)), wasm_f32x4_eq(sv, masked));
          wasm_v128_store(s + c, p);
          sum4 = wasm_f32x4_add(sum4, p);
        }
        float alpha = exp_f(mOld - mNew);
        rl[r] = rl[r] * alpha + at_hsum(sum4);
        rm[r] = mNew;
        at_gemv_acc(acc + r * d, alpha, s, vr, kn, d);
      }
    }
    uint32_t rowBase = (b * a->hq + h) * sq + q0;
    for (uint32_t r = 0; r < rows; r++) {
      float l = rl[r];
      float *out = a->out0 + (rowBase + r) * d;
      if (l > 0.0f) at_scale_to(out, 1.0f / l, acc + r * d, d);
      else at_zero(out, d);
      a->lse[rowBase + r] = l > 0.0f ? (rm[r] + log_f(l)) * AT_LOG2E : AT_MASKED;
    }
  }
}

/**
 * P and dS of query row i (head h) against `kn` keys starting at k0, 4-wide (p and ds hold kn rounded
 * up to 4; the padding gets 0). Returns whether the row sees any of these keys: if not, both are 0.
 */
static int at_pds(const at_args *a, uint32_t b, uint32_t h, uint32_t i, const float *const *kr,
                  const float *const *vr, uint32_t kn, uint32_t k0, float *p, float *ds) {
  const uint32_t d = a->d;
  const float *qrow = at_row(a->q, a->qst, b, h, i), *dorow = at_row(a->dout, a->dost, b, h, i);
  uint32_t ri = (b * a->hq + h) * a->sq + i;
  // The saved log-sum-exp is in base 2; a fully masked row has only masked logits (p = 0).
  const v128_t lse = wasm_f32x4_splat(a->lse[ri] * AT_LN2), delta = wasm_f32x4_splat(a->delta[ri]);
  const v128_t masked = wasm_f32x4_splat(AT_MASKED), zero = wasm_f32x4_splat(0.0f);
  const uint32_t *mrow = at_mask_row(a, b, h, i);
  const uint32_t seen = at_scores(a, qrow, kr, kn, k0, mrow, p);
  for (uint32_t c = 0; c < kn; c += 4) {
    const v128_t sv = wasm_v128_load(p + c), hidden = wasm_f32x4_eq(sv, masked);
    if (!seen || wasm_i32x4_all_true(hidden)) {
      wasm_v128_store(p + c, zero);
      wasm_v128_store(ds + c, zero);
      continue;
    }
    // dO·V of the visible keys (the padding past kn is hidden, so never read).
    if (c + 4 <= kn) at_dot4(dorow, vr + c, d, ds + c);
    else
      for (uint32_t j = c; j < c + 4; j++) ds[j] = j < kn ? at_dot(dorow, vr[j], d) : 0.0f;
    const v128_t pv = wasm_v128_andnot(exp_f4(wasm_f32x4_sub(sv, lse)), hidden);
    wasm_v128_store(p + c, pv);
    // Hidden lanes: p = 0, and dS must be 0 whatever dO·V was.
    wasm_v128_store(ds + c, wasm_v128_andnot(wasm_f32x4_mul(pv, wasm_f32x4_sub(wasm_v128_load(ds + c), delta)), hidden));
  }
  return seen != 0;
}

/** Query rows per dK/dV step: their P and dS columns feed one register-blocked update per key. */
#define AT_KV_ROWS 16

static void at_backward_kv(const at_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t d = a->d, sk = a->sk, sq = a->sq;
  const uint32_t bc = at_block_rows(d) / 2 ? at_block_rows(d) / 2 : 1;
  const uint32_t nkb = (sk + bc - 1) / bc;
  const uint32_t grp = a->hq / a->hkv;
  range_t items = split(a->batch * a->hkv * nkb, tid, nthreads);
  float dk[bc * (d ? d : 1)], dv[bc * (d ? d : 1)];
  float p[(bc + 3) & ~3u], ds[(bc + 3) & ~3u];
  // Transposed P and dS of a step: column c holds the weights of key c over the step's rows.
  float pt[bc * AT_KV_ROWS], dst[bc * AT_KV_ROWS];
  const float *kr[bc], *vr[bc], *qr[AT_KV_ROWS], *dor[AT_KV_ROWS];
  for (uint32_t it = items.begin; it < items.end; it++) {
    uint32_t kb = it % nkb, hk = (it / nkb) % a->hkv, b = it / (nkb * a->hkv);
    uint32_t k0 = kb * bc, kn = sk - k0 < bc ? sk - k0 : bc;
    at_zero(dk, kn * d);
    at_zero(dv, kn * d);
    for (uint32_t c = 0; c < kn; c++) {
      kr[c] = at_key(a, 0, b, hk, k0 + c);
      vr[c] = at_key(a, 1, b, hk, k0 + c);
    }
    for (uint32_t g = 0; g < grp; g++) {
      uint32_t h = hk * grp + g;
      for (uint32_t i0 = 0; i0 < sq; i0 += AT_KV_ROWS) {
        const uint32_t span = sq - i0 < AT_KV_ROWS ? sq - i0 : AT_KV_ROWS;
        // Only the rows that see a key of this block contribute.
        uint32_t rows = 0;
        for (uint32_t r = 0; r < span; r++) {
          if (!at_pds(a, b, h, i0 + r, kr, vr, kn, k0, p, ds)) continue;
          qr[rows] = at_row(a->q, a->qst, b, h, i0 + r);
          dor[rows] = at_row(a->dout, a->dost, b, h, i0 + r);
          for (uint32_t c = 0; c < kn; c++) {
            pt[c * AT_KV_ROWS + rows] = p[c];
            dst[c * AT_KV_ROWS + rows] = ds[c];
          }
          rows++;
        }
        if (!rows) continue;
        for (uint32_t c = 0; c < kn; c++) {
          at_gemv_acc(dv + c * d, 1.0f, pt + c * AT_KV_ROWS, dor, rows, d);
          at_gemv_acc(dk + c * d, 1.0f, dst + c * AT_KV_ROWS, qr, rows, d);
        }
      }
    }
    // dS is the gradient of the natural-scale logit s = scale·q·k, so dK = scale·Σ dS·Q.
    uint32_t rowBase = (b * a->hkv + hk) * sk + k0;
    for (uint32_t c = 0; c < kn; c++) {
      at_scale_to(a->out0 + (rowBase + c) * d, a->scale, dk + c * d, d);
      at_scale_to(a->out1 + (rowBase + c) * d, 1.0f, dv + c * d, d);
    }
  }
}

static void at_backward_q(const at_args *a, uint32_t tid, uint32_t nthreads) {
  const uint32_t d = a->d, sq = a->sq, sk = a->sk;
  const uint32_t br = at_block_rows(d);
  const uint32_t nqb = (sq + br - 1) / br;
  const uint32_t grp = a->hq / a->hkv;
  range_t items = split(a->batch * a->hq * nqb, tid, nthreads);
  float dq[br * (d ? d : 1)];
  float p[AT_BC], ds[AT_BC];
  const float *kr[AT_BC], *vr[AT_BC];
  for (uint32_t it = items.begin; it < items.end; it++) {
    uint32_t qb = it % nqb, h = (it / nqb) % a->hq, b = it / (nqb * a->hq), hk = h / grp;
    uint32_t q0 = qb * br, rows = sq - q0 < br ? sq - q0 : br;
    at_zero(dq, rows * d);
    for (uint32_t k0 = 0; k0 < sk; k0 += AT_BC) {
      uint32_t kn = sk - k0 < AT_BC ? sk - k0 : AT_BC;
      for (uint32_t c = 0; c < kn; c++) {
        kr[c] = at_key(a, 0, b, hk, k0 + c);
        vr[c] = at_key(a, 1, b, hk, k0 + c);
      }
      for (uint32_t r = 0; r < rows; r++)
        if (at_pds(a, b, h, q0 + r, kr, vr, kn, k0, p, ds)) at_gemv_acc(dq + r * d, 1.0f, ds, kr, kn, d);
    }
    uint32_t rowBase = (b * a->hq + h) * sq + q0;
    for (uint32_t r = 0; r < rows; r++) at_scale_to(a->out0 + (rowBase + r) * d, a->scale, dq + r * d, d);
  }
}

EXPORT(k_at_fwd) void k_at_fwd(const struct at_fwd_args *a, uint32_t tid, uint32_t nthreads) {
  at_forward(a, tid, nthreads);
}

// The three stages share one argument layout (src/cpu/programs/attention.ts).
EXPORT(k_at_dkdv) void k_at_dkdv(const struct at_dkdv_args *a, uint32_t tid, uint32_t nthreads) {
  at_backward_kv((const at_args *)(const void *)a, tid, nthreads);
}

EXPORT(k_at_dq) void k_at_dq(const struct at_dq_args *a, uint32_t tid, uint32_t nthreads) {
  at_backward_q((const at_args *)(const void *)a, tid, nthreads);
}
