import { gpuTestConfig } from '../../vitest.gpu.js';

// Browser-only tests run through vitest.browser.config.ts (headless Chromium).
export default gpuTestConfig({ exclude: ['test/**/*.browser.test.ts'] });
