import { gpuTestConfig } from '../../vitest.gpu.js';

// Files share one engine and its compiled pipelines; the end-to-end tests run the simulator, a
// policy server and headless Chromium, so the timeout only guards against hangs.
export default gpuTestConfig({ shareEngine: true, testTimeout: 600_000 });
