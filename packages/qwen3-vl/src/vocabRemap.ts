// A reduced vocabulary for tiny models: the few hundred Qwen ids a task set actually uses map to a
// compact range, so a tiny model's embedding is vocab x 64 instead of 151,936 x 64. Id 0 of the
// compact range is `<unk>` for anything not kept.
import { QWEN3_SPECIAL_IDS, type TextTokenizer } from './tokenizer.js';

/** Bijection between kept Qwen ids and compact ids 1..n (0 = unknown). */
export class VocabRemap {
  private readonly toCompactMap = new Map<number, number>();
  /** Qwen id of each compact id (index 0 = unknown, -1). */
  readonly fullIds: Int32Array;

  /** Keeps `ids` (duplicates ignored, order of first appearance). */
  constructor(ids: Iterable<number>) {
    const kept: number[] = [-1];
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0) throw new Error(`VocabRemap: invalid token id ${id}`);
      if (this.toCompactMap.has(id)) continue;
      this.toCompactMap.set(id, kept.length);
      kept.push(id);
    }
    this.fullIds = Int32Array.from(kept);
  }

  /** Keeps the Qwen special tokens plus every id of `texts` under `tokenizer`. */
  static fromTexts(tokenizer: TextTokenizer, texts: Iterable<string>): VocabRemap {
    const ids: number[] = Object.values(QWEN3_SPECIAL_IDS);
    for (const t of texts) ids.push(...tokenizer.encode(t));
    return new VocabRemap(ids);
  }

  /** Compact vocabulary size including the unknown slot. */
  get size(): number {
    return this.fullIds.length;
  }

  /** Compact ids of Qwen ids (unknown → 0). */
  toCompact(ids: ArrayLike<number>): Int32Array {
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = this.toCompactMap.get(ids[i]) ?? 0;
    return out;
  }

  /** Qwen ids of compact ids (unknown → -1). */
  toFull(ids: ArrayLike<number>): Int32Array {
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const c = ids[i];
      if (!Number.isInteger(c) || c < 0 || c >= this.fullIds.length)
        throw new Error(`VocabRemap.toFull: compact id ${c} outside [0, ${this.fullIds.length})`);
      out[i] = this.fullIds[c];
    }
    return out;
  }
}
