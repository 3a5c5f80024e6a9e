// WebAssembly kernels of the gather family (declarations; the C is csrc/gather.c).
import { cpuProgram } from '../program.js';

/**
 * out[i] = x[coords of i, axis coordinate replaced by idx[i]] (0 when the index is out of range).
 * Offsets are relative to the views' element 0; `esize` is 4 (32-bit values) or 2 (f16 bits).
 */
export const gxGather = cpuProgram('gx_gather', {
  x: 'u8*',
  idx: 'i32*',
  out: 'u8*',
  n: 'u32',
  rank: 'u32',
  axis_size: 'u32',
  x_axis_st: 'i32',
  esize: 'u32',
  shape: ['u32', 8],
  x_st: ['i32', 8],
  idx_st: ['i32', 8],
});

/**
 * out[coords of src, axis coordinate replaced by idx] += src, in source order per destination:
 * threads split the coordinates off the axis, so each destination is summed by one thread.
 * `is_float` picks f32 addition, else 32-bit integer addition (i32 and u32 wrap alike).
 */
export const gxScatterAdd = cpuProgram('gx_scatter_add', {
  src: 'u32*',
  idx: 'i32*',
  out: 'u32*',
  rank: 'u32',
  axis: 'u32',
  axis_size: 'u32',
  is_float: 'u32',
  shape: ['u32', 8],
  src_st: ['i32', 8],
  idx_st: ['i32', 8],
  out_st: ['i32', 8],
});
