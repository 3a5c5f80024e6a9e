// Rotary position embeddings (rotate-half / GPT-NeoX / Hugging Face convention) and their cos/sin
// tables: plain 1-D RoPE and Qwen3-VL's interleaved multimodal RoPE (SPEC §1).
import { noGrad, recordOp } from '../autograd.js';
import { launchRopeTables, launchRotary, ROPE_MAX_RANK, type RotaryLayout } from '../kernels/rope.js';
import { tidy } from '../scope.js';
import { Tensor } from '../tensor.js';
import { add, mul, neg } from './elementwise.js';
import { sumToShape } from './reduce.js';
import { concat, contiguous, slice } from './shape.js';
import { checkNumber } from './validate.js';

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/** cos and sin tables, each [..., S, headDim/2] f32. */
export interface RopeTables {
  cos: Tensor;
  sin: Tensor;
}

/**
 * Applies rotary embeddings in the rotate-half convention: `x·cos + rotate_half(x)·sin`, where
 * rotate_half(x) = concat(−x[..., D/2:], x[..., :D/2]). x is [..., S, D] (D even, any strides).
 * cos/sin broadcast against x's dims except the last, and their last dim is either
 * - D/2 (the tables of {@link ropeTables} / {@link mropeTables}): slot j rotates the pair (j, j + D/2),
 *   i.e. HF's `cat(freqs, freqs)` without materialising the duplicate half, or
 * - D (HF's full `cos`/`sin`), used element by element exactly as HF does.
 * Differentiable in x (the transposed rotation: rotation by −θ) and in cos/sin.
 */
export function rotaryEmbedding(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const op = 'rotaryEmbedding';
  if (x.dtype !== 'f32' && x.dtype !== 'f16')
    throw new Error(`${op}: x must be f32 or f16, got${x.describe()}`);
  if (x.rank < 1 || x.rank > ROPE_MAX_RANK)
    throw new Error(`${op}: x must have 1..${ROPE_MAX_RANK} dims, got ${fmt(x.shape)}`);
  const d = x.shape[x.rank - 1];
  if (d % 2 !== 0) throw new Error(`${op}: last dim of x ${fmt(x.shape)} must be even`);
  if (cos.shape.join() !== sin.shape.join())
    throw new Error(`${op}: cos ${fmt(cos.shape)} and sin ${fmt(sin.shape)} differ`);
  for (const t of [cos, sin])
    if (t.dtype !== 'f32' && t.dtype !== 'f16')
      throw new Error(`${op}: tables must be f32 or f16, got${t.describe()}`);
  if (cos.dtype !== sin.dtype) throw new Error(`${op}: cos and sin dtypes differ`);
  const tw = cos.shape[cos.rank - 1];
  if (cos.rank < 1 || (tw !== d / 2 && tw !== d))
    throw new Error(
      `${op}: table last dim must be D/2 = ${d / 2} or D = ${d}, got cos ${fmt(cos.shape)} for x ${fmt(x.shape)}`,
    );
  if (cos.rank > x.rank)
    throw new Error(`${op}: tables ${fmt(cos.shape)} have more dims than x ${fmt(x.shape)}`);
  // Table strides over x's dims: right-aligned, 0 where the table has 1 or lacks the dim.
  const tableStrides = (t: Tensor) =>
    x.shape.map((n, i) => {
      const j = i - (x.rank - t.rank);
      if (i === x.rank - 1) return t.strides[t.rank - 1];
      if (j < 0 || t.shape[j] === 1) return 0;
      if (t.shape[j] !== n)
        throw new Error(`${op}: table ${fmt(t.shape)} does not broadcast to x ${fmt(x.shape)}`);
      return t.strides[j];
    });
  const layoutFor = (src: Tensor): RotaryLayout => ({
    shape: src.shape,
    xStrides: src.strides,
    xOffset: src.offset,
    cosStrides: tableStrides(cos),
    cosOffset: cos.offset,
    sinStrides: tableStrides(sin),
    sinOffset: sin.offset,
    tableWidth: tw,
  });
  const run = (src: Tensor, c: Tensor, s: Tensor, transpose: boolean) =>
    noGrad(() => {
      const out = Tensor.empty(src.shape, src.dtype, src.engine);
      launchRotary(
        src.engine,
        { dtype: src.dtype as 'f32' | 'f16', tableDtype: c.dtype as 'f32' | 'f16', transpose },
        layoutFor(src),
        { x: src.buffer, cos: c.buffer, sin: s.buffer, out: out.buffer },
        `${op}${transpose ? ' backward' : ''} ${fmt(src.shape)}`,
      );
      return out;
    });
  const out = run(x, cos, sin, false);
  const needX = x.requiresGrad;
  const needC = cos.requiresGrad;
  const needS = sin.requiresGrad;
  return recordOp(
    op,
    out,
    [x, cos, sin],
    (g, [sx, sc, ss]) => {
      const gx = needX ? run(g, sc, ss, true) : null;
      let gc: Tensor | null = null;
      let gs: Tensor | null = null;
      if (needC || needS) {
        // d/dcos = g·x and d/dsin = g·rotate_half(x), per element of the full-width table; a half
        // table receives the sum of its two halves.
        const h = d / 2;
        const fold = (t: Tensor) => (tw === d ? t : add(slice(t, -1, 0, h), slice(t, -1, h, d)));
        if (needC) gc = sumToShape(fold(mul(g, sx)), sc.shape);
        if (needS) {
          const rot = concat([neg(slice(sx, -1, h, d)), slice(sx, -1, 0, h)], -1);
          gs = sumToShape(fold(mul(g, rot)), ss.shape);
        }
      }
      return [gx, gc, gs];
    },
    [x, cos, sin],
  );
}

function checkRope(op: string, headDim: number, theta: number): void {
  if (checkNumber(op, 'headDim', headDim, { integer: true, min: 2 }) % 2 !== 0)
    throw new Error(`${op}: headDim must be a positive even integer, got ${headDim}`);
  checkNumber(op, 'theta', theta, { above: 0 });
}

/** Host positions or a tensor of them (any integer or float dtype). */
export type Positions = Tensor | ArrayLike<number>;

function tables(
  op: string,
  positions: Tensor,
  axes: number,
  headDim: number,
  theta: number,
  hLimit: number,
  wLimit: number,
): RopeTables {
  if (positions.dtype === 'u8' || positions.dtype === 'f16')
    throw new Error(`${op}: positions must be i32, u32 or f32, got${positions.describe()}`);
  const lead = positions.shape.slice(axes === 3 ? 1 : 0);
  const npos = lead.reduce((a, b) => a * b, 1);
  const shape = [...lead, headDim / 2];
  return noGrad(() =>
    tidy(() => {
      const pc = contiguous(positions);
      const cosT = Tensor.empty(shape, 'f32', positions.engine);
      const sinT = Tensor.empty(shape, 'f32', positions.engine);
      launchRopeTables(
        positions.engine,
        {
          posDtype: pc.dtype,
          positions: { buffer: pc.buffer, offset: pc.offset },
          npos,
          headDim,
          theta,
          hLimit,
          wLimit,
        },
        { cos: cosT.buffer, sin: sinT.buffer },
        `${op} ${fmt(positions.shape)}`,
      );
      return { cos: cosT, sin: sinT };
    }),
  );
}

function asTensor(p: Positions, shape: readonly number[]): { t: Tensor; owned: boolean } {
  if ((p as Tensor).isTensor) return { t: p as Tensor, owned: false };
  return { t: Tensor.fromData(Int32Array.from(p as ArrayLike<number>), shape, 'i32'), owned: true };
}

/**
 * cos/sin tables of 1-D RoPE, Hugging Face style: inv_freq[s] = 1 / θ^(2s/D) (f32), angle =
 * f32(position · inv_freq[s]) for s < D/2. `positions` [S] or [B, S] (tensor or host integers)
 * → cos, sin [..., S, D/2] f32 (pass them to {@link rotaryEmbedding}). Not differentiable.
 */
export function ropeTables(positions: Positions, headDim: number, theta: number): RopeTables {
  checkRope('ropeTables', headDim, theta);
  const isT = (positions as Tensor).isTensor === true;
  const { t, owned } = asTensor(positions, isT ? [] : [(positions as ArrayLike<number>).length]);
  try {
    return tables('ropeTables', t, 1, headDim, theta, 0, 0);
  } finally {
    if (owned) t.dispose();
  }
}

/** Options of {@link mropeTables}. */
export interface MropeOptions {
  /**
   * Frequency slots per axis [t, h, w], summing to headDim/2. Default: [24, 20, 20] for head_dim 128
   * (Qwen3-VL); for other sizes h = w = round(20/64 · D/2) and t takes the rest.
   */
  section?: readonly [number, number, number];
}

/** Default M-RoPE section for a head dim (see {@link MropeOptions.section}). */
export function defaultMropeSection(headDim: number): [number, number, number] {
  const half = headDim / 2;
  const hw = Math.round((20 / 64) * half);
  return [half - 2 * hw, hw, hw];
}

/**
 * cos/sin tables of Qwen3-VL's interleaved multimodal RoPE. Every token has three position ids
 * (t, h, w): `positionIds` is [3, S] or [3, B, S] (tensor, or host arrays [t[], h[], w[]]). Frequency
 * slot s (of D/2, inv_freq as in {@link ropeTables}) takes its position from
 * - h when s % 3 == 1 and s < 3·section[1],
 * - w when s % 3 == 2 and s < 3·section[2],
 * - t otherwise
 * (for D = 128 and section [24, 20, 20]: slots < 60 interleave t, h, w; slots 60..63 use t).
 * Returns cos, sin [..., S, D/2] f32 for {@link rotaryEmbedding}. Not differentiable.
 */
export function mropeTables(
  positionIds: Tensor | readonly ArrayLike<number>[],
  headDim: number,
  theta: number,
  options: MropeOptions = {},
): RopeTables {
  const op = 'mropeTables';
  checkRope(op, headDim, theta);
  const section = options.section ?? defaultMropeSection(headDim);
  if (
    section.length !== 3 ||
    section.some((s) => !Number.isInteger(s) || s < 0) ||
    section[0] + section[1] + section[2] !== headDim / 2
  ) {
    throw new Error(
      `${op}: section ${JSON.stringify(section)} must be 3 non-negative integers summing to headDim/2 = ${headDim / 2}`,
    );
  }
  let t: Tensor;
  let owned = false;
  if ((positionIds as Tensor).isTensor) {
    t = positionIds as Tensor;
    if (t.rank < 2 || t.shape[0] !== 3)
      throw new Error(`${op}: positionIds must be [3, S] or [3, B, S], got ${fmt(t.shape)}`);
  } else {
    const rows = positionIds as readonly ArrayLike<number>[];
    if (rows.length !== 3 || rows.some((r) => r.length !== rows[0].length))
      throw new Error(`${op}: positionIds must be three equally long arrays (t, h, w)`);
    const flat = new Int32Array(3 * rows[0].length);
    rows.forEach((r, a) => flat.set(Int32Array.from(r), a * rows[0].length));
    t = Tensor.fromData(flat, [3, rows[0].length], 'i32');
    owned = true;
  }
  try {
    return tables(op, t, 3, headDim, theta, 3 * section[1], 3 * section[2]);
  } finally {
    if (owned) t.dispose();
  }
}
