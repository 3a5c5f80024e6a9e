// Reads a GIF back with omggif (an independent decoder) for the tests.
import { GifReader } from 'omggif';

/** A decoded GIF: its size and every frame as RGBA. */
export interface DecodedGif {
  width: number;
  height: number;
  frames: Uint8Array[];
  /** Frame delays in hundredths of a second. */
  delays: number[];
}

/** Decodes every frame of `bytes`. */
export function decodeGif(bytes: Uint8Array): DecodedGif {
  const reader = new GifReader(Buffer.from(bytes));
  const frames: Uint8Array[] = [];
  const delays: number[] = [];
  for (let i = 0; i < reader.numFrames(); i++) {
    const rgba = new Uint8Array(reader.width * reader.height * 4);
    reader.decodeAndBlitFrameRGBA(i, rgba);
    frames.push(rgba);
    delays.push(reader.frameInfo(i).delay);
  }
  return { width: reader.width, height: reader.height, frames, delays };
}
