// WebAssembly kernels of the elementwise family (declarations; the C is csrc/elementwise.c).
// One kernel per arity: an op code, the coalesced output shape, the output (address, storage type,
// strides) and per operand its address, kind (storage dtype, or a scalar of a compute type), scalar
// bits and strides. Strides are in elements, per coalesced dim (at most 8, MAX_RANK of shape.ts).
import { cpuProgram } from '../program.js';

const head = {
  op: 'u32',
  n: 'u32',
  rank: 'u32',
  out_type: 'u32',
  shape: ['u32', 8],
  out: 'u8*',
  out_st: ['i32', 8],
} as const;

/** Ops without operands (`index`, i.e. arange). */
export const ewNullary = cpuProgram('ew_nullary', head);

/** Operand i's fields: address, kind, scalar bits and strides. */
const operand0 = { p0: 'u8*', k0: 'u32', s0: 'u32', st0: ['i32', 8] } as const;
const operand1 = { p1: 'u8*', k1: 'u32', s1: 'u32', st1: ['i32', 8] } as const;
const operand2 = { p2: 'u8*', k2: 'u32', s2: 'u32', st2: ['i32', 8] } as const;

/** One-operand ops (copies, casts, fills, activations). */
export const ewUnary = cpuProgram('ew_unary', { ...head, ...operand0 });

/** Two-operand ops (arithmetic, comparisons, fused activation gradients). */
export const ewBinary = cpuProgram('ew_binary', { ...head, ...operand0, ...operand1 });

/** Three-operand ops (`where`, `clamp`). */
export const ewTernary = cpuProgram('ew_ternary', { ...head, ...operand0, ...operand1, ...operand2 });
