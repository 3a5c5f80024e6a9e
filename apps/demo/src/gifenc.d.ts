// Types of the parts of gifenc (MIT, no bundled typings) that the demo uses.
declare module 'gifenc' {
  /** A colour table: `[r, g, b]` entries. */
  export type Palette = number[][];
  /** Reduces RGBA pixels to at most `maxColors` colours. */
  export function quantize(
    rgba: Uint8Array | Uint8ClampedArray,
    maxColors: number,
    options?: object,
  ): Palette;
  /** Index of the nearest palette colour for every RGBA pixel. */
  export function applyPalette(
    rgba: Uint8Array | Uint8ClampedArray,
    palette: Palette,
    format?: 'rgb565' | 'rgb444' | 'rgba4444',
  ): Uint8Array;
  /** Options of one frame. */
  export interface FrameOptions {
    palette?: Palette;
    delay?: number;
    repeat?: number;
    transparent?: boolean;
    transparentIndex?: number;
    dispose?: number;
    first?: boolean;
  }
  /** A GIF stream. */
  export interface Encoder {
    writeFrame(index: Uint8Array, width: number, height: number, options?: FrameOptions): void;
    finish(): void;
    bytes(): Uint8Array;
  }
  /** Starts a GIF stream (header and global palette written with the first frame). */
  export function GIFEncoder(options?: { auto?: boolean; initialCapacity?: number }): Encoder;
}
