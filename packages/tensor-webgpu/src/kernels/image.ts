// Camera frames arrive as RGB8, height × width × 3 (HWC), four bytes to a u32 word. One thread per
// output value reads its box of bytes straight from the packed words and writes planar f32 (NCHW):
// the layout change, the widening and a box downscale in one pass, instead of a cast and a strided
// copy of every input byte (which on a CPU Vulkan driver costs ~100 ns per byte).
import { cpuRgbToPlanar } from '../cpu/image.js';
import { Tensor } from '../tensor.js';
import { wgslProgram } from './program.js';

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

/** RGB8 HWC frames (bytes packed four to a u32 word) → planar f32 box means. */
const rgbToPlanarProgram = wgslProgram({
  name: 'rgb8-to-planar',
  bindings: (_p: Record<string, never>) => ({
    src: { access: 'read' as const, type: 'u32' },
    out: { access: 'read_write' as const, type: 'f32' },
  }),
  uniforms: { total: 'u32', h: 'u32', w: 'u32', box: 'u32', oh: 'u32', ow: 'u32', off: 'u32', scale: 'f32' },
  workgroupSize: () => WG,
  body: (
    _p,
    { workgroupSize },
  ) => `fn byte_at(i: u32) -> u32 { return (src[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu; }
@compute @workgroup_size(${workgroupSize})
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
});

/** `x` u8 `[n, h, w, 3]` (contiguous) → f32 `[n, 3, ⌊h/box⌋, ⌊w/box⌋]`, box means of the byte values. */
export function launchRgbToPlanar(x: Tensor, g: RgbToPlanarGeometry, label: string): Tensor {
  const oh = Math.floor(g.h / g.box);
  const ow = Math.floor(g.w / g.box);
  const out = Tensor.empty([g.n, 3, oh, ow], 'f32', x.engine);
  const total = g.n * 3 * oh * ow;
  if (total === 0) return out;
  if (x.engine.kind === 'cpu') {
    cpuRgbToPlanar(x.engine, x, g, out, label);
    return out;
  }
  const engine = x.engine;
  rgbToPlanarProgram.dispatch(
    engine,
    {},
    {
      label,
      buffers: { src: x.buffer, out: out.buffer },
      uniforms: { total, h: g.h, w: g.w, box: g.box, oh, ow, off: x.offset, scale: 1 / (g.box * g.box) },
      workgroups: engine.grid(Math.ceil(total / WG)),
    },
  );
  return out;
}
