// WebAssembly kernels of the matmul family (declarations; the C is csrc/matmul.c).
import { cpuProgram } from '../program.js';

// Max batch rank (the matmul op folds larger ranks or refuses them). Only programs are exported here:
// the index collects every export of this module as a kernel.
const MM_MAX_BATCH_RANK = 6;

/**
 * Packed, cache-blocked GEMM over a batch: C[z] = op(A)[z]·op(B)[z] (+ bias), or C[z] += … with
 * the accumulate flag. Element (r, c) of an operand is at `p[r·rs + c·cs]` (transposes are strides);
 * batch index z decomposes over `bshape` with each operand's element strides. `flags`: see
 * MM_FLAGS in src/cpu/matmul.ts. `scratch` holds `scratch_floats` floats per thread.
 */
export const mm_gemm = cpuProgram('mm_gemm', {
  a: 'u8*',
  b: 'u8*',
  bias: 'f32*',
  c: 'f32*',
  m: 'u32',
  n: 'u32',
  k: 'u32',
  a_rs: 'u32',
  a_cs: 'u32',
  b_rs: 'u32',
  b_cs: 'u32',
  ldc: 'u32',
  flags: 'u32',
  rank: 'u32',
  bshape: ['u32', MM_MAX_BATCH_RANK],
  astr: ['u32', MM_MAX_BATCH_RANK],
  bstr: ['u32', MM_MAX_BATCH_RANK],
  cstr: ['u32', MM_MAX_BATCH_RANK],
  biasstr: ['u32', MM_MAX_BATCH_RANK],
  scratch: 'f32*',
  scratch_floats: 'u32',
});
