// The CPU engine's reductions, softmax / logSoftmax and cumsum: launches csrc/reduce.c with the
// layouts the launchers in kernels/reduce.ts compute (rows × reduction index, or lines along an axis).
import type { DType } from '../dtype.js';
import type { LineLayout, ReduceOp } from '../kernels/reduce.js';
import type { Tensor } from '../tensor.js';
import { addressOf, cpuBuffer, type CpuEngine } from './cpuEngine.js';
import { red_cumsum, red_reduce, red_softmax } from './programs/reduce.js';

/**
 * Elements per chunk of a float sum: a row's sum is the pairwise combination of its chunk sums, so a
 * row has the same bits whether one thread or several sum it. Long contiguous runs sum each chunk over
 * 16 SIMD lanes; other layouts sum a chunk in one sequence, so their chunks are short (accuracy).
 */
export const REDUCE_CHUNK = { lanes: 1024, sequential: 64 } as const;

// Operation codes of k_red_reduce, by op, for f32 / i32 / u32 (bool) elements (the enum in reduce.c).
const OP_CODES: Record<ReduceOp, readonly [number, number, number]> = {
  sum: [0, 1, 1],
  max: [2, 4, 6],
  min: [3, 5, 7],
  argmax: [8, 10, 12],
  argmin: [9, 11, 13],
};

function elementKind(dtype: DType, label: string): 0 | 1 | 2 {
  // The ops reject u8 and (storage-only) f16 before launching; anything else here is a bug.
  if (dtype === 'f32') return 0;
  if (dtype === 'i32') return 1;
  if (dtype === 'u32' || dtype === 'bool') return 2;
  throw new Error(`${label}: ${dtype} elements have no CPU reduction`);
}

/** A reduction's geometry as `launchReduce` coalesces it (strides in elements). */
export interface CpuReduceLayout {
  rows: number;
  len: number;
  keptShape: readonly number[];
  keptSt: readonly number[];
  redShape: readonly number[];
  redSt: readonly number[];
}

/** An empty index space becomes one dim of size 1 (the kernels unravel over at least one dim). */
function atLeast1(shape: readonly number[], ...strides: (readonly number[])[]): [number[], ...number[][]] {
  return shape.length ? [[...shape], ...strides.map((s) => [...s])] : [[1], ...strides.map(() => [0])];
}

/**
 * Reduces `x` into the contiguous `out` (rows > 0): `op` over the reduction index of each row, float
 * sums multiplied by `scale`. Few long rows are reduced in two calls (chunk values of every row over
 * all threads, then each row's combination), which gives the same bits as one call.
 */
export function cpuReduce(
  engine: CpuEngine,
  x: Tensor,
  op: ReduceOp,
  l: CpuReduceLayout,
  out: Tensor,
  scale: number,
  label: string,
): void {
  const code = OP_CODES[op][elementKind(x.dtype, label)];
  const [keptShape, keptSt] = atLeast1(l.keptShape, l.keptSt);
  // An empty reduction (sum only) reads nothing: one dim of size 1 keeps the index arithmetic defined.
  const [redShape, redSt] = l.len === 0 ? [[1], [0]] : atLeast1(l.redShape, l.redSt);
  const last = keptShape.length - 1;
  const rlast = redShape.length - 1;
  // Column layout: four adjacent rows per vector when the innermost kept dim is contiguous and the
  // reduction is not; each lane then sums its row's elements in sequence.
  const col = keptSt[last] === 1 && keptShape[last] >= 4 && redSt[rlast] !== 1;
  const chunk =
    !col && redSt[rlast] === 1 && redShape[rlast] >= 64 ? REDUCE_CHUNK.lanes : REDUCE_CHUNK.sequential;
  const chunks = Math.max(1, Math.ceil(l.len / chunk));
  const args = {
    src: addressOf(x),
    dst: addressOf(out),
    part: 0,
    op: code,
    mode: 0,
    col: col ? 1 : 0,
    rows: l.rows,
    len: l.len,
    chunk,
    chunks,
    kept_rank: keptShape.length,
    red_rank: redShape.length,
    scale,
    kept_shape: keptShape,
    kept_st: keptSt,
    red_shape: redShape,
    red_st: redSt,
  };
  const work = l.rows * Math.max(1, l.len);
  if (!(chunks > 1 && engine.threads > 1 && l.rows < 4 * engine.threads && work >= 1 << 16)) {
    engine.run(red_reduce, args, { label, work });
    return;
  }
  const arg = op === 'argmax' || op === 'argmin';
  const part = engine.alloc(l.rows * chunks * (arg ? 8 : 4), `${label} partials`);
  try {
    const partAt = cpuBuffer(part).ptr;
    engine.run(red_reduce, { ...args, part: partAt, mode: 1 }, { label, work });
    engine.run(red_reduce, { ...args, part: partAt, mode: 2 }, { label, work: l.rows * chunks });
  } finally {
    engine.release(part);
  }
}

/** Softmax (or log-softmax) of the f32 `x` along the lines of `l` into the contiguous `out`. */
export function cpuSoftmax(
  engine: CpuEngine,
  x: Tensor,
  out: Tensor,
  l: LineLayout,
  logOut: boolean,
  label: string,
): void {
  if (l.rows === 0 || l.len === 0) return;
  if (x.dtype !== 'f32') throw new Error(`${label}: ${x.dtype} has no CPU softmax`);
  const [shape, inSt, outSt] = atLeast1(l.shape, l.inSt, l.outSt);
  engine.run(
    red_softmax,
    {
      src: addressOf(x),
      dst: addressOf(out),
      rows: l.rows,
      len: l.len,
      rank: shape.length,
      log: logOut ? 1 : 0,
      in_axis_st: l.inAxisSt,
      out_axis_st: l.outAxisSt,
      shape,
      in_st: inSt,
      out_st: outSt,
    },
    { label, work: 24 * l.rows * l.len },
  );
}

/** Inclusive (or suffix) sums of `x` along the lines of `l` into the contiguous `out`; bool sums to i32. */
export function cpuCumsum(
  engine: CpuEngine,
  x: Tensor,
  out: Tensor,
  l: LineLayout,
  reverse: boolean,
  label: string,
): void {
  if (l.rows === 0 || l.len === 0) return;
  const kind = elementKind(x.dtype, label) === 0 ? 0 : 1;
  const [shape, inSt, outSt] = atLeast1(l.shape, l.inSt, l.outSt);
  engine.run(
    red_cumsum,
    {
      src: addressOf(x),
      dst: addressOf(out),
      rows: l.rows,
      len: l.len,
      rank: shape.length,
      kind,
      reverse: reverse ? 1 : 0,
      in_axis_st: l.inAxisSt,
      out_axis_st: l.outAxisSt,
      shape,
      in_st: inSt,
      out_st: outSt,
    },
    { label, work: 2 * l.rows * l.len },
  );
}
