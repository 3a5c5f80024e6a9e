// Scaled dot-product attention with grouped-query heads, fused (kernels/attention.ts): the forward
// never materialises the [Sq, Sk] score matrix and saves only a log-sum-exp per query row; the
// backward recomputes the probabilities from it (FlashAttention-2). With `past` the keys/values
// are a cached prefix followed by the present ones, read in place from both (KV-cached inference).
import { isGradEnabled, noGrad, recordOp } from '../autograd.js';
import {
  launchAttention,
  type AttentionMaskKind,
  type AttentionShape,
  type AttnMask,
  type AttnOperand,
  type AttnPast,
} from '../kernels/attention.js';
import { tidy } from '../scope.js';
import { Tensor } from '../tensor.js';
import { cast } from './creation.js';
import { mul } from './elementwise.js';
import { sum } from './reduce.js';
import { concat, contiguous } from './shape.js';
import { checkNumber } from './validate.js';

/** Options of {@link scaledDotProductAttention}. */
export interface AttentionOptions {
  /**
   * Additive mask (f32/f16, added to the scaled logits) or bool mask (true = attend), broadcastable
   * to [B, Hq, Sq, Sk]; read through strides, never expanded. Additive values ≤ −1e30 (including
   * −inf) count as masked. No gradient flows to the mask.
   */
  mask?: Tensor | null;
  /** Logit scale; default 1/√D. */
  scale?: number;
  /**
   * Keys/values of cached tokens `[B, Hkv, Sp, D]`, attended before `k`/`v` as one sequence of
   * Sp + Sk keys (the mask's last dim covers both, cached first). Read in place from both sources,
   * never concatenated: the KV cache of inference. When a gradient is needed the op falls back to
   * attention on the concatenation, so gradients stay exact.
   */
  past?: { k: Tensor; v: Tensor } | null;
}

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/** A [B, H, S, D] operand with a contiguous last dim (copied when it is not). */
function operand(t: Tensor, temps: Tensor[]): AttnOperand {
  let x = t;
  if (t.strides[3] !== 1 && t.shape[3] > 1) {
    x = contiguous(t);
    temps.push(x);
  }
  return { buffer: x.buffer, offset: x.offset, strides: [x.strides[0], x.strides[1], x.strides[2]] };
}

/**
 * Attention `softmax(q·kᵀ·scale + mask)·v` with softmax in f32, for q [B, Hq, Sq, D] and
 * k, v [B, Hkv, Sk, D] where Hq is a multiple of Hkv (grouped-query attention: q head h reads kv
 * head ⌊h / (Hq/Hkv)⌋). Sq may differ from Sk (e.g. queries against a KV cache). Any strides with a
 * contiguous last dim are read in place (e.g. [B, S, H, D] projections permuted to [B, H, S, D]).
 *
 * Masked logits get probability exactly 0; a query row whose keys are all masked returns zeros (and
 * zero gradients) instead of NaN. Differentiable in q, k and v (dK/dV are summed over the q heads
 * of each group).
 * @returns [B, Hq, Sq, D] in q's dtype.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions = {},
): Tensor {
  const op = 'scaledDotProductAttention';
  if (options.scale !== undefined) checkNumber(op, 'scale', options.scale);
  for (const [name, t] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const) {
    if (t.rank !== 4) throw new Error(`${op}: ${name} must be [B, H, S, D], got ${fmt(t.shape)}`);
    if (t.dtype !== 'f32' && t.dtype !== 'f16')
      throw new Error(`${op}: ${name} must be f32 or f16, got${t.describe()}`);
    if (t.dtype !== q.dtype) throw new Error(`${op}: dtypes differ, q ${q.dtype} and ${name} ${t.dtype}`);
  }
  const [b, hq, sq, d] = q.shape;
  const [bk, hkv, skNew, dk] = k.shape;
  if (bk !== b || dk !== d || k.shape.join() !== v.shape.join()) {
    throw new Error(`${op}: shapes do not match, q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`);
  }
  if (hkv === 0 || hq % hkv !== 0)
    throw new Error(`${op}: q heads ${hq} must be a multiple of kv heads ${hkv}`);
  let past = options.past ?? null;
  let sp = 0;
  if (past) {
    for (const [name, t] of [
      ['past.k', past.k],
      ['past.v', past.v],
    ] as const) {
      if (t.dtype !== q.dtype) throw new Error(`${op}: dtypes differ, q ${q.dtype} and ${name} ${t.dtype}`);
      if (t.rank !== 4 || t.shape[0] !== b || t.shape[1] !== hkv || t.shape[3] !== d)
        throw new Error(`${op}: ${name} ${fmt(t.shape)} must be [B, Hkv, Sp, D] with k ${fmt(k.shape)}`);
    }
    if (past.k.shape[2] !== past.v.shape[2])
      throw new Error(`${op}: past.k ${fmt(past.k.shape)} and past.v ${fmt(past.v.shape)} differ`);
    sp = past.k.shape[2];
    if (sp === 0) past = null; // an empty cache: nothing to read
    if (past && isGradEnabled() && [q, k, v, past.k, past.v].some((t) => t.requiresGrad)) {
      // Training never attends to a cache; the one-source op carries the backward.
      const kAll = concat([past.k, k], 2);
      const vAll = concat([past.v, v], 2);
      const out = scaledDotProductAttention(q, kAll, vAll, { mask: options.mask, scale: options.scale });
      kAll.dispose();
      vAll.dispose();
      return out;
    }
  }
  const sk = sp + skNew;
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const mask = options.mask ?? undefined;
  let maskKind: AttentionMaskKind = 'none';
  let maskStrides: [number, number, number, number] = [0, 0, 0, 0];
  if (mask) {
    if (mask.dtype === 'bool') maskKind = 'bool';
    else if (mask.dtype === 'f32') maskKind = 'add-f32';
    else if (mask.dtype === 'f16') maskKind = 'add-f16';
    else throw new Error(`${op}: mask must be bool, f32 or f16, got${mask.describe()}`);
    const full = [b, hq, sq, sk];
    if (mask.rank > 4) throw new Error(`${op}: mask ${fmt(mask.shape)} has more than 4 dims`);
    maskStrides = full.map((n, i) => {
      const j = i - (4 - mask.rank);
      if (j < 0 || mask.shape[j] === 1) return 0;
      if (mask.shape[j] !== n)
        throw new Error(
          `${op}: mask ${fmt(mask.shape)} does not broadcast to [B, Hq, Sq, Sk] = ${fmt(full)}`,
        );
      return mask.strides[j];
    }) as [number, number, number, number];
  }
  const shape: AttentionShape = { batch: b, hq, hkv, sq, sk, d, scale };
  const dtype = q.dtype as 'f32' | 'f16';
  const eng = q.engine;
  const maskRef = (
    m: Tensor | undefined,
  ): (AttnMask & { kind: Exclude<AttentionMaskKind, 'none'> }) | undefined =>
    m
      ? {
          buffer: m.buffer,
          offset: m.offset,
          strides: maskStrides,
          kind: maskKind as Exclude<AttentionMaskKind, 'none'>,
        }
      : undefined;
  const label = `${op} q${fmt(q.shape)} k${fmt(k.shape)}${past ? ` past${fmt(past.k.shape)}` : ''}`;

  const [out, lse] = noGrad(() => {
    const temps: Tensor[] = [];
    const o = Tensor.empty([b, hq, sq, d], dtype, eng);
    const l = Tensor.empty([b, hq, sq], 'f32', eng);
    const pastRef: AttnPast | undefined = past
      ? { k: operand(past.k, temps), v: operand(past.v, temps), length: sp }
      : undefined;
    launchAttention(eng, {
      stage: 'fwd',
      dtype,
      shape,
      q: operand(q, temps),
      k: operand(k, temps),
      v: operand(v, temps),
      mask: maskRef(mask),
      past: pastRef,
      lse: l.buffer,
      outputs: [o.buffer],
      label,
    });
    for (const t of temps) t.dispose();
    return [o, l];
  });
  if (past) {
    // No gradient is needed here (see above): nothing to record.
    lse.dispose();
    return out;
  }
  const needQ = q.requiresGrad;
  const needKV = k.requiresGrad || v.requiresGrad;
  const result = recordOp(
    op,
    out,
    [q, k, v],
    (g, [sq_, sk_, sv, so, slse, smask]) =>
      tidy(() => {
        // Δ = rowsum(dO ∘ O) in f32.
        const delta = contiguous(
          dtype === 'f32' ? sum(mul(g, so), -1) : sum(mul(cast(g, 'f32'), cast(so, 'f32')), -1),
        );
        const temps: Tensor[] = [];
        const ops = {
          q: operand(sq_, temps),
          k: operand(sk_, temps),
          v: operand(sv, temps),
          dout: operand(g, temps),
        };
        let gq: Tensor | null = null;
        let gk: Tensor | null = null;
        let gv: Tensor | null = null;
        const common = { dtype, shape, ...ops, mask: maskRef(smask), lse: slse.buffer, delta: delta.buffer };
        if (delta.offset !== 0 || slse.offset !== 0)
          throw new Error(`${op}: internal error, row statistics must start at offset 0`);
        if (needKV) {
          gk = Tensor.empty(sk_.shape, dtype, eng);
          gv = Tensor.empty(sv.shape, dtype, eng);
          launchAttention(eng, {
            ...common,
            stage: 'dkdv',
            outputs: [gk.buffer, gv.buffer],
            label: `${label} backward dK/dV`,
          });
        }
        if (needQ) {
          gq = Tensor.empty(sq_.shape, dtype, eng);
          launchAttention(eng, {
            ...common,
            stage: 'dq',
            outputs: [gq.buffer],
            label: `${label} backward dQ`,
          });
        }
        return [gq, gk, gv];
      }),
    [q, k, v, out, lse, ...(mask ? [mask] : [])],
  );
  lse.dispose();
  return result;
}
