// Index-based kernels. `gather`: out[i] = x[coords of i with the axis coordinate replaced by
// idx[i]]; index_select is gather with an idx view broadcast (stride 0) over the other dims.
// `scatterAdd`: the inverse, accumulating src into a copy of x with atomics. WGSL only has integer
// atomics, so f32 adds use a compare-exchange loop on the bit pattern (correct under duplicates;
// the summation order, hence the last bits, may vary between runs).
import { cpuGather, cpuScatterAdd } from '../cpu/gather.js';
import type { DType } from '../dtype.js';
import { Tensor, contiguousStrides, shapeSize } from '../tensor.js';
import { HALF_BITS_WGSL } from './cast.js';
import { elementLoaderWgsl, storageDType, storageType, type StorageDType } from './elementwise.js';
import { MAX_RANK, fmtShape, unravelWgsl } from './shape.js';
import { wgslProgram } from './program.js';

const WG = 256;

/** Gather variant: value storage and index dtype. */
export interface GatherParams {
  dtype: StorageDType;
  idxDtype: DType;
}

/**
 * Gather (out-of-range indices read 0). For f16p (f16 without shader-f16) a thread writes one whole
 * output word, i.e. two elements.
 */
export const gatherProgram = wgslProgram({
  name: 'gather',
  bindings: (p: GatherParams) => ({
    x: { access: 'read' as const, type: storageType(p.dtype) },
    idx: { access: 'read' as const, type: storageType(p.idxDtype) },
    out: { access: 'read_write' as const, type: storageType(p.dtype) },
  }),
  uniforms: {
    n: 'u32',
    rank: 'u32',
    axis_size: 'u32',
    x_off: 'u32',
    idx_off: 'u32',
    x_axis_st: 'u32',
    shape: ['u32', MAX_RANK],
    x_st: ['u32', MAX_RANK],
    idx_st: ['u32', MAX_RANK],
  },
  workgroupSize: () => WG,
  body: ({ dtype }, { workgroupSize }) => {
    const T = storageType(dtype);
    const packed = dtype === 'f16p';
    const per = packed ? 2 : 1;
    const element = `fn element(i: u32) -> ${packed ? 'f32' : T} {
  var xo = u.x_off;
  var io = u.idx_off;
${unravelWgsl('i', 'u.rank', 'shape', [
  { off: 'xo', strides: 'x_st' },
  { off: 'io', strides: 'idx_st' },
])}
  let id = i32(idx[io]);
  if (id < 0 || u32(id) >= u.axis_size) { return ${packed ? 'f32' : T}(0); }
  return read_x(xo + u32(id) * u.x_axis_st);
}`;
    // Gathered halves are exact in f32, so packing them back is lossless (Inf and NaN included).
    const write = packed
      ? `var hi = 0u;
  if (i * 2u + 1u < u.n) { hi = half_bits(element(i * 2u + 1u)); }
  out[i] = half_bits(element(i * 2u)) | (hi << 16u);`
      : 'out[i] = element(i);';
    return `${packed ? `${elementLoaderWgsl('read_x', 'x', dtype)}\n${HALF_BITS_WGSL}` : `fn read_x(e: u32) -> ${T} { return x[e]; }`}
${element}
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(wid, lid, nwg);
  if (i * ${per}u >= u.n) { return; }
  ${write}
}`;
  },
});

/** Full WGSL of gather for a value storage and index dtype (for generated-code tests). */
export function gatherWgsl(dtype: StorageDType, idxDtype: DType): string {
  return gatherProgram.wgsl({ dtype, idxDtype });
}

/**
 * out (new, contiguous, shape of `outShape`) = x at each output coordinate with the `axis`
 * coordinate replaced by idx at that coordinate. `idxStrides` are idx's strides aligned to outShape
 * (0 where idx is broadcast).
 */
export function launchGather(
  x: Tensor,
  axis: number,
  idx: Tensor,
  outShape: readonly number[],
  idxStrides: readonly number[],
  label: string,
): Tensor {
  const out = Tensor.empty(outShape, x.dtype, x.engine);
  const n = shapeSize(outShape);
  if (n === 0) return out;
  if (outShape.length > MAX_RANK) throw new Error(`${label}: rank ${outShape.length} exceeds ${MAX_RANK}`);
  if (x.engine.kind === 'cpu') {
    cpuGather(x.engine, x, axis, idx, outShape, idxStrides, out, label);
    return out;
  }
  const xStorage = storageDType(x);
  const xSt = x.strides.map((s, d) => (d === axis ? 0 : s));
  const engine = x.engine;
  gatherProgram.dispatch(
    engine,
    { dtype: xStorage, idxDtype: idx.dtype },
    {
      label,
      buffers: { x: x.buffer, idx: idx.buffer, out: out.buffer },
      uniforms: {
        n,
        rank: outShape.length,
        axis_size: x.shape[axis],
        x_off: x.offset,
        idx_off: idx.offset,
        x_axis_st: x.strides[axis],
        shape: outShape,
        x_st: xSt,
        idx_st: idxStrides,
      },
      workgroups: engine.grid(Math.ceil(n / (xStorage === 'f16p' ? 2 : 1) / WG)),
    },
  );
  return out;
}

/** Scatter-add variant: accumulator dtype and index dtype. */
export interface ScatterAddParams {
  dtype: 'f32' | 'i32' | 'u32';
  idxDtype: DType;
}

/** Scatter-add for f32 (CAS loop), i32 or u32 (atomicAdd). Out-of-range indices are skipped. */
export const scatterAddProgram = wgslProgram({
  name: 'scatterAdd',
  bindings: (p: ScatterAddParams) => ({
    src: { access: 'read' as const, type: p.dtype },
    idx: { access: 'read' as const, type: storageType(p.idxDtype) },
    out: { access: 'read_write' as const, type: `atomic<${p.dtype === 'i32' ? 'i32' : 'u32'}>` },
  }),
  uniforms: {
    n: 'u32',
    rank: 'u32',
    axis_size: 'u32',
    src_off: 'u32',
    idx_off: 'u32',
    out_axis_st: 'u32',
    shape: ['u32', MAX_RANK],
    src_st: ['u32', MAX_RANK],
    idx_st: ['u32', MAX_RANK],
    out_st: ['u32', MAX_RANK],
  },
  workgroupSize: () => WG,
  body: ({ dtype }, { workgroupSize }) => {
    const add =
      dtype === 'f32'
        ? `  var old = atomicLoad(&out[o]);
  loop {
    let r = atomicCompareExchangeWeak(&out[o], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`
        : `  atomicAdd(&out[o], v);`;
    return `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(wid, lid, nwg);
  if (i >= u.n) { return; }
  var so = u.src_off;
  var io = u.idx_off;
  var o = 0u;
${unravelWgsl('i', 'u.rank', 'shape', [
  { off: 'so', strides: 'src_st' },
  { off: 'io', strides: 'idx_st' },
  { off: 'o', strides: 'out_st' },
])}
  let id = i32(idx[io]);
  if (id < 0 || u32(id) >= u.axis_size) { return; }
  o += u32(id) * u.out_axis_st;
  let v = src[so];
${add}
}`;
  },
});

/**
 * Adds `src` into `out` (a new contiguous f32/i32/u32 tensor the caller filled) at coordinates of
 * src with the `axis` coordinate replaced by idx (idxStrides aligned to src's shape).
 */
export function launchScatterAdd(
  out: Tensor,
  axis: number,
  idx: Tensor,
  idxStrides: readonly number[],
  src: Tensor,
  label: string,
): void {
  const dtype = out.dtype;
  if (dtype !== 'f32' && dtype !== 'i32' && dtype !== 'u32')
    throw new Error(`${label}: scatter kernel handles f32/i32/u32, not ${dtype}`);
  if (src.dtype !== dtype) throw new Error(`${label}: src dtype ${src.dtype} differs from ${dtype}`);
  const n = src.size;
  if (n === 0) return;
  if (src.rank > MAX_RANK) throw new Error(`${label}: rank ${src.rank} exceeds ${MAX_RANK}`);
  // The CPU kernel partitions by destination instead of using atomics: sums in source order, deterministic.
  if (out.engine.kind === 'cpu')
    return cpuScatterAdd(
      out.engine,
      out,
      axis,
      idx,
      idxStrides,
      src,
      `${label} ${fmtShape(out.shape)} <- ${fmtShape(src.shape)}`,
    );
  const outSt = contiguousStrides(out.shape);
  const engine = out.engine;
  scatterAddProgram.dispatch(
    engine,
    { dtype, idxDtype: idx.dtype },
    {
      label: `${label} ${fmtShape(out.shape)} <- ${fmtShape(src.shape)}`,
      buffers: { src: src.buffer, idx: idx.buffer, out: out.buffer },
      uniforms: {
        n,
        rank: src.rank,
        axis_size: out.shape[axis],
        src_off: src.offset,
        idx_off: idx.offset,
        out_axis_st: outSt[axis],
        shape: src.shape,
        src_st: src.strides,
        idx_st: idxStrides,
        out_st: outSt.map((s, d) => (d === axis ? 0 : s)),
      },
      workgroups: engine.grid(Math.ceil(n / WG)),
    },
  );
}
