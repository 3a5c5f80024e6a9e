import { gpuTestConfig } from '../../vitest.gpu.js';

// Files share one engine and its compiled pipelines (SwiftShader compiles each in ~0.5 s); the tests
// run the simulator and train a few steps, so the timeout only guards against hangs.
export default gpuTestConfig({ shareEngine: true, testTimeout: 600_000 });
