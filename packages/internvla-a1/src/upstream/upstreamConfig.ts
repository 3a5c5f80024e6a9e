// The policy configuration of an upstream checkpoint, from two witnesses: its config.json (what
// upstream was told) and the tensor shapes in the safetensors headers (what it built). Sizes the
// shapes determine come from the shapes; config.json values that are also fixed by shapes must agree
// with them, and any disagreement is an error naming the key and both values.
import { processedImageSize } from '@vla/qwen3-vl';
import { spatialCompression } from '@vla/vae';
import { validatePolicyConfig, PolicyConfigError, type InternVLAA1Config } from '../config.js';
import { a13bConfig } from '../configs.js';
import { UPSTREAM_PAD_SIZE } from '../policyProcessor.js';
import { UpstreamImportError } from './upstreamImportError.js';

const QWEN = 'model.qwen3_vl_with_expert.';
const VIS = `${QWEN}und_expert.model.visual.`;
const LM = `${QWEN}und_expert.model.language_model.`;
const EXPERT_PREFIX = {
  und: LM,
  gen: `${QWEN}gen_expert.`,
  act: `${QWEN}act_expert.`,
} as const;

/** Options of {@link inferUpstreamConfig}. */
export interface InferUpstreamConfigOptions {
  /**
   * Where the fields no tensor or config.json fixes come from (image size, views, vision heads, rope,
   * tokenizer, special token ids). Default: the registered `a1-3b` configuration.
   */
  base?: InternVLAA1Config;
  /** Name of the resulting configuration (default: the base's name). */
  name?: string;
  /** Names the config.json in messages. */
  configSource?: string;
  /** Names the checkpoint in messages. */
  weightsSource?: string;
}

/** Tensor shapes by upstream key (from the headers; no data needed). */
export type UpstreamShapes = ReadonlyMap<string, readonly number[]>;

/**
 * Infers and validates an {@link InternVLAA1Config} from an upstream config.json (parsed) and the
 * checkpoint's tensor shapes. From shapes: MoT depth, every expert's width, MLP width, head_dim and
 * head counts, vision depth/width/MLP/patch/merge/position table, merger output, vocabulary, state
 * and action dim. From config.json: chunk size (`chunk_size`), text tokens (`tokenizer_max_length`),
 * λ (`lambda_gen`), generation grid (latent side / `scale_factor`). Checked against each other:
 * `max_state_dim` / `max_action_dim` vs `state_proj` / `action_in_proj`, the layer counts in
 * `qwen3_vl_variant` / `action_expert_variant` vs the layers present, `n_action_steps` <= `chunk_size`.
 * Throws {@link UpstreamImportError} naming the key and both values.
 */
export function inferUpstreamConfig(
  configJson: unknown,
  shapes: UpstreamShapes,
  options: InferUpstreamConfigOptions = {},
): InternVLAA1Config {
  const base = options.base ?? a13bConfig();
  const cfgSrc = options.configSource ?? 'config.json';
  const wSrc = options.weightsSource ?? 'checkpoint';
  if (configJson === null || typeof configJson !== 'object' || Array.isArray(configJson))
    throw new UpstreamImportError(cfgSrc, 'must hold a JSON object');
  const cfg = configJson as Record<string, unknown>;

  const shapeOf = (key: string): readonly number[] => {
    const s = shapes.get(key);
    if (!s)
      throw new UpstreamImportError(wSrc, `tensor ${key} is missing (needed to infer the configuration)`);
    return s;
  };
  const dimOf = (key: string, axis: number, rank: number): number => {
    const s = shapeOf(key);
    if (s.length !== rank)
      throw new UpstreamImportError(wSrc, `tensor ${key} has shape [${s.join(', ')}], expected rank ${rank}`);
    return s[axis];
  };
  const count = (prefix: string, part: string): number => {
    const seen = new Set<number>();
    for (const k of shapes.keys()) {
      if (!k.startsWith(prefix + part)) continue;
      const m = /^(\d+)\./.exec(k.slice(prefix.length + part.length));
      if (m) seen.add(Number(m[1]));
    }
    for (let i = 0; i < seen.size; i++)
      if (!seen.has(i))
        throw new UpstreamImportError(wSrc, `${prefix}${part}${i}.* is missing (found ${seen.size} others)`);
    return seen.size;
  };
  const fromShapes = (what: string, a: number, key: string, b: number) => {
    if (a !== b) throw new UpstreamImportError(wSrc, `${what}: ${key} says ${b}, the other tensors say ${a}`);
  };
  /** A config.json value, checked to be a positive integer (or absent). */
  const intField = (key: string): number | undefined => {
    const v = cfg[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      throw new UpstreamImportError(cfgSrc, `${key} must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const agree = (key: string, json: number | undefined, tensorKey: string, shape: number) => {
    if (json !== undefined && json !== shape)
      throw new UpstreamImportError(
        cfgSrc,
        `${key} is ${json} but tensor ${tensorKey} implies ${shape} (config.json and weights disagree)`,
      );
  };

  // Experts: width from the final norm, MLP from gate_proj, heads from q/k rows over head_dim.
  const headDim = dimOf(`${LM}layers.0.self_attn.q_norm.weight`, 0, 1);
  const expert = (prefix: string) => {
    const width = dimOf(`${prefix}norm.weight`, 0, 1);
    const qRows = dimOf(`${prefix}layers.0.self_attn.q_proj.weight`, 0, 2);
    const kRows = dimOf(`${prefix}layers.0.self_attn.k_proj.weight`, 0, 2);
    fromShapes(
      'head_dim',
      headDim,
      `${prefix}layers.0.self_attn.q_norm.weight`,
      dimOf(`${prefix}layers.0.self_attn.q_norm.weight`, 0, 1),
    );
    for (const [k, rows] of [
      ['q_proj', qRows],
      ['k_proj', kRows],
    ] as const)
      if (rows % headDim !== 0)
        throw new UpstreamImportError(
          wSrc,
          `tensor ${prefix}layers.0.self_attn.${k}.weight has ${rows} rows, not a multiple of head_dim ${headDim}`,
        );
    fromShapes(
      'hidden size',
      width,
      `${prefix}layers.0.self_attn.q_proj.weight`,
      dimOf(`${prefix}layers.0.self_attn.q_proj.weight`, 1, 2),
    );
    return {
      width,
      mlpWidth: dimOf(`${prefix}layers.0.mlp.gate_proj.weight`, 0, 2),
      heads: qRows / headDim,
      kvHeads: kRows / headDim,
      layers: count(prefix, 'layers.'),
    };
  };
  const und = expert(EXPERT_PREFIX.und);
  const hasGen = [...shapes.keys()].some((k) => k.startsWith(EXPERT_PREFIX.gen));
  const gen = hasGen ? expert(EXPERT_PREFIX.gen) : null;
  const act = expert(EXPERT_PREFIX.act);
  for (const [name, e, prefix] of [
    ['gen_expert', gen, EXPERT_PREFIX.gen],
    ['act_expert', act, EXPERT_PREFIX.act],
  ] as const) {
    if (!e) continue;
    fromShapes(`${name} layers`, und.layers, `${prefix}layers.*`, e.layers);
    fromShapes(`${name} q heads`, und.heads, `${prefix}layers.0.self_attn.q_proj.weight`, e.heads);
    fromShapes(`${name} kv heads`, und.kvHeads, `${prefix}layers.0.self_attn.k_proj.weight`, e.kvHeads);
  }

  // Vocabulary: the embedding, or the tied head when the file kept only that.
  const embedKey = shapes.has(`${LM}embed_tokens.weight`)
    ? `${LM}embed_tokens.weight`
    : `${QWEN}und_expert.lm_head.weight`;
  const vocabSize = dimOf(embedKey, 0, 2);
  fromShapes('und_expert width', und.width, embedKey, dimOf(embedKey, 1, 2));

  // Vision tower: patch_embed.proj is a Conv3d [width, channels, temporal, patch, patch].
  const patch = shapeOf(`${VIS}patch_embed.proj.weight`);
  if (patch.length !== 5 || patch[3] !== patch[4])
    throw new UpstreamImportError(
      wSrc,
      `tensor ${VIS}patch_embed.proj.weight has shape [${patch.join(', ')}], expected [width, channels, temporal, patch, patch]`,
    );
  const vWidth = patch[0];
  const mergeIn = dimOf(`${VIS}merger.linear_fc1.weight`, 1, 2);
  const merge = Math.round(Math.sqrt(mergeIn / vWidth));
  if (merge * merge * vWidth !== mergeIn)
    throw new UpstreamImportError(
      wSrc,
      `tensor ${VIS}merger.linear_fc1.weight takes ${mergeIn} inputs, not width ${vWidth} times a square merge`,
    );
  const vision = {
    ...base.vlm.vision,
    depth: count(VIS, 'blocks.'),
    hiddenSize: vWidth,
    inChannels: patch[1],
    temporalPatchSize: patch[2],
    patchSize: patch[3],
    intermediateSize: dimOf(`${VIS}blocks.0.mlp.linear_fc1.weight`, 0, 2),
    spatialMergeSize: merge,
    outHiddenSize: dimOf(`${VIS}merger.linear_fc2.weight`, 0, 2),
    numPositionEmbeddings: dimOf(`${VIS}pos_embed.weight`, 0, 2),
    // The policy never uses DeepStack features (they are skipped on import).
    deepstackVisualIndexes: [],
  };
  fromShapes('vision merger output', und.width, `${VIS}merger.linear_fc2.weight`, vision.outHiddenSize);

  // State and action: one padded width in our configuration, two in upstream's.
  const stateDim = dimOf('model.state_proj.weight', 1, 2);
  fromShapes(
    'action dim',
    stateDim,
    'model.action_in_proj.weight',
    dimOf('model.action_in_proj.weight', 1, 2),
  );
  agree('max_state_dim', intField('max_state_dim'), 'model.state_proj.weight', stateDim);
  agree('max_action_dim', intField('max_action_dim'), 'model.action_in_proj.weight', stateDim);

  // Variant names carry the layer count (`qwen3_vl_28l`, `qwen3_28l`).
  for (const [key, prefix] of [
    ['qwen3_vl_variant', LM],
    ['action_expert_variant', EXPERT_PREFIX.act],
  ] as const) {
    const v = cfg[key];
    if (v === undefined) continue;
    const m = typeof v === 'string' ? /_(\d+)l$/.exec(v) : null;
    if (!m)
      throw new UpstreamImportError(cfgSrc, `${key} must look like "qwen3_28l", got ${JSON.stringify(v)}`);
    agree(key, Number(m[1]), `${prefix}layers.*`, und.layers);
  }

  const chunkSize = intField('chunk_size') ?? base.chunkSize;
  const steps = intField('n_action_steps');
  if (steps !== undefined && steps > chunkSize)
    throw new UpstreamImportError(cfgSrc, `n_action_steps is ${steps} but chunk_size is ${chunkSize}`);
  const textTokens = intField('tokenizer_max_length') ?? base.textTokens;
  const latent = base.imageSize / spatialCompression(base.vae);
  const scale = intField('scale_factor');
  let genGrid = base.genGrid;
  if (scale !== undefined) {
    if (latent % scale !== 0)
      throw new UpstreamImportError(
        cfgSrc,
        `scale_factor ${scale} does not divide the latent side ${latent}`,
      );
    genGrid = latent / scale;
  }
  const downKey = 'model.downsample_conv.weight';
  if (gen && shapes.has(downKey)) agree('scale_factor', scale, downKey, dimOf(downKey, 3, 4));
  const lambda = cfg.lambda_gen;
  if (lambda !== undefined && (typeof lambda !== 'number' || !(lambda >= 0)))
    throw new UpstreamImportError(cfgSrc, `lambda_gen must be a number >= 0, got ${JSON.stringify(lambda)}`);

  const config: InternVLAA1Config = {
    ...base,
    name: options.name ?? base.name,
    vlm: {
      vision,
      text: {
        ...base.vlm.text,
        vocabSize,
        hiddenSize: und.width,
        intermediateSize: und.mlpWidth,
        numLayers: und.layers,
        numHeads: und.heads,
        numKvHeads: und.kvHeads,
        headDim,
      },
    },
    generation: gen ? { width: gen.width, mlpWidth: gen.mlpWidth } : null,
    action: { width: act.width, mlpWidth: act.mlpWidth },
    chunkSize,
    textTokens,
    stateDim,
    genGrid,
    genLossWeight: typeof lambda === 'number' ? lambda : base.genLossWeight,
  };
  // Upstream's vision tower sees its frames after resize-with-pad and the Qwen3-VL processor
  // (224² → 256² for the released models); the tokenizer sees imageSize².
  const [vh, vw] = processedImageSize(UPSTREAM_PAD_SIZE, UPSTREAM_PAD_SIZE);
  if (vh !== config.imageSize || vw !== config.imageSize) config.visionSize = [vh, vw];
  else delete config.visionSize;
  try {
    validatePolicyConfig(config);
  } catch (e) {
    if (!(e instanceof PolicyConfigError)) throw e;
    throw new UpstreamImportError(wSrc, `the inferred configuration is invalid: ${e.message}`);
  }
  return config;
}
