// WebAssembly kernels of the random family (declarations; the C is csrc/random.c).
import { cpuProgram } from '../program.js';

/**
 * Philox4x32-10 samples, the same streams as the WGSL kernel. `dist`: 0 raw bits, 1 uniform in
 * [p0, p1), 2 normal (mean p0, std p1), 3 Beta(p0, p1).
 */
export const rndPhilox = cpuProgram('rnd_philox', {
  out: 'u32*',
  n: 'u32',
  k0: 'u32',
  k1: 'u32',
  dist: 'u32',
  p0: 'f32',
  p1: 'f32',
});
