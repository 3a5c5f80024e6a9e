import { configDefaults, defineConfig } from 'vitest/config';

// SwiftShader is CPU-bound and Dawn is one device per process: run test files one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // *.browser.test.ts need navigator.gpu: they run under vitest.browser.config.ts only.
    exclude: [...configDefaults.exclude, 'test/**/*.browser.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
