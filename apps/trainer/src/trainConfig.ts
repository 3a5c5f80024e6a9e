// A training run as data: what to train (a model preset, with or without the generation expert), on
// what (LeRobot datasets and their mixture), how (the SPEC §1 recipe: AdamW, clipping, constant lr for
// pretraining, warmup + cosine for fine-tuning, λ), and what to keep (checkpoints, metrics, foresight,
// evaluation). A config file and the CLI's flags both end up here, validated in one place.
import {
  firstSchemaIssue,
  policyConfig,
  tinyConfig,
  validatePolicyConfig,
  type InternVLAA1Config,
} from '@vla/internvla-a1';
import { z } from 'zod';

/** A `TrainConfig` that does not validate; `field` is the dotted path of the offending field. */
export class TrainConfigError extends Error {
  /** Dotted path, e.g. `optim.lr` (empty for the whole document). */
  readonly field: string;
  constructor(field: string, problem: string, source = 'train config') {
    super(`${source}: ${field ? `${field} ` : ''}${problem}`);
    this.name = 'TrainConfigError';
    this.field = field;
  }
}

const positiveInt = (what = 'a positive integer') =>
  z
    .number({ error: `must be ${what}` })
    .int({ error: `must be ${what}` })
    .min(1, { error: `must be ${what}` });
const nonNegativeInt = z
  .number({ error: 'must be a non-negative integer' })
  .int({ error: 'must be a non-negative integer' })
  .min(0, { error: 'must be a non-negative integer' });
const nonNegative = z.number({ error: 'must be a number >= 0' }).min(0, { error: 'must be a number >= 0' });
const object = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, { error: 'must be an object' });

const datasetSchema = object({
  /** Folder of a LeRobot v2.1 or v3.0 dataset. */
  path: z.string({ error: 'must be a path' }).min(1, { error: 'must be a path' }),
  id: z.string().min(1).optional(),
  weight: nonNegative.optional(),
  mapping: z
    .object({
      stateKeys: z.array(z.string()).optional(),
      actionKeys: z.array(z.string()).optional(),
      cameras: z.record(z.string(), z.string()).optional(),
      deltaMask: z.array(z.boolean()).optional(),
    })
    .strict()
    .optional(),
});

const modelSchema = object({
  /** A registered policy configuration: `tiny`, `a1-3b` (see `policyConfigNames`). */
  preset: z.string().min(1),
  /** false = the paper's ablation without the generation expert. */
  generation: z.boolean(),
  /**
   * Image tokenizer weights to start from (a safetensors file of `vla-train-tokenizer`), for sizes
   * without released ones; the tokenizer stays frozen. Only used when training from scratch.
   */
  tokenizer: z.string().min(1).optional(),
  /** Size overrides of the `tiny` preset (TinyConfigOptions). */
  tiny: object({
    width: positiveInt().optional(),
    layers: positiveInt().optional(),
    visionLayers: positiveInt().optional(),
    patchSize: positiveInt().optional(),
    vocabSize: positiveInt().optional(),
    imageSize: positiveInt().optional(),
    textTokens: positiveInt().optional(),
    views: positiveInt().optional(),
    chunkSize: positiveInt().optional(),
  }).optional(),
});

/** The schema of a training configuration (zod); {@link parseTrainConfig} applies it and reports the first issue by field. */
export const trainConfigSchema = object({
  model: modelSchema,
  data: object({
    datasets: z
      .array(datasetSchema, { error: 'must be a list of datasets' })
      .min(1, { error: 'must name at least one dataset' }),
    /** LPT mixture rules (regex → group budget); omitted = weights from `datasets[].weight` or frames. */
    mixture: z
      .array(object({ group: z.string().min(1), pattern: z.string(), budget: nonNegative }))
      .optional(),
    /** Exponent of frames inside a mixture group (0 equal, 1 proportional). */
    gamma: z.number().default(1),
    /** Draws per epoch on this rank (default: the rank's frames). */
    samplesPerEpoch: positiveInt().optional(),
    /**
     * Probability that a training sample's state is replaced by the dataset mean (zeros after
     * normalisation), so that the policy has to read its cameras for where it is in the task
     * instead of inferring it from the arm's pose alone. 0 (default) keeps every state.
     */
    stateDropout: z.number().min(0).max(1).default(0),
    /**
     * Random-shift augmentation: each camera's current frame (the one the vision tower reads) moves
     * by a random whole number of pixels in [-randomShift, randomShift] along each axis, the edge
     * repeated into the gap (DrQ). 0 (default) feeds the frames as recorded.
     */
    randomShift: nonNegativeInt.default(0),
    normalization: z.enum(['mean_std', 'quantile']).default('mean_std'),
    /**
     * Rows of the normalisation statistics: `every-position` (every in-episode step of every chunk)
     * or `upstream` (upstream's compute_norm_stats: full in-episode chunks only, short episodes skipped).
     */
    stats: z.enum(['every-position', 'upstream']).default('every-position'),
    /** Cache the frozen tokenizer's latents per dataset (`true`: in `<out>/latent-cache`; or a folder). */
    latentCache: z.union([z.boolean(), z.string().min(1)]).default(true),
    /** Parallel sample builds (bounds ffmpeg processes). */
    concurrency: positiveInt().default(4),
    /**
     * Decoded-frame cache in MiB. When every frame of the datasets fits, all of them stay decoded
     * after their first use (small datasets train without decoding video again).
     */
    frameCacheMiB: positiveInt().default(4096),
  }),
  /** `pretrain`: constant lr from scratch; `finetune`: from `init`, linear warmup then cosine to a floor. */
  mode: z.enum(['pretrain', 'finetune']),
  /** Checkpoint to start from (required by `finetune`): a policy .safetensors or a vla-train run folder. */
  init: z.string().min(1).optional(),
  steps: positiveInt(),
  /** Samples per optimizer step on this rank (micro-batch × accumulation). */
  batchSize: positiveInt(),
  /** Micro-batches whose gradients are summed before each optimizer step. */
  gradAccumulation: positiveInt().default(1),
  seed: nonNegativeInt.default(0),
  /** λ of `L = L_action + λ·L_gen` (default: the model's, 0.01). */
  genLossWeight: nonNegative.optional(),
  /**
   * μ of the understanding expert's auxiliary image reconstruction `+ μ·L_recon` (the policy's
   * `imageReconWeight`; default: the model's, off). Not in the paper: for an understanding expert
   * trained from scratch, whose words otherwise never learn to read the images.
   */
  imageReconWeight: nonNegative.optional(),
  /**
   * Leave action steps past the episode end out of the action loss. Default false, as upstream:
   * those steps carry the episode's final pose, and holding it is part of the task.
   */
  maskPaddedActions: z.boolean().default(false),
  optim: object({
    lr: z.number().positive({ error: 'must be a number > 0' }),
    betas: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.9, 0.95]),
    eps: z.number().positive().default(1e-8),
    weightDecay: nonNegative.default(0.01),
    /** Global gradient-norm clip (on by default, SPEC §1); null turns it off. */
    clipNorm: z.number().positive().nullable().default(1),
    /** Fine-tuning: warmup steps and the floor the cosine decays to. */
    warmupSteps: nonNegativeInt.default(2000),
    floorLr: nonNegative.default(5e-6),
  }),
  /** Write a checkpoint every N optimizer steps (and at the end). */
  checkpointEvery: positiveInt().default(500),
  /** Checkpoints kept (the newest ones). */
  keepCheckpoints: positiveInt().default(2),
  /** Decode a foresight sample (predicted vs real t+15 frame) every N steps; 0 = never. */
  foresightEvery: nonNegativeInt.default(500),
  /** Closed-loop evaluation on @vla/sim every N steps (0 = never). */
  eval: object({
    every: nonNegativeInt,
    episodes: positiveInt().default(5),
    tasks: z.array(z.string().min(1)).min(1),
    robot: z.string().min(1),
    seed: nonNegativeInt.default(1000),
    /** Camera side of the simulator's renders (default: the policy's input size, what recordings at `--size` of it show). */
    imageSize: positiveInt().optional(),
    /** Actions executed per chunk. */
    executeSteps: positiveInt().default(30),
    /** Cut episodes after this many ticks (default: the task's limit). */
    maxSteps: positiveInt().optional(),
  }).optional(),
});

/** A validated training configuration (defaults filled in). */
export type TrainConfig = z.infer<typeof trainConfigSchema>;
/** What a config file may hold: {@link TrainConfig} with every defaulted field optional. */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/** Run defaults of the built-in presets (upstream's recipe for a1-3b; sizes that train on a CPU for tiny). */
export const TRAIN_PRESETS: Readonly<Record<'tiny' | 'a1-3b', Omit<TrainConfigInput, 'data'>>> = {
  tiny: {
    model: { preset: 'tiny', generation: true },
    mode: 'pretrain',
    steps: 2000,
    batchSize: 8,
    optim: { lr: 3e-4, warmupSteps: 100, floorLr: 3e-5 },
    checkpointEvery: 200,
    foresightEvery: 200,
  },
  'a1-3b': {
    model: { preset: 'a1-3b', generation: true },
    mode: 'finetune',
    steps: 30_000,
    batchSize: 32,
    optim: { lr: 5e-5, warmupSteps: 2000, floorLr: 5e-6 },
    checkpointEvery: 1000,
    foresightEvery: 1000,
  },
};

/** Validates a configuration (a parsed config file merged with flags); errors name the field. */
export function parseTrainConfig(input: unknown, source?: string): TrainConfig {
  const parsed = trainConfigSchema.safeParse(input);
  if (!parsed.success) {
    const { field, problem } = firstSchemaIssue(parsed.error, input);
    throw new TrainConfigError(field, problem, source);
  }
  const c = parsed.data;
  if (c.mode === 'finetune' && !c.init)
    throw new TrainConfigError('init', 'is required by mode "finetune" (a checkpoint to start from)', source);
  if (c.batchSize % c.gradAccumulation !== 0)
    throw new TrainConfigError(
      'gradAccumulation',
      `(${c.gradAccumulation}) must divide batchSize (${c.batchSize})`,
      source,
    );
  if (c.model.tiny && c.model.preset !== 'tiny')
    throw new TrainConfigError(
      'model.tiny',
      `only applies to preset "tiny", not "${c.model.preset}"`,
      source,
    );
  // Builds (and so validates) the network configuration now, not after the data is read.
  try {
    policyConfigOf(c);
  } catch (e) {
    throw new TrainConfigError('model', (e as Error).message, source);
  }
  return c;
}

/** The network configuration a run trains: the preset, its overrides, the ablation and λ. */
export function policyConfigOf(c: TrainConfig): InternVLAA1Config {
  const base =
    c.model.preset === 'tiny'
      ? tinyConfig({ ...c.model.tiny, generation: c.model.generation })
      : policyConfig(c.model.generation ? c.model.preset : `${c.model.preset}-nogen`);
  const config = {
    ...base,
    ...(c.genLossWeight === undefined ? {} : { genLossWeight: c.genLossWeight }),
    ...(c.imageReconWeight === undefined ? {} : { imageReconWeight: c.imageReconWeight }),
  };
  validatePolicyConfig(config);
  return config;
}

/** Merges a preset's run defaults under a partial configuration (the partial wins, objects merge). */
export function withPreset(
  preset: keyof typeof TRAIN_PRESETS,
  input: Record<string, unknown>,
): Record<string, unknown> {
  return deepMerge(structuredClone(TRAIN_PRESETS[preset]) as Record<string, unknown>, input);
}

/** `over` merged into `base`: plain objects recursively, everything else replaced. */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
