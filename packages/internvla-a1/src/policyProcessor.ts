// Everything between robot units and the network, as plain data that travels inside the checkpoint:
// the robot's state/action layout, which action dims are deltas from the current state (joints) and
// which are absolute (grippers), the normalisation statistics, the camera order and the sizes the
// network was built for. It knows no robot or dataset package: callers hand it plain arrays and
// statistics objects (LeRobot's per-feature stats fit as they are).
import {
  concat,
  mul,
  narrow,
  ones,
  pad,
  reshape,
  resizeBilinear,
  rgbToPlanar,
  sub,
  tensor,
  tidy,
  type Tensor,
} from '@vla/tensor-webgpu';
import { resizeWithPadPlanar } from '@vla/lerobot/browser';
import {
  preprocessQwen3VLImage,
  Qwen3Tokenizer,
  QWEN3_VL_2B_IMAGE_PROCESSOR,
  processedImageSize,
  VocabRemap,
  type TextTokenizer,
} from '@vla/qwen3-vl';
import { cosmosTokenizerInput } from '@vla/vae';
import { z } from 'zod';
import { encodePrompts, type EncodedPrompts } from './batch.js';
import { visionSize, type InternVLAA1Config } from './config.js';
import { firstSchemaIssue } from './schemaIssue.js';

/** How vectors are normalised for the network. */
export type Normalization = 'mean_std' | 'quantile';

/** Epsilon of both normalisations (LeRobot and openpi use the same). */
export const NORMALIZATION_EPS = 1e-6;

/** Per-dim statistics of one vector feature (robot units; over deltas on an action's delta dims). */
export interface VectorStats {
  /** Mean per dim. */
  mean: number[];
  /** Standard deviation per dim. */
  std: number[];
  /** 1st percentile per dim (required by `quantile` normalisation). */
  q01?: number[];
  /** 99th percentile per dim (required by `quantile` normalisation). */
  q99?: number[];
}

/** Text tokenizers a processor can name (the policy's understanding expert is Qwen3-VL). */
export type PromptTokenizer = 'qwen3';

/** Grippers driven open/closed: these action dims are snapped to 0 or 1 in robot units. */
export interface GripperRule {
  /** Action dims (indexes into `actionNames`) that are binary grippers. */
  dims: number[];
  /** Values at or above it become 1, below it 0. */
  threshold: number;
}

/** The processor as JSON (what `processor` in a checkpoint's metadata holds). */
export interface PolicyProcessorJson {
  /** Robot type the layout belongs to (e.g. `Genie-1`, `cr5`). */
  robotType: string;
  /** Names of the robot's state dims, in order (robot units). */
  stateNames: string[];
  /** Names of the robot's action dims, in order (robot units). */
  actionNames: string[];
  /** Per action dim: true = delta from the current state of the same index (joints), false = absolute. */
  deltaMask: boolean[];
  /** Normalisation of state and actions. */
  normalization: Normalization;
  /** Statistics of the state and of the actions (the latter over deltas on delta dims). */
  stats: { state: VectorStats; action: VectorStats };
  /** Camera names in the policy's view order: camera i feeds view slot i. */
  cameras: string[];
  /** Square image side the network takes. */
  imageSize: number;
  /**
   * How camera frames become network inputs (default `vla`). `upstream` repeats upstream's pipeline
   * exactly: resize-with-pad to `padSize`² in float (bilinear, no antialiasing), then the Qwen3-VL
   * image processor's patches for the vision tower and a bilinear `imageSize`² copy ×2 − 1 for the
   * tokenizer. `vla` resizes with padding once on the engine, antialiased (see
   * {@link PolicyProcessor.imageBatchToPolicy}), and the vision tower patchifies that image itself.
   */
  imagePipeline?: 'vla' | 'upstream';
  /** Side of upstream's resize-with-pad (its dataset transform; 224 for the released models). */
  padSize?: number;
  /** Text tokens of the prompt. */
  textLength: number;
  /** Actions per chunk. */
  chunkSize: number;
  /** Padded state/action width of the network (32). */
  policyDim: number;
  /** Binary gripper dims, or null. */
  gripper: GripperRule | null;
  /** The prompt's tokenizer. */
  tokenizer: PromptTokenizer;
  /**
   * Compact vocabulary of a small model: the Qwen ids kept, in compact order (compact id i + 1 is
   * `vocab[i]`; 0 is unknown), as qwen3-vl's `VocabRemap` builds it; null = the full Qwen vocabulary.
   */
  vocab: number[] | null;
}

/** Statistics of one feature as a dataset reports them (LeRobot's `FeatureStats` fits). */
export interface FeatureStatsLike {
  /** Mean per dim. */
  mean: ArrayLike<number>;
  /** Standard deviation per dim. */
  std: ArrayLike<number>;
  /** 1st percentile per dim. */
  q01?: ArrayLike<number>;
  /** 99th percentile per dim. */
  q99?: ArrayLike<number>;
}

/** Arguments of {@link PolicyProcessor.fromStats}. */
export interface FromStatsOptions {
  /** See {@link PolicyProcessorJson.robotType}. */
  robotType: string;
  /** Names of the state dims (their count is the state dim). */
  stateNames: readonly string[];
  /** Names of the action dims (their count is the action dim). */
  actionNames: readonly string[];
  /** Per action dim; default all false (absolute actions). */
  deltaMask?: readonly boolean[];
  /** Camera names in view-slot order. */
  cameras: readonly string[];
  /** Statistics of the state and the action features (extra fields such as min/max/count are ignored). */
  stats: { state: FeatureStatsLike; action: FeatureStatsLike };
  /** Default `mean_std`. */
  normalization?: Normalization;
  /** The network's square image side (its config's `imageSize`). */
  imageSize: number;
  /** See {@link PolicyProcessorJson.imagePipeline} (default `vla`). */
  imagePipeline?: 'vla' | 'upstream';
  /** See {@link PolicyProcessorJson.padSize}. */
  padSize?: number;
  /** The network's text tokens (its config's `textTokens`). */
  textLength: number;
  /** The network's action chunk (its config's `chunkSize`). */
  chunkSize: number;
  /** Default 32. */
  policyDim?: number;
  /** Binary gripper dims; default none. */
  gripper?: GripperRule | null;
  /** Default `qwen3`. */
  tokenizer?: PromptTokenizer;
  /** Compact vocabulary (a `VocabRemap` or its kept Qwen ids); default null = full vocabulary. */
  vocab?: VocabRemap | readonly number[] | null;
}

/** One camera frame: RGB8, height × width × 3, row-major. */
export interface RgbFrame {
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
  /** `height · width · 3` bytes. */
  data: Uint8Array;
}

/** Images of one time step, ready for {@link ViewFrames}: one tensor per view slot. */
export interface PolicyImages {
  /** Per view slot, `[1, 3, imageSize, imageSize]` in [-1, 1] (all ones for a missing camera). */
  images: Tensor[];
  /** Per view slot: 1 = camera present, 0 = missing. */
  masks: Uint8Array;
  /**
   * With the `upstream` image pipeline: the Qwen3-VL image processor's patches of every item's views,
   * `[B · views · patches, 3 · 2 · 16²]` (item-major), the vision tower's input (`visionPatches`).
   */
  visionPatches?: Tensor;
}

/** Options of {@link PolicyProcessor.imageBatchToPolicy}. */
export interface ImageBatchOptions {
  /** Also make the vision tower's patches (upstream pipeline; default true). Frames t−15 need none. */
  vision?: boolean;
}

/** A processor that cannot be built; `field` is the dotted path of the offending field. */
export class PolicyProcessorError extends Error {
  /** Dotted path, e.g. `stats.action.std[3]` (empty for the whole object). */
  readonly field: string;
  /** What is wrong with it. */
  readonly problem: string;
  constructor(field: string, problem: string) {
    super(`PolicyProcessor${field ? `.${field}` : ''} ${problem}`);
    this.name = 'PolicyProcessorError';
    this.field = field;
    this.problem = problem;
  }
}

const MAX_DIM = 4096;

function integer(min: number, max: number) {
  const error = `must be an integer in [${min}, ${max}]`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}
const finite = z.number({ error: 'must be a finite number' });
const numbers = z.array(finite, { error: 'must be a list of finite numbers' }).max(MAX_DIM);
const name = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(200);
const names = z.array(name, { error: 'must be a list of names' }).max(MAX_DIM);
const object = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, { error: 'must be an object' });
const vectorStats = object({ mean: numbers, std: numbers, q01: numbers.optional(), q99: numbers.optional() });

const processorSchema = object({
  robotType: name,
  stateNames: names,
  actionNames: names,
  deltaMask: z.array(z.boolean({ error: 'must be true or false' }), { error: 'must be a list of booleans' }),
  normalization: z.enum(['mean_std', 'quantile'], { error: 'must be "mean_std" or "quantile"' }),
  stats: object({ state: vectorStats, action: vectorStats }),
  cameras: names.min(1, { error: 'must name at least one camera' }),
  imageSize: integer(1, 8192),
  imagePipeline: z.enum(['vla', 'upstream'], { error: 'must be "vla" or "upstream"' }).optional(),
  padSize: integer(1, 8192).optional(),
  textLength: integer(1, 65_536),
  chunkSize: integer(1, 4096),
  policyDim: integer(1, MAX_DIM),
  gripper: object({
    dims: z.array(integer(0, MAX_DIM - 1), { error: 'must be a list of dims' }),
    threshold: finite,
  }).nullable(),
  tokenizer: z.enum(['qwen3'], { error: 'must be "qwen3"' }),
  vocab: z
    .array(integer(0, 2 ** 31 - 1), { error: 'must be a list of token ids' })
    .max(1 << 20)
    .nullable(),
});

/** Throws {@link PolicyProcessorError} naming the field when `json` is not a consistent processor. */
function validate(json: unknown): asserts json is PolicyProcessorJson {
  const parsed = processorSchema.safeParse(json);
  if (!parsed.success) {
    const { field, problem } = firstSchemaIssue(parsed.error, json);
    throw new PolicyProcessorError(field, problem);
  }
  const p = json as PolicyProcessorJson;
  const fail = (field: string, problem: string) => new PolicyProcessorError(field, problem);
  const S = p.stateNames.length;
  const A = p.actionNames.length;
  for (const [field, list] of [
    ['stateNames', p.stateNames],
    ['actionNames', p.actionNames],
    ['cameras', p.cameras],
  ] as const) {
    const dup = list.findIndex((n, i) => list.indexOf(n) !== i);
    if (dup >= 0) throw fail(`${field}[${dup}]`, `repeats ${JSON.stringify(list[dup])}`);
  }
  if (S > p.policyDim) throw fail('stateNames', `has ${S} dims, more than policyDim ${p.policyDim}`);
  if (A > p.policyDim) throw fail('actionNames', `has ${A} dims, more than policyDim ${p.policyDim}`);
  if (p.deltaMask.length !== A)
    throw fail('deltaMask', `has ${p.deltaMask.length} entries, actionNames ${A}`);
  // A delta dim is relative to the state dim of the same index, so that state dim must exist.
  const beyond = p.deltaMask.findIndex((d, i) => d && i >= S);
  if (beyond >= 0) throw fail(`deltaMask[${beyond}]`, `is a delta but the state has only ${S} dims`);
  for (const [part, dims] of [
    ['state', S],
    ['action', A],
  ] as const) {
    const s = p.stats[part];
    const keys = ['mean', 'std', 'q01', 'q99'] as const;
    for (const k of keys) {
      const v = s[k];
      if (v === undefined) {
        if (p.normalization === 'quantile' && (k === 'q01' || k === 'q99'))
          throw fail(`stats.${part}.${k}`, 'is required by quantile normalization, got undefined (missing)');
        continue;
      }
      if (v.length !== dims) throw fail(`stats.${part}.${k}`, `has ${v.length} entries, expected ${dims}`);
    }
    const neg = s.std.findIndex((x) => x < 0);
    if (neg >= 0) throw fail(`stats.${part}.std[${neg}]`, `must be >= 0, got ${s.std[neg]}`);
    if (s.q01 && s.q99) {
      const bad = s.q01.findIndex((x, i) => x > s.q99![i]);
      if (bad >= 0) throw fail(`stats.${part}.q99[${bad}]`, `${s.q99[bad]} is below q01 ${s.q01[bad]}`);
    }
  }
  if (p.vocab) {
    const seen = new Set<number>();
    const dup = p.vocab.findIndex((id) => seen.size === seen.add(id).size);
    if (dup >= 0) throw fail(`vocab[${dup}]`, `repeats token id ${p.vocab[dup]}`);
  }
  if (p.gripper) {
    const bad = p.gripper.dims.findIndex((d) => d >= A);
    if (bad >= 0)
      throw fail(`gripper.dims[${bad}]`, `${p.gripper.dims[bad]} is not an action dim (actionDim ${A})`);
  }
}

function copyStats(s: FeatureStatsLike): VectorStats {
  const out: VectorStats = { mean: Array.from(s.mean), std: Array.from(s.std) };
  if (s.q01) out.q01 = Array.from(s.q01);
  if (s.q99) out.q99 = Array.from(s.q99);
  return out;
}

/** Per-dim `x ↦ (x − offset) / scale` of one feature, in float64. */
interface Affine {
  offset: Float64Array;
  scale: Float64Array;
}

function affine(stats: VectorStats, mode: Normalization): Affine {
  const n = stats.mean.length;
  const offset = new Float64Array(n);
  const scale = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (mode === 'mean_std') {
      offset[i] = stats.mean[i];
      scale[i] = stats.std[i] + NORMALIZATION_EPS;
    } else {
      // 2 (x − q01) / (q99 − q01 + ε) − 1 = (x − mid) / half, mid = q01 + half.
      const half = (stats.q99![i] - stats.q01![i] + NORMALIZATION_EPS) / 2;
      offset[i] = stats.q01![i] + half;
      scale[i] = half;
    }
  }
  return { offset, scale };
}

/**
 * The policy's I/O layer: converts robot states, action chunks and camera frames to what the network
 * takes, and the network's actions back to robot units. Plain data (see {@link PolicyProcessorJson});
 * saved inside the checkpoint by `savePolicy(path, policy, { processor })`.
 */
export class PolicyProcessor {
  /** The validated data (do not mutate). */
  readonly json: Readonly<PolicyProcessorJson>;
  /** The compact-vocabulary map of {@link PolicyProcessorJson.vocab}, or null for the full vocabulary. */
  readonly vocabRemap: VocabRemap | null;
  private readonly state: Affine;
  private readonly action: Affine;
  private textTokenizer: TextTokenizer | undefined;

  private constructor(json: PolicyProcessorJson) {
    this.json = json;
    this.state = affine(json.stats.state, json.normalization);
    this.action = affine(json.stats.action, json.normalization);
    this.vocabRemap = json.vocab ? new VocabRemap(json.vocab) : null;
  }

  /** Validates `json` (errors name the field) and builds the processor from a deep copy of it. */
  static fromJSON(json: unknown): PolicyProcessor {
    const copy = json === undefined ? undefined : (JSON.parse(JSON.stringify(json)) as unknown);
    validate(copy);
    return new PolicyProcessor(copy);
  }

  /** Builds a processor from a robot layout and a dataset's statistics of its state and action features. */
  static fromStats(o: FromStatsOptions): PolicyProcessor {
    return PolicyProcessor.fromJSON({
      robotType: o.robotType,
      stateNames: [...o.stateNames],
      actionNames: [...o.actionNames],
      deltaMask: o.deltaMask ? [...o.deltaMask] : o.actionNames.map(() => false),
      normalization: o.normalization ?? 'mean_std',
      stats: { state: copyStats(o.stats.state), action: copyStats(o.stats.action) },
      cameras: [...o.cameras],
      imageSize: o.imageSize,
      ...(o.imagePipeline ? { imagePipeline: o.imagePipeline } : {}),
      ...(o.padSize !== undefined ? { padSize: o.padSize } : {}),
      textLength: o.textLength,
      chunkSize: o.chunkSize,
      policyDim: o.policyDim ?? 32,
      gripper: o.gripper ?? null,
      tokenizer: o.tokenizer ?? 'qwen3',
      vocab: o.vocab
        ? Array.from(o.vocab instanceof VocabRemap ? o.vocab.fullIds.subarray(1) : o.vocab)
        : null,
    } satisfies PolicyProcessorJson);
  }

  /** A JSON-serialisable copy of the processor's data. */
  toJSON(): PolicyProcessorJson {
    return JSON.parse(JSON.stringify(this.json)) as PolicyProcessorJson;
  }

  /**
   * Throws {@link PolicyProcessorError} naming the field when the processor was built for other sizes
   * than `config`'s network: image side, text length, chunk, width, views, vocabulary.
   */
  checkFits(config: InternVLAA1Config): void {
    const p = this.json;
    const pairs: [string, number, string, number][] = [
      ['imageSize', p.imageSize, 'imageSize', config.imageSize],
      ['textLength', p.textLength, 'textTokens', config.textTokens],
      ['chunkSize', p.chunkSize, 'chunkSize', config.chunkSize],
      ['policyDim', p.policyDim, 'stateDim', config.stateDim],
      ['cameras', p.cameras.length, 'views', config.views],
    ];
    for (const [field, value, key, expected] of pairs)
      if (value !== expected)
        throw new PolicyProcessorError(
          field,
          `is ${value}${field === 'cameras' ? ' cameras' : ''} but the policy's ${key} is ${expected}`,
        );
    if (p.imagePipeline === 'upstream') {
      // The processor's patches must be the grid the vision tower was built for.
      const P = p.padSize ?? UPSTREAM_PAD_SIZE;
      const seen = processedImageSize(P, P);
      const [vh, vw] = visionSize(config);
      if (seen[0] !== vh || seen[1] !== vw)
        throw new PolicyProcessorError(
          'padSize',
          `${P} gives the vision tower ${seen[0]}x${seen[1]} pixels (Qwen3-VL processor), but the policy's visionSize is ${vh}x${vw}`,
        );
    }
    // Compact ids run 0..vocab.length (0 = unknown); each must index the embedding.
    if (p.vocab && p.vocab.length + 1 > config.vlm.text.vocabSize)
      throw new PolicyProcessorError(
        'vocab',
        `keeps ${p.vocab.length} tokens (+1 unknown) but the policy's vocabSize is ${config.vlm.text.vocabSize}`,
      );
  }

  /** Robot state dims. */
  get stateDim(): number {
    return this.json.stateNames.length;
  }

  /** Robot action dims. */
  get actionDim(): number {
    return this.json.actionNames.length;
  }

  private checkVector(v: ArrayLike<number>, n: number, what: string): void {
    if (v.length !== n) throw new Error(`PolicyProcessor.${what}: expected ${n} values, got ${v.length}`);
  }

  /** Normalises a robot state and zero-pads it to `policyDim`. */
  stateToPolicy(state: ArrayLike<number>): Float32Array {
    this.checkVector(state, this.stateDim, 'stateToPolicy');
    const out = new Float32Array(this.json.policyDim);
    const { offset, scale } = this.state;
    for (let i = 0; i < state.length; i++) out[i] = (state[i] - offset[i]) / scale[i];
    return out;
  }

  /**
   * Training targets: each action (robot units) minus `state` on delta dims, normalised and
   * zero-padded; `[H, policyDim]` row-major for H = `actions.length`.
   */
  actionsToPolicy(actions: readonly ArrayLike<number>[], state: ArrayLike<number>): Float32Array {
    this.checkVector(state, this.stateDim, 'actionsToPolicy (state)');
    const P = this.json.policyDim;
    const out = new Float32Array(actions.length * P);
    const { offset, scale } = this.action;
    const delta = this.json.deltaMask;
    actions.forEach((a, h) => {
      this.checkVector(a, this.actionDim, `actionsToPolicy (actions[${h}])`);
      for (let i = 0; i < a.length; i++) {
        const x = delta[i] ? a[i] - state[i] : a[i];
        out[h * P + i] = (x - offset[i]) / scale[i];
      }
    });
    return out;
  }

  /**
   * The network's actions (`[H, policyDim]` row-major) in robot units: un-normalised, padding
   * dropped, `state` added back on delta dims, gripper dims snapped to 0/1 when a rule is set.
   */
  actionsToRobot(policyActions: ArrayLike<number>, state: ArrayLike<number>): Float64Array[] {
    this.checkVector(state, this.stateDim, 'actionsToRobot (state)');
    const P = this.json.policyDim;
    if (policyActions.length % P !== 0)
      throw new Error(
        `PolicyProcessor.actionsToRobot: ${policyActions.length} values are not whole rows of ${P}`,
      );
    const { offset, scale } = this.action;
    const delta = this.json.deltaMask;
    const gripper = this.json.gripper;
    const rows: Float64Array[] = [];
    for (let h = 0; h < policyActions.length / P; h++) {
      const a = new Float64Array(this.actionDim);
      for (let i = 0; i < a.length; i++) {
        a[i] = policyActions[h * P + i] * scale[i] + offset[i];
        if (delta[i]) a[i] += state[i];
      }
      if (gripper) for (const d of gripper.dims) a[d] = a[d] >= gripper.threshold ? 1 : 0;
      rows.push(a);
    }
    return rows;
  }

  /**
   * Task prompts → token ids and mask in the network's vocabulary (after
   * {@link PolicyProcessor.loadTokenizer}): the processor's tokenizer, the
   * prompt layout of qwen3-vl (right-padded / truncated to `textLength`) and the compact-vocabulary
   * remap when the model has one.
   */
  encodePrompts(config: InternVLAA1Config, prompts: readonly string[]): EncodedPrompts {
    if (config.textTokens !== this.json.textLength)
      throw new Error(
        `PolicyProcessor.encodePrompts: the processor has textLength ${this.json.textLength}, the config textTokens ${config.textTokens}`,
      );
    const vocab = config.vlm.text.vocabSize;
    if (this.vocabRemap && this.vocabRemap.size > vocab)
      throw new Error(
        `PolicyProcessor.encodePrompts: the compact vocabulary has ${this.vocabRemap.size} ids, the model ${vocab}`,
      );
    if (!this.textTokenizer)
      throw new Error(
        'PolicyProcessor.encodePrompts: the tokenizer is not loaded; call `await processor.loadTokenizer()` first (loadPolicyBundle does)',
      );
    return encodePrompts(config, this.textTokenizer, prompts, this.vocabRemap ?? undefined);
  }

  /** Loads the prompt tokenizer {@link PolicyProcessor.encodePrompts} needs (once; later calls return at once). */
  async loadTokenizer(): Promise<this> {
    this.textTokenizer ??= await Qwen3Tokenizer.load();
    return this;
  }

  /**
   * Camera frames of one time step → the network's images on the GPU (batch of 1); see
   * {@link PolicyProcessor.imageBatchToPolicy}.
   */
  imagesToPolicy(frames: Readonly<Record<string, RgbFrame | undefined>>): PolicyImages {
    return this.imageBatchToPolicy([frames]);
  }

  /**
   * Camera frames of a batch (one record per item) → per view slot `[B, 3, imageSize, imageSize]` in
   * [-1, 1] on the GPU: uint8 is uploaded as is (one upload per view and frame size), converted
   * HWC → CHW, resized with padding (aspect ratio kept, openpi's `resize_with_pad`: the image is
   * centred and the border is black, -1) and scaled there. Downscaling by a factor k ≥ 2 first
   * averages k×k boxes so that small network inputs do not alias. A camera that is absent (or
   * undefined) gives an all-ones image and mask 0. Unknown camera names are an error.
   */
  imageBatchToPolicy(
    frames: readonly Readonly<Record<string, RgbFrame | undefined>>[],
    options: ImageBatchOptions = {},
  ): PolicyImages {
    const cams = this.json.cameras;
    const B = frames.length;
    if (B < 1) throw new Error('PolicyProcessor.imageBatchToPolicy: the batch is empty');
    const masks = new Uint8Array(B * cams.length);
    frames.forEach((record, b) => {
      for (const k of Object.keys(record))
        if (!cams.includes(k))
          throw new Error(
            `PolicyProcessor.imageBatchToPolicy: unknown camera ${JSON.stringify(k)} in item ${b} (cameras: ${cams.join(', ')})`,
          );
      cams.forEach((cam, v) => {
        const f = record[cam];
        if (!f) return;
        const { width: W, height: H, data } = f;
        if (!Number.isInteger(W) || !Number.isInteger(H) || W < 1 || H < 1 || data.length !== W * H * 3)
          throw new Error(
            `PolicyProcessor.imageBatchToPolicy: camera ${cam} of item ${b} has ${data.length} bytes, expected ${H}·${W}·3`,
          );
        masks[b * cams.length + v] = 1;
      });
    });
    if (this.json.imagePipeline === 'upstream')
      return this.upstreamImages(frames, masks, options.vision ?? true);
    const S = this.json.imageSize;
    const images = cams.map((cam, v) =>
      tidy(() => {
        const items: Tensor[] = new Array<Tensor>(B);
        // Frames of one size travel together: one upload and one resize per size.
        const bySize = new Map<string, number[]>();
        frames.forEach((record, b) => {
          const f = record[cam];
          if (!masks[b * cams.length + v] || !f) return;
          const key = `${f.height}x${f.width}`;
          bySize.set(key, [...(bySize.get(key) ?? []), b]);
        });
        for (const members of bySize.values()) {
          const first = frames[members[0]][cam]!;
          const bytes = new Uint8Array(members.length * first.data.length);
          members.forEach((b, i) => bytes.set(frames[b][cam]!.data, i * first.data.length));
          const out = resizeWithPad(bytes, members.length, first.height, first.width, S);
          members.forEach((b, i) => (items[b] = members.length === 1 ? out : sliceItem(out, i)));
        }
        for (let b = 0; b < B; b++) items[b] ??= ones([1, 3, S, S]);
        return B === 1 ? items[0] : concat(items, 0);
      }),
    );
    return { images, masks };
  }

  /**
   * Upstream's pipeline on the host: float frames in [0, 1], resize-with-pad to `padSize`² as its
   * dataset transform, the Qwen3-VL processor's patches of each (vision tower), and on the engine the
   * tokenizer's input: bilinear to `imageSize`², ×2 − 1. A missing camera is an all-ones frame.
   */
  private upstreamImages(
    frames: readonly Readonly<Record<string, RgbFrame | undefined>>[],
    masks: Uint8Array,
    vision: boolean,
  ): PolicyImages {
    const cams = this.json.cameras;
    const B = frames.length;
    const V = cams.length;
    const P = this.json.padSize ?? UPSTREAM_PAD_SIZE;
    const plane = 3 * P * P;
    const patches: Float32Array[] = new Array<Float32Array>(B * V);
    const padded = cams.map((cam, v) => {
      const out = new Float32Array(B * plane);
      for (let b = 0; b < B; b++) {
        const f = frames[b][cam];
        const image =
          masks[b * V + v] && f
            ? resizeWithPadPlanar(planarUnit(f), 3, f.height, f.width, P, P, { method: 'upstream' })
            : new Float32Array(plane).fill(1);
        out.set(image, b * plane);
        if (vision) patches[b * V + v] = preprocessQwen3VLImage(image, 3, P, P).pixelValues;
      }
      return out;
    });
    const S = this.json.imageSize;
    const images = padded.map((x) => tidy(() => cosmosTokenizerInput(tensor(x, [B, 3, P, P]), { size: S })));
    if (!vision) return { images, masks };
    const p = QWEN3_VL_2B_IMAGE_PROCESSOR;
    const cols = 3 * p.temporalPatchSize * p.patchSize ** 2;
    const all = new Float32Array(patches.reduce((n, x) => n + x.length, 0));
    let at = 0;
    for (const x of patches) {
      all.set(x, at);
      at += x.length;
    }
    return { images, masks, visionPatches: tensor(all, [all.length / cols, cols]) };
  }
}

/** Upstream's resize-with-pad side (its 3B dataset transform), the default `padSize`. */
export const UPSTREAM_PAD_SIZE = 224;

/** RGB8 HWC → float CHW in [0, 1]. */
function planarUnit(f: RgbFrame): Float32Array {
  const n = f.width * f.height;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c * n + i] = f.data[3 * i + c] / 255;
  return out;
}

/** Item `i` of a `[N, 3, S, S]` batch as `[1, 3, S, S]`. */
function sliceItem(x: Tensor, i: number): Tensor {
  const [, c, h, w] = x.shape;
  return reshape(narrow(x, 0, i, 1), [1, c, h, w]);
}

/**
 * Where an `H × W` image lands in an `S × S` canvas keeping its aspect ratio (openpi's
 * `resize_with_pad`: ratio = max(W/S, H/S), sizes truncated, the extra padding pixel bottom/right).
 * Exported for tests only.
 * @internal
 */
export function padLayout(
  H: number,
  W: number,
  S: number,
): { height: number; width: number; top: number; left: number } {
  const ratio = Math.max(W / S, H / S);
  const height = Math.max(1, Math.min(S, Math.trunc(H / ratio)));
  const width = Math.max(1, Math.min(S, Math.trunc(W / ratio)));
  return { height, width, top: Math.floor((S - height) / 2), left: Math.floor((S - width) / 2) };
}

/** `N` RGB8 HWC frames of one size → `[N, 3, S, S]` in [-1, 1], resized with padding (black = -1). */
function resizeWithPad(bytes: Uint8Array, N: number, H: number, W: number, S: number): Tensor {
  const { height, width, top, left } = padLayout(H, W, S);
  // Layout change, widening and (for downscales by k ≥ 2) the k×k box means in one kernel.
  const k = Math.max(1, Math.floor(Math.min(H / height, W / width)));
  let x = rgbToPlanar(tensor(bytes, [N, H, W, 3], 'u8'), { box: k });
  if (x.shape[2] !== height || x.shape[3] !== width) x = resizeBilinear(x, [height, width]);
  // Resizing is linear, so scaling after it touches S² pixels instead of H·W.
  const scaled = sub(mul(x, 2 / 255), 1);
  if (height === S && width === S) return scaled;
  return pad(
    scaled,
    [
      [0, 0],
      [0, 0],
      [top, S - height - top],
      [left, S - width - left],
    ],
    -1,
  );
}
