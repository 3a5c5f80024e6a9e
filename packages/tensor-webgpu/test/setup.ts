// Shared per-file test setup: `import { eng } from './setup.js'` creates the default engine once for
// the file (top-level await, so `it.skipIf(!eng.hasF16)` can be decided at collection time) and
// destroys it after the file's tests. Node runs the suite once per backend (VLA_BACKEND=webgpu, then
// cpu: see package.json); the browser suite is the WebGPU one.
import { afterAll } from 'vitest';
import { init, shutdown, type Backend, type Engine } from '../src/index.js';

/** The default engine, ready before any test of the importing file is collected. */
export const eng: Backend = await init(typeof window !== 'undefined' ? { backend: 'webgpu' } : {});

/** True when the suite runs on the WebGPU engine (tests of WGSL-only details run only then). */
export const onWebGpu = eng.kind === 'webgpu';

/** The engine as a WebGPU engine, for tests that run only on it (`it.runIf(onWebGpu)`). */
export function gpuEngine(): Engine {
  if (eng.kind !== 'webgpu') throw new Error('this test needs the WebGPU engine');
  return eng;
}

afterAll(() => {
  shutdown();
});
