// One expert's weights for one Mixture-of-Transformers layer, named as HF Qwen3 decoder layers
// (`input_layernorm`, `self_attn.{q,k,v,o}_proj`, `self_attn.{q,k}_norm`, `post_attention_layernorm`,
// `mlp.{gate,up,down}_proj`) so upstream state dicts map one to one.
import { Linear, Module, RMSNorm, SwiGLU, add, reshape, transpose, type Tensor } from '@vla/tensor-webgpu';

/** Shape of one expert. All experts of a MoT stack share `qHeads`, `kvHeads` and `headDim`. */
export interface ExpertConfig {
  /** Name of the expert's sub-module in the state dict (e.g. `und`, `gen`, `act`). */
  name: string;
  /** Hidden width of the residual stream. */
  width: number;
  /** SwiGLU hidden width. */
  mlpWidth: number;
  /** Query heads. */
  qHeads: number;
  /** Key/value heads (grouped-query attention: divides `qHeads`). */
  kvHeads: number;
  /** Per-head width, shared by all experts so their q/k/v concatenate. */
  headDim: number;
  /** RMSNorm epsilon (default 1e-6). */
  eps?: number;
  /**
   * Initialise the projections from N(0, initStd²) as Hugging Face's `_init_weights` does
   * (upstream's new experts: 0.02); default PyTorch's kaiming-uniform.
   */
  initStd?: number;
}

/** Checks a list of expert configs for a joint attention; throws naming the offending field. */
export function checkExperts(experts: readonly ExpertConfig[]): void {
  if (experts.length === 0) throw new Error('MoT: at least one expert is needed');
  const names = new Set<string>();
  for (const e of experts) {
    for (const k of ['width', 'mlpWidth', 'qHeads', 'kvHeads', 'headDim'] as const) {
      if (!Number.isInteger(e[k]) || e[k] <= 0)
        throw new Error(`MoT: expert "${e.name}" has invalid ${k} ${e[k]}`);
    }
    if (e.qHeads % e.kvHeads !== 0)
      throw new Error(
        `MoT: expert "${e.name}": qHeads ${e.qHeads} is not a multiple of kvHeads ${e.kvHeads}`,
      );
    if (e.headDim % 2 !== 0)
      throw new Error(`MoT: expert "${e.name}": headDim ${e.headDim} must be even for rotary positions`);
    if (names.has(e.name)) throw new Error(`MoT: expert name "${e.name}" is used twice`);
    names.add(e.name);
    const e0 = experts[0];
    for (const k of ['qHeads', 'kvHeads', 'headDim'] as const) {
      if (e[k] !== e0[k])
        throw new Error(`MoT: experts share ${k}, but "${e.name}" has ${e[k]} and "${e0.name}" has ${e0[k]}`);
    }
  }
}

/** `self_attn` of one expert: projections without bias and per-head RMSNorm of q and k. */
export class ExpertAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  readonly q_norm: RMSNorm;
  readonly k_norm: RMSNorm;

  constructor(readonly config: ExpertConfig) {
    super();
    const { width, qHeads, kvHeads, headDim } = config;
    const eps = config.eps ?? 1e-6;
    const o = { bias: false, initStd: config.initStd };
    this.q_proj = this.module('q_proj', new Linear(width, qHeads * headDim, o));
    this.k_proj = this.module('k_proj', new Linear(width, kvHeads * headDim, o));
    this.v_proj = this.module('v_proj', new Linear(width, kvHeads * headDim, o));
    this.o_proj = this.module('o_proj', new Linear(qHeads * headDim, width, o));
    this.q_norm = this.module('q_norm', new RMSNorm(headDim, { eps }));
    this.k_norm = this.module('k_norm', new RMSNorm(headDim, { eps }));
  }
}

/** Queries, keys and values of one expert's tokens, heads first: `[B, H, S, headDim]`. */
export interface Qkv {
  q: Tensor;
  k: Tensor;
  v: Tensor;
}

/** One expert's share of a MoT layer. */
export class ExpertLayer extends Module {
  readonly input_layernorm: RMSNorm;
  readonly self_attn: ExpertAttention;
  readonly post_attention_layernorm: RMSNorm;
  readonly mlp: SwiGLU;

  constructor(readonly config: ExpertConfig) {
    super();
    const eps = config.eps ?? 1e-6;
    this.input_layernorm = this.module('input_layernorm', new RMSNorm(config.width, { eps }));
    this.self_attn = this.module('self_attn', new ExpertAttention(config));
    this.post_attention_layernorm = this.module(
      'post_attention_layernorm',
      new RMSNorm(config.width, { eps }),
    );
    this.mlp = this.module('mlp', new SwiGLU(config.width, config.mlpWidth, { initStd: config.initStd }));
  }

  /** SPEC §1 step 1: `h = norm(x)`, `q = qnorm(Wq h)`, `k = knorm(Wk h)`, `v = Wv h`, heads split out. */
  qkv(x: Tensor): Qkv {
    const { width, qHeads, kvHeads, headDim } = this.config;
    if (x.rank !== 3 || x.shape[2] !== width) {
      throw new Error(
        `MoT expert "${this.config.name}": hidden states must be [B, S, ${width}], got [${x.shape.join(', ')}]`,
      );
    }
    const [B, S] = x.shape;
    const a = this.self_attn;
    const h = this.input_layernorm.forward(x);
    const heads = (t: Tensor, n: number) => transpose(reshape(t, [B, S, n, headDim]), 1, 2);
    return {
      q: heads(a.q_norm.forward(reshape(a.q_proj.forward(h), [B, S, qHeads, headDim])), qHeads),
      k: heads(a.k_norm.forward(reshape(a.k_proj.forward(h), [B, S, kvHeads, headDim])), kvHeads),
      v: heads(a.v_proj.forward(h), kvHeads),
    };
  }

  /** SPEC §1 step 3: `x += Wo attn`, then `x += mlp(postnorm(x))`. `attn` is `[B, S, qHeads * headDim]`. */
  finish(x: Tensor, attn: Tensor): Tensor {
    const r = add(x, this.self_attn.o_proj.forward(attn));
    return add(r, this.mlp.forward(this.post_attention_layernorm.forward(r)));
  }
}
