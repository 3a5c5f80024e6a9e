// An animated GIF of a rollout, encoded with gifenc: frames are RGB8 camera images, so each gets its
// own palette (a scene's colours change little, but a global palette from the first frame would miss
// objects that only come into view later).
import { createRequire } from 'node:module';

// gifenc's Node entry is CommonJS with getter exports that Node's ESM loader cannot name, and its ESM
// build (which bundlers pick) has another default export: require the CommonJS entry everywhere.
const { GIFEncoder, applyPalette, quantize } = createRequire(import.meta.url)(
  'gifenc',
) as typeof import('gifenc');

/** One frame of a rollout: RGB bytes, row-major (robot-core's `CameraFrame` fits). */
export interface RgbFrame {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Encodes `frames` (all the same size) as a looping GIF, `delayMs` per frame. Throws on an empty list,
 * frames of different sizes, or a frame whose data is not `width × height × 3` bytes.
 */
export function rolloutGif(frames: readonly RgbFrame[], delayMs: number): Uint8Array {
  if (frames.length === 0) throw new Error('rolloutGif: no frames');
  const { width, height } = frames[0];
  const gif = GIFEncoder();
  const rgba = new Uint8Array(width * height * 4);
  frames.forEach((f, i) => {
    if (f.width !== width || f.height !== height)
      throw new Error(`rolloutGif: frame ${i} is ${f.width}×${f.height}, frame 0 is ${width}×${height}`);
    if (f.data.length !== width * height * 3)
      throw new Error(`rolloutGif: frame ${i} has ${f.data.length} bytes, expected ${width}×${height}×3`);
    for (let p = 0, q = 0; p < width * height; p++, q += 3) {
      rgba[4 * p] = f.data[q];
      rgba[4 * p + 1] = f.data[q + 1];
      rgba[4 * p + 2] = f.data[q + 2];
      rgba[4 * p + 3] = 255;
    }
    const palette = quantize(rgba, 256);
    gif.writeFrame(applyPalette(rgba, palette), width, height, { palette, delay: delayMs });
  });
  gif.finish();
  return gif.bytes();
}
