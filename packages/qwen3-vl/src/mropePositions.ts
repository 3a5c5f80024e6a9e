// Qwen3-VL multimodal RoPE position ids, as HF `Qwen3VLModel.get_rope_index` computes them for still
// images and text: each token has three ids (t, h, w). A text token (and every token after the
// prefix: generation, state, actions) gets t = h = w = (largest id so far) + 1. The tokens of an image
// with merged grid (T, H, W) get (st + t, st + row, st + col), where st = (largest id so far) + 1, so
// the `<vision_start>` token before it (a text token) sits at st - 1. Padding tokens are skipped:
// they do not advance the ids and get `padPosition` (HF: 1) in all three rows.
import type { Flags } from '@vla/mot-attention';

/** A run of tokens: 1-D positions (`text`) or one image's merged patch grid (`image`). */
export type MropeSegment =
  | {
      kind: 'text';
      /** Number of tokens. */
      length: number;
    }
  | {
      kind: 'image';
      /** Merged grid `[t, h, w]` (after the 2x2 spatial merge); tokens are t-major, then row-major. */
      grid: readonly [number, number, number];
    };

/** Position ids: three rows (t, h, w) of one id per token. */
export type MropeIds = [Int32Array, Int32Array, Int32Array];

/** Options of {@link mropePositions}. */
export interface MropeOptions {
  /** Validity per token (false = padding: skipped, gets `padPosition`). Omitted: all valid. */
  valid?: Flags;
  /** Id given to padding tokens in all three rows (default 1, as HF fills its position tensor). */
  padPosition?: number;
}

/** Number of tokens a segment covers. */
export function mropeSegmentLength(seg: MropeSegment): number {
  if (seg.kind === 'text') return seg.length;
  return seg.grid[0] * seg.grid[1] * seg.grid[2];
}

/**
 * M-RoPE position ids `[3][S]` of one sample laid out as `segments`. An image must be entirely
 * valid or entirely padding (a missing camera); partly padded images throw.
 */
export function mropePositions(segments: readonly MropeSegment[], options: MropeOptions = {}): MropeIds {
  const S = segments.reduce((n, s) => n + mropeSegmentLength(s), 0);
  const valid = options.valid;
  if (valid && valid.length !== S)
    throw new Error(`mropePositions: valid has length ${valid.length} but the segments hold ${S} tokens`);
  const pad = options.padPosition ?? 1;
  const ids: MropeIds = [
    new Int32Array(S).fill(pad),
    new Int32Array(S).fill(pad),
    new Int32Array(S).fill(pad),
  ];
  let next = 0; // largest id so far + 1
  let i = 0;
  segments.forEach((seg, k) => {
    if (seg.kind === 'text') {
      if (!Number.isInteger(seg.length) || seg.length < 0)
        throw new Error(`mropePositions: segment ${k} has invalid length ${seg.length}`);
      for (let j = 0; j < seg.length; j++, i++) {
        if (valid && !valid[i]) continue;
        ids[0][i] = ids[1][i] = ids[2][i] = next++;
      }
      return;
    }
    const [T, H, W] = seg.grid;
    if (![T, H, W].every((d) => Number.isInteger(d) && d > 0))
      throw new Error(`mropePositions: segment ${k} has invalid grid [${seg.grid.join(', ')}]`);
    const n = T * H * W;
    let nValid = n;
    if (valid) {
      nValid = 0;
      for (let j = 0; j < n; j++) if (valid[i + j]) nValid++;
      if (nValid !== 0 && nValid !== n)
        throw new Error(
          `mropePositions: image segment ${k} is partly padding (${nValid} of ${n} tokens valid)`,
        );
    }
    if (nValid === 0) {
      i += n;
      return;
    }
    const st = next;
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < H; r++) {
        for (let c = 0; c < W; c++, i++) {
          ids[0][i] = st + t;
          ids[1][i] = st + r;
          ids[2][i] = st + c;
        }
      }
    }
    next = st + Math.max(T, H, W);
  });
  return ids;
}

/** The largest id of a position table (ignoring padding when `valid` is given); -1 if none. */
export function mropeMaxPosition(ids: MropeIds, valid?: Flags): number {
  let m = -1;
  for (let i = 0; i < ids[0].length; i++) {
    if (valid && !valid[i]) continue;
    m = Math.max(m, ids[0][i], ids[1][i], ids[2][i]);
  }
  return m;
}

/** Ids of tokens `[start, end)` (a segment's share, e.g. for a KV-cached step). */
export function sliceMropeIds(ids: MropeIds, start: number, end: number): MropeIds {
  return [ids[0].slice(start, end), ids[1].slice(start, end), ids[2].slice(start, end)];
}
