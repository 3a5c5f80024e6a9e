// WebAssembly kernels of the reduce family (declarations; the C is csrc/reduce.c).
import { cpuProgram } from '../program.js';

/**
 * Reduces rows (kept dims) over a reduction index (reduced dims), both strided, rank ≤ 8 each.
 * `op` picks the operation and element type (see REDUCE_OPS in src/cpu/reduce.ts); `mode` 0 writes
 * whole rows to `dst`, 1 writes the value of each fixed-size chunk of each row to `part`, 2 combines
 * those chunk values into `dst` (the same combination as mode 0, so the bits match). `col` 1 takes
 * four rows per vector (the innermost kept dim must be contiguous).
 */
export const red_reduce = cpuProgram('red_reduce', {
  src: 'u32*',
  dst: 'u32*',
  part: 'u32*',
  op: 'u32',
  mode: 'u32',
  col: 'u32',
  rows: 'u32',
  len: 'u32',
  chunk: 'u32',
  chunks: 'u32',
  kept_rank: 'u32',
  red_rank: 'u32',
  scale: 'f32',
  kept_shape: ['u32', 8],
  kept_st: ['u32', 8],
  red_shape: ['u32', 8],
  red_st: ['u32', 8],
});

/** Softmax or log-softmax (`log` 1) of f32 lines along one axis; other dims coalesced, rank ≤ 8. */
export const red_softmax = cpuProgram('red_softmax', {
  src: 'f32*',
  dst: 'f32*',
  rows: 'u32',
  len: 'u32',
  rank: 'u32',
  log: 'u32',
  in_axis_st: 'u32',
  out_axis_st: 'u32',
  shape: ['u32', 8],
  in_st: ['u32', 8],
  out_st: ['u32', 8],
});

/** Inclusive scan of lines along one axis: `kind` 0 f32, 1 wrapping 32-bit integers; `reverse` 1 for suffix sums. */
export const red_cumsum = cpuProgram('red_cumsum', {
  src: 'u32*',
  dst: 'u32*',
  rows: 'u32',
  len: 'u32',
  rank: 'u32',
  kind: 'u32',
  reverse: 'u32',
  in_axis_st: 'u32',
  out_axis_st: 'u32',
  shape: ['u32', 8],
  in_st: ['u32', 8],
  out_st: ['u32', 8],
});
