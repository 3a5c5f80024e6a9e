import { defineConfig } from 'vitest/config';

// One file; recording the dataset (beforeAll) and the training child process take tens of seconds.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], pool: 'forks', testTimeout: 240_000, hookTimeout: 120_000 },
});
