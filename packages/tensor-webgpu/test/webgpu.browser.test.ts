// Proof that the browser suite runs on WebGPU in Chromium (not a fallback): the adapter exists and a
// matmul computed by our kernels matches the host.
import { describe, expect, it } from 'vitest';
import { matmul, Tensor, tidy } from '../src/index.js';
import { eng, gpuEngine } from './setup.js';
import { expectClose, randomArray } from './util.js';

describe('WebGPU in the browser', () => {
  it('has navigator.gpu with an adapter, and the engine runs in browser mode', async () => {
    expect(typeof window).toBe('object');
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    expect(gpu).toBeDefined();
    const adapter = await gpu!.requestAdapter();
    expect(adapter).not.toBeNull();
    expect(gpuEngine().gpu.isNode).toBe(false);
    expect(gpuEngine().gpu.driver).toBeUndefined();
  });

  it('runs a matmul on the GPU', async () => {
    const a = randomArray(5 * 7, 1);
    const b = randomArray(7 * 3, 2);
    const before = eng.counters.dispatches;
    const c = tidy(() => matmul(Tensor.fromData(a, [5, 7]), Tensor.fromData(b, [7, 3])));
    expect(eng.counters.dispatches).toBeGreaterThan(before);
    const ref = new Float64Array(15);
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 3; j++) for (let k = 0; k < 7; k++) ref[i * 3 + j] += a[i * 7 + k] * b[k * 3 + j];
    expectClose(await c.toArray(), ref, { atol: 1e-5 });
    c.dispose();
  });
});
