// WebAssembly kernels of the norm family (declarations; the C is csrc/norm.c). Rows are contiguous
// runs of `d` elements; `kind` 0 layer, 1 rms, 2 group (the affine parameter of element j of row r is
// (r % groups)·cpg + j / hw for group, j otherwise). Absent optional pointers are 0.

import { cpuProgram } from '../program.js';

/** Forward: y = (x − mean)·rstd·w + b per row, and stats[2r] = mean, stats[2r + 1] = rstd. */
export const nm_fwd = cpuProgram('nm_fwd', {
  x: 'f32*',
  w: 'f32*',
  b: 'f32*',
  y: 'f32*',
  stats: 'f32*',
  rows: 'u32',
  d: 'u32',
  hw: 'u32',
  cpg: 'u32',
  groups: 'u32',
  kind: 'u32',
  eps: 'f32',
});

/** Backward to the input: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w (rms: no mean(g) term). */
export const nm_bwd = cpuProgram('nm_bwd', {
  x: 'f32*',
  dy: 'f32*',
  stats: 'f32*',
  w: 'f32*',
  dx: 'f32*',
  rows: 'u32',
  d: 'u32',
  hw: 'u32',
  cpg: 'u32',
  groups: 'u32',
  kind: 'u32',
});

/**
 * Partial parameter gradients, the WebGPU layout: layer/rms P[2, ceil(rows / 32), d] (Σ dy·x̂, Σ dy
 * over each chunk of 32 rows); group P[2, planes] (Σ dy·x̂, Σ dy over each (n, c) plane).
 */
export const nm_pgrad = cpuProgram('nm_pgrad', {
  x: 'f32*',
  dy: 'f32*',
  stats: 'f32*',
  p: 'f32*',
  rows: 'u32',
  d: 'u32',
  hw: 'u32',
  cpg: 'u32',
  groups: 'u32',
  kind: 'u32',
});
