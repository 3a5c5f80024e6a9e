import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeCompressedImage, decodeRawImage } from '../src/index.js';
import { mulberry32 } from '../src/testing.js';

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
