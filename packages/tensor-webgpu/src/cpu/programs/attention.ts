// WebAssembly kernels of the attention family (declarations; the C is csrc/attention.c).
import { cpuProgram, type CpuArgType } from '../program.js';

// One argument block for all three stages: every operand is a byte address plus element strides
// [batch, head, row] (the last dim is contiguous), the mask a byte address plus strides over
// [B, Hq, Sq, Sk] (0 where broadcast).
const fields = {
  q: 'f32*',
  k: 'f32*',
  v: 'f32*',
  /** fwd with a cached prefix: its keys/values (rows [0, sp) of the sequence). */
  pk: 'f32*',
  pv: 'f32*',
  /** u32 0/1 (kind 2) or f32 additive (kind 1); unused for kind 0. */
  mask: 'u32*',
  dout: 'f32*',
  /** f32 [B, Hq, Sq]: base-2 log-sum-exp (fwd output, backward input) and Δ = rowsum(dO·O). */
  lse: 'f32*',
  delta: 'f32*',
  /** fwd: O; dkdv: DK, DV; dq: DQ (contiguous). */
  out0: 'f32*',
  out1: 'f32*',
  batch: 'u32',
  hq: 'u32',
  hkv: 'u32',
  sq: 'u32',
  sk: 'u32',
  d: 'u32',
  sp: 'u32',
  maskKind: 'u32',
  scale: 'f32',
  qst: ['u32', 3],
  kst: ['u32', 3],
  vst: ['u32', 3],
  dost: ['u32', 3],
  pkst: ['u32', 3],
  pvst: ['u32', 3],
  mst: ['u32', 4],
} as const satisfies Record<string, CpuArgType>;

/** Attention forward: O and the log-sum-exp per query row, online softmax over key blocks. */
export const at_fwd = cpuProgram('at_fwd', fields);
/** Attention backward, dK and dV per key block (the GQA group summed in order). */
export const at_dkdv = cpuProgram('at_dkdv', fields);
/** Attention backward, dQ per query block. */
export const at_dq = cpuProgram('at_dq', fields);
