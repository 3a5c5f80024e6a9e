// Index-based kernels. `gather`: out[i] = x[coords of i with the axis coordinate replaced by
// idx[i]]; index_select is gather with an idx view broadcast (stride 0) over the other dims.
// `scatterAdd`: the inverse, accumulating src into a copy of x with atomics. WGSL only has integer
// atomics, so f32 adds use a compare-exchange loop on the bit pattern (correct under duplicates;
// the summation order, hence the last bits, may vary between runs).
import type { DType } from '../dtype.js';
import type { Kernel } from '../runtime/engine.js';
import { Tensor, contiguousStrides, shapeSize } from '../tensor.js';
import { HALF_BITS_WGSL } from './cast.js';
import { elementLoaderWgsl, enableF16, storageDType, storageType, type StorageDType } from './elementwise.js';
import { MAX_RANK, fmtShape, unravelWgsl } from './shape.js';
import { linearIndexWgsl, uniformBlock } from './uniforms.js';

const WG = 256;

function gatherUniforms(v?: { n: number; rank: number; axisSize: number; xOff: number; idxOff: number; xAxisSt: number; shape: number[]; xSt: number[]; idxSt: number[] }) {
  return uniformBlock(
    [
      { name: 'n', type: 'u32', value: v?.n ?? 0 },
      { name: 'rank', type: 'u32', value: v?.rank ?? 0 },
      { name: 'axis_size', type: 'u32', value: v?.axisSize ?? 0 },
      { name: 'x_off', type: 'u32', value: v?.xOff ?? 0 },
      { name: 'idx_off', type: 'u32', value: v?.idxOff ?? 0 },
      { name: 'x_axis_st', type: 'u32', value: v?.xAxisSt ?? 0 },
    ],
    [
      { name: 'shape', length: MAX_RANK, values: v?.shape ?? [] },
      { name: 'x_st', length: MAX_RANK, values: v?.xSt ?? [] },
      { name: 'idx_st', length: MAX_RANK, values: v?.idxSt ?? [] },
    ],
  );
}

/**
 * WGSL of gather for a value storage and index dtype (out-of-range indices read 0). For f16p (f16
 * without shader-f16) a thread writes one whole output word, i.e. two elements.
 */
export function gatherWgsl(dtype: StorageDType, idxDtype: DType): string {
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
  return `${enableF16([dtype])}@group(0) @binding(0) var<storage, read> x: array<${T}>;
@group(0) @binding(1) var<storage, read> idx: array<${storageType(idxDtype)}>;
@group(0) @binding(2) var<storage, read_write> out: array<${T}>;
${gatherUniforms().wgsl(3)}
${linearIndexWgsl(WG)}
${packed ? `${elementLoaderWgsl('read_x', 'x', dtype)}\n${HALF_BITS_WGSL}` : `fn read_x(e: u32) -> ${T} { return x[e]; }`}
${element}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(wid, lid, nwg);
  if (i * ${per}u >= u.n) { return; }
  ${write}
}`;
}

/**
 * out (new, contiguous, shape of `outShape`) = x at each output coordinate with the `axis`
 * coordinate replaced by idx at that coordinate. `idxStrides` are idx's strides aligned to outShape
 * (0 where idx is broadcast).
 */
export function launchGather(x: Tensor, axis: number, idx: Tensor, outShape: readonly number[], idxStrides: readonly number[], label: string): Tensor {
  const out = Tensor.empty(outShape, x.dtype, x.engine);
  const n = shapeSize(outShape);
  if (n === 0) return out;
  if (outShape.length > MAX_RANK) throw new Error(`${label}: rank ${outShape.length} exceeds ${MAX_RANK}`);
  const xStorage = storageDType(x);
  const xSt = x.strides.map((s, d) => (d === axis ? 0 : s));
  const u = gatherUniforms({
    n,
    rank: outShape.length,
    axisSize: x.shape[axis],
    xOff: x.offset,
    idxOff: idx.offset,
    xAxisSt: x.strides[axis],
    shape: [...outShape],
    xSt,
    idxSt: [...idxStrides],
  });
  x.engine.dispatch({
    kernel: { key: `gather:${xStorage}:${idx.dtype}`, code: () => gatherWgsl(xStorage, idx.dtype) },
    label,
    storage: [
      { buffer: x.buffer, readOnly: true },
      { buffer: idx.buffer, readOnly: true },
      { buffer: out.buffer, readOnly: false },
    ],
    uniforms: u.data,
    workgroups: x.engine.grid(Math.ceil(n / (xStorage === 'f16p' ? 2 : 1) / WG)),
  });
  return out;
}

function scatterUniforms(v?: { n: number; rank: number; axisSize: number; srcOff: number; idxOff: number; outAxisSt: number; shape: number[]; srcSt: number[]; idxSt: number[]; outSt: number[] }) {
  return uniformBlock(
    [
      { name: 'n', type: 'u32', value: v?.n ?? 0 },
      { name: 'rank', type: 'u32', value: v?.rank ?? 0 },
      { name: 'axis_size', type: 'u32', value: v?.axisSize ?? 0 },
      { name: 'src_off', type: 'u32', value: v?.srcOff ?? 0 },
      { name: 'idx_off', type: 'u32', value: v?.idxOff ?? 0 },
      { name: 'out_axis_st', type: 'u32', value: v?.outAxisSt ?? 0 },
    ],
    [
      { name: 'shape', length: MAX_RANK, values: v?.shape ?? [] },
      { name: 'src_st', length: MAX_RANK, values: v?.srcSt ?? [] },
      { name: 'idx_st', length: MAX_RANK, values: v?.idxSt ?? [] },
      { name: 'out_st', length: MAX_RANK, values: v?.outSt ?? [] },
    ],
  );
}

/** WGSL of scatter-add for f32 (CAS loop), i32 or u32 (atomicAdd). Out-of-range indices are skipped. */
export function scatterAddWgsl(dtype: 'f32' | 'i32' | 'u32', idxDtype: DType): string {
  const atomicT = dtype === 'i32' ? 'i32' : 'u32';
  const add =
    dtype === 'f32'
      ? `  var old = atomicLoad(&out[o]);
  loop {
    let r = atomicCompareExchangeWeak(&out[o], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`
      : `  atomicAdd(&out[o], v);`;
  return `@group(0) @binding(0) var<storage, read> src: array<${dtype}>;
@group(0) @binding(1) var<storage, read> idx: array<${storageType(idxDtype)}>;
@group(0) @binding(2) var<storage, read_write> out: array<atomic<${atomicT}>>;
${scatterUniforms().wgsl(3)}
${linearIndexWgsl(WG)}
@compute @workgroup_size(${WG})
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
}

/**
 * Adds `src` into `out` (a new contiguous f32/i32/u32 tensor the caller filled) at coordinates of
 * src with the `axis` coordinate replaced by idx (idxStrides aligned to src's shape).
 */
export function launchScatterAdd(out: Tensor, axis: number, idx: Tensor, idxStrides: readonly number[], src: Tensor, label: string): void {
  const dtype = out.dtype;
  if (dtype !== 'f32' && dtype !== 'i32' && dtype !== 'u32') throw new Error(`${label}: scatter kernel handles f32/i32/u32, not ${dtype}`);
  if (src.dtype !== dtype) throw new Error(`${label}: src dtype ${src.dtype} differs from ${dtype}`);
  const n = src.size;
  if (n === 0) return;
  if (src.rank > MAX_RANK) throw new Error(`${label}: rank ${src.rank} exceeds ${MAX_RANK}`);
  const outSt = contiguousStrides(out.shape);
  const u = scatterUniforms({
    n,
    rank: src.rank,
    axisSize: out.shape[axis],
    srcOff: src.offset,
    idxOff: idx.offset,
    outAxisSt: outSt[axis],
    shape: [...src.shape],
    srcSt: [...src.strides],
    idxSt: [...idxStrides],
    outSt: outSt.map((s, d) => (d === axis ? 0 : s)),
  });
  out.engine.dispatch({
    kernel: { key: `scatterAdd:${dtype}:${idx.dtype}`, code: () => scatterAddWgsl(dtype, idx.dtype) },
    label: `${label} ${fmtShape(out.shape)} <- ${fmtShape(src.shape)}`,
    storage: [
      { buffer: src.buffer, readOnly: true },
      { buffer: idx.buffer, readOnly: true },
      { buffer: out.buffer, readOnly: false },
    ],
    uniforms: u.data,
    workgroups: out.engine.grid(Math.ceil(n / WG)),
  });
}

/** Kernel handle for tests of generated code. @internal */
export function gatherKernel(dtype: DType, idxDtype: DType): Kernel {
  return { key: `gather:${dtype}:${idxDtype}`, code: () => gatherWgsl(dtype, idxDtype) };
}
