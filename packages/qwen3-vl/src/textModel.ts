// Qwen3 text decoder with HF parameter names (`embed_tokens`, `layers.{i}.self_attn.{q,k,v,o}_proj`,
// `q_norm`, `k_norm`, `input_layernorm`, `post_attention_layernorm`, `mlp.{gate,up,down}_proj`,
// `norm`). The layers are @vla/mot-attention's `ExpertLayer`s — the same modules the policy runs in
// its Mixture-of-Transformers — and the standalone forward is that MoT with this one expert.
import { Embedding, linear, Module, ModuleList, RMSNorm, tidy, type Tensor } from '@vla/tensor-webgpu';
import { ExpertLayer, MoTLayer, type ExpertConfig, type RopeTables } from '@vla/mot-attention';
import type { Qwen3TextConfig } from './config.js';

/** The MoT expert description of a Qwen3 text config (`name` is the expert's key in a MoT stack). */
export function textExpertConfig(config: Qwen3TextConfig, name = 'und'): ExpertConfig {
  return {
    name,
    width: config.hiddenSize,
    mlpWidth: config.intermediateSize,
    qHeads: config.numHeads,
    kvHeads: config.numKvHeads,
    headDim: config.headDim,
    eps: config.rmsNormEps,
  };
}

/** The Qwen3 text model (`model.language_model.*` in HF Qwen3-VL checkpoints) with a tied output head. */
export class Qwen3TextModel extends Module {
  /** Token embedding [vocab, D], also the output head. */
  readonly embedTokens: Embedding;
  /** Decoder layers. */
  readonly layers: ModuleList<ExpertLayer>;
  /** Final RMSNorm. */
  readonly norm: RMSNorm;
  // One-expert MoT layers over `layers` (views, not registered: the weights live in `layers`).
  private readonly joint: MoTLayer[];

  constructor(readonly config: Qwen3TextConfig) {
    super();
    if (!config.tieWordEmbeddings)
      throw new Error(
        'Qwen3TextModel: only tied word embeddings are supported (tieWordEmbeddings must be true)',
      );
    const expert = textExpertConfig(config);
    this.embedTokens = this.module('embed_tokens', new Embedding(config.vocabSize, config.hiddenSize));
    this.layers = this.module(
      'layers',
      new ModuleList(Array.from({ length: config.numLayers }, () => new ExpertLayer(expert))),
    );
    this.norm = this.module('norm', new RMSNorm(config.hiddenSize, { eps: config.rmsNormEps }));
    this.joint = [...this.layers].map((layer) => new MoTLayer([expert], [layer]));
  }

  /** Token ids (i32 tensor, any shape) → embeddings [..., D]. */
  embed(ids: Tensor): Tensor {
    return this.embedTokens.forward(ids);
  }

  /**
   * Embeddings [B, S, D] through layers `[0, upTo)` (default all) and, when all ran, the final norm.
   * `rope` holds cos/sin `[B, 1, S, head_dim/2]` or `[S, head_dim/2]`; `mask` is additive `[B, 1, S, S]`.
   */
  forward(inputsEmbeds: Tensor, rope: RopeTables, mask: Tensor, upTo = this.joint.length): Tensor {
    if (!Number.isInteger(upTo) || upTo < 0 || upTo > this.joint.length)
      throw new Error(`Qwen3TextModel.forward: upTo ${upTo} outside [0, ${this.joint.length}]`);
    return tidy(() => {
      let h = inputsEmbeds;
      for (let l = 0; l < upTo; l++) h = this.joint[l].forward([h], { mask, rope }).hidden[0]!;
      return upTo === this.joint.length ? this.norm.forward(h) : h;
    });
  }

  /** Logits over the vocabulary from final hidden states (tied head: `h · embed_tokensᵀ`). */
  logits(hidden: Tensor): Tensor {
    return linear(hidden, this.embedTokens.weight);
  }
}
