// Casts that the elementwise template cannot express: writing packed u8 (four elements per u32
// word, one thread per word so no two threads touch a word). Reading u8 is handled by the
// elementwise template's u8 loader, so u8 → f32/i32/u32 casts go through it.
import type { DType } from '../dtype.js';
import type { Kernel } from '../runtime/engine.js';
import { Tensor, shapeSize } from '../tensor.js';
import { computeType, enableF16, storageType } from './elementwise.js';
import { MAX_RANK, coalesce, fmtShape, unravelWgsl } from './shape.js';
import { linearIndexWgsl, uniformBlock } from './uniforms.js';

const WG = 256;

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

/** WGSL of the u8 pack kernel reading `src` (floats round to nearest and saturate to 0..255). */
export function packU8Wgsl(src: DType): string {
  const ct = computeType(src);
  let load: string;
  if (src === 'u8') load = `fn load(e: u32) -> u32 { return (src[e / 4u] >> ((e % 4u) * 8u)) & 255u; }`;
  else if (ct === 'f32') load = `fn load(e: u32) -> u32 { return u32(clamp(round(f32(src[e])), 0.0, 255.0)); }`;
  else if (ct === 'i32') load = `fn load(e: u32) -> u32 { return u32(clamp(src[e], 0i, 255i)); }`;
  else load = `fn load(e: u32) -> u32 { return min(src[e], 255u); }`;
  return `${enableF16([src])}@group(0) @binding(0) var<storage, read> src: array<${storageType(src)}>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
${packUniforms().wgsl(2)}
${linearIndexWgsl(WG)}
${load}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = linearIndex(wid, lid, nwg);
  if (w * 4u >= u.n) { return; }
  var word = 0u;
  for (var j = 0u; j < 4u; j++) {
    let e = w * 4u + j;
    if (e < u.n) {
      var o = u.off;
${unravelWgsl('e', 'u.rank', 'shape', [{ off: 'o', strides: 'st' }])}
      word = word | (load(o) << (8u * j));
    }
  }
  out[w] = word;
}`;
}

/** The u8 pack kernel for a source dtype. */
export function packU8Kernel(src: DType): Kernel {
  return { key: `packU8:${src}`, code: () => packU8Wgsl(src) };
}

/** Casts (or copies) any tensor view to a new contiguous u8 tensor. */
export function launchPackU8(x: Tensor): Tensor {
  const out = Tensor.empty(x.shape, 'u8', x.engine);
  const n = shapeSize(x.shape);
  if (n === 0) return out;
  const co = coalesce(x.shape, [x.strides]);
  if (co.shape.length > MAX_RANK) throw new Error(`cast: layout of ${fmtShape(x.shape)} is too deep for the u8 pack kernel`);
  const u = packUniforms({ n, rank: co.shape.length, off: x.offset, shape: co.shape, strides: co.strides[0] });
  x.engine.dispatch({
    kernel: packU8Kernel(x.dtype),
    label: `cast ${fmtShape(x.shape)} ${x.dtype}->u8`,
    storage: [
      { buffer: x.buffer, readOnly: true },
      { buffer: out.buffer, readOnly: false },
    ],
    uniforms: u.data,
    workgroups: x.engine.grid(Math.ceil(n / 4 / WG)),
  });
  return out;
}
