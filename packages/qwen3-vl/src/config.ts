// Configuration of the understanding expert as data: the released Qwen3-VL-2B sizes, and a tiny
// configuration with the same structure for tests and browser demos.

/** Vision tower (Qwen3-VL ViT) configuration; field names follow HF `Qwen3VLVisionConfig`. */
export interface Qwen3VLVisionConfig {
  /** Transformer blocks. */
  depth: number;
  /** Width. */
  hiddenSize: number;
  /** MLP hidden width. */
  intermediateSize: number;
  /** Attention heads (head_dim = hiddenSize / numHeads). */
  numHeads: number;
  /** Image channels. */
  inChannels: number;
  /** Spatial patch size in pixels. */
  patchSize: number;
  /** Frames per temporal patch (a still image is repeated this many times). */
  temporalPatchSize: number;
  /** Patches merged per side by the merger (2 → 2x2 patches per output token). */
  spatialMergeSize: number;
  /** Merger output width (= the text decoder width). */
  outHiddenSize: number;
  /** Learned position embeddings (a square grid, 48² = 2304 upstream), interpolated to the image grid. */
  numPositionEmbeddings: number;
  /**
   * Blocks after which a DeepStack merger is applied. Qwen3-VL-2B uses [5, 11, 17]; InternVLA-A1
   * discards those features, so its configuration leaves this empty (and the mergers unbuilt).
   */
  deepstackVisualIndexes: readonly number[];
  /** LayerNorm epsilon (1e-6). */
  layerNormEps: number;
  /** Base of the 2-D rotary frequencies (10000). */
  ropeTheta: number;
}

/** Text decoder (Qwen3) configuration. */
export interface Qwen3TextConfig {
  /** Vocabulary size (151936 for the real tokenizer; smaller for a remapped tiny vocabulary). */
  vocabSize: number;
  /** Width. */
  hiddenSize: number;
  /** SwiGLU hidden width. */
  intermediateSize: number;
  /** Decoder layers. */
  numLayers: number;
  /** Query heads. */
  numHeads: number;
  /** Key/value heads (grouped-query attention). */
  numKvHeads: number;
  /** Per-head width. */
  headDim: number;
  /** RMSNorm epsilon. */
  rmsNormEps: number;
  /** RoPE base. */
  ropeTheta: number;
  /** Frequency slots per (t, h, w) axis for interleaved M-RoPE; sums to headDim / 2. */
  mropeSection: readonly [number, number, number];
  /** Output head shares the embedding matrix. */
  tieWordEmbeddings: boolean;
}

/** The understanding expert: vision tower + text decoder. */
export interface Qwen3VLConfig {
  /** Vision tower. */
  vision: Qwen3VLVisionConfig;
  /** Text decoder. */
  text: Qwen3TextConfig;
}

/** Qwen3-VL-2B as used by InternVLA-A1-3B (text MLP 6144, no DeepStack mergers). */
export const QWEN3_VL_2B: Readonly<Qwen3VLConfig> = Object.freeze({
  vision: Object.freeze({
    depth: 24,
    hiddenSize: 1024,
    intermediateSize: 4096,
    numHeads: 16,
    inChannels: 3,
    patchSize: 16,
    temporalPatchSize: 2,
    spatialMergeSize: 2,
    outHiddenSize: 2048,
    numPositionEmbeddings: 2304,
    deepstackVisualIndexes: Object.freeze([]) as readonly number[],
    layerNormEps: 1e-6,
    ropeTheta: 10000,
  }),
  text: Object.freeze({
    vocabSize: 151936,
    hiddenSize: 2048,
    intermediateSize: 6144,
    numLayers: 28,
    numHeads: 16,
    numKvHeads: 8,
    headDim: 128,
    rmsNormEps: 1e-6,
    ropeTheta: 5_000_000,
    mropeSection: Object.freeze([24, 20, 20]) as readonly [number, number, number],
    tieWordEmbeddings: true,
  }),
});

/**
 * A tiny configuration with the 2B's structure: vision width 32 (2 blocks, 2 heads, patch 16, 8x8
 * position grid), text width 64 (2 layers, 4 q / 2 kv heads, head_dim 16). Its vocabulary is a
 * {@link VocabRemap} of 512 ids; pass a different `vocabSize` for a bigger remap.
 */
export function tinyQwen3VLConfig(vocabSize = 512): Qwen3VLConfig {
  return {
    vision: {
      depth: 2,
      hiddenSize: 32,
      intermediateSize: 64,
      numHeads: 2,
      inChannels: 3,
      patchSize: 16,
      temporalPatchSize: 2,
      spatialMergeSize: 2,
      outHiddenSize: 64,
      numPositionEmbeddings: 64,
      deepstackVisualIndexes: [],
      layerNormEps: 1e-6,
      ropeTheta: 10000,
    },
    text: {
      vocabSize,
      hiddenSize: 64,
      intermediateSize: 128,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 16,
      rmsNormEps: 1e-6,
      ropeTheta: 5_000_000,
      mropeSection: [4, 2, 2],
      tieWordEmbeddings: true,
    },
  };
}

/** Throws an Error naming the field when a configuration is inconsistent. */
export function validateQwen3VLConfig(config: Qwen3VLConfig): void {
  const v = config.vision;
  const t = config.text;
  if (v.hiddenSize % v.numHeads !== 0)
    throw new Error(`vision.hiddenSize ${v.hiddenSize} is not divisible by vision.numHeads ${v.numHeads}`);
  const vHead = v.hiddenSize / v.numHeads;
  if (vHead % 4 !== 0)
    throw new Error(`vision head_dim ${vHead} must be a multiple of 4 (2-D rotary halves)`);
  const grid = Math.round(Math.sqrt(v.numPositionEmbeddings));
  if (grid * grid !== v.numPositionEmbeddings)
    throw new Error(`vision.numPositionEmbeddings ${v.numPositionEmbeddings} is not a square`);
  for (const i of v.deepstackVisualIndexes) {
    if (!Number.isInteger(i) || i < 0 || i >= v.depth)
      throw new Error(`vision.deepstackVisualIndexes entry ${i} is outside [0, ${v.depth})`);
  }
  if (v.outHiddenSize !== t.hiddenSize)
    throw new Error(`vision.outHiddenSize ${v.outHiddenSize} must equal text.hiddenSize ${t.hiddenSize}`);
  if (t.numHeads % t.numKvHeads !== 0)
    throw new Error(`text.numHeads ${t.numHeads} is not a multiple of text.numKvHeads ${t.numKvHeads}`);
  if (t.headDim % 2 !== 0) throw new Error(`text.headDim ${t.headDim} must be even`);
  const slots = t.mropeSection[0] + t.mropeSection[1] + t.mropeSection[2];
  if (slots !== t.headDim / 2)
    throw new Error(
      `text.mropeSection [${t.mropeSection.join(', ')}] sums to ${slots}, expected headDim/2 = ${t.headDim / 2}`,
    );
  if (t.vocabSize < 1) throw new Error(`text.vocabSize must be >= 1, got ${t.vocabSize}`);
}
