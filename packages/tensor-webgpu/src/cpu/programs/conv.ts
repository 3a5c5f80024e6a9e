// WebAssembly kernels of the conv family (declarations; the C is csrc/conv.c). Convolutions lower
// to these layout kernels plus the packed GEMM of the matmul family.
import { cpuProgram } from '../program.js';

/** A 2-D sliding window's geometry: input and output sizes, kernel, stride and padding (the same
 * fields for convolution and pooling). */
export const WINDOW_2D = {
  h: 'u32',
  w: 'u32',
  ho: 'u32',
  wo: 'u32',
  kh: 'u32',
  kw: 'u32',
  sh: 'u32',
  sw: 'u32',
  ph: 'u32',
  pw: 'u32',
} as const;

/**
 * im2col of `nimg` images for every group: col[g][(ci, kh, kw)][(img, oh, ow)] from x [img, cin, h, w].
 * `tconv` = 1 reads the transposed-convolution tap (input pixel (o + pad − t·dil) / stride when
 * that divides), else the convolution tap (o·stride − pad + t·dil).
 */
export const conv_im2col = cpuProgram('conv_im2col', {
  x: 'f32*',
  col: 'f32*',
  nimg: 'u32',
  cin: 'u32',
  ...WINDOW_2D,
  dh: 'u32',
  dw: 'u32',
  groups: 'u32',
  tconv: 'u32',
});

/**
 * Transposed-convolution weight w [g·cinG + ci, m, kk] (f32, or f16 bits when `half`) to the GEMM's
 * A operand wt[g][m][(ci, kk)] in f32.
 */
export const conv_tweight = cpuProgram('conv_tweight', {
  w: 'u8*',
  wt: 'f32*',
  groups: 'u32',
  cing: 'u32',
  coutg: 'u32',
  kk: 'u32',
  half: 'u32',
});

/** [n, c, hw] → [c, n, hw] (dy of the weight gradient, so that K = (img, pixel) is one stride). */
export const conv_nchw_cnhw = cpuProgram('conv_nchw_cnhw', {
  src: 'f32*',
  dst: 'f32*',
  n: 'u32',
  c: 'u32',
  hw: 'u32',
});
