// Float64 references of rotary embeddings (written as HF writes them: full-width cat(freqs, freqs)
// tables and rotate_half) and of the RoPE / Qwen3-VL M-RoPE tables, straight from SPEC §1.
import type { Nd } from './ndarray.js';

/** HF inv_freq in f32. */
export function invFreq(headDim: number, theta: number): number[] {
  const f = Math.fround;
  return Array.from({ length: headDim / 2 }, (_, s) => f(1 / f(theta ** f((2 * s) / headDim))));
}

/** Angle table [S, D/2] for the axis each slot uses; `axisOf(s)` picks t (0), h (1) or w (2). */
export function angles(
  pos: number[][],
  headDim: number,
  theta: number,
  axisOf: (s: number) => number,
): Float64Array {
  const inv = invFreq(headDim, theta);
  const S = pos[0].length;
  const half = headDim / 2;
  const out = new Float64Array(S * half);
  for (let p = 0; p < S; p++)
    for (let s = 0; s < half; s++) out[p * half + s] = Math.fround(pos[axisOf(s)][p] * inv[s]);
  return out;
}

/** SPEC §1 slot rule for Qwen3-VL (section [t, h, w], sum D/2). */
export function mropeAxis(section: [number, number, number]): (s: number) => number {
  return (s) => (s % 3 === 1 && s < 3 * section[1] ? 1 : s % 3 === 2 && s < 3 * section[2] ? 2 : 0);
}

/** HF apply_rotary_pos_emb for x [..., S, D] and full-width tables cos/sin [S, D]. */
export function rotary(x: Nd, cos: Float64Array, sin: Float64Array): Nd {
  const D = x.shape[x.shape.length - 1];
  const S = x.shape[x.shape.length - 2];
  const h = D / 2;
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const j = i % D;
    const p = Math.floor(i / D) % S;
    const rot = j < h ? -x.data[i + h] : x.data[i - h];
    out[i] = x.data[i] * cos[p * D + j] + rot * sin[p * D + j];
  }
  return { data: out, shape: [...x.shape] };
}

/** cat(t, t) of a [S, D/2] table → [S, D]. */
export function duplicateHalves(t: ArrayLike<number>, S: number, half: number): Float64Array {
  const out = new Float64Array(S * 2 * half);
  for (let p = 0; p < S; p++)
    for (let s = 0; s < half; s++) {
      out[p * 2 * half + s] = t[p * half + s];
      out[p * 2 * half + half + s] = t[p * half + s];
    }
  return out;
}
