// CPU launches of the matmul family: every product runs on the packed GEMM of csrc/matmul.c.
import type { MatmulLaunch } from '../kernels/matmul.js';
import { halfStorageOnlyMessage } from '../dtype.js';
import type { DeviceBuffer } from '../runtime/backend.js';
import { cpuBuffer, type CpuEngine } from './cpuEngine.js';
import { mm_gemm } from './programs/matmul.js';

/** Flags of the `mm_gemm` kernel (the C enum in csrc/matmul.c). */
export const MM_FLAGS = { halfA: 1, halfB: 2, accumulate: 4, biasRow: 8, biasCol: 16 } as const;

/**
 * Floats of packing scratch each thread needs: an A block (96 rows x 256 k) and a B block (256 k x
 * 256 columns), the blocking constants of csrc/matmul.c (the kernel traps if given less).
 */
const SCRATCH_FLOATS = 96 * 256 + 256 * 256;

/** One operand of {@link cpuGemm}: element (r, c) of matrix z is at `buffer[offset + batch(z) + r·rs + c·cs]`. */
export interface CpuGemmOperand {
  buffer: DeviceBuffer;
  /** Element offset. */
  offset: number;
  /** Element strides of the rows and columns of the operand as the product reads it (A: m, k; B: k, n). */
  rs: number;
  cs: number;
  /** Element strides over the batch dims (0 where broadcast). */
  batchStrides: readonly number[];
  /** The operand holds f16 bits (widened to f32 when packed). */
  half?: boolean;
}

/** A batched GEMM for {@link cpuGemm}: C[z] (row stride `ldc`) = A[z]·B[z] (+ bias), or += when `accumulate`. */
export interface CpuGemm {
  M: number;
  N: number;
  K: number;
  batchShape: readonly number[];
  a: CpuGemmOperand;
  b: CpuGemmOperand;
  c: { buffer: DeviceBuffer; offset: number; ld: number; batchStrides: readonly number[] };
  /** Bias added once per output element, indexed by row or by column. */
  bias?: { buffer: DeviceBuffer; offset: number; per: 'row' | 'col'; batchStrides?: readonly number[] };
  accumulate?: boolean;
  label: string;
}

/**
 * Runs one batched GEMM on the CPU engine's threads. Each output tile is computed by one thread with
 * a fixed K order, so results are bit-identical for every thread count.
 */
export function cpuGemm(engine: CpuEngine, g: CpuGemm): void {
  const batch = g.batchShape.reduce((x, y) => x * y, 1);
  if (batch === 0 || g.M === 0 || g.N === 0) return;
  const addr = (buf: DeviceBuffer, offset: number, bytes: number) => cpuBuffer(buf).ptr + offset * bytes;
  const strides = (s: readonly number[] | undefined) => g.batchShape.map((_, i) => s?.[i] ?? 0);
  let flags = 0;
  if (g.a.half) flags |= MM_FLAGS.halfA;
  if (g.b.half) flags |= MM_FLAGS.halfB;
  if (g.accumulate) flags |= MM_FLAGS.accumulate;
  if (g.bias) flags |= g.bias.per === 'row' ? MM_FLAGS.biasRow : MM_FLAGS.biasCol;
  const scratch = engine.alloc(engine.threads * SCRATCH_FLOATS * 4, `${g.label} (packing scratch)`);
  try {
    engine.run(
      mm_gemm,
      {
        a: addr(g.a.buffer, g.a.offset, g.a.half ? 2 : 4),
        b: addr(g.b.buffer, g.b.offset, g.b.half ? 2 : 4),
        bias: g.bias ? addr(g.bias.buffer, g.bias.offset, 4) : 0,
        c: addr(g.c.buffer, g.c.offset, 4),
        m: g.M,
        n: g.N,
        k: g.K,
        a_rs: g.a.rs,
        a_cs: g.a.cs,
        b_rs: g.b.rs,
        b_cs: g.b.cs,
        ldc: g.c.ld,
        flags,
        rank: g.batchShape.length,
        bshape: g.batchShape,
        astr: strides(g.a.batchStrides),
        bstr: strides(g.b.batchStrides),
        cstr: strides(g.c.batchStrides),
        biasstr: strides(g.bias?.batchStrides),
        scratch: cpuBuffer(scratch).ptr,
        scratch_floats: SCRATCH_FLOATS,
      },
      { label: g.label, work: 2 * batch * g.M * g.N * Math.max(g.K, 1) },
    );
  } finally {
    engine.release(scratch);
  }
}

/**
 * The CPU branch of `launchMatmul`: C [batch, M, N] contiguous = op(A)·op(B) (+ bias[n]). A and C are
 * f32 (f16 compute needs shader-f16, which the CPU engine does not offer); B may be f16 (`halfB`).
 */
export function cpuMatmul(engine: CpuEngine, p: MatmulLaunch): void {
  if (p.dtype !== 'f32') throw new Error(halfStorageOnlyMessage(p.label));
  const batchStrides: number[] = [];
  let s = p.M * p.N;
  for (let i = p.batchShape.length - 1; i >= 0; i--) {
    batchStrides[i] = s;
    s *= p.batchShape[i];
  }
  // op(A)[m, k]: stored [M, K] (rows along m) or [K, M] when transposed; likewise op(B)[k, n].
  cpuGemm(engine, {
    M: p.M,
    N: p.N,
    K: p.K,
    batchShape: p.batchShape,
    a: {
      buffer: p.a.buffer,
      offset: p.a.offset,
      rs: p.a.trans ? 1 : p.a.ld,
      cs: p.a.trans ? p.a.ld : 1,
      batchStrides: p.a.batchStrides,
    },
    b: {
      buffer: p.b.buffer,
      offset: p.b.offset,
      rs: p.b.trans ? 1 : p.b.ld,
      cs: p.b.trans ? p.b.ld : 1,
      batchStrides: p.b.batchStrides,
      half: !!p.halfB,
    },
    c: { buffer: p.out, offset: 0, ld: p.N, batchStrides },
    bias: p.bias ? { buffer: p.bias.buffer, offset: p.bias.offset, per: 'col' } : undefined,
    label: p.label,
  });
}
