// The per-adapter tuning table: adapter classification, and the choices that read it (GEMM tiles,
// norm threads per row, attention tiles) for each class.
import { describe, expect, it } from 'vitest';
import { chooseAttentionTile } from '../src/kernels/attention/shared.js';
import { chooseGemmTile, GEMM_TILES } from '../src/kernels/matmul.js';
import { normThreads } from '../src/kernels/norm.js';
import {
  adapterClass,
  classifyAdapter,
  TUNING,
  tuningFor,
  type AdapterClass,
} from '../src/kernels/tuning.js';
import type { Engine } from '../src/runtime/engine.js';

const info = (vendor: string, architecture = '', description = '') => ({
  vendor,
  architecture,
  device: '',
  description,
});

// Only what the choosers read: kind, the adapter and the shared-memory limit.
function fakeEngine(a: ReturnType<typeof info>, sharedBytes = 32768): Engine {
  return {
    kind: 'webgpu',
    isCpuAdapter: /swiftshader|llvmpipe|lavapipe/i.test(Object.values(a).join(' ')),
    gpu: { adapterInfo: a },
    limits: { maxComputeWorkgroupStorageSize: sharedBytes },
  } as unknown as Engine;
}

const ADAPTERS: Record<AdapterClass, ReturnType<typeof info>> = {
  'cpu-vulkan': info('google', 'swiftshader'),
  discrete: info('nvidia', 'hopper'),
  integrated: info('apple', 'metal-3'),
  unknown: info('', ''),
};

describe('tuning table', () => {
  it('classifies adapters', () => {
    expect(classifyAdapter(info('google', 'swiftshader'))).toBe('cpu-vulkan');
    expect(classifyAdapter(info('mesa', '', 'llvmpipe (LLVM 15.0.7, 256 bits)'))).toBe('cpu-vulkan');
    expect(classifyAdapter(info('nvidia', 'ampere'))).toBe('discrete');
    expect(classifyAdapter(info('amd', 'rdna-3'))).toBe('discrete');
    expect(classifyAdapter(info('intel', 'xe-hpg'))).toBe('discrete');
    expect(classifyAdapter(info('intel', 'gen-12lp'))).toBe('integrated');
    expect(classifyAdapter(info('apple', 'metal-3'))).toBe('integrated');
    expect(classifyAdapter(info('acme', 'x'))).toBe('unknown');
    for (const [cls, a] of Object.entries(ADAPTERS)) expect(adapterClass(fakeEngine(a))).toBe(cls);
    expect(adapterClass()).toBe('unknown');
    expect(tuningFor()).toBe(TUNING.unknown);
  });

  it('picks the same GEMM tiles on every adapter class (behaviour before the table)', () => {
    const { large, medium, small, narrow } = GEMM_TILES;
    const cases: [number, number, number, unknown][] = [
      [2048, 2048, 1, large], // 256 large workgroups
      [4096, 512, 6, large],
      [1024, 1024, 1, medium], // 64 large workgroups: too few
      [512, 512, 1, medium],
      [128, 128, 1, small], // 4 medium workgroups
      [16, 1024, 1, small],
      [1024, 16, 1, narrow],
      [16, 16, 1, small],
      [64, 64, 8, medium],
    ];
    for (const a of Object.values(ADAPTERS))
      for (const [M, N, batch, want] of cases)
        expect(chooseGemmTile(M, N, batch, fakeEngine(a)), `${M}x${N}x${batch}`).toBe(want);
    // The large tile needs 16 KiB of shared memory.
    expect(chooseGemmTile(2048, 2048, 1, fakeEngine(ADAPTERS.discrete, 16383))).toBe(medium);
    expect(chooseGemmTile(2048, 2048, 1)).toBe(large);
  });

  it('gives CPU adapters 4 threads per norm row, GPUs 64 to 256', () => {
    const gpuThreads = [64, 64, 128, 128, 256];
    const lengths = [1, 256, 257, 1024, 1025];
    for (const cls of ['discrete', 'integrated', 'unknown'] as const)
      expect(lengths.map((d) => normThreads(d, fakeEngine(ADAPTERS[cls])))).toEqual(gpuThreads);
    expect(lengths.map((d) => normThreads(d, fakeEngine(ADAPTERS['cpu-vulkan'])))).toEqual([4, 4, 4, 4, 4]);
    // The boolean shorthand: is the adapter a CPU one.
    expect(lengths.map((d) => normThreads(d))).toEqual(gpuThreads);
  });

  it('picks the largest attention tile that fits shared memory', () => {
    const e = fakeEngine(ADAPTERS.discrete);
    expect(chooseAttentionTile('fwd', 64, 1 << 20, e)).toEqual({ br: 64, bc: 32 });
    expect(chooseAttentionTile('dkdv', 64, 1 << 20, e)).toEqual({ br: 16, bc: 32 });
    expect(chooseAttentionTile('dq', 64, 1 << 20)).toEqual({ br: 32, bc: 16 });
    expect(chooseAttentionTile('fwd', 128, 16384, e)).toEqual({ br: 16, bc: 8 });
    expect(() => chooseAttentionTile('fwd', 4096, 1024, e)).toThrow(/head_dim 4096/);
  });
});
