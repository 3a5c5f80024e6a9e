// The GPU engine shared by every test file (SwiftShader when no GPU). The files run in one process
// without isolation (vitest.config.ts), so `init()` returns the same engine each time and compiled
// pipelines are reused; the process exit releases the device.
import { init, type Backend } from '@vla/tensor-webgpu';

export const eng: Backend = await init();
