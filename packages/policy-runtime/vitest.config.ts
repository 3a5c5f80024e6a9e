import { gpuTestConfig } from '../../vitest.gpu.js';

// Files share one engine and its pipeline cache (see test/setup.ts); policies run on SwiftShader.
export default gpuTestConfig({ shareEngine: true, testTimeout: 300_000 });
