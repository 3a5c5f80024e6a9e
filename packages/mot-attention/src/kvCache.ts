// Keys and values of every layer for the tokens computed so far (SPEC §1 "Inference with KV cache"),
// in one preallocated store per layer: appends write the new rows into it in place, and attention
// reads the cached rows through a view of it, so a denoising step copies nothing that grows with
// the cached length. The cache owns its stores and views: no scope frees them, only dispose() does;
// the tensors it is given stay the caller's.
import { Tensor, copyInto, keep, narrow } from '@vla/tensor-webgpu';
import type { LayerKV } from './motLayer.js';

/** Options of {@link KVCache}. */
export interface KVCacheOptions {
  /**
   * Tokens each layer's store has room for, allocated at the first append (default: that append's
   * length). Size it for every append of a chunk (e.g. prefix + generation tokens): an append past
   * the capacity moves the cached rows into a larger store (one copy).
   */
  capacity?: number;
}

/** One layer's store `[B, kvHeads, capacity, headDim]` and its view on the cached rows. */
interface Entry {
  store: LayerKV;
  view: LayerKV;
  length: number;
}

/**
 * Per-layer keys/values `[B, kvHeads, S, headDim]` (after k-norm and rotary) of cached tokens, in
 * preallocated stores that appends fill in place.
 */
export class KVCache {
  private readonly entries: (Entry | null)[];
  private readonly reserve: number;
  /**
   * Benchmark peer only: attention concatenates the cached and the present keys/values on every
   * call, as before the cache was read in place (chunk-latency bench of issue 12). @internal
   */
  concatenatePeer = false;

  /** An empty cache for a stack of `numLayers` layers. */
  constructor(
    readonly numLayers: number,
    options: KVCacheOptions = {},
  ) {
    const c = options.capacity ?? 0;
    if (!Number.isInteger(c) || c < 0)
      throw new Error(`KVCache: capacity must be a whole number ≥ 0, got ${c}`);
    this.reserve = c;
    this.entries = new Array<Entry | null>(numLayers).fill(null);
  }

  /** Number of cached tokens (0 when empty). */
  get length(): number {
    return this.entries[0]?.length ?? 0;
  }

  /** Batch size of the cached tokens (0 when empty). */
  get batch(): number {
    return this.entries[0]?.store.k.shape[0] ?? 0;
  }

  /** Tokens layer 0's store has room for (0 before the first append). */
  get capacity(): number {
    return this.entries[0]?.store.k.shape[2] ?? 0;
  }

  /**
   * Layer `i`'s cached keys/values (views on its store, read in place by attention), or null when
   * empty. Read them, never dispose them; an append replaces them.
   */
  layer(i: number): LayerKV | null {
    this.checkLayer(i);
    return this.entries[i]?.view ?? null;
  }

  /**
   * Writes `kv` (`[B, kvHeads, S, headDim]`, the tokens computed now) after layer `i`'s cached
   * tokens, into its store (stop-gradient: the cache serves inference). `kv` stays the caller's.
   */
  append(i: number, kv: LayerKV): void {
    this.checkLayer(i);
    const { k, v } = kv;
    if (k.rank !== 4 || k.shape.join() !== v.shape.join() || k.dtype !== v.dtype)
      throw new Error(
        `KVCache.append: layer ${i} keys [${k.shape.join(', ')}] ${k.dtype} and values [${v.shape.join(', ')}] ${v.dtype} must be equal [B, kvHeads, S, headDim]`,
      );
    const [B, H, S, D] = k.shape;
    let e = this.entries[i];
    if (e) {
      const [b, h, , d] = e.store.k.shape;
      if (b !== B || h !== H || d !== D || e.store.k.dtype !== k.dtype)
        throw new Error(
          `KVCache.append: layer ${i} holds [${b}, ${h}, S, ${d}] ${e.store.k.dtype}, given [${k.shape.join(', ')}] ${k.dtype}`,
        );
    }
    const length = e?.length ?? 0;
    const capacity = e?.store.k.shape[2] ?? 0;
    if (length + S > capacity) {
      // First append, or past the reserved room: a larger store, the cached rows moved into it.
      const rows = Math.max(this.reserve, length + S, 2 * capacity);
      const store = {
        k: own(Tensor.empty([B, H, rows, D], k.dtype, k.engine)),
        v: own(Tensor.empty([B, H, rows, D], k.dtype, k.engine)),
      };
      if (e) {
        writeRows(store.k, 0, e.view.k);
        writeRows(store.v, 0, e.view.v);
        disposeEntry(e);
      }
      e = {
        store,
        view: { k: own(narrow(store.k, 2, 0, length)), v: own(narrow(store.v, 2, 0, length)) },
        length,
      };
      this.entries[i] = e;
    }
    writeRows(e!.store.k, length, k);
    writeRows(e!.store.v, length, v);
    const view = {
      k: own(narrow(e!.store.k, 2, 0, length + S)),
      v: own(narrow(e!.store.v, 2, 0, length + S)),
    };
    e!.view.k.dispose();
    e!.view.v.dispose();
    this.entries[i] = { store: e!.store, view, length: length + S };
  }

  /** Frees every store; the cache is empty afterwards. */
  dispose(): void {
    for (let i = 0; i < this.numLayers; i++) {
      const e = this.entries[i];
      if (e) disposeEntry(e);
      this.entries[i] = null;
    }
  }

  private checkLayer(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.numLayers)
      throw new Error(`KVCache: layer ${i} out of range (${this.numLayers} layers)`);
  }
}

/** A handle that only the cache references (no scope frees it). */
function own(t: Tensor): Tensor {
  return keep(t);
}

/** Copies `src` `[B, H, S, D]` into rows [at, at + S) of `store`. */
function writeRows(store: Tensor, at: number, src: Tensor): void {
  if (src.shape[2] === 0) return;
  const dest = narrow(store, 2, at, src.shape[2]);
  copyInto(dest, src);
  dest.dispose();
}

function disposeEntry(e: Entry): void {
  for (const t of [e.view.k, e.view.v, e.store.k, e.store.v]) t.dispose();
}
