// WebAssembly kernels of the image family: pooling, resizing and frame conversion (declarations; the
// C is csrc/image.c).
import { cpuProgram } from '../program.js';
import { WINDOW_2D } from './conv.js';

/** avgPool2d over `planes` NCHW planes: forward (x → y) or, with `backward`, dy → dx. */
export const imgAvgPool = cpuProgram('img_avgpool', {
  x: 'f32*',
  y: 'f32*',
  planes: 'u32',
  ...WINDOW_2D,
  backward: 'u32',
});

/** Resize of NCHW planes: `mode` 0 nearest, 1 bilinear, 2 bilinear with aligned corners; forward or backward. */
export const imgResize = cpuProgram('img_resize', {
  x: 'f32*',
  y: 'f32*',
  planes: 'u32',
  in_h: 'u32',
  in_w: 'u32',
  out_h: 'u32',
  out_w: 'u32',
  mode: 'u32',
  backward: 'u32',
  scale_h: 'f32',
  scale_w: 'f32',
});

/** RGB8 frames [n, h, w, 3] → planar f32 [n, 3, oh, ow], means of box × box blocks. */
export const imgRgbToPlanar = cpuProgram('img_rgb_planar', {
  src: 'u8*',
  out: 'f32*',
  n: 'u32',
  h: 'u32',
  w: 'u32',
  box: 'u32',
  oh: 'u32',
  ow: 'u32',
  scale: 'f32',
});
