// The policy's shape as data (LeRobot style: configuration is a typed object, not code paths).
// Everything the model derives — token-conv kernel, image tokens per view, sequence lengths — is
// computed here from these fields, so a new size is a new object, never a new branch.
import type { ExpertConfig } from '@vla/mot-attention';
import type { Qwen3VLConfig } from '@vla/qwen3-vl';
import { validateQwen3VLConfig } from '@vla/qwen3-vl';
import { spatialCompression, validateTokenizerConfig, type CosmosTokenizerConfig } from '@vla/vae';

/** Width of one expert that is not the understanding expert (heads are shared with it). */
export interface ExpertSize {
  /** Residual width. */
  width: number;
  /** SwiGLU hidden width. */
  mlpWidth: number;
}

/** Token ids the policy inserts itself around each view's image tokens (in the model's vocabulary). */
export interface PolicyTokenIds {
  /** `<|vision_start|>`. */
  visionStart: number;
  /** `<|vision_end|>`. */
  visionEnd: number;
}

/** Complete description of an InternVLA-A1 policy (SPEC §1). */
export interface InternVLAA1Config {
  /** Name (the registry key for built-in configurations). */
  name: string;
  /** Understanding expert: Qwen3-VL vision tower and text decoder. Its depth is the MoT depth. */
  vlm: Qwen3VLConfig;
  /** Generation expert (visual foresight), or null for the ablation without it. */
  generation: ExpertSize | null;
  /** Action expert. */
  action: ExpertSize;
  /** The frozen Cosmos-style image tokenizer whose latents the generation expert reads and predicts. */
  vae: CosmosTokenizerConfig;
  /** Camera views (3). */
  views: number;
  /** Square input image side in pixels, for the vision tower and the tokenizer (256). */
  imageSize: number;
  /** Text tokens after the images, right-padded or truncated (48). */
  textTokens: number;
  /** Action chunk length = action tokens (50). */
  chunkSize: number;
  /** Padded state and action dimension (32). */
  stateDim: number;
  /** Generation tokens per frame and side: `genGrid x genGrid` tokens (4). */
  genGrid: number;
  /** λ of `L = L_action + λ·L_gen` (0.01). */
  genLossWeight: number;
  /** Special token ids in the model's vocabulary. */
  tokenIds: PolicyTokenIds;
}

/** Quantities every part of the policy derives from a configuration. */
export interface DerivedSizes {
  /** Latent side of one frame (imageSize / tokenizer compression; 32 for 256 px). */
  latentSize: number;
  /** Kernel = stride of the token conv and its transpose (latentSize / genGrid; 8 for 3B). */
  tokenKernel: number;
  /** Merged image-token grid side per view (imageSize / (patch · merge); 8 for 256 px). */
  imageGrid: number;
  /** Prefix tokens (views · (grid² + 2) + textTokens; 246 for 3B). */
  prefixTokens: number;
  /** Generation tokens (views · 2 · genGrid²; 96 for 3B; 0 without the expert). */
  generationTokens: number;
  /** State + action tokens (1 + chunkSize). */
  suffixTokens: number;
}

/** Derives sizes of a configuration (assumes it validates). */
export function derivedSizes(config: InternVLAA1Config): DerivedSizes {
  const v = config.vlm.vision;
  const latentSize = config.imageSize / spatialCompression(config.vae);
  const imageGrid = config.imageSize / (v.patchSize * v.spatialMergeSize);
  return {
    latentSize,
    tokenKernel: latentSize / config.genGrid,
    imageGrid,
    prefixTokens: config.views * (imageGrid * imageGrid + 2) + config.textTokens,
    generationTokens: config.generation ? config.views * 2 * config.genGrid * config.genGrid : 0,
    suffixTokens: 1 + config.chunkSize,
  };
}

/** The experts of the Mixture-of-Transformers, in sequence order (`und`, `gen` if present, `act`). */
export function expertConfigs(config: InternVLAA1Config): ExpertConfig[] {
  const t = config.vlm.text;
  const heads = { qHeads: t.numHeads, kvHeads: t.numKvHeads, headDim: t.headDim, eps: t.rmsNormEps };
  const experts: ExpertConfig[] = [
    { name: 'und', width: t.hiddenSize, mlpWidth: t.intermediateSize, ...heads },
  ];
  if (config.generation) experts.push({ name: 'gen', ...config.generation, ...heads });
  experts.push({ name: 'act', ...config.action, ...heads });
  return experts;
}

function positiveInt(value: unknown, field: string): void {
  if (!Number.isInteger(value) || (value as number) <= 0)
    throw new Error(`InternVLAA1Config.${field} must be a positive integer, got ${String(value)}`);
}

/** Throws an Error naming the field when a configuration cannot be built. */
export function validatePolicyConfig(config: InternVLAA1Config): void {
  validateQwen3VLConfig(config.vlm);
  validateTokenizerConfig(config.vae);
  for (const f of ['views', 'imageSize', 'textTokens', 'chunkSize', 'stateDim', 'genGrid'] as const)
    positiveInt(config[f], f);
  for (const [name, e] of [
    ['action', config.action],
    ['generation', config.generation],
  ] as const) {
    if (!e) continue;
    positiveInt(e.width, `${name}.width`);
    positiveInt(e.mlpWidth, `${name}.mlpWidth`);
  }
  // The sine-cosine time embedding splits the action width in halves.
  if (config.action.width % 2 !== 0)
    throw new Error(`InternVLAA1Config.action.width must be even, got ${config.action.width}`);
  const v = config.vlm.vision;
  const pixelsPerToken = v.patchSize * v.spatialMergeSize;
  if (config.imageSize % pixelsPerToken !== 0) {
    throw new Error(
      `InternVLAA1Config.imageSize ${config.imageSize} must be a multiple of patch·merge = ${pixelsPerToken} (vision tower)`,
    );
  }
  const f = spatialCompression(config.vae);
  if (config.imageSize % f !== 0)
    throw new Error(
      `InternVLAA1Config.imageSize ${config.imageSize} must be a multiple of the tokenizer compression ${f}`,
    );
  const latent = config.imageSize / f;
  if (config.generation && latent % config.genGrid !== 0) {
    throw new Error(
      `InternVLAA1Config.genGrid ${config.genGrid} must divide the latent side ${latent} (imageSize ${config.imageSize} / ${f})`,
    );
  }
  if (!(config.genLossWeight >= 0))
    throw new Error(`InternVLAA1Config.genLossWeight must be >= 0, got ${config.genLossWeight}`);
  const vocab = config.vlm.text.vocabSize;
  for (const [k, id] of Object.entries(config.tokenIds)) {
    if (!Number.isInteger(id) || id < 0 || id >= vocab)
      throw new Error(`InternVLAA1Config.tokenIds.${k} ${id} is outside the vocabulary [0, ${vocab})`);
  }
}
