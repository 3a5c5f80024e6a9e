import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { assertPngInflatesWithin, readEncodedImageInfo, type EncodedImageInfo } from './imageHeader.js';

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

/**
 * Caps checked against an image's header before any pixel is decoded. `maxDecodedBytes` bounds what
 * decoding allocates, estimated as the decoder's samples (PNG width·height·channels·bytes per sample,
 * JPEG width·height·components, raw step·height) plus the RGB8 output; it also caps the encoded size.
 */
export interface ImageLimits {
  /** Largest accepted width in pixels. */
  readonly maxWidth: number;
  /** Largest accepted height in pixels. */
  readonly maxHeight: number;
  /** Largest accepted decoding footprint in bytes (see above). */
  readonly maxDecodedBytes: number;
}

/** Caps used when none are given: 4096×4096 and 128 MiB. */
export const DEFAULT_IMAGE_LIMITS: ImageLimits = Object.freeze({
  maxWidth: 4096,
  maxHeight: 4096,
  maxDecodedBytes: 128 * 1024 * 1024,
});

/** A CompressedImage whose bytes and header passed {@link checkCompressedImage}. */
export interface CheckedCompressedImage {
  /** The encoded bytes. */
  readonly bytes: Uint8Array;
  /** What the header says. */
  readonly info: EncodedImageInfo;
}

// Decoded length of a base64 string, known before decoding it.
const base64Bytes = (s: string) => {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return Math.floor(((s.length - pad) * 3) / 4);
};

function dataLength(data: unknown, what: string): number {
  if (typeof data === 'string') return base64Bytes(data);
  if (data instanceof Uint8Array || Array.isArray(data)) return data.length;
  throw new Error(`${what}: data is ${data === null ? 'null' : typeof data}, not base64 or bytes`);
}

function checkSize(what: string, width: number, height: number, decoded: number, limits: ImageLimits): void {
  if (width > limits.maxWidth || height > limits.maxHeight)
    throw new Error(`${what}: ${width}x${height} exceeds the cap ${limits.maxWidth}x${limits.maxHeight}`);
  if (decoded > limits.maxDecodedBytes)
    throw new Error(
      `${what}: decoding ${width}x${height} needs ${decoded} bytes, cap ${limits.maxDecodedBytes}`,
    );
}

/**
 * Check a CompressedImage without decoding pixels: the encoded size (from the base64 length, before
 * decoding it), the JPEG/PNG header, and the header's size against `limits`. Returns the bytes and
 * header; throws an Error naming the format and the offending value.
 */
export function checkCompressedImage(
  msg: RosCompressedImage,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): CheckedCompressedImage {
  const what = `CompressedImage (format "${msg.format}")`;
  const n = dataLength(msg.data, what);
  if (n > limits.maxDecodedBytes)
    throw new Error(`${what}: ${n} encoded bytes exceed the cap ${limits.maxDecodedBytes}`);
  const bytes = messageBytes(msg.data);
  let info: EncodedImageInfo;
  try {
    info = readEncodedImageInfo(bytes);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  const { width, height } = info;
  const label = `${what} ${info.format.toUpperCase()}`;
  if (info.format === 'png' && (info.colorType === 3 || info.depth < 8))
    throw new Error(`${label}: indexed or sub-byte PNG is not supported`);
  const samples =
    info.format === 'png' ? info.channels * (info.depth === 16 ? 2 : 1) : Math.max(1, info.channels);
  checkSize(label, width, height, width * height * (samples + 3), limits);
  return { bytes, info };
}

/**
 * Decode a CompressedImage (JPEG or PNG, detected from the bytes, not the `format` string) to RGB8,
 * after {@link checkCompressedImage} accepted it under `limits` (default {@link DEFAULT_IMAGE_LIMITS}).
 * JPEG and PNG produced by image_transport are ordinary RGB files whatever the `format` says about the
 * source encoding. PNGs may be gray, gray+alpha, RGB or RGBA, 8 or 16 bit (16 bit keeps the high byte);
 * `compressedDepth` PNGs (12-byte header) decode as gray. A PNG whose data inflates past the cap is
 * refused while inflating. Throws naming the format on anything else.
 */
export function decodeCompressedImage(
  msg: RosCompressedImage,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): RgbImage {
  const { bytes, info } = checkCompressedImage(msg, limits);
  if (info.format === 'jpeg') {
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxMemoryUsageInMB: Math.max(1, Math.ceil(limits.maxDecodedBytes / 2 ** 20)),
    });
    return { width: img.width, height: img.height, data: img.data };
  }
  assertPngInflatesWithin(bytes, info, limits.maxDecodedBytes);
  const png = decodePng(info.offset ? bytes.subarray(info.offset) : bytes);
  if (png.palette || png.depth < 8)
    throw new Error(`CompressedImage (${msg.format}): indexed or sub-byte PNG is not supported`);
  return toRgb(png.width, png.height, png.channels, png.depth === 16 ? 2 : 1, png.data, false);
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

/**
 * Check a raw sensor_msgs/Image without converting it: `encoding` must be supported, `width`, `height`
 * and `step` positive integers with `step >= width × bytes per pixel`, the size within `limits`, and
 * `data` (its length known before base64 decoding) at least `step × height` bytes. Returns the pixel
 * bytes; throws an Error naming the field and value.
 */
export function checkRawImage(msg: RosRawImage, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Uint8Array {
  const f =
    typeof msg.encoding === 'string' && Object.hasOwn(RAW, msg.encoding) ? RAW[msg.encoding] : undefined;
  if (!f)
    throw new Error(
      `Image: encoding ${JSON.stringify(msg.encoding)} is not supported (rgb8, bgr8, rgba8, bgra8, mono8, mono16)`,
    );
  const { width, height, step } = msg;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new Error(`Image (${msg.encoding}): bad size ${width}x${height}`);
  }
  const row = width * f.channels * f.bytes;
  if (!Number.isInteger(step)) throw new Error(`Image (${msg.encoding}): step ${step} is not an integer`);
  if (step < row)
    throw new Error(`Image (${msg.encoding}): step ${step} < ${width} × ${f.channels * f.bytes} bytes`);
  checkSize(`Image (${msg.encoding})`, width, height, step * height + width * height * 3, limits);
  const n = dataLength(msg.data, `Image (${msg.encoding} ${width}x${height})`);
  if (n < step * height)
    throw new Error(`Image (${msg.encoding} ${width}x${height}): ${n} bytes < step ${step} × ${height}`);
  if (n > step * height + limits.maxDecodedBytes)
    throw new Error(`Image (${msg.encoding} ${width}x${height}): ${n} bytes exceed the cap`);
  return messageBytes(msg.data);
}

/**
 * Decode a raw sensor_msgs/Image (rgb8, bgr8, rgba8, bgra8, mono8, mono16) to RGB8, honouring `step`
 * padding, after {@link checkRawImage} accepted it under `limits` (default {@link DEFAULT_IMAGE_LIMITS}).
 */
export function decodeRawImage(msg: RosRawImage, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): RgbImage {
  const bytes = checkRawImage(msg, limits);
  const f = RAW[msg.encoding];
  const { width, height, step } = msg;
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
