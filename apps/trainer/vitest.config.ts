import { gpuTestConfig } from '../../vitest.gpu.js';

// Files share one engine and its compiled pipelines (SwiftShader compiles each in ~0.5 s); training
// steps take seconds there, and the end-to-end tests also spawn `vla-train`
// child processes, so the timeout only guards against hangs.
export default gpuTestConfig({ shareEngine: true, testTimeout: 600_000 });
