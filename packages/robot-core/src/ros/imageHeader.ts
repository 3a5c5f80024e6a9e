import { Unzlib } from 'fflate';

/** What a JPEG or PNG says about itself in its header, read without decoding any pixels. */
export interface EncodedImageInfo {
  /** Container format, detected from the bytes. */
  readonly format: 'jpeg' | 'png';
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Samples per pixel (JPEG components; PNG 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA, 1 palette). */
  readonly channels: number;
  /** Bits per sample (PNG 1–16, JPEG precision). */
  readonly depth: number;
  /** PNG colour type (3 = palette); 0 for JPEG. */
  readonly colorType: number;
  /** Where the PNG signature starts: 0, or 12 after a `compressedDepth` header. 0 for JPEG. */
  readonly offset: number;
}

const isJpeg = (b: Uint8Array, o: number) =>
  b.length > o + 2 && b[o] === 0xff && b[o + 1] === 0xd8 && b[o + 2] === 0xff;
const isPng = (b: Uint8Array, o: number) =>
  b.length > o + 7 && b[o] === 0x89 && b[o + 1] === 0x50 && b[o + 2] === 0x4e && b[o + 3] === 0x47;

const u32 = (b: Uint8Array, i: number) =>
  ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3];
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Read the size of a JPEG (first SOFn frame header) or PNG (IHDR, also after the 12-byte
 * `compressedDepth` prefix) from its header bytes. Throws an Error naming what is wrong when the bytes
 * are neither, or the header is truncated or inconsistent.
 */
export function readEncodedImageInfo(bytes: Uint8Array): EncodedImageInfo {
  if (isJpeg(bytes, 0)) return jpegInfo(bytes);
  const offset = isPng(bytes, 0) ? 0 : isPng(bytes, 12) ? 12 : -1;
  if (offset >= 0) return pngInfo(bytes, offset);
  throw new Error(`neither JPEG nor PNG (first bytes ${hex(bytes.subarray(0, 4))})`);
}

function pngInfo(b: Uint8Array, o: number): EncodedImageInfo {
  const type = String.fromCharCode(b[o + 12], b[o + 13], b[o + 14], b[o + 15]);
  if (b.length < o + 26 || type !== 'IHDR' || u32(b, o + 8) !== 13)
    throw new Error('PNG: no IHDR chunk right after the signature');
  const width = u32(b, o + 16);
  const height = u32(b, o + 20);
  const depth = b[o + 24];
  const colorType = b[o + 25];
  const channels = PNG_CHANNELS[colorType];
  if (channels === undefined) throw new Error(`PNG: colour type ${colorType} is invalid`);
  if (width === 0 || height === 0) throw new Error(`PNG: size ${width}x${height}`);
  return { format: 'png', width, height, channels, depth, colorType, offset: o };
}

// SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC).
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

function jpegInfo(b: Uint8Array): EncodedImageInfo {
  let i = 2;
  while (i < b.length) {
    if (b[i] !== 0xff) throw new Error(`JPEG: expected a marker at byte ${i}, found 0x${b[i].toString(16)}`);
    while (i < b.length && b[i] === 0xff) i++; // fill bytes
    if (i >= b.length) break;
    const m = b[i++];
    if (m === 0x01 || m === 0xd8 || (m >= 0xd0 && m <= 0xd7)) continue; // markers without a length
    if (m === 0xd9 || m === 0xda) throw new Error('JPEG: no frame header (SOFn) before the image data');
    if (i + 2 > b.length) break;
    const len = (b[i] << 8) | b[i + 1];
    if (len < 2) throw new Error(`JPEG: segment 0x${m.toString(16)} has length ${len}`);
    if (isSof(m)) {
      if (i + 8 > b.length) break;
      const height = (b[i + 3] << 8) | b[i + 4];
      const width = (b[i + 5] << 8) | b[i + 6];
      if (width === 0 || height === 0) throw new Error(`JPEG: size ${width}x${height}`);
      return { format: 'jpeg', width, height, channels: b[i + 7], depth: b[i + 2], colorType: 0, offset: 0 };
    }
    i += len;
  }
  throw new Error('JPEG: truncated before the frame header');
}

/**
 * Inflate the IDAT stream of a PNG whose header was read by {@link readEncodedImageInfo}, counting and
 * discarding the output, and throw as soon as it exceeds `maxBytes`: a small PNG can claim a sane size
 * and still inflate to gigabytes, which the decoder would buffer whole. Input is fed in 1 KiB slices so
 * no single step can produce more than about 1 MiB.
 */
export function assertPngInflatesWithin(bytes: Uint8Array, info: EncodedImageInfo, maxBytes: number): void {
  let out = 0;
  const z = new Unzlib((chunk) => {
    out += chunk.length;
    if (out > maxBytes) throw new Error(`PNG: image data inflates past ${maxBytes} bytes`);
  });
  let i = info.offset + 8;
  while (i + 8 <= bytes.length) {
    const len = u32(bytes, i);
    const type = String.fromCharCode(bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]);
    const start = i + 8;
    const end = Math.min(bytes.length, start + len);
    if (type === 'IDAT') {
      for (let s = start; s < end; s += 1024) z.push(bytes.subarray(s, Math.min(end, s + 1024)));
    }
    if (type === 'IEND') break;
    i = start + len + 4; // data + CRC
  }
}
