// WebAssembly kernels of the rope family (declarations; the C is csrc/rope.c).
import { cpuProgram } from '../program.js';

/**
 * Rotary embedding (forward, or the transposed rotation when `transpose` is 1) of a strided x
 * (rank ≤ 6) with strided cos/sin tables into a contiguous y. Offsets are folded into the addresses.
 */
export const rope_rotary = cpuProgram('rope_rotary', {
  x: 'f32*',
  cos: 'f32*',
  sin: 'f32*',
  y: 'f32*',
  rank: 'u32',
  tw: 'u32',
  transpose: 'u32',
  shape: ['u32', 6],
  xst: ['u32', 6],
  cst: ['u32', 6],
  sst: ['u32', 6],
});

/**
 * cos/sin tables [npos, half] of (M-)RoPE from positions [axes, npos] (`posKind` 0 i32, 1 u32,
 * 2 f32) and inv_freq; slot s takes axis 1 when s % 3 == 1 and s < hLimit, 2 when s % 3 == 2 and
 * s < wLimit, else 0.
 */
export const rope_tables = cpuProgram('rope_tables', {
  pos: 'u32*',
  cos: 'f32*',
  sin: 'f32*',
  posKind: 'u32',
  half: 'u32',
  npos: 'u32',
  hLimit: 'u32',
  wLimit: 'u32',
  invf: ['f32', 256],
});
