// InternVLA-A1: one Mixture-of-Transformers over [understanding | generation | action] tokens.
// The understanding expert (Qwen3-VL) reads the current frames and the task; the generation expert
// reads Cosmos latents of frames t−15 and t and predicts the latent of frame t+15 (visual
// foresight); the action expert turns the state and a noisy action chunk into a flow-matching
// velocity. Each method below is one paragraph of the paper (SPEC §1); the MoT layer, the masks and
// positions, flow matching, the tokenizer and the VLM live in their own packages.
import {
  actionTimeTokens,
  eulerSample,
  flowMatchingLoss,
  noisyPath,
  sampleTime,
  type ActionTimeLayers,
  type SamplerGuidance,
  type TimeInput,
} from '@vla/flow-matching';
import { ExpertStack, KVCache, MoTStack, type RopeTables } from '@vla/mot-attention';
import { Qwen3VLModel } from '@vla/qwen3-vl';
import {
  add,
  avgPool2d,
  concat,
  contiguous,
  Conv2d,
  ConvTranspose2d,
  detach,
  expand,
  isMeta,
  keep,
  LayerNorm,
  Linear,
  mean,
  Module,
  mul,
  noGrad,
  permute,
  randNormal,
  reshape,
  shapeSize,
  storageBytes,
  slice,
  squeeze,
  stack,
  tensor,
  tidy,
  transpose,
  unsqueeze,
  withMatrixDtype,
  type Tensor,
} from '@vla/tensor-webgpu';
import { CosmosImageTokenizer } from '@vla/vae';
import {
  checkBatch,
  checkObservation,
  type FrameLatents,
  type PolicyBatch,
  type PolicyObservation,
} from './batch.js';
import {
  derivedSizes,
  expertConfigs,
  IMAGE_RECON_CELLS,
  validatePolicyConfig,
  type DerivedSizes,
  type InternVLAA1Config,
} from './config.js';
import { JointSequence, type PositionScheme } from './jointSequence.js';

/**
 * The generation expert's input and output projections between Cosmos latents and its tokens
 * (absent in the ablation). Field names are upstream's module names.
 */
export interface ForesightProjections {
  /** `1x1 conv latent channels → width`. */
  cosmos_in_proj: Conv2d;
  /** `conv k = s = latent/genGrid`: latent grid → genGrid² tokens per frame. */
  downsample_conv: Conv2d;
  /** `ConvTranspose k = s = latent/genGrid`: genGrid² tokens → latent grid. */
  upsample_conv: ConvTranspose2d;
  /** `LayerNorm(width, eps 1e-5)` over channels. */
  cosmos_out_layer_norm: LayerNorm;
  /** `Linear width → latent channels`. */
  cosmos_out_proj: Linear;
}

/** Velocity of the action expert and, with the generation expert, the predicted t+15 latent. */
export interface PolicyOutput {
  /** `[B, chunkSize, stateDim]` flow-matching velocity. */
  velocity: Tensor;
  /** `[B · views, latentChannels, latent, latent]` predicted latent of frame t+15 (null without the expert). */
  latent: Tensor | null;
}

/** The training losses of one batch (scalars). */
export interface PolicyLoss {
  /** `L_action + λ · L_gen` (`+ μ · L_recon` with `imageReconWeight` μ). */
  loss: Tensor;
  /** `mean((v − u)²)` over non-padded actions. */
  actionLoss: Tensor;
  /** MSE of the predicted t+15 latent over valid views (null without the generation expert). */
  genLoss: Tensor | null;
  /** MSE of the image tokens' reconstruction of their frame over valid views (null when `imageReconWeight` is 0). */
  reconLoss: Tensor | null;
}

/** Options of {@link InternVLAA1Policy.computeLoss}. */
export interface LossOptions {
  /** Seed of the noise and of the flow times (default 0). Use a fresh one per step. */
  seed?: number;
  /**
   * Leave padded action steps (`actionIsPad`) out of the action loss. Default false, as upstream:
   * padded steps carry the clamped final pose (the episode's last action repeated), and learning to
   * hold still at the end of an episode is part of the task.
   */
  maskPaddedActions?: boolean;
  /**
   * Dimensions of the real action, the first `actionDim` of the padded `stateDim` (default all).
   * Upstream averages the action loss over these only; the padding dims are never supervised.
   */
  actionDim?: number;
  /** Noise `[B, chunkSize, stateDim]` instead of sampling it. */
  noise?: Tensor;
  /** Flow times `[B]` (or host values) instead of sampling Beta(1.5, 1)·0.999 + 0.001. */
  time?: TimeInput;
  /**
   * This batch is rows `[start, start + B)` of a global batch of `total` rows (data-parallel training):
   * the sampled noise and times are those rows of the global batch's draws, so ranks that split a
   * batch draw exactly what one process with the whole batch draws. Default: the batch is the whole.
   */
  batchRows?: { start: number; total: number };
}

/** Options of {@link InternVLAA1Policy.sampleActions}. */
export interface SampleOptions {
  /** Euler steps (default 10). */
  steps?: number;
  /**
   * Rotary numbering of the generation, state and action tokens (default `'training'`, which makes
   * cached sampling equal the uncached pass); `'upstream-inference'` reproduces upstream's
   * `sample_actions`, which differs only when a camera is missing. See {@link PositionScheme}.
   */
  positions?: PositionScheme;
  /** Seed of the starting noise (default 0). */
  seed?: number;
  /** Starting noise `[B, chunkSize, stateDim]` instead of a seed. */
  noise?: Tensor;
  /** Also return the predicted t+15 latent and its decoded images (visual foresight). */
  foresight?: boolean;
  /**
   * Real-time chunking: inpaint toward committed actions. `target` `[B, chunkSize, stateDim]`
   * (normalised policy-space actions), `weights` `[B, chunkSize]` prefix weights in [0, 1],
   * `maxGuidanceWeight` β. Passed to flow-matching's `eulerSample` (LeRobot's RTC guidance); the
   * tensors are the caller's (not disposed).
   */
  guidance?: SamplerGuidance;
}

/** Result of {@link InternVLAA1Policy.sampleActions}; the caller owns (and disposes) the tensors. */
export interface SampleResult {
  /** `[B, chunkSize, stateDim]` actions at t = 0. */
  actions: Tensor;
  /** With `foresight`: `[B · views, 16, h, w]` predicted latent of frame t+15. */
  latent?: Tensor;
  /** With `foresight`: `[B, views, 3, H, W]` the latent decoded by the tokenizer, clamped to [-1, 1]. */
  images?: Tensor;
}

/** Options of {@link InternVLAA1Policy.create}. */
export interface CreatePolicyOptions {
  /**
   * Storage dtype of the weight matrices (every Linear, embedding and convolution weight: > 99% of
   * a1-3b's parameters). `'f16'` halves their memory; activations, norms, biases and arithmetic stay
   * f32, so it runs on every device, shader-f16 or not. Use it for inference; train in f32.
   */
  weightDtype?: 'f32' | 'f16';
  /**
   * Initial weights: `'upstream'` (default) draws the generation and action experts' projections
   * from N(0, 0.02²) as Hugging Face's `_init_weights` does for upstream's new experts; `'pytorch'`
   * keeps PyTorch's kaiming-uniform everywhere. Other layers use PyTorch's defaults either way.
   */
  init?: 'upstream' | 'pytorch';
}

/** Parameters per expert, as {@link InternVLAA1Policy.parameterCounts} reports them. */
export interface ParameterCounts {
  /** Understanding expert: vision tower, and text decoder including the (tied) token embedding. */
  understanding: { vision: number; text: number; total: number };
  /** Generation expert (its MoT weights and latent projections); 0 in the ablation. */
  generation: number;
  /** Action expert (its MoT weights, state/action projections, action-time MLP). */
  action: number;
  /** The frozen image tokenizer (not trained). */
  vae: number;
  /** understanding + generation + action. */
  trainable: number;
  /** Everything, tokenizer included. */
  total: number;
}

/**
 * What cached sampling keeps across the denoising steps of one observation batch (SPEC §1 "Inference
 * with KV cache"): the KV cache of the prefix and generation tokens, the suffix mask and rotary
 * tables, the state and the predicted t+15 latent. Built by {@link InternVLAA1Policy.prefill}.
 *
 * Ownership: the context takes the cache and holds its own handles on the tensors it is given (views
 * sharing their data), so the given tensors stay under their creator's scope rules and no scope ever
 * frees what the context holds; only {@link SamplingContext.dispose} does. Read its tensors, never
 * dispose or return them: take a handle (`detach`) to keep data beyond the context.
 */
export class SamplingContext {
  /**
   * Keys/values of the prefix and generation tokens for every layer, preallocated for both; the
   * action steps read it in place and never grow it.
   */
  readonly cache: KVCache;
  /** Mask of the state + action rows against the whole sequence. */
  readonly suffixMask: Tensor;
  /** Rotary tables of the state + action tokens. */
  readonly suffixRope: RopeTables;
  /** The observation's state `[B, stateDim]`. */
  readonly state: Tensor;
  /** Predicted t+15 latent `[B · views, 16, h, w]` (null without the generation expert). */
  readonly latent: Tensor | null;
  private disposed = false;

  /** Takes ownership of `cache`; holds its own handles on the tensors. */
  constructor(
    cache: KVCache,
    /** The batch's joint sequence. */
    readonly sequence: JointSequence,
    suffixMask: Tensor,
    suffixRope: RopeTables,
    state: Tensor,
    latent: Tensor | null,
  ) {
    this.cache = cache;
    this.suffixMask = own(suffixMask);
    this.suffixRope = { cos: own(suffixRope.cos), sin: own(suffixRope.sin) };
    this.state = own(state);
    this.latent = latent ? own(latent) : null;
  }

  /** True once {@link SamplingContext.dispose} ran. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the cache and the context's handles. Safe to call twice. */
  dispose(): void {
    this.disposed = true;
    this.cache.dispose();
    for (const t of [this.suffixMask, this.suffixRope.cos, this.suffixRope.sin, this.state, this.latent])
      t?.dispose();
  }
}

/** State-dict name prefixes of each expert (used to count parameters). */
const EXPERT_PREFIXES = {
  vision: ['und_expert.visual.', 'und_recon_proj.'],
  text: ['und_expert.language_model.'],
  generation: ['gen_expert.', 'cosmos_in_proj.', 'downsample_conv.', 'upsample_conv.', 'cosmos_out_'],
  action: ['act_expert.', 'state_proj.', 'action_'],
  vae: ['cosmos.'],
} as const;

/** Std of the normal initialisation of upstream's new experts (HF `initializer_range`). */
const NEW_EXPERT_INIT_STD = 0.02;

/**
 * The InternVLA-A1 policy. Build the 3B configuration inside `meta(() => new InternVLAA1Policy(...))`
 * to inspect shapes without allocating; train with {@link InternVLAA1Policy.computeLoss}; act with
 * {@link InternVLAA1Policy.sampleActions}. Module names are upstream's (`QwenA1` minus `model.` and
 * `qwen3_vl_with_expert.`): `und_expert` is a whole Qwen3-VL, `gen_expert` / `act_expert` are
 * Qwen3 decoders without embeddings, and `cosmos` is the frozen image tokenizer.
 */
export class InternVLAA1Policy extends Module implements ActionTimeLayers {
  /** The configuration (validated). */
  readonly config: InternVLAA1Config;
  /** Sizes derived from the configuration. */
  readonly sizes: DerivedSizes;
  /** Understanding expert: the Qwen3-VL model (vision tower, token embedding, decoder layers, norm). */
  readonly und_expert: Qwen3VLModel;
  /** Generation expert's decoder layers and final norm (null in the ablation without visual foresight). */
  readonly gen_expert: ExpertStack | null;
  /** Action expert's decoder layers and final norm. */
  readonly act_expert: ExpertStack;
  /** The three experts' layers joined into one Mixture-of-Transformers (a view: owns no weights). */
  readonly mot: MoTStack;
  /** Generation expert's latent projections (null in the ablation without visual foresight). */
  readonly foresight: ForesightProjections | null;
  /** Action expert: `Linear stateDim → width` for the state token. */
  readonly state_proj: Linear;
  /** Action expert: noisy action → width (see `actionTimeTokens`). */
  readonly action_in_proj: Linear;
  /** Action expert: 2·width → width. */
  readonly action_time_mlp_in: Linear;
  /** Action expert: width → width. */
  readonly action_time_mlp_out: Linear;
  /** Action expert: `Linear width → stateDim` on the action positions. */
  readonly action_out_proj: Linear;
  /**
   * Understanding expert: `Linear width → 3 · cells²` from each image token's output to its region of
   * the frame (see `imageReconWeight`); null when that weight is 0.
   */
  readonly und_recon_proj: Linear | null;
  /** Frozen Cosmos image tokenizer (stop-gradient latents; decoder for foresight images). */
  readonly cosmos: CosmosImageTokenizer;
  private readonly slot: { und: number; gen: number; act: number };

  /**
   * Builds a policy with its weight matrices stored in `weightDtype` from the start (one matrix at a
   * time is ever held in f32). `new InternVLAA1Policy(config)` is the f32 policy.
   * @example const policy = InternVLAA1Policy.create(policyConfig('a1-3b'), { weightDtype: 'f16' });
   */
  static create(config: InternVLAA1Config, options: CreatePolicyOptions = {}): InternVLAA1Policy {
    return withMatrixDtype(options.weightDtype ?? 'f32', () => new InternVLAA1Policy(config, options));
  }

  /** An f32 policy (see {@link InternVLAA1Policy.create} for `weightDtype`). */
  constructor(config: InternVLAA1Config, options: Pick<CreatePolicyOptions, 'init'> = {}) {
    super();
    validatePolicyConfig(config);
    this.config = config;
    this.sizes = derivedSizes(config);
    const text = config.vlm.text;
    const initStd = (options.init ?? 'upstream') === 'upstream' ? NEW_EXPERT_INIT_STD : undefined;
    const experts = expertConfigs(config).map((e) => (e.name === 'und' ? e : { ...e, initStd }));
    this.slot = { und: 0, gen: config.generation ? 1 : -1, act: experts.length - 1 };

    this.und_expert = this.module('und_expert', new Qwen3VLModel(config.vlm));
    const stack = (name: string) =>
      new ExpertStack(
        experts.find((e) => e.name === name)!,
        text.numLayers,
      );
    this.gen_expert = config.generation ? this.module('gen_expert', stack('gen')) : null;
    this.act_expert = this.module('act_expert', stack('act'));
    const stacks = [this.und_expert.languageModel, this.gen_expert, this.act_expert].filter(
      (s) => s !== null,
    );
    this.mot = new MoTStack(experts, text.numLayers, stacks);

    if (config.generation) {
      const w = config.generation.width;
      const c = config.vae.latentChannels;
      const k = this.sizes.tokenKernel;
      this.foresight = {
        cosmos_in_proj: this.module('cosmos_in_proj', new Conv2d(c, w, 1)),
        downsample_conv: this.module('downsample_conv', new Conv2d(w, w, k, { stride: k })),
        upsample_conv: this.module('upsample_conv', new ConvTranspose2d(w, w, k, { stride: k })),
        cosmos_out_layer_norm: this.module('cosmos_out_layer_norm', new LayerNorm(w, { eps: 1e-5 })),
        cosmos_out_proj: this.module('cosmos_out_proj', new Linear(w, c)),
      };
    } else {
      this.foresight = null;
    }

    const wa = config.action.width;
    this.state_proj = this.module('state_proj', new Linear(config.stateDim, wa));
    // flow-matching's ActionTimeMlp layers, registered flat under upstream's names.
    this.action_in_proj = this.module('action_in_proj', new Linear(config.stateDim, wa));
    this.action_time_mlp_in = this.module('action_time_mlp_in', new Linear(2 * wa, wa));
    this.action_time_mlp_out = this.module('action_time_mlp_out', new Linear(wa, wa));
    this.action_out_proj = this.module('action_out_proj', new Linear(wa, config.stateDim));

    this.cosmos = this.module('cosmos', new CosmosImageTokenizer(config.vae));
    if (!isMeta()) for (const [, p] of this.cosmos.namedParameters()) p.requiresGrad = false;
    // Built last, so a policy without it draws the same initial weights as before it existed.
    this.und_recon_proj = config.imageReconWeight
      ? this.module('und_recon_proj', new Linear(text.hiddenSize, 3 * IMAGE_RECON_CELLS ** 2, { initStd }))
      : null;
  }

  /** Hidden states per MoT expert slot (null for experts without tokens in this pass). */
  private experts(und: Tensor | null, gen: Tensor | null, act: Tensor | null): (Tensor | null)[] {
    const h: (Tensor | null)[] = new Array<Tensor | null>(this.mot.experts.length).fill(null);
    h[this.slot.und] = und;
    if (this.slot.gen >= 0) h[this.slot.gen] = gen;
    h[this.slot.act] = act;
    return h;
  }

  /**
   * Understanding prefix `[B, prefixTokens, width_und]`: per view `<vision_start>`, the vision
   * tower's merged tokens of the current frame, `<vision_end>`; then the task text. Missing views are
   * embedded like the others; the mask makes them padding.
   */
  embedPrefix(obs: PolicyObservation): Tensor {
    const { views, imageSize } = this.config;
    const B = obs.state.shape[0];
    const D = this.config.vlm.text.hiddenSize;
    const visual = this.und_expert.visual;
    return tidy(() => {
      let img: Tensor;
      if (obs.visionPatches) {
        // Upstream's input: the image processor's patches, one grid per view.
        const [rows, cols] = this.sizes.imageGrid;
        const m = this.config.vlm.vision.spatialMergeSize;
        const grid: [number, number, number] = [1, rows * m, cols * m];
        img = visual.forwardPatches(
          obs.visionPatches,
          Array.from({ length: B * views }, () => grid),
        ).tokens;
      } else {
        const current = obs.images.map((v) => v.current);
        img = visual.forward(reshape(stack(current, 1), [B * views, 3, imageSize, imageSize])).tokens;
      }
      const perView = reshape(img, [B, views, this.sizes.imageTokens, D]);
      const ids = this.config.tokenIds;
      const embed = (t: Tensor) => this.und_expert.languageModel.embed(t);
      const special = embed(tensor([ids.visionStart, ids.visionEnd], [2], 'i32'));
      const one = (i: number) => expand(reshape(slice(special, 0, i, i + 1), [1, 1, D]), [B, 1, D]);
      const pieces: Tensor[] = [];
      for (let v = 0; v < views; v++) pieces.push(one(0), squeeze(slice(perView, 1, v, v + 1), 1), one(1));
      pieces.push(embed(tensor(obs.tokens, [B, this.config.textTokens], 'i32')));
      return concat(pieces, 1);
    });
  }

  /**
   * Cosmos latents (frozen tokenizer, no gradient) of frames t−15 and t of every view, ordered
   * (batch, view, time) → `[B · views · 2, 16, h, w]`; with `future`, also the t+15 targets
   * `[B · views, 16, h, w]`. One tokenizer call encodes all of them.
   */
  encodeFrames(obs: PolicyObservation, future: boolean): FrameLatents {
    const { views, imageSize } = this.config;
    const B = obs.state.shape[0];
    const frames = obs.images.flatMap((v) => [v.past, v.current]);
    if (future) frames.push(...obs.images.map((v, i) => v.future ?? missing(`images[${i}].future`)));
    const n = frames.length;
    return noGrad(() =>
      tidy(() => {
        const lat = this.cosmos.encode(reshape(stack(frames, 1), [B * n, 3, imageSize, imageSize]));
        const [, c, h, w] = lat.shape;
        const byFrame = reshape(lat, [B, n, c, h, w]);
        const part = (a: number, b: number) =>
          reshape(contiguous(slice(byFrame, 1, a, b)), [B * (b - a), c, h, w]);
        return { inputs: part(0, 2 * views), targets: future ? part(2 * views, 3 * views) : null };
      }),
    );
  }

  /**
   * Generation tokens `[B, views·2·g², width_gen]`: `1x1 conv 16→width`, then `conv k = s = latent/g`
   * to a g x g grid per frame; order view, time, row-major.
   */
  embedGeneration(latents: Tensor): Tensor {
    const gen = this.foresight ?? noGenerationExpert();
    const frames = 2 * this.config.views;
    const B = latents.shape[0] / frames;
    const g2 = this.config.genGrid ** 2;
    return tidy(() => {
      const x = gen.downsample_conv.forward(gen.cosmos_in_proj.forward(latents)); // [B·2V, W, g, g]
      const W = x.shape[1];
      return reshape(contiguous(transpose(reshape(x, [B, frames, W, g2]), 2, 3)), [B, frames * g2, W]);
    });
  }

  /**
   * Visual foresight from the generation expert's normed output `[B, views·2·g², W]`: mean over the
   * two frames, `ConvTranspose k = s` back to the latent grid, LayerNorm over channels, Linear W → 16
   * → the predicted t+15 latent `[B · views, 16, h, w]`.
   */
  predictLatent(out: Tensor): Tensor {
    const gen = this.foresight ?? noGenerationExpert();
    const { views, genGrid: g } = this.config;
    const [B, , W] = out.shape;
    return tidy(() => {
      const perFrame = mean(reshape(out, [B * views, 2, g * g, W]), [1]); // [B·V, g², W]
      const grid = reshape(contiguous(transpose(perFrame, 1, 2)), [B * views, W, g, g]);
      const up = contiguous(permute(gen.upsample_conv.forward(grid), [0, 2, 3, 1])); // [B·V, h, w, W]
      const latent = gen.cosmos_out_proj.forward(gen.cosmos_out_layer_norm.forward(up));
      return contiguous(permute(latent, [0, 3, 1, 2]));
    });
  }

  /**
   * Action-expert tokens `[B, 1 + chunkSize, width_act]`: the state token `state_proj(state)`, then
   * `action_time_mlp_out(SiLU(action_time_mlp_in([action_in_proj(x_t), temb(t)])))` per action.
   */
  embedSuffix(state: Tensor, xt: Tensor, t: TimeInput): Tensor {
    return tidy(() =>
      concat([unsqueeze(this.state_proj.forward(state), 1), actionTimeTokens(this, xt, t)], 1),
    );
  }

  /** `action_out_proj` on the action positions of the action expert's output. */
  private velocityHead(act: Tensor): Tensor {
    return this.action_out_proj.forward(slice(act, 1, 1, 1 + this.config.chunkSize));
  }

  /** Latents of frames t−15 and t: the observation's own, or encoded now. */
  private inputLatents(obs: PolicyObservation): Tensor {
    return obs.latents?.inputs ?? this.encodeFrames(obs, false).inputs;
  }

  /**
   * The full, uncached pass used in training: the joint sequence through the MoT stack with the
   * cumulative segment mask and M-RoPE positions.
   */
  forward(obs: PolicyObservation, xt: Tensor, t: TimeInput): PolicyOutput {
    return tidy(() => {
      const { velocity, latent } = this.joint(obs, xt, t);
      return { velocity, latent };
    });
  }

  /** {@link forward}, keeping the understanding expert's output (`und`, `[B, prefixTokens, width]`). */
  private joint(obs: PolicyObservation, xt: Tensor, t: TimeInput): PolicyOutput & { und: Tensor } {
    const B = checkObservation(this.config, obs);
    return tidy(() => {
      const seq = new JointSequence(this.config, B, obs.imageMasks, obs.textMask);
      const genTokens = this.foresight ? this.embedGeneration(this.inputLatents(obs)) : null;
      const hidden = this.experts(this.embedPrefix(obs), genTokens, this.embedSuffix(obs.state, xt, t));
      const out = this.mot.forward(hidden, { mask: seq.mask(), rope: seq.rope() });
      return {
        velocity: this.velocityHead(out[this.slot.act]!),
        latent: this.foresight ? this.predictLatent(out[this.slot.gen]!) : null,
        und: out[this.slot.und]!,
      };
    });
  }

  /**
   * `L_recon`: each image token of the understanding expert's output predicts its region of the
   * current frame, average-pooled to `IMAGE_RECON_CELLS²` cells per channel; MSE over valid views.
   * Not in the paper: a from-scratch understanding expert otherwise lets its image tokens go blind
   * (docs/decisions.md), where upstream's starts from a pretrained Qwen3-VL.
   */
  private reconLoss(obs: PolicyObservation, und: Tensor, B: number): Tensor {
    const { views, imageSize: S } = this.config;
    const [rows, cols] = this.sizes.imageGrid;
    const n = rows * cols;
    const c = IMAGE_RECON_CELLS;
    return tidy(() => {
      // Image tokens of each view: [B, views, n, width] (each view is <vision_start>, n tokens, <vision_end>).
      const tokens = stack(
        Array.from({ length: views }, (_, v) => slice(und, 1, v * (n + 2) + 1, v * (n + 2) + 1 + n)),
        1,
      );
      const predicted = this.und_recon_proj!.forward(tokens);
      const frames = reshape(
        stack(
          obs.images.map((v) => v.current),
          1,
        ),
        [B * views, 3, S, S],
      );
      const pooled = avgPool2d(frames, { kernel: [S / (rows * c), S / (cols * c)] }); // [B·V, 3, rows·c, cols·c]
      const regions = permute(reshape(pooled, [B * views, 3, rows, c, cols, c]), [0, 2, 4, 1, 3, 5]);
      const target = reshape(contiguous(regions), [B, views, n, 3 * c * c]);
      return flowMatchingLoss(predicted, target, { mask: flagTensor(obs.imageMasks, [B, views, 1, 1]) });
    });
  }

  /**
   * Training objective `L = L_action + λ·L_gen`: flow matching on the action chunk (t ~ Beta,
   * `x_t = t·ε + (1−t)·a`, target `ε − a`) and the MSE between the predicted and the encoded t+15
   * latent over valid views; with `imageReconWeight` μ, also `+ μ·L_recon` (not in the paper).
   */
  computeLoss(batch: PolicyBatch, options: LossOptions = {}): PolicyLoss {
    const B = checkBatch(this.config, batch);
    const { chunkSize: H, stateDim: D, views } = this.config;
    const seed = options.seed ?? 0;
    return tidy(() => {
      const { start, total } = batchRows(B, options.batchRows);
      const rows = (t: Tensor) => (total === B ? t : slice(t, 0, start, start + B));
      const noise = options.noise ?? rows(randNormal([total, H, D], { seed: mixSeed(seed, 1) }));
      const time = options.time ?? rows(sampleTime(total, { seed: mixSeed(seed, 2) }));
      const { xt, target } = noisyPath(batch.actions, noise, time);
      let frames: FrameLatents | null = null;
      if (this.foresight) frames = batch.latents?.targets ? batch.latents : this.encodeFrames(batch, true);
      const out = this.joint({ ...batch, latents: frames ?? undefined }, xt, time);
      const actionMask = this.actionLossMask(B, batch.actionIsPad, options);
      const actionLoss = flowMatchingLoss(out.velocity, target, { mask: actionMask });
      let loss = actionLoss;
      let genLoss: Tensor | null = null;
      if (frames && out.latent) {
        // A masked MSE: flowMatchingLoss is sum(mask·(x − y)²) / sum(mask) over the broadcast mask.
        const viewMask = flagTensor(batch.imageMasks, [B * views, 1, 1, 1]);
        genLoss = flowMatchingLoss(out.latent, frames.targets!, { mask: viewMask });
        loss = add(loss, mul(genLoss, this.config.genLossWeight));
      }
      let reconLoss: Tensor | null = null;
      if (this.und_recon_proj) {
        reconLoss = this.reconLoss(batch, out.und, B);
        loss = add(loss, mul(reconLoss, this.config.imageReconWeight!));
      }
      return { loss, actionLoss, genLoss, reconLoss };
    });
  }

  /**
   * Which entries of the `[B, chunkSize, stateDim]` action chunk the action loss averages over (null:
   * all): the real action dims, and with `maskPaddedActions` only the steps inside the episode.
   */
  private actionLossMask(
    B: number,
    isPad: ArrayLike<number | boolean> | undefined,
    options: LossOptions,
  ): Tensor | undefined {
    const { chunkSize: H, stateDim: D } = this.config;
    const dims = options.actionDim ?? D;
    if (!Number.isInteger(dims) || dims < 1 || dims > D)
      throw new Error(
        `InternVLAA1Policy.computeLoss: actionDim must be an integer in [1, ${D}], got ${dims}`,
      );
    const maskSteps = (options.maskPaddedActions ?? false) && isPad !== undefined;
    if (!maskSteps && dims === D) return undefined;
    const mask = new Float32Array(B * H * D);
    for (let s = 0; s < B * H; s++) {
      if (maskSteps && isPad![s]) continue;
      mask.fill(1, s * D, s * D + dims);
    }
    return tensor(mask, [B, H, D]);
  }

  /**
   * Inference steps 1–2: the understanding expert alone on the prefix, then the generation expert
   * on its tokens against the cached prefix, both writing their keys/values into a fresh cache
   * preallocated for prefix + generation tokens (no copy when the generation tokens are appended).
   * Also predicts the t+15 latent. The caller owns the context: dispose it when done.
   */
  prefill(obs: PolicyObservation, positions: PositionScheme = 'training'): SamplingContext {
    const B = checkObservation(this.config, obs);
    const seq = new JointSequence(this.config, B, obs.imageMasks, obs.textMask, positions);
    const { prefix, generation, suffix } = seq.layout;
    const cache = new KVCache(this.mot.numLayers, { capacity: suffix.start });
    try {
      return noGrad(() =>
        tidy(() => {
          const pre = this.experts(this.embedPrefix(obs), null, null);
          this.mot.forward(pre, {
            mask: seq.mask(prefix),
            rope: seq.rope(prefix),
            cache,
            append: true,
            finalNorm: false,
          });
          let latent: Tensor | null = null;
          if (this.foresight) {
            const gen = this.experts(null, this.embedGeneration(this.inputLatents(obs)), null);
            const out = this.mot.forward(gen, {
              mask: seq.mask(generation),
              rope: seq.rope(generation),
              cache,
              append: true,
            });
            latent = this.predictLatent(out[this.slot.gen]!);
          }
          // The context takes its own handles; this scope frees the originals.
          return new SamplingContext(cache, seq, seq.mask(suffix), seq.rope(suffix), obs.state, latent);
        }),
      );
    } catch (err) {
      // No context owns the cache yet: free what the steps before the failure appended.
      cache.dispose();
      throw err;
    }
  }

  /**
   * Inference step 3: the action expert's 1 + chunkSize tokens against the cache → velocity. The
   * cache is read in place (nothing copied per step) when no gradient is recorded, e.g. inside
   * `noGrad` as `sampleActions` runs it; with gradients recorded attention reads a concatenation.
   */
  denoiseStep(ctx: SamplingContext, xt: Tensor, t: TimeInput): Tensor {
    if (ctx.isDisposed) throw new Error('InternVLAA1Policy.denoiseStep: the sampling context was disposed');
    return tidy(() => {
      const hidden = this.experts(null, null, this.embedSuffix(ctx.state, xt, t));
      const out = this.mot.forward(hidden, { mask: ctx.suffixMask, rope: ctx.suffixRope, cache: ctx.cache });
      return this.velocityHead(out[this.slot.act]!);
    });
  }

  /**
   * An action chunk by Euler integration of the velocity from noise (t = 1) to data (t = 0), with
   * the prefix and generation computed once and only the action expert run per step. The sampling
   * context lives only inside this call; every returned tensor is a fresh one in the caller's scope.
   */
  sampleActions(obs: PolicyObservation, options: SampleOptions = {}): SampleResult {
    const B = checkObservation(this.config, obs);
    const { chunkSize: H, stateDim: D, views, imageSize } = this.config;
    const ctx = this.prefill(obs, options.positions);
    try {
      // One scope for the chunk: a failure anywhere frees what was made so far.
      return noGrad(() =>
        tidy((): SampleResult => {
          const noise = options.noise ?? randNormal([B, H, D], { seed: options.seed ?? 0 });
          const steps = options.steps ?? 10;
          const actions = eulerSample((x, t) => this.denoiseStep(ctx, x, t), [B, H, D], {
            steps,
            noise,
            ...(options.guidance ? { guidance: options.guidance } : {}),
          });
          if (!options.foresight || !ctx.latent) return { actions };
          // The caller's own handle on the latent's data, which outlives the context's handle.
          const latent = detach(ctx.latent);
          const images = reshape(this.cosmos.decodeClamped(latent), [B, views, 3, imageSize, imageSize]);
          return { actions, latent, images };
        }),
      );
    } finally {
      ctx.dispose();
    }
  }

  /** Parameter counts per expert (works on a module built inside `meta()`). */
  parameterCounts(): ParameterCounts {
    const count = (prefixes: readonly string[]) => {
      let n = 0;
      for (const [name, spec] of this.namedSpecs()) {
        if (spec.kind === 'parameter' && prefixes.some((p) => name.startsWith(p))) n += shapeSize(spec.shape);
      }
      return n;
    };
    const vision = count(EXPERT_PREFIXES.vision);
    const text = count(EXPERT_PREFIXES.text);
    const generation = count(EXPERT_PREFIXES.generation);
    const action = count(EXPERT_PREFIXES.action);
    const vae = count(EXPERT_PREFIXES.vae);
    const trainable = vision + text + generation + action;
    const total = this.numParameters();
    if (trainable + vae !== total)
      throw new Error(`parameterCounts: ${total - trainable - vae} parameters belong to no expert`);
    return {
      understanding: { vision, text, total: vision + text },
      generation,
      action,
      vae,
      trainable,
      total,
    };
  }

  /** Bytes the parameters and buffers take on the GPU, by dtype (works inside `meta()`). */
  weightBytes(): { total: number; byDtype: Record<string, number> } {
    const byDtype: Record<string, number> = {};
    let total = 0;
    for (const [, spec] of this.namedSpecs()) {
      const b = storageBytes(spec.dtype, shapeSize(spec.shape));
      byDtype[spec.dtype] = (byDtype[spec.dtype] ?? 0) + b;
      total += b;
    }
    return { total, byDtype };
  }

  /** A table of the parameter counts per expert. */
  describe(): string {
    const c = this.parameterCounts();
    const bytes = this.weightBytes();
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
    const fmt = (n: number) => `${n.toLocaleString('en-US').padStart(15)}  ${(n / 1e9).toFixed(3)}B`;
    return [
      `InternVLA-A1 "${this.config.name}" (${this.mot.numLayers} MoT layers, experts ${this.mot.experts.map((e) => `${e.name}:${e.width}`).join(' ')})`,
      `  understanding  ${fmt(c.understanding.total)}`,
      `    vision       ${fmt(c.understanding.vision)}`,
      `    text         ${fmt(c.understanding.text)}`,
      `  generation     ${fmt(c.generation)}`,
      `  action         ${fmt(c.action)}`,
      `  trainable      ${fmt(c.trainable)}`,
      `  tokenizer      ${fmt(c.vae)}  (frozen)`,
      `  total          ${fmt(c.total)}`,
      `  weights        ${gib(bytes.total)}  (${Object.entries(bytes.byDtype)
        .map(([d, b]) => `${d} ${gib(b)}`)
        .join(', ')})`,
    ].join('\n');
  }
}

/** A handle on `t`'s data that only its owner references: no scope frees it, the owner's dispose() does. */
function own(t: Tensor): Tensor {
  return keep(detach(t));
}

/** 0/1 flags as an f32 tensor. */
function flagTensor(flags: ArrayLike<number | boolean>, shape: number[]): Tensor {
  return tensor(
    Float32Array.from(flags, (f) => (f ? 1 : 0)),
    shape,
  );
}

function missing(what: string): never {
  throw new Error(`PolicyBatch: ${what} is missing (the generation expert needs the t+15 frame)`);
}

function noGenerationExpert(): never {
  throw new Error('InternVLAA1Policy: this configuration has no generation expert');
}

/** A seed derived from a base seed and a stream id (noise and times must not share a stream). */
function mixSeed(seed: number, stream: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream, 0xc2b2ae35);
  h ^= h >>> 16;
  return Math.imul(h, 0x27d4eb2f) >>> 0;
}

/** Validated {@link LossOptions.batchRows} of a batch of `B` rows (default: the whole batch). */
function batchRows(B: number, rows: LossOptions['batchRows']): { start: number; total: number } {
  if (!rows) return { start: 0, total: B };
  const { start, total } = rows;
  if (!(Number.isInteger(start) && Number.isInteger(total) && start >= 0 && start + B <= total))
    throw new Error(
      `InternVLAA1Policy.computeLoss: batchRows [${start}, ${start} + ${B}) must lie inside a global batch of ${total} rows`,
    );
  return rows;
}
