// Random-shift augmentation of the frames the vision tower sees (DrQ, Kostrikov et al. 2020): each
// view of each sample moves by a few whole pixels, the edge repeated into the gap. With a hundred
// scenes per task a vision tower trained from scratch otherwise learns the training scenes' exact
// pixels instead of where things are.
import type { RgbFrame } from '@vla/internvla-a1';
import type { CameraSlot, Sample } from '@vla/lerobot';
import type { TrainingSample } from './trainingData.js';

/**
 * A copy of `frame` moved right by `dx` and down by `dy` pixels (negative: left / up); the pixels
 * shifted in repeat the nearest edge row or column (replicate padding, then a crop back to size).
 */
export function shiftFrame(frame: RgbFrame, dx: number, dy: number): RgbFrame {
  const { width: W, height: H, data } = frame;
  if (data.length !== W * H * 3)
    throw new RangeError(`shiftFrame: ${data.length} bytes do not hold ${H}x${W} RGB pixels`);
  if (!Number.isInteger(dx) || !Number.isInteger(dy))
    throw new RangeError(`shiftFrame: shifts must be whole pixels, got (${dx}, ${dy})`);
  const out = new Uint8Array(data.length);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(H - 1, Math.max(0, y - dy));
    for (let x = 0; x < W; x++) {
      const sx = Math.min(W - 1, Math.max(0, x - dx));
      const o = (y * W + x) * 3;
      const i = (sy * W + sx) * 3;
      out[o] = data[i];
      out[o + 1] = data[i + 1];
      out[o + 2] = data[i + 2];
    }
  }
  return { width: W, height: H, data: out };
}

/** A uniform integer in [-pixels, pixels] from 32 random bits. */
const offset = (bits: number, pixels: number) => Math.floor((bits / 2 ** 32) * (2 * pixels + 1)) - pixels;

/**
 * The samples with the frame at image offset 0 (the one the vision tower reads) of every camera
 * shifted by its own random (dx, dy) in [-pixels, pixels]; the past and future frames (the
 * generation expert's) are left as recorded. `draw(row, view)` gives 32 random bits per global row
 * and view, so ranks that split a batch shift as one process would. The originals are not changed
 * (they may be the frame cache's).
 */
export function shiftCurrentFrames<T extends TrainingSample | Sample>(
  samples: readonly T[],
  pixels: number,
  draw: (row: number, view: number) => [number, number],
): T[] {
  if (pixels <= 0) return [...samples];
  return samples.map((x, row) => {
    const s: Sample = 'sample' in x ? x.sample : (x as Sample);
    const current = s.meta.imageOffsets.indexOf(0);
    const images: Sample['images'] = { ...s.images };
    Object.keys(s.images).forEach((key, view) => {
      const slot = key as CameraSlot;
      const frames = s.images[slot];
      const shape = s.meta.imageShapes[slot];
      const data = frames?.[current];
      if (!frames || !shape || !(data instanceof Uint8Array) || !s.imageMasks[slot]) return;
      const [bx, by] = draw(row, view);
      const moved = shiftFrame(
        { height: shape[0], width: shape[1], data },
        offset(bx, pixels),
        offset(by, pixels),
      );
      images[slot] = frames.map((f, t) => (t === current ? moved.data : f));
    });
    const shifted: Sample = { ...s, images };
    return ('sample' in x ? { ...x, sample: shifted } : shifted) as T;
  });
}
