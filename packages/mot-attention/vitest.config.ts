import { gpuTestConfig } from '../../vitest.gpu.js';

export default gpuTestConfig();
