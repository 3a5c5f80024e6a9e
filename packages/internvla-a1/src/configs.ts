// Built-in configurations and a registry for more: `a1-3b` (the released sizes) and `tiny` (the
// same structure at widths that train on a CPU).
import { QWEN3_SPECIAL_IDS, QWEN3_VL_2B, VocabRemap, tinyQwen3VLConfig } from '@vla/qwen3-vl';
import { COSMOS_CI8X8, COSMOS_TINY } from '@vla/vae';
import { validatePolicyConfig, type InternVLAA1Config } from './config.js';

/**
 * InternVLA-A1-3B: Qwen3-VL-2B understanding expert (28 layers, 2048 wide, 16/8 heads, head_dim 128),
 * generation and action experts 28 x 1024 (MLP 3072), Cosmos CI8x8 tokenizer, 3 views at 256 px,
 * 48 text tokens, 50 actions of 32 dims. ≈3.1B parameters (see `InternVLAA1Policy.describe`).
 */
export function a13bConfig(options: { generation?: boolean } = {}): InternVLAA1Config {
  const expert = { width: 1024, mlpWidth: 3072 };
  return {
    name: options.generation === false ? 'a1-3b-nogen' : 'a1-3b',
    vlm: QWEN3_VL_2B,
    generation: options.generation === false ? null : { ...expert },
    action: { ...expert },
    vae: COSMOS_CI8X8,
    views: 3,
    imageSize: 256,
    textTokens: 48,
    chunkSize: 50,
    stateDim: 32,
    genGrid: 4,
    genLossWeight: 0.01,
    tokenIds: { visionStart: QWEN3_SPECIAL_IDS.visionStart, visionEnd: QWEN3_SPECIAL_IDS.visionEnd },
  };
}

/** Options of {@link tinyConfig}. */
export interface TinyConfigOptions {
  /** Width of every expert and of the vision merger output (default 64). */
  width?: number;
  /** MoT depth = text decoder layers (default 2). */
  layers?: number;
  /** Vision tower blocks (default 2). */
  visionLayers?: number;
  /**
   * Side of the vision tower's square patches in pixels (default 16: a 64 px view is 4x4 patches,
   * 2x2 tokens after the merger). 8 gives 4x4 tokens per view, fine enough to place small objects.
   */
  patchSize?: number;
  /** Compact vocabulary size (default 512; see {@link tinyTokenIds}). */
  vocabSize?: number;
  /** Image side in pixels, a multiple of 32 (default 64: latent 8x8, token conv k = s = 2). */
  imageSize?: number;
  /** Text tokens (default 16). */
  textTokens?: number;
  /** Camera views (default 3). */
  views?: number;
  /** Action chunk (default 50). */
  chunkSize?: number;
  /** Build the generation expert (default true). */
  generation?: boolean;
}

/**
 * Ids of `<|vision_start|>` / `<|vision_end|>` in a compact vocabulary made by qwen3-vl's
 * `VocabRemap.fromTexts` (which keeps the Qwen special tokens first, in a fixed order).
 */
export function tinyTokenIds(): InternVLAA1Config['tokenIds'] {
  const remap = new VocabRemap(Object.values(QWEN3_SPECIAL_IDS));
  const [visionStart, visionEnd] = remap.toCompact([
    QWEN3_SPECIAL_IDS.visionStart,
    QWEN3_SPECIAL_IDS.visionEnd,
  ]);
  return { visionStart, visionEnd };
}

/**
 * A tiny policy with the 3B structure: qwen3-vl's tiny vision tower and text decoder (4 q / 2 kv
 * heads, head_dim 16), equally wide generation and action experts, the tiny Cosmos tokenizer, 64 px
 * images (latent 8x8 → token conv k = s = 2 → 4x4 tokens per frame). Trains on a CPU.
 */
export function tinyConfig(options: TinyConfigOptions = {}): InternVLAA1Config {
  const width = options.width ?? 64;
  const base = tinyQwen3VLConfig(options.vocabSize ?? 512);
  const expert = { width, mlpWidth: 2 * width };
  const generation = options.generation ?? true;
  return {
    name: generation ? 'tiny' : 'tiny-nogen',
    vlm: {
      vision: {
        ...base.vision,
        depth: options.visionLayers ?? base.vision.depth,
        patchSize: options.patchSize ?? base.vision.patchSize,
        outHiddenSize: width,
      },
      text: {
        ...base.text,
        hiddenSize: width,
        intermediateSize: 2 * width,
        numLayers: options.layers ?? base.text.numLayers,
      },
    },
    generation: generation ? { ...expert } : null,
    action: { ...expert },
    vae: COSMOS_TINY,
    views: options.views ?? 3,
    imageSize: options.imageSize ?? 64,
    textTokens: options.textTokens ?? 16,
    chunkSize: options.chunkSize ?? 50,
    stateDim: 32,
    genGrid: 4,
    genLossWeight: 0.01,
    tokenIds: tinyTokenIds(),
  };
}

const registry = new Map<string, () => InternVLAA1Config>([
  ['a1-3b', () => a13bConfig()],
  ['a1-3b-nogen', () => a13bConfig({ generation: false })],
  ['tiny', () => tinyConfig()],
  ['tiny-nogen', () => tinyConfig({ generation: false })],
]);

/** Adds (or replaces) a named configuration; `factory` returns a fresh object on every call. */
export function registerPolicyConfig(name: string, factory: () => InternVLAA1Config): void {
  if (!name) throw new Error('registerPolicyConfig: name must not be empty');
  registry.set(name, factory);
}

/** Names of the registered configurations. */
export function policyConfigNames(): string[] {
  return [...registry.keys()];
}

/** A fresh, validated copy of the configuration registered as `name`. */
export function policyConfig(name: string): InternVLAA1Config {
  const factory = registry.get(name);
  if (!factory)
    throw new Error(
      `policyConfig: unknown configuration "${name}" (known: ${policyConfigNames().join(', ')})`,
    );
  const config = factory();
  validatePolicyConfig(config);
  return config;
}
