// Rotary tables for M-RoPE position ids, through the core's `mropeTables` (Qwen3-VL's interleaved
// layout, f32 angles as HF computes them). Samples with different padding get their own tables.
import { Tensor, mropeTables, reshape, tidy } from '@vla/tensor-webgpu';
import type { MropeIds } from './mropePositions.js';
import type { RopeTables } from '@vla/mot-attention';

// A batch is a list of [t, h, w] triples; one sample's rows are typed arrays.
function isBatch(ids: MropeIds | readonly MropeIds[]): ids is readonly MropeIds[] {
  return ids.length > 0 && Array.isArray(ids[0]);
}

/** Options of {@link mropeRope}. */
export interface MropeRopeOptions {
  /** RoPE base (Qwen3-VL: 5e6). */
  theta: number;
  /**
   * Frequency slots per axis `[t, h, w]`, summing to headDim/2 (Qwen3-VL, head_dim 128: [24, 20, 20]).
   * Slot s uses h when s % 3 == 1 and s < 3·h, w when s % 3 == 2 and s < 3·w, t otherwise.
   * Default: the core's `defaultMropeSection(headDim)` ([24, 20, 20] for 128).
   */
  section?: readonly [number, number, number];
}

/**
 * cos/sin tables for rotate-half rotary embedding of M-RoPE ids: slot s of token i turns by
 * `ids[axis(s)][i] · theta^(−2s/headDim)`. One sample gives `[S, headDim/2]`; a list of samples gives
 * `[B, 1, S, headDim/2]`, broadcast over heads.
 */
export function mropeRope(
  ids: MropeIds | readonly MropeIds[],
  headDim: number,
  options: MropeRopeOptions,
): RopeTables {
  const opts = options.section ? { section: options.section } : {};
  if (!isBatch(ids)) return mropeTables(ids, headDim, options.theta, opts);
  const samples = ids;
  const S = samples[0][0].length;
  const B = samples.length;
  return tidy(() => {
    const flat = new Int32Array(3 * B * S);
    samples.forEach((p, b) => {
      if (p.length !== 3 || p.some((row) => row.length !== S))
        throw new Error(`mropeRope: sample ${b} needs 3 rows of ${S} position ids`);
      for (let a = 0; a < 3; a++) flat.set(p[a], (a * B + b) * S);
    });
    const pos = Tensor.fromData(flat, [3, B, S], 'i32');
    const { cos, sin } = mropeTables(pos, headDim, options.theta, opts);
    return { cos: reshape(cos, [B, 1, S, headDim / 2]), sin: reshape(sin, [B, 1, S, headDim / 2]) };
  });
}
