// Memory primitives of the CPU engine.
import { cpuProgram } from '../program.js';

/** Fills `n` 32-bit words at `dst` with `value`. */
export const fill32 = cpuProgram('fill32', { dst: 'u32*', n: 'u32', value: 'u32' });
