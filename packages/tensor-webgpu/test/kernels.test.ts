// Generated WGSL checks for variants this device cannot run (f16 without shader-f16): every template
// produces them from the same code path, differing from the f32 variant only in storage types.
import { describe, expect, it } from 'vitest';
import { packProgram } from '../src/kernels/cast.js';
import { elementwiseProgram } from '../src/kernels/elementwise.js';
import { gatherWgsl } from '../src/kernels/gather.js';
import { randomWgsl } from '../src/kernels/random.js';
import { cumsumWgsl, reduceConfig, softmaxWgsl } from '../src/kernels/reduce.js';
import { coalesce } from '../src/kernels/shape.js';
import { onWebGpu } from './setup.js';

const asF32 = (code: string) => code.replace('enable f16;\n', '').replaceAll('f16', 'f32');

describe.runIf(onWebGpu)('generated WGSL', () => {
  it.each([
    [
      'cast f16→f32',
      elementwiseProgram.wgsl({ op: 'cast', operands: ['t:f16'], out: 'f32', strided: false }),
      elementwiseProgram.wgsl({ op: 'cast', operands: ['t:f32'], out: 'f32', strided: false }),
    ],
    [
      'u8 pack from f16',
      packProgram.wgsl({ src: 'f16', dst: 'u8' }),
      packProgram.wgsl({ src: 'f32', dst: 'u8' }),
    ],
    ['gather f16', gatherWgsl('f16', 'i32'), gatherWgsl('f32', 'i32')],
    ['normal f16', randomWgsl('normal', 'f16'), randomWgsl('normal', 'f32')],
    ['beta f16', randomWgsl('beta', 'f16'), randomWgsl('beta', 'f32')],
    ['softmax f16', softmaxWgsl('f16', 128, false), softmaxWgsl('f32', 128, false)],
    ['softmax f16 serial', softmaxWgsl('f16', 0, true), softmaxWgsl('f32', 0, true)],
    ['cumsum f16', cumsumWgsl('f16', 'f16', 256, true), cumsumWgsl('f32', 'f32', 256, true)],
  ])('%s enables f16 and matches the f32 variant', (_name, f16, f32) => {
    expect(f16.startsWith('enable f16;')).toBe(true);
    expect(f16).toMatch(/array<f16>/);
    expect(asF32(f16)).toBe(f32);
  });

  it('softmax and cumsum accumulate in f32 for f16 data', () => {
    expect(softmaxWgsl('f16', 64 * 2, false)).toContain('var<workgroup> sh: array<f32, 128>');
    expect(cumsumWgsl('f16', 'f16', 256, false)).toContain('var<workgroup> sh: array<f32, 256>');
  });
});

describe('layout helpers', () => {
  it('coalesce merges dims contiguous for every operand and drops size-1 dims', () => {
    expect(coalesce([2, 3, 4], [[12, 4, 1]])).toEqual({ shape: [24], strides: [[1]] });
    expect(
      coalesce(
        [2, 1, 3, 4],
        [
          [12, 99, 4, 1],
          [0, 0, 4, 1],
        ],
      ),
    ).toEqual({
      shape: [2, 12],
      strides: [
        [12, 1],
        [0, 1],
      ],
    });
    expect(coalesce([2, 3], [[1, 2]])).toEqual({ shape: [2, 3], strides: [[1, 2]] });
    expect(coalesce([], [[]])).toEqual({ shape: [], strides: [[]] });
  });

  it.runIf(onWebGpu)('reduceConfig: serial short rows, chunking only for few long rows', () => {
    expect(reduceConfig(1000, 8)).toEqual({ wg: 64, chunks: 1, serial: true });
    expect(reduceConfig(100, 1000)).toEqual({ wg: 256, chunks: 1, serial: false });
    expect(reduceConfig(1, 1_000_000).chunks).toBeGreaterThan(1);
    expect(reduceConfig(1, 100).wg).toBe(128);
  });
});
