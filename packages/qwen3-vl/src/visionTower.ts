// Qwen3-VL vision tower with HF parameter names: Conv3d patch embedding (kernel = stride, applied as
// reshape + matmul), learned position grid interpolated bilinearly, 2-D rotary ViT blocks, and the
// 2x2 patch merger into the text width. Optional DeepStack mergers for checkpoints that use them.
import {
  add,
  concat,
  contiguous,
  Embedding,
  gelu,
  initNormal,
  LayerNorm,
  Linear,
  linear,
  Module,
  ModuleList,
  mul,
  permute,
  reshape,
  rotaryEmbedding,
  scaledDotProductAttention,
  slice,
  squeeze,
  stack,
  sum,
  tensor,
  tidy,
  zeros,
  type Tensor,
} from '@vla/tensor-webgpu';
import type { Qwen3VLVisionConfig } from './config.js';
import { posEmbedInterpolation, visionRotaryAngles, type PosEmbedInterpolation } from './visionPositions.js';

/** The Conv3d parameters of the patch embedding: `weight` [D, C, T, P, P] and `bias` [D]. */
export class PatchEmbedProj extends Module {
  /** Conv3d kernel, PyTorch layout [out, in, t, kh, kw]. */
  readonly weight: Tensor;
  /** Bias [out]. */
  readonly bias: Tensor;
  constructor(inChannels: number, temporal: number, patch: number, hidden: number) {
    super();
    const std = 1 / Math.sqrt(inChannels * temporal * patch * patch);
    // Drawn from the shared generator like every other layer, so manualSeed fixes it.
    this.weight = this.param('weight', [hidden, inChannels, temporal, patch, patch], (s) =>
      initNormal(s, std),
    );
    this.bias = this.param('bias', [hidden], (s) => zeros(s));
  }
}

/**
 * `patch_embed`: flattened patches → `[..., D]`. Takes either full Conv3d patches `[..., C·T·P·P]`
 * ordered (channel, time, row, col) as the HF processor makes them, or still-image patches
 * `[..., C·P·P]` ordered (channel, row, col).
 */
export class PatchEmbed extends Module {
  /** The Conv3d parameters (`patch_embed.proj.*`). */
  readonly proj: PatchEmbedProj;
  constructor(readonly config: Qwen3VLVisionConfig) {
    super();
    this.proj = this.module(
      'proj',
      new PatchEmbedProj(config.inChannels, config.temporalPatchSize, config.patchSize, config.hiddenSize),
    );
  }
  /**
   * A still image repeated over the temporal patch makes the Conv3d a linear map whose kernel is
   * summed over time, so still-image patches skip the repeat.
   */
  forward(patches: Tensor): Tensor {
    const { hiddenSize: d, inChannels: c, temporalPatchSize: t, patchSize: p } = this.config;
    const k = patches.shape[patches.rank - 1];
    if (k !== c * t * p * p && k !== c * p * p) {
      throw new Error(
        `PatchEmbed: patches [${patches.shape.join(', ')}] must end in ${c * t * p * p} (C·T·P·P) or ${c * p * p} (C·P·P, still image)`,
      );
    }
    return tidy(() => {
      const w =
        k === c * p * p
          ? reshape(sum(reshape(this.proj.weight, [d, c, t, p * p]), [2]), [d, c * p * p])
          : reshape(this.proj.weight, [d, k]);
      return linear(patches, w, this.proj.bias);
    });
  }
}

/** Fused-qkv self-attention with 2-D rotary positions (`attn.qkv`, `attn.proj`, both with bias). */
export class VisionAttention extends Module {
  /** [D] → [3D] projection of q, k, v. */
  readonly qkv: Linear;
  /** Output projection. */
  readonly proj: Linear;
  constructor(
    readonly dim: number,
    readonly numHeads: number,
  ) {
    super();
    this.qkv = this.module('qkv', new Linear(dim, 3 * dim));
    this.proj = this.module('proj', new Linear(dim, dim));
  }
  /** `x` [N, S, D]; `cos`/`sin` [S, head_dim/2] rotary tables. */
  forward(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
    const [n, s, d] = x.shape;
    const h = this.numHeads;
    const hd = d / h;
    return tidy(() => {
      const qkv = contiguous(permute(reshape(this.qkv.forward(x), [n, s, 3, h, hd]), [2, 0, 3, 1, 4]));
      const part = (i: number) => squeeze(slice(qkv, 0, i, i + 1), 0);
      const q = rotaryEmbedding(part(0), cos, sin);
      const k = rotaryEmbedding(part(1), cos, sin);
      const o = scaledDotProductAttention(q, k, part(2), { scale: 1 / Math.sqrt(hd) });
      return this.proj.forward(reshape(contiguous(permute(o, [0, 2, 1, 3])), [n, s, d]));
    });
  }
}

/** `mlp.linear_fc1` → GELU (tanh approximation) → `mlp.linear_fc2`. */
export class VisionMLP extends Module {
  /** Up projection. */
  readonly linearFc1: Linear;
  /** Down projection. */
  readonly linearFc2: Linear;
  constructor(dim: number, hidden: number) {
    super();
    this.linearFc1 = this.module('linear_fc1', new Linear(dim, hidden));
    this.linearFc2 = this.module('linear_fc2', new Linear(hidden, dim));
  }
  /** [..., D] → [..., D]. */
  forward(x: Tensor): Tensor {
    return tidy(() => this.linearFc2.forward(gelu(this.linearFc1.forward(x), { approximate: 'tanh' })));
  }
}

/** Pre-norm ViT block: `x += attn(norm1(x))`, `x += mlp(norm2(x))`. */
export class VisionBlock extends Module {
  /** LayerNorm before attention. */
  readonly norm1: LayerNorm;
  /** LayerNorm before the MLP. */
  readonly norm2: LayerNorm;
  /** Self-attention. */
  readonly attn: VisionAttention;
  /** Feed-forward. */
  readonly mlp: VisionMLP;
  constructor(config: Qwen3VLVisionConfig) {
    super();
    this.norm1 = this.module('norm1', new LayerNorm(config.hiddenSize, { eps: config.layerNormEps }));
    this.norm2 = this.module('norm2', new LayerNorm(config.hiddenSize, { eps: config.layerNormEps }));
    this.attn = this.module('attn', new VisionAttention(config.hiddenSize, config.numHeads));
    this.mlp = this.module('mlp', new VisionMLP(config.hiddenSize, config.intermediateSize));
  }
  /** `x` [N, S, D] with rotary tables [S, head_dim/2]. */
  forward(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
    return tidy(() => {
      const h = add(x, this.attn.forward(this.norm1.forward(x), cos, sin));
      return add(h, this.mlp.forward(this.norm2.forward(h)));
    });
  }
}

/**
 * 2x2 patch merger: groups of `merge²` consecutive tokens are concatenated and mapped to the text
 * width by `linear_fc1` → GELU (exact) → `linear_fc2`. The main merger normalises each token before
 * concatenating; DeepStack mergers (`postShuffleNorm`) normalise the concatenation.
 */
export class PatchMerger extends Module {
  /** LayerNorm (eps 1e-6) over D, or over merge²·D with `postShuffleNorm`. */
  readonly norm: LayerNorm;
  /** merge²·D → merge²·D. */
  readonly linearFc1: Linear;
  /** merge²·D → output width. */
  readonly linearFc2: Linear;
  constructor(
    readonly config: Qwen3VLVisionConfig,
    readonly postShuffleNorm = false,
  ) {
    super();
    const merged = config.hiddenSize * config.spatialMergeSize ** 2;
    this.norm = this.module(
      'norm',
      new LayerNorm(postShuffleNorm ? merged : config.hiddenSize, { eps: 1e-6 }),
    );
    this.linearFc1 = this.module('linear_fc1', new Linear(merged, merged));
    this.linearFc2 = this.module('linear_fc2', new Linear(merged, config.outHiddenSize));
  }
  /** [N, S, D] (S in merge-block order) → [N, S/merge², out]. */
  forward(x: Tensor): Tensor {
    const [n, s, d] = x.shape;
    const unit = this.config.spatialMergeSize ** 2;
    return tidy(() => {
      const grouped = this.postShuffleNorm
        ? this.norm.forward(reshape(x, [n, s / unit, d * unit]))
        : reshape(this.norm.forward(x), [n, s / unit, d * unit]);
      return this.linearFc2.forward(gelu(this.linearFc1.forward(grouped), { approximate: 'none' }));
    });
  }
}

/** Output of {@link Qwen3VLVisionModel.forward}. */
export interface VisionOutput {
  /** Merged image tokens [N, gridH·gridW / merge², outHiddenSize], merged-grid row-major. */
  tokens: Tensor;
  /** DeepStack features, one per `deepstackVisualIndexes` entry (empty when none are configured). */
  deepstack: Tensor[];
}

/** The Qwen3-VL vision tower (`visual.*` in HF checkpoints). */
export class Qwen3VLVisionModel extends Module {
  /** Patch embedding. */
  readonly patchEmbed: PatchEmbed;
  /** Learned position grid (`pos_embed.weight` [side², D]). */
  readonly posEmbed: Embedding;
  /** Transformer blocks. */
  readonly blocks: ModuleList<VisionBlock>;
  /** Final merger into the text width. */
  readonly merger: PatchMerger;
  /** DeepStack mergers (absent when `deepstackVisualIndexes` is empty). */
  readonly deepstackMergerList: ModuleList<PatchMerger> | null;
  private readonly tables = new Map<
    string,
    { pos: PosEmbedInterpolation; cos: Float32Array; sin: Float32Array }
  >();

  constructor(readonly config: Qwen3VLVisionConfig) {
    super();
    this.patchEmbed = this.module('patch_embed', new PatchEmbed(config));
    this.posEmbed = this.module('pos_embed', new Embedding(config.numPositionEmbeddings, config.hiddenSize));
    this.blocks = this.module(
      'blocks',
      new ModuleList(Array.from({ length: config.depth }, () => new VisionBlock(config))),
    );
    this.merger = this.module('merger', new PatchMerger(config));
    this.deepstackMergerList = config.deepstackVisualIndexes.length
      ? this.module(
          'deepstack_merger_list',
          new ModuleList(config.deepstackVisualIndexes.map(() => new PatchMerger(config, true))),
        )
      : null;
  }

  /** Pixels per side an input must be a multiple of (patch x merge = 32). */
  get sizeMultiple(): number {
    return this.config.patchSize * this.config.spatialMergeSize;
  }

  /** Patch grid (gridH, gridW) of an image of `h x w` pixels. */
  grid(h: number, w: number): [number, number] {
    const f = this.sizeMultiple;
    if (h % f !== 0 || w % f !== 0 || h === 0 || w === 0)
      throw new Error(
        `Qwen3VLVisionModel: image ${h}x${w} must be a positive multiple of ${f} per side (resize with smartResize first)`,
      );
    return [h / this.config.patchSize, w / this.config.patchSize];
  }

  /**
   * Pixels `[N, C, H, W]` → patches `[N, S, C·P·P]` in merge-block order (block row, block col, row
   * and col inside the block), each patch ordered (channel, row, col) like the Conv3d kernel.
   */
  patchify(pixels: Tensor): Tensor {
    if (pixels.rank !== 4 || pixels.shape[1] !== this.config.inChannels) {
      throw new Error(
        `Qwen3VLVisionModel: expected pixels [N, ${this.config.inChannels}, H, W], got [${pixels.shape.join(', ')}]`,
      );
    }
    const [n, c, h, w] = pixels.shape;
    const [gh, gw] = this.grid(h, w);
    const p = this.config.patchSize;
    const m = this.config.spatialMergeSize;
    return tidy(() => {
      const patches = contiguous(permute(reshape(pixels, [n, c, gh, p, gw, p]), [0, 2, 4, 1, 3, 5])); // [n, gh, gw, c, p, p]
      const blocks = contiguous(
        permute(reshape(patches, [n, gh / m, m, gw / m, m, c * p * p]), [0, 1, 3, 2, 4, 5]),
      );
      return reshape(blocks, [n, gh * gw, c * p * p]);
    });
  }

  private tablesFor(gh: number, gw: number) {
    const key = `${gh}x${gw}`;
    let t = this.tables.get(key);
    if (!t) {
      const { numPositionEmbeddings, spatialMergeSize: m, hiddenSize, numHeads, ropeTheta } = this.config;
      const side = Math.round(Math.sqrt(numPositionEmbeddings));
      const angles = visionRotaryAngles(gh, gw, m, hiddenSize / numHeads, ropeTheta);
      t = {
        pos: posEmbedInterpolation(side, gh, gw, m),
        cos: Float32Array.from(angles, Math.cos),
        sin: Float32Array.from(angles, Math.sin),
      };
      this.tables.set(key, t);
    }
    return t;
  }

  /** Interpolated position embeddings for a `gh x gw` patch grid, [S, D] in merge-block order. */
  positionEmbeddings(gh: number, gw: number): Tensor {
    const { pos } = this.tablesFor(gh, gw);
    const s = gh * gw;
    return tidy(() => {
      let acc: Tensor | null = null;
      for (let k = 0; k < 4; k++) {
        const rows = this.posEmbed.forward(tensor(pos.index[k], [s], 'i32'));
        const term = mul(rows, tensor(pos.weight[k], [s, 1]));
        acc = acc ? add(acc, term) : term;
      }
      return acc!;
    });
  }

  /**
   * Normalised pixels `[N, C, H, W]` (H, W multiples of 32) → merged image tokens `[N, S/merge², out]`:
   * still-image {@link patchify} patches through {@link forwardPatches}.
   */
  forward(pixels: Tensor): VisionOutput {
    const [n] = pixels.shape;
    const [gh, gw] = this.grid(pixels.shape[2], pixels.shape[3]);
    return tidy(() => {
      const patches = this.patchify(pixels);
      const flat = reshape(patches, [n * gh * gw, patches.shape[2]]);
      const out = this.forwardPatches(
        flat,
        Array.from({ length: n }, () => [1, gh, gw] as [number, number, number]),
      );
      const perImage = (x: Tensor) => reshape(x, [n, x.shape[0] / n, x.shape[1]]);
      return { tokens: perImage(out.tokens), deepstack: out.deepstack.map(perImage) };
    });
  }

  /**
   * HF `Qwen3VLVisionModel.forward(pixel_values, grid_thw)`: processor patches of several images
   * `[Σ t·h·w, C·T·P·P]` (or still-image `[…, C·P·P]`), each image's rows in (t, block row, block col,
   * row, col) order, → merged tokens `[Σ t·h·w / merge², out]` in the same image order. Every frame
   * attends only to itself (HF `cu_seqlens`) and gets the same position embeddings and rotary angles.
   */
  forwardPatches(
    pixelValues: Tensor,
    gridThw: ReadonlyArray<readonly [number, number, number]>,
  ): VisionOutput {
    const m = this.config.spatialMergeSize;
    const frames: { start: number; gh: number; gw: number }[] = [];
    let rows = 0;
    for (const [t, gh, gw] of gridThw) {
      if (![t, gh, gw].every((v) => Number.isInteger(v) && v > 0) || gh % m !== 0 || gw % m !== 0) {
        throw new Error(
          `Qwen3VLVisionModel.forwardPatches: grid [${t}, ${gh}, ${gw}] must be positive with h and w multiples of ${m}`,
        );
      }
      for (let f = 0; f < t; f++, rows += gh * gw) frames.push({ start: rows, gh, gw });
    }
    if (pixelValues.rank !== 2 || pixelValues.shape[0] !== rows) {
      throw new Error(
        `Qwen3VLVisionModel.forwardPatches: pixel values [${pixelValues.shape.join(', ')}] do not match the grids (${rows} patch rows)`,
      );
    }
    if (frames.length === 0) throw new Error('Qwen3VLVisionModel.forwardPatches: no images');
    return tidy(() => {
      const embedded = this.patchEmbed.forward(pixelValues);
      // Frames of one grid size run as one batch; results go back in input order.
      const groups = new Map<string, number[]>();
      frames.forEach((fr, i) => {
        const key = `${fr.gh}x${fr.gw}`;
        groups.set(key, [...(groups.get(key) ?? []), i]);
      });
      const tokens: Tensor[] = new Array<Tensor>(frames.length);
      const deepstack: Tensor[][] = this.config.deepstackVisualIndexes.map(
        () => new Array<Tensor>(frames.length),
      );
      for (const members of groups.values()) {
        const { gh, gw } = frames[members[0]];
        const s = gh * gw;
        const consecutive = members.every((f, j) => frames[f].start === frames[members[0]].start + j * s);
        const batch = consecutive
          ? reshape(
              slice(embedded, 0, frames[members[0]].start, frames[members[0]].start + members.length * s),
              [members.length, s, -1],
            )
          : stack(
              members.map((f) => slice(embedded, 0, frames[f].start, frames[f].start + s)),
              0,
            );
        const out = this.encodeFrames(batch, gh, gw);
        if (groups.size === 1 && consecutive) {
          const flat = (x: Tensor) => reshape(x, [-1, x.shape[2]]);
          return { tokens: flat(out.tokens), deepstack: out.deepstack.map(flat) };
        }
        members.forEach((f, j) => {
          tokens[f] = squeeze(slice(out.tokens, 0, j, j + 1), 0);
          out.deepstack.forEach((ds, d) => (deepstack[d][f] = squeeze(slice(ds, 0, j, j + 1), 0)));
        });
      }
      const join = (xs: Tensor[]) => (xs.length === 1 ? xs[0] : concat(xs, 0));
      return { tokens: join(tokens), deepstack: deepstack.map(join) };
    });
  }

  /** Embedded patches of same-size frames `[B, S, D]` → position embeddings, blocks, mergers. */
  private encodeFrames(embedded: Tensor, gh: number, gw: number): VisionOutput {
    const s = gh * gw;
    const half = this.config.hiddenSize / this.config.numHeads / 2;
    const tables = this.tablesFor(gh, gw);
    return tidy(() => {
      let x = add(embedded, this.positionEmbeddings(gh, gw));
      const cos = tensor(tables.cos, [s, half]);
      const sin = tensor(tables.sin, [s, half]);
      const deepstack: Tensor[] = [];
      for (let i = 0; i < this.blocks.length; i++) {
        x = this.blocks.at(i).forward(x, cos, sin);
        const d = this.config.deepstackVisualIndexes.indexOf(i);
        if (d >= 0 && this.deepstackMergerList) deepstack.push(this.deepstackMergerList.at(d).forward(x));
      }
      return { tokens: this.merger.forward(x), deepstack };
    });
  }
}
