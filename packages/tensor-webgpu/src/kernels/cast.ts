// Casts that the elementwise template cannot express: writing dtypes packed several to a u32 word
// (u8: four, and f16 on devices without shader-f16: two). One thread writes one whole word, so no
// two threads touch a word. Reading packed dtypes is handled by the shared element loader, so the
// elementwise template casts *from* them.
import type { Kernel } from '../runtime/engine.js';
import { Tensor, shapeSize } from '../tensor.js';
import { elementLoaderWgsl, enableF16, storageDType, storageType, type StorageDType } from './elementwise.js';
import { MAX_RANK, coalesce, fmtShape, unravelWgsl } from './shape.js';
import { linearIndexWgsl, uniformBlock } from './uniforms.js';

const WG = 256;

// Half bits of an f32, rounded to nearest even like the host's toHalfBits. pack2x16float is
// undefined outside the finite half range, so overflow (to ±Inf) and NaN are handled here.
export const HALF_BITS_WGSL = `fn half_bits(x: f32) -> u32 {
  if (x != x) { return 0x7e00u; }
  let sign = select(0u, 0x8000u, x < 0.0);
  if (abs(x) >= 65520.0) { return sign | 0x7c00u; }
  return pack2x16float(vec2<f32>(x, 0.0)) & 0xffffu;
}`;

/** A dtype written packed into u32 words. */
export type PackedDType = 'u8' | 'f16';

function packUniforms(values?: { n: number; rank: number; off: number; shape: number[]; strides: number[] }) {
  return uniformBlock(
    [
      { name: 'n', type: 'u32', value: values?.n ?? 0 },
      { name: 'rank', type: 'u32', value: values?.rank ?? 0 },
      { name: 'off', type: 'u32', value: values?.off ?? 0 },
    ],
    [
      { name: 'shape', length: MAX_RANK, values: values?.shape ?? [] },
      { name: 'st', length: MAX_RANK, values: values?.strides ?? [] },
    ],
  );
}

/**
 * WGSL of the pack kernel reading `src` and writing `dst` words. u8: floats round to nearest and
 * saturate to 0..255; f16: round to nearest, overflow gives ±Inf (as the host's conversion does).
 */
export function packWgsl(src: StorageDType, dst: PackedDType): string {
  const per = dst === 'u8' ? 4 : 2;
  const read = elementLoaderWgsl('load_src', 'src', src);
  let convert: string;
  if (dst === 'f16') convert = `${HALF_BITS_WGSL}\nfn convert(e: u32) -> u32 { return half_bits(f32(load_src(e))); }`;
  else if (src === 'u8') convert = 'fn convert(e: u32) -> u32 { return load_src(e); }';
  else if (src === 'f32' || src === 'f16' || src === 'f16p') convert = 'fn convert(e: u32) -> u32 { return u32(clamp(round(load_src(e)), 0.0, 255.0)); }';
  else if (src === 'i32') convert = 'fn convert(e: u32) -> u32 { return u32(clamp(load_src(e), 0i, 255i)); }';
  else convert = 'fn convert(e: u32) -> u32 { return min(load_src(e), 255u); }';
  const bits = dst === 'u8' ? 8 : 16;
  return `${enableF16([src])}@group(0) @binding(0) var<storage, read> src: array<${storageType(src)}>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
${packUniforms().wgsl(2)}
${linearIndexWgsl(WG)}
${read}
${convert}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = linearIndex(wid, lid, nwg);
  if (w * ${per}u >= u.n) { return; }
  var word = 0u;
  for (var j = 0u; j < ${per}u; j++) {
    let e = w * ${per}u + j;
    if (e < u.n) {
      var o = u.off;
${unravelWgsl('e', 'u.rank', 'shape', [{ off: 'o', strides: 'st' }])}
      word = word | (convert(o) << (${bits}u * j));
    }
  }
  out[w] = word;
}`;
}

/** The pack kernel for a source storage and packed destination. */
export function packKernel(src: StorageDType, dst: PackedDType): Kernel {
  return { key: `pack:${src}>${dst}`, code: () => packWgsl(src, dst) };
}

/** Casts (or copies) any tensor view to a new contiguous tensor of a packed dtype. */
export function launchPack(x: Tensor, dst: PackedDType): Tensor {
  const out = Tensor.empty(x.shape, dst, x.engine);
  const n = shapeSize(x.shape);
  if (n === 0) return out;
  const per = dst === 'u8' ? 4 : 2;
  const co = coalesce(x.shape, [x.strides]);
  if (co.shape.length > MAX_RANK) throw new Error(`cast: layout of ${fmtShape(x.shape)} is too deep for the ${dst} pack kernel`);
  const u = packUniforms({ n, rank: co.shape.length, off: x.offset, shape: co.shape, strides: co.strides[0] });
  x.engine.dispatch({
    kernel: packKernel(storageDType(x), dst),
    label: `cast ${fmtShape(x.shape)} ${x.dtype}->${dst}`,
    storage: [
      { buffer: x.buffer, readOnly: true },
      { buffer: out.buffer, readOnly: false },
    ],
    uniforms: u.data,
    workgroups: x.engine.grid(Math.ceil(n / per / WG)),
  });
  return out;
}
