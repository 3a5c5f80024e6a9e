// What the policy eats. Images are GPU tensors in [-1, 1]; masks and token ids stay on the host,
// because the attention mask and the M-RoPE positions are built there.
import type { Tensor } from '@vla/tensor-webgpu';
import { buildPrefix, type TextTokenizer, type VocabRemap } from '@vla/qwen3-vl';
import { derivedSizes, visionSize, type InternVLAA1Config } from './config.js';

/** Frames of one camera view, each `[B, 3, H, W]` RGB in [-1, 1]. */
export interface ViewFrames {
  /** Frame t−15 (generation expert input). */
  past: Tensor;
  /** Frame t (understanding and generation expert input). */
  current: Tensor;
  /** Frame t+15: the foresight target (training with the generation expert only). */
  future?: Tensor;
}

/**
 * Tokenizer latents of a batch's frames, as `InternVLAA1Policy.encodeFrames` returns them. The
 * tokenizer is frozen, so a batch that is used again (or a data pipeline) may encode once.
 */
export interface FrameLatents {
  /** `[B · views · 2, C, h, w]` latents of frames t−15 and t, ordered (batch, view, time). */
  inputs: Tensor;
  /** `[B · views, C, h, w]` latents of frame t+15 (the foresight target), or null. */
  targets: Tensor | null;
}

/** One observation batch: everything the policy needs to act. */
export interface PolicyObservation {
  /** One entry per camera view (in the configuration's view order). */
  images: readonly ViewFrames[];
  /**
   * `[B, views]` row-major: false/0 for a missing camera (its image is all ones by convention and
   * all of its tokens are padding; it is left out of the generation loss).
   */
  imageMasks: ArrayLike<number | boolean>;
  /** `[B, textTokens]` row-major token ids in the model's vocabulary (see {@link encodePrompts}). */
  tokens: Int32Array;
  /** `[B, textTokens]` row-major: 1 for real text tokens, 0 for right padding. */
  textMask: ArrayLike<number | boolean>;
  /** `[B, stateDim]` normalised state, zero-padded to stateDim. */
  state: Tensor;
  /** Precomputed frame latents (optional; encoded by the policy when absent). */
  latents?: FrameLatents;
  /**
   * The Qwen3-VL image processor's patches of the current frames, upstream's vision input:
   * `[B · views · patches, channels · temporalPatch · patch²]`, views in order, each view's patch
   * grid `visionSize / patch` in the processor's (block row, block col, row, col) order. When absent,
   * the vision tower patchifies `images[v].current` itself (then `visionSize` must be `imageSize`²).
   */
  visionPatches?: Tensor;
}

/** A training batch: an observation plus its targets. */
export interface PolicyBatch extends PolicyObservation {
  /** `[B, chunkSize, stateDim]` normalised action chunk, zero-padded. */
  actions: Tensor;
  /** `[B, chunkSize]` row-major: true where the action lies past the episode end (left out of the loss). */
  actionIsPad?: ArrayLike<number | boolean>;
}

/** The vision input: the processor's patches when given, else the current frames must be its size. */
function checkVisionPatches(config: InternVLAA1Config, obs: PolicyObservation, B: number): void {
  const v = config.vlm.vision;
  const [h, w] = visionSize(config);
  const p = obs.visionPatches;
  if (!p) {
    if (h !== config.imageSize || w !== config.imageSize)
      throw new Error(
        `PolicyBatch: visionPatches is missing (the vision tower sees ${h}x${w} pixels, the frames are ${config.imageSize}x${config.imageSize}; give the image processor's patches)`,
      );
    return;
  }
  const rows = B * config.views * (h / v.patchSize) * (w / v.patchSize);
  const cols = v.inChannels * v.temporalPatchSize * v.patchSize ** 2;
  if (p.rank !== 2 || p.shape[0] !== rows || p.shape[1] !== cols)
    throw new Error(
      `PolicyBatch: visionPatches must be [B·views·patches, C·T·P²] = [${rows}, ${cols}], got [${p.shape.join(', ')}]`,
    );
}

function checkImage(t: Tensor | undefined, what: string, B: number, size: number): void {
  if (!t) throw new Error(`PolicyBatch: ${what} is missing`);
  const s = t.shape;
  if (s.length !== 4 || s[0] !== B || s[1] !== 3 || s[2] !== size || s[3] !== size) {
    throw new Error(`PolicyBatch: ${what} must be [${B}, 3, ${size}, ${size}], got [${s.join(', ')}]`);
  }
}

/**
 * Checks an observation against a configuration and returns its batch size. Throws an Error naming
 * the field and the shape when something does not fit.
 */
export function checkObservation(
  config: InternVLAA1Config,
  obs: PolicyObservation,
  needFuture = false,
): number {
  const B = obs.state.shape[0];
  if (obs.state.rank !== 2 || obs.state.shape[1] !== config.stateDim) {
    throw new Error(
      `PolicyBatch: state must be [B, ${config.stateDim}], got [${obs.state.shape.join(', ')}]`,
    );
  }
  if (obs.images.length !== config.views)
    throw new Error(`PolicyBatch: images has ${obs.images.length} views, the configuration ${config.views}`);
  obs.images.forEach((v, i) => {
    checkImage(v.past, `images[${i}].past`, B, config.imageSize);
    checkImage(v.current, `images[${i}].current`, B, config.imageSize);
    if (needFuture) checkImage(v.future, `images[${i}].future`, B, config.imageSize);
  });
  checkVisionPatches(config, obs, B);
  if (obs.imageMasks.length !== B * config.views)
    throw new Error(
      `PolicyBatch: imageMasks has ${obs.imageMasks.length} entries, expected B·views = ${B * config.views}`,
    );
  const T = config.textTokens;
  if (obs.tokens.length !== B * T)
    throw new Error(`PolicyBatch: tokens has ${obs.tokens.length} ids, expected B·textTokens = ${B * T}`);
  if (obs.textMask.length !== B * T)
    throw new Error(
      `PolicyBatch: textMask has ${obs.textMask.length} entries, expected B·textTokens = ${B * T}`,
    );
  const vocab = config.vlm.text.vocabSize;
  for (let i = 0; i < obs.tokens.length; i++) {
    const id = obs.tokens[i];
    if (id < 0 || id >= vocab)
      throw new Error(
        `PolicyBatch: tokens[${i}] = ${id} is outside the vocabulary [0, ${vocab}) (use a VocabRemap for reduced vocabularies)`,
      );
  }
  if (obs.latents) checkLatents(config, obs.latents, B);
  return B;
}

function checkLatents(config: InternVLAA1Config, latents: FrameLatents, B: number): void {
  const { latentSize: h } = derivedSizes(config);
  const c = config.vae.latentChannels;
  const want = (n: number) => [n, c, h, h].join(', ');
  if (latents.inputs.shape.join(', ') !== want(B * config.views * 2)) {
    throw new Error(
      `PolicyBatch: latents.inputs must be [${want(B * config.views * 2)}], got [${latents.inputs.shape.join(', ')}]`,
    );
  }
  if (latents.targets && latents.targets.shape.join(', ') !== want(B * config.views)) {
    throw new Error(
      `PolicyBatch: latents.targets must be [${want(B * config.views)}], got [${latents.targets.shape.join(', ')}]`,
    );
  }
}

/** Checks a training batch (observation, future frames when the generation expert exists, actions). */
export function checkBatch(config: InternVLAA1Config, batch: PolicyBatch): number {
  const needFuture = config.generation !== null && !batch.latents?.targets;
  const B = checkObservation(config, batch, needFuture);
  const a = batch.actions.shape;
  if (a.length !== 3 || a[0] !== B || a[1] !== config.chunkSize || a[2] !== config.stateDim) {
    throw new Error(
      `PolicyBatch: actions must be [${B}, ${config.chunkSize}, ${config.stateDim}], got [${a.join(', ')}]`,
    );
  }
  if (batch.actionIsPad && batch.actionIsPad.length !== B * config.chunkSize) {
    throw new Error(
      `PolicyBatch: actionIsPad has ${batch.actionIsPad.length} entries, expected B·chunkSize = ${B * config.chunkSize}`,
    );
  }
  return B;
}

/** Token ids and mask of a batch of task prompts. */
export interface EncodedPrompts {
  /** `[B, textTokens]` ids in the model's vocabulary. */
  tokens: Int32Array;
  /** `[B, textTokens]`, 1 = real token. */
  textMask: Uint8Array;
}

/**
 * Tokenizes task prompts with qwen3-vl's prompt layout (right-padded / truncated to
 * `config.textTokens`); with `remap`, ids are mapped into a reduced vocabulary.
 */
export function encodePrompts(
  config: InternVLAA1Config,
  tokenizer: TextTokenizer,
  prompts: readonly string[],
  remap?: VocabRemap,
): EncodedPrompts {
  const T = config.textTokens;
  const { imageTokens } = derivedSizes(config);
  const tokens = new Int32Array(prompts.length * T);
  const textMask = new Uint8Array(prompts.length * T);
  prompts.forEach((p, b) => {
    const layout = buildPrefix(tokenizer, p, new Array<boolean>(config.views).fill(true), {
      imageTokens,
      maxTextTokens: T,
    });
    const ids = layout.ids.subarray(layout.textStart);
    tokens.set(remap ? remap.toCompact(ids) : ids, b * T);
    textMask.set(layout.valid.subarray(layout.textStart), b * T);
  });
  return { tokens, textMask };
}
