// The joint sequence [understanding | generation | state, actions] of one batch, on the host: the
// layout and per-sample validity from @vla/mot-attention, M-RoPE ids over the valid tokens, and the
// attention mask and rotary tables of any segment (rows) against everything before it (columns).
import {
  internvlaLayout,
  internvlaValid,
  mropePositions,
  mropeRope,
  segmentMaskTensor,
  sliceMropeIds,
  type InternVLALayout,
  type MropeIds,
  type RopeTables,
  type SegmentRange,
} from '@vla/mot-attention';
import type { Tensor } from '@vla/tensor-webgpu';
import { derivedSizes, type InternVLAA1Config } from './config.js';

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
  ) {
    const d = derivedSizes(config);
    this.layout = internvlaLayout({
      views: config.views,
      imageGrid: [d.imageGrid, d.imageGrid],
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
