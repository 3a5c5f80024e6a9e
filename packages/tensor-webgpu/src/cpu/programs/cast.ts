// WebAssembly kernels of the cast family (declarations; the C is csrc/cast.c).
import { cpuProgram } from '../program.js';

/**
 * Converts a (strided) view of `src` (kind: 0 f32, 1 i32, 2 u32/bool, 3 u8, 4 f16) into a new
 * contiguous tensor of a byte-sized or half dtype at `dst` (dst_type: 0 u8, 1 f16).
 */
export const castPack = cpuProgram('cast_pack', {
  src: 'u8*',
  src_type: 'u32',
  n: 'u32',
  rank: 'u32',
  shape: ['u32', 8],
  st: ['i32', 8],
  dst: 'u8*',
  dst_type: 'u32',
});
