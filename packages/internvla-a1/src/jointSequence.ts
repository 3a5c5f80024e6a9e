// The joint sequence [understanding | generation | state, actions] of one batch, on the host: the
// layout and per-sample validity (./layout.ts), Qwen3-VL M-RoPE ids over the valid tokens, and the
// attention mask and rotary tables of any segment (rows) against everything before it (columns).
import { segmentMaskTensor, type RopeTables } from '@vla/mot-attention';
import { mropePositions, mropeRope, sliceMropeIds, type MropeIds } from '@vla/qwen3-vl';
import { internvlaLayout, internvlaValid, type InternVLALayout, type SegmentRange } from './layout.js';
import type { Tensor } from '@vla/tensor-webgpu';
import { derivedSizes, type InternVLAA1Config } from './config.js';

/**
 * How the tokens after the prefix are numbered for rotary positions.
 * - `'training'`: as upstream's training pass (`get_rope_index` over the whole sequence): padding is
 *   skipped, so a missing camera's generation tokens do not advance the positions. Cached sampling
 *   with these ids equals the uncached pass exactly.
 * - `'upstream-inference'`: as upstream's cached `sample_actions`: generation tokens are numbered
 *   `max_prefix + 1 …` and the state and action tokens after them, padded generation tokens
 *   counted. Equal to `'training'` whenever every camera is present.
 */
export type PositionScheme = 'training' | 'upstream-inference';

/** Layout, validity and positions of a batch's joint sequence. */
export class JointSequence {
  /** Token layout shared by the batch. */
  readonly layout: InternVLALayout;
  /** Per sample: 1 = real token, 0 = padding (missing camera, text padding). */
  readonly valid: Uint8Array[];
  /** Per sample: M-RoPE ids (t, h, w) of every token. */
  readonly ids: MropeIds[];

  /** Builds the sequence of `batch` samples from `[B, views]` camera and `[B, textTokens]` text masks. */
  constructor(
    readonly config: InternVLAA1Config,
    batch: number,
    imageMasks: ArrayLike<number | boolean>,
    textMask: ArrayLike<number | boolean>,
    /** How tokens after the prefix are numbered (default `'training'`). */
    readonly positions: PositionScheme = 'training',
  ) {
    const d = derivedSizes(config);
    this.layout = internvlaLayout({
      views: config.views,
      imageGrid: d.imageGrid,
      textTokens: config.textTokens,
      generationTokens: d.generationTokens,
      stateTokens: 1,
      actionTokens: config.chunkSize,
    });
    const V = config.views;
    const T = config.textTokens;
    this.valid = [];
    for (let b = 0; b < batch; b++) {
      const views = Array.from({ length: V }, (_, v) => Boolean(imageMasks[b * V + v]));
      const text = Array.from({ length: T }, (_, j) => (textMask[b * T + j] ? 1 : 0));
      this.valid.push(internvlaValid(this.layout, { views, text }));
    }
    this.ids = this.valid.map((valid) => mropePositions(this.layout.rope, { valid }));
    if (positions === 'upstream-inference') this.ids.forEach((ids) => this.numberAfterPrefix(ids));
  }

  /**
   * Upstream's cached numbering: per axis, generation tokens continue from the prefix's largest id
   * (`max_prefix + 1 + j`, padding included), the state and actions from the generation tokens'.
   */
  private numberAfterPrefix(ids: MropeIds): void {
    const { prefix, generation, suffix } = this.layout;
    for (const row of ids) {
      let last = row.subarray(prefix.start, prefix.end).reduce((m, x) => Math.max(m, x), -1);
      for (const r of [generation, suffix]) {
        for (let i = r.start; i < r.end; i++) row[i] = last + 1 + (i - r.start);
        if (r.end > r.start) last += r.end - r.start;
      }
    }
  }

  /** Rows of the whole sequence. */
  get all(): SegmentRange {
    return { start: 0, end: this.layout.length };
  }

  /** Additive mask `[B, 1, rows, rows.end]`: the rows' queries against every earlier key and themselves. */
  mask(rows: SegmentRange = this.all): Tensor {
    return segmentMaskTensor({ ar: this.layout.ar, valid: this.valid, queries: [rows.start, rows.end] });
  }

  /** M-RoPE cos/sin tables `[B, 1, rows, headDim/2]` of the rows' tokens. */
  rope(rows: SegmentRange = this.all): RopeTables {
    const t = this.config.vlm.text;
    const ids = this.ids.map((p) => sliceMropeIds(p, rows.start, rows.end));
    return mropeRope(ids, t.headDim, { theta: t.ropeTheta, section: t.mropeSection });
  }
}
