// CPU launchers of the gather family: gather (f16 storage included, copied as half bits) and a
// deterministic scatter-add. The launchers in src/kernels/gather.ts validate and call these.
import { bytesPerElement } from '../dtype.js';
import { contiguousStrides, type Tensor } from '../tensor.js';
import { addressOf, type CpuEngine } from './cpuEngine.js';
import { gxGather, gxScatterAdd } from './programs/gather.js';

/**
 * Fills `out` (contiguous, `outShape`) with x at each output coordinate whose `axis` coordinate is
 * replaced by idx there (0 for out-of-range indices). `idxStrides` align idx to `outShape`.
 */
export function cpuGather(
  engine: CpuEngine,
  x: Tensor,
  axis: number,
  idx: Tensor,
  outShape: readonly number[],
  idxStrides: readonly number[],
  out: Tensor,
  label: string,
): void {
  const n = out.size;
  engine.run(
    gxGather,
    {
      x: addressOf(x),
      idx: addressOf(idx),
      out: addressOf(out),
      n,
      rank: outShape.length,
      axis_size: x.shape[axis] ?? 1,
      x_axis_st: x.strides[axis] ?? 0,
      // f16 is storage only here: gathering copies the half bits.
      esize: bytesPerElement(x.dtype),
      shape: [...outShape],
      // The axis coordinate comes from idx, not from the output position.
      x_st: x.strides.map((s, d) => (d === axis ? 0 : s)),
      idx_st: [...idxStrides],
    },
    { label, work: n * 2 },
  );
}

/**
 * Adds `src` into `out` (contiguous, f32/i32/u32) at src's coordinates with the `axis` coordinate
 * replaced by idx (`idxStrides` aligned to src). Threads split the destinations, and each sums its
 * contributions in source order, so f32 results are the same bits on every run and thread count.
 */
export function cpuScatterAdd(
  engine: CpuEngine,
  out: Tensor,
  axis: number,
  idx: Tensor,
  idxStrides: readonly number[],
  src: Tensor,
  label: string,
): void {
  engine.run(
    gxScatterAdd,
    {
      src: addressOf(src),
      idx: addressOf(idx),
      out: addressOf(out),
      rank: src.rank,
      axis,
      axis_size: out.shape[axis],
      is_float: out.dtype === 'f32' ? 1 : 0,
      shape: [...src.shape],
      src_st: [...src.strides],
      idx_st: [...idxStrides],
      out_st: contiguousStrides(out.shape),
    },
    { label, work: src.size * 2 },
  );
}
