// openpi's action-token embedding: action_time_mlp_out(SiLU(action_time_mlp_in(
// concat(action_in_proj(x_t), temb(t))))). Layer names follow upstream openpi / InternVLA-A1.
import { Linear, Module, concat, expand, silu, tidy, unsqueeze, type Tensor } from '@vla/tensor-webgpu';
import type { TimeInput } from './timeArgument.js';
import { sinusoidalTimeEmbedding, type TimeEmbeddingOptions } from './timeEmbedding.js';

/** The three layers of the action/time embedding (any object holding them, e.g. a policy). */
export interface ActionTimeLayers {
  /** Linear actionDim → width. */
  action_in_proj: Linear;
  /** Linear 2·width → width. */
  action_time_mlp_in: Linear;
  /** Linear width → width. */
  action_time_mlp_out: Linear;
}

/**
 * Embeds noisy actions `x_t` `[B, H, actionDim]` at times `t` (one per sample) as action tokens
 * `[B, H, width]`. Use this with layers registered by a policy that wants upstream's flat names
 * (`action_in_proj.weight`, ...) at its top level; {@link ActionTimeMlp} bundles the same layers.
 */
export function actionTimeTokens(
  layers: ActionTimeLayers,
  xt: Tensor,
  t: TimeInput,
  options: TimeEmbeddingOptions = {},
): Tensor {
  if (xt.rank !== 3)
    throw new Error(`actionTimeTokens: x_t must be [B, H, actionDim], got [${xt.shape.join(', ')}]`);
  const [B, H] = xt.shape;
  return tidy(() => {
    const a = layers.action_in_proj.forward(xt);
    const width = a.shape[2];
    const temb = sinusoidalTimeEmbedding(t, width, { ...options, batch: B });
    if (temb.shape[0] !== B) throw new Error(`actionTimeTokens: ${temb.shape[0]} times for a batch of ${B}`);
    const te = expand(unsqueeze(temb, 1), [B, H, width]);
    const h = layers.action_time_mlp_in.forward(concat([a, te], 2));
    return layers.action_time_mlp_out.forward(silu(h));
  });
}

/** Options of {@link ActionTimeMlp}. */
export interface ActionTimeMlpOptions extends TimeEmbeddingOptions {
  /** Padded action dimension (default 32). */
  actionDim?: number;
}

/**
 * Module form of {@link actionTimeTokens}: children `action_in_proj` (actionDim → width),
 * `action_time_mlp_in` (2·width → width) and `action_time_mlp_out` (width → width), with biases.
 * `state_proj` and `action_out_proj` are plain Linear layers and belong to the policy.
 */
export class ActionTimeMlp extends Module implements ActionTimeLayers {
  readonly action_in_proj: Linear;
  readonly action_time_mlp_in: Linear;
  readonly action_time_mlp_out: Linear;
  readonly actionDim: number;

  constructor(
    readonly width: number,
    private readonly options: ActionTimeMlpOptions = {},
  ) {
    super();
    if (!Number.isInteger(width) || width <= 0 || width % 2 !== 0)
      throw new Error(`ActionTimeMlp: width must be a positive even integer, got ${width}`);
    this.actionDim = options.actionDim ?? 32;
    this.action_in_proj = this.module('action_in_proj', new Linear(this.actionDim, width));
    this.action_time_mlp_in = this.module('action_time_mlp_in', new Linear(2 * width, width));
    this.action_time_mlp_out = this.module('action_time_mlp_out', new Linear(width, width));
  }

  /** Action tokens `[B, H, width]` from noisy actions `[B, H, actionDim]` and times `[B]`. */
  forward(xt: Tensor, t: TimeInput): Tensor {
    if (xt.rank !== 3 || xt.shape[2] !== this.actionDim) {
      throw new Error(`ActionTimeMlp: x_t must be [B, H, ${this.actionDim}], got [${xt.shape.join(', ')}]`);
    }
    return actionTimeTokens(this, xt, t, this.options);
  }
}
