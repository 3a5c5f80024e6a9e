import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';

/** An RGB8 image, row-major HWC. */
export interface RgbImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `width * height * 3` bytes. */
  readonly data: Uint8Array;
}

/** sensor_msgs/CompressedImage as rosbridge delivers it (`data` base64 in JSON, bytes in CBOR). */
export interface RosCompressedImage {
  /** e.g. `jpeg`, `png`, `rgb8; jpeg compressed bgr8`. */
  readonly format: string;
  /** Encoded bytes. */
  readonly data: string | ArrayLike<number>;
}

/** sensor_msgs/Image as rosbridge delivers it. */
export interface RosRawImage {
  readonly height: number;
  readonly width: number;
  /** `rgb8`, `bgr8`, `rgba8`, `bgra8`, `mono8` or `mono16`. */
  readonly encoding: string;
  /** 1 when 16-bit values are big-endian. */
  readonly is_bigendian?: number | boolean;
  /** Bytes per row (≥ width × bytes per pixel). */
  readonly step: number;
  /** Pixel bytes. */
  readonly data: string | ArrayLike<number>;
}

/** Decode base64 to bytes (Buffer in Node, atob in browsers). */
export function decodeBase64(s: string): Uint8Array {
  const B = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;
  if (B) {
    const b = B.from(s, 'base64');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The bytes of a uint8[] field, whatever rosbridge made of it. */
export function messageBytes(data: string | ArrayLike<number>): Uint8Array {
  if (typeof data === 'string') return decodeBase64(data);
  if (data instanceof Uint8Array) return data;
  return Uint8Array.from(data as ArrayLike<number>);
}

const isJpeg = (b: Uint8Array, o: number) =>
  b.length > o + 2 && b[o] === 0xff && b[o + 1] === 0xd8 && b[o + 2] === 0xff;
const isPng = (b: Uint8Array, o: number) =>
  b.length > o + 7 && b[o] === 0x89 && b[o + 1] === 0x50 && b[o + 2] === 0x4e && b[o + 3] === 0x47;

/**
 * Decode a CompressedImage (JPEG or PNG, detected from the bytes, not the `format` string) to RGB8.
 * JPEG and PNG produced by image_transport are ordinary RGB files whatever the `format` says about the
 * source encoding. PNGs may be gray, gray+alpha, RGB or RGBA, 8 or 16 bit (16 bit keeps the high byte);
 * `compressedDepth` PNGs (12-byte header) decode as gray. Throws naming the format on anything else.
 */
export function decodeCompressedImage(msg: RosCompressedImage): RgbImage {
  const bytes = messageBytes(msg.data);
  if (isJpeg(bytes, 0)) {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
    return { width: img.width, height: img.height, data: img.data };
  }
  const offset = isPng(bytes, 0) ? 0 : isPng(bytes, 12) ? 12 : -1;
  if (offset >= 0) {
    const png = decodePng(offset ? bytes.subarray(offset) : bytes);
    if (png.palette || png.depth < 8)
      throw new Error(`CompressedImage (${msg.format}): indexed or sub-byte PNG is not supported`);
    return toRgb(png.width, png.height, png.channels, png.depth === 16 ? 2 : 1, png.data, false);
  }
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new Error(`CompressedImage (format "${msg.format}"): neither JPEG nor PNG (first bytes ${head})`);
}

const RAW: Record<string, { channels: number; bytes: 1 | 2; bgr: boolean }> = {
  rgb8: { channels: 3, bytes: 1, bgr: false },
  bgr8: { channels: 3, bytes: 1, bgr: true },
  rgba8: { channels: 4, bytes: 1, bgr: false },
  bgra8: { channels: 4, bytes: 1, bgr: true },
  mono8: { channels: 1, bytes: 1, bgr: false },
  '8UC1': { channels: 1, bytes: 1, bgr: false },
  mono16: { channels: 1, bytes: 2, bgr: false },
  '16UC1': { channels: 1, bytes: 2, bgr: false },
};

/** Decode a raw sensor_msgs/Image (rgb8, bgr8, rgba8, bgra8, mono8, mono16) to RGB8, honouring `step` padding. */
export function decodeRawImage(msg: RosRawImage): RgbImage {
  const f = RAW[msg.encoding];
  if (!f)
    throw new Error(
      `Image: encoding "${msg.encoding}" is not supported (rgb8, bgr8, rgba8, bgra8, mono8, mono16)`,
    );
  const { width, height, step } = msg;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new Error(`Image: bad size ${width}x${height}`);
  }
  if (step < width * f.channels * f.bytes)
    throw new Error(`Image (${msg.encoding}): step ${step} < ${width} × ${f.channels * f.bytes} bytes`);
  const bytes = messageBytes(msg.data);
  if (bytes.length < step * height)
    throw new Error(
      `Image (${msg.encoding} ${width}x${height}): ${bytes.length} bytes < step ${step} × ${height}`,
    );
  const img = toRgbRows(width, height, f.channels, f.bytes, bytes, step, Boolean(msg.is_bigendian));
  if (f.bgr) for (let i = 0; i < img.length; i += 3) [img[i], img[i + 2]] = [img[i + 2], img[i]];
  return { width, height, data: img };
}

function toRgb(
  width: number,
  height: number,
  channels: number,
  bytesPerSample: 1 | 2,
  data: Uint8Array | Uint8ClampedArray | Uint16Array,
  bigEndian: boolean,
): RgbImage {
  if (data instanceof Uint16Array) {
    // fast-png returns 16-bit samples as numbers: keep the high byte.
    const out = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) {
      for (let c = 0; c < 3; c++) out[p * 3 + c] = data[p * channels + (channels >= 3 ? c : 0)] >> 8;
    }
    return { width, height, data: out };
  }
  const bytes =
    data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    width,
    height,
    data: toRgbRows(
      width,
      height,
      channels,
      bytesPerSample,
      bytes,
      width * channels * bytesPerSample,
      bigEndian,
    ),
  };
}

// Packed rows of `channels` samples (1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA) → RGB8.
function toRgbRows(
  width: number,
  height: number,
  channels: number,
  bytesPerSample: 1 | 2,
  src: Uint8Array,
  step: number,
  bigEndian: boolean,
): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const hi = bytesPerSample === 2 && !bigEndian ? 1 : 0; // byte holding the most significant half
  for (let y = 0; y < height; y++) {
    const row = y * step;
    for (let x = 0; x < width; x++) {
      const px = row + x * channels * bytesPerSample;
      const o = (y * width + x) * 3;
      if (channels >= 3) {
        for (let c = 0; c < 3; c++) out[o + c] = src[px + c * bytesPerSample + hi];
      } else {
        const g = src[px + hi];
        out[o] = out[o + 1] = out[o + 2] = g;
      }
    }
  }
  return out;
}
