// N MoT layers plus each expert's final RMSNorm. Weights are stored expert by expert
// (`<expert>.layers.<i>.…`, `<expert>.norm.weight`), the layout of the upstream per-expert Qwen3
// text models, so each expert's state dict loads as one block. A model that already owns an
// expert's decoder (InternVLA-A1's understanding expert is a whole Qwen3-VL) hands those weights in
// and the stack joins them without registering them a second time.
import { Module, ModuleList, RMSNorm, type Tensor } from '@vla/tensor-webgpu';
import { ExpertLayer, checkExperts, type ExpertConfig } from './expertLayer.js';
import type { KVCache } from './kvCache.js';
import { MoTLayer, type RopeTables } from './motLayer.js';

/** One expert's weights over all layers, wherever they are registered: `layers[i]` and the final `norm`. */
export interface ExpertWeights {
  /** The expert's decoder layers, one per MoT layer. */
  readonly layers: ModuleList<ExpertLayer>;
  /** The expert's final RMSNorm. */
  readonly norm: RMSNorm;
}

/** One expert's weights over all layers: `layers.<i>` and the final `norm`. */
export class ExpertStack extends Module implements ExpertWeights {
  /** Decoder layers. */
  readonly layers: ModuleList<ExpertLayer>;
  /** Final RMSNorm. */
  readonly norm: RMSNorm;
  constructor(
    readonly config: ExpertConfig,
    numLayers: number,
  ) {
    super();
    this.layers = this.module(
      'layers',
      new ModuleList(Array.from({ length: numLayers }, () => new ExpertLayer(config))),
    );
    this.norm = this.module('norm', new RMSNorm(config.width, { eps: config.eps ?? 1e-6 }));
  }
}

/** Options of {@link MoTStack.forward}. */
export interface MoTForwardOptions {
  /**
   * Additive mask `[B, 1, Sq, Sk]`: rows are the tokens computed now, columns the cached tokens
   * followed by them (Sk = cache length + Sq). Build it with `segmentMaskTensor({..., queries})`.
   */
  mask: Tensor;
  /** Rotary tables of the tokens computed now. */
  rope: RopeTables;
  /** Attend to these cached keys/values first (read in place from the cache's stores). */
  cache?: KVCache;
  /**
   * Append the keys/values of the tokens computed now to `cache` (prefix and generation steps).
   * False (default) leaves the cache untouched, so the action expert's denoising steps reuse it.
   */
  append?: boolean;
  /** Apply each expert's final RMSNorm to its output (default true). */
  finalNorm?: boolean;
}

/**
 * The Mixture-of-Transformers stack: `numLayers` joint layers over the experts' token segments.
 * `forward` takes one hidden-state tensor per expert (null for experts without tokens in this call).
 */
export class MoTStack extends Module {
  readonly experts: readonly ExpertConfig[];
  readonly numLayers: number;
  /** Per-expert weights: registered under the experts' names, or the owner's when handed in. */
  readonly stacks: readonly ExpertWeights[];
  /** The joint layers (views on `stacks`, not registered twice). */
  readonly layers: readonly MoTLayer[];

  /**
   * Builds (and registers) one {@link ExpertStack} per expert, or joins `stacks` built and registered
   * by the caller (then this module holds no parameters of its own).
   */
  constructor(experts: readonly ExpertConfig[], numLayers: number, stacks?: readonly ExpertWeights[]) {
    super();
    checkExperts(experts);
    if (!Number.isInteger(numLayers) || numLayers <= 0)
      throw new Error(`MoTStack: invalid numLayers ${numLayers}`);
    this.experts = experts;
    this.numLayers = numLayers;
    if (stacks) {
      if (stacks.length !== experts.length)
        throw new Error(`MoTStack: ${stacks.length} expert stacks for ${experts.length} experts`);
      stacks.forEach((s, i) => {
        if (s.layers.length !== numLayers)
          throw new Error(
            `MoTStack: expert "${experts[i].name}" has ${s.layers.length} layers, the stack ${numLayers}`,
          );
        const w = s.layers.at(0).config.width;
        if (w !== experts[i].width)
          throw new Error(
            `MoTStack: expert "${experts[i].name}" layers have width ${w}, its config ${experts[i].width}`,
          );
      });
      this.stacks = stacks;
    } else {
      this.stacks = experts.map((e) => this.module(e.name, new ExpertStack(e, numLayers)));
    }
    this.layers = Array.from(
      { length: numLayers },
      (_, l) =>
        new MoTLayer(
          experts,
          this.stacks.map((s) => s.layers.at(l)),
        ),
    );
  }

  /** Per-expert outputs `[B, S_i, width_i]` (null where the input was null). */
  forward(hidden: readonly (Tensor | null)[], options: MoTForwardOptions): (Tensor | null)[] {
    const { cache, append = false } = options;
    if (cache && cache.numLayers !== this.numLayers)
      throw new Error(`MoTStack: cache has ${cache.numLayers} layers, the stack ${this.numLayers}`);
    if (append && !cache) throw new Error('MoTStack: append needs a cache');
    let h: (Tensor | null)[] = [...hidden];
    this.layers.forEach((layer, l) => {
      const out = layer.forward(h, {
        mask: options.mask,
        rope: options.rope,
        past: cache?.layer(l),
        concatenatePast: cache?.concatenatePeer,
      });
      if (append) cache!.append(l, out.kv);
      h = out.hidden;
    });
    if (options.finalNorm ?? true) h = h.map((x, i) => (x ? this.stacks[i].norm.forward(x) : null));
    return h;
  }
}
