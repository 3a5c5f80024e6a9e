// The understanding expert: Qwen3-VL vision tower + Qwen3 text model, and the prefix embedding that
// puts merged image tokens where the prompt has `<|image_pad|>`.
import { concat, indexSelect, Module, reshape, tensor, tidy, type Tensor } from '@vla/tensor-webgpu';
import { segmentMaskTensor, type RopeTables } from '@vla/mot-attention';
import { mropeMaxPosition, type MropeIds } from './mropePositions.js';
import { mropeRope } from './mropeRope.js';
import { validateQwen3VLConfig, type Qwen3VLConfig } from './config.js';
import { prefixPositions, type PrefixLayout } from './promptLayout.js';
import { Qwen3TextModel } from './textModel.js';
import type { VocabRemap } from './vocabRemap.js';
import { Qwen3VLVisionModel } from './visionTower.js';

/** Everything the text stack needs for a batch of prefixes. */
export interface PrefixInputs {
  /** Token embeddings with image tokens in place, [B, L, D]. */
  embeds: Tensor;
  /** M-RoPE cos/sin tables, [B, 1, L, head_dim/2]. */
  rope: RopeTables;
  /** Additive attention mask, [B, 1, L, L] (bidirectional among valid tokens). */
  mask: Tensor;
  /** Position ids `[t, h, w]` per sample. */
  positions: MropeIds[];
  /** Largest valid position id per sample (later tokens continue from it + 1). */
  maxPositions: number[];
}

/** Qwen3-VL with module names `visual.*` and `language_model.*` (HF keys minus the `model.` prefix). */
export class Qwen3VLModel extends Module {
  /** Vision tower. */
  readonly visual: Qwen3VLVisionModel;
  /** Text decoder and (tied) embeddings. */
  readonly languageModel: Qwen3TextModel;
  /** The configuration. */
  readonly config: Qwen3VLConfig;

  constructor(config: Qwen3VLConfig) {
    super();
    validateQwen3VLConfig(config);
    this.config = config;
    this.visual = this.module('visual', new Qwen3VLVisionModel(config.vision));
    this.languageModel = this.module('language_model', new Qwen3TextModel(config.text));
  }

  /** Merged image tokens per image of `h x w` pixels (64 for 256x256). */
  imageTokenCount(h: number, w: number): number {
    const [gh, gw] = this.visual.grid(h, w);
    return (gh * gw) / this.config.vision.spatialMergeSize ** 2;
  }

  /**
   * Embeds a batch of prefixes: token embeddings, with the `k`-th `<|image_pad|>` of sample b replaced
   * by `imageTokens[b, k]` (all views' tokens of one sample concatenated in view order, including
   * views of missing cameras, whose tokens are padding). With `remap`, ids go through the reduced
   * vocabulary first.
   */
  embedPrefix(layouts: readonly PrefixLayout[], imageTokens: Tensor, remap?: VocabRemap): Tensor {
    const b = layouts.length;
    if (b === 0) throw new Error('embedPrefix: empty batch');
    const l = layouts[0].ids.length;
    const d = this.config.text.hiddenSize;
    if (imageTokens.rank !== 3 || imageTokens.shape[0] !== b || imageTokens.shape[2] !== d) {
      throw new Error(
        `embedPrefix: imageTokens must be [${b}, n, ${d}], got [${imageTokens.shape.join(', ')}]`,
      );
    }
    const nImg = imageTokens.shape[1];
    const ids = new Int32Array(b * l);
    const index = new Int32Array(b * l);
    layouts.forEach((lay, s) => {
      if (lay.ids.length !== l)
        throw new Error(`embedPrefix: prefix ${s} has length ${lay.ids.length}, expected ${l}`);
      ids.set(remap ? remap.toCompact(lay.ids) : lay.ids, s * l);
      let k = 0;
      for (let i = 0; i < l; i++) {
        // Rows [0, B·L) of the lookup table are token embeddings, the rest are image tokens.
        index[s * l + i] = lay.isImage[i] ? b * l + s * nImg + k++ : s * l + i;
      }
      if (k !== nImg)
        throw new Error(
          `embedPrefix: prefix ${s} has ${k} image tokens but ${nImg} image embeddings were given`,
        );
    });
    for (const id of ids) {
      if (id >= this.config.text.vocabSize)
        throw new Error(
          `embedPrefix: token id ${id} >= vocabSize ${this.config.text.vocabSize} (use a VocabRemap for reduced vocabularies)`,
        );
    }
    return tidy(() => {
      const tok = reshape(this.languageModel.embed(tensor(ids, [b * l], 'i32')), [b * l, d]);
      const table = concat([tok, reshape(imageTokens, [b * nImg, d])], 0);
      return reshape(indexSelect(table, 0, tensor(index, [b * l], 'i32')), [b, l, d]);
    });
  }

  /**
   * Everything to run the text stack on a batch of prefixes: embeddings, M-RoPE tables (image grid
   * from `imageSize`), and the prefix mask (bidirectional among valid tokens).
   */
  prefixInputs(
    layouts: readonly PrefixLayout[],
    imageTokens: Tensor,
    imageSize: [number, number],
    remap?: VocabRemap,
  ): PrefixInputs {
    const [gh, gw] = this.visual.grid(imageSize[0], imageSize[1]);
    const m = this.config.vision.spatialMergeSize;
    const positions = layouts.map((lay) => prefixPositions(lay, { h: gh / m, w: gw / m }));
    const t = this.config.text;
    return tidy(() => ({
      embeds: this.embedPrefix(layouts, imageTokens, remap),
      rope: mropeRope(positions, t.headDim, { theta: t.ropeTheta, section: t.mropeSection }),
      mask: segmentMaskTensor({ ar: layouts.map((l) => l.ar), valid: layouts.map((l) => l.valid) }),
      positions,
      maxPositions: positions.map((p, i) => mropeMaxPosition(p, layouts[i].valid)),
    }));
  }
}
