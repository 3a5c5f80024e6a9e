// The rollout GIF decodes (with another library) to the frames that went in: count, size, delay and
// pixels (a frame with few colours survives the palette exactly).
import { describe, expect, it } from 'vitest';
import { rolloutGif, type RgbFrame } from '../src/rolloutGif.js';
import { decodeGif } from './gifDecode.js';

/** A w×h frame: left half `a`, right half `b`, one pixel at (x, y) `c`. */
function frame(w: number, h: number, a: number[], b: number[], at: [number, number], c: number[]): RgbFrame {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const col = x === at[0] && y === at[1] ? c : x < w / 2 ? a : b;
      data.set(col, 3 * (y * w + x));
    }
  return { width: w, height: h, data };
}

describe('rolloutGif', () => {
  it('encodes every frame, in order, with its pixels and delay', () => {
    const frames = [
      frame(10, 6, [255, 0, 0], [0, 0, 255], [1, 1], [0, 255, 0]),
      frame(10, 6, [0, 0, 255], [255, 255, 0], [8, 4], [255, 255, 255]),
      frame(10, 6, [20, 40, 60], [200, 100, 0], [5, 0], [0, 0, 0]),
    ];
    const gif = decodeGif(rolloutGif(frames, 100));
    expect(gif).toMatchObject({ width: 10, height: 6 });
    expect(gif.frames).toHaveLength(3);
    expect(gif.delays).toEqual([10, 10, 10]);
    gif.frames.forEach((rgba, i) => {
      for (let p = 0; p < 60; p++)
        expect([rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]]).toEqual([
          ...frames[i].data.subarray(3 * p, 3 * p + 3),
        ]);
    });
  });

  it('refuses no frames, mixed sizes and short data, naming the frame', () => {
    const f = frame(4, 4, [0, 0, 0], [1, 1, 1], [0, 0], [2, 2, 2]);
    expect(() => rolloutGif([], 50)).toThrow('rolloutGif: no frames');
    expect(() => rolloutGif([f, frame(5, 4, [0, 0, 0], [1, 1, 1], [0, 0], [2, 2, 2])], 50)).toThrow(
      'frame 1 is 5×4, frame 0 is 4×4',
    );
    expect(() => rolloutGif([{ ...f, data: f.data.subarray(1) }], 50)).toThrow('frame 0 has 47 bytes');
  });
});
