// One GPU engine (SwiftShader when there is no GPU) for the test files of this package.
import { init, type Backend } from '@vla/tensor-webgpu';

export const eng: Backend = await init();
