import { encode } from 'fast-png';
import { ReportError } from './reportError';

/** Smallest tile edge in pixels: small frames (e.g. 32×32) are upscaled by a whole factor to at least this. */
export const FORESIGHT_MIN_TILE = 128;

/** Width in pixels of the white lines between the tiles. */
export const FORESIGHT_SEPARATOR = 2;

/** Where the tiles of a foresight image lie (see {@link foresightPng}). */
export interface ForesightLayout {
  /** Whole-number upscale factor (nearest neighbour). */
  scale: number;
  /** Tile edge in pixels: `size · scale`. */
  tile: number;
  /** Image width: two tiles and a separator. */
  width: number;
  /** Image height: `views` tiles with separators between them. */
  height: number;
}

/** The layout {@link foresightPng} uses for `views` frames of `size × size`. */
export function foresightLayout(views: number, size: number): ForesightLayout {
  const scale = Math.max(1, Math.ceil(FORESIGHT_MIN_TILE / size));
  const tile = size * scale;
  return {
    scale,
    tile,
    width: 2 * tile + FORESIGHT_SEPARATOR,
    height: views * tile + (views - 1) * FORESIGHT_SEPARATOR,
  };
}

/**
 * A PNG comparing predicted and real future frames: one row per camera view, the predicted t+15 frame
 * on the left and the real one on the right, each upscaled (nearest neighbour) to at least
 * {@link FORESIGHT_MIN_TILE} pixels, with white {@link FORESIGHT_SEPARATOR}-pixel lines between tiles.
 *
 * @param predicted - `[views, 3, size, size]` RGB in [-1, 1] (the decoded foresight).
 * @param real - `[views, 3, size, size]` RGB in [-1, 1] (the frame that happened).
 * @returns 8-bit RGB PNG bytes; a value x becomes round((x + 1) · 127.5), clamped to [0, 255]; NaN is 0.
 */
export function foresightPng(
  predicted: Float32Array,
  real: Float32Array,
  views: number,
  size: number,
): Uint8Array {
  if (!Number.isInteger(views) || views < 1)
    throw new ReportError(`foresightPng: views must be a positive integer, got ${views}`);
  if (!Number.isInteger(size) || size < 1)
    throw new ReportError(`foresightPng: size must be a positive integer, got ${size}`);
  const want = views * 3 * size * size;
  for (const [name, a] of [
    ['predicted', predicted],
    ['real', real],
  ] as const) {
    if (a.length !== want) {
      throw new ReportError(
        `foresightPng: ${name} has ${a.length} values, expected [${views}, 3, ${size}, ${size}] = ${want}`,
      );
    }
  }
  const { scale, tile, width, height } = foresightLayout(views, size);
  const out = new Uint8Array(width * height * 3).fill(255);
  const plane = size * size;
  const toByte = (x: number): number => (x >= -1 ? (x <= 1 ? Math.round((x + 1) * 127.5) : 255) : 0);
  for (let v = 0; v < views; v++) {
    const y0 = v * (tile + FORESIGHT_SEPARATOR);
    for (let col = 0; col < 2; col++) {
      const src = col === 0 ? predicted : real;
      const x0 = col * (tile + FORESIGHT_SEPARATOR);
      const base = v * 3 * plane;
      for (let y = 0; y < tile; y++) {
        const sy = Math.floor(y / scale);
        let o = ((y0 + y) * width + x0) * 3;
        for (let x = 0; x < tile; x++, o += 3) {
          const s = base + sy * size + Math.floor(x / scale);
          out[o] = toByte(src[s]);
          out[o + 1] = toByte(src[s + plane]);
          out[o + 2] = toByte(src[s + 2 * plane]);
        }
      }
    }
  }
  return encode({
    width,
    height,
    data: out,
    channels: 3,
    depth: 8,
    text: { Description: `visual foresight: ${views} view(s), columns predicted t+15 | real t+15` },
  });
}
