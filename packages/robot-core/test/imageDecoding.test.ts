import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import {
  checkCompressedImage,
  checkRawImage,
  decodeBase64,
  decodeCompressedImage,
  decodeRawImage,
  readEncodedImageInfo,
} from '../src/index.js';
import { mulberry32 } from '../src/testing.js';
import { craftPng, relabelJpeg } from './imageCraft.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function testImage(w: number, h: number, seed: number): Uint8Array {
  const rnd = mulberry32(seed);
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const smooth = c === 0 ? (255 * x) / w : c === 1 ? (255 * y) / h : 128 + 100 * Math.sin((x + y) / 9);
        rgb[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(smooth + (rnd() - 0.5) * 6)));
      }
  return rgb;
}

function rgba(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgb.length / 3) * 4);
  for (let p = 0; p < rgb.length / 3; p++) {
    out.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
    out[p * 4 + 3] = 255;
  }
  return out;
}

describe('CompressedImage decoding', () => {
  it('decodes a JPEG like ffmpeg does (independent decoder)', () => {
    const [w, h] = [77, 41]; // odd sizes exercise MCU padding
    const rgb = testImage(w, h, 1);
    const jpg = jpeg.encode({ width: w, height: h, data: rgba(rgb) }, 90).data;
    const img = decodeCompressedImage({ format: 'rgb8; jpeg compressed bgr8', data: b64(jpg) });
    expect([img.width, img.height, img.data.length]).toEqual([w, h, w * h * 3]);
    const dir = mkdtempSync(join(tmpdir(), 'vla-jpeg-'));
    writeFileSync(join(dir, 'a.jpg'), jpg);
    const ref = execFileSync('ffmpeg', [
      '-v',
      'error',
      '-i',
      join(dir, 'a.jpg'),
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ]);
    expect(ref.length).toBe(w * h * 3);
    let sum = 0;
    let max = 0;
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(ref[i] - img.data[i]);
      sum += d;
      max = Math.max(max, d);
    }
    expect(sum / ref.length).toBeLessThan(1.5);
    expect(max).toBeLessThan(24);
    // And it is the picture we encoded, within JPEG loss.
    let err = 0;
    for (let i = 0; i < rgb.length; i++) err += Math.abs(rgb[i] - img.data[i]);
    expect(err / rgb.length).toBeLessThan(4);
  });

  it('decodes PNG exactly: RGB, RGBA, gray, 16-bit, from base64 or byte arrays', () => {
    const [w, h] = [13, 7];
    const rgb = testImage(w, h, 2);
    const png = encodePng({ width: w, height: h, data: rgb, channels: 3, depth: 8 });
    expect(decodeCompressedImage({ format: 'png', data: b64(png) }).data).toEqual(rgb);
    expect(decodeCompressedImage({ format: 'png', data: Array.from(png) }).data).toEqual(rgb);
    const pngA = encodePng({ width: w, height: h, data: rgba(rgb), channels: 4, depth: 8 });
    expect(decodeCompressedImage({ format: 'rgba8; png compressed', data: b64(pngA) }).data).toEqual(rgb);
    const gray = Uint8Array.from({ length: w * h }, (_, i) => (i * 7) % 256);
    const g = decodeCompressedImage({
      format: 'mono8; png compressed',
      data: b64(encodePng({ width: w, height: h, data: gray, channels: 1, depth: 8 })),
    });
    gray.forEach((v, i) => expect([g.data[i * 3], g.data[i * 3 + 1], g.data[i * 3 + 2]]).toEqual([v, v, v]));
    const deep = Uint16Array.from({ length: w * h }, (_, i) => i * 311);
    const d = decodeCompressedImage({
      format: '16UC1; png compressed',
      data: b64(encodePng({ width: w, height: h, data: deep, channels: 1, depth: 16 })),
    });
    deep.forEach((v, i) => expect(d.data[i * 3]).toBe(v >> 8));
  });

  it('names the format when the bytes are neither JPEG nor PNG', () => {
    expect(() =>
      decodeCompressedImage({
        format: 'tiff',
        data: b64(Uint8Array.from([0x49, 0x49, 42, 0, 1, 2, 3, 4, 5, 6])),
      }),
    ).toThrow(/format "tiff"\): neither JPEG nor PNG \(first bytes 49 49 2a 00\)/);
  });
});

describe('raw Image decoding', () => {
  const [w, h] = [5, 3];
  const rgb = testImage(w, h, 3);

  it('rgb8 and bgr8 with row padding', () => {
    const step = w * 3 + 3;
    const rgbPadded = new Uint8Array(step * h).fill(0xee);
    const bgrPadded = new Uint8Array(step * h).fill(0xee);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < 3; c++) {
          rgbPadded[y * step + x * 3 + c] = rgb[(y * w + x) * 3 + c];
          bgrPadded[y * step + x * 3 + c] = rgb[(y * w + x) * 3 + (2 - c)];
        }
    expect(
      decodeRawImage({ width: w, height: h, encoding: 'rgb8', step, data: b64(rgbPadded) }).data,
    ).toEqual(rgb);
    expect(
      decodeRawImage({ width: w, height: h, encoding: 'bgr8', step, data: b64(bgrPadded) }).data,
    ).toEqual(rgb);
  });

  it('mono8 and mono16 of either endianness', () => {
    const m8 = Uint8Array.from({ length: w * h }, (_, i) => i * 11);
    const out8 = decodeRawImage({ width: w, height: h, encoding: 'mono8', step: w, data: b64(m8) }).data;
    m8.forEach((v, i) => expect(out8.subarray(i * 3, i * 3 + 3)).toEqual(Uint8Array.from([v, v, v])));
    const vals = Array.from({ length: w * h }, (_, i) => i * 3001);
    const be = new Uint8Array(w * h * 2);
    const le = new Uint8Array(w * h * 2);
    vals.forEach((v, i) => {
      be[2 * i] = v >> 8;
      be[2 * i + 1] = v & 255;
      le[2 * i] = v & 255;
      le[2 * i + 1] = v >> 8;
    });
    const a = decodeRawImage({
      width: w,
      height: h,
      encoding: 'mono16',
      is_bigendian: 1,
      step: 2 * w,
      data: b64(be),
    }).data;
    const b = decodeRawImage({
      width: w,
      height: h,
      encoding: 'mono16',
      is_bigendian: 0,
      step: 2 * w,
      data: b64(le),
    }).data;
    vals.forEach((v, i) => {
      expect(a[i * 3]).toBe(v >> 8);
      expect(b[i * 3]).toBe(v >> 8);
    });
  });

  it('names bad encodings and short buffers', () => {
    expect(() => decodeRawImage({ width: w, height: h, encoding: 'yuv422', step: 2 * w, data: '' })).toThrow(
      /"yuv422" is not supported/,
    );
    expect(() =>
      decodeRawImage({ width: w, height: h, encoding: 'rgb8', step: 3 * w, data: b64(new Uint8Array(10)) }),
    ).toThrow(/10 bytes < step 15 × 3/);
    expect(decodeBase64('AQID')).toEqual(Uint8Array.from([1, 2, 3]));
  });
});

describe('image headers and caps, checked before decoding (issue 9, item 7)', () => {
  it('reads PNG and JPEG sizes from the header, as the encoders wrote them (seeded sizes, odd layouts)', () => {
    const rnd = mulberry32(404);
    for (let k = 0; k < 6; k++) {
      const [w, h] = [1 + Math.floor(rnd() * 40), 1 + Math.floor(rnd() * 40)];
      const channels = 1 + Math.floor(rnd() * 4);
      const depth = rnd() < 0.5 ? 8 : 16;
      const data =
        depth === 8
          ? Uint8Array.from({ length: w * h * channels }, () => Math.floor(rnd() * 256))
          : Uint16Array.from({ length: w * h * channels }, () => Math.floor(rnd() * 65536));
      const png = encodePng({ width: w, height: h, data, channels, depth });
      expect(readEncodedImageInfo(png)).toMatchObject({
        format: 'png',
        width: w,
        height: h,
        channels,
        depth,
      });
      const jpg = jpeg.encode({ width: w, height: h, data: rgba(testImage(w, h, k)) }, 80).data;
      expect(readEncodedImageInfo(jpg)).toMatchObject({ format: 'jpeg', width: w, height: h, channels: 3 });
      // A 60 kB APP1 segment and fill bytes before the frame header; a compressedDepth prefix on a PNG.
      const app1 = new Uint8Array(4 + 60_000).fill(0x45);
      app1.set([0xff, 0xe1, (60_002 >> 8) & 255, 60_002 & 255]);
      const padded = new Uint8Array(jpg.length + app1.length + 2);
      padded.set(jpg.subarray(0, 2));
      padded.set(app1, 2);
      padded.set([0xff, 0xff], 2 + app1.length);
      padded.set(jpg.subarray(2), 4 + app1.length);
      expect(readEncodedImageInfo(padded)).toMatchObject({ width: w, height: h });
      if (k === 0) expect(decodeCompressedImage({ format: 'jpeg', data: padded }).width).toBe(w);
      const depthPng = new Uint8Array(12 + png.length);
      depthPng.set(png, 12);
      expect(readEncodedImageInfo(depthPng)).toMatchObject({ width: w, height: h, offset: 12 });
    }
    expect(() => readEncodedImageInfo(Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toThrow(
      /JPEG: no frame header/,
    );
    expect(() => readEncodedImageInfo(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 9]))).toThrow(/truncated/);
  });

  it('refuses a size above the cap from the header alone: 20000x20000 PNG and JPEG, 4100 wide under the defaults', () => {
    const bigPng = craftPng(20_000, 20_000, new Uint8Array(1000));
    expect(() => decodeCompressedImage({ format: 'png', data: b64(bigPng) })).toThrow(
      /^CompressedImage \(format "png"\) PNG: 20000x20000 exceeds the cap 4096x4096$/,
    );
    const jpg = jpeg.encode({ width: 16, height: 8, data: rgba(testImage(16, 8, 5)) }, 80).data;
    expect(() => decodeCompressedImage({ format: 'jpeg', data: relabelJpeg(jpg, 20_000, 20_000) })).toThrow(
      /JPEG: 20000x20000 exceeds the cap 4096x4096/,
    );
    // Just over the default width; the old decoder would have decoded it without a word.
    const wide = craftPng(4100, 2, new Uint8Array(2 * (1 + 4100)), 0);
    expect(() => decodeCompressedImage({ format: 'png', data: wide })).toThrow(
      /4100x2 exceeds the cap 4096x4096/,
    );
    expect(
      decodeCompressedImage(
        { format: 'png', data: wide },
        { maxWidth: 4100, maxHeight: 2, maxDecodedBytes: 4100 * 2 * 4 },
      ).width,
    ).toBe(4100);
    // Decoding footprint: 16-bit RGBA is 8 bytes per pixel plus 3 of output.
    const deep = encodePng({ width: 10, height: 10, data: new Uint16Array(400), channels: 4, depth: 16 });
    const limits = { maxWidth: 10, maxHeight: 10, maxDecodedBytes: 10 * 10 * 11 - 1 };
    expect(() => checkCompressedImage({ format: 'png', data: deep }, limits)).toThrow(
      /PNG: decoding 10x10 needs 1100 bytes, cap 1099/,
    );
    expect(
      checkCompressedImage({ format: 'png', data: deep }, { ...limits, maxDecodedBytes: 1100 }).info.depth,
    ).toBe(16);
    // The encoded size is known from the base64 length before decoding it.
    expect(() => checkCompressedImage({ format: 'png', data: 'A'.repeat(4000) }, limits)).toThrow(
      /3000 encoded bytes exceed the cap 1099/,
    );
    const palette = craftPng(4, 4, new Uint8Array(20), 3);
    expect(() => checkCompressedImage({ format: 'png', data: palette })).toThrow(/indexed or sub-byte PNG/);
  });

  it('refuses a PNG whose data inflates far past what its header allows, while inflating', () => {
    const bomb = craftPng(64, 48, new Uint8Array(1_000_000));
    expect(bomb.length).toBeLessThan(5_000);
    const limits = { maxWidth: 128, maxHeight: 96, maxDecodedBytes: 128 * 96 * 7 };
    expect(() => decodeCompressedImage({ format: 'png', data: b64(bomb) }, limits)).toThrow(
      /PNG: image data inflates past 86016 bytes/,
    );
    const honest = craftPng(64, 48, new Uint8Array(48 * (1 + 64 * 3)).fill(0));
    expect(decodeCompressedImage({ format: 'png', data: honest }, limits).data.length).toBe(64 * 48 * 3);
  });

  it('raw Image: step, encoding and size are required and checked, the data length before base64 decoding', () => {
    const [w, h] = [4, 3];
    const ok = { width: w, height: h, encoding: 'rgb8', step: 12, data: b64(new Uint8Array(36)) };
    expect(checkRawImage(ok).length).toBe(36);
    const bad = (patch: object) => () => checkRawImage({ ...ok, ...patch } as typeof ok);
    expect(bad({ step: undefined })).toThrow(/^Image \(rgb8\): step undefined is not an integer$/);
    expect(bad({ encoding: undefined })).toThrow(/encoding undefined is not supported/);
    expect(bad({ encoding: '__proto__' })).toThrow(/encoding "__proto__" is not supported/);
    expect(bad({ step: 11 })).toThrow(/step 11 < 4 × 3 bytes/);
    expect(bad({ width: 0 })).toThrow(/bad size 0x3/);
    expect(bad({ data: b64(new Uint8Array(35)) })).toThrow(/35 bytes < step 12 × 3/);
    expect(bad({ data: { length: 36 } })).toThrow(/data is object, not base64 or bytes/);
    expect(bad({ width: 20_000, height: 20_000, step: 60_000, data: '' })).toThrow(
      /20000x20000 exceeds the cap 4096x4096/,
    );
    const tight = { maxWidth: 4, maxHeight: 3, maxDecodedBytes: 100 };
    expect(() => checkRawImage({ ...ok, data: 'A'.repeat(400) }, tight)).toThrow(/300 bytes exceed the cap/);
  });
});
