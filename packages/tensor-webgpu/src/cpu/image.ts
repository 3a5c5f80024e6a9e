// CPU launchers of the image family: avgPool2d, resize (forward and backward) and RGB8 frames to
// planar f32. The launchers in src/kernels/{pool,resize,image}.ts compute the geometry and call
// these. f16 is storage only on this engine, so pooling and resizing refuse it.
import { halfStorageOnlyMessage } from '../dtype.js';
import type { RgbToPlanarGeometry } from '../kernels/image.js';
import type { PoolGeometry } from '../kernels/pool.js';
import { resizeScale, type ResizeGeometry, type ResizeMode } from '../kernels/resize.js';
import type { DeviceBuffer } from '../runtime/backend.js';
import type { Tensor } from '../tensor.js';
import { addressOf, cpuBuffer, type CpuEngine } from './cpuEngine.js';
import { imgAvgPool, imgResize, imgRgbToPlanar } from './programs/image.js';

const MODE: Record<ResizeMode, number> = { nearest: 0, bilinear: 1, 'bilinear-align': 2 };

/** avgPool2d forward (x → y) or backward (dy → dx) over f32 planes; `input.offset` is in elements. */
export function cpuAvgPool(
  engine: CpuEngine,
  dtype: 'f32' | 'f16',
  backward: boolean,
  g: PoolGeometry,
  input: { buffer: DeviceBuffer; offset: number },
  out: DeviceBuffer,
  label: string,
): void {
  if (dtype === 'f16') throw new Error(halfStorageOnlyMessage(label));
  const outputs = g.planes * (backward ? g.h * g.w : g.ho * g.wo);
  engine.run(
    imgAvgPool,
    {
      x: cpuBuffer(input.buffer).ptr + input.offset * 4,
      y: cpuBuffer(out).ptr,
      ...g,
      backward: backward ? 1 : 0,
    },
    // Each output reads about one window.
    { label, work: outputs * Math.max(1, Math.ceil((g.kh * g.kw) / (backward ? g.sh * g.sw : 1))) },
  );
}

/** Resize forward (x → y) or backward (dy → dx) over f32 planes; `input.offset` is in elements. */
export function cpuResize(
  engine: CpuEngine,
  mode: ResizeMode,
  dtype: 'f32' | 'f16',
  backward: boolean,
  g: ResizeGeometry,
  input: { buffer: DeviceBuffer; offset: number },
  out: DeviceBuffer,
  label: string,
): void {
  if (dtype === 'f16') throw new Error(halfStorageOnlyMessage(label));
  const outputs = g.planes * (backward ? g.inH * g.inW : g.outH * g.outW);
  engine.run(
    imgResize,
    {
      x: cpuBuffer(input.buffer).ptr + input.offset * 4,
      y: cpuBuffer(out).ptr,
      planes: g.planes,
      in_h: g.inH,
      in_w: g.inW,
      out_h: g.outH,
      out_w: g.outW,
      mode: MODE[mode],
      backward: backward ? 1 : 0,
      scale_h: resizeScale(mode, g.inH, g.outH),
      scale_w: resizeScale(mode, g.inW, g.outW),
    },
    // The backward re-evaluates the weights of a few candidate outputs per input.
    { label, work: outputs * (backward ? 40 : 8) },
  );
}

/** RGB8 frames `x` (u8 [n, h, w, 3], contiguous) → `out` (f32 [n, 3, ⌊h/box⌋, ⌊w/box⌋]). */
export function cpuRgbToPlanar(
  engine: CpuEngine,
  x: Tensor,
  g: RgbToPlanarGeometry,
  out: Tensor,
  label: string,
): void {
  const oh = Math.floor(g.h / g.box);
  const ow = Math.floor(g.w / g.box);
  engine.run(
    imgRgbToPlanar,
    {
      src: addressOf(x),
      out: addressOf(out),
      n: g.n,
      h: g.h,
      w: g.w,
      box: g.box,
      oh,
      ow,
      scale: 1 / (g.box * g.box),
    },
    { label, work: g.n * 3 * oh * ow * g.box * g.box },
  );
}
