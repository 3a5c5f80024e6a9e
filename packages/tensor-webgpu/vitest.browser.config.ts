import { configDefaults, defineConfig } from 'vitest/config';
import { HEADLESS_WEBGPU_ARGS, chromiumExecutable } from './src/headlessChromium';

// The same tests in headless Chromium through vitest's browser mode: WebGPU comes from Chromium's own
// Dawn on SwiftShader (no GPU needed), served from 127.0.0.1. Files named *.node.test.ts use Node
// APIs (node:fs, paths) and stay out; *.browser.test.ts run only here. test/setup.ts puts the shared
// suite on the WebGPU engine here; cpu.browser.test.ts runs the CPU engine in the page.

export default defineConfig({
  // Cross-origin isolation: the CPU engine's shared memory and worker threads need it in a browser.
  server: {
    host: '127.0.0.1',
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      ...configDefaults.exclude,
      'test/**/*.node.test.ts',
      'test/**/zz_*',
      // 1,000 training steps already run in Node; repeating them here would only double the CPU time.
      'test/training.test.ts',
    ],
    // One file at a time: SwiftShader is CPU-bound and the machine is shared.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    browser: {
      enabled: true,
      provider: 'playwright',
      headless: true,
      api: { host: '127.0.0.1' },
      screenshotFailures: false,
      instances: [
        {
          browser: 'chromium',
          launch: { executablePath: chromiumExecutable(), args: [...HEADLESS_WEBGPU_ARGS] },
        },
      ],
    },
  },
});
