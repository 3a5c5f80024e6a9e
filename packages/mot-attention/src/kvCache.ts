// Keys and values of every layer for the tokens computed so far (SPEC §1 "Inference with KV cache").
// The cache owns its own handles on the keys/values (views sharing their data): the tensors it is
// given stay under their creator's scope rules, and no scope frees the cache's handles; only
// replacing an entry or dispose() does.
import { detach, keep, type Tensor } from '@vla/tensor-webgpu';
import type { LayerKV } from './motLayer.js';

/** Per-layer keys/values `[B, kvHeads, S, headDim]` (after k-norm and rotary) of cached tokens. */
export class KVCache {
  private readonly entries: (LayerKV | null)[];

  /** An empty cache for a stack of `numLayers` layers. */
  constructor(readonly numLayers: number) {
    this.entries = new Array<LayerKV | null>(numLayers).fill(null);
  }

  /** Number of cached tokens (0 when empty). */
  get length(): number {
    return this.entries[0]?.k.shape[2] ?? 0;
  }

  /** Batch size of the cached tokens (0 when empty). */
  get batch(): number {
    return this.entries[0]?.k.shape[0] ?? 0;
  }

  /** Layer `i`'s keys/values, or null when empty. */
  layer(i: number): LayerKV | null {
    this.checkLayer(i);
    return this.entries[i];
  }

  /**
   * Replaces layer `i`'s entry with the cache's own handles on `kv` (stop-gradient: the cache serves
   * inference) and frees the previous ones. `kv` itself stays the caller's. @internal
   */
  set(i: number, kv: LayerKV): void {
    this.checkLayer(i);
    const old = this.entries[i];
    this.entries[i] = { k: own(kv.k), v: own(kv.v) };
    old?.k.dispose();
    old?.v.dispose();
  }

  /** Frees every cached tensor; the cache is empty afterwards. */
  dispose(): void {
    for (let i = 0; i < this.numLayers; i++) {
      this.entries[i]?.k.dispose();
      this.entries[i]?.v.dispose();
      this.entries[i] = null;
    }
  }

  private checkLayer(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.numLayers)
      throw new Error(`KVCache: layer ${i} out of range (${this.numLayers} layers)`);
  }
}

/** A handle on `t`'s data that only the cache references (no scope frees it). */
function own(t: Tensor): Tensor {
  return keep(detach(t));
}
