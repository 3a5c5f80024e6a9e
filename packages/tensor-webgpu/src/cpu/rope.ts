// The CPU engine's rotary embeddings: launches csrc/rope.c for the rotation (forward and
// transposed) and for the (M-)RoPE cos/sin tables.
import { halfStorageOnlyMessage, isFloat, type DType } from '../dtype.js';
import type { RotaryLayout, RotaryVariant } from '../kernels/rope.js';
import type { DeviceBuffer } from '../runtime/backend.js';
import { cpuBuffer, type CpuEngine } from './cpuEngine.js';
import { rope_rotary, rope_tables } from './programs/rope.js';

/**
 * Rotary embedding of a strided x with strided tables into the contiguous `out` (see
 * `rotaryProgram` for the formula). f16 x or tables are storage only, as on a WebGPU device without
 * `shader-f16`.
 */
export function cpuRotary(
  engine: CpuEngine,
  v: RotaryVariant,
  layout: RotaryLayout,
  bufs: { x: DeviceBuffer; cos: DeviceBuffer; sin: DeviceBuffer; out: DeviceBuffer },
  label: string,
): void {
  const total = layout.shape.reduce((a, b) => a * b, 1);
  if (total === 0) return;
  if (v.dtype === 'f16' || v.tableDtype === 'f16') throw new Error(halfStorageOnlyMessage(label));
  engine.run(
    rope_rotary,
    {
      x: cpuBuffer(bufs.x).ptr + 4 * layout.xOffset,
      cos: cpuBuffer(bufs.cos).ptr + 4 * layout.cosOffset,
      sin: cpuBuffer(bufs.sin).ptr + 4 * layout.sinOffset,
      y: cpuBuffer(bufs.out).ptr,
      rank: layout.shape.length,
      tw: layout.tableWidth,
      transpose: v.transpose ? 1 : 0,
      shape: layout.shape,
      xst: layout.xStrides,
      cst: layout.cosStrides,
      sst: layout.sinStrides,
    },
    { label, work: 4 * total },
  );
}

/**
 * (M-)RoPE cos/sin tables [npos, half] f32 from positions [axes, npos]; `invFreq` as
 * `ropeInvFreq` computes it (the launcher checks half ≤ ROPE_MAX_HALF).
 */
export function cpuRopeTables(
  engine: CpuEngine,
  p: {
    posDtype: DType;
    positions: { buffer: DeviceBuffer; offset: number };
    npos: number;
    half: number;
    hLimit: number;
    wLimit: number;
    invFreq: Float32Array;
  },
  out: { cos: DeviceBuffer; sin: DeviceBuffer },
  label: string,
): void {
  const total = p.npos * p.half;
  if (total === 0) return;
  // Positions are read as the WGSL kernel declares them: f32 for float dtypes, i32, else u32.
  const posKind = isFloat(p.posDtype) ? 2 : p.posDtype === 'i32' ? 0 : 1;
  engine.run(
    rope_tables,
    {
      pos: cpuBuffer(p.positions.buffer).ptr + 4 * p.positions.offset,
      cos: cpuBuffer(out.cos).ptr,
      sin: cpuBuffer(out.sin).ptr,
      posKind,
      half: p.half,
      npos: p.npos,
      hLimit: p.hLimit,
      wLimit: p.wLimit,
      invf: Array.from(p.invFreq),
    },
    // Work ≈ a sine and a cosine (~40 operations) per entry.
    { label, work: 40 * total },
  );
}
