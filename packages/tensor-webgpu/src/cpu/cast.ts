// CPU launch of the pack casts (u8 and f16 results): the launcher in src/kernels/cast.ts allocates
// and coalesces; this runs csrc/cast.c.
import type { Tensor } from '../tensor.js';
import { addressOf, type CpuEngine } from './cpuEngine.js';
import { cpuStorageKind } from './elementwise.js';
import { castPack } from './programs/cast.js';

/**
 * Writes `x` (any view, coalesced to `co`) converted to `out`'s dtype (u8 or f16) into the new
 * contiguous tensor `out` of `n` elements; `label` names the op in errors.
 */
export function cpuPack(
  engine: CpuEngine,
  x: Tensor,
  out: Tensor,
  co: { shape: readonly number[]; strides: readonly (readonly number[])[] },
  n: number,
  label: string,
): void {
  engine.run(
    castPack,
    {
      src: addressOf(x),
      src_type: cpuStorageKind(x.dtype),
      n,
      rank: co.shape.length,
      shape: co.shape,
      st: co.strides[0],
      dst: addressOf(out),
      dst_type: out.dtype === 'f16' ? 1 : 0,
    },
    { label, work: n * 4 },
  );
}
