// One GPU engine (SwiftShader when there is no GPU) for the test files of this package.
import { init, type Engine } from '@vla/tensor-webgpu';

export const eng: Engine = await init();
