// CPU launches of the elementwise family: the launcher in src/kernels/elementwise.ts validates,
// broadcasts and coalesces; this packs the result into the argument block of the kernel of the op's
// arity (csrc/elementwise.c).
import type { DType } from '../dtype.js';
import type { EwOperand } from '../kernels/elementwise.js';
import type { Tensor } from '../tensor.js';
import { addressOf, type CpuEngine } from './cpuEngine.js';
import { ewBinary, ewNullary, ewTernary, ewUnary } from './programs/elementwise.js';

/** Op codes of the C kernels, in the order of the `OP_*` enum of csrc/elementwise.c (and of EW_OPS). */
export const EW_OP_CODES: readonly string[] = [
  'copy',
  'cast',
  'toBool',
  'index',
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'maximum',
  'minimum',
  'neg',
  'abs',
  'sign',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'tanh',
  'sigmoid',
  'silu',
  'relu',
  'erf',
  'gelu',
  'geluTanh',
  'geluGrad',
  'geluTanhGrad',
  'siluGrad',
  'clamp',
  'where',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
];

/** Ops whose cost per element is a transcendental function or more (for the thread heuristic). */
const HEAVY = new Set([
  'pow',
  'exp',
  'log',
  'tanh',
  'sigmoid',
  'silu',
  'erf',
  'gelu',
  'geluTanh',
  'geluGrad',
  'geluTanhGrad',
  'siluGrad',
]);

/** Storage kind of a tensor in the kernels (`EW_F32`…`EW_F16` of csrc/elementwise.c; `CAST_*` of csrc/cast.c). */
export function cpuStorageKind(dtype: DType): number {
  switch (dtype) {
    case 'f32':
      return 0;
    case 'i32':
      return 1;
    case 'u8':
      return 3;
    case 'f16':
      return 4;
    default:
      return 2; // u32, bool
  }
}

/** Compute type code of a dtype (f16 computes in f32; u8 and bool in u32). */
function computeKind(dtype: DType): number {
  return dtype === 'f32' || dtype === 'f16' ? 0 : dtype === 'i32' ? 1 : 2;
}

const scalarBits = new Uint32Array(1);
const scalarF32 = new Float32Array(scalarBits.buffer);
const scalarI32 = new Int32Array(scalarBits.buffer);

/** A scalar's bits in its compute type, converted as the WGSL uniform block converts it. */
function scalarWord(value: number, kind: number): number {
  if (kind === 0) scalarF32[0] = value;
  else if (kind === 1) scalarI32[0] = value;
  else scalarBits[0] = value >>> 0;
  return scalarBits[0];
}

/**
 * Runs `op` on the CPU engine into `out` (new or a strided view), for the coalesced layout `co`
 * (shape, then the stride lists of the output and of each tensor operand, as the launcher built them).
 */
export function cpuElementwise(
  engine: CpuEngine,
  op: string,
  operands: readonly EwOperand[],
  out: Tensor,
  co: { shape: readonly number[]; strides: readonly (readonly number[])[] },
  n: number,
  label: string,
): void {
  // Each CPU engine has its own memory: an address from another engine would read the wrong bytes
  // (`engine` is the destination's when there is one).
  for (const o of operands) {
    if ('tensor' in o && o.tensor.engine !== engine)
      throw new Error(
        `${label}: the operands live on different engines; move them first (await tensor.to(engine))`,
      );
  }
  const code = EW_OP_CODES.indexOf(op);
  if (code < 0) throw new Error(`elementwise: op ${op} has no CPU kernel`);
  const head = {
    op: code,
    n,
    rank: co.shape.length,
    out_type: cpuStorageKind(out.dtype),
    shape: co.shape,
    out: addressOf(out),
    out_st: co.strides[0],
  };
  let ti = 1;
  const slots = operands.map((o) => {
    if ('tensor' in o)
      return { p: addressOf(o.tensor), k: cpuStorageKind(o.tensor.dtype), s: 0, st: co.strides[ti++] };
    const kind = computeKind(o.dtype);
    return { p: 0, k: 8 | kind, s: scalarWord(o.scalar, kind), st: [] as number[] };
  });
  const options = { label, work: n * (HEAVY.has(op) ? 24 : 2) };
  const [a, b, c] = slots;
  if (slots.length === 0) engine.run(ewNullary, head, options);
  else if (slots.length === 1)
    engine.run(ewUnary, { ...head, p0: a.p, k0: a.k, s0: a.s, st0: a.st }, options);
  else if (slots.length === 2)
    engine.run(
      ewBinary,
      { ...head, p0: a.p, k0: a.k, s0: a.s, st0: a.st, p1: b.p, k1: b.k, s1: b.s, st1: b.st },
      options,
    );
  else
    engine.run(
      ewTernary,
      {
        ...head,
        p0: a.p,
        k0: a.k,
        s0: a.s,
        st0: a.st,
        p1: b.p,
        k1: b.k,
        s1: b.s,
        st1: b.st,
        p2: c.p,
        k2: c.k,
        s2: c.s,
        st2: c.st,
      },
      options,
    );
}
