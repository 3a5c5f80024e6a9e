import { defineConfig } from 'vitest/config';

// SwiftShader is CPU-bound and Dawn is one device per process: run test files one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
