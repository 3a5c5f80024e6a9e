// One engine for the test files of this package (the CPU engine without a GPU; the simulator's
// cameras render on WebGPU beside it).
import { init, type Backend } from '@vla/tensor-webgpu';

export const eng: Backend = await init();
