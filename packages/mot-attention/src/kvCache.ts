// Keys and values of every layer for the tokens computed so far (SPEC §1 "Inference with KV cache").
// The cache owns its tensors: they are kept (no tidy scope frees them) until replaced or disposed.
import { keep } from '@vla/tensor-webgpu';
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
    if (i < 0 || i >= this.numLayers)
      throw new Error(`KVCache: layer ${i} out of range (${this.numLayers} layers)`);
    return this.entries[i];
  }

  /** Replaces layer `i`'s entry with `kv` (kept), disposing the previous tensors. @internal */
  set(i: number, kv: LayerKV): void {
    const old = this.entries[i];
    this.entries[i] = { k: keep(kv.k), v: keep(kv.v) };
    if (old && old.k !== kv.k) old.k.dispose();
    if (old && old.v !== kv.v) old.v.dispose();
  }

  /** Frees every cached tensor; the cache is empty afterwards. */
  dispose(): void {
    for (let i = 0; i < this.numLayers; i++) {
      this.entries[i]?.k.dispose();
      this.entries[i]?.v.dispose();
      this.entries[i] = null;
    }
  }
}
