// Pixels onto 2D canvases: camera frames (RGB8, row-major) and the policy's decoded foresight
// (CHW floats in [-1, 1]), views side by side.
import type { CameraFrame } from '@vla/robot-core';

/** Draws an RGB8 frame into `canvas`, resizing the canvas to the frame. */
export function drawFrame(canvas: HTMLCanvasElement, frame: CameraFrame): void {
  const { width, height, data } = frame;
  canvas.width = width;
  canvas.height = height;
  const image = new ImageData(width, height);
  for (let k = 0; k < width * height; k++) {
    image.data[4 * k] = data[3 * k];
    image.data[4 * k + 1] = data[3 * k + 1];
    image.data[4 * k + 2] = data[3 * k + 2];
    image.data[4 * k + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(image, 0, 0);
}

/** Draws `[views, 3, size, size]` images in [-1, 1] into `canvas`, the views left to right. */
export function drawForesight(
  canvas: HTMLCanvasElement,
  images: Float32Array,
  views: number,
  size: number,
): void {
  if (images.length !== views * 3 * size * size)
    throw new Error(`drawForesight: ${images.length} values for ${views} views of 3×${size}×${size}`);
  canvas.width = views * size;
  canvas.height = size;
  const image = new ImageData(views * size, size);
  const plane = size * size;
  for (let v = 0; v < views; v++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const at = 4 * (y * views * size + v * size + x);
        for (let c = 0; c < 3; c++) {
          const value = images[(v * 3 + c) * plane + y * size + x];
          image.data[at + c] = Math.round(((Math.max(-1, Math.min(1, value)) + 1) / 2) * 255);
        }
        image.data[at + 3] = 255;
      }
  canvas.getContext('2d')!.putImageData(image, 0, 0);
}
