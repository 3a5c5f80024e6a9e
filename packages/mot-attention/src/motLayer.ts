// One Mixture-of-Transformers layer (SPEC §1 "The model"): every expert normalises and projects its
// own tokens, the experts' q/k/v are concatenated along the sequence for ONE attention, and the
// result is split back so each expert applies its own o_proj, post-norm and MLP. Cached keys/values
// (`past`) are read in place by the attention kernel, never concatenated with the new ones.
import {
  Module,
  concat,
  reshape,
  rotaryEmbedding,
  scaledDotProductAttention,
  slice,
  transpose,
  type Tensor,
} from '@vla/tensor-webgpu';
import { ExpertLayer, checkExperts, type ExpertConfig } from './expertLayer.js';

/** Rotary tables of the tokens being computed: `cos`/`sin` `[S, headDim/2]` or `[B, 1, S, headDim/2]`. */
export interface RopeTables {
  cos: Tensor;
  sin: Tensor;
}

/** Keys and values of earlier tokens for one layer, after k-norm and rotary: `[B, kvHeads, S, headDim]`. */
export interface LayerKV {
  k: Tensor;
  v: Tensor;
}

/** Inputs of {@link MoTLayer.forward} besides the hidden states. */
export interface MoTLayerContext {
  /**
   * Additive attention mask (0 / large negative, see `segmentMaskTensor`) broadcastable to
   * `[B, qHeads, Sq, Sk]`, where Sq counts the tokens computed now and Sk = cached + Sq.
   */
  mask: Tensor;
  /** Rotary tables of the Sq tokens computed now (M-RoPE: see `mropeRope`). */
  rope: RopeTables;
  /**
   * Keys/values of earlier tokens (KV cache), attended before the current tokens and read in place
   * (any strides with a contiguous last dim, e.g. a view on a preallocated store).
   */
  past?: LayerKV | null;
  /** Benchmark peer only: attend to a concatenation of `past` and the present keys/values. @internal */
  concatenatePast?: boolean;
}

/** Result of {@link MoTLayer.forward}. */
export interface MoTLayerOutput {
  /** New hidden states per expert (null where the input was null). */
  hidden: (Tensor | null)[];
  /** Keys/values of the tokens computed now (not the past): what a KV cache appends. */
  kv: LayerKV;
}

/**
 * A MoT layer: per-expert {@link ExpertLayer}s registered under the experts' names, one joint
 * grouped-query attention. Experts share head counts and head_dim; widths may differ.
 */
export class MoTLayer extends Module {
  readonly experts: readonly ExpertConfig[];
  /** Per-expert weights, in the order of `experts`. */
  readonly layers: readonly ExpertLayer[];

  /** Builds fresh expert layers, or wraps `layers` (built elsewhere, e.g. by a {@link MoTStack}). */
  constructor(experts: readonly ExpertConfig[], layers?: readonly ExpertLayer[]) {
    super();
    checkExperts(experts);
    this.experts = experts;
    if (layers && layers.length !== experts.length)
      throw new Error(`MoTLayer: ${layers.length} layers for ${experts.length} experts`);
    this.layers = experts.map((e, i) => this.module(e.name, layers?.[i] ?? new ExpertLayer(e)));
  }

  /**
   * Runs the layer on per-expert hidden states `[B, S_i, width_i]` (null for an expert that has no
   * tokens in this call, e.g. the prefix step of cached inference or the ablation without the
   * generation expert). Tokens are ordered expert by expert, after any `past` tokens.
   */
  forward(hidden: readonly (Tensor | null)[], ctx: MoTLayerContext): MoTLayerOutput {
    if (hidden.length !== this.layers.length)
      throw new Error(`MoTLayer: ${hidden.length} hidden states for ${this.layers.length} experts`);
    const present = hidden.map((x, i) => (x ? i : -1)).filter((i) => i >= 0);
    if (present.length === 0) throw new Error('MoTLayer: every expert input is null');
    const B = hidden[present[0]]!.shape[0];
    for (const i of present) {
      if (hidden[i]!.shape[0] !== B)
        throw new Error(
          `MoTLayer: expert "${this.experts[i].name}" has batch ${hidden[i]!.shape[0]}, expected ${B}`,
        );
    }
    const { qHeads, headDim } = this.experts[0];

    // 1. per-expert norm, projections, q/k norm
    const parts = present.map((i) => this.layers[i].qkv(hidden[i]!));
    const lengths = present.map((i) => hidden[i]!.shape[1]);
    const cat = (ts: Tensor[]) => (ts.length === 1 ? ts[0] : concat(ts, 2));
    // 2. concatenate along the sequence, rotary positions, one attention
    const q = rotaryEmbedding(cat(parts.map((p) => p.q)), ctx.rope.cos, ctx.rope.sin);
    const k = rotaryEmbedding(cat(parts.map((p) => p.k)), ctx.rope.cos, ctx.rope.sin);
    const v = cat(parts.map((p) => p.v));
    const past = ctx.past ?? null;
    const Sq = q.shape[2];
    const Sk = (past?.k.shape[2] ?? 0) + k.shape[2];
    const m = ctx.mask.shape;
    if (m.length !== 4 || m[2] !== Sq || m[3] !== Sk) {
      throw new Error(
        `MoTLayer: mask [${m.join(', ')}] does not fit ${Sq} queries x ${Sk} keys (expected [B, 1, ${Sq}, ${Sk}])`,
      );
    }
    const scale = 1 / Math.sqrt(headDim);
    const attn =
      past && ctx.concatenatePast
        ? scaledDotProductAttention(q, concat([past.k, k], 2), concat([past.v, v], 2), {
            mask: ctx.mask,
            scale,
          })
        : scaledDotProductAttention(q, k, v, { mask: ctx.mask, scale, past });
    const flat = reshape(transpose(attn, 1, 2), [B, Sq, qHeads * headDim]);
    // 3. split back; each expert's o_proj, residual, post-norm SwiGLU, residual
    const out: (Tensor | null)[] = hidden.map(() => null);
    let start = 0;
    present.forEach((i, n) => {
      const piece = slice(flat, 1, start, start + lengths[n]);
      out[i] = this.layers[i].finish(hidden[i]!, piece);
      start += lengths[n];
    });
    return { hidden: out, kv: { k, v } };
  }
}
