// Camera frames arrive as RGB8, height × width × 3 (HWC), four bytes to a u32 word. One thread per
// output value reads its box of bytes straight from the packed words and writes planar f32 (NCHW):
// the layout change, the widening and a box downscale in one pass, instead of a cast and a strided
// copy of every input byte (which on a CPU Vulkan driver costs ~100 ns per byte).
import type { Kernel } from '../runtime/engine.js';
import { Tensor } from '../tensor.js';
import { linearIndexWgsl, uniformBlock } from './uniforms.js';

const WG = 256;

/** Geometry of one {@link launchRgbToPlanar} call. */
export interface RgbToPlanarGeometry {
  /** Frames. */
  n: number;
  /** Input rows and columns. */
  h: number;
  w: number;
  /** Box side (1 = no downscale); the output is ⌊h/box⌋ × ⌊w/box⌋. */
  box: number;
}

function rgbUniforms(g?: RgbToPlanarGeometry & { offsetBytes: number }) {
  const oh = g ? Math.floor(g.h / g.box) : 0;
  const ow = g ? Math.floor(g.w / g.box) : 0;
  return uniformBlock([
    { name: 'total', type: 'u32', value: g ? g.n * 3 * oh * ow : 0 },
    { name: 'h', type: 'u32', value: g?.h ?? 0 },
    { name: 'w', type: 'u32', value: g?.w ?? 0 },
    { name: 'box', type: 'u32', value: g?.box ?? 1 },
    { name: 'oh', type: 'u32', value: oh },
    { name: 'ow', type: 'u32', value: ow },
    { name: 'off', type: 'u32', value: g?.offsetBytes ?? 0 },
    { name: 'scale', type: 'f32', value: g ? 1 / (g.box * g.box) : 1 },
  ]);
}

const rgbToPlanarKernel: Kernel = {
  key: 'rgb8-to-planar',
  code: () => `@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${rgbUniforms().wgsl(2)}
${linearIndexWgsl(WG)}
fn byte_at(i: u32) -> u32 { return (src[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu; }
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = linearIndex(wid, lid, nwg);
  if (e >= u.total) { return; }
  let ox = e % u.ow;
  let oy = (e / u.ow) % u.oh;
  let c = (e / (u.ow * u.oh)) % 3u;
  let n = e / (u.ow * u.oh * 3u);
  var sum = 0.0;
  for (var dy = 0u; dy < u.box; dy++) {
    let row = (n * u.h + oy * u.box + dy) * u.w + ox * u.box;
    for (var dx = 0u; dx < u.box; dx++) {
      sum += f32(byte_at(u.off + (row + dx) * 3u + c));
    }
  }
  out[e] = sum * u.scale;
}`,
};

/** `x` u8 `[n, h, w, 3]` (contiguous) → f32 `[n, 3, ⌊h/box⌋, ⌊w/box⌋]`, box means of the byte values. */
export function launchRgbToPlanar(x: Tensor, g: RgbToPlanarGeometry, label: string): Tensor {
  const oh = Math.floor(g.h / g.box);
  const ow = Math.floor(g.w / g.box);
  const out = Tensor.empty([g.n, 3, oh, ow], 'f32', x.engine);
  const total = g.n * 3 * oh * ow;
  if (total === 0) return out;
  const u = rgbUniforms({ ...g, offsetBytes: x.offset });
  x.engine.dispatch({
    kernel: rgbToPlanarKernel,
    label,
    storage: [
      { buffer: x.buffer, readOnly: true },
      { buffer: out.buffer, readOnly: false },
    ],
    uniforms: u.data,
    workgroups: x.engine.grid(Math.ceil(total / WG)),
  });
  return out;
}
