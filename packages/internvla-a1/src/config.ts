// The policy's shape as data (LeRobot style: configuration is a typed object, not code paths).
// Everything the model derives — token-conv kernel, image tokens per view, sequence lengths — is
// computed here from these fields, so a new size is a new object, never a new branch.
import type { ExpertConfig } from '@vla/mot-attention';
import type { Qwen3VLConfig } from '@vla/qwen3-vl';
import { validateQwen3VLConfig } from '@vla/qwen3-vl';
import { spatialCompression, validateTokenizerConfig, type CosmosTokenizerConfig } from '@vla/vae';
import { z } from 'zod';
import { firstSchemaIssue } from './schemaIssue.js';

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
  /** Square input image side in pixels, for the tokenizer and (by default) the vision tower (256). */
  imageSize: number;
  /**
   * `[height, width]` of the images the vision tower sees when they differ from `imageSize`²: the
   * size the Qwen3-VL image processor resizes camera frames to (upstream feeds the vision tower the
   * processor's patches and the tokenizer a separate bilinear copy). Multiples of patch · merge.
   */
  visionSize?: [number, number];
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
  /**
   * μ of an auxiliary `+ μ·L_recon`, not in the paper (absent or 0: off, as in upstream's
   * configurations): a linear head on each image token of the understanding expert's output predicts
   * its region of the current frame, average-pooled to `IMAGE_RECON_CELLS`² cells per channel. An understanding
   * expert trained from scratch needs it for its words to read the images (docs/decisions.md);
   * upstream's starts from a pretrained Qwen3-VL whose image tokens already say what is where.
   */
  imageReconWeight?: number;
  /** Special token ids in the model's vocabulary. */
  tokenIds: PolicyTokenIds;
}

/** Cells per side of each image token's region in the reconstruction target (`imageReconWeight`). */
export const IMAGE_RECON_CELLS = 4;

/** Quantities every part of the policy derives from a configuration. */
export interface DerivedSizes {
  /** Latent side of one frame (imageSize / tokenizer compression; 32 for 256 px). */
  latentSize: number;
  /** Kernel = stride of the token conv and its transpose (latentSize / genGrid; 8 for 3B). */
  tokenKernel: number;
  /** Merged image-token grid `[rows, cols]` per view (visionSize / (patch · merge); [8, 8] for 256 px). */
  imageGrid: [number, number];
  /** Image tokens per view (rows · cols; 64 for 256 px). */
  imageTokens: number;
  /** Prefix tokens (views · (grid² + 2) + textTokens; 246 for 3B). */
  prefixTokens: number;
  /** Generation tokens (views · 2 · genGrid²; 96 for 3B; 0 without the expert). */
  generationTokens: number;
  /** State + action tokens (1 + chunkSize). */
  suffixTokens: number;
}

/** `[height, width]` of the vision tower's images: `visionSize`, or `imageSize`² by default. */
export function visionSize(config: InternVLAA1Config): [number, number] {
  return config.visionSize
    ? [config.visionSize[0], config.visionSize[1]]
    : [config.imageSize, config.imageSize];
}

/** Derives sizes of a configuration (assumes it validates). */
export function derivedSizes(config: InternVLAA1Config): DerivedSizes {
  const v = config.vlm.vision;
  const latentSize = config.imageSize / spatialCompression(config.vae);
  const unit = v.patchSize * v.spatialMergeSize;
  const [h, w] = visionSize(config);
  const imageGrid: [number, number] = [h / unit, w / unit];
  const imageTokens = imageGrid[0] * imageGrid[1];
  return {
    latentSize,
    tokenKernel: latentSize / config.genGrid,
    imageGrid,
    imageTokens,
    prefixTokens: config.views * (imageTokens + 2) + config.textTokens,
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

// Bounds are ~10x the released 3B sizes: generous for any real model, yet they stop a corrupt or
// hostile value (numLayers: 2000, a width of 1e9) before anything is built from it.
const MAX_LAYERS = 512;
const MAX_WIDTH = 65_536;
const MAX_MLP = 262_144;
const MAX_HEADS = 1024;
const MAX_VOCAB = 1 << 24;

/** A configuration that cannot be built; `field` is the dotted path of the offending field. */
export class PolicyConfigError extends Error {
  /** Dotted path of the field, e.g. `vlm.text.numLayers` (empty for the whole object). */
  readonly field: string;
  /** What is wrong with it, e.g. `must be a positive integer <= 512, got 2000`. */
  readonly problem: string;
  constructor(field: string, problem: string) {
    super(`InternVLAA1Config${field ? `.${field}` : ''} ${problem}`);
    this.name = 'PolicyConfigError';
    this.field = field;
    this.problem = problem;
  }
}

function integer(min: number, max: number) {
  const kind =
    min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
  const error = `must be ${kind} <= ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A finite number in (0, max] (epsilons, rotary bases). */
function positive(max: number) {
  const error = `must be a number in (0, ${max}]`;
  return z.number({ error }).gt(0, { error }).max(max, { error });
}

function object<T extends z.ZodRawShape>(shape: T) {
  return z.object(shape, { error: 'must be an object' });
}

const expertSize = object({ width: integer(1, MAX_WIDTH), mlpWidth: integer(1, MAX_MLP) });

/**
 * Type and range of every field (zod). Numbers must be finite numbers (no null, no strings),
 * counts integers, sizes bounded. Relations between fields are checked by
 * {@link validatePolicyConfig} once the types are known to be right.
 */
const policyConfigSchema = object({
  name: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(200, { error: 'must be at most 200 characters' }),
  vlm: object({
    vision: object({
      depth: integer(1, MAX_LAYERS),
      hiddenSize: integer(1, MAX_WIDTH),
      intermediateSize: integer(1, MAX_MLP),
      numHeads: integer(1, MAX_HEADS),
      inChannels: integer(1, 64),
      patchSize: integer(1, 1024),
      temporalPatchSize: integer(1, 64),
      spatialMergeSize: integer(1, 64),
      outHiddenSize: integer(1, MAX_WIDTH),
      numPositionEmbeddings: integer(1, MAX_VOCAB),
      deepstackVisualIndexes: z
        .array(integer(0, MAX_LAYERS - 1), { error: 'must be a list of block indexes' })
        .max(MAX_LAYERS),
      layerNormEps: positive(1),
      ropeTheta: positive(1e12),
    }),
    text: object({
      vocabSize: integer(1, MAX_VOCAB),
      hiddenSize: integer(1, MAX_WIDTH),
      intermediateSize: integer(1, MAX_MLP),
      numLayers: integer(1, MAX_LAYERS),
      numHeads: integer(1, MAX_HEADS),
      numKvHeads: integer(1, MAX_HEADS),
      headDim: integer(1, 1024),
      rmsNormEps: positive(1),
      ropeTheta: positive(1e12),
      mropeSection: z.tuple([integer(0, 512), integer(0, 512), integer(0, 512)], {
        error: 'must be a list of 3 slot counts',
      }),
      tieWordEmbeddings: z.boolean({ error: 'must be true or false' }),
    }),
  }),
  generation: expertSize.nullable(),
  action: expertSize,
  vae: object({
    haarLevels: integer(0, 8),
    inChannels: integer(1, 64),
    channels: integer(1, MAX_WIDTH),
    channelMult: z.array(integer(1, 64), { error: 'must be a list of positive integers' }).min(1).max(16),
    numResBlocks: integer(1, 64),
    numDownsamples: integer(0, 15),
    latentChannels: integer(1, 4096),
    groups: integer(1, 4096),
    eps: positive(1),
  }),
  views: integer(1, 64),
  imageSize: integer(1, 8192),
  visionSize: z
    .tuple([integer(1, 8192), integer(1, 8192)], { error: 'must be [height, width] in pixels' })
    .optional(),
  textTokens: integer(1, 65_536),
  chunkSize: integer(1, 4096),
  stateDim: integer(1, 4096),
  genGrid: integer(1, 1024),
  genLossWeight: z
    .number({ error: 'must be a finite number >= 0' })
    .min(0, { error: 'must be a finite number >= 0' }),
  imageReconWeight: z
    .number({ error: 'must be a finite number >= 0' })
    .min(0, { error: 'must be a finite number >= 0' })
    .optional(),
  tokenIds: object({
    visionStart: integer(0, MAX_VOCAB),
    visionEnd: integer(0, MAX_VOCAB),
  }),
});

/**
 * Throws {@link PolicyConfigError} naming the field when a configuration cannot be built: a wrong
 * type (null, a string for a number, an array for an object), a missing field, a value out of
 * range, or fields that disagree (image size vs patch and tokenizer, token ids vs vocabulary, ...).
 */
export function validatePolicyConfig(config: unknown): asserts config is InternVLAA1Config {
  const parsed = policyConfigSchema.safeParse(config);
  if (!parsed.success) {
    const { field, problem } = firstSchemaIssue(parsed.error, config);
    throw new PolicyConfigError(field, problem);
  }
  const c = config as InternVLAA1Config;
  const fail = (field: string, problem: string) => new PolicyConfigError(field, problem);
  for (const [part, check] of [
    ['vlm', () => validateQwen3VLConfig(c.vlm)],
    ['vae', () => validateTokenizerConfig(c.vae)],
  ] as const) {
    try {
      check();
    } catch (e) {
      throw fail(part, `is inconsistent: ${(e as Error).message}`);
    }
  }
  // The sine-cosine time embedding splits the action width in halves.
  if (c.action.width % 2 !== 0) throw fail('action.width', `must be even, got ${c.action.width}`);
  const v = c.vlm.vision;
  const pixelsPerToken = v.patchSize * v.spatialMergeSize;
  const [vh, vw] = visionSize(c);
  if (vh % pixelsPerToken !== 0 || vw % pixelsPerToken !== 0)
    throw fail(
      c.visionSize ? 'visionSize' : 'imageSize',
      `${c.visionSize ? `${vh}x${vw}` : c.imageSize} must be a multiple of patch·merge = ${pixelsPerToken} (vision tower)`,
    );
  const f = spatialCompression(c.vae);
  if (c.imageSize % f !== 0)
    throw fail('imageSize', `${c.imageSize} must be a multiple of the tokenizer compression ${f}`);
  const latent = c.imageSize / f;
  if (c.generation && latent % c.genGrid !== 0) {
    throw fail(
      'genGrid',
      `${c.genGrid} must divide the latent side ${latent} (imageSize ${c.imageSize} / ${f})`,
    );
  }
  if (c.imageReconWeight) {
    // The target pools the tower's input frame (imageSize², so no visionSize) into IMAGE_RECON_CELLS² cells per token.
    if (c.visionSize)
      throw fail('imageReconWeight', 'needs the vision tower to see imageSize² frames (no visionSize)');
    if (pixelsPerToken % IMAGE_RECON_CELLS !== 0)
      throw fail(
        'imageReconWeight',
        `needs patch·merge (${pixelsPerToken}) to be a multiple of ${IMAGE_RECON_CELLS} cells`,
      );
  }
  const vocab = c.vlm.text.vocabSize;
  for (const [k, id] of Object.entries(c.tokenIds)) {
    if (id >= vocab) throw fail(`tokenIds.${k}`, `${id} is outside the vocabulary [0, ${vocab})`);
  }
}
