import jpeg from 'jpeg-js';

/** An RGB8 image, HWC. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * One view of a foresight tensor `[views, 3, size, size]` in [-1, 1] as RGB8 HWC: `(x + 1) · 127.5`,
 * rounded and clamped (the decoder may overshoot the range); NaN shows as black.
 */
export function foresightToRgb(images: Float32Array, views: number, size: number, view: number): RgbImage {
  const plane = size * size;
  if (images.length !== views * 3 * plane) {
    throw new Error(
      `foresight: images has ${images.length} values, expected views ${views} × 3 × ${size} × ${size} = ${views * 3 * plane}`,
    );
  }
  if (!(Number.isInteger(view) && view >= 0 && view < views)) {
    throw new Error(`foresight: view ${view} is not in [0, ${views})`);
  }
  const data = new Uint8Array(plane * 3);
  const base = view * 3 * plane;
  for (let c = 0; c < 3; c++) {
    const src = base + c * plane;
    for (let p = 0; p < plane; p++) {
      const v = Math.round((images[src + p] + 1) * 127.5);
      data[p * 3 + c] = v > 255 ? 255 : v >= 0 ? v : 0;
    }
  }
  return { width: size, height: size, data };
}

/** JPEG-encodes an RGB8 HWC image (jpeg-js takes RGBA; alpha is ignored). */
export function encodeJpeg(image: RgbImage, quality = 85): Uint8Array {
  const { width, height, data } = image;
  if (!(width > 0 && height > 0) || data.length !== width * height * 3) {
    throw new Error(
      `frame: ${data.length} bytes for ${width}×${height} RGB (expected ${width * height * 3})`,
    );
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0, q = 0; p < data.length; p += 3, q += 4) {
    rgba[q] = data[p];
    rgba[q + 1] = data[p + 1];
    rgba[q + 2] = data[p + 2];
    rgba[q + 3] = 255;
  }
  const out = jpeg.encode({ data: rgba, width, height }, quality).data;
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
