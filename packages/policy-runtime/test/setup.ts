// One GPU engine (SwiftShader when no GPU) shared by every test file: vitest runs the files in one
// process without isolation (vitest.config.ts), so this module is evaluated once and the compiled
// pipelines are reused across files. The engine goes away with the process.
import { init, type Backend } from '@vla/tensor-webgpu';

export const eng: Backend = await init();
