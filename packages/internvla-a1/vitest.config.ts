import { defineConfig } from 'vitest/config';

// SwiftShader is CPU-bound and compiling a pipeline costs seconds there: all test files run one at
// a time in one process that shares modules (isolate: false), so they share one engine and its
// pipeline cache (see test/setup.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    isolate: false,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
