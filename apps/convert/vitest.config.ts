import { gpuTestConfig } from '../../vitest.gpu.js';

// The end-to-end tests spawn `vla-convert` child processes; the timeout only guards against hangs.
export default gpuTestConfig({ shareEngine: true, testTimeout: 300_000 });
